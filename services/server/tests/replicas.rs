//! Several real processes on one PostgreSQL: two api replicas and a gateway. Authorizations spread
//! over both api replicas are all stored once, each replica's event stream sees every event in the
//! same order, and a rolling restart (SIGTERM one replica at a time) under load loses no call that a
//! client retries with its idempotency key.

use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::return_service_client::ReturnServiceClient;
use returnbridge_tests::fixtures::{changed_mind, supplier_with_contract, terms};
use returnbridge_tests::{Auth, postgres_server, skipped};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic::transport::Channel;

mod common;
use common::{NO_MIGRATION, Replica};

/// AuthorizeReturn for order `n` under idempotency key `n`, on the replicas in turn until one
/// answers: what a client does across a rolling restart.
async fn authorize_with_retries(
    replicas: &Mutex<Vec<String>>,
    key: &str,
    supplier: &str,
    n: usize,
) -> String {
    for attempt in 0..100 {
        let addrs = replicas.lock().unwrap().clone();
        let addr = &addrs[(n + attempt) % addrs.len()];
        let channel = Channel::from_shared(addr.clone()).unwrap().connect_lazy();
        let mut client = ReturnServiceClient::with_interceptor(
            channel,
            Auth::key(key).idempotent(&format!("rolling-{n}")),
        );
        match client
            .authorize_return(changed_mind(supplier, &format!("ORDER-{n}")))
            .await
        {
            Ok(answer) => return answer.into_inner().return_case.unwrap().return_id,
            Err(e)
                if matches!(
                    e.code(),
                    Code::Unavailable | Code::Unknown | Code::Cancelled
                ) =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("order {n}: {e:?}"),
        }
    }
    panic!("order {n}: no replica answered")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_api_replicas_share_one_database_and_survive_a_rolling_restart() {
    let Some(server) = postgres_server() else {
        return skipped(
            "replicas::two_api_replicas_share_one_database_and_survive_a_rolling_restart",
            "TEST_DATABASE_URL is not set (needs PostgreSQL)",
        );
    };
    let scratch = common::migrated_scratch(&server).await;
    let url = scratch.url().to_owned();
    let key = common::create_key(&url, "acme");

    let a = Replica::start(&url, "api", &[NO_MIGRATION]);
    let b = Replica::start(&url, "api", &[NO_MIGRATION]);
    let _gateway = Replica::start(&url, "gateway", &[NO_MIGRATION]);
    let channel = Channel::from_shared(a.addr.clone()).unwrap().connect_lazy();
    let mut contracts =
        returnbridge_proto::v1::contract_service_client::ContractServiceClient::with_interceptor(
            channel,
            Auth::key(&key),
        );
    let supplier = supplier_with_contract(&mut contracts, terms()).await;

    // Spread over both replicas; each replica's stream sees all of them, in one order.
    let watch = |replica: &Replica| {
        let mut client = replica.returns(Auth::key(&key));
        async move {
            client
                .watch_events(pb::WatchEventsRequest {
                    from_beginning: true,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
        }
    };
    let (mut on_a, mut on_b) = (watch(&a).await, watch(&b).await);
    const SPREAD: usize = 20;
    for n in 0..SPREAD {
        let replica = if n % 2 == 0 { &a } else { &b };
        replica
            .returns(Auth::key(&key).idempotent(&format!("spread-{n}")))
            .authorize_return(changed_mind(&supplier, &format!("SPREAD-{n}")))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    for stream in [&mut on_a, &mut on_b] {
        let mut events = Vec::new();
        while events.len() < SPREAD {
            let item = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("every event arrives on every replica")
                .unwrap()
                .unwrap();
            if let Some(pb::watch_events_response::Item::Event(e)) = item.item {
                events.push((e.sequence, e.return_id));
            }
        }
        assert!(events.windows(2).all(|w| w[0].0 < w[1].0), "in order");
        seen.push(events);
    }
    assert_eq!(seen[0], seen[1]);
    drop((on_a, on_b));

    // A rolling restart while a client keeps authorizing, retrying with its idempotency key.
    let addrs = Arc::new(Mutex::new(vec![a.addr.clone(), b.addr.clone()]));
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn({
        let (addrs, stop, key, supplier) =
            (addrs.clone(), stop.clone(), key.clone(), supplier.clone());
        async move {
            let mut ids = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                ids.push(authorize_with_retries(&addrs, &key, &supplier, n).await);
                n += 1;
            }
            ids
        }
    });
    let mut replicas = vec![a, b];
    for i in 0..2 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let old = replicas.remove(0);
        let fresh = Replica::start(&url, "api", &[NO_MIGRATION]);
        addrs.lock().unwrap().push(fresh.addr.clone());
        // Stopped while clients still call it: they get refused and retry elsewhere.
        let old_addr = old.addr.clone();
        tokio::task::spawn_blocking(move || old.stop())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        addrs.lock().unwrap().retain(|addr| *addr != old_addr);
        replicas.push(fresh);
        eprintln!("restarted replica {i}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let ids = load.await.unwrap();
    assert!(
        ids.len() > 2,
        "the load ran through the restarts ({} calls)",
        ids.len()
    );
    let distinct: BTreeSet<_> = ids.iter().collect();
    assert_eq!(
        distinct.len(),
        ids.len(),
        "no retry created a second return"
    );

    // Stored: exactly the spread returns and one per acknowledged call.
    let mut client = replicas[0].returns(Auth::key(&key));
    let mut stored = 0;
    let mut page_token = String::new();
    loop {
        let page = client
            .list_returns(pb::ListReturnsRequest {
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        stored += page.returns.len();
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(stored, SPREAD + ids.len());
    eprintln!("{} authorizations through the rolling restart", ids.len());
    drop(replicas);
    scratch.remove().await.unwrap();
}
