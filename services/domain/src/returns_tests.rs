//! The return aggregate: its transitions, the checks against its own facts, and its stored form.

use super::*;
use crate::contract::SlaTerms;
use crate::currency::Currency;
use crate::eligibility::decide;
use crate::liability::tests::{at, item, order, terms};
use crate::order::{ReturnReason, ReturnedUnits};
use crate::statute::EU;
use chrono::TimeDelta;

fn seller() -> Actor {
    Actor {
        kind: ActorKind::Seller,
        id: "key-1".into(),
    }
}

fn contract(auto_authorize: bool) -> ContractVersion {
    let mut t = terms();
    t.auto_authorize = auto_authorize;
    t.sla = SlaTerms {
        breach_action: BreachAction::Failover,
        ..t.sla
    };
    ContractVersion {
        supplier: order(Currency::EUR, &[], 0).supplier,
        version: 3,
        effective_from: at("2026-01-01T00:00:00Z"),
        terms: t,
        published_at: at("2026-01-01T00:00:00Z"),
    }
}

/// A return decided by the eligibility rules, five days after delivery: in the EU when the contract
/// authorizes automatically, else in the US, where no withdrawal right makes it wait for the supplier.
fn decided(reason: ReturnReason, auto_authorize: bool) -> (Return, ReturnEvent) {
    let mut request = ReturnRequest {
        order: order(Currency::EUR, &[("TEE", 2, 5_000, 3_000)], 500),
        items: vec![item("TEE", 2)],
        reason,
        evidence: vec![],
        label_cost_estimate: None,
        customer_comment: None,
    };
    let now = request.order.delivered_at + TimeDelta::days(5);
    if !auto_authorize {
        request.order.jurisdiction = crate::statute::Jurisdiction::Us;
    }
    let decision = decide(
        &request,
        &ReturnedUnits::new(),
        &contract(auto_authorize),
        request.order.jurisdiction.profile(),
        &SellerSettings::default(),
        now,
    );
    let under = DecidedUnder {
        settings_version: 0,
        decided_at: now,
    };
    Return::decide(
        ReturnId::generate(),
        request,
        String::new(),
        decision,
        under,
        &seller(),
    )
}

fn shipment(at: DateTime<Utc>, label: Option<Money>) -> Shipment {
    Shipment {
        carrier: "DHL".into(),
        tracking_number: "1Z".into(),
        label_cost: label,
        shipped_at: at,
        recorded_by: seller(),
    }
}

#[test]
fn an_authorized_return_queues_a_notice_and_waits_for_shipment() {
    let (ret, event) = decided(ReturnReason::ChangedMind, true);
    assert_eq!(ret.status, ReturnStatus::Authorized);
    assert_eq!(ret.version, 1);
    assert!(ret.ship_by.is_some());
    assert_eq!(event.kind, EventKind::Decided);
    assert_eq!(
        (event.from, event.to),
        (ReturnStatus::Requested, ReturnStatus::Authorized)
    );
    let request = ret.open_request().unwrap();
    assert_eq!(request.kind, SupplierRequestKind::Notice);
    assert_eq!(request.state, SupplierRequestState::PendingDelivery);
    assert!(request.deadlines.ack_by.is_some());
}

#[test]
fn the_whole_journey_moves_one_status_at_a_time_and_counts_versions() {
    let (mut ret, _) = decided(ReturnReason::Defective, true);
    let t = ret.created_at + TimeDelta::hours(1);
    let shipped = ret
        .ship(shipment(t, Some(Money::new(Currency::EUR, 700))), t)
        .unwrap();
    assert_eq!(
        (shipped.from, shipped.to),
        (ReturnStatus::Authorized, ReturnStatus::InTransit)
    );
    assert_eq!(ret.label_cost, Some(Money::new(Currency::EUR, 700)));
    assert_eq!(ret.ship_by, None, "the ship-by clock stops once shipped");
    let receipt = Receipt {
        received_at: t,
        items: vec![],
        note: String::new(),
        recorded_by: seller(),
    };
    ret.receive(receipt, t).unwrap();
    assert_eq!(
        ret.receipt.as_ref().unwrap().items,
        ret.request.items,
        "no lines named: all came back"
    );
    let report = InspectionReport {
        outcome: InspectionOutcome::Passed,
        items: vec![],
        damage_deduction: None,
        note: String::new(),
        evidence: vec![],
        inspected_at: t,
        recorded_by: seller(),
    };
    ret.inspect(report, t).unwrap();
    let ask = ResolutionAsk {
        resolution: Resolution::Refund,
        items: vec![],
        compensation: None,
    };
    let c = contract(true);
    let settings = SellerSettings::default();
    let terms = SplitTerms {
        contract: &c,
        settings: &settings,
        profile: &EU,
    };
    let (event, split) = ret
        .resolve(ask, &terms, &seller(), t, "done".into())
        .unwrap();
    assert_eq!(event.to, ReturnStatus::Resolved);
    assert_eq!(ret.version, 5);
    assert_eq!(ret.closed_at, Some(t));
    assert_eq!(
        ret.resolution.as_ref().unwrap().customer_refund,
        split.customer_refund
    );
}

#[test]
fn a_change_the_status_does_not_allow_is_refused_and_changes_nothing() {
    let (mut ret, _) = decided(ReturnReason::ChangedMind, true);
    let before = ret.clone();
    let receipt = Receipt {
        received_at: ret.created_at,
        items: vec![],
        note: String::new(),
        recorded_by: seller(),
    };
    let err = ret.receive(receipt, ret.created_at).unwrap_err();
    assert!(matches!(
        err,
        DomainError::StatusConflict {
            current: "AUTHORIZED",
            ..
        }
    ));
    assert_eq!(ret, before);
}

#[test]
fn amounts_in_another_currency_and_unknown_lines_are_named_by_field() {
    let (mut ret, _) = decided(ReturnReason::ChangedMind, true);
    let t = ret.created_at;
    let err = ret
        .ship(shipment(t, Some(Money::new(Currency::USD, 700))), t)
        .unwrap_err();
    let DomainError::InvalidArgument(v) = err else {
        panic!("{err:?}")
    };
    assert_eq!(v.as_slice()[0].field, "shipment.label_cost.currency_code");
    ret.ship(shipment(t, None), t).unwrap();
    let receipt = Receipt {
        received_at: t,
        items: vec![item("HAT", 1), item("TEE", 3)],
        note: String::new(),
        recorded_by: seller(),
    };
    let DomainError::InvalidArgument(v) = ret.receive(receipt, t).unwrap_err() else {
        panic!()
    };
    let fields: Vec<_> = v.as_slice().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        fields,
        ["receipt.items[0].sku", "receipt.items[1].quantity"]
    );
}

#[test]
fn cancelling_releases_the_units_and_closes_the_return() {
    let (mut ret, _) = decided(ReturnReason::ChangedMind, true);
    let t = ret.created_at + TimeDelta::minutes(5);
    let event = ret
        .cancel(Cancellation {
            reason: "customer kept it".into(),
            cancelled_at: t,
            cancelled_by: seller(),
        })
        .unwrap();
    assert!(event.releases_units());
    assert_eq!(ret.closed_at, Some(t));
    let again = ret.add_evidence(vec![], &seller(), t).unwrap_err();
    assert!(matches!(
        again,
        DomainError::FailedPrecondition {
            reason: ErrorReason::ReturnStatusConflict,
            ..
        }
    ));
}

#[test]
fn expiry_needs_the_ship_by_deadline_to_have_passed() {
    let (mut ret, _) = decided(ReturnReason::ChangedMind, true);
    let ship_by = ret.ship_by.unwrap();
    assert!(ret.expire(ship_by - TimeDelta::seconds(1)).is_err());
    let event = ret.expire(ship_by).unwrap();
    assert_eq!(event.to, ReturnStatus::Expired);
    assert!(event.releases_units());
}

#[test]
fn a_supplier_answers_only_its_own_requests_and_only_once() {
    let (mut ret, _) = decided(ReturnReason::ChangedMind, false);
    assert_eq!(ret.status, ReturnStatus::PendingSupplier);
    let request = ret.open_request().unwrap().clone();
    assert_eq!(request.kind, SupplierRequestKind::AuthorizationRequest);
    let other = SupplierId::generate();
    let t = ret.created_at + TimeDelta::minutes(1);
    let err = ret.supplier_acknowledge(request.id, other, t).unwrap_err();
    assert!(matches!(
        err,
        DomainError::NotFound {
            resource: crate::error::Resource::SupplierRequest,
            ..
        }
    ));
    ret.supplier_acknowledge(request.id, request.supplier, t)
        .unwrap();
    assert_eq!(
        ret.open_request().unwrap().running(DeadlineKind::Ack),
        None,
        "acknowledged: the ack clock stopped"
    );
    let approve = SupplierDecision {
        verdict: SupplierVerdict::Approve,
        reasons: vec![],
        return_instructions: String::new(),
        decided_at: t,
        automatic: false,
        supplier: request.supplier,
    };
    let event = ret
        .supplier_decide(request.id, approve.clone(), TimeDelta::days(14))
        .unwrap();
    assert_eq!(
        (event.from, event.to),
        (ReturnStatus::PendingSupplier, ReturnStatus::Authorized)
    );
    assert_eq!(
        ret.ship_by,
        Some(t + TimeDelta::days(14)),
        "approved: the customer's ship-by clock starts"
    );
    let err = ret
        .supplier_decide(request.id, approve, TimeDelta::days(14))
        .unwrap_err();
    assert!(matches!(
        err,
        DomainError::FailedPrecondition {
            reason: ErrorReason::AlreadyAnswered,
            ..
        }
    ));
}

#[test]
fn a_supplier_rejection_cannot_take_away_a_statutory_withdrawal() {
    let (mut ret, _) = decided(ReturnReason::ChangedMind, false);
    // A customer with a statutory right the contract does not grant.
    ret.decision.statutory_withdrawal = true;
    let request = ret.open_request().unwrap().clone();
    let reject = SupplierDecision {
        verdict: SupplierVerdict::Reject,
        reasons: vec![],
        return_instructions: String::new(),
        decided_at: ret.created_at,
        automatic: false,
        supplier: request.supplier,
    };
    let event = ret
        .supplier_decide(request.id, reject, TimeDelta::days(14))
        .unwrap();
    assert_eq!(event.to, ReturnStatus::Authorized);
    assert!(
        ret.decision.policy_gap,
        "the seller bears what the supplier refused"
    );
}

#[test]
fn a_missed_deadline_breaches_once_and_failover_hands_the_return_to_the_backup() {
    let (mut ret, _) = decided(ReturnReason::ChangedMind, false);
    let request = ret.open_request().unwrap().clone();
    let ack_by = request.deadlines.ack_by.unwrap();
    assert!(
        ret.breach(
            request.id,
            DeadlineKind::Ack,
            BreachAction::Failover,
            ack_by - TimeDelta::seconds(1)
        )
        .is_err()
    );
    ret.breach(
        request.id,
        DeadlineKind::Ack,
        BreachAction::Failover,
        ack_by,
    )
    .unwrap();
    assert!(
        ret.breach(
            request.id,
            DeadlineKind::Ack,
            BreachAction::Failover,
            ack_by
        )
        .is_err(),
        "a deadline breaches once"
    );
    let backup = SupplierId::generate();
    let deadlines = SupplierDeadlines {
        ack_by: Some(ack_by + TimeDelta::hours(24)),
        ..SupplierDeadlines::default()
    };
    let event = ret.fail_over(backup, deadlines, ack_by).unwrap();
    assert_eq!(
        event.detail,
        EventDetail::FailedOver {
            from: request.supplier,
            to: backup
        }
    );
    assert_eq!(ret.supplier, backup);
    assert_eq!(
        ret.supplier_requests[0].state,
        SupplierRequestState::Superseded
    );
    let now_open = ret.open_request().unwrap();
    assert!(now_open.failover && now_open.supplier == backup);
    let err = ret
        .supplier_acknowledge(request.id, request.supplier, ack_by)
        .unwrap_err();
    assert!(matches!(
        err,
        DomainError::FailedPrecondition {
            reason: ErrorReason::RequestSuperseded,
            ..
        }
    ));
}

#[test]
fn the_stored_form_reads_back_equal_and_keeps_the_decision_as_made() {
    let (mut ret, _) = decided(ReturnReason::Defective, true);
    let t = ret.created_at;
    ret.ship(shipment(t, Some(Money::new(Currency::EUR, 700))), t)
        .unwrap();
    let json = serde_json::to_string(&ret).unwrap();
    let back: Return = serde_json::from_str(&json).unwrap();
    assert_eq!(back, ret);
    // Names, not numbers: the stored document speaks the API's vocabulary.
    assert!(json.contains("\"status\":\"IN_TRANSIT\""), "{json}");
    assert!(json.contains("\"currency\":\"EUR\""), "{json}");
}

#[test]
fn a_stored_value_that_no_longer_parses_fails_to_load() {
    let (ret, _) = decided(ReturnReason::Defective, true);
    let json = serde_json::to_string(&ret)
        .unwrap()
        .replace("\"EUR\"", "\"XXX\"");
    assert!(serde_json::from_str::<Return>(&json).is_err());
}

fn sla(action: BreachAction) -> SlaTerms {
    SlaTerms {
        breach_action: action,
        ..terms().sla
    }
}

#[test]
fn a_missed_deadline_under_notify_is_recorded_once_and_changes_nothing_else() {
    let (mut ret, _) = decided(ReturnReason::ChangedMind, false);
    let ack_by = ret.open_request().unwrap().deadlines.ack_by.unwrap();
    let terms = sla(BreachAction::Notify);
    let ctx = SlaContext {
        sla: &terms,
        backup: None,
        ship_within: TimeDelta::days(14),
    };
    assert!(
        ret.enforce_deadlines(ack_by - TimeDelta::seconds(1), &ctx)
            .unwrap()
            .is_empty()
    );
    let events = ret.enforce_deadlines(ack_by, &ctx).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::SlaBreached);
    assert_eq!(ret.status, ReturnStatus::PendingSupplier);
    assert!(
        ret.enforce_deadlines(ack_by, &ctx).unwrap().is_empty(),
        "once"
    );
}

#[test]
fn auto_approve_authorizes_a_pending_return_in_the_breachs_change() {
    let (mut ret, _) = decided(ReturnReason::ChangedMind, false);
    let decide_by = ret.open_request().unwrap().deadlines.decide_by.unwrap();
    let terms = sla(BreachAction::AutoApprove);
    let ctx = SlaContext {
        sla: &terms,
        backup: None,
        ship_within: TimeDelta::days(14),
    };
    let events = ret.enforce_deadlines(decide_by, &ctx).unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    // The ack deadline passed first; its breach already approves.
    assert_eq!(kinds, [EventKind::SlaBreached, EventKind::SupplierDecided]);
    assert_eq!(ret.status, ReturnStatus::Authorized);
    let decision = ret.supplier_decision.as_ref().unwrap();
    assert!(decision.automatic);
    assert!(decision.reasons[0].message.contains("AUTO_APPROVE"));
    assert_eq!(events[1].actor, Actor::system());
}

#[test]
fn failover_hands_the_request_to_the_backup_with_fresh_deadlines_or_notifies_without_one() {
    let (mut ret, _) = decided(ReturnReason::ChangedMind, false);
    let original = ret.supplier;
    let ack_by = ret.open_request().unwrap().deadlines.ack_by.unwrap();
    let terms = sla(BreachAction::Failover);
    let alone = SlaContext {
        sla: &terms,
        backup: None,
        ship_within: TimeDelta::days(14),
    };
    let mut without = ret.clone();
    let events = without.enforce_deadlines(ack_by, &alone).unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].note.contains("no backup"), "{}", events[0].note);
    assert_eq!(without.supplier, original);

    let backup = SupplierId::generate();
    let ctx = SlaContext {
        backup: Some(backup),
        ..alone
    };
    let events = ret.enforce_deadlines(ack_by, &ctx).unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::SlaBreached, EventKind::FailedOver]);
    assert_eq!(ret.supplier, backup);
    let open = ret.open_request().unwrap();
    assert!(open.failover);
    assert_eq!(open.deadlines.ack_by, Some(ack_by + terms.ack_within));
    assert_eq!(
        open.deadlines.decide_by,
        Some(ack_by + terms.decision_within)
    );
    assert_eq!(events[1].version, ret.version);
    assert_eq!(events[0].version, ret.version - 1);
}
