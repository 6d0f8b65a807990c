//! Webhook deliveries as tests check them: a seller with a supplier at a mock, the attempts the
//! store recorded, and a request verified the way a Standard Webhooks library does.

use crate::fixtures::{terms, ts};
use crate::supplier_mock::Received;
use crate::{Auth, TestApp};
use chrono::Utc;
use returnbridge_domain::ids::{ReturnId, TenantId};
use returnbridge_proto::v1 as pb;
use returnbridge_store::DeliveryAttempt;
use std::time::Duration;

/// A seller of `tenant` and a webhook supplier at `url` under the standard terms: the seller's key,
/// the supplier's id and its signing secret.
pub async fn seller_with_webhook_supplier(
    app: &TestApp,
    tenant: &str,
    url: &str,
) -> (String, String, String) {
    let connector = pb::supplier::Connector::Webhook(pb::WebhookConnector { url: url.into() });
    seller_with_supplier_at(app, tenant, connector).await
}

/// A seller of `tenant` and a supplier with `connector` under the standard terms: the seller's key,
/// the supplier's id and its signing secret.
pub async fn seller_with_supplier_at(
    app: &TestApp,
    tenant: &str,
    connector: pb::supplier::Connector,
) -> (String, String, String) {
    let key = app.seller_key(tenant).await;
    let mut contracts = app.contracts(Auth::key(&key));
    let created = contracts
        .create_supplier(pb::CreateSupplierRequest {
            supplier: Some(pb::Supplier {
                display_name: "Mock Supply".into(),
                connector: Some(connector),
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
            effective_from: Some(ts(Utc::now() - chrono::Duration::days(365))),
            terms: Some(terms()),
            description: "standard terms".into(),
            expected_latest_version: 0,
        })
        .await
        .unwrap();
    (key, supplier, created.webhook_signing_secret)
}

/// The return's delivery attempts once there are at least `n` (waits up to 15 s).
pub async fn attempts(
    app: &TestApp,
    tenant: &str,
    return_id: &str,
    n: usize,
) -> Vec<DeliveryAttempt> {
    let tenant = TenantId::parse(tenant).unwrap();
    let id = ReturnId::parse(return_id).unwrap();
    for _ in 0..300 {
        let got = app.store.attempts_for_return(&tenant, id).await.unwrap();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} delivery attempts recorded");
}

/// Checks `request` the way a Standard Webhooks verifier does, and returns its JSON body.
pub fn verified(request: &Received, secret: &str) -> serde_json::Value {
    let id = request.header("webhook-id");
    let timestamp: u64 = request.header("webhook-timestamp").parse().unwrap();
    let now = Utc::now().timestamp() as u64;
    assert!(now.abs_diff(timestamp) < 300, "a fresh timestamp");
    let expected =
        returnbridge_gateway::webhook::sign(secret, id, timestamp, &request.body).unwrap();
    assert!(
        request
            .header("webhook-signature")
            .split(' ')
            .any(|s| s == expected),
        "signature {:?} is not {expected:?}",
        request.header("webhook-signature")
    );
    request.json()
}
