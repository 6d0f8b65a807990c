//! A return from authorization to resolution, through the real server.

use returnbridge_proto::v1 as pb;
use returnbridge_tests::fixtures::{changed_mind, seller_with_supplier};
use returnbridge_tests::{Auth, spawn_app};

#[tokio::test]
async fn an_in_policy_return_runs_from_authorized_to_resolved() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let mut returns = app.returns(Auth::key(&key).idempotent("authorize-1"));
    let authorized = returns
        .authorize_return(changed_mind(&supplier, "ORDER-1"))
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
    let decision = authorized.decision.clone().unwrap();
    assert_eq!(decision.outcome, pb::DecisionOutcome::Authorized as i32);
    assert!(decision.ship_by.is_some());

    let mut returns = app.returns(Auth::key(&key));
    let id = authorized.return_id.clone();
    let shipped = returns
        .record_shipment(pb::RecordShipmentRequest {
            return_id: id.clone(),
            expected_version: 1,
            shipment: Some(pb::Shipment {
                carrier: "DHL".into(),
                tracking_number: "JJD000".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .return_case
        .unwrap();
    assert_eq!(shipped.status, pb::ReturnStatus::InTransit as i32);
    assert_eq!(shipped.version, 2);
    returns
        .record_receipt(pb::RecordReceiptRequest {
            return_id: id.clone(),
            expected_version: 2,
            receipt: None,
        })
        .await
        .unwrap();
    returns
        .record_inspection(pb::RecordInspectionRequest {
            return_id: id.clone(),
            expected_version: 3,
            inspection: Some(pb::Inspection {
                outcome: pb::InspectionOutcome::Passed as i32,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let resolved = returns
        .resolve_return(pb::ResolveReturnRequest {
            return_id: id.clone(),
            expected_version: 4,
            resolution: Some(pb::ResolutionSpec {
                resolution: pb::Resolution::Refund as i32,
                ..Default::default()
            }),
            note: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .return_case
        .unwrap();
    assert_eq!(resolved.status, pb::ReturnStatus::Resolved as i32);
    assert!(resolved.close_time.is_some());

    let events = returns
        .list_return_events(pb::ListReturnEventsRequest {
            return_id: id,
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    let types: Vec<_> = events.iter().map(|e| e.event_type).collect();
    use pb::ReturnEventType as T;
    assert_eq!(
        types,
        [
            T::Decided,
            T::Shipped,
            T::Received,
            T::Inspected,
            T::Resolved
        ]
        .map(|t| t as i32)
    );
    assert!(events.windows(2).all(|w| w[0].sequence < w[1].sequence));
}
