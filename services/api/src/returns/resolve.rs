//! ResolveReturn: the resolution and the final liability split, with its settlement line and ledger
//! postings, in the same transaction.

use super::change::{Step, amount, begin, invalid, items, run};
use super::document::{Actor, decode};
use super::return_not_found;
use crate::ApiContext;
use crate::convert::liability::{sides, split_to_proto};
use crate::convert::money_to_proto;
use crate::convert::timestamp;
use crate::error::ApiError;
use crate::liability::compute::{SplitAsk, decided_under, decision_of, split_of};
use chrono::{DateTime, Utc};
use prost::Message;
use returnbridge_domain::liability::LiabilitySplit;
use returnbridge_domain::lifecycle::{ReturnStatus, Transition};
use returnbridge_domain::order_input::MAX_COMMENT_CHARS;
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{LedgerEntry, NewSettlement, ReturnRow, StoreError};
use tonic::Request;
pub(super) async fn resolve(
    ctx: &ApiContext,
    request: Request<pb::ResolveReturnRequest>,
) -> Result<pb::ResolveReturnResponse, ApiError> {
    let call = begin(ctx, &request, &request.get_ref().return_id).await?;
    let req = request.into_inner();
    let Some(spec) = req.resolution.clone() else {
        return Err(DomainError::invalid("resolution", "is required").into());
    };
    // What the split needs besides the locked row is immutable (the contract version) or read
    // before the transaction (the seller's settings).
    let current = ctx
        .store
        .get_return(&call.caller.tenant, call.id)
        .await?
        .ok_or_else(|| return_not_found(call.id))?;
    let under = decided_under(ctx, &call.caller.tenant, &decode(&current)?).await?;
    let actor = Actor::seller(&call.caller).proto;
    let now = call.now;
    let note = req.note.clone();
    let edit = move |doc: &mut pb::Return, row: &ReturnRow| {
        let mut v = Violations::default();
        let resolution =
            pb::Resolution::try_from(spec.resolution).unwrap_or(pb::Resolution::Unspecified);
        v.check(
            resolution != pb::Resolution::Unspecified,
            "resolution.resolution",
            "is required: REFUND, STORE_CREDIT, EXCHANGE, REPLACEMENT or PARTIAL_REFUND",
        );
        items(&spec.items, "resolution.items", doc, &mut v);
        amount(&spec.allowance, "resolution.allowance", doc, &mut v);
        amount(&spec.compensation, "resolution.compensation", doc, &mut v);
        for (i, line) in spec.exchange_lines.iter().enumerate() {
            let field = format!("resolution.exchange_lines[{i}]");
            v.check(!line.sku.is_empty(), format!("{field}.sku"), "is required");
            v.check(
                (1..=10_000).contains(&line.quantity),
                format!("{field}.quantity"),
                "must be between 1 and 10000",
            );
            amount(
                &line.unit_price,
                &format!("{field}.unit_price"),
                doc,
                &mut v,
            );
        }
        v.text("note", &note, MAX_COMMENT_CHARS);
        invalid(v)?;
        // Goods that are not coming back (returnless refund, compensation claim, keep-with-allowance)
        // resolve straight from AUTHORIZED; everything else after inspection.
        let claim_kind = doc
            .decision
            .as_ref()
            .map(|d| d.claim_kind)
            .unwrap_or_default();
        let without_return = row.status == ReturnStatus::Authorized
            && (claim_kind != pb::ClaimKind::Return as i32
                || resolution == pb::Resolution::PartialRefund);
        let transition = if without_return {
            Transition::ResolveWithoutReturn
        } else {
            Transition::Resolve
        };
        transition.apply(row.status)?;
        let (parsed, decision) = decision_of(doc, &under)?;
        let ask = SplitAsk {
            spec: &spec,
            inspection: doc.inspection.as_ref(),
            assumed_outcome: None,
            label_cost: doc.label_cost.as_ref(),
            field: "resolution",
        };
        let split = split_of(&parsed, &decision, &under, &ask)?;
        let shown = split_to_proto(&split, &doc.return_id, false, now);
        let recorded = pb::ResolutionRecord {
            spec: Some(spec.clone()),
            customer_refund: shown.customer_refund.clone(),
            customer_charge: shown.customer_charge.clone(),
            resolve_time: Some(timestamp(now)),
            resolved_by: Some(actor.clone()),
            note: note.clone(),
        };
        doc.resolution = Some(recorded.clone());
        let settlement = settlement(doc, &split, &shown, row, now);
        Ok(Step {
            transition: Some(transition),
            event_type: pb::ReturnEventType::Resolved,
            detail: Some(pb::return_event::Detail::Resolution(recorded)),
            note: note.clone(),
            settlement: Some(settlement),
        })
    };
    let doc = run(
        ctx,
        &call,
        "ResolveReturn",
        &req,
        req.expected_version,
        &edit,
    )
    .await?;
    let split = ctx
        .store
        .liability_split(&call.caller.tenant, call.id)
        .await?
        .map(|bytes| pb::LiabilitySplit::decode(bytes.as_slice()))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("split of {}: {e}", call.id)))?;
    Ok(pb::ResolveReturnResponse {
        return_case: Some(doc),
        split,
    })
}

/// The resolved return's line in its supplier's settlement, and its ledger postings.
fn settlement(
    doc: &pb::Return,
    split: &LiabilitySplit,
    shown: &pb::LiabilitySplit,
    row: &ReturnRow,
    now: DateTime<Utc>,
) -> NewSettlement {
    let (owed_to_seller, owed_to_supplier) = sides(split.supplier_net_to_seller);
    let line = pb::SettlementLine {
        return_id: doc.return_id.clone(),
        order_id: row.order_id.clone(),
        external_reference: doc.external_reference.clone(),
        resolve_time: Some(timestamp(now)),
        reason: doc.reason,
        resolution: shown.resolution,
        fault_class: shown.fault_class,
        supplier_owes_seller: Some(money_to_proto(owed_to_seller)),
        seller_owes_supplier: Some(money_to_proto(owed_to_supplier)),
        net: shown.supplier_net_to_seller.clone(),
        contract_version: split.contract_version,
    };
    NewSettlement {
        supplier: row.supplier,
        currency: split.currency.code().to_owned(),
        resolved_at: now,
        contract_version: split.contract_version,
        profile_version: split.profile_version.to_owned(),
        supplier_owes_seller: owed_to_seller.amount_minor,
        seller_owes_supplier: owed_to_supplier.amount_minor,
        split: shown.encode_to_vec(),
        line: line.encode_to_vec(),
        entries: split
            .allocations
            .iter()
            .map(|a| LedgerEntry {
                party: a.party.as_str().to_owned(),
                component: a.component.as_str().to_owned(),
                amount: a.amount.amount_minor,
                rule: a.rule.as_str().to_owned(),
            })
            .collect(),
    }
}
