//! Every change to an existing return: the lifecycle transitions, evidence and cancellation. Each
//! runs under the return's row lock, checks `expected_version`, edits the document, and appends its
//! event in the same transaction.

use super::document::{Actor, decode, event};
use super::return_id;
use crate::ApiContext;
use crate::auth::Principal;
use crate::convert::contract::instant;
use crate::convert::liability::{sides, split_to_proto};
use crate::convert::money_to_proto;
use crate::convert::returns::status_to_proto;
use crate::convert::{money_input, timestamp};
use crate::error::ApiError;
use crate::idempotency::{answer, claim, idempotency_key, request_hash};
use crate::liability::compute::{SplitAsk, decided_under, decision_of, split_of};
use chrono::{DateTime, Utc};
use prost::Message;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::currency::Currency;
use returnbridge_domain::ids::{ReturnId, TenantId};
use returnbridge_domain::liability::LiabilitySplit;
use returnbridge_domain::lifecycle::{ReturnStatus, Transition};
use returnbridge_domain::order::EvidenceUri;
use returnbridge_domain::order_input::{MAX_CLOCK_SKEW, MAX_COMMENT_CHARS, MAX_EVIDENCE};
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{LedgerEntry, NewSettlement, ReturnRow, ReturnUpdate, StoreError};
use tonic::Request;

/// What one change does to a return.
pub(super) struct Step {
    /// The lifecycle move, or `None` for a change that keeps the status (evidence).
    pub transition: Option<Transition>,
    /// The event recording it.
    pub event_type: pb::ReturnEventType,
    /// The event's detail.
    pub detail: pb::return_event::Detail,
    /// A note for people.
    pub note: String,
    /// The final liability split, when the change resolves the return.
    pub settlement: Option<NewSettlement>,
}

/// Edits the document of a return for one change, or refuses it.
pub(super) type Edit<'a> =
    &'a (dyn Fn(&mut pb::Return, &ReturnRow) -> Result<Step, StoreError> + Send + Sync);

/// One change, start to end: the plan run under the row lock, and the answer.
#[allow(clippy::too_many_arguments)]
pub(super) async fn apply(
    ctx: &ApiContext,
    tenant: &TenantId,
    id: ReturnId,
    expected_version: i64,
    actor: &Actor,
    idempotency: Option<(&str, [u8; 32])>,
    now: DateTime<Utc>,
    edit: Edit<'_>,
) -> Result<pb::Return, ApiError> {
    if expected_version < 0 {
        return Err(DomainError::invalid(
            "expected_version",
            "must be positive, or 0 to skip the check",
        )
        .into());
    }
    let plan = |row: &ReturnRow| -> Result<ReturnUpdate, StoreError> {
        if expected_version > 0 && expected_version != row.version {
            return Err(DomainError::VersionConflict {
                expected: expected_version,
                current: row.version,
            }
            .into());
        }
        let mut doc = decode(row)?;
        let from = row.status;
        let step = edit(&mut doc, row)?;
        let to = match step.transition {
            Some(t) => t.apply(from)?,
            None if from.is_terminal() => {
                return Err(DomainError::FailedPrecondition {
                    reason: "RETURN_STATUS_CONFLICT",
                    message: format!(
                        "the return is {from}, a final status: it can no longer change"
                    ),
                }
                .into());
            }
            None => from,
        };
        doc.status = status_to_proto(to) as i32;
        doc.version = row.version + 1;
        doc.update_time = Some(timestamp(now));
        if to.is_terminal() {
            doc.close_time = Some(timestamp(now));
        }
        // Units no longer coming back are released for later returns of the order.
        let release = if matches!(
            to,
            ReturnStatus::Cancelled | ReturnStatus::Expired | ReturnStatus::Rejected
        ) && from != to
        {
            doc.items
                .iter()
                .map(|i| (i.sku.clone(), i64::from(i.quantity)))
                .collect()
        } else {
            Vec::new()
        };
        // A change that keeps the status (evidence) records it as both from and to.
        let event = event(
            &doc,
            step.event_type,
            actor,
            Some(from),
            Some(to),
            now,
            step.note.clone(),
            step.detail.clone(),
        );
        Ok(ReturnUpdate {
            row: ReturnRow {
                status: to,
                version: row.version + 1,
                ship_by: row.ship_by.filter(|_| to == ReturnStatus::Authorized),
                updated_at: now,
                document: doc.encode_to_vec(),
                ..row.clone()
            },
            event,
            outbox: None,
            release,
            settlement: step.settlement,
        })
    };
    let encode = |row: &ReturnRow| row.document.clone();
    let applied = ctx
        .store
        .update_return(
            tenant,
            id,
            &plan,
            now,
            claim(
                idempotency.map(|(k, _)| k),
                idempotency.map(|(_, h)| h).unwrap_or_default(),
                &encode,
            ),
        )
        .await?;
    ctx.events_written();
    answer(applied, |row| decode(row).unwrap_or_default())
}

/// The authenticated seller, the return id and the idempotency key of a change request.
struct Call {
    caller: Principal,
    id: ReturnId,
    key: Option<String>,
    now: DateTime<Utc>,
}

async fn begin<T>(ctx: &ApiContext, request: &Request<T>, raw_id: &str) -> Result<Call, ApiError> {
    let caller = ctx
        .auth
        .authorize(request.metadata(), Scope::ReturnsWrite)
        .await?;
    let key = idempotency_key(request.metadata(), false)?;
    Ok(Call {
        caller,
        id: return_id(raw_id, "return_id")?,
        key,
        now: ctx.clock.now(),
    })
}

async fn run<T: Message>(
    ctx: &ApiContext,
    call: &Call,
    rpc: &str,
    req: &T,
    expected_version: i64,
    edit: Edit<'_>,
) -> Result<pb::Return, ApiError> {
    let hash = request_hash(rpc, req);
    apply(
        ctx,
        &call.caller.tenant,
        call.id,
        expected_version,
        &Actor::seller(&call.caller),
        call.key.as_deref().map(|k| (k, hash)),
        call.now,
        edit,
    )
    .await
}

fn invalid(v: Violations) -> Result<(), StoreError> {
    v.finish().map_err(StoreError::from)
}

/// An optional instant of the request, defaulting to now and never in the future.
fn when(
    t: &Option<prost_types::Timestamp>,
    field: &str,
    now: DateTime<Utc>,
    v: &mut Violations,
) -> DateTime<Utc> {
    match t.as_ref().and_then(|t| instant(t, field, v)) {
        Some(at) if at > now + MAX_CLOCK_SKEW => {
            v.add(field, "lies in the future; send the instant it happened");
            now
        }
        Some(at) => at,
        None => now,
    }
}

fn text(raw: &str, max: usize, field: &str, v: &mut Violations) {
    v.check(
        raw.chars().count() <= max,
        field,
        format!("must be at most {max} characters"),
    );
}

/// An amount in the order's currency, not negative.
fn amount(m: &Option<pb::Money>, field: &str, doc: &pb::Return, v: &mut Violations) {
    let Some(m) = m else { return };
    let input = money_input(m);
    let order_currency = doc
        .order
        .as_ref()
        .map(|o| o.currency_code.as_str())
        .unwrap_or_default();
    match Currency::parse(&input.currency) {
        Err(e) => v.add(format!("{field}.currency_code"), e),
        Ok(c) if c.code() != order_currency => v.add(
            format!("{field}.currency_code"),
            format!("must be {order_currency}, the order's currency: one return has one currency"),
        ),
        Ok(_) => {}
    }
    v.check(
        input.amount_minor >= 0,
        format!("{field}.amount_minor"),
        "must not be negative",
    );
}

/// SKUs of the request must be returned lines, with no more units than the return holds.
fn items(items: &[pb::ReturnItem], field: &str, doc: &pb::Return, v: &mut Violations) {
    for (i, item) in items.iter().enumerate() {
        match doc.items.iter().find(|r| r.sku == item.sku) {
            None => v.add(format!("{field}[{i}].sku"), "is not a line of this return"),
            Some(r) if item.quantity < 1 || item.quantity > r.quantity => v.add(
                format!("{field}[{i}].quantity"),
                format!("must be between 1 and the {} units returned", r.quantity),
            ),
            Some(_) => {}
        }
    }
}

const MAX_SHORT_TEXT: usize = 100;

pub(super) async fn record_shipment(
    ctx: &ApiContext,
    request: Request<pb::RecordShipmentRequest>,
) -> Result<pb::RecordShipmentResponse, ApiError> {
    let call = begin(ctx, &request, &request.get_ref().return_id).await?;
    let req = request.into_inner();
    let Some(shipment) = req.shipment.clone() else {
        return Err(DomainError::invalid("shipment", "is required").into());
    };
    let actor = Actor::seller(&call.caller).proto;
    let now = call.now;
    let edit = move |doc: &mut pb::Return, _: &ReturnRow| {
        let mut v = Violations::default();
        text(
            &shipment.carrier,
            MAX_SHORT_TEXT,
            "shipment.carrier",
            &mut v,
        );
        text(
            &shipment.tracking_number,
            MAX_SHORT_TEXT,
            "shipment.tracking_number",
            &mut v,
        );
        amount(&shipment.label_cost, "shipment.label_cost", doc, &mut v);
        let shipped = when(&shipment.ship_time, "shipment.ship_time", now, &mut v);
        invalid(v)?;
        let recorded = pb::Shipment {
            ship_time: Some(timestamp(shipped)),
            recorded_by: Some(actor.clone()),
            ..shipment.clone()
        };
        if recorded.label_cost.is_some() {
            doc.label_cost = recorded.label_cost.clone();
        }
        doc.shipment = Some(recorded.clone());
        Ok(Step {
            transition: Some(Transition::Ship),
            event_type: pb::ReturnEventType::Shipped,
            detail: pb::return_event::Detail::Shipment(recorded),
            note: String::new(),
            settlement: None,
        })
    };
    let doc = run(
        ctx,
        &call,
        "RecordShipment",
        &req,
        req.expected_version,
        &edit,
    )
    .await?;
    Ok(pb::RecordShipmentResponse {
        return_case: Some(doc),
    })
}

pub(super) async fn record_receipt(
    ctx: &ApiContext,
    request: Request<pb::RecordReceiptRequest>,
) -> Result<pb::RecordReceiptResponse, ApiError> {
    let call = begin(ctx, &request, &request.get_ref().return_id).await?;
    let req = request.into_inner();
    let receipt = req.receipt.clone().unwrap_or_default();
    let actor = Actor::seller(&call.caller).proto;
    let now = call.now;
    let edit = move |doc: &mut pb::Return, _: &ReturnRow| {
        let mut v = Violations::default();
        items(&receipt.items, "receipt.items", doc, &mut v);
        text(&receipt.note, MAX_COMMENT_CHARS, "receipt.note", &mut v);
        let received = when(&receipt.receive_time, "receipt.receive_time", now, &mut v);
        invalid(v)?;
        let recorded = pb::Receipt {
            receive_time: Some(timestamp(received)),
            items: if receipt.items.is_empty() {
                doc.items.clone()
            } else {
                receipt.items.clone()
            },
            recorded_by: Some(actor.clone()),
            ..receipt.clone()
        };
        doc.receipt = Some(recorded.clone());
        Ok(Step {
            transition: Some(Transition::Receive),
            event_type: pb::ReturnEventType::Received,
            detail: pb::return_event::Detail::Receipt(recorded),
            note: String::new(),
            settlement: None,
        })
    };
    let doc = run(
        ctx,
        &call,
        "RecordReceipt",
        &req,
        req.expected_version,
        &edit,
    )
    .await?;
    Ok(pb::RecordReceiptResponse {
        return_case: Some(doc),
    })
}

pub(super) async fn record_inspection(
    ctx: &ApiContext,
    request: Request<pb::RecordInspectionRequest>,
) -> Result<pb::RecordInspectionResponse, ApiError> {
    let call = begin(ctx, &request, &request.get_ref().return_id).await?;
    let req = request.into_inner();
    let Some(inspection) = req.inspection.clone() else {
        return Err(DomainError::invalid("inspection", "is required").into());
    };
    let actor = Actor::seller(&call.caller).proto;
    let now = call.now;
    let edit = move |doc: &mut pb::Return, _: &ReturnRow| {
        let mut v = Violations::default();
        v.check(
            !matches!(
                pb::InspectionOutcome::try_from(inspection.outcome),
                Ok(pb::InspectionOutcome::Unspecified) | Err(_)
            ),
            "inspection.outcome",
            "is required: PASSED, DAMAGED_BY_CUSTOMER, MISSING_ORIGINAL_PACKAGING, DEFECT_NOT_FOUND or ITEM_MISMATCH",
        );
        let lines: Vec<_> = inspection
            .items
            .iter()
            .map(|i| pb::ReturnItem {
                sku: i.sku.clone(),
                quantity: i.quantity,
            })
            .collect();
        items(&lines, "inspection.items", doc, &mut v);
        amount(
            &inspection.damage_deduction,
            "inspection.damage_deduction",
            doc,
            &mut v,
        );
        text(
            &inspection.note,
            MAX_COMMENT_CHARS,
            "inspection.note",
            &mut v,
        );
        v.check(
            inspection.evidence_uris.len() <= MAX_EVIDENCE,
            "inspection.evidence_uris",
            format!("at most {MAX_EVIDENCE} links"),
        );
        for (i, uri) in inspection.evidence_uris.iter().enumerate() {
            v.take(
                &format!("inspection.evidence_uris[{i}]"),
                EvidenceUri::parse(uri),
            );
        }
        let inspected = when(
            &inspection.inspect_time,
            "inspection.inspect_time",
            now,
            &mut v,
        );
        invalid(v)?;
        let recorded = pb::Inspection {
            inspect_time: Some(timestamp(inspected)),
            recorded_by: Some(actor.clone()),
            ..inspection.clone()
        };
        doc.inspection = Some(recorded.clone());
        Ok(Step {
            transition: Some(Transition::Inspect),
            event_type: pb::ReturnEventType::Inspected,
            detail: pb::return_event::Detail::Inspection(recorded),
            note: String::new(),
            settlement: None,
        })
    };
    let doc = run(
        ctx,
        &call,
        "RecordInspection",
        &req,
        req.expected_version,
        &edit,
    )
    .await?;
    Ok(pb::RecordInspectionResponse {
        return_case: Some(doc),
    })
}

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
        .ok_or_else(|| not_found(call.id))?;
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
        text(&note, MAX_COMMENT_CHARS, "note", &mut v);
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
            detail: pb::return_event::Detail::Resolution(recorded),
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

fn not_found(id: ReturnId) -> ApiError {
    DomainError::NotFound {
        resource: "RETURN",
        id: id.to_string(),
    }
    .into()
}

pub(super) async fn cancel(
    ctx: &ApiContext,
    request: Request<pb::CancelReturnRequest>,
) -> Result<pb::CancelReturnResponse, ApiError> {
    let call = begin(ctx, &request, &request.get_ref().return_id).await?;
    let req = request.into_inner();
    let actor = Actor::seller(&call.caller).proto;
    let now = call.now;
    let reason = req.reason.clone();
    let edit = move |doc: &mut pb::Return, _: &ReturnRow| {
        let mut v = Violations::default();
        text(&reason, 500, "reason", &mut v);
        invalid(v)?;
        let recorded = pb::Cancellation {
            reason: reason.clone(),
            cancel_time: Some(timestamp(now)),
            cancelled_by: Some(actor.clone()),
        };
        doc.cancellation = Some(recorded.clone());
        Ok(Step {
            transition: Some(Transition::Cancel),
            event_type: pb::ReturnEventType::Cancelled,
            detail: pb::return_event::Detail::Cancellation(recorded),
            note: reason.clone(),
            settlement: None,
        })
    };
    let doc = run(
        ctx,
        &call,
        "CancelReturn",
        &req,
        req.expected_version,
        &edit,
    )
    .await?;
    Ok(pb::CancelReturnResponse {
        return_case: Some(doc),
    })
}

pub(super) async fn add_evidence(
    ctx: &ApiContext,
    request: Request<pb::AddEvidenceRequest>,
) -> Result<pb::AddEvidenceResponse, ApiError> {
    let call = begin(ctx, &request, &request.get_ref().return_id).await?;
    let req = request.into_inner();
    let actor = Actor::seller(&call.caller).proto;
    let now = call.now;
    let evidence = req.evidence.clone();
    let edit = move |doc: &mut pb::Return, _: &ReturnRow| {
        let mut v = Violations::default();
        v.check(
            !evidence.is_empty(),
            "evidence",
            "must list at least one item",
        );
        v.check(
            doc.evidence.len() + evidence.len() <= MAX_EVIDENCE,
            "evidence",
            format!(
                "a return holds at most {MAX_EVIDENCE} evidence items; it has {}",
                doc.evidence.len()
            ),
        );
        for (i, e) in evidence.iter().enumerate() {
            v.take(&format!("evidence[{i}].uri"), EvidenceUri::parse(&e.uri));
            text(
                &e.description,
                500,
                &format!("evidence[{i}].description"),
                &mut v,
            );
        }
        invalid(v)?;
        let added: Vec<_> = evidence
            .iter()
            .map(|e| pb::Evidence {
                uri: e.uri.clone(),
                description: e.description.clone(),
                add_time: Some(timestamp(now)),
                added_by: Some(actor.clone()),
            })
            .collect();
        doc.evidence.extend(added.iter().cloned());
        Ok(Step {
            transition: None,
            event_type: pb::ReturnEventType::EvidenceAdded,
            detail: pb::return_event::Detail::Evidence(pb::EvidenceAdded { items: added }),
            note: String::new(),
            settlement: None,
        })
    };
    let doc = run(ctx, &call, "AddEvidence", &req, req.expected_version, &edit).await?;
    Ok(pb::AddEvidenceResponse {
        return_case: Some(doc),
    })
}

/// Expires one overdue return, if it still is: safe to race with other replicas' sweeps, since the
/// row lock and the status check decide.
pub(super) async fn expire(
    ctx: &ApiContext,
    tenant: &TenantId,
    id: ReturnId,
) -> Result<bool, ApiError> {
    let now = ctx.clock.now();
    let edit = move |_: &mut pb::Return, row: &ReturnRow| {
        if row.ship_by.is_none_or(|by| by > now) {
            return Err(DomainError::FailedPrecondition {
                reason: "RETURN_NOT_OVERDUE",
                message: "the return is no longer awaiting shipment past its deadline".into(),
            }
            .into());
        }
        Ok(Step {
            transition: Some(Transition::Expire),
            event_type: pb::ReturnEventType::Expired,
            detail: pb::return_event::Detail::Cancellation(pb::Cancellation {
                reason: "not shipped by the ship-by deadline".into(),
                cancel_time: Some(timestamp(now)),
                cancelled_by: Some(Actor::system().proto),
            }),
            note: "not shipped by the ship-by deadline".into(),
            settlement: None,
        })
    };
    match apply(ctx, tenant, id, 0, &Actor::system(), None, now, &edit).await {
        Ok(_) => Ok(true),
        Err(ApiError::Domain(
            DomainError::FailedPrecondition { .. } | DomainError::NotFound { .. },
        )) => Ok(false),
        Err(e) => Err(e),
    }
}
