use super::*;

const SUPPLIER: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z")
        .unwrap()
        .to_utc()
}

fn eur(amount_minor: i64) -> Option<MoneyInput> {
    Some(MoneyInput {
        currency: "EUR".into(),
        amount_minor,
    })
}

fn valid() -> ReturnRequestInput {
    ReturnRequestInput {
        order: Some(OrderFactsInput {
            order_id: "SO-1001".into(),
            supplier_id: SUPPLIER.into(),
            ordered_at: Some(now() - TimeDelta::days(10)),
            delivered_at: Some(now() - TimeDelta::days(5)),
            customer_jurisdiction: "DE".into(),
            customer_time_zone: String::new(),
            customer_extended_cancellation_right: false,
            currency: "EUR".into(),
            outbound_shipping: eur(500),
            lines: vec![OrderLineInput {
                sku: "TEE-M".into(),
                category: "apparel/shirts".into(),
                quantity: 2,
                unit_price: eur(5_000),
                unit_cost: eur(3_000),
            }],
        }),
        items: vec![ReturnItemInput {
            sku: "TEE-M".into(),
            quantity: 2,
        }],
        reason: Some(ReturnReason::ChangedMind),
        evidence_uris: vec![],
        label_cost_estimate: eur(700),
        customer_comment: String::new(),
    }
}

/// The field paths a request was refused for.
fn fields(input: ReturnRequestInput) -> Vec<String> {
    match input.parse(now()) {
        Err(DomainError::InvalidArgument(v)) => {
            v.as_slice().iter().map(|f| f.field.clone()).collect()
        }
        other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
    }
}

fn order(input: &mut ReturnRequestInput) -> &mut OrderFactsInput {
    input.order.as_mut().unwrap()
}

#[test]
fn a_complete_request_parses() {
    let r = valid().parse(now()).unwrap();
    assert_eq!(r.order.jurisdiction, Jurisdiction::Eu);
    assert_eq!(r.items[0].quantity, 2);
    assert_eq!(r.label_cost_estimate, Some(Money::new(Currency::EUR, 700)));
    assert_eq!(r.customer_comment, None);
}

#[test]
fn a_customer_time_zone_is_optional_and_must_be_an_iana_name() {
    assert_eq!(valid().parse(now()).unwrap().order.customer_time_zone, None);
    let mut r = valid();
    order(&mut r).customer_time_zone = "Europe/Berlin".into();
    order(&mut r).customer_extended_cancellation_right = true;
    let parsed = r.parse(now()).unwrap();
    assert_eq!(
        parsed.order.customer_time_zone,
        Some(chrono_tz::Europe::Berlin)
    );
    assert!(parsed.order.extended_cancellation_right);
    for bad in [
        "Europe/Atlantis",
        "europe/berlin",
        "CET+1",
        " Europe/Berlin",
        "+02:00",
    ] {
        let mut r = valid();
        order(&mut r).customer_time_zone = bad.into();
        assert_eq!(fields(r), ["order.customer_time_zone"], "{bad:?}");
    }
}

#[test]
fn missing_or_too_many_items_name_the_items_field() {
    let mut r = valid();
    r.items.clear();
    assert_eq!(fields(r), ["items"]);
    let mut r = valid();
    r.items = (0..101)
        .map(|_| ReturnItemInput {
            sku: "TEE-M".into(),
            quantity: 1,
        })
        .collect();
    assert_eq!(fields(r), ["items"]);
}

#[test]
fn quantities_outside_one_to_ten_thousand_name_the_item() {
    for q in [0, -1, 10_001] {
        let mut r = valid();
        r.items[0].quantity = q;
        assert_eq!(fields(r), ["items[0].quantity"], "{q}");
    }
}

#[test]
fn returning_more_units_than_bought_is_invalid() {
    let mut r = valid();
    r.items[0].quantity = 3;
    assert_eq!(fields(r), ["items[0].quantity"]);
}

#[test]
fn an_unknown_or_repeated_sku_names_the_item() {
    let mut r = valid();
    r.items[0].sku = "HAT".into();
    assert_eq!(fields(r), ["items[0].sku"]);
    let mut r = valid();
    r.items.push(ReturnItemInput {
        sku: "TEE-M".into(),
        quantity: 1,
    });
    assert_eq!(fields(r), ["items[1].sku"]);
}

#[test]
fn negative_amounts_name_the_amount() {
    let mut r = valid();
    order(&mut r).lines[0].unit_price = eur(-1);
    assert_eq!(fields(r), ["order.lines[0].unit_price.amount_minor"]);
}

#[test]
fn an_amount_that_overflows_when_multiplied_by_quantity_is_invalid() {
    let mut r = valid();
    order(&mut r).lines[0].unit_price = eur(i64::MAX / 2 + 1);
    assert_eq!(fields(r), ["order.lines[0].unit_price.amount_minor"]);
    let mut r = valid();
    order(&mut r).lines[0].quantity = 1;
    r.items[0].quantity = 1;
    order(&mut r).lines[0].unit_price = eur(i64::MAX - 10);
    assert_eq!(fields(r), ["order.lines"]);
}

#[test]
fn unknown_and_mixed_currencies_are_invalid() {
    let mut r = valid();
    order(&mut r).currency = "EURO".into();
    assert!(fields(r).contains(&"order.currency_code".to_owned()));
    let mut r = valid();
    r.label_cost_estimate = Some(MoneyInput {
        currency: "USD".into(),
        amount_minor: 700,
    });
    assert_eq!(fields(r), ["label_cost_estimate.currency_code"]);
    let mut r = valid();
    order(&mut r).lines[0].unit_cost = Some(MoneyInput {
        currency: "GBP".into(),
        amount_minor: 1,
    });
    assert_eq!(fields(r), ["order.lines[0].unit_cost.currency_code"]);
}

#[test]
fn delivery_before_the_order_is_invalid() {
    let mut r = valid();
    order(&mut r).delivered_at = Some(now() - TimeDelta::days(11));
    assert_eq!(fields(r), ["order.delivery_time"]);
}

#[test]
fn instants_more_than_five_minutes_ahead_are_invalid_but_small_skew_is_tolerated() {
    let mut r = valid();
    order(&mut r).delivered_at = Some(now() + TimeDelta::minutes(6));
    assert_eq!(fields(r), ["order.delivery_time"]);
    let mut r = valid();
    order(&mut r).delivered_at = Some(now() + TimeDelta::minutes(4));
    assert!(r.parse(now()).is_ok());
}

#[test]
fn an_unspecified_reason_is_invalid() {
    let mut r = valid();
    r.reason = None;
    assert_eq!(fields(r), ["reason"]);
}

#[test]
fn evidence_must_be_https_and_bounded() {
    let mut r = valid();
    r.evidence_uris = vec![
        "https://cdn.example/1.jpg".into(),
        "http://cdn.example/2.jpg".into(),
    ];
    assert_eq!(fields(r), ["evidence_uris[1]"]);
    let mut r = valid();
    r.evidence_uris = vec![format!("https://cdn.example/{}", "a".repeat(2048))];
    assert_eq!(fields(r), ["evidence_uris[0]"]);
}

#[test]
fn strings_over_their_limits_are_invalid() {
    let mut r = valid();
    r.customer_comment = "x".repeat(2_001);
    order(&mut r).order_id = "x".repeat(129);
    order(&mut r).lines[0].category = "Apparel".into();
    assert_eq!(
        fields(r),
        [
            "order.order_id",
            "order.lines[0].category",
            "customer_comment"
        ]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut r = valid();
    order(&mut r).supplier_id = "nope".into();
    order(&mut r).customer_jurisdiction = "Mars".into();
    r.reason = None;
    assert_eq!(
        fields(r),
        ["order.supplier_id", "order.customer_jurisdiction", "reason"]
    );
}

#[test]
fn a_missing_order_is_invalid() {
    let mut r = valid();
    r.order = None;
    assert_eq!(fields(r), ["order"]);
}

#[test]
fn an_order_without_lines_or_with_a_repeated_sku_is_invalid() {
    let mut r = valid();
    order(&mut r).lines.clear();
    assert!(fields(r).contains(&"order.lines".to_owned()));
    let mut r = valid();
    let line = order(&mut r).lines[0].clone();
    order(&mut r).lines.push(line);
    assert_eq!(fields(r), ["order.lines[1].sku"]);
}
