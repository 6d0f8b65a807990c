//! Bad AuthorizeReturn input: INVALID_ARGUMENT naming every field by its proto path, and nothing
//! stored; an unknown supplier is NOT_FOUND and one without a contract at the order time is
//! FAILED_PRECONDITION.

use chrono::{Duration, Utc};
use returnbridge_proto::v1 as pb;
use returnbridge_tests::fixtures::{
    changed_mind, eur, list_returns, seller_with_supplier, terms, ts,
};
use returnbridge_tests::{Auth, TestApp, reason, spawn_app, violated_fields};
use tonic::{Code, Status};

/// The worked-example return of both tees, changed by `edit`.
fn edited(
    supplier: &str,
    edit: impl FnOnce(&mut pb::AuthorizeReturnRequest),
) -> pb::AuthorizeReturnRequest {
    let mut req = changed_mind(supplier, "ORDER-1");
    edit(&mut req);
    req
}

fn order(req: &mut pb::AuthorizeReturnRequest) -> &mut pb::OrderFacts {
    req.order.as_mut().unwrap()
}

fn money(currency: &str, amount_minor: i64) -> pb::Money {
    pb::Money {
        currency_code: currency.into(),
        amount_minor,
    }
}

async fn send(
    app: &TestApp,
    key: &str,
    req: pb::AuthorizeReturnRequest,
) -> Result<pb::Return, Status> {
    let idempotency = uuid::Uuid::new_v4().to_string();
    app.returns(Auth::key(key).idempotent(&idempotency))
        .authorize_return(req)
        .await
        .map(|r| r.into_inner().return_case.unwrap())
}

/// The request is INVALID_ARGUMENT naming exactly `fields`, and the seller still has no return.
async fn refused(app: &TestApp, key: &str, req: pb::AuthorizeReturnRequest, fields: &[&str]) {
    let err = send(app, key, req)
        .await
        .expect_err(&format!("a request violating {fields:?} must be refused"));
    assert_eq!(err.code(), Code::InvalidArgument, "{fields:?}: {err:?}");
    assert_eq!(violated_fields(&err), fields, "{err:?}");
    assert!(
        list_returns(app, key).await.is_empty(),
        "{fields:?}: a refused request stores nothing"
    );
}

#[tokio::test]
async fn a_request_without_an_order_or_items_or_with_over_a_hundred_items_is_invalid() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    refused(&app, &key, edited(&s, |r| r.order = None), &["order"]).await;
    refused(&app, &key, edited(&s, |r| r.items.clear()), &["items"]).await;
    let many = edited(&s, |r| {
        r.items = (0..101)
            .map(|i| pb::ReturnItem {
                sku: format!("SKU-{i}"),
                quantity: 1,
            })
            .collect();
        order(r).lines = (0..101)
            .map(|i| pb::OrderLine {
                sku: format!("SKU-{i}"),
                category: "apparel/tops".into(),
                quantity: 1,
                unit_price: Some(eur(100)),
                unit_cost: Some(eur(50)),
            })
            .collect();
    });
    refused(&app, &key, many, &["items"]).await;
}

#[tokio::test]
async fn items_must_name_order_lines_once_each() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    refused(
        &app,
        &key,
        edited(&s, |r| r.items[0].sku = "NOT-ON-ORDER".into()),
        &["items[0].sku"],
    )
    .await;
    refused(
        &app,
        &key,
        edited(&s, |r| {
            r.items[0].quantity = 1;
            r.items.push(r.items[0].clone());
        }),
        &["items[1].sku"],
    )
    .await;
}

#[tokio::test]
async fn quantities_outside_one_to_ten_thousand_are_invalid() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    for q in [0, -1, 10_001, i32::MIN] {
        refused(
            &app,
            &key,
            edited(&s, |r| r.items[0].quantity = q),
            &["items[0].quantity"],
        )
        .await;
        refused(
            &app,
            &key,
            edited(&s, |r| order(r).lines[0].quantity = q),
            &["order.lines[0].quantity"],
        )
        .await;
    }
}

#[tokio::test]
async fn returning_more_units_than_were_bought_is_invalid() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    refused(
        &app,
        &key,
        edited(&s, |r| r.items[0].quantity = 3),
        &["items[0].quantity"],
    )
    .await;
}

#[tokio::test]
async fn negative_amounts_are_invalid() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    refused(
        &app,
        &key,
        edited(&s, |r| order(r).lines[0].unit_price = Some(eur(-1))),
        &["order.lines[0].unit_price.amount_minor"],
    )
    .await;
    refused(
        &app,
        &key,
        edited(&s, |r| order(r).lines[1].unit_cost = Some(eur(-1))),
        &["order.lines[1].unit_cost.amount_minor"],
    )
    .await;
    refused(
        &app,
        &key,
        edited(&s, |r| order(r).outbound_shipping = Some(eur(-500))),
        &["order.outbound_shipping.amount_minor"],
    )
    .await;
    refused(
        &app,
        &key,
        edited(&s, |r| r.label_cost_estimate = Some(eur(i64::MIN))),
        &["label_cost_estimate.amount_minor"],
    )
    .await;
}

#[tokio::test]
async fn missing_prices_are_invalid() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    refused(
        &app,
        &key,
        edited(&s, |r| {
            order(r).lines[0].unit_price = None;
            order(r).lines[0].unit_cost = None;
        }),
        &["order.lines[0].unit_price", "order.lines[0].unit_cost"],
    )
    .await;
}

#[tokio::test]
async fn amounts_that_overflow_when_multiplied_or_summed_are_invalid() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    // 2 units of a price just over half of i64::MAX.
    refused(
        &app,
        &key,
        edited(&s, |r| {
            order(r).lines[0].unit_price = Some(eur(i64::MAX / 2 + 1))
        }),
        &["order.lines[0].unit_price.amount_minor"],
    )
    .await;
    refused(
        &app,
        &key,
        edited(&s, |r| order(r).lines[0].unit_cost = Some(eur(i64::MAX))),
        &["order.lines[0].unit_cost.amount_minor"],
    )
    .await;
    // Each line fits on its own, the order's total does not.
    refused(
        &app,
        &key,
        edited(&s, |r| {
            order(r).lines[0].unit_price = Some(eur(i64::MAX / 3));
            order(r).lines[0].unit_cost = Some(eur(i64::MAX / 3));
        }),
        &["order.lines"],
    )
    .await;
    // The order fits, the label on top of it does not.
    refused(
        &app,
        &key,
        edited(&s, |r| r.label_cost_estimate = Some(eur(i64::MAX - 100))),
        &["label_cost_estimate.amount_minor"],
    )
    .await;
}

#[tokio::test]
async fn a_currency_that_is_not_iso_4217_is_invalid() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    for code in ["XYZ", "eur", "EURO", ""] {
        refused(
            &app,
            &key,
            edited(&s, |r| order(r).currency_code = code.into()),
            &["order.currency_code"],
        )
        .await;
    }
    refused(
        &app,
        &key,
        edited(&s, |r| {
            order(r).lines[0].unit_price = Some(money("ZZZ", 5000))
        }),
        &["order.lines[0].unit_price.currency_code"],
    )
    .await;
}

#[tokio::test]
async fn mixed_currencies_in_one_request_are_invalid() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    refused(
        &app,
        &key,
        edited(&s, |r| {
            order(r).lines[0].unit_price = Some(money("USD", 5000))
        }),
        &["order.lines[0].unit_price.currency_code"],
    )
    .await;
    refused(
        &app,
        &key,
        edited(&s, |r| {
            order(r).lines[1].unit_cost = Some(money("GBP", 1500))
        }),
        &["order.lines[1].unit_cost.currency_code"],
    )
    .await;
    refused(
        &app,
        &key,
        edited(&s, |r| order(r).outbound_shipping = Some(money("USD", 500))),
        &["order.outbound_shipping.currency_code"],
    )
    .await;
    refused(
        &app,
        &key,
        edited(&s, |r| r.label_cost_estimate = Some(money("JPY", 700))),
        &["label_cost_estimate.currency_code"],
    )
    .await;
}

#[tokio::test]
async fn delivery_before_the_order_was_placed_is_invalid() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    refused(
        &app,
        &key,
        edited(&s, |r| {
            let o = order(r);
            std::mem::swap(&mut o.order_time, &mut o.delivery_time);
        }),
        &["order.delivery_time"],
    )
    .await;
}

#[tokio::test]
async fn missing_or_future_instants_are_invalid_beyond_a_few_minutes_of_skew() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    let hour_ahead = Some(ts(Utc::now() + Duration::hours(1)));
    refused(
        &app,
        &key,
        edited(&s, |r| {
            order(r).order_time = hour_ahead;
            order(r).delivery_time = hour_ahead;
        }),
        &["order.order_time", "order.delivery_time"],
    )
    .await;
    refused(
        &app,
        &key,
        edited(&s, |r| order(r).delivery_time = hour_ahead),
        &["order.delivery_time"],
    )
    .await;
    refused(
        &app,
        &key,
        edited(&s, |r| order(r).order_time = None),
        &["order.order_time"],
    )
    .await;
    refused(
        &app,
        &key,
        edited(&s, |r| order(r).delivery_time = None),
        &["order.delivery_time"],
    )
    .await;
    // A minute ahead is clock skew, not the future.
    let r = send(
        &app,
        &key,
        edited(&s, |r| {
            order(r).delivery_time = Some(ts(Utc::now() + Duration::minutes(1)));
        }),
    )
    .await
    .unwrap();
    assert_eq!(r.status, pb::ReturnStatus::Authorized as i32);
}

#[tokio::test]
async fn an_unknown_or_unspecified_reason_is_invalid() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    for raw in [99, 0, -1] {
        refused(&app, &key, edited(&s, |r| r.reason = raw), &["reason"]).await;
    }
}

#[tokio::test]
async fn an_unknown_jurisdiction_is_invalid() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    for code in ["XX", "", "eu"] {
        refused(
            &app,
            &key,
            edited(&s, |r| order(r).customer_jurisdiction = code.into()),
            &["order.customer_jurisdiction"],
        )
        .await;
    }
}

#[tokio::test]
async fn evidence_must_be_https_and_at_most_2048_characters() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    let long = format!("https://photos.example/{}", "a".repeat(2048));
    for bad in [
        "http://photos.example/a.jpg".to_owned(),
        "ftp://photos.example/a.jpg".to_owned(),
        "not a url".to_owned(),
        "https://user:pw@photos.example/a.jpg".to_owned(),
        long,
    ] {
        refused(
            &app,
            &key,
            edited(&s, |r| {
                r.evidence_uris = vec!["https://photos.example/ok.jpg".into(), bad.clone()];
            }),
            &["evidence_uris[1]"],
        )
        .await;
    }
    refused(
        &app,
        &key,
        edited(&s, |r| {
            r.evidence_uris = (0..21)
                .map(|i| format!("https://photos.example/{i}.jpg"))
                .collect();
        }),
        &["evidence_uris"],
    )
    .await;
    // Exactly 2048 characters is fine.
    let exact = format!("https://photos.example/{}", "a".repeat(2048 - 23));
    assert_eq!(exact.len(), 2048);
    send(&app, &key, edited(&s, |r| r.evidence_uris = vec![exact]))
        .await
        .unwrap();
}

#[tokio::test]
async fn over_long_customer_comment_and_external_reference_are_invalid() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    refused(
        &app,
        &key,
        edited(&s, |r| r.customer_comment = "é".repeat(2001)),
        &["customer_comment"],
    )
    .await;
    refused(
        &app,
        &key,
        edited(&s, |r| r.external_reference = "R".repeat(201)),
        &["external_reference"],
    )
    .await;
    // The limits count characters, and are inclusive.
    send(
        &app,
        &key,
        edited(&s, |r| {
            r.customer_comment = "é".repeat(2000);
            r.external_reference = "R".repeat(200);
        }),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn every_problem_of_a_request_is_named_at_once() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    refused(
        &app,
        &key,
        edited(&s, |r| {
            order(r).currency_code = "XYZ".into();
            r.items.clear();
            r.reason = 0;
            r.evidence_uris = vec!["http://photos.example/a.jpg".into()];
        }),
        &["order.currency_code", "items", "reason", "evidence_uris[0]"],
    )
    .await;
}

#[tokio::test]
async fn an_unknown_supplier_is_not_found_and_a_malformed_one_is_invalid() {
    let app = spawn_app().await;
    let (key, s) = seller_with_supplier(&app, "acme").await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let err = send(
        &app,
        &key,
        edited(&s, |r| order(r).supplier_id = unknown.clone()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(reason(&err), "SUPPLIER_NOT_FOUND");
    assert!(list_returns(&app, &key).await.is_empty());
    refused(
        &app,
        &key,
        edited(&s, |r| order(r).supplier_id = "acme-supply".into()),
        &["order.supplier_id"],
    )
    .await;
}

#[tokio::test]
async fn a_supplier_without_a_contract_in_effect_at_the_order_time_is_a_failed_precondition() {
    let app = spawn_app().await;
    let (key, _) = seller_with_supplier(&app, "acme").await;
    let mut contracts = app.contracts(Auth::key(&key));
    let create = || pb::CreateSupplierRequest {
        supplier: Some(pb::Supplier {
            display_name: "Initech".into(),
            connector: Some(pb::supplier::Connector::Webhook(pb::WebhookConnector {
                url: "https://initech.example/returns".into(),
            })),
            ..Default::default()
        }),
    };
    let no_contract = contracts
        .create_supplier(create())
        .await
        .unwrap()
        .into_inner()
        .supplier
        .unwrap()
        .supplier_id;
    // This one's first contract starts now, after the order (placed 8 days ago) was placed.
    let later = contracts
        .create_supplier(create())
        .await
        .unwrap()
        .into_inner()
        .supplier
        .unwrap()
        .supplier_id;
    contracts
        .publish_contract(pb::PublishContractRequest {
            supplier_id: later.clone(),
            effective_from: Some(ts(Utc::now())),
            terms: Some(terms()),
            description: "starts today".into(),
            expected_latest_version: 0,
        })
        .await
        .unwrap();
    for supplier in [no_contract, later] {
        let err = send(&app, &key, changed_mind(&supplier, "ORDER-1"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert_eq!(reason(&err), "NO_CONTRACT_IN_EFFECT");
    }
    assert!(list_returns(&app, &key).await.is_empty());
}
