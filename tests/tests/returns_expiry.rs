//! The expiry sweep on a manual clock: AUTHORIZED returns not shipped by ship_by become EXPIRED,
//! once; shipped or pending returns never do.

use chrono::{Duration, Utc};
use returnbridge_core::clock::ManualClock;
use returnbridge_proto::v1 as pb;
use returnbridge_tests::fixtures::{
    authorize, cancel_request, changed_mind, defective, get_return, return_events,
    seller_with_supplier, ship_request, supplier_decides_terms, supplier_with_contract, tees,
};
use returnbridge_tests::{Auth, TestApp, reason, spawn_app_with_clock};
use std::sync::Arc;
use tonic::Code;

/// The seller's default ship-by period.
const SHIP_BY_DAYS: i64 = 14;

async fn app_with_clock() -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    (spawn_app_with_clock(clock.clone()).await, clock)
}

#[tokio::test]
async fn an_authorized_return_not_shipped_by_ship_by_expires_once() {
    let (app, clock) = app_with_clock().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let authorized_at = clock_now(&clock);
    let r = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;
    let ship_by = r.ship_by.unwrap();
    assert_eq!(
        ship_by.seconds,
        (authorized_at + Duration::days(SHIP_BY_DAYS)).timestamp(),
        "ship_by follows the server's clock and the seller's 14-day default"
    );

    clock.advance(Duration::days(SHIP_BY_DAYS) - Duration::minutes(1));
    assert_eq!(app.expire_overdue().await, 0, "not overdue yet");
    assert_eq!(
        get_return(&app, &key, &r.return_id).await.status,
        pb::ReturnStatus::Authorized as i32
    );

    clock.advance(Duration::minutes(2));
    assert_eq!(app.expire_overdue().await, 1);
    let expired = get_return(&app, &key, &r.return_id).await;
    assert_eq!(expired.status, pb::ReturnStatus::Expired as i32);
    assert_eq!(expired.version, 2);
    assert!(expired.close_time.is_some());
    let events = return_events(&app, &key, &r.return_id).await;
    let last = events.last().unwrap();
    assert_eq!(last.event_type, pb::ReturnEventType::Expired as i32);
    assert_eq!(last.from_status, pb::ReturnStatus::Authorized as i32);
    assert_eq!(last.to_status, pb::ReturnStatus::Expired as i32);
    assert_eq!(
        last.actor.as_ref().unwrap().kind,
        pb::ActorKind::System as i32
    );
    assert_eq!(events.len(), 2);

    assert_eq!(
        app.expire_overdue().await,
        0,
        "a second sweep finds nothing"
    );
    assert_eq!(get_return(&app, &key, &r.return_id).await, expired);
    assert_eq!(return_events(&app, &key, &r.return_id).await.len(), 2);
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<Utc> {
    use returnbridge_core::clock::Clock;
    clock.now()
}

#[tokio::test]
async fn a_shipped_return_never_expires() {
    let (app, clock) = app_with_clock().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let shipped = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;
    let idle = authorize(&app, &key, changed_mind(&supplier, "ORDER-2")).await;
    app.returns(Auth::key(&key))
        .record_shipment(ship_request(&shipped.return_id, 1))
        .await
        .unwrap();
    clock.advance(Duration::days(365));
    assert_eq!(app.expire_overdue().await, 1);
    assert_eq!(
        get_return(&app, &key, &shipped.return_id).await.status,
        pb::ReturnStatus::InTransit as i32
    );
    assert_eq!(
        get_return(&app, &key, &idle.return_id).await.status,
        pb::ReturnStatus::Expired as i32
    );
}

#[tokio::test]
async fn returns_pending_the_supplier_rejected_or_cancelled_never_expire() {
    let (app, clock) = app_with_clock().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let mut contracts = app.contracts(Auth::key(&key));
    let deciding = supplier_with_contract(&mut contracts, supplier_decides_terms()).await;
    let photo = ["https://photos.example/broken.jpg"];
    let pending = authorize(&app, &key, defective(&deciding, "ORDER-1", &photo)).await;
    assert_eq!(pending.status, pb::ReturnStatus::PendingSupplier as i32);
    let rejected = authorize(&app, &key, defective(&supplier, "ORDER-2", &[])).await;
    assert_eq!(rejected.status, pb::ReturnStatus::Rejected as i32);
    let cancelled = authorize(&app, &key, changed_mind(&supplier, "ORDER-3")).await;
    app.returns(Auth::key(&key))
        .cancel_return(cancel_request(&cancelled.return_id, 1))
        .await
        .unwrap();
    clock.advance(Duration::days(365));
    assert_eq!(app.expire_overdue().await, 0);
    assert_eq!(
        get_return(&app, &key, &pending.return_id).await.status,
        pb::ReturnStatus::PendingSupplier as i32
    );
}

#[tokio::test]
async fn an_expired_return_is_final_and_frees_its_units() {
    let (app, clock) = app_with_clock().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let r = authorize(&app, &key, tees(&supplier, "ORDER-1", 2)).await;
    clock.advance(Duration::days(SHIP_BY_DAYS + 1));
    assert_eq!(app.expire_overdue().await, 1);

    let mut c = app.returns(Auth::key(&key));
    let err = c
        .record_shipment(ship_request(&r.return_id, 2))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err), "RETURN_STATUS_CONFLICT");
    let err = c
        .cancel_return(cancel_request(&r.return_id, 2))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err), "RETURN_STATUS_CONFLICT");
    assert_eq!(get_return(&app, &key, &r.return_id).await.version, 2);

    // Both tees can be returned again (day 20 after delivery: inside the contract's 30 days).
    let again = authorize(&app, &key, tees(&supplier, "ORDER-1", 2)).await;
    assert_eq!(
        again.status,
        pb::ReturnStatus::Authorized as i32,
        "{again:#?}"
    );
}

#[tokio::test]
async fn the_sweep_expires_every_overdue_return_of_every_tenant() {
    let (app, clock) = app_with_clock().await;
    let (acme, acme_supplier) = seller_with_supplier(&app, "acme").await;
    let (globex, globex_supplier) = seller_with_supplier(&app, "globex").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let order = format!("ORDER-{i}");
        ids.push((
            acme.clone(),
            authorize(&app, &acme, changed_mind(&acme_supplier, &order)).await,
        ));
        ids.push((
            globex.clone(),
            authorize(&app, &globex, changed_mind(&globex_supplier, &order)).await,
        ));
    }
    clock.advance(Duration::days(SHIP_BY_DAYS + 1));
    assert_eq!(app.expire_overdue().await, 6);
    for (key, r) in ids {
        assert_eq!(
            get_return(&app, &key, &r.return_id).await.status,
            pb::ReturnStatus::Expired as i32
        );
    }
}
