//! AuthorizeReturn: decide under the contract in effect when the order was placed, and store the
//! return, its first event and the supplier's message in one transaction.

use super::document::seller;
use crate::ApiContext;
use crate::contracts::{contract_in_effect, seller_settings};
use crate::convert::return_view::return_to_proto;
use crate::convert::returns::request_input;
use crate::error::ApiError;
use crate::idempotency::{Idempotency, answer, keep};
use chrono::{DateTime, Utc};
use returnbridge_domain::ErrorReason;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::contract::ContractVersion;
use returnbridge_domain::ids::TenantId;
use returnbridge_domain::order::{OrderFacts, ReturnRequest};
use returnbridge_domain::returns::Return;
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use tonic::Request;

/// Longest `external_reference`, in characters.
const MAX_EXTERNAL_REFERENCE: usize = 200;

pub(super) async fn authorize(
    ctx: &ApiContext,
    request: Request<pb::AuthorizeReturnRequest>,
) -> Result<pb::AuthorizeReturnResponse, ApiError> {
    let caller = ctx
        .authorize(request.metadata(), Scope::ReturnsWrite)
        .await?;
    let idempotency = Idempotency::of(
        request.metadata(),
        "AuthorizeReturn",
        request.get_ref(),
        true,
    )?;
    let req = request.into_inner();
    let now = ctx.clock.now();
    let parsed = parse(&req, now)?;
    let order = &parsed.order;
    let contract = contract_for_order(ctx, &caller.tenant, order).await?;
    let (settings, settings_version) = seller_settings(ctx, &caller.tenant).await?;
    let (applied, decided) = ctx
        .returns
        .authorize(
            &caller.tenant,
            &parsed,
            &req.external_reference,
            &contract,
            (&settings, settings_version),
            &seller(&caller),
            now,
            idempotency.claim(&keep(&respond)),
        )
        .await?;
    ctx.events_written();
    // Counted once committed, and only for a decision made now: a replay decided nothing new.
    if let Some(decision) = decided {
        let first = decision.reasons.first().map(|r| r.code);
        ctx.metrics.record_decision(decision.outcome, first);
    }
    answer(applied, respond)
}

fn respond(ret: &Return) -> pb::AuthorizeReturnResponse {
    pb::AuthorizeReturnResponse {
        return_case: Some(return_to_proto(ret)),
    }
}

/// The contract version in effect when the order was placed. One query answers both: an unknown
/// supplier is NOT_FOUND, a known one without a version then is FAILED_PRECONDITION.
pub(crate) async fn contract_for_order(
    ctx: &ApiContext,
    tenant: &TenantId,
    order: &OrderFacts,
) -> Result<ContractVersion, ApiError> {
    contract_in_effect(ctx, tenant, order.supplier, order.ordered_at)
        .await?
        .ok_or_else(|| {
            DomainError::FailedPrecondition {
                reason: ErrorReason::NoContractInEffect,
                message: format!(
                    "supplier {} has no contract in effect at the order time {}; publish one with \
                     PublishContract (effective_from at or before the order time)",
                    order.supplier,
                    order.ordered_at.to_rfc3339()
                ),
            }
            .into()
        })
}

/// Every field problem at once: the edge's (timestamps, the reference) and the domain's.
pub(crate) fn parse(
    req: &pb::AuthorizeReturnRequest,
    now: DateTime<Utc>,
) -> Result<ReturnRequest, ApiError> {
    let mut v = Violations::default();
    let input = request_input(req, &mut v);
    v.text(
        "external_reference",
        &req.external_reference,
        MAX_EXTERNAL_REFERENCE,
    );
    match input.parse(now) {
        Ok(parsed) if v.is_empty() => Ok(parsed),
        Ok(_) => Err(DomainError::InvalidArgument(v).into()),
        Err(DomainError::InvalidArgument(domain)) => {
            v.append(domain);
            Err(DomainError::InvalidArgument(v).into())
        }
        Err(other) => Err(other.into()),
    }
}
