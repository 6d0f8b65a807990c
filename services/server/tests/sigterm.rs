//! The real binary, a real signal: SIGTERM while a call is in flight lets that call finish, then the
//! process exits 0.

use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::contract_service_client::ContractServiceClient;
use sqlx::Connection;
use std::process::Command;
use std::time::Duration;
use tonic::metadata::MetadataValue;

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_call_lets_the_call_finish_and_exits_zero() {
    let dir = std::env::temp_dir().join(format!("returnbridge-sigterm-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("returnbridge.db");
    let url = format!("sqlite:{}", db.display());

    let key = common::create_key(&url, "acme");
    let (mut server, addr) = common::serve(&["--database-url", &url], &[]);

    // Hold SQLite's write lock so the next write waits inside the server, in flight.
    let mut blocker = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .unwrap();

    let mut client = ContractServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let bearer: MetadataValue<_> = format!("Bearer {key}").parse().unwrap();
    let call = tokio::spawn(async move {
        let mut request = tonic::Request::new(pb::CreateSupplierRequest {
            supplier: Some(pb::Supplier {
                display_name: "Acme".into(),
                connector: Some(pb::supplier::Connector::Webhook(pb::WebhookConnector {
                    url: "https://acme.example/hooks".into(),
                })),
                ..Default::default()
            }),
        });
        request.metadata_mut().insert("authorization", bearer);
        client.create_supplier(request).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !call.is_finished(),
        "the call must still be waiting on the lock"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();

    let answer = call
        .await
        .unwrap()
        .expect("the in-flight call completes after SIGTERM");
    assert_eq!(answer.into_inner().supplier.unwrap().display_name, "Acme");
    let status = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
}
