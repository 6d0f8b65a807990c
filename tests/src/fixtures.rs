//! Suppliers, contracts and orders for the tests: docs/design.md's worked example by default (an EU
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

/// The worked example's order, delivered `delivered_days_ago` days before now, to a customer in
/// Berlin.
pub fn order(supplier_id: &str, order_id: &str, delivered_days_ago: i64) -> pb::OrderFacts {
    let delivered = Utc::now() - Duration::days(delivered_days_ago);
    pb::OrderFacts {
        order_id: order_id.into(),
        supplier_id: supplier_id.into(),
        order_time: Some(ts(delivered - Duration::days(3))),
        delivery_time: Some(ts(delivered)),
        customer_jurisdiction: "EU".into(),
        customer_time_zone: "Europe/Berlin".into(),
        customer_extended_cancellation_right: false,
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

/// [`terms`] with the supplier deciding every return first (`auto_authorize = false`).
pub fn supplier_decides_terms() -> pb::ContractTerms {
    pb::ContractTerms {
        auto_authorize: false,
        ..terms()
    }
}

/// A DEFECTIVE claim for one tee of [`order`] (delivered 5 days ago) with these evidence links.
pub fn defective(
    supplier_id: &str,
    order_id: &str,
    evidence: &[&str],
) -> pb::AuthorizeReturnRequest {
    pb::AuthorizeReturnRequest {
        items: vec![pb::ReturnItem {
            sku: "TEE-M".into(),
            quantity: 1,
        }],
        reason: pb::ReturnReason::Defective as i32,
        evidence_uris: evidence.iter().map(|e| e.to_string()).collect(),
        ..changed_mind(supplier_id, order_id)
    }
}

/// A CHANGED_MIND return of the swimwear line of [`order`], delivered that many days ago.
pub fn swimwear_changed_mind(
    supplier_id: &str,
    order_id: &str,
    delivered_days_ago: i64,
) -> pb::AuthorizeReturnRequest {
    pb::AuthorizeReturnRequest {
        order: Some(order(supplier_id, order_id, delivered_days_ago)),
        items: vec![pb::ReturnItem {
            sku: "SWIM-1".into(),
            quantity: 1,
        }],
        ..changed_mind(supplier_id, order_id)
    }
}

/// [`changed_mind`] for `quantity` tees.
pub fn tees(supplier_id: &str, order_id: &str, quantity: i32) -> pb::AuthorizeReturnRequest {
    pb::AuthorizeReturnRequest {
        items: vec![pb::ReturnItem {
            sku: "TEE-M".into(),
            quantity,
        }],
        ..changed_mind(supplier_id, order_id)
    }
}

/// Sends `request` with a fresh idempotency key and returns the stored return; panics on an error.
pub async fn authorize(
    app: &TestApp,
    key: &str,
    request: pb::AuthorizeReturnRequest,
) -> pb::Return {
    let idempotency = uuid::Uuid::new_v4().to_string();
    app.returns(crate::Auth::key(key).idempotent(&idempotency))
        .authorize_return(request)
        .await
        .expect("authorize return")
        .into_inner()
        .return_case
        .expect("return_case")
}

/// Reads one return; panics on an error.
pub async fn get_return(app: &TestApp, key: &str, return_id: &str) -> pb::Return {
    app.returns(crate::Auth::key(key))
        .get_return(pb::GetReturnRequest {
            return_id: return_id.into(),
        })
        .await
        .expect("get return")
        .into_inner()
        .return_case
        .expect("return_case")
}

/// Every return of the caller's tenant (one page of up to 500), newest first.
pub async fn list_returns(app: &TestApp, key: &str) -> Vec<pb::Return> {
    app.returns(crate::Auth::key(key))
        .list_returns(pb::ListReturnsRequest {
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("list returns")
        .into_inner()
        .returns
}

/// Every event of one return (one page of up to 500), oldest first.
pub async fn return_events(app: &TestApp, key: &str, return_id: &str) -> Vec<pb::ReturnEvent> {
    app.returns(crate::Auth::key(key))
        .list_return_events(pb::ListReturnEventsRequest {
            return_id: return_id.into(),
            page_size: 500,
            page_token: String::new(),
        })
        .await
        .expect("list return events")
        .into_inner()
        .events
}

/// RecordShipment of `return_id` at `expected_version`, carried by DHL.
pub fn ship_request(return_id: &str, expected_version: i64) -> pb::RecordShipmentRequest {
    pb::RecordShipmentRequest {
        return_id: return_id.into(),
        expected_version,
        shipment: Some(pb::Shipment {
            carrier: "DHL".into(),
            tracking_number: "JJD000".into(),
            ..Default::default()
        }),
    }
}

/// RecordReceipt of every returned unit.
pub fn receive_request(return_id: &str, expected_version: i64) -> pb::RecordReceiptRequest {
    pb::RecordReceiptRequest {
        return_id: return_id.into(),
        expected_version,
        receipt: Some(pb::Receipt::default()),
    }
}

/// RecordInspection with outcome PASSED.
pub fn inspect_request(return_id: &str, expected_version: i64) -> pb::RecordInspectionRequest {
    pb::RecordInspectionRequest {
        return_id: return_id.into(),
        expected_version,
        inspection: Some(pb::Inspection {
            outcome: pb::InspectionOutcome::Passed as i32,
            ..Default::default()
        }),
    }
}

/// ResolveReturn as a REFUND of every returned unit.
pub fn refund_request(return_id: &str, expected_version: i64) -> pb::ResolveReturnRequest {
    pb::ResolveReturnRequest {
        return_id: return_id.into(),
        expected_version,
        resolution: Some(pb::ResolutionSpec {
            resolution: pb::Resolution::Refund as i32,
            ..Default::default()
        }),
        note: String::new(),
    }
}

/// ResolveReturn as a PARTIAL_REFUND: the customer keeps the goods with a 10.00 EUR allowance.
pub fn partial_refund_request(return_id: &str, expected_version: i64) -> pb::ResolveReturnRequest {
    pb::ResolveReturnRequest {
        return_id: return_id.into(),
        expected_version,
        resolution: Some(pb::ResolutionSpec {
            resolution: pb::Resolution::PartialRefund as i32,
            allowance: Some(eur(1000)),
            ..Default::default()
        }),
        note: "keeps it with an allowance".into(),
    }
}

/// CancelReturn with a reason.
pub fn cancel_request(return_id: &str, expected_version: i64) -> pb::CancelReturnRequest {
    pb::CancelReturnRequest {
        return_id: return_id.into(),
        expected_version,
        reason: "customer withdrew the request".into(),
    }
}

/// AddEvidence of one https photo.
pub fn evidence_request(return_id: &str, expected_version: i64) -> pb::AddEvidenceRequest {
    pb::AddEvidenceRequest {
        return_id: return_id.into(),
        expected_version,
        evidence: vec![pb::Evidence {
            uri: "https://photos.example/1.jpg".into(),
            description: "the label".into(),
            ..Default::default()
        }],
    }
}

/// The `ErrorInfo.metadata` of a failed call (empty when it has none).
pub fn error_metadata(status: &tonic::Status) -> std::collections::HashMap<String, String> {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .map(|i| i.metadata)
        .unwrap_or_default()
}

/// The tenant's whole event stream, from its first event, as `key` sees it.
pub async fn watch_from_beginning(
    app: &TestApp,
    key: &str,
) -> tonic::Streaming<pb::WatchEventsResponse> {
    app.returns(crate::Auth::key(key))
        .watch_events(pb::WatchEventsRequest {
            from_beginning: true,
            ..Default::default()
        })
        .await
        .expect("a stream")
        .into_inner()
}
