//! Suppliers, contracts and orders for the tests: DESIGN.md's worked example by default (an EU
//! customer, 2 x 50.00 EUR at a unit cost of 30.00, outbound delivery 5.00, label 7.00).

use crate::{ContractClient, TestApp};
use chrono::{DateTime, Duration, Utc};
use returnbridge_proto::v1 as pb;

/// Euros in minor units.
pub fn eur(amount_minor: i64) -> pb::Money {
    pb::Money {
        currency_code: "EUR".into(),
        amount_minor,
    }
}

/// A protobuf timestamp.
pub fn ts(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

/// Contract terms: 30-day no-fault window, 365-day defect window, full retail coverage, auto
/// authorization, a 10% supplier restocking fee, the customer pays no-fault return shipping.
pub fn terms() -> pb::ContractTerms {
    pb::ContractTerms {
        return_window_days: 30,
        defect_window_days: 365,
        non_returnable_categories: vec!["swimwear".into()],
        evidence_required_reasons: vec![pb::ReturnReason::Defective as i32],
        requires_original_packaging: false,
        accepts_no_fault_returns: true,
        supplier_restocking_fee_bps: 1000,
        defect_coverage: pb::DefectCoverage::FullRetail as i32,
        transit_damage_party: pb::Party::Carrier as i32,
        listing_data_owner: pb::Party::Supplier as i32,
        no_fault_return_shipping_payer: pb::Party::Customer as i32,
        returnless_threshold: None,
        auto_authorize: true,
        sla: Some(pb::SlaTerms {
            ack_within: Some(prost_types::Duration {
                seconds: 86_400,
                nanos: 0,
            }),
            decision_within: Some(prost_types::Duration {
                seconds: 3 * 86_400,
                nanos: 0,
            }),
            credit_within: Some(prost_types::Duration {
                seconds: 14 * 86_400,
                nanos: 0,
            }),
            breach_action: pb::SlaBreachAction::Notify as i32,
        }),
    }
}

/// Creates a supplier and publishes `terms` for it, effective a year back; returns its id.
pub async fn supplier_with_contract(
    contracts: &mut ContractClient,
    terms: pb::ContractTerms,
) -> String {
    let supplier = contracts
        .create_supplier(pb::CreateSupplierRequest {
            supplier: Some(pb::Supplier {
                display_name: "Acme Supply".into(),
                connector: Some(pb::supplier::Connector::Webhook(pb::WebhookConnector {
                    url: "https://acme.example/returns".into(),
                })),
                ..Default::default()
            }),
        })
        .await
        .expect("create supplier")
        .into_inner()
        .supplier
        .expect("supplier");
    contracts
        .publish_contract(pb::PublishContractRequest {
            supplier_id: supplier.supplier_id.clone(),
            effective_from: Some(ts(Utc::now() - Duration::days(365))),
            terms: Some(terms),
            description: "standard terms".into(),
            expected_latest_version: 0,
        })
        .await
        .expect("publish contract");
    supplier.supplier_id
}

/// A seller of `tenant` with a supplier under [`terms`]: its key and the supplier id.
pub async fn seller_with_supplier(app: &TestApp, tenant: &str) -> (String, String) {
    let key = app.seller_key(tenant).await;
    let mut contracts = app.contracts(crate::Auth::key(&key));
    let supplier = supplier_with_contract(&mut contracts, terms()).await;
    (key, supplier)
}

/// The worked example's order, delivered `delivered_days_ago` days before now.
pub fn order(supplier_id: &str, order_id: &str, delivered_days_ago: i64) -> pb::OrderFacts {
    let delivered = Utc::now() - Duration::days(delivered_days_ago);
    pb::OrderFacts {
        order_id: order_id.into(),
        supplier_id: supplier_id.into(),
        order_time: Some(ts(delivered - Duration::days(3))),
        delivery_time: Some(ts(delivered)),
        customer_jurisdiction: "EU".into(),
        currency_code: "EUR".into(),
        outbound_shipping: Some(eur(500)),
        lines: vec![
            pb::OrderLine {
                sku: "TEE-M".into(),
                category: "apparel/tops".into(),
                quantity: 2,
                unit_price: Some(eur(5000)),
                unit_cost: Some(eur(3000)),
            },
            pb::OrderLine {
                sku: "SWIM-1".into(),
                category: "swimwear".into(),
                quantity: 1,
                unit_price: Some(eur(3000)),
                unit_cost: Some(eur(1500)),
            },
        ],
    }
}

/// A CHANGED_MIND return of both tees of [`order`], delivered 5 days ago.
pub fn changed_mind(supplier_id: &str, order_id: &str) -> pb::AuthorizeReturnRequest {
    pb::AuthorizeReturnRequest {
        order: Some(order(supplier_id, order_id, 5)),
        items: vec![pb::ReturnItem {
            sku: "TEE-M".into(),
            quantity: 2,
        }],
        reason: pb::ReturnReason::ChangedMind as i32,
        evidence_uris: vec![],
        label_cost_estimate: Some(eur(700)),
        customer_comment: "too big".into(),
        external_reference: "RMA-1".into(),
    }
}
