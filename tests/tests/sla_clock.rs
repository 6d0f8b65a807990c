//! The SLA clock runs in the server: a supplier deadline that passes unanswered is recorded once and
//! acted on as the contract says, through the real server, on the server's (manual) clock.

use chrono::{Duration, Utc};
use returnbridge_core::clock::ManualClock;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::SupplierId;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::sla_service_client::SlaServiceClient;
use returnbridge_proto::v1::supplier_callback_service_client::SupplierCallbackServiceClient;
use returnbridge_tests::fixtures::{
    authorize, defective, get_return, return_events, supplier_decides_terms, ts,
};
use returnbridge_tests::{Auth, TestApp, reason, sample, spawn_app_with_clock};
use std::sync::Arc;
use tonic::Code;

/// A seller whose supplier decides every return first under `action`, and a pending defect claim
/// by a customer no statute covers.
async fn pending_under(
    app: &TestApp,
    action: pb::SlaBreachAction,
    backup: Option<&str>,
) -> (String, String, pb::Return) {
    let seller = app.seller_key("acme").await;
    let mut contracts = app.contracts(Auth::key(&seller));
    let supplier = contracts
        .create_supplier(pb::CreateSupplierRequest {
            supplier: Some(pb::Supplier {
                display_name: "Slow Supply".into(),
                connector: Some(pb::supplier::Connector::Webhook(pb::WebhookConnector {
                    url: "https://slow.example/returns".into(),
                })),
                backup_supplier_id: backup.unwrap_or_default().into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .supplier
        .unwrap()
        .supplier_id;
    let mut terms = supplier_decides_terms();
    if let Some(sla) = terms.sla.as_mut() {
        sla.breach_action = action as i32;
    }
    contracts
        .publish_contract(pb::PublishContractRequest {
            supplier_id: supplier.clone(),
            effective_from: Some(ts(Utc::now() - Duration::days(365))),
            terms: Some(terms),
            description: "slow terms".into(),
            expected_latest_version: 0,
        })
        .await
        .unwrap();
    let mut request = defective(&supplier, "SO-1", &["https://photos.example/broken.jpg"]);
    if let Some(o) = request.order.as_mut() {
        o.customer_jurisdiction = "NONE".into();
    }
    let r = authorize(app, &seller, request).await;
    assert_eq!(r.status, pb::ReturnStatus::PendingSupplier as i32);
    (seller, supplier, r)
}

/// Waits (up to 5 s of real time) for the server's clock to have acted on the return.
async fn after_the_clock(app: &TestApp, key: &str, id: &str, kinds: usize) -> Vec<pb::ReturnEvent> {
    for _ in 0..50 {
        let events = return_events(app, key, id).await;
        if events.len() >= kinds {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the SLA clock did not act within 5 s");
}

fn kinds(events: &[pb::ReturnEvent]) -> Vec<pb::ReturnEventType> {
    events
        .iter()
        .map(|e| pb::ReturnEventType::try_from(e.event_type).unwrap())
        .collect()
}

async fn app() -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    (spawn_app_with_clock(clock.clone()).await, clock)
}

#[tokio::test]
async fn a_missed_ack_deadline_under_notify_is_recorded_once_and_counted() {
    let (app, clock) = app().await;
    let (seller, supplier, r) = pending_under(&app, pb::SlaBreachAction::Notify, None).await;
    clock.advance(Duration::hours(24) - Duration::seconds(1));
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(
        return_events(&app, &seller, &r.return_id).await.len(),
        1,
        "not due yet"
    );

    clock.advance(Duration::seconds(1));
    let events = after_the_clock(&app, &seller, &r.return_id, 2).await;
    assert_eq!(
        kinds(&events),
        [
            pb::ReturnEventType::Decided,
            pb::ReturnEventType::SlaBreached
        ]
    );
    let Some(pb::return_event::Detail::SlaBreach(breach)) = &events[1].detail else {
        panic!("{:?}", events[1]);
    };
    assert_eq!(breach.deadline_kind, pb::SlaDeadlineKind::Ack as i32);
    assert_eq!(breach.action, pb::SlaBreachAction::Notify as i32);
    // More ticks record nothing more, and the return still waits for its supplier.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(return_events(&app, &seller, &r.return_id).await.len(), 2);
    let seen = get_return(&app, &seller, &r.return_id).await;
    assert_eq!(seen.status, pb::ReturnStatus::PendingSupplier as i32);
    // Operations read it back: one breach, by supplier and kind, and none of another kind.
    let mut sla = SlaServiceClient::with_interceptor(app.channel.clone(), Auth::key(&seller));
    let list = |supplier: &str, kind: pb::SlaDeadlineKind| pb::ListSlaBreachesRequest {
        supplier_id: supplier.into(),
        deadline_kind: kind as i32,
        ..Default::default()
    };
    let listed = sla
        .list_sla_breaches(list(&supplier, pb::SlaDeadlineKind::Unspecified))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.breaches, std::slice::from_ref(breach));
    assert!(listed.next_page_token.is_empty());
    let none = sla
        .list_sla_breaches(list(&supplier, pb::SlaDeadlineKind::Decision))
        .await
        .unwrap()
        .into_inner();
    assert!(none.breaches.is_empty());
    let unknown = sla
        .list_sla_breaches(list(
            &uuid::Uuid::now_v7().to_string(),
            pb::SlaDeadlineKind::Unspecified,
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    let (_, metrics) = app.scrape("/metrics").await;
    let series = format!(
        "returnbridge_supplier_sla_breaches_total{{supplier_id=\"{supplier}\",deadline_kind=\"ACK\"}}"
    );
    assert_eq!(sample(&metrics, &series), Some(1.0), "{metrics}");
}

#[tokio::test]
async fn auto_approve_authorizes_a_pending_return_when_its_supplier_is_late() {
    let (app, clock) = app().await;
    let (seller, _, r) = pending_under(&app, pb::SlaBreachAction::AutoApprove, None).await;
    clock.advance(Duration::hours(24));
    let events = after_the_clock(&app, &seller, &r.return_id, 3).await;
    assert_eq!(
        kinds(&events),
        [
            pb::ReturnEventType::Decided,
            pb::ReturnEventType::SlaBreached,
            pb::ReturnEventType::SupplierDecided,
        ]
    );
    let seen = get_return(&app, &seller, &r.return_id).await;
    assert_eq!(seen.status, pb::ReturnStatus::Authorized as i32);
    let decision = seen.supplier_decision.unwrap();
    assert!(decision.automatic);
    assert!(seen.ship_by.is_some());
}

#[tokio::test]
async fn failover_hands_the_return_to_the_backup_which_answers_from_then_on() {
    let (app, clock) = app().await;
    let seller = app.seller_key("acme").await;
    let mut contracts = app.contracts(Auth::key(&seller));
    let backup = returnbridge_tests::fixtures::supplier_with_contract(
        &mut contracts,
        returnbridge_tests::fixtures::terms(),
    )
    .await;
    let (seller, slow, r) = pending_under(&app, pb::SlaBreachAction::Failover, Some(&backup)).await;
    clock.advance(Duration::hours(24));
    let events = after_the_clock(&app, &seller, &r.return_id, 3).await;
    assert_eq!(
        kinds(&events),
        [
            pb::ReturnEventType::Decided,
            pb::ReturnEventType::SlaBreached,
            pb::ReturnEventType::FailedOver,
        ]
    );
    let seen = get_return(&app, &seller, &r.return_id).await;
    assert_eq!(seen.handling_supplier_id, backup);
    assert_eq!(seen.supplier_requests.len(), 2);
    let (old, new) = (&seen.supplier_requests[0], &seen.supplier_requests[1]);
    assert_eq!(old.state, pb::SupplierRequestState::Superseded as i32);
    assert!(new.failover && new.supplier_id == backup);

    let key_of = |supplier: &str| {
        let id = SupplierId::parse(supplier).unwrap();
        let app = &app;
        async move {
            let (_, key) = app
                .key_with("acme", Some(id), &[Scope::SupplierCallbacks])
                .await;
            SupplierCallbackServiceClient::with_interceptor(app.channel.clone(), Auth::key(&key))
        }
    };
    let late = key_of(&slow)
        .await
        .acknowledge_request(pb::AcknowledgeRequestRequest {
            request_id: old.request_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert_eq!(reason(&late), "REQUEST_SUPERSEDED");
    let approved = key_of(&backup)
        .await
        .submit_decision(pb::SubmitDecisionRequest {
            request_id: new.request_id.clone(),
            decision: Some(pb::SupplierDecision {
                verdict: pb::SupplierVerdict::Approve as i32,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        approved.supplier_return.unwrap().status,
        pb::ReturnStatus::Authorized as i32
    );
}
