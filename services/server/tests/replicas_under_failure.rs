//! Two api and two gateway processes of the real binary on one PostgreSQL, a webhook supplier that
//! holds its answers, and one gateway killed (`kill -9`) with deliveries in flight, then replaced as
//! its Deployment would replace it. What must hold, from the outside:
//!
//! - every return's request reaches the supplier and the return shows it DELIVERED;
//! - every copy the supplier receives of a return's request carries the request's id as its
//!   `webhook-id`, and the same message;
//! - at least once, and no more: the requests received twice are exactly those the killed gateway
//!   had sent and not yet been answered for, each received once more (from a live gateway); every
//!   other request is received once, and each request has exactly one recorded delivery;
//! - each missed acknowledgement (a 2 s `ack_within`, NOTIFY) is recorded once while two gateways'
//!   SLA clocks race: one `ListSlaBreaches` entry per request and one SLA_BREACHED event per return;
//! - `WatchEvents` opened on each api replica before the first authorization sees every event of the
//!   tenant once, in sequence order, the same on both, and exactly the stored events.

use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::delivery_service_client::DeliveryServiceClient;
use returnbridge_proto::v1::sla_service_client::SlaServiceClient;
use returnbridge_tests::fixtures::{changed_mind, terms};
use returnbridge_tests::supplier_mock::{Behaviour, MockSupplier, Received};
use returnbridge_tests::{Auth, postgres_server, skipped};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio_stream::StreamExt;

mod common;
use common::{NO_MIGRATION, Replica};

/// Returns authorized, spread over both api replicas. With 16 attempts in flight per supplier and
/// gateway and the supplier holding its answers, at most 32 of them can be at the supplier at once:
/// some but not all.
const RETURNS: usize = 40;

/// Events of each return: DECIDED, SUPPLIER_REQUEST_DELIVERED, SLA_BREACHED.
const EVENTS_PER_RETURN: usize = 3;

/// How long after authorization the supplier must acknowledge (it never does).
const ACK_WITHIN_SECS: i64 = 2;

/// Loopback suppliers and quick polling; a lease longer than an attempt (as the README asks), short
/// enough that the killed gateway's claims come back within seconds.
const GATEWAY_ENV: [(&str, &str); 6] = [
    NO_MIGRATION,
    ("RETURNBRIDGE_GATEWAY__CONCURRENCY_PER_SUPPLIER", "16"),
    ("RETURNBRIDGE_GATEWAY__ALLOW_PRIVATE_DESTINATIONS", "true"),
    ("RETURNBRIDGE_GATEWAY__POLL_INTERVAL_MS", "100"),
    ("RETURNBRIDGE_GATEWAY__LEASE_SECS", "5"),
    ("RETURNBRIDGE_GATEWAY__ATTEMPT_TIMEOUT_MS", "4000"),
];

/// Everything below must be done by then.
const DEADLINE: Duration = Duration::from_secs(45);

/// [`terms`] (auto-authorize, so each return sends its supplier a NOTICE) with a short `ack_within`.
fn terms_with_short_ack() -> pb::ContractTerms {
    let mut terms = terms();
    let sla = terms.sla.as_mut().unwrap();
    sla.ack_within = Some(prost_types::Duration {
        seconds: ACK_WITHIN_SECS,
        nanos: 0,
    });
    sla.breach_action = pb::SlaBreachAction::Notify as i32;
    terms
}

/// The local ports of the TCP connections process `pid` holds open to `remote_port`, read from its
/// file descriptors and the kernel's socket tables (Linux).
fn connections_to(pid: u32, remote_port: u16) -> HashSet<u16> {
    let inodes: HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    let port = |address: &str| u16::from_str_radix(address.rsplit(':').next()?, 16).ok();
    let mut ports = HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 9
                && inodes.contains(fields[9])
                && port(fields[2]) == Some(remote_port)
                && let Some(local) = port(fields[1])
            {
                ports.insert(local);
            }
        }
    }
    ports
}

/// A received webhook's `(webhook-id, return id)`, and its `data` without the per-attempt send time.
fn parse(received: &Received) -> (String, String, serde_json::Value) {
    let mut data = received.json()["data"].clone();
    let request_id = data["requestId"].as_str().unwrap().to_owned();
    assert_eq!(
        received.header("webhook-id"),
        request_id,
        "the webhook-id is the request id"
    );
    let return_id = data["supplierReturn"]["returnId"]
        .as_str()
        .unwrap()
        .to_owned();
    data.as_object_mut().unwrap().remove("sendTime");
    (request_id, return_id, data)
}

/// Reads `stream` until it has carried `n` events (heartbeats skipped).
async fn events(
    mut stream: tonic::Streaming<pb::WatchEventsResponse>,
    n: usize,
) -> Vec<pb::ReturnEvent> {
    let mut events = Vec::new();
    while events.len() < n {
        let item = tokio::time::timeout(DEADLINE, stream.next())
            .await
            .unwrap_or_else(|_| panic!("only {} of {n} events arrived", events.len()))
            .expect("the stream stays open")
            .unwrap();
        if let Some(pb::watch_events_response::Item::Event(event)) = item.item {
            events.push(event);
        }
    }
    events
}

fn kind(event: &pb::ReturnEvent) -> pb::ReturnEventType {
    pb::ReturnEventType::try_from(event.event_type).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_deliver_every_request_record_each_breach_once_and_stream_every_event_when_a_gateway_dies()
 {
    let Some(server) = postgres_server() else {
        return skipped(
            "replicas_under_failure::replicas_deliver_every_request_record_each_breach_once_and_stream_every_event_when_a_gateway_dies",
            "TEST_DATABASE_URL is not set (needs PostgreSQL)",
        );
    };
    let began = Instant::now();
    let scratch = common::migrated_scratch(&server).await;
    let url = scratch.url().to_owned();
    let key = common::create_key(&url, "acme");
    let mock = MockSupplier::start(Behaviour::Held(Duration::from_millis(300))).await;

    let apis = [
        Replica::start(&url, "api", &[NO_MIGRATION]),
        Replica::start(&url, "api", &[NO_MIGRATION]),
    ];
    let mut gateways = vec![
        Replica::start(&url, "gateway", &GATEWAY_ENV),
        Replica::start(&url, "gateway", &GATEWAY_ENV),
    ];
    let supplier = common::webhook_supplier(
        &apis[0].channel(),
        &key,
        &mock.url(),
        terms_with_short_ack(),
    )
    .await;

    // Both streams open before the first return exists.
    let mut watchers = Vec::new();
    for api in &apis {
        let stream = api
            .returns(Auth::key(&key))
            .watch_events(pb::WatchEventsRequest {
                from_beginning: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        watchers.push(tokio::spawn(events(stream, RETURNS * EVENTS_PER_RETURN)));
    }

    // Authorizations in parallel, alternating between the api replicas.
    let authorizations: Vec<_> = (0..RETURNS)
        .map(|n| {
            let mut client = apis[n % 2].returns(Auth::key(&key).idempotent(&format!("order-{n}")));
            let request = changed_mind(&supplier, &format!("ORDER-{n}"));
            tokio::spawn(async move { client.authorize_return(request).await })
        })
        .collect();

    // Deliveries are in flight (the supplier answers none yet): freeze the gateway that sent the
    // first one, note which connections to the supplier it holds, and kill it.
    let first = mock.wait_for(1).await.remove(0);
    mock.wait_for(8).await;
    let owner = gateways
        .iter()
        .position(|g| connections_to(g.pid(), mock.addr.port()).contains(&first.peer.port()))
        .expect("one gateway holds the connection of the first delivery");
    let victim = gateways.remove(owner);
    victim.signal("STOP");
    let held = connections_to(victim.pid(), mock.addr.port());
    victim.kill();
    let killed_at = began.elapsed();
    let at_the_supplier = mock.received().len();
    assert!(
        at_the_supplier < RETURNS,
        "some deliveries, not all, were in flight"
    );
    mock.release();
    // Its replacement, as a Deployment would start one.
    let url_for_replacement = url.clone();
    gateways.push(
        tokio::task::spawn_blocking(move || {
            Replica::start(&url_for_replacement, "gateway", &GATEWAY_ENV)
        })
        .await
        .unwrap(),
    );

    let mut return_ids = Vec::new();
    for authorization in authorizations {
        let answer = authorization.await.unwrap().unwrap().into_inner();
        let ret = answer.return_case.unwrap();
        assert_eq!(ret.status, pb::ReturnStatus::Authorized as i32);
        return_ids.push(ret.return_id);
    }

    // Wait until every return shows its request delivered and every acknowledgement is breached.
    let mut sla = SlaServiceClient::with_interceptor(apis[1].channel(), Auth::key(&key));
    let list_breaches = || pb::ListSlaBreachesRequest {
        supplier_id: supplier.clone(),
        deadline_kind: pb::SlaDeadlineKind::Ack as i32,
        page_size: 500,
        ..Default::default()
    };
    let mut returns = BTreeMap::new();
    let mut breaches;
    loop {
        breaches = sla
            .list_sla_breaches(list_breaches())
            .await
            .unwrap()
            .into_inner();
        for (n, id) in return_ids.iter().enumerate() {
            let ret = apis[n % 2]
                .returns(Auth::key(&key))
                .get_return(pb::GetReturnRequest {
                    return_id: id.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .return_case
                .unwrap();
            returns.insert(id.clone(), ret);
        }
        let delivered = returns
            .values()
            .filter(|r| {
                r.supplier_requests.len() == 1
                    && r.supplier_requests[0].state == pb::SupplierRequestState::Delivered as i32
            })
            .count();
        if delivered == RETURNS && breaches.breaches.len() >= RETURNS {
            break;
        }
        assert!(
            began.elapsed() < DEADLINE,
            "after {:?}: {delivered} of {RETURNS} requests delivered, {} breaches recorded",
            began.elapsed(),
            breaches.breaches.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let settled_at = began.elapsed();

    // Each return's request, as the return shows it.
    let request_of: HashMap<String, String> = returns
        .iter()
        .map(|(id, r)| {
            let request = &r.supplier_requests[0];
            assert_eq!(request.kind, pb::SupplierRequestKind::Notice as i32);
            assert_eq!(request.supplier_id, supplier);
            assert!(request.deliver_time.is_some());
            assert_eq!(
                request.delivery_attempts, 1,
                "a lost attempt is never counted"
            );
            (request.request_id.clone(), id.clone())
        })
        .collect();
    assert_eq!(request_of.len(), RETURNS, "one request per return");

    // What the supplier received: every request, under its own id, the same message each time.
    let received = mock.received();
    let mut copies: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    let mut from_the_victim = HashSet::new();
    for r in &received {
        let (request_id, return_id, data) = parse(r);
        assert_eq!(
            request_of.get(&request_id),
            Some(&return_id),
            "the webhook-id is the id of the return's request"
        );
        assert_eq!(data["attempt"], 1, "{data}");
        // Sent over a connection the killed gateway held. (Its ports are not handed to another
        // connection this soon: the kernel gives out ephemeral ports in turn.)
        if held.contains(&r.peer.port()) {
            from_the_victim.insert(request_id.clone());
        }
        copies.entry(request_id).or_default().push(data);
    }
    assert_eq!(copies.len(), RETURNS, "every request reached the supplier");
    for (id, data) in &copies {
        assert!(
            data.windows(2).all(|w| w[0] == w[1]),
            "request {id}: a redelivery is the same message"
        );
    }
    let twice: HashSet<String> = copies
        .iter()
        .filter(|(_, data)| data.len() > 1)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        !from_the_victim.is_empty(),
        "the killed gateway had deliveries in flight"
    );
    assert_eq!(
        twice, from_the_victim,
        "the requests received twice are exactly those in flight at the killed gateway"
    );
    assert!(
        copies.values().all(|data| data.len() <= 2),
        "none received more than twice"
    );

    // Recorded deliveries: one per request, taken at the first try.
    let mut deliveries =
        DeliveryServiceClient::with_interceptor(apis[0].channel(), Auth::key(&key));
    let attempts = deliveries
        .list_delivery_attempts(pb::ListDeliveryAttemptsRequest {
            subject: Some(pb::list_delivery_attempts_request::Subject::SupplierId(
                supplier.clone(),
            )),
            page_size: 500,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(attempts.next_page_token.is_empty());
    let mut recorded: HashMap<&str, usize> = HashMap::new();
    for a in &attempts.attempts {
        assert!(a.delivered && a.attempt == 1, "{a:?}");
        *recorded.entry(a.request_id.as_str()).or_default() += 1;
    }
    assert_eq!(recorded.len(), RETURNS);
    assert!(
        recorded.values().all(|n| *n == 1),
        "one recorded delivery per request: {recorded:?}"
    );

    // Breaches: one per request's acknowledgement, NOTIFY, never twice.
    assert!(breaches.next_page_token.is_empty());
    assert_eq!(breaches.breaches.len(), RETURNS, "{breaches:?}");
    let mut breach_of = HashMap::new();
    for b in &breaches.breaches {
        assert_eq!(request_of.get(&b.request_id), Some(&b.return_id));
        assert_eq!(b.deadline_kind, pb::SlaDeadlineKind::Ack as i32);
        assert_eq!(b.request_kind, pb::SupplierRequestKind::Notice as i32);
        assert_eq!(b.action, pb::SlaBreachAction::Notify as i32);
        assert!(breach_of.insert(b.return_id.clone(), b.clone()).is_none());
    }

    // The stored events: per return DECIDED first, then the delivery and the breach in either order.
    let mut stored = Vec::new();
    for (n, id) in return_ids.iter().enumerate() {
        let page = apis[n % 2]
            .returns(Auth::key(&key))
            .list_return_events(pb::ListReturnEventsRequest {
                return_id: id.clone(),
                page_size: 500,
                page_token: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        let kinds: Vec<_> = page.events.iter().map(kind).collect();
        assert_eq!(kinds.len(), EVENTS_PER_RETURN, "{id}: {kinds:?}");
        assert_eq!(kinds[0], pb::ReturnEventType::Decided);
        let mut later = kinds[1..].to_vec();
        later.sort();
        assert_eq!(
            later,
            [
                pb::ReturnEventType::SlaBreached,
                pb::ReturnEventType::SupplierRequestDelivered
            ],
            "{id}"
        );
        let breach_event = page
            .events
            .iter()
            .find(|e| kind(e) == pb::ReturnEventType::SlaBreached)
            .unwrap();
        assert_eq!(
            breach_event.detail,
            Some(pb::return_event::Detail::SlaBreach(breach_of[id].clone())),
            "the event is the listed breach"
        );
        stored.extend(page.events);
    }
    stored.sort_by_key(|e| e.sequence);

    // Each replica's stream: every stored event once, in sequence order, the same on both.
    let key_of = |e: &pb::ReturnEvent| (e.sequence, e.event_id.clone(), e.return_id.clone());
    let mut streams = Vec::new();
    for watcher in watchers {
        streams.push(watcher.await.unwrap());
    }
    for stream in &streams {
        assert!(
            stream.windows(2).all(|w| w[0].sequence < w[1].sequence),
            "in sequence order, no event twice"
        );
        assert_eq!(
            stream.iter().map(key_of).collect::<Vec<_>>(),
            stored.iter().map(key_of).collect::<Vec<_>>(),
            "every stored event, none missing"
        );
    }
    assert_eq!(
        streams[0], streams[1],
        "both replicas stream the same events"
    );

    eprintln!(
        "{RETURNS} returns; a gateway killed at {killed_at:?} holding {} deliveries ({at_the_supplier} \
         at the supplier then); all delivered and breached by {settled_at:?}",
        from_the_victim.len(),
    );
    for replica in apis.into_iter().chain(gateways) {
        tokio::task::spawn_blocking(move || replica.stop())
            .await
            .unwrap();
    }
    scratch.remove().await.unwrap();
}
