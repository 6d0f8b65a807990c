//! LiabilityService and the final split of ResolveReturn, end to end: docs/design.md's worked example,
//! quotes that agree with final splits, and settlement statements whose totals are their lines' sum.

use chrono::{Duration, Utc};
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::liability_service_client::LiabilityServiceClient;
use returnbridge_tests::fixtures::{changed_mind, eur, supplier_with_contract, terms, ts};
use returnbridge_tests::{Auth, ReturnClient, TestApp, reason, spawn_app, violated_fields};
use tonic::Code;

type LiabilityClient = LiabilityServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Auth>,
>;

fn liability(app: &TestApp, key: &str) -> LiabilityClient {
    LiabilityServiceClient::with_interceptor(app.channel.clone(), Auth::key(key))
}

/// docs/design.md's worked example exactly: an order of just the two tees, so the whole outbound
/// delivery belongs to the returned units.
fn worked_example(supplier: &str, order_id: &str) -> pb::AuthorizeReturnRequest {
    let mut request = changed_mind(supplier, order_id);
    if let Some(order) = request.order.as_mut() {
        order.lines.truncate(1);
    }
    request
}

fn defective(supplier: &str, order_id: &str) -> pb::AuthorizeReturnRequest {
    pb::AuthorizeReturnRequest {
        reason: pb::ReturnReason::Defective as i32,
        evidence_uris: vec!["https://photos.example/crack.jpg".into()],
        ..worked_example(supplier, order_id)
    }
}

/// Authorizes and takes a return through shipment, receipt and a passed inspection.
async fn inspected(
    app: &TestApp,
    key: &str,
    n: u32,
    request: pb::AuthorizeReturnRequest,
) -> String {
    let authorized = app
        .returns(Auth::key(key).idempotent(&format!("authorize-{n}")))
        .authorize_return(request)
        .await
        .unwrap()
        .into_inner()
        .return_case
        .unwrap();
    assert_eq!(
        authorized.status,
        pb::ReturnStatus::Authorized as i32,
        "{authorized:#?}"
    );
    let id = authorized.return_id;
    let mut returns = app.returns(Auth::key(key));
    returns
        .record_shipment(pb::RecordShipmentRequest {
            return_id: id.clone(),
            expected_version: 0,
            shipment: Some(pb::Shipment {
                carrier: "DHL".into(),
                label_cost: Some(eur(700)),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    returns
        .record_receipt(pb::RecordReceiptRequest {
            return_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    returns
        .record_inspection(pb::RecordInspectionRequest {
            return_id: id.clone(),
            expected_version: 0,
            inspection: Some(pb::Inspection {
                outcome: pb::InspectionOutcome::Passed as i32,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    id
}

fn refund() -> Option<pb::ResolutionSpec> {
    Some(pb::ResolutionSpec {
        resolution: pb::Resolution::Refund as i32,
        ..Default::default()
    })
}

async fn resolve(returns: &mut ReturnClient, id: &str) -> pb::LiabilitySplit {
    returns
        .resolve_return(pb::ResolveReturnRequest {
            return_id: id.into(),
            expected_version: 0,
            resolution: refund(),
            note: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .split
        .expect("a resolved return has its final split")
}

/// QuoteLiability of a stored return, refunded.
async fn quote(app: &TestApp, key: &str, id: &str) -> pb::LiabilitySplit {
    liability(app, key)
        .quote_liability(pb::QuoteLiabilityRequest {
            subject: Some(pb::quote_liability_request::Subject::ReturnId(id.into())),
            resolution: refund(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .split
        .unwrap()
}

fn total(split: &pb::LiabilitySplit, party: pb::Party) -> i64 {
    split
        .totals
        .iter()
        .find(|t| t.party == party as i32)
        .and_then(|t| t.amount.as_ref())
        .map_or(0, |m| m.amount_minor)
}

fn borne(split: &pb::LiabilitySplit, party: pb::Party, component: pb::CostComponent) -> i64 {
    split
        .allocations
        .iter()
        .filter(|a| a.party == party as i32 && a.component == component as i32)
        .filter_map(|a| a.amount.as_ref())
        .map(|m| m.amount_minor)
        .sum()
}

async fn seller(app: &TestApp, tenant: &str, contract: pb::ContractTerms) -> (String, String) {
    let key = app.seller_key(tenant).await;
    let supplier = supplier_with_contract(&mut app.contracts(Auth::key(&key)), contract).await;
    (key, supplier)
}

#[tokio::test]
async fn changed_mind_splits_as_the_worked_example_and_the_quote_agrees_with_the_final_split() {
    let app = spawn_app().await;
    let (key, supplier) = seller(&app, "acme", terms()).await;
    let id = inspected(&app, &key, 1, worked_example(&supplier, "O-1")).await;

    let quote = quote(&app, &key, &id).await;
    assert!(quote.is_quote);

    let mut returns = app.returns(Auth::key(&key));
    let split = resolve(&mut returns, &id).await;
    assert!(!split.is_quote);
    // Supplier 60.00 less its 10% restocking fee; the seller the rest plus the refunded outbound
    // delivery; the customer its label. Refund: 100.00 + 5.00 - 7.00.
    assert_eq!(total(&split, pb::Party::Supplier), 5400);
    assert_eq!(
        borne(&split, pb::Party::Seller, pb::CostComponent::ItemPrice),
        4600
    );
    assert_eq!(
        borne(
            &split,
            pb::Party::Seller,
            pb::CostComponent::OutboundShipping
        ),
        500
    );
    assert_eq!(total(&split, pb::Party::Customer), 700);
    assert_eq!(split.customer_refund.as_ref().unwrap().amount_minor, 9800);
    assert_eq!(
        split.supplier_net_to_seller.as_ref().unwrap().amount_minor,
        5400
    );

    // Nothing changed between them: the quote is the final split.
    assert_eq!(quote.allocations, split.allocations);
    assert_eq!(quote.totals, split.totals);
    assert_eq!(quote.customer_refund, split.customer_refund);

    let stored = liability(&app, &key)
        .get_liability_split(pb::GetLiabilitySplitRequest {
            return_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .split
        .unwrap();
    assert_eq!(stored, split, "the final split is stored as resolved");

    let resolved = returns
        .get_return(pb::GetReturnRequest { return_id: id })
        .await
        .unwrap()
        .into_inner()
        .return_case
        .unwrap();
    let record = resolved.resolution.unwrap();
    assert_eq!(record.customer_refund.unwrap().amount_minor, 9800);
}

#[tokio::test]
async fn a_defect_under_full_retail_coverage_is_borne_by_the_supplier() {
    let app = spawn_app().await;
    let (key, supplier) = seller(&app, "acme", terms()).await;
    let id = inspected(&app, &key, 1, defective(&supplier, "O-1")).await;
    let split = resolve(&mut app.returns(Auth::key(&key)), &id).await;
    assert_eq!(total(&split, pb::Party::Supplier), 11200);
    assert_eq!(split.customer_refund.unwrap().amount_minor, 10500);
}

#[tokio::test]
async fn a_defect_under_wholesale_coverage_leaves_the_margin_and_delivery_with_the_seller() {
    let app = spawn_app().await;
    let wholesale = pb::ContractTerms {
        defect_coverage: pb::DefectCoverage::Wholesale as i32,
        ..terms()
    };
    let (key, supplier) = seller(&app, "acme", wholesale).await;
    let id = inspected(&app, &key, 1, defective(&supplier, "O-1")).await;
    let split = resolve(&mut app.returns(Auth::key(&key)), &id).await;
    assert_eq!(total(&split, pb::Party::Supplier), 6700);
    assert_eq!(total(&split, pb::Party::Seller), 4500);
}

#[tokio::test]
async fn a_split_exists_only_once_the_return_is_resolved() {
    let app = spawn_app().await;
    let (key, supplier) = seller(&app, "acme", terms()).await;
    let id = inspected(&app, &key, 1, worked_example(&supplier, "O-1")).await;
    let mut client = liability(&app, &key);
    let err = client
        .get_liability_split(pb::GetLiabilitySplitRequest { return_id: id })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err), "RETURN_NOT_RESOLVED");
    let err = client
        .get_liability_split(pb::GetLiabilitySplitRequest {
            return_id: uuid::Uuid::now_v7().to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn a_hypothetical_quote_decides_and_splits_without_storing_anything() {
    let app = spawn_app().await;
    let (key, supplier) = seller(&app, "acme", terms()).await;
    let quoted = liability(&app, &key)
        .quote_liability(pb::QuoteLiabilityRequest {
            subject: Some(pb::quote_liability_request::Subject::Hypothetical(
                worked_example(&supplier, "O-9"),
            )),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        quoted.decision.unwrap().outcome,
        pb::DecisionOutcome::Authorized as i32
    );
    assert_eq!(
        total(quoted.split.as_ref().unwrap(), pb::Party::Supplier),
        5400
    );
    let listed = app
        .returns(Auth::key(&key))
        .list_returns(pb::ListReturnsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.returns.is_empty(), "a quote has no side effect");

    let mut bad = worked_example(&supplier, "O-9");
    bad.items[0].quantity = 0;
    let err = liability(&app, &key)
        .quote_liability(pb::QuoteLiabilityRequest {
            subject: Some(pb::quote_liability_request::Subject::Hypothetical(bad)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["hypothetical.items[0].quantity"]);
}

#[tokio::test]
async fn a_settlement_statement_pages_its_lines_and_its_totals_are_their_sum() {
    let app = spawn_app().await;
    let (key, supplier) = seller(&app, "acme", terms()).await;
    let requests = [
        worked_example(&supplier, "O-1"),
        defective(&supplier, "O-2"),
        worked_example(&supplier, "O-3"),
    ];
    for (n, request) in requests.into_iter().enumerate() {
        let id = inspected(&app, &key, n as u32, request).await;
        resolve(&mut app.returns(Auth::key(&key)), &id).await;
    }
    let period = pb::TimeRange {
        start_time: Some(ts(Utc::now() - Duration::days(1))),
        end_time: Some(ts(Utc::now() + Duration::days(1))),
    };
    let mut client = liability(&app, &key);
    let mut lines = Vec::new();
    let mut page_token = String::new();
    let totals = loop {
        let page = client
            .get_settlement_statement(pb::GetSettlementStatementRequest {
                supplier_id: supplier.clone(),
                period: Some(period),
                currency_code: "EUR".into(),
                page_size: 2,
                page_token,
            })
            .await
            .unwrap()
            .into_inner();
        lines.extend(page.lines);
        if page.next_page_token.is_empty() {
            break page.totals.unwrap();
        }
        page_token = page.next_page_token;
    };
    assert_eq!(lines.len(), 3);
    assert_eq!(totals.line_count, 3);
    let sum = |f: fn(&pb::SettlementLine) -> &Option<pb::Money>| -> i64 {
        lines
            .iter()
            .map(|l| f(l).as_ref().unwrap().amount_minor)
            .sum()
    };
    assert_eq!(
        totals.supplier_owes_seller.unwrap().amount_minor,
        sum(|l| &l.supplier_owes_seller)
    );
    assert_eq!(
        totals.seller_owes_supplier.unwrap().amount_minor,
        sum(|l| &l.seller_owes_supplier)
    );
    assert_eq!(totals.net.unwrap().amount_minor, sum(|l| &l.net));
    assert_eq!(sum(|l| &l.net), 5400 + 11200 + 5400);

    // Another currency has nothing; bad input is named; another seller's supplier is not found.
    let empty = client
        .get_settlement_statement(pb::GetSettlementStatementRequest {
            supplier_id: supplier.clone(),
            period: Some(period),
            currency_code: "USD".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(empty.lines.is_empty());
    let err = client
        .get_settlement_statement(pb::GetSettlementStatementRequest {
            supplier_id: supplier.clone(),
            period: Some(pb::TimeRange {
                start_time: period.end_time,
                end_time: period.start_time,
            }),
            currency_code: "EURO".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["currency_code", "period"]);
    let other = app.seller_key("globex").await;
    let err = liability(&app, &other)
        .get_settlement_statement(pb::GetSettlementStatementRequest {
            supplier_id: supplier,
            period: Some(period),
            currency_code: "EUR".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn a_split_applies_the_seller_settings_of_its_decision_not_todays() {
    let app = spawn_app().await;
    let (key, supplier) = seller(&app, "acme", terms()).await;
    let mut contracts = app.contracts(Auth::key(&key));
    let fee = |bps: i32, expected_version: i64| pb::UpdateSellerSettingsRequest {
        settings: Some(pb::SellerSettings {
            customer_restocking_fee_bps: bps,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["customer_restocking_fee_bps".into()],
        }),
        expected_version,
        rotate_event_webhook_secret: false,
    };
    contracts
        .update_seller_settings(fee(1000, 0))
        .await
        .unwrap();
    // No statutory withdrawal in the US, so the seller's own 10% fee applies to a change of mind.
    let mut request = worked_example(&supplier, "ORDER-DRIFT");
    if let Some(order) = request.order.as_mut() {
        order.customer_jurisdiction = "US".into();
    }
    let id = inspected(&app, &key, 1, request).await;
    let mut returns = app.returns(Auth::key(&key));
    let quoted = quote(&app, &key, &id).await;
    let customer_fee = borne(&quoted, pb::Party::Customer, pb::CostComponent::ItemPrice);
    assert_eq!(customer_fee, 1000, "10% of 2 x 50.00 EUR");

    contracts.update_seller_settings(fee(0, 1)).await.unwrap();
    let split = resolve(&mut returns, &id).await;
    assert_eq!(
        borne(&split, pb::Party::Customer, pb::CostComponent::ItemPrice),
        customer_fee
    );
    assert_eq!(split.allocations, quoted.allocations);
}
