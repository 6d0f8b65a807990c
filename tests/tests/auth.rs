//! Every RPC but health and reflection needs a valid key with the right scope.

use returnbridge_domain::auth::Scope;
use returnbridge_proto::v1 as pb;
use returnbridge_tests::{Auth, reason, spawn_app};
use tonic::Code;

fn list() -> pb::ListSuppliersRequest {
    pb::ListSuppliersRequest::default()
}

#[tokio::test]
async fn a_call_without_a_key_is_unauthenticated() {
    let app = spawn_app().await;
    let err = app
        .contracts(Auth::none())
        .list_suppliers(list())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(reason(&err), "API_KEY_MISSING");
}

#[tokio::test]
async fn a_malformed_authorization_header_is_unauthenticated() {
    let app = spawn_app().await;
    let err = app
        .contracts(Auth::raw("Basic dXNlcjpwdw=="))
        .list_suppliers(list())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(reason(&err), "API_KEY_MALFORMED");
}

#[tokio::test]
async fn an_unknown_key_is_unauthenticated() {
    let app = spawn_app().await;
    let err = app
        .contracts(Auth::key("rbk_not-a-real-key"))
        .list_suppliers(list())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(reason(&err), "API_KEY_INVALID");
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once() {
    let app = spawn_app().await;
    let (id, key) = app.key_with("acme", None, &Scope::SELLER_DEFAULT).await;
    app.contracts(Auth::key(&key))
        .list_suppliers(list())
        .await
        .unwrap();
    assert!(
        app.store
            .revoke_api_key(id, chrono::Utc::now())
            .await
            .unwrap()
    );
    let err = app
        .contracts(Auth::key(&key))
        .list_suppliers(list())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(reason(&err), "API_KEY_REVOKED");
}

#[tokio::test]
async fn a_read_only_key_cannot_create_a_supplier() {
    let app = spawn_app().await;
    let (_, key) = app.key_with("acme", None, &[Scope::ContractsRead]).await;
    let mut client = app.contracts(Auth::key(&key));
    client.list_suppliers(list()).await.unwrap();
    let err = client
        .create_supplier(pb::CreateSupplierRequest {
            supplier: Some(pb::Supplier {
                display_name: "Acme".into(),
                connector: Some(pb::supplier::Connector::Webhook(pb::WebhookConnector {
                    url: "https://acme.example/hooks".into(),
                })),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(reason(&err), "MISSING_SCOPE");
    // Refused means refused: nothing was created.
    assert!(
        client
            .list_suppliers(list())
            .await
            .unwrap()
            .into_inner()
            .suppliers
            .is_empty()
    );
}

#[tokio::test]
async fn a_supplier_callback_key_cannot_read_the_sellers_suppliers() {
    let app = spawn_app().await;
    let (_, key) = app
        .key_with("acme", None, &[Scope::SupplierCallbacks])
        .await;
    let err = app
        .contracts(Auth::key(&key))
        .list_suppliers(list())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}
