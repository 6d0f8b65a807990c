//! `returnbridge supplier-sim` against the real server: the real binary plays the supplier, the
//! dispatcher delivers to it over a real socket, and it answers through SupplierCallbackService
//! with a supplier key. SQLite, or PostgreSQL with TEST_DATABASE_URL.

use returnbridge_core::clock::SystemClock;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use returnbridge_gateway::webhook::sign;
use returnbridge_proto::v1 as pb;
use returnbridge_store::{AttemptOutcome, DeliveryAttempt};
use returnbridge_tests::fixtures::{
    changed_mind, get_return, order, return_events, supplier_decides_terms, ts,
};
use returnbridge_tests::{Auth, FreshStore, TestApp, spawn_app, spawn_app_configured};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

/// A seller, a supplier that decides its returns itself, and what the simulator needs to play it.
struct World {
    seller: String,
    supplier: String,
    supplier_key: String,
    secret: String,
}

impl World {
    async fn new(app: &TestApp) -> Self {
        let seller = app.seller_key("acme").await;
        let mut contracts = app.contracts(Auth::key(&seller));
        // Its endpoint is the simulator's, known once it listens; a placeholder until then.
        let created = contracts
            .create_supplier(pb::CreateSupplierRequest {
                supplier: Some(pb::Supplier {
                    display_name: "Simulated Supply".into(),
                    connector: Some(pb::supplier::Connector::Webhook(pb::WebhookConnector {
                        url: "https://simulated.example/returns".into(),
                    })),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner();
        let supplier = created.supplier.unwrap().supplier_id;
        contracts
            .publish_contract(pb::PublishContractRequest {
                supplier_id: supplier.clone(),
                effective_from: Some(ts(chrono::Utc::now() - chrono::Duration::days(365))),
                terms: Some(supplier_decides_terms()),
                description: "the supplier decides".into(),
                expected_latest_version: 0,
            })
            .await
            .unwrap();
        let (_, supplier_key) = app
            .key_with(
                "acme",
                Some(SupplierId::parse(&supplier).unwrap()),
                &[Scope::SupplierCallbacks],
            )
            .await;
        Self {
            seller,
            supplier,
            supplier_key,
            secret: created.webhook_signing_secret,
        }
    }

    /// Points the supplier at the simulator.
    async fn point_at(&self, app: &TestApp, connector: pb::supplier::Connector) {
        let path = match connector {
            pb::supplier::Connector::Webhook(_) => "webhook",
            pb::supplier::Connector::Grpc(_) => "grpc",
        };
        app.contracts(Auth::key(&self.seller))
            .update_supplier(pb::UpdateSupplierRequest {
                supplier: Some(pb::Supplier {
                    supplier_id: self.supplier.clone(),
                    connector: Some(connector),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec![path.into()],
                }),
                expected_version: 0,
                rotate_webhook_secret: false,
            })
            .await
            .unwrap();
    }

    /// A change of mind 20 days after delivery: past the EU's 14-day withdrawal, inside the
    /// contract's 30 days, so it waits for the supplier. The return and its request id.
    async fn pending(&self, app: &TestApp, order_id: &str) -> (String, String) {
        let request = pb::AuthorizeReturnRequest {
            order: Some(order(&self.supplier, order_id, 20)),
            ..changed_mind(&self.supplier, order_id)
        };
        let auth = Auth::key(&self.seller).idempotent(&uuid::Uuid::new_v4().to_string());
        let r = app
            .returns(auth)
            .authorize_return(request)
            .await
            .unwrap()
            .into_inner()
            .return_case
            .unwrap();
        assert_eq!(r.status, pb::ReturnStatus::PendingSupplier as i32, "{r:#?}");
        (r.return_id, r.supplier_requests[0].request_id.clone())
    }
}

/// The simulator as a process, with every line it printed.
struct Sim {
    child: Child,
    /// The first line: where it listens.
    url: String,
    lines: Arc<Mutex<Vec<String>>>,
    reader: JoinHandle<()>,
}

impl Sim {
    /// `supplier-sim` for `world`'s supplier on `app`, answering after 100 ms, with `flags`.
    async fn start(app: &TestApp, world: &World, flags: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_returnbridge"))
            .args(["supplier-sim", "--delay", "100ms"])
            .args(flags)
            .env("RETURNBRIDGE_SERVER", format!("http://{}", app.addr))
            .env("RETURNBRIDGE_API_KEY", &world.supplier_key)
            .env("RETURNBRIDGE_SIM_WEBHOOK_SECRET", &world.secret)
            .env_remove("RETURNBRIDGE_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = tokio::time::timeout(Duration::from_secs(15), out.next_line())
            .await
            .expect("supplier-sim prints its URL")
            .unwrap()
            .expect("supplier-sim exited before printing its URL");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let kept = lines.clone();
        // Its stderr (hints, errors) among the lines, marked, so a failure shows it too.
        let reader = tokio::spawn(async move {
            let mut out_open = true;
            let mut err_open = true;
            while out_open || err_open {
                let line = tokio::select! {
                    line = out.next_line(), if out_open => line.ok().flatten().or_else(|| {
                        out_open = false;
                        None
                    }),
                    line = err.next_line(), if err_open => match line {
                        Ok(Some(line)) => Some(format!("stderr: {line}")),
                        _ => {
                            err_open = false;
                            None
                        }
                    },
                };
                kept.lock().unwrap().extend(line);
            }
        });
        Self {
            child,
            url,
            lines,
            reader,
        }
    }

    /// `host:port` of its URL.
    fn addr(&self) -> String {
        let rest = self.url.strip_prefix("http://").unwrap();
        rest.split('/').next().unwrap().to_owned()
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (up to 15 s) for a line starting with `start`.
    async fn wait_for(&self, start: &str) -> String {
        for _ in 0..300 {
            if let Some(line) = self.lines().into_iter().find(|l| l.starts_with(start)) {
                return line;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "supplier-sim printed no {start:?} line:\n{:#?}",
            self.lines()
        );
    }

    /// Waits for it to exit on its own: how, and everything it printed.
    async fn exit(mut self) -> (ExitStatus, Vec<String>) {
        let status = tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("supplier-sim exits")
            .unwrap();
        let lines = self.lines.clone();
        self.reader.await.unwrap();
        let lines = lines.lock().unwrap().clone();
        (status, lines)
    }

    /// SIGTERM, as a person's Ctrl-C or a supervisor would stop it.
    async fn terminate(self) -> (ExitStatus, Vec<String>) {
        let pid = self.child.id().unwrap().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        self.exit().await
    }
}

/// POSTs `body` to the simulator with these webhook headers: the status code.
async fn post(sim: &Sim, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let mut head = format!(
        "POST /webhooks HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n",
        sim.addr(),
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.split(' ').nth(1).unwrap_or_default();
    status.parse().unwrap_or_else(|_| panic!("{response}"))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A webhook body for request `id` of return `return_id`, as the gateway sends one.
fn body(id: &str, return_id: &str, attempt: i32) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": "supplier_request.authorization_request",
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "data": {
            "requestId": id,
            "kind": "SUPPLIER_REQUEST_KIND_AUTHORIZATION_REQUEST",
            "attempt": attempt,
            "supplierReturn": {"returnId": return_id},
        },
    }))
    .unwrap()
}

/// Waits (up to 15 s) for the gateway's first recorded attempt at `return_id`'s request.
async fn first_attempt(app: &TestApp, return_id: &str) -> DeliveryAttempt {
    let tenant = TenantId::parse("acme").unwrap();
    let id = ReturnId::parse(return_id).unwrap();
    for _ in 0..300 {
        let attempts = app.store.attempts_for_return(&tenant, id).await.unwrap();
        if let Some(first) = attempts.into_iter().next() {
            return first;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no delivery attempt recorded for {return_id}");
}

/// A pending return delivered to a simulator started with `flags`: the gateway's first attempt,
/// what the simulator printed, and the return afterwards.
async fn deliver_once(app: &TestApp, flags: &[&str]) -> (DeliveryAttempt, Vec<String>, pb::Return) {
    let world = World::new(app).await;
    let sim = Sim::start(app, &world, flags).await;
    world
        .point_at(
            app,
            pb::supplier::Connector::Webhook(pb::WebhookConnector {
                url: sim.url.clone(),
            }),
        )
        .await;
    let (return_id, _) = world.pending(app, "SO-5").await;
    let attempt = first_attempt(app, &return_id).await;
    // Longer than the simulator's delay: an answer it should not send would have come by now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, lines) = sim.terminate().await;
    assert!(status.success(), "{status}: {lines:#?}");
    let r = get_return(app, &world.seller, &return_id).await;
    (attempt, lines, r)
}

fn count(events: &[pb::ReturnEvent], kind: pb::ReturnEventType) -> usize {
    events
        .iter()
        .filter(|e| e.event_type == kind as i32)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_supplier_approves_a_pending_return_and_the_seller_sees_it_authorized() {
    let app = spawn_app().await;
    let world = World::new(&app).await;
    let sim = Sim::start(&app, &world, &["--once"]).await;
    assert!(sim.url.ends_with("/webhooks"), "{}", sim.url);
    world
        .point_at(
            &app,
            pb::supplier::Connector::Webhook(pb::WebhookConnector {
                url: sim.url.clone(),
            }),
        )
        .await;
    let (return_id, request_id) = world.pending(&app, "SO-1").await;

    let (status, lines) = sim.exit().await;
    assert!(status.success(), "{status}: {lines:#?}");
    let received = format!("received request {request_id} (attempt 1): authorization request");
    assert!(lines.iter().any(|l| l.starts_with(&received)), "{lines:#?}");
    let answered = format!(
        "answered request {request_id} for return {return_id}: acknowledged, approved; \
         the return is AUTHORIZED"
    );
    assert!(lines.contains(&answered), "{lines:#?}");

    let r = get_return(&app, &world.seller, &return_id).await;
    assert_eq!(r.status, pb::ReturnStatus::Authorized as i32);
    let request = &r.supplier_requests[0];
    assert_eq!(request.state, pb::SupplierRequestState::Answered as i32);
    let events = return_events(&app, &world.seller, &return_id).await;
    assert_eq!(count(&events, pb::ReturnEventType::SupplierAcknowledged), 1);
    assert_eq!(count(&events, pb::ReturnEventType::SupplierDecided), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_whose_signature_does_not_verify_is_refused_with_401() {
    let app = spawn_app().await;
    let world = World::new(&app).await;
    let sim = Sim::start(&app, &world, &[]).await;
    let id = uuid::Uuid::new_v4().to_string();
    let body = body(&id, &uuid::Uuid::new_v4().to_string(), 1);
    let at = now();
    let good = sign(&world.secret, &id, at, &body).unwrap();
    let other_secret = "whsec_dGhlIG90aGVyIHN1cHBsaWVyJ3Mgc2VjcmV0";
    let forged = sign(other_secret, &id, at, &body).unwrap();
    let at = at.to_string();
    let stale = (now() - 600).to_string();
    let stale_signature = sign(&world.secret, &id, now() - 600, &body).unwrap();

    let cases: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "signed with another secret",
            vec![
                ("webhook-id", &id),
                ("webhook-timestamp", &at),
                ("webhook-signature", &forged),
            ],
        ),
        (
            "signed for another id",
            vec![
                ("webhook-id", "another-id"),
                ("webhook-timestamp", &at),
                ("webhook-signature", &good),
            ],
        ),
        (
            "ten minutes old",
            vec![
                ("webhook-id", &id),
                ("webhook-timestamp", &stale),
                ("webhook-signature", &stale_signature),
            ],
        ),
        (
            "unsigned",
            vec![("webhook-id", &id), ("webhook-timestamp", &at)],
        ),
    ];
    for (case, headers) in &cases {
        assert_eq!(post(&sim, headers, &body).await, 401, "{case}");
    }
    sim.wait_for("refused a delivery with 401").await;

    let (status, lines) = sim.terminate().await;
    assert!(status.success(), "{status}: {lines:#?}");
    let refused = lines
        .iter()
        .filter(|l| l.starts_with("refused a delivery with 401"))
        .count();
    assert_eq!(refused, cases.len(), "{lines:#?}");
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("received") || l.starts_with("answered")),
        "{lines:#?}"
    );
    assert_eq!(lines.last().map(String::as_str), Some("stopping"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_webhook_id_is_acknowledged_and_not_answered_twice() {
    let app = spawn_app().await;
    let world = World::new(&app).await;
    let sim = Sim::start(&app, &world, &[]).await;
    world
        .point_at(
            &app,
            pb::supplier::Connector::Webhook(pb::WebhookConnector {
                url: sim.url.clone(),
            }),
        )
        .await;
    let (return_id, request_id) = world.pending(&app, "SO-2").await;
    sim.wait_for(&format!("answered request {request_id}"))
        .await;

    // The same message again, as a gateway replica that lost the first answer would send it.
    let body = body(&request_id, &return_id, 2);
    let at = now();
    let signature = sign(&world.secret, &request_id, at, &body).unwrap();
    let headers = [
        ("webhook-id", request_id.as_str()),
        ("webhook-timestamp", &at.to_string()),
        ("webhook-signature", &signature),
    ];
    assert_eq!(post(&sim, &headers, &body).await, 204);
    sim.wait_for(&format!("received request {request_id} again (attempt 2)"))
        .await;
    // Longer than the simulator's delay: a second answer would have been sent by now.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (status, lines) = sim.terminate().await;
    assert!(status.success(), "{status}: {lines:#?}");
    let answers = lines
        .iter()
        .filter(|l| l.starts_with(&format!("answered request {request_id}")))
        .count();
    assert_eq!(answers, 1, "{lines:#?}");
    let events = return_events(&app, &world.seller, &return_id).await;
    assert_eq!(count(&events, pb::ReturnEventType::SupplierAcknowledged), 1);
    assert_eq!(count(&events, pb::ReturnEventType::SupplierDecided), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplier_inbox_rejects_a_pending_return_and_the_seller_sees_it_rejected() {
    let app = spawn_app().await;
    let world = World::new(&app).await;
    let flags = ["--grpc", "--verdict", "reject", "--count", "1", "--json"];
    let sim = Sim::start(&app, &world, &flags).await;
    assert!(!sim.url.ends_with("/webhooks"), "{}", sim.url);
    world
        .point_at(
            &app,
            pb::supplier::Connector::Grpc(pb::GrpcConnector {
                endpoint: sim.url.clone(),
            }),
        )
        .await;
    let (return_id, request_id) = world.pending(&app, "SO-3").await;

    let (status, lines) = sim.exit().await;
    assert!(status.success(), "{status}: {lines:#?}");
    let logged: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| !l.starts_with("stderr: "))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let events: Vec<&str> = logged
        .iter()
        .map(|l| l["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["received", "answered", "done"], "{lines:#?}");
    assert_eq!(
        logged[0]["kind"],
        "SUPPLIER_REQUEST_KIND_AUTHORIZATION_REQUEST"
    );
    assert_eq!(logged[1]["request_id"], request_id.as_str());
    assert_eq!(logged[1]["return_id"], return_id.as_str());
    assert_eq!(logged[1]["verdict"], "SUPPLIER_VERDICT_REJECT");
    assert_eq!(logged[1]["return_status"], "RETURN_STATUS_REJECTED");
    let r = get_return(&app, &world.seller, &return_id).await;
    assert_eq!(r.status, pb::ReturnStatus::Rejected as i32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_key_is_refused_before_the_simulator_listens() {
    let app = spawn_app().await;
    let mut world = World::new(&app).await;
    world.supplier_key = world.seller.clone();
    let output = Command::new(env!("CARGO_BIN_EXE_returnbridge"))
        .args(["supplier-sim", "--once"])
        .env("RETURNBRIDGE_SERVER", format!("http://{}", app.addr))
        .env("RETURNBRIDGE_API_KEY", &world.supplier_key)
        .env("RETURNBRIDGE_SIM_WEBHOOK_SECRET", &world.secret)
        .env_remove("RETURNBRIDGE_CONFIG")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "it printed a URL nobody answers");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("PermissionDenied"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_supplier_answers_500_and_leaves_the_request_to_the_retries() {
    let app = spawn_app().await;
    let (attempt, lines, r) = deliver_once(&app, &["--fail-rate", "1"]).await;
    assert_eq!(attempt.outcome, AttemptOutcome::HttpStatus(500));
    assert!(!attempt.delivered);
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("failing it on purpose (--fail-rate)")),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("answered")),
        "{lines:#?}"
    );
    assert_eq!(r.status, pb::ReturnStatus::PendingSupplier as i32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_supplier_holds_the_delivery_until_the_gateway_gives_up() {
    let app = spawn_app_configured(FreshStore::create().await, Arc::new(SystemClock), |s| {
        s.gateway.attempt_timeout_ms = 300;
    })
    .await;
    let (attempt, lines, r) = deliver_once(&app, &["--hang-rate", "1"]).await;
    assert_eq!(attempt.outcome, AttemptOutcome::Timeout);
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("holding it without an answer (--hang-rate)")),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("answered")),
        "{lines:#?}"
    );
    assert_eq!(r.status, pb::ReturnStatus::PendingSupplier as i32);
}
