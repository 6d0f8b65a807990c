//! Every change to an existing return: the lifecycle transitions, evidence and cancellation. Each
//! runs under the return's row lock, checks `expected_version`, edits the document, and appends its
//! event in the same transaction.

use super::document::{Actor, decode, event};
use super::return_id;
use crate::ApiContext;
use crate::convert::contract::instant;
use crate::convert::returns::status_to_proto;
use crate::convert::{money_input, timestamp};
use crate::error::ApiError;
use crate::idempotency::{Idempotency, idempotency_key, try_answer};
use chrono::{DateTime, Utc};
use prost::Message;
use returnbridge_core::auth::Principal;
use returnbridge_domain::ErrorReason;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::currency::Currency;
use returnbridge_domain::ids::{ReturnId, TenantId};
use returnbridge_domain::lifecycle::{ReturnStatus, Transition};
use returnbridge_domain::order_input::MAX_CLOCK_SKEW;
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{NewSettlement, ReturnRow, ReturnUpdate, StoreError};
use tonic::Request;

/// What one change does to a return.
pub(super) struct Step {
    /// The lifecycle move, or `None` for a change that keeps the status (evidence).
    pub transition: Option<Transition>,
    /// The event recording it.
    pub event_type: pb::ReturnEventType,
    /// The event's detail (none for expiry).
    pub detail: Option<pb::return_event::Detail>,
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
    idempotency: &Idempotency,
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
                    reason: ErrorReason::ReturnStatusConflict,
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
    let encode = |row: &ReturnRow| Ok(row.document.clone());
    let applied = ctx
        .store
        .update_return(tenant, id, &plan, now, idempotency.claim(&encode))
        .await?;
    ctx.events_written();
    try_answer(applied, |row| Ok(decode(row)?))
}

/// The authenticated seller, the return id and the idempotency key of a change request.
pub(super) struct Call {
    pub caller: Principal,
    pub id: ReturnId,
    pub key: Option<String>,
    pub now: DateTime<Utc>,
}

pub(super) async fn begin<T>(
    ctx: &ApiContext,
    request: &Request<T>,
    raw_id: &str,
) -> Result<Call, ApiError> {
    let caller = ctx
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

pub(super) async fn run<T: Message>(
    ctx: &ApiContext,
    call: &Call,
    rpc: &str,
    req: &T,
    expected_version: i64,
    edit: Edit<'_>,
) -> Result<pb::Return, ApiError> {
    apply(
        ctx,
        &call.caller.tenant,
        call.id,
        expected_version,
        &Actor::seller(&call.caller),
        &Idempotency::new(call.key.clone(), rpc, req),
        call.now,
        edit,
    )
    .await
}

/// Longest carrier name or tracking number.
pub(super) const MAX_SHORT_TEXT: usize = 100;

pub(super) fn invalid(v: Violations) -> Result<(), StoreError> {
    v.finish().map_err(StoreError::from)
}

/// An optional instant of the request, defaulting to now and never in the future.
pub(super) fn when(
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

/// An amount in the order's currency, not negative.
pub(super) fn amount(m: &Option<pb::Money>, field: &str, doc: &pb::Return, v: &mut Violations) {
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
pub(super) fn items(items: &[pb::ReturnItem], field: &str, doc: &pb::Return, v: &mut Violations) {
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
                reason: ErrorReason::ReturnNotOverdue,
                message: "the return is no longer awaiting shipment past its deadline".into(),
            }
            .into());
        }
        Ok(Step {
            transition: Some(Transition::Expire),
            event_type: pb::ReturnEventType::Expired,
            detail: None,
            note: "not shipped by the ship-by deadline".into(),
            settlement: None,
        })
    };
    match apply(
        ctx,
        tenant,
        id,
        0,
        &Actor::system(),
        &Idempotency::none(),
        now,
        &edit,
    )
    .await
    {
        Ok(_) => Ok(true),
        Err(ApiError::Domain(
            DomainError::FailedPrecondition { .. }
            | DomainError::StatusConflict { .. }
            | DomainError::NotFound { .. },
        )) => Ok(false),
        Err(e) => Err(e),
    }
}
