//! The seller's event webhook through the real server: every event of the tenant's returns is POSTed
//! to `event_webhook_url`, signed with the seller's own secret per Standard Webhooks, each return's
//! events in order even when an attempt fails, and only what happens while the webhook is on.
//! SQLite, or PostgreSQL with `TEST_DATABASE_URL`.

use chrono::Utc;
use returnbridge_core::clock::ManualClock;
use returnbridge_proto::v1 as pb;
use returnbridge_store::Recipient;
use returnbridge_tests::fixtures::{authorize, cancel_request, changed_mind, return_events};
use returnbridge_tests::supplier_mock::{MockSupplier, Received};
use returnbridge_tests::webhooks::{attempts, seller_with_webhook_supplier, verified};
use returnbridge_tests::{Auth, TestApp, spawn_app};
use std::sync::Arc;
use std::time::Duration;

/// Points the seller's event webhook at `url`; the signing secret issued for it.
async fn turn_on_event_webhook(app: &TestApp, key: &str, url: &str) -> String {
    let updated = app
        .contracts(Auth::key(key))
        .update_seller_settings(pb::UpdateSellerSettingsRequest {
            settings: Some(pb::SellerSettings {
                event_webhook_url: url.into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["event_webhook_url".into()],
            }),
            expected_version: 0,
            rotate_event_webhook_secret: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(updated.event_webhook_signing_secret.starts_with("whsec_"));
    updated.event_webhook_signing_secret
}

/// The return's events once there are `n` (waits up to 15 s).
async fn events_once(app: &TestApp, key: &str, id: &str, n: usize) -> Vec<pb::ReturnEvent> {
    for _ in 0..300 {
        let events = return_events(app, key, id).await;
        if events.len() >= n {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} events on return {id}");
}

/// What the webhook received, verified with `secret`: (type, sequence, return id) each.
fn posted(requests: &[Received], secret: &str) -> Vec<(String, i64, String)> {
    requests
        .iter()
        .map(|r| {
            let body = verified(r, secret);
            let data = &body["data"];
            assert_eq!(data["eventId"].as_str().map(str::len), Some(36), "{body}");
            (
                body["type"].as_str().unwrap().to_owned(),
                data["sequence"].as_str().unwrap().parse().unwrap(),
                data["returnId"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The same for the events as the seller's API shows them.
fn shown(events: &[pb::ReturnEvent]) -> Vec<(String, i64, String)> {
    events
        .iter()
        .map(|e| {
            (
                returnbridge_gateway::webhook::seller_event_type(e),
                e.sequence,
                e.return_id.clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_the_sellers_webhook_signed_with_its_secret_in_order() {
    let app = spawn_app().await;
    let supplier = MockSupplier::accepting().await;
    let seller = MockSupplier::accepting().await;
    let (key, supplier_id, supplier_secret) =
        seller_with_webhook_supplier(&app, "acme", &supplier.url()).await;
    let secret = turn_on_event_webhook(&app, &key, &seller.url()).await;
    assert_ne!(secret, supplier_secret);

    let authorized = authorize(&app, &key, changed_mind(&supplier_id, "ORDER-1")).await;
    // Decided, then the supplier's request delivered; then the seller cancels.
    events_once(&app, &key, &authorized.return_id, 2).await;
    app.returns(Auth::key(&key))
        .cancel_return(cancel_request(&authorized.return_id, 2))
        .await
        .unwrap();
    let events = events_once(&app, &key, &authorized.return_id, 3).await;
    assert_eq!(events.len(), 3);

    let received = seller.wait_for(3).await;
    assert_eq!(posted(&received, &secret), shown(&events));
    assert_eq!(
        posted(&received, &secret)
            .iter()
            .map(|(t, _, _)| t.as_str())
            .collect::<Vec<_>>(),
        [
            "return.decided",
            "return.supplier_request_delivered",
            "return.cancelled"
        ]
    );
    let ids: std::collections::HashSet<_> =
        received.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids.len(), 3, "one message id per event");
    // Recorded beside the supplier's attempts, as the seller's.
    let recorded = attempts(&app, "acme", &authorized.return_id, 4).await;
    let to_seller = recorded
        .iter()
        .filter(|a| a.recipient == Recipient::Seller)
        .count();
    assert_eq!((recorded.len(), to_seller), (4, 3), "{recorded:?}");
    // Sent once each.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(seller.received().len(), 3);
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_holds_back_the_returns_later_events_until_it_is_delivered() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = returnbridge_tests::spawn_app_with_clock(clock.clone()).await;
    let supplier = MockSupplier::accepting().await;
    // The first event fails once; everything after is taken.
    let seller = MockSupplier::answering(&[503]).await;
    let (key, supplier_id, _) = seller_with_webhook_supplier(&app, "acme", &supplier.url()).await;
    let secret = turn_on_event_webhook(&app, &key, &seller.url()).await;

    let authorized = authorize(&app, &key, changed_mind(&supplier_id, "ORDER-1")).await;
    events_once(&app, &key, &authorized.return_id, 2).await;
    app.returns(Auth::key(&key))
        .cancel_return(cancel_request(&authorized.return_id, 2))
        .await
        .unwrap();
    seller.wait_for(1).await;
    // The retry waits 5 s (±20%) of the server's clock: the later events wait with it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        seller.received().len(),
        1,
        "nothing overtakes the failed event"
    );

    clock.advance(chrono::Duration::seconds(7));
    let received = seller.wait_for(4).await;
    let sequence: Vec<i64> = posted(&received, &secret)
        .iter()
        .map(|(_, seq, _)| *seq)
        .collect();
    let events = return_events(&app, &key, &authorized.return_id).await;
    let first = events[0].sequence;
    assert_eq!(
        sequence,
        [first, first, events[1].sequence, events[2].sequence],
        "the failed event again, then the rest in order"
    );
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_events_while_the_webhook_is_on_are_sent() {
    let app = spawn_app().await;
    let supplier = MockSupplier::accepting().await;
    let seller = MockSupplier::accepting().await;
    let (key, supplier_id, _) = seller_with_webhook_supplier(&app, "acme", &supplier.url()).await;
    let before = authorize(&app, &key, changed_mind(&supplier_id, "ORDER-1")).await;
    events_once(&app, &key, &before.return_id, 2).await;

    let secret = turn_on_event_webhook(&app, &key, &seller.url()).await;
    let after = authorize(&app, &key, changed_mind(&supplier_id, "ORDER-2")).await;
    let events = events_once(&app, &key, &after.return_id, 2).await;
    let received = seller.wait_for(2).await;
    assert_eq!(posted(&received, &secret), shown(&events));

    // Turned off: the next return's events are passed over, not kept for later.
    app.contracts(Auth::key(&key))
        .update_seller_settings(pb::UpdateSellerSettingsRequest {
            settings: Some(pb::SellerSettings::default()),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["event_webhook_url".into()],
            }),
            expected_version: 0,
            rotate_event_webhook_secret: false,
        })
        .await
        .unwrap();
    let off = authorize(&app, &key, changed_mind(&supplier_id, "ORDER-3")).await;
    events_once(&app, &key, &off.return_id, 2).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(seller.received().len(), 2);
    app.stop().await.unwrap();
}
