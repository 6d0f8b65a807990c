//! The database goes away and comes back, behind a TCP proxy the test controls (the shared
//! PostgreSQL server itself keeps running). Calls must not wait out the pool's acquire timeout once
//! the outage is known, health must follow the database, and both must recover on their own.

use returnbridge_core::clock::SystemClock;
use returnbridge_proto::v1 as pb;
use returnbridge_tests::{Auth, FreshStore, postgres_server, reason, skipped, spawn_app_on};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_types::StatusExt;

/// Forwards connections to `target` while up; going down cuts every open connection and refuses
/// new ones (accepted, then closed at once, as a restarting server does).
struct Proxy {
    addr: SocketAddr,
    up: watch::Sender<bool>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, _) = watch::channel(true);
        let state = up.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let mut up = state.subscribe();
                if !*up.borrow() {
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = up.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { addr, up }
    }

    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

async fn health(app_channel: &tonic::transport::Channel) -> ServingStatus {
    let mut health = HealthClient::new(app_channel.clone());
    let answer = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    ServingStatus::try_from(answer.status).unwrap()
}

/// How long health took to report `status`, polling every 20 ms for at most 10 s.
async fn time_until(channel: &tonic::transport::Channel, status: ServingStatus) -> Duration {
    let start = Instant::now();
    while health(channel).await != status {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "health never reported {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_answers_unavailable_at_once_and_health_follows_it() {
    let Some(server) = postgres_server() else {
        return skipped(
            "database_outage",
            "TEST_DATABASE_URL is not set (needs PostgreSQL)",
        );
    };
    let server = url::Url::parse(&server).unwrap();
    let target = format!(
        "{}:{}",
        server.host_str().unwrap(),
        server.port().unwrap_or(5432)
    );
    let proxy = Proxy::start(target).await;
    let mut fresh = FreshStore::create().await;
    let mut proxied = url::Url::parse(&fresh.url).unwrap();
    proxied.set_ip_host(proxy.addr.ip()).unwrap();
    proxied.set_port(Some(proxy.addr.port())).unwrap();
    fresh.url = proxied.to_string();
    let app = spawn_app_on(fresh, Arc::new(SystemClock)).await;
    let key = app.seller_key("outage-seller").await;
    let mut returns = app.returns(Auth::key(&key));
    let list = || pb::ListReturnsRequest::default();
    returns.list_returns(list()).await.unwrap();
    assert_eq!(health(&app.channel).await, ServingStatus::Serving);

    proxy.set_up(false);
    let noticed = time_until(&app.channel, ServingStatus::NotServing).await;
    assert!(
        noticed < Duration::from_secs(1),
        "NOT_SERVING after {noticed:?}"
    );
    // Not ready, but alive: a liveness probe must not restart it for the database's outage.
    let alive = HealthClient::new(app.channel.clone())
        .check(HealthCheckRequest {
            service: returnbridge_server::serve::LIVENESS.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(alive.status, ServingStatus::Serving as i32);
    let mut fastest = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let err = returns.list_returns(list()).await.unwrap_err();
        let took = start.elapsed();
        fastest = fastest.min(took);
        assert_eq!(err.code(), Code::Unavailable, "{err:?}");
        assert_eq!(reason(&err), "DATABASE_UNAVAILABLE");
        assert!(err.get_details_retry_info().is_some(), "no RetryInfo");
        // Far below the pool's 5 s acquire timeout, whatever the machine's load.
        assert!(took < Duration::from_secs(1), "UNAVAILABLE after {took:?}");
    }
    assert!(
        fastest < Duration::from_millis(100),
        "UNAVAILABLE after {fastest:?}"
    );

    proxy.set_up(true);
    let recovered = time_until(&app.channel, ServingStatus::Serving).await;
    assert!(
        recovered < Duration::from_secs(1),
        "SERVING after {recovered:?}"
    );
    returns.list_returns(list()).await.unwrap();
    eprintln!(
        "NOT_SERVING after {noticed:?}, UNAVAILABLE in {fastest:?}, SERVING again after {recovered:?}"
    );
}
