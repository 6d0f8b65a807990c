//! Statutory periods counted as the law counts them, through the real server on a manual clock: the
//! EU withdrawal runs to the end of its last local day (a weekend last day runs on to Monday), the
//! time zone is stored and returned, an unknown zone is refused by field, and without a zone the
//! decision says it took the most generous reading.

use chrono::{DateTime, Datelike, Days, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use returnbridge_core::clock::ManualClock;
use returnbridge_proto::v1 as pb;
use returnbridge_tests::fixtures::{
    changed_mind, get_return, list_returns, supplier_with_contract, terms,
};
use returnbridge_tests::{Auth, TestApp, spawn_app_with_clock, violated_fields};
use std::sync::Arc;
use tonic::{Code, Status};

const BERLIN: Tz = chrono_tz::Europe::Berlin;

/// When the EU withdrawal period of goods delivered at `delivered` to a Berlin customer ends,
/// counted here independently of the domain: 14 days after the local day of delivery, a Saturday or
/// Sunday last day run on to Monday, ending at the start of the next Berlin day.
fn berlin_withdrawal_end(delivered: DateTime<Utc>) -> DateTime<Utc> {
    let mut last = delivered.with_timezone(&BERLIN).date_naive() + Days::new(14);
    while matches!(last.weekday(), Weekday::Sat | Weekday::Sun) {
        last = last + Days::new(1);
    }
    let next = (last + Days::new(1)).and_time(NaiveTime::MIN);
    // Berlin's clocks change at 02:00 and 03:00, never at midnight.
    BERLIN.from_local_datetime(&next).unwrap().to_utc()
}

/// A return of both tees of an order delivered at `delivered` to a customer in `zone` (EU).
fn request(
    supplier: &str,
    order_id: &str,
    delivered: DateTime<Utc>,
    zone: &str,
) -> pb::AuthorizeReturnRequest {
    let mut req = changed_mind(supplier, order_id);
    let order = req.order.as_mut().unwrap();
    order.delivery_time = Some(returnbridge_tests::fixtures::ts(delivered));
    order.order_time = Some(returnbridge_tests::fixtures::ts(
        delivered - Duration::days(3),
    ));
    order.customer_time_zone = zone.into();
    req
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

fn codes(r: &pb::Return) -> Vec<String> {
    let d = r.decision.as_ref().unwrap();
    d.reasons.iter().map(|r| r.code.clone()).collect()
}

/// A seller whose supplier takes no-fault returns for 7 days only, so the statute alone decides
/// after that; the server's clock starts at `now`.
async fn seller(now: DateTime<Utc>) -> (TestApp, Arc<ManualClock>, String, String) {
    let clock = Arc::new(ManualClock::new(now));
    let app = spawn_app_with_clock(clock.clone()).await;
    let key = app.seller_key("acme").await;
    let mut contracts = app.contracts(Auth::key(&key));
    let short = pb::ContractTerms {
        return_window_days: 7,
        ..terms()
    };
    let supplier = supplier_with_contract(&mut contracts, short).await;
    (app, clock, key, supplier)
}

#[tokio::test]
async fn a_withdrawal_a_minute_before_the_end_of_the_local_last_day_is_authorized_and_a_minute_after_is_not()
 {
    // Delivered ten days ago, at 23:30 UTC: already the next day in Berlin, so counting the UTC date
    // or delivery + 14 x 24 h would end the period a day early.
    let delivered = (Utc::now() - Duration::days(10))
        .date_naive()
        .and_hms_opt(23, 30, 0)
        .unwrap()
        .and_utc();
    let legal_end = berlin_withdrawal_end(delivered);
    assert!(legal_end > delivered + Duration::days(14) + Duration::minutes(30));
    let (app, clock, key, supplier) = seller(legal_end - Duration::minutes(1)).await;

    let within = send(
        &app,
        &key,
        request(&supplier, "ORDER-1", delivered, "Europe/Berlin"),
    )
    .await
    .expect("authorize");
    let d = within.decision.clone().unwrap();
    assert_eq!(d.outcome, pb::DecisionOutcome::Authorized as i32, "{d:#?}");
    assert_eq!(d.basis, pb::Basis::Statute as i32);
    assert!(d.policy_gap);
    assert_eq!(
        codes(&within),
        ["RETURN_WINDOW_EXPIRED", "STATUTORY_WITHDRAWAL"]
    );
    let message = &d.reasons[1].message;
    assert!(message.contains("Europe/Berlin"), "{message}");
    // The zone and the flag are stored with the return and returned as given.
    let stored = get_return(&app, &key, &within.return_id).await;
    assert_eq!(stored, within);
    let order = stored.order.unwrap();
    assert_eq!(order.customer_time_zone, "Europe/Berlin");
    assert!(!order.customer_extended_cancellation_right);

    clock.advance(Duration::minutes(2));
    let after = send(
        &app,
        &key,
        request(&supplier, "ORDER-2", delivered, "Europe/Berlin"),
    )
    .await
    .expect("authorize");
    let d = after.decision.clone().unwrap();
    assert_eq!(d.outcome, pb::DecisionOutcome::Rejected as i32, "{d:#?}");
    assert_eq!(
        codes(&after),
        ["RETURN_WINDOW_EXPIRED", "STATUTORY_WINDOW_EXPIRED"]
    );
}

#[tokio::test]
async fn without_a_time_zone_the_decision_takes_the_most_generous_reading_and_says_so() {
    let delivered = (Utc::now() - Duration::days(10))
        .date_naive()
        .and_hms_opt(23, 30, 0)
        .unwrap()
        .and_utc();
    // A minute after the Berlin end is still inside the period read anywhere on Earth.
    let (app, _clock, key, supplier) =
        seller(berlin_withdrawal_end(delivered) + Duration::minutes(1)).await;
    let r = send(&app, &key, request(&supplier, "ORDER-1", delivered, ""))
        .await
        .expect("authorize");
    let d = r.decision.clone().unwrap();
    assert_eq!(d.outcome, pb::DecisionOutcome::Authorized as i32, "{d:#?}");
    assert_eq!(
        codes(&r),
        [
            "RETURN_WINDOW_EXPIRED",
            "STATUTORY_WITHDRAWAL",
            "STATUTORY_PERIOD_WITHOUT_TIME_ZONE"
        ]
    );
    let note = &d.reasons[2];
    assert!(
        note.message.contains("customer_time_zone not given"),
        "{}",
        note.message
    );
    assert_eq!(note.clauses[0].source, pb::ClauseSource::Statute as i32);
    assert_eq!(
        get_return(&app, &key, &r.return_id)
            .await
            .order
            .unwrap()
            .customer_time_zone,
        ""
    );
}

#[tokio::test]
async fn an_unknown_time_zone_is_invalid_argument_on_its_field_and_stores_nothing() {
    let (app, _clock, key, supplier) = seller(Utc::now()).await;
    for bad in ["Europe/Atlantis", "europe/berlin", "UTC+2"] {
        let req = request(&supplier, "ORDER-1", Utc::now() - Duration::days(3), bad);
        let err = send(&app, &key, req).await.expect_err("refused");
        assert_eq!(err.code(), Code::InvalidArgument, "{bad}: {err:?}");
        assert_eq!(violated_fields(&err), ["order.customer_time_zone"], "{bad}");
    }
    assert!(list_returns(&app, &key).await.is_empty());
}

#[tokio::test]
async fn an_israeli_customer_with_the_extended_right_may_cancel_after_fourteen_days() {
    let (app, _clock, key, supplier) = seller(Utc::now()).await;
    let mut req = request(
        &supplier,
        "ORDER-1",
        Utc::now() - Duration::days(40),
        "Asia/Jerusalem",
    );
    let order = req.order.as_mut().unwrap();
    order.customer_jurisdiction = "IL".into();
    order.customer_extended_cancellation_right = true;
    let r = send(&app, &key, req).await.expect("authorize");
    let d = r.decision.clone().unwrap();
    assert_eq!(d.outcome, pb::DecisionOutcome::Authorized as i32, "{d:#?}");
    assert_eq!(
        codes(&r),
        [
            "RETURN_WINDOW_EXPIRED",
            "STATUTORY_WITHDRAWAL",
            "EXTENDED_CANCELLATION_RIGHT"
        ]
    );
    assert!(d.reasons[1].clauses[0].article.contains("14C(c1)"));
    assert!(
        get_return(&app, &key, &r.return_id)
            .await
            .order
            .unwrap()
            .customer_extended_cancellation_right
    );
}
