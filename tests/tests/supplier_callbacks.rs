//! Suppliers answer the requests forwarded to them (SupplierCallbackService) with their own key:
//! acknowledgements and decisions, idempotent, each one transaction through the shared core, and
//! never about another supplier's requests.

use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::SupplierId;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::supplier_callback_service_client::SupplierCallbackServiceClient;
use returnbridge_tests::fixtures::{
    authorize, changed_mind, get_return, return_events, supplier_with_contract,
};
use returnbridge_tests::supplier_world::SupplierWorld as World;
use returnbridge_tests::{Auth, reason, spawn_app, violated_fields};
use tonic::Code;

fn ack(request_id: &str) -> pb::AcknowledgeRequestRequest {
    pb::AcknowledgeRequestRequest {
        request_id: request_id.into(),
    }
}

fn decide(request_id: &str, verdict: pb::SupplierVerdict) -> pb::SubmitDecisionRequest {
    let reasons = if verdict == pb::SupplierVerdict::Reject {
        vec![pb::SupplierReason {
            code: "NOT_DEFECTIVE".into(),
            message: "works as specified".into(),
        }]
    } else {
        vec![]
    };
    pb::SubmitDecisionRequest {
        request_id: request_id.into(),
        decision: Some(pb::SupplierDecision {
            verdict: verdict as i32,
            reasons,
            return_instructions: "send it to the Lyon warehouse".into(),
            ..Default::default()
        }),
    }
}

fn kinds(events: &[pb::ReturnEvent]) -> Vec<pb::ReturnEventType> {
    events
        .iter()
        .map(|e| pb::ReturnEventType::try_from(e.event_type).unwrap())
        .collect()
}

#[tokio::test]
async fn a_supplier_acknowledges_once_and_its_approval_authorizes_the_return() {
    let app = spawn_app().await;
    let w = World::new(&app, "acme").await;
    let (r, request_id) = w.pending(&app, "SO-1", "NONE").await;
    let mut callbacks = w.callbacks(&app);
    let first = callbacks
        .acknowledge_request(ack(&request_id))
        .await
        .unwrap()
        .into_inner()
        .request
        .unwrap();
    assert_eq!(first.state, pb::SupplierRequestState::Acknowledged as i32);
    let again = callbacks
        .acknowledge_request(ack(&request_id))
        .await
        .unwrap()
        .into_inner()
        .request
        .unwrap();
    assert_eq!(
        again.acknowledge_time, first.acknowledge_time,
        "a repeat changes nothing"
    );

    let approved = callbacks
        .submit_decision(decide(&request_id, pb::SupplierVerdict::Approve))
        .await
        .unwrap()
        .into_inner()
        .supplier_return
        .unwrap();
    assert_eq!(approved.status, pb::ReturnStatus::Authorized as i32);
    assert!(
        approved.ship_by.is_some(),
        "the customer's time to ship starts"
    );
    let seen = get_return(&app, &w.seller, &r.return_id).await;
    assert_eq!(seen.status, pb::ReturnStatus::Authorized as i32);
    let decision = seen.supplier_decision.unwrap();
    assert_eq!(decision.verdict, pb::SupplierVerdict::Approve as i32);
    assert_eq!(decision.supplier_id, w.supplier);
    assert_eq!(seen.version, 3);

    // The same answer again: OK, no second effect. Another answer: ALREADY_ANSWERED.
    callbacks
        .submit_decision(decide(&request_id, pb::SupplierVerdict::Approve))
        .await
        .unwrap();
    let changed_mind = callbacks
        .submit_decision(decide(&request_id, pb::SupplierVerdict::Reject))
        .await
        .unwrap_err();
    assert_eq!(changed_mind.code(), Code::FailedPrecondition);
    assert_eq!(reason(&changed_mind), "ALREADY_ANSWERED");
    let events = return_events(&app, &w.seller, &r.return_id).await;
    assert_eq!(
        kinds(&events),
        [
            pb::ReturnEventType::Decided,
            pb::ReturnEventType::SupplierAcknowledged,
            pb::ReturnEventType::SupplierDecided,
        ]
    );
}

#[tokio::test]
async fn a_rejection_stands_without_a_statutory_right_and_yields_to_one() {
    let app = spawn_app().await;
    let w = World::new(&app, "acme").await;
    let mut callbacks = w.callbacks(&app);

    // No statute applies: the supplier's rejection is the answer, and the units are free again.
    let (plain, request_id) = w.pending(&app, "SO-1", "NONE").await;
    let rejected = callbacks
        .submit_decision(decide(&request_id, pb::SupplierVerdict::Reject))
        .await
        .unwrap()
        .into_inner()
        .supplier_return
        .unwrap();
    assert_eq!(rejected.status, pb::ReturnStatus::Rejected as i32);
    let seen = get_return(&app, &w.seller, &plain.return_id).await;
    assert_eq!(
        seen.supplier_decision.unwrap().reasons[0].code,
        "NOT_DEFECTIVE"
    );
    w.pending(&app, "SO-1", "NONE").await;

    // An EU customer's defect claim rests on the legal guarantee too: the supplier cannot take it
    // away, so the return is authorized and the seller bears what the supplier refused.
    let (guaranteed, request_id) = w.pending(&app, "SO-2", "EU").await;
    let basis = guaranteed.decision.as_ref().unwrap().basis;
    assert_ne!(basis, pb::Basis::Contract as i32, "{guaranteed:#?}");
    let answered = callbacks
        .submit_decision(decide(&request_id, pb::SupplierVerdict::Reject))
        .await
        .unwrap()
        .into_inner()
        .supplier_return
        .unwrap();
    assert_eq!(answered.status, pb::ReturnStatus::Authorized as i32);
    let seen = get_return(&app, &w.seller, &guaranteed.return_id).await;
    assert!(seen.decision.unwrap().policy_gap);
}

#[tokio::test]
async fn a_supplier_key_sees_only_its_own_suppliers_requests() {
    let app = spawn_app().await;
    let w = World::new(&app, "acme").await;
    let (_, request_id) = w.pending(&app, "SO-1", "NONE").await;
    // Another supplier of the same seller, and a supplier of another seller.
    let other = World::new(&app, "acme").await;
    let foreign = World::new(&app, "globex").await;
    for stranger in [&other, &foreign] {
        let err = stranger
            .callbacks(&app)
            .acknowledge_request(ack(&request_id))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{err:?}");
        assert_eq!(reason(&err), "SUPPLIER_REQUEST_NOT_FOUND");
    }
    let unknown = w
        .callbacks(&app)
        .acknowledge_request(ack(&uuid::Uuid::now_v7().to_string()))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
}

#[tokio::test]
async fn a_decision_must_fit_its_request_and_give_its_reasons() {
    let app = spawn_app().await;
    let w = World::new(&app, "acme").await;
    let (_, request_id) = w.pending(&app, "SO-1", "NONE").await;
    let mut callbacks = w.callbacks(&app);
    let mut no_reasons = decide(&request_id, pb::SupplierVerdict::Reject);
    if let Some(d) = no_reasons.decision.as_mut() {
        d.reasons.clear();
    }
    let err = callbacks.submit_decision(no_reasons).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["decision.reasons"]);
    let err = callbacks
        .submit_decision(pb::SubmitDecisionRequest {
            request_id: "not-a-uuid".into(),
            decision: Some(pb::SupplierDecision::default()),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["request_id"]);

    // An authorized return's request is a NOTICE: nothing to decide.
    let mut contracts = app.contracts(Auth::key(&w.seller));
    let auto = supplier_with_contract(&mut contracts, returnbridge_tests::fixtures::terms()).await;
    let (_, auto_key) = app
        .key_with(
            "acme",
            Some(SupplierId::parse(&auto).unwrap()),
            &[Scope::SupplierCallbacks],
        )
        .await;
    let notice = authorize(&app, &w.seller, changed_mind(&auto, "SO-2")).await;
    let err =
        SupplierCallbackServiceClient::with_interceptor(app.channel.clone(), Auth::key(&auto_key))
            .submit_decision(decide(
                &notice.supplier_requests[0].request_id,
                pb::SupplierVerdict::Approve,
            ))
            .await
            .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err), "REQUEST_KIND_MISMATCH");
}

#[tokio::test]
async fn the_supplier_reports_receipt_inspection_and_credit_on_its_own_returns() {
    let app = spawn_app().await;
    let w = World::new(&app, "acme").await;
    let (r, request_id) = w.pending(&app, "SO-1", "NONE").await;
    let mut callbacks = w.callbacks(&app);
    callbacks
        .submit_decision(decide(&request_id, pb::SupplierVerdict::Approve))
        .await
        .unwrap();
    let credit = |amount: i64| pb::ConfirmCreditRequest {
        return_id: r.return_id.clone(),
        amount: Some(returnbridge_tests::fixtures::eur(amount)),
        credit_reference: "CN-7".into(),
        ..Default::default()
    };
    let early = callbacks.confirm_credit(credit(3000)).await.unwrap_err();
    assert_eq!(
        early.code(),
        Code::FailedPrecondition,
        "nothing came back yet"
    );

    // Goods arriving before anyone recorded a shipment were shipped: both are recorded.
    let receipt = pb::ReportReceiptRequest {
        return_id: r.return_id.clone(),
        receipt: Some(pb::Receipt::default()),
        ..Default::default()
    };
    let received = callbacks
        .report_receipt(receipt.clone())
        .await
        .unwrap()
        .into_inner()
        .supplier_return
        .unwrap();
    assert_eq!(received.status, pb::ReturnStatus::Received as i32);
    let again = callbacks.report_receipt(receipt.clone()).await.unwrap();
    assert_eq!(
        again.into_inner().supplier_return.unwrap().status,
        pb::ReturnStatus::Received as i32,
        "a repeat is the same answer"
    );
    let stranger = World::new(&app, "acme").await;
    let err = stranger
        .callbacks(&app)
        .report_receipt(receipt)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    let inspected = callbacks
        .report_inspection(pb::ReportInspectionRequest {
            return_id: r.return_id.clone(),
            inspection: Some(pb::Inspection {
                outcome: pb::InspectionOutcome::Passed as i32,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .supplier_return
        .unwrap();
    assert_eq!(inspected.status, pb::ReturnStatus::Inspected as i32);

    callbacks.confirm_credit(credit(3000)).await.unwrap();
    callbacks.confirm_credit(credit(3000)).await.unwrap();
    let other = callbacks.confirm_credit(credit(2000)).await.unwrap_err();
    assert_eq!(reason(&other), "ALREADY_ANSWERED");
    let seen = get_return(&app, &w.seller, &r.return_id).await;
    assert_eq!(seen.credit.unwrap().credit_reference, "CN-7");
    let events = return_events(&app, &w.seller, &r.return_id).await;
    assert_eq!(
        kinds(&events)[2..],
        [
            pb::ReturnEventType::Shipped,
            pb::ReturnEventType::Received,
            pb::ReturnEventType::Inspected,
            pb::ReturnEventType::CreditConfirmed,
        ]
    );
}

#[tokio::test]
async fn each_answer_is_timed_once_by_supplier_and_deadline_kind() {
    let app = spawn_app().await;
    let w = World::new(&app, "acme").await;
    let (_, request_id) = w.pending(&app, "SO-1", "NONE").await;
    let mut callbacks = w.callbacks(&app);
    for _ in 0..2 {
        callbacks
            .acknowledge_request(ack(&request_id))
            .await
            .unwrap();
    }
    callbacks
        .submit_decision(decide(&request_id, pb::SupplierVerdict::Approve))
        .await
        .unwrap();
    let (_, text) = app.scrape("/metrics").await;
    let count = |kind: &str| {
        returnbridge_tests::sample(
            &text,
            &format!(
                "returnbridge_supplier_response_duration_seconds_count{{supplier_id=\"{}\",deadline_kind=\"{kind}\"}}",
                w.supplier
            ),
        )
    };
    assert_eq!(
        count("ACK"),
        Some(1.0),
        "the repeat is not a second answer: {text}"
    );
    assert_eq!(count("DECISION"), Some(1.0), "{text}");
}
