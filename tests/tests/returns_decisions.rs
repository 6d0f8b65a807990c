//! What AuthorizeReturn decides, through the real server: evidence, non-returnable categories under
//! the statute, the versions a decision records, and quantities tracked across returns of an order.

use chrono::{Duration, Utc};
use returnbridge_proto::v1 as pb;
use returnbridge_tests::fixtures::{
    authorize, cancel_request, changed_mind, defective, get_return, list_returns,
    seller_with_supplier, swimwear_changed_mind, tees, terms, ts,
};
use returnbridge_tests::{Auth, spawn_app};

use pb::DecisionOutcome as O;

fn codes(d: &pb::Decision) -> Vec<&str> {
    d.reasons.iter().map(|r| r.code.as_str()).collect()
}

fn reason<'a>(d: &'a pb::Decision, code: &str) -> &'a pb::DecisionReason {
    d.reasons
        .iter()
        .find(|r| r.code == code)
        .unwrap_or_else(|| panic!("no {code} among {:?}", codes(d)))
}

#[tokio::test]
async fn a_defective_claim_without_evidence_is_rejected_as_evidence_required() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let r = authorize(&app, &key, defective(&supplier, "ORDER-1", &[])).await;
    assert_eq!(r.status, pb::ReturnStatus::Rejected as i32);
    assert!(r.close_time.is_some());
    assert!(r.ship_by.is_none());
    let d = r.decision.clone().unwrap();
    assert_eq!(d.outcome, O::Rejected as i32);
    assert_eq!(codes(&d), ["EVIDENCE_REQUIRED"]);
    assert_eq!(d.basis, pb::Basis::Contract as i32);
    let clause = &reason(&d, "EVIDENCE_REQUIRED").clauses[0];
    assert_eq!(clause.source, pb::ClauseSource::Contract as i32);
    assert_eq!(clause.term, "evidence_required_reasons");
    assert_eq!(clause.contract_version, 1);
    // A rejection is an answer, and stored like any other.
    assert_eq!(get_return(&app, &key, &r.return_id).await, r);
}

#[tokio::test]
async fn a_defective_claim_with_https_evidence_is_authorized_on_contract_and_statute() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let photo = "https://photos.example/broken-seam.jpg";
    let r = authorize(&app, &key, defective(&supplier, "ORDER-1", &[photo])).await;
    assert_eq!(r.status, pb::ReturnStatus::Authorized as i32);
    let d = r.decision.clone().unwrap();
    assert_eq!(d.outcome, O::Authorized as i32);
    assert_eq!(d.fault_class, pb::FaultClass::Supplier as i32);
    assert_eq!(d.claim_kind, pb::ClaimKind::Return as i32);
    assert_eq!(d.basis, pb::Basis::Both as i32);
    assert!(!d.policy_gap);
    assert_eq!(
        codes(&d),
        ["CONTRACT_DEFECT_WINDOW", "STATUTORY_LEGAL_GUARANTEE"]
    );
    assert!(d.ship_by.is_some() && d.supplier_ack_by.is_some());
    let uris: Vec<_> = r.evidence.iter().map(|e| e.uri.as_str()).collect();
    assert_eq!(uris, [photo]);
}

#[tokio::test]
async fn changed_mind_swimwear_within_the_eu_withdrawal_is_a_policy_gap_authorized_by_statute() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let r = authorize(&app, &key, swimwear_changed_mind(&supplier, "ORDER-1", 5)).await;
    let d = r.decision.clone().unwrap();
    assert_eq!(d.outcome, O::Authorized as i32, "{d:#?}");
    assert_eq!(d.basis, pb::Basis::Statute as i32);
    assert!(
        d.policy_gap,
        "the contract excludes swimwear, the law does not"
    );
    assert_eq!(d.fault_class, pb::FaultClass::NoFault as i32);
    assert_eq!(
        codes(&d),
        ["NON_RETURNABLE_CATEGORY", "STATUTORY_WITHDRAWAL"]
    );
    let excluded = reason(&d, "NON_RETURNABLE_CATEGORY");
    assert_eq!(excluded.basis, pb::Basis::Contract as i32);
    assert_eq!(excluded.clauses[0].term, "non_returnable_categories");
    let statute = reason(&d, "STATUTORY_WITHDRAWAL");
    assert_eq!(statute.basis, pb::Basis::Statute as i32);
    let clause = &statute.clauses[0];
    assert_eq!(clause.source, pb::ClauseSource::Statute as i32);
    assert_eq!(clause.jurisdiction, pb::Jurisdiction::Eu as i32);
    assert_eq!(
        clause.statutory_profile_version,
        d.statutory_profile_version
    );
    assert!(!clause.article.is_empty());
    assert!(
        r.ship_by.is_some(),
        "a withdrawal still sends the goods back"
    );
}

#[tokio::test]
async fn swimwear_returned_for_a_change_of_mind_after_the_withdrawal_period_is_rejected() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    // Day 20: inside the contract's 30-day window, which excludes swimwear; past the statute's 14.
    let r = authorize(&app, &key, swimwear_changed_mind(&supplier, "ORDER-1", 20)).await;
    let d = r.decision.unwrap();
    assert_eq!(d.outcome, O::Rejected as i32);
    assert_eq!(d.basis, pb::Basis::Both as i32);
    assert!(!d.policy_gap);
    assert_eq!(
        codes(&d),
        ["NON_RETURNABLE_CATEGORY", "STATUTORY_WINDOW_EXPIRED"]
    );
}

#[tokio::test]
async fn a_change_of_mind_inside_both_windows_rests_on_contract_and_statute() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let r = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;
    let d = r.decision.unwrap();
    assert_eq!(d.outcome, O::Authorized as i32);
    assert_eq!(d.basis, pb::Basis::Both as i32);
    assert!(!d.policy_gap);
    assert_eq!(
        codes(&d),
        ["CONTRACT_RETURN_WINDOW", "STATUTORY_WITHDRAWAL"]
    );
}

#[tokio::test]
async fn a_decision_records_the_contract_version_of_the_order_time_and_the_statutory_profile() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    // Version 2, from a minute ago, makes the supplier decide every return first.
    app.contracts(Auth::key(&key))
        .publish_contract(pb::PublishContractRequest {
            supplier_id: supplier.clone(),
            effective_from: Some(ts(Utc::now() - Duration::minutes(1))),
            terms: Some(pb::ContractTerms {
                auto_authorize: false,
                ..terms()
            }),
            description: "the supplier decides".into(),
            expected_latest_version: 1,
        })
        .await
        .unwrap();

    // Ordered 8 days ago: version 1 decides.
    let old = authorize(&app, &key, changed_mind(&supplier, "ORDER-OLD")).await;
    let d = old.decision.clone().unwrap();
    assert_eq!(d.contract_version, 1);
    assert_eq!(d.statutory_profile, pb::Jurisdiction::Eu as i32);
    assert!(d.statutory_profile_version.starts_with("EU-"), "{d:#?}");
    assert_eq!(d.seller_settings_version, 0);
    assert!(d.decide_time.is_some());
    assert!(
        d.reasons
            .iter()
            .flat_map(|r| &r.clauses)
            .filter(|c| c.source == pb::ClauseSource::Contract as i32)
            .all(|c| c.contract_version == 1)
    );
    assert_eq!(
        get_return(&app, &key, &old.return_id).await.decision,
        Some(d)
    );

    // Ordered and delivered just now, to a US customer (no statute overrides the supplier): v2.
    let mut fresh = changed_mind(&supplier, "ORDER-NEW");
    let o = fresh.order.as_mut().unwrap();
    o.order_time = Some(ts(Utc::now()));
    o.delivery_time = o.order_time;
    o.customer_jurisdiction = "US".into();
    let new = authorize(&app, &key, fresh).await;
    let d = new.decision.clone().unwrap();
    assert_eq!(d.contract_version, 2);
    assert_eq!(d.outcome, O::PendingSupplier as i32);
    assert_eq!(d.statutory_profile, pb::Jurisdiction::Us as i32);
    assert!(d.statutory_profile_version.starts_with("US-"));
    assert_eq!(new.status, pb::ReturnStatus::PendingSupplier as i32);
    assert_eq!(
        get_return(&app, &key, &new.return_id).await.decision,
        Some(d)
    );
}

#[tokio::test]
async fn a_second_return_exceeding_what_the_first_left_is_rejected_as_quantity_already_returned() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let first = authorize(&app, &key, tees(&supplier, "ORDER-1", 1)).await;
    assert_eq!(first.status, pb::ReturnStatus::Authorized as i32);

    let second = authorize(&app, &key, tees(&supplier, "ORDER-1", 2)).await;
    assert_eq!(second.status, pb::ReturnStatus::Rejected as i32);
    let d = second.decision.unwrap();
    assert_eq!(d.outcome, O::Rejected as i32);
    assert_eq!(d.basis, pb::Basis::Order as i32);
    assert_eq!(codes(&d), ["QUANTITY_ALREADY_RETURNED"]);
    let clause = &d.reasons[0].clauses[0];
    assert_eq!(clause.source, pb::ClauseSource::Returnbridge as i32);

    // The one tee left is still returnable, and then none is.
    let third = authorize(&app, &key, tees(&supplier, "ORDER-1", 1)).await;
    assert_eq!(third.status, pb::ReturnStatus::Authorized as i32);
    let fourth = authorize(&app, &key, tees(&supplier, "ORDER-1", 1)).await;
    assert_eq!(fourth.status, pb::ReturnStatus::Rejected as i32);
    assert_eq!(list_returns(&app, &key).await.len(), 4);

    // Another order's tees are counted on their own.
    let other = authorize(&app, &key, tees(&supplier, "ORDER-2", 2)).await;
    assert_eq!(other.status, pb::ReturnStatus::Authorized as i32);
}

#[tokio::test]
async fn cancelling_a_return_makes_its_units_returnable_again() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let first = authorize(&app, &key, tees(&supplier, "ORDER-1", 2)).await;
    let blocked = authorize(&app, &key, tees(&supplier, "ORDER-1", 2)).await;
    assert_eq!(blocked.status, pb::ReturnStatus::Rejected as i32);
    app.returns(Auth::key(&key))
        .cancel_return(cancel_request(&first.return_id, 1))
        .await
        .unwrap();
    let again = authorize(&app, &key, tees(&supplier, "ORDER-1", 2)).await;
    assert_eq!(
        again.status,
        pb::ReturnStatus::Authorized as i32,
        "{again:#?}"
    );
}

#[tokio::test]
async fn a_rejected_return_holds_no_units() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let rejected = authorize(&app, &key, defective(&supplier, "ORDER-1", &[])).await;
    assert_eq!(rejected.status, pb::ReturnStatus::Rejected as i32);
    let both = authorize(&app, &key, tees(&supplier, "ORDER-1", 2)).await;
    assert_eq!(both.status, pb::ReturnStatus::Authorized as i32);
}
