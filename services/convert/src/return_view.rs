//! The domain return as the v1 API shows it (`Return`, `ReturnEvent` and their parts), and what the
//! supplier sees of it.

use super::contract::reason_to_proto;
use super::returns::{decision_to_proto, jurisdiction_to_proto, status_to_proto};
use super::{money_to_proto, timestamp};
use returnbridge_domain::Money;
use returnbridge_domain::liability::Resolution;
use returnbridge_domain::order::{OrderFacts, ReturnItem};
use returnbridge_domain::returns::{
    Actor, Breach, Cancellation, CreditConfirmation, EventDetail, Evidence, InspectionReport,
    Receipt, ResolutionRecord, Return, ReturnEvent, Shipment, SupplierDecision, SupplierRequest,
};
use returnbridge_proto::v1 as pb;

/// A domain enum value as the proto enum's number, by name: the domain's names are the proto's
/// without their prefix (`SELLER` is `ACTOR_KIND_SELLER`). UNSPECIFIED (0) if a name had no match,
/// which `tests/api_vocabulary.rs` rules out.
pub fn by_name(prefix: &str, name: &str, from: fn(&str) -> Option<i32>) -> i32 {
    from(&format!("{prefix}{name}")).unwrap_or_default()
}

macro_rules! proto_enum {
    ($ty:ty, $prefix:literal, $value:expr) => {
        by_name($prefix, $value.as_str(), |n| {
            <$ty>::from_str_name(n).map(|v| v as i32)
        })
    };
}

fn money(m: Option<Money>) -> Option<pb::Money> {
    m.map(money_to_proto)
}

/// Who did it.
pub fn actor(a: &Actor) -> pb::Actor {
    pb::Actor {
        kind: proto_enum!(pb::ActorKind, "ACTOR_KIND_", a.kind),
        id: a.id.clone(),
    }
}

fn items(items: &[ReturnItem]) -> Vec<pb::ReturnItem> {
    items
        .iter()
        .map(|i| pb::ReturnItem {
            sku: i.sku.as_str().to_owned(),
            quantity: i32::try_from(i.quantity).unwrap_or(i32::MAX),
        })
        .collect()
}

/// The order facts as the API shows them.
pub fn order(o: &OrderFacts) -> pb::OrderFacts {
    pb::OrderFacts {
        order_id: o.order_id.as_str().to_owned(),
        supplier_id: o.supplier.to_string(),
        order_time: Some(timestamp(o.ordered_at)),
        delivery_time: Some(timestamp(o.delivered_at)),
        customer_jurisdiction: o.jurisdiction.as_str().to_owned(),
        currency_code: o.currency.code().to_owned(),
        outbound_shipping: Some(money_to_proto(o.outbound_shipping)),
        lines: o
            .lines
            .iter()
            .map(|l| pb::OrderLine {
                sku: l.sku.as_str().to_owned(),
                category: l.category.as_str().to_owned(),
                quantity: i32::try_from(l.quantity).unwrap_or(i32::MAX),
                unit_price: Some(money_to_proto(l.unit_price)),
                unit_cost: Some(money_to_proto(l.unit_cost)),
            })
            .collect(),
        customer_time_zone: o
            .customer_time_zone
            .map(|z| z.name().to_owned())
            .unwrap_or_default(),
        customer_extended_cancellation_right: o.extended_cancellation_right,
    }
}

fn evidence(e: &Evidence) -> pb::Evidence {
    pb::Evidence {
        uri: e.uri.as_str().to_owned(),
        description: e.description.clone(),
        add_time: Some(timestamp(e.added_at)),
        added_by: Some(actor(&e.added_by)),
    }
}

fn shipment(s: &Shipment) -> pb::Shipment {
    pb::Shipment {
        carrier: s.carrier.clone(),
        tracking_number: s.tracking_number.clone(),
        label_cost: money(s.label_cost),
        ship_time: Some(timestamp(s.shipped_at)),
        recorded_by: Some(actor(&s.recorded_by)),
    }
}

fn receipt(r: &Receipt) -> pb::Receipt {
    pb::Receipt {
        receive_time: Some(timestamp(r.received_at)),
        items: items(&r.items),
        note: r.note.clone(),
        recorded_by: Some(actor(&r.recorded_by)),
    }
}

fn inspection(i: &InspectionReport) -> pb::Inspection {
    pb::Inspection {
        outcome: proto_enum!(pb::InspectionOutcome, "INSPECTION_OUTCOME_", i.outcome),
        items: i
            .items
            .iter()
            .map(|item| pb::InspectedItem {
                sku: item.sku.as_str().to_owned(),
                quantity: i32::try_from(item.quantity).unwrap_or(i32::MAX),
                outcome: item.outcome.map_or(0, |o| {
                    proto_enum!(pb::InspectionOutcome, "INSPECTION_OUTCOME_", o)
                }),
            })
            .collect(),
        damage_deduction: money(i.damage_deduction),
        note: i.note.clone(),
        evidence_uris: i.evidence.iter().map(|e| e.as_str().to_owned()).collect(),
        inspect_time: Some(timestamp(i.inspected_at)),
        recorded_by: Some(actor(&i.recorded_by)),
    }
}

/// The resolution asked, as the proto's spec.
pub fn resolution_spec(r: &ResolutionRecord) -> pb::ResolutionSpec {
    let ask = &r.ask;
    let (resolution, allowance, exchange_lines) = match &ask.resolution {
        Resolution::PartialRefund { allowance } => {
            (pb::Resolution::PartialRefund, Some(*allowance), vec![])
        }
        Resolution::Exchange(lines) => (
            pb::Resolution::Exchange,
            None,
            lines
                .iter()
                .map(|l| pb::ExchangeLine {
                    sku: l.sku.as_str().to_owned(),
                    quantity: i32::try_from(l.quantity).unwrap_or(i32::MAX),
                    unit_price: Some(money_to_proto(l.unit_price)),
                })
                .collect(),
        ),
        Resolution::Refund => (pb::Resolution::Refund, None, vec![]),
        Resolution::StoreCredit => (pb::Resolution::StoreCredit, None, vec![]),
        Resolution::Replacement => (pb::Resolution::Replacement, None, vec![]),
    };
    pb::ResolutionSpec {
        resolution: resolution as i32,
        items: items(&ask.items),
        allowance: money(allowance),
        compensation: money(ask.compensation),
        exchange_lines,
    }
}

fn resolution(r: &ResolutionRecord) -> pb::ResolutionRecord {
    pb::ResolutionRecord {
        spec: Some(resolution_spec(r)),
        customer_refund: Some(money_to_proto(r.customer_refund)),
        customer_charge: Some(money_to_proto(r.customer_charge)),
        resolve_time: Some(timestamp(r.resolved_at)),
        resolved_by: Some(actor(&r.resolved_by)),
        note: r.note.clone(),
    }
}

fn credit(c: &CreditConfirmation) -> pb::CreditConfirmation {
    pb::CreditConfirmation {
        amount: Some(money_to_proto(c.amount)),
        credit_reference: c.reference.clone(),
        credit_time: Some(timestamp(c.credited_at)),
        recorded_by: Some(actor(&c.recorded_by)),
    }
}

fn cancellation(c: &Cancellation) -> pb::Cancellation {
    pb::Cancellation {
        reason: c.reason.clone(),
        cancel_time: Some(timestamp(c.cancelled_at)),
        cancelled_by: Some(actor(&c.cancelled_by)),
    }
}

/// One supplier-bound request.
pub fn supplier_request(r: &SupplierRequest) -> pb::SupplierRequest {
    pb::SupplierRequest {
        request_id: r.id.to_string(),
        kind: proto_enum!(pb::SupplierRequestKind, "SUPPLIER_REQUEST_KIND_", r.kind),
        supplier_id: r.supplier.to_string(),
        state: proto_enum!(pb::SupplierRequestState, "SUPPLIER_REQUEST_STATE_", r.state),
        deadlines: Some(pb::SupplierDeadlines {
            ack_by: r.deadlines.ack_by.map(timestamp),
            decide_by: r.deadlines.decide_by.map(timestamp),
            credit_by: r.deadlines.credit_by.map(timestamp),
        }),
        create_time: Some(timestamp(r.created_at)),
        deliver_time: r.delivered_at.map(timestamp),
        acknowledge_time: r.acknowledged_at.map(timestamp),
        answer_time: r.answered_at.map(timestamp),
        delivery_attempts: i32::try_from(r.delivery_attempts).unwrap_or(i32::MAX),
        failover: r.failover,
    }
}

fn supplier_decision(d: &SupplierDecision) -> pb::SupplierDecision {
    pb::SupplierDecision {
        verdict: proto_enum!(pb::SupplierVerdict, "SUPPLIER_VERDICT_", d.verdict),
        reasons: d
            .reasons
            .iter()
            .map(|r| pb::SupplierReason {
                code: r.code.clone(),
                message: r.message.clone(),
            })
            .collect(),
        return_label: None,
        return_instructions: d.return_instructions.clone(),
        return_address: None,
        decide_time: Some(timestamp(d.decided_at)),
        automatic: d.automatic,
        supplier_id: d.supplier.to_string(),
    }
}

fn breach(ret: &Return, request: &SupplierRequest, b: &Breach) -> pb::SlaBreach {
    pb::SlaBreach {
        breach_id: format!("{}:{}", request.id, b.kind.as_str()),
        supplier_id: request.supplier.to_string(),
        return_id: ret.id.to_string(),
        request_id: request.id.to_string(),
        request_kind: proto_enum!(
            pb::SupplierRequestKind,
            "SUPPLIER_REQUEST_KIND_",
            request.kind
        ),
        deadline_kind: proto_enum!(pb::SlaDeadlineKind, "SLA_DEADLINE_KIND_", b.kind),
        deadline_time: Some(timestamp(b.deadline)),
        breach_time: Some(timestamp(b.recorded_at)),
        action: proto_enum!(pb::SlaBreachAction, "SLA_BREACH_ACTION_", b.action),
        failover_supplier_id: String::new(),
        contract_version: ret.decision.contract_version,
    }
}

/// The return as the API shows it.
pub fn return_to_proto(r: &Return) -> pb::Return {
    pb::Return {
        return_id: r.id.to_string(),
        status: status_to_proto(r.status) as i32,
        version: r.version,
        order: Some(order(&r.request.order)),
        items: items(&r.request.items),
        reason: reason_to_proto(r.request.reason) as i32,
        evidence: r.evidence.iter().map(evidence).collect(),
        customer_comment: r.request.customer_comment.clone().unwrap_or_default(),
        external_reference: r.external_reference.clone(),
        label_cost: money(r.label_cost),
        decision: Some(decision_to_proto(
            &r.decision,
            r.request.order.jurisdiction,
            r.decided.settings_version,
            r.decided.decided_at,
        )),
        handling_supplier_id: r.supplier.to_string(),
        ship_by: r.ship_by.map(timestamp),
        supplier_requests: r.supplier_requests.iter().map(supplier_request).collect(),
        supplier_decision: r.supplier_decision.as_ref().map(supplier_decision),
        shipment: r.shipment.as_ref().map(shipment),
        receipt: r.receipt.as_ref().map(receipt),
        inspection: r.inspection.as_ref().map(inspection),
        resolution: r.resolution.as_ref().map(resolution),
        credit: r.credit.as_ref().map(credit),
        cancellation: r.cancellation.as_ref().map(cancellation),
        create_time: Some(timestamp(r.created_at)),
        update_time: Some(timestamp(r.updated_at)),
        close_time: r.closed_at.map(timestamp),
    }
}

/// An event as the API shows it, about `r` as it stands after the change (its sequence number and
/// cursor are filled in when read back).
pub fn event_to_proto(r: &Return, e: &ReturnEvent) -> pb::ReturnEvent {
    use pb::return_event::Detail;
    let request = |i: usize| r.supplier_requests.get(i);
    let detail = match &e.detail {
        EventDetail::None => None,
        EventDetail::Decision => Some(Detail::Decision(decision_to_proto(
            &r.decision,
            r.request.order.jurisdiction,
            r.decided.settings_version,
            r.decided.decided_at,
        ))),
        EventDetail::SupplierRequest(i) => {
            request(*i).map(|q| Detail::SupplierRequest(supplier_request(q)))
        }
        EventDetail::SupplierDecision => r
            .supplier_decision
            .as_ref()
            .map(|d| Detail::SupplierDecision(supplier_decision(d))),
        EventDetail::Breach(i, b) => request(*i).map(|q| Detail::SlaBreach(breach(r, q, b))),
        EventDetail::FailedOver { from, to } => Some(Detail::Failover(pb::Failover {
            from_supplier_id: from.to_string(),
            to_supplier_id: to.to_string(),
            breach_id: String::new(),
        })),
        EventDetail::Evidence(added) => Some(Detail::Evidence(pb::EvidenceAdded {
            items: added.iter().map(evidence).collect(),
        })),
        EventDetail::Shipment => r.shipment.as_ref().map(|s| Detail::Shipment(shipment(s))),
        EventDetail::Receipt => r.receipt.as_ref().map(|x| Detail::Receipt(receipt(x))),
        EventDetail::Inspection(report) => Some(Detail::Inspection(inspection(report))),
        EventDetail::Resolution => r
            .resolution
            .as_ref()
            .map(|x| Detail::Resolution(resolution(x))),
        EventDetail::Credit => r.credit.as_ref().map(|c| Detail::Credit(credit(c))),
        EventDetail::Cancellation => r
            .cancellation
            .as_ref()
            .map(|c| Detail::Cancellation(cancellation(c))),
    };
    pb::ReturnEvent {
        event_id: uuid::Uuid::now_v7().to_string(),
        return_id: r.id.to_string(),
        event_type: proto_enum!(pb::ReturnEventType, "RETURN_EVENT_TYPE_", e.kind),
        actor: Some(actor(&e.actor)),
        event_time: Some(timestamp(e.at)),
        from_status: status_to_proto(e.from) as i32,
        to_status: status_to_proto(e.to) as i32,
        return_version: e.version,
        supplier_id: r.supplier.to_string(),
        order_id: r.request.order.order_id.as_str().to_owned(),
        note: e.note.clone(),
        detail,
        ..Default::default()
    }
}

/// What the supplier sees of a return: its own costs, never the seller's retail prices.
pub fn supplier_view(r: &Return) -> pb::SupplierReturn {
    let order = &r.request.order;
    pb::SupplierReturn {
        return_id: r.id.to_string(),
        status: status_to_proto(r.status) as i32,
        order_id: order.order_id.as_str().to_owned(),
        order_time: Some(timestamp(order.ordered_at)),
        delivery_time: Some(timestamp(order.delivered_at)),
        customer_jurisdiction: jurisdiction_to_proto(order.jurisdiction) as i32,
        reason: reason_to_proto(r.request.reason) as i32,
        items: r
            .request
            .items
            .iter()
            .filter_map(|i| {
                let line = order.line(&i.sku)?;
                Some(pb::SupplierReturnItem {
                    sku: i.sku.as_str().to_owned(),
                    category: line.category.as_str().to_owned(),
                    quantity: i32::try_from(i.quantity).unwrap_or(i32::MAX),
                    quantity_ordered: i32::try_from(line.quantity).unwrap_or(i32::MAX),
                    unit_cost: Some(money_to_proto(line.unit_cost)),
                })
            })
            .collect(),
        evidence_uris: r
            .evidence
            .iter()
            .map(|e| e.uri.as_str().to_owned())
            .collect(),
        customer_comment: r.request.customer_comment.clone().unwrap_or_default(),
        decision: Some(decision_to_proto(
            &r.decision,
            order.jurisdiction,
            r.decided.settings_version,
            r.decided.decided_at,
        )),
        ship_by: r.ship_by.map(timestamp),
        shipment: r.shipment.as_ref().map(shipment),
        receipt: r.receipt.as_ref().map(receipt),
        inspection: r.inspection.as_ref().map(inspection),
        currency_code: order.currency.code().to_owned(),
    }
}
