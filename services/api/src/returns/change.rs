//! Every change to an existing return: the lifecycle transitions, evidence and cancellation. Each
//! runs under the return's row lock, checks `expected_version`, changes the return through its own
//! methods, and appends its event in the same transaction.

use super::return_id;
use crate::ApiContext;
use crate::convert::contract::instant;
use crate::convert::money_input;
use crate::convert::return_view::return_to_proto;
use crate::error::ApiError;
use crate::idempotency::{Idempotency, answer, idempotency_key, keep};
use chrono::{DateTime, Utc};
use prost::Message;
use returnbridge_core::auth::Principal;
pub(super) use returnbridge_core::returns::{Changed, Edit};
use returnbridge_domain::Violations;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::currency::Currency;
use returnbridge_domain::ids::ReturnId;
use returnbridge_domain::money::Money;
use returnbridge_domain::order::{ReturnItem, Sku};
use returnbridge_domain::order_input::MAX_CLOCK_SKEW;
use returnbridge_proto::v1 as pb;
use tonic::Request;

/// One change, start to end: the edit run on the locked return by the core, and the answer.
pub(super) async fn apply(
    ctx: &ApiContext,
    call: &Call,
    idempotency: &Idempotency,
    expected_version: i64,
    edit: Edit<'_>,
) -> Result<pb::Return, ApiError> {
    let render = keep(&return_to_proto);
    let applied = ctx
        .returns
        .change(
            &call.caller.tenant,
            call.id,
            expected_version,
            call.now,
            edit,
            idempotency.claim(&render),
        )
        .await?;
    ctx.events_written();
    answer(applied, return_to_proto)
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
        call,
        &Idempotency::new(call.key.clone(), rpc, req),
        expected_version,
        edit,
    )
    .await
}

/// Longest carrier name or tracking number.
pub(super) const MAX_SHORT_TEXT: usize = 100;

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

/// An optional amount of the request; the return checks its currency and sign.
pub(super) fn amount(m: &Option<pb::Money>, field: &str, v: &mut Violations) -> Option<Money> {
    let input = money_input(m.as_ref()?);
    let currency = v.take(
        &format!("{field}.currency_code"),
        Currency::parse(&input.currency),
    )?;
    Some(Money::new(currency, input.amount_minor))
}

/// Lines of the request; the return checks them against its own.
pub(super) fn items(items: &[pb::ReturnItem], field: &str, v: &mut Violations) -> Vec<ReturnItem> {
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let sku = v.take(&format!("{field}[{i}].sku"), Sku::parse(&item.sku))?;
            // Out of range is the return's to say, with the units it holds; 0 is out of range.
            Some(ReturnItem {
                sku,
                quantity: u32::try_from(item.quantity).unwrap_or(0),
            })
        })
        .collect()
}
