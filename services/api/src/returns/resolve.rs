//! ResolveReturn: the resolution and the final liability split, with its settlement line and ledger
//! postings, in the same transaction.

use super::change::{Changed, begin, run};
use super::document::seller;
use super::return_not_found;
use crate::ApiContext;
use crate::convert::contract::reason_to_proto;
use crate::convert::liability::{sides, split_to_proto};
use crate::convert::money_to_proto;
use crate::convert::timestamp;
use crate::error::ApiError;
use crate::liability::compute::{decided_under, resolution_ask};
use chrono::{DateTime, Utc};
use prost::Message;
use returnbridge_domain::liability::LiabilitySplit;
use returnbridge_domain::order_input::MAX_COMMENT_CHARS;
use returnbridge_domain::returns::Return;
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{LedgerEntry, NewSettlement, StoreError};
use tonic::Request;

pub(super) async fn resolve(
    ctx: &ApiContext,
    request: Request<pb::ResolveReturnRequest>,
) -> Result<pb::ResolveReturnResponse, ApiError> {
    let call = begin(ctx, &request, &request.get_ref().return_id).await?;
    let req = request.into_inner();
    let Some(spec) = &req.resolution else {
        return Err(DomainError::invalid("resolution", "is required").into());
    };
    let mut v = Violations::default();
    v.check(
        spec.resolution != pb::Resolution::Unspecified as i32,
        "resolution.resolution",
        "is required: REFUND, STORE_CREDIT, EXCHANGE, REPLACEMENT or PARTIAL_REFUND",
    );
    v.text("note", &req.note, MAX_COMMENT_CHARS);
    let ask = resolution_ask(spec, "resolution", &mut v);
    let ask = v.finish_with(ask, "resolution")?;
    // What the split needs besides the locked return is immutable: the contract version and the
    // seller settings version its decision recorded.
    let current = ctx
        .store
        .get_return(&call.caller.tenant, call.id)
        .await?
        .ok_or_else(|| return_not_found(call.id))?;
    let under = decided_under(ctx, &call.caller.tenant, &current).await?;
    let actor = seller(&call.caller);
    let now = call.now;
    let edit = |ret: &mut Return| {
        let terms = under.terms(ret);
        let (event, split) = ret.resolve(ask.clone(), &terms, &actor, now, req.note.clone())?;
        let shown = split_to_proto(&split, &ret.id.to_string(), false, now);
        Ok(Changed {
            events: vec![event],
            settlement: Some(settlement(ret, &split, &shown, now)),
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
    ret: &Return,
    split: &LiabilitySplit,
    shown: &pb::LiabilitySplit,
    now: DateTime<Utc>,
) -> NewSettlement {
    let (owed_to_seller, owed_to_supplier) = sides(split.supplier_net_to_seller);
    let line = pb::SettlementLine {
        return_id: ret.id.to_string(),
        order_id: ret.request.order.order_id.as_str().to_owned(),
        external_reference: ret.external_reference.clone(),
        resolve_time: Some(timestamp(now)),
        reason: reason_to_proto(ret.request.reason) as i32,
        resolution: shown.resolution,
        fault_class: shown.fault_class,
        supplier_owes_seller: Some(money_to_proto(owed_to_seller)),
        seller_owes_supplier: Some(money_to_proto(owed_to_supplier)),
        net: shown.supplier_net_to_seller.clone(),
        contract_version: split.contract_version,
    };
    NewSettlement {
        supplier: ret.supplier,
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
