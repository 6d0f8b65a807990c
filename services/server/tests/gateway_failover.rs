//! Delivery across real processes: a gateway killed mid-delivery (`kill -9`) loses nothing, and the
//! next one redelivers under the same `webhook-id` once the claim's lease ends; two gateways on one
//! PostgreSQL deliver each message once.

use returnbridge_domain::ids::{ReturnId, TenantId};
use returnbridge_proto::v1::return_service_client::ReturnServiceClient;
use returnbridge_store::{StoreOptions, connect};
use returnbridge_tests::fixtures::{changed_mind, terms};
use returnbridge_tests::supplier_mock::{Behaviour, MockSupplier};
use returnbridge_tests::{Auth, FreshStore, postgres_server, skipped};
use std::collections::HashSet;
use std::process::{Child, Command};
use std::time::Duration;
use tonic::transport::Channel;

mod common;

/// Loopback mocks, quick polling, and a 2 s lease so a dead gateway's rows come back soon.
const GATEWAY_ENV: [(&str, &str); 4] = [
    ("RETURNBRIDGE_GATEWAY__ALLOW_PRIVATE_DESTINATIONS", "true"),
    ("RETURNBRIDGE_GATEWAY__POLL_INTERVAL_MS", "100"),
    ("RETURNBRIDGE_GATEWAY__LEASE_SECS", "2"),
    ("RETURNBRIDGE_GATEWAY__ATTEMPT_TIMEOUT_MS", "1500"),
];

fn serve(url: &str) -> (Child, Channel) {
    let (child, addr) = common::serve(&["--database-url", url], &GATEWAY_ENV);
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    (child, channel)
}

/// A webhook supplier at `url` under the standard terms: its id.
async fn supplier_at(channel: &Channel, key: &str, url: &str) -> String {
    common::webhook_supplier(channel, key, url, terms()).await
}

async fn authorize(channel: &Channel, key: &str, supplier: &str, order: &str) -> String {
    let auth = Auth::key(key).idempotent(&uuid::Uuid::new_v4().to_string());
    ReturnServiceClient::with_interceptor(channel.clone(), auth)
        .authorize_return(changed_mind(supplier, order))
        .await
        .unwrap()
        .into_inner()
        .return_case
        .unwrap()
        .return_id
}

fn terminate(mut child: Child) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let status = child.wait().unwrap();
    assert!(status.success(), "gateway exited with {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_killed_mid_delivery_loses_nothing_and_the_redelivery_keeps_the_webhook_id() {
    let fresh = FreshStore::create().await;
    let key = common::create_key(&fresh.url, "acme");
    // The first request is never answered: the gateway dies while it waits.
    let mock = MockSupplier::start(Behaviour::Script(vec![(0, Vec::new())])).await;
    let (mut first, channel) = serve(&fresh.url);
    let supplier = supplier_at(&channel, &key, &mock.url()).await;
    let return_id = authorize(&channel, &key, &supplier, "ORDER-1").await;
    mock.wait_for(1).await;
    first.kill().unwrap();
    first.wait().unwrap();

    let (second, _) = serve(&fresh.url);
    let got = mock.wait_for(2).await;
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert_eq!(
        got[1].json()["data"]["attempt"],
        1,
        "the lost attempt was never counted"
    );
    let store = connect(&fresh.url, &StoreOptions::default()).await.unwrap();
    let tenant = TenantId::parse("acme").unwrap();
    let id = ReturnId::parse(&return_id).unwrap();
    let mut recorded = Vec::new();
    for _ in 0..100 {
        recorded = store.attempts_for_return(&tenant, id).await.unwrap();
        if !recorded.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert!(recorded[0].delivered);
    terminate(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_on_one_postgresql_deliver_each_message_once() {
    if postgres_server().is_none() {
        return skipped(
            "two_gateways_on_one_postgresql_deliver_each_message_once",
            "TEST_DATABASE_URL is not set (PostgreSQL)",
        );
    }
    let fresh = FreshStore::create().await;
    let key = common::create_key(&fresh.url, "acme");
    let mock = MockSupplier::accepting().await;
    let (one, channel) = serve(&fresh.url);
    let (two, _) = serve(&fresh.url);
    let supplier = supplier_at(&channel, &key, &mock.url()).await;
    const MESSAGES: usize = 30;
    for order in 0..MESSAGES {
        authorize(&channel, &key, &supplier, &format!("ORDER-{order}")).await;
    }
    mock.wait_for(MESSAGES).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = mock.received();
    let ids: HashSet<_> = got
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert_eq!((got.len(), ids.len()), (MESSAGES, MESSAGES));
    terminate(one);
    terminate(two);
}
