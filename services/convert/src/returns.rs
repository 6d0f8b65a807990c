//! Returns: the AuthorizeReturn request into the domain, and decisions and statuses back out.

use super::contract::{instant, reason_from_proto};
use super::{money_input, timestamp};
use chrono::{DateTime, Utc};
use returnbridge_domain::Violations;
use returnbridge_domain::decision::{Basis, Clause, Decision, FaultClass, Outcome};
use returnbridge_domain::lifecycle::ReturnStatus;
use returnbridge_domain::order_input::{
    OrderFactsInput, OrderLineInput, ReturnItemInput, ReturnRequestInput,
};
use returnbridge_domain::statute::Jurisdiction;
use returnbridge_proto::v1 as pb;

/// The request as sent, for the domain to check. Timestamps out of range are reported here, by field.
pub fn request_input(req: &pb::AuthorizeReturnRequest, v: &mut Violations) -> ReturnRequestInput {
    ReturnRequestInput {
        order: req.order.as_ref().map(|o| order_input(o, v)),
        items: req
            .items
            .iter()
            .map(|i| ReturnItemInput {
                sku: i.sku.clone(),
                quantity: i64::from(i.quantity),
            })
            .collect(),
        reason: reason_from_proto(req.reason),
        evidence_uris: req.evidence_uris.clone(),
        label_cost_estimate: req.label_cost_estimate.as_ref().map(money_input),
        customer_comment: req.customer_comment.clone(),
    }
}

fn order_input(o: &pb::OrderFacts, v: &mut Violations) -> OrderFactsInput {
    OrderFactsInput {
        order_id: o.order_id.clone(),
        supplier_id: o.supplier_id.clone(),
        ordered_at: o
            .order_time
            .as_ref()
            .and_then(|t| instant(t, "order.order_time", v)),
        delivered_at: o
            .delivery_time
            .as_ref()
            .and_then(|t| instant(t, "order.delivery_time", v)),
        customer_jurisdiction: o.customer_jurisdiction.clone(),
        customer_time_zone: o.customer_time_zone.clone(),
        customer_extended_cancellation_right: o.customer_extended_cancellation_right,
        currency: o.currency_code.clone(),
        outbound_shipping: o.outbound_shipping.as_ref().map(money_input),
        lines: o
            .lines
            .iter()
            .map(|l| OrderLineInput {
                sku: l.sku.clone(),
                category: l.category.clone(),
                quantity: i64::from(l.quantity),
                unit_price: l.unit_price.as_ref().map(money_input),
                unit_cost: l.unit_cost.as_ref().map(money_input),
            })
            .collect(),
    }
}

/// A status as the proto enum.
pub fn status_to_proto(s: ReturnStatus) -> pb::ReturnStatus {
    use pb::ReturnStatus as P;
    match s {
        ReturnStatus::Requested => P::Requested,
        ReturnStatus::Authorized => P::Authorized,
        ReturnStatus::PendingSupplier => P::PendingSupplier,
        ReturnStatus::Rejected => P::Rejected,
        ReturnStatus::InTransit => P::InTransit,
        ReturnStatus::Received => P::Received,
        ReturnStatus::Inspected => P::Inspected,
        ReturnStatus::Resolved => P::Resolved,
        ReturnStatus::Expired => P::Expired,
        ReturnStatus::Cancelled => P::Cancelled,
    }
}

/// A proto status as the domain's; `None` for UNSPECIFIED or an unknown number.
pub fn status_from_proto(raw: i32) -> Option<ReturnStatus> {
    let name = pb::ReturnStatus::try_from(raw).ok()?.as_str_name();
    ReturnStatus::parse(name.strip_prefix("RETURN_STATUS_")?).ok()
}

/// A jurisdiction as the proto enum.
pub fn jurisdiction_to_proto(j: Jurisdiction) -> pb::Jurisdiction {
    match j {
        Jurisdiction::Eu => pb::Jurisdiction::Eu,
        Jurisdiction::Gb => pb::Jurisdiction::Gb,
        Jurisdiction::Il => pb::Jurisdiction::Il,
        Jurisdiction::Us => pb::Jurisdiction::Us,
        Jurisdiction::None => pb::Jurisdiction::None,
    }
}

fn basis(b: Basis) -> pb::Basis {
    match b {
        Basis::Contract => pb::Basis::Contract,
        Basis::Statute => pb::Basis::Statute,
        Basis::Both => pb::Basis::Both,
        Basis::SellerPolicy => pb::Basis::SellerPolicy,
        Basis::Order => pb::Basis::Order,
    }
}

fn fault(f: FaultClass) -> pb::FaultClass {
    match f {
        FaultClass::Supplier => pb::FaultClass::Supplier,
        FaultClass::Carrier => pb::FaultClass::Carrier,
        FaultClass::Seller => pb::FaultClass::Seller,
        FaultClass::NoFault => pb::FaultClass::NoFault,
        FaultClass::LateDelivery => pb::FaultClass::LateDelivery,
    }
}

fn outcome(o: Outcome) -> pb::DecisionOutcome {
    match o {
        Outcome::Authorized => pb::DecisionOutcome::Authorized,
        Outcome::PendingSupplier => pb::DecisionOutcome::PendingSupplier,
        Outcome::Rejected => pb::DecisionOutcome::Rejected,
    }
}

/// A clause, with the basis of the reason that rests on it.
pub fn clause(c: &Clause) -> (pb::Basis, pb::Clause) {
    match c {
        Clause::Contract {
            version,
            term,
            value: _,
        } => (
            pb::Basis::Contract,
            pb::Clause {
                source: pb::ClauseSource::Contract as i32,
                contract_version: *version,
                term: term.to_string(),
                text: c.to_string(),
                ..Default::default()
            },
        ),
        Clause::Statute {
            jurisdiction,
            profile_version,
            citation,
            summary: _,
        } => (
            pb::Basis::Statute,
            pb::Clause {
                source: pb::ClauseSource::Statute as i32,
                jurisdiction: jurisdiction_to_proto(*jurisdiction) as i32,
                statutory_profile_version: profile_version.to_string(),
                article: citation.to_string(),
                text: c.to_string(),
                ..Default::default()
            },
        ),
        Clause::SellerPolicy { term, value: _ } => (
            pb::Basis::SellerPolicy,
            pb::Clause {
                source: pb::ClauseSource::SellerSettings as i32,
                term: term.to_string(),
                text: c.to_string(),
                ..Default::default()
            },
        ),
        Clause::Order { facts: _ } => (
            pb::Basis::Order,
            pb::Clause {
                source: pb::ClauseSource::Returnbridge as i32,
                text: c.to_string(),
                ..Default::default()
            },
        ),
    }
}

/// What kind of claim a decision makes.
pub fn claim_kind(d: &Decision) -> pb::ClaimKind {
    if d.fault == FaultClass::LateDelivery {
        pb::ClaimKind::Compensation
    } else if d.returnless {
        pb::ClaimKind::ReturnlessRefund
    } else {
        pb::ClaimKind::Return
    }
}

/// The decision as the API shows it, with the versions of everything it was decided under.
pub fn decision_to_proto(
    d: &Decision,
    jurisdiction: Jurisdiction,
    seller_settings_version: i64,
    decided_at: DateTime<Utc>,
) -> pb::Decision {
    pb::Decision {
        outcome: outcome(d.outcome) as i32,
        reasons: d
            .reasons
            .iter()
            .map(|r| {
                let (reason_basis, clause) = clause(&r.clause);
                pb::DecisionReason {
                    code: r.code.as_str().to_owned(),
                    message: r.detail.clone(),
                    basis: reason_basis as i32,
                    clauses: vec![clause],
                }
            })
            .collect(),
        basis: basis(d.basis) as i32,
        policy_gap: d.policy_gap,
        fault_class: fault(d.fault) as i32,
        claim_kind: claim_kind(d) as i32,
        ship_by: d.deadlines.customer_ship_by.map(timestamp),
        supplier_ack_by: d.deadlines.supplier_ack_by.map(timestamp),
        supplier_decide_by: d.deadlines.supplier_decide_by.map(timestamp),
        contract_version: d.contract_version,
        statutory_profile: jurisdiction_to_proto(jurisdiction) as i32,
        statutory_profile_version: d.profile_version.to_string(),
        seller_settings_version,
        decide_time: Some(timestamp(decided_at)),
    }
}
