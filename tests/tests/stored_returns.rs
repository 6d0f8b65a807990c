//! A return is stored as the store's own document (the domain return), not as the public v1
//! message. Rows written before that change are rewritten by the upgrade that runs after migrations,
//! and read back exactly as they did.

use prost::Message;
use returnbridge_proto::v1 as pb;
use returnbridge_server::Settings;
use returnbridge_tests::{Auth, TestApp, fixtures, reason, spawn_app};
use sqlx::Connection;

/// Puts a return back the way the previous schema held it: the v1 `Return` message as its
/// document, and the columns that schema wrote empty (or did not have) empty.
async fn store_as_before(app: &TestApp, return_id: &str, document: Vec<u8>) {
    const SQL: &str = "UPDATE returns SET document_format = 'v1-proto', document = $1, \
                       contract_version = 0, statutory_profile = '', currency = '', \
                       ack_by = NULL, decide_by = NULL, credit_by = NULL \
                       WHERE return_id = $2";
    let url = app.database_url();
    let updated = if app.backend == "postgres" {
        let mut db = sqlx::PgConnection::connect(url).await.unwrap();
        let id = uuid::Uuid::parse_str(return_id).unwrap();
        let done = sqlx::query(SQL)
            .bind(document)
            .bind(id)
            .execute(&mut db)
            .await;
        done.unwrap().rows_affected()
    } else {
        let mut db = sqlx::SqliteConnection::connect(url).await.unwrap();
        let done = sqlx::query(SQL)
            .bind(document)
            .bind(return_id)
            .execute(&mut db)
            .await;
        done.unwrap().rows_affected()
    };
    assert_eq!(updated, 1);
}

/// The query columns of a return: (currency, contract version, profile, has an ack deadline).
async fn columns(app: &TestApp, return_id: &str) -> (String, i64, String, bool) {
    const SQL: &str = "SELECT currency, contract_version, statutory_profile, ack_by IS NOT NULL \
                       FROM returns WHERE return_id = $1";
    let url = app.database_url();
    if app.backend == "postgres" {
        let mut db = sqlx::PgConnection::connect(url).await.unwrap();
        let id = uuid::Uuid::parse_str(return_id).unwrap();
        sqlx::query_as(SQL)
            .bind(id)
            .fetch_one(&mut db)
            .await
            .unwrap()
    } else {
        let mut db = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_as(SQL)
            .bind(return_id)
            .fetch_one(&mut db)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_return_stored_as_the_v1_message_is_upgraded_at_start_and_reads_back_the_same() {
    let app = spawn_app().await;
    let (key, supplier) = fixtures::seller_with_supplier(&app, "acme").await;
    let created = fixtures::authorize(&app, &key, fixtures::changed_mind(&supplier, "SO-1")).await;
    let id = created.return_id.clone();
    let mut returns = app.returns(Auth::key(&key));
    returns
        .record_shipment(fixtures::ship_request(&id, 1))
        .await
        .unwrap();
    let before = fixtures::get_return(&app, &key, &id).await;
    let fresh_columns = columns(&app, &id).await;
    assert_eq!(
        (fresh_columns.0.as_str(), fresh_columns.1),
        ("EUR", before.decision.as_ref().unwrap().contract_version),
        "new rows fill the columns the old schema wrote empty"
    );

    store_as_before(&app, &id, before.encode_to_vec()).await;
    let unreadable = returns
        .get_return(pb::GetReturnRequest {
            return_id: id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        unreadable.code(),
        tonic::Code::Internal,
        "{}",
        reason(&unreadable)
    );

    // What `serve` and `migrate` run at start: migrations, then the upgrade.
    let mut settings = Settings::default();
    settings.database.url = app.database_url().to_owned();
    returnbridge_server::open_migrated_store(&settings)
        .await
        .unwrap();

    assert_eq!(fixtures::get_return(&app, &key, &id).await, before);
    assert_eq!(columns(&app, &id).await, fresh_columns);
    // And it carries on through its lifecycle to a split.
    returns
        .record_receipt(fixtures::receive_request(&id, 2))
        .await
        .unwrap();
    returns
        .record_inspection(fixtures::inspect_request(&id, 3))
        .await
        .unwrap();
    let resolved = returns
        .resolve_return(fixtures::refund_request(&id, 4))
        .await
        .unwrap()
        .into_inner();
    assert!(resolved.split.is_some());
}
