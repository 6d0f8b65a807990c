//! Rewrites returns stored before the store owned its encoding (each row held the v1 `Return`
//! message) as the domain return. Runs after migrations, on every start; it finds nothing to do once
//! every row is upgraded.

use crate::convert::contract::instant;
use crate::convert::returns::{request_input, status_from_proto};
use crate::liability::compute::{Versions, load_decided_under, money, resolution_ask};
use prost::Message;
use returnbridge_domain::Violations;
use returnbridge_domain::decision::Outcome;
use returnbridge_domain::eligibility::decide;
use returnbridge_domain::ids::{ReturnId, SupplierId};
use returnbridge_domain::money::Money;
use returnbridge_domain::order::{EvidenceUri, ReturnItem, ReturnedUnits, Sku};
use returnbridge_domain::returns::{
    Actor, ActorKind, Cancellation, CreditConfirmation, DecidedUnder, Evidence, InspectedItem,
    InspectionOutcome, InspectionReport, Receipt, ResolutionRecord, Return, Shipment,
    SupplierDeadlines, SupplierRequest, SupplierRequestKind, SupplierRequestState,
};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{LEGACY_RETURN_FORMAT, LegacyReturn, Store, StoreError};
use std::sync::Arc;

/// Rows read per round.
const ROUND: u32 = 100;

/// Upgrades every return still stored in the v1 message format; how many it rewrote.
pub async fn upgrade_stored_returns(store: &Arc<dyn Store>) -> Result<usize, StoreError> {
    let mut upgraded = 0;
    loop {
        let batch = store.legacy_returns(ROUND).await?;
        if batch.is_empty() {
            return Ok(upgraded);
        }
        for legacy in &batch {
            let ret = from_legacy(store, legacy).await?;
            if store.upgrade_return(&legacy.tenant, &ret).await? {
                upgraded += 1;
            }
        }
        tracing::info!(upgraded, "returns rewritten in the store's own format");
    }
}

/// What went wrong reading one legacy return.
fn corrupt(id: ReturnId, what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("return {id} (v1-proto) cannot be upgraded: {what}"))
}

async fn from_legacy(store: &Arc<dyn Store>, legacy: &LegacyReturn) -> Result<Return, StoreError> {
    let id = legacy.id;
    if legacy.format != LEGACY_RETURN_FORMAT {
        return Err(corrupt(id, format!("unknown format {:?}", legacy.format)));
    }
    let doc = pb::Return::decode(legacy.document.as_slice()).map_err(|e| corrupt(id, e))?;
    let mut v = Violations::default();
    let at = |t: &Option<prost_types::Timestamp>, v: &mut Violations| {
        t.as_ref().and_then(|t| instant(t, "time", v))
    };
    let decision = doc.decision.clone().unwrap_or_default();
    let decided_at =
        at(&decision.decide_time, &mut v).ok_or_else(|| corrupt(id, "no decision time"))?;
    // The request as it was decided: evidence added later played no part in it.
    let original = pb::AuthorizeReturnRequest {
        order: doc.order.clone(),
        items: doc.items.clone(),
        reason: doc.reason,
        evidence_uris: doc
            .evidence
            .iter()
            .filter(|e| at(&e.add_time, &mut Violations::default()).is_none_or(|t| t <= decided_at))
            .map(|e| e.uri.clone())
            .collect(),
        label_cost_estimate: None,
        customer_comment: doc.customer_comment.clone(),
        external_reference: String::new(),
    };
    let request = request_input(&original, &mut Violations::default())
        .parse(decided_at)
        .map_err(|e| corrupt(id, e))?;
    // The decision is decided again from the return's own facts and the versions it recorded, as
    // every split of such a return was until now; the stored outcome stands.
    let tenant = &legacy.tenant;
    let versions = Versions {
        supplier: request.order.supplier,
        contract: decision.contract_version,
        settings: decision.seller_settings_version,
    };
    let under = load_decided_under(store.as_ref(), tenant, id, &versions).await?;
    let mut decided = decide(
        &request,
        &ReturnedUnits::new(),
        &under.contract,
        request.order.jurisdiction.profile(),
        &under.settings,
        decided_at,
    );
    decided.outcome = match pb::DecisionOutcome::try_from(decision.outcome) {
        Ok(pb::DecisionOutcome::Authorized) => Outcome::Authorized,
        Ok(pb::DecisionOutcome::PendingSupplier) => Outcome::PendingSupplier,
        Ok(pb::DecisionOutcome::Rejected) => Outcome::Rejected,
        _ => decided.outcome,
    };
    let actor = |a: &Option<pb::Actor>| {
        let a = a.clone().unwrap_or_default();
        let kind = pb::ActorKind::try_from(a.kind)
            .ok()
            .and_then(|k| ActorKind::parse(k.as_str_name().strip_prefix("ACTOR_KIND_")?).ok())
            .unwrap_or(ActorKind::System);
        Actor { kind, id: a.id }
    };
    let amount = |m: &Option<pb::Money>, v: &mut Violations| -> Option<Money> {
        money(m.as_ref()?, "amount", v)
    };
    let lines = |items: &[pb::ReturnItem], v: &mut Violations| -> Vec<ReturnItem> {
        items
            .iter()
            .filter_map(|i| {
                Some(ReturnItem {
                    sku: v.take("sku", Sku::parse(&i.sku))?,
                    quantity: u32::try_from(i.quantity).ok()?,
                })
            })
            .collect()
    };
    let outcome = |raw: i32| {
        pb::InspectionOutcome::try_from(raw).ok().and_then(|o| {
            InspectionOutcome::parse(o.as_str_name().strip_prefix("INSPECTION_OUTCOME_")?).ok()
        })
    };
    let created_at = at(&doc.create_time, &mut v).unwrap_or(decided_at);
    let updated_at = at(&doc.update_time, &mut v).unwrap_or(created_at);
    let evidence = doc
        .evidence
        .iter()
        .filter_map(|e| {
            Some(Evidence {
                uri: v.take("evidence", EvidenceUri::parse(&e.uri))?,
                description: e.description.clone(),
                added_at: at(&e.add_time, &mut v).unwrap_or(created_at),
                added_by: actor(&e.added_by),
            })
        })
        .collect();
    let shipment = doc.shipment.as_ref().map(|s| Shipment {
        carrier: s.carrier.clone(),
        tracking_number: s.tracking_number.clone(),
        label_cost: amount(&s.label_cost, &mut v),
        shipped_at: at(&s.ship_time, &mut v).unwrap_or(updated_at),
        recorded_by: actor(&s.recorded_by),
    });
    let receipt = doc.receipt.as_ref().map(|r| Receipt {
        received_at: at(&r.receive_time, &mut v).unwrap_or(updated_at),
        items: lines(&r.items, &mut v),
        note: r.note.clone(),
        recorded_by: actor(&r.recorded_by),
    });
    let inspection = doc.inspection.as_ref().and_then(|i| {
        Some(InspectionReport {
            outcome: outcome(i.outcome)?,
            items: i
                .items
                .iter()
                .filter_map(|item| {
                    Some(InspectedItem {
                        sku: Sku::parse(&item.sku).ok()?,
                        quantity: u32::try_from(item.quantity).ok()?,
                        outcome: outcome(item.outcome),
                    })
                })
                .collect(),
            damage_deduction: amount(&i.damage_deduction, &mut v),
            note: i.note.clone(),
            evidence: i
                .evidence_uris
                .iter()
                .filter_map(|u| EvidenceUri::parse(u).ok())
                .collect(),
            inspected_at: at(&i.inspect_time, &mut v).unwrap_or(updated_at),
            recorded_by: actor(&i.recorded_by),
        })
    });
    let currency = request.order.currency;
    let resolution = doc.resolution.as_ref().and_then(|r| {
        Some(ResolutionRecord {
            ask: resolution_ask(r.spec.as_ref()?, "resolution", &mut v)?,
            customer_refund: amount(&r.customer_refund, &mut v).unwrap_or(Money::zero(currency)),
            customer_charge: amount(&r.customer_charge, &mut v).unwrap_or(Money::zero(currency)),
            resolved_at: at(&r.resolve_time, &mut v).unwrap_or(updated_at),
            resolved_by: actor(&r.resolved_by),
            note: r.note.clone(),
        })
    });
    let credit = doc.credit.as_ref().and_then(|c| {
        Some(CreditConfirmation {
            amount: amount(&c.amount, &mut v)?,
            reference: c.credit_reference.clone(),
            credited_at: at(&c.credit_time, &mut v).unwrap_or(updated_at),
            recorded_by: actor(&c.recorded_by),
        })
    });
    let cancellation = doc.cancellation.as_ref().map(|c| Cancellation {
        reason: c.reason.clone(),
        cancelled_at: at(&c.cancel_time, &mut v).unwrap_or(updated_at),
        cancelled_by: actor(&c.cancelled_by),
    });
    let supplier_requests = doc
        .supplier_requests
        .iter()
        .filter_map(|r| {
            let kind = pb::SupplierRequestKind::try_from(r.kind).ok()?;
            let state = pb::SupplierRequestState::try_from(r.state).ok()?;
            let deadlines = r.deadlines.unwrap_or_default();
            Some(SupplierRequest {
                id: uuid::Uuid::try_parse(&r.request_id).ok()?,
                kind: SupplierRequestKind::parse(
                    kind.as_str_name().strip_prefix("SUPPLIER_REQUEST_KIND_")?,
                )
                .ok()?,
                supplier: SupplierId::parse(&r.supplier_id).ok()?,
                state: SupplierRequestState::parse(
                    state
                        .as_str_name()
                        .strip_prefix("SUPPLIER_REQUEST_STATE_")?,
                )
                .ok()?,
                deadlines: SupplierDeadlines {
                    ack_by: at(&deadlines.ack_by, &mut v),
                    decide_by: at(&deadlines.decide_by, &mut v),
                    credit_by: at(&deadlines.credit_by, &mut v),
                },
                created_at: at(&r.create_time, &mut v).unwrap_or(created_at),
                delivered_at: at(&r.deliver_time, &mut v),
                acknowledged_at: at(&r.acknowledge_time, &mut v),
                answered_at: at(&r.answer_time, &mut v),
                delivery_attempts: u32::try_from(r.delivery_attempts).unwrap_or(0),
                failover: r.failover,
                breaches: Vec::new(),
            })
        })
        .collect();
    let status = status_from_proto(doc.status).ok_or_else(|| corrupt(id, "no status"))?;
    let supplier = SupplierId::parse(&doc.handling_supplier_id).unwrap_or(request.order.supplier);
    let ret = Return {
        id,
        status,
        version: doc.version,
        external_reference: doc.external_reference.clone(),
        decision: decided,
        decided: DecidedUnder {
            settings_version: decision.seller_settings_version,
            decided_at,
        },
        supplier,
        label_cost: amount(&doc.label_cost, &mut v),
        ship_by: at(&doc.ship_by, &mut v),
        evidence,
        supplier_requests,
        supplier_decision: None,
        shipment,
        receipt,
        inspection,
        resolution,
        credit,
        cancellation,
        created_at,
        updated_at,
        closed_at: at(&doc.close_time, &mut v),
        request,
    };
    v.finish().map_err(|e| corrupt(id, e))?;
    Ok(ret)
}
