//! Every change to an existing return: the lifecycle transitions, evidence and cancellation. Each
//! runs under the return's row lock, checks `expected_version`, changes the return through its own
//! methods, and appends its event in the same transaction.

use super::return_id;
use crate::ApiContext;
use crate::convert::return_view::return_to_proto;
use crate::error::ApiError;
use crate::idempotency::{Idempotency, answer, idempotency_key, keep};
use chrono::{DateTime, Utc};
use prost::Message;
pub(super) use returnbridge_convert::input::{MAX_SHORT_TEXT, amount, when};
use returnbridge_core::auth::Principal;
pub(super) use returnbridge_core::returns::{Changed, Edit};
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::ReturnId;
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
