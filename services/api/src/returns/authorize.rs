//! AuthorizeReturn: decide under the contract in effect when the order was placed, and store the
//! return, its first event and the supplier's message in one transaction.

use super::document::{new_event, seller};
use crate::ApiContext;
use crate::contracts::{contract_in_effect, seller_settings};
use crate::convert::return_view::{return_to_proto, supplier_request, supplier_view};
use crate::convert::returns::request_input;
use crate::error::ApiError;
use crate::idempotency::{Idempotency, answer, keep};
use chrono::{DateTime, Utc};
use prost::Message;
use returnbridge_domain::ErrorReason;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::contract::{ContractVersion, SellerSettings};
use returnbridge_domain::decision::{Outcome, ReasonCode};
use returnbridge_domain::eligibility::decide;
use returnbridge_domain::ids::{ReturnId, TenantId};
use returnbridge_domain::order::{OrderFacts, ReturnRequest, ReturnedUnits, Sku};
use returnbridge_domain::returns::{Actor, DecidedUnder, Return, SupplierRequest};
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{Applied, NewOutboxMessage, NewReturn, ReturnedSoFar, StoreError};
use std::sync::Mutex;
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
    let facts = Facts {
        tenant: &caller.tenant,
        request: &parsed,
        raw: &req,
        contract: &contract,
        settings: &settings,
        settings_version,
        actor: seller(&caller),
        id: ReturnId::generate(),
        now,
        decided: Mutex::new(None),
    };
    let skus: Vec<String> = parsed
        .items
        .iter()
        .map(|i| i.sku.as_str().to_owned())
        .collect();
    let plan = |so_far: &ReturnedSoFar| facts.plan(so_far);
    let applied = ctx
        .store
        .authorize_return(
            &caller.tenant,
            parsed.order.order_id.as_str(),
            &skus,
            &plan,
            now,
            idempotency.claim(&keep(&respond)),
        )
        .await?;
    ctx.events_written();
    // Counted once committed, and only for a decision made now: a replay decided nothing new, and a
    // transaction the store retried planned more than once.
    if let (Applied::New(_), Some((outcome, reason))) = (&applied, facts.decision_made()) {
        ctx.metrics.record_decision(outcome, reason);
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

/// Everything the decision and the stored return are made of.
struct Facts<'a> {
    tenant: &'a TenantId,
    request: &'a ReturnRequest,
    raw: &'a pb::AuthorizeReturnRequest,
    contract: &'a ContractVersion,
    settings: &'a SellerSettings,
    settings_version: i64,
    actor: Actor,
    id: ReturnId,
    now: DateTime<Utc>,
    /// The outcome and first reason of the last plan, for the decisions counter.
    decided: Mutex<Option<(Outcome, Option<ReasonCode>)>>,
}

impl Facts<'_> {
    /// The outcome and first reason code of the decision planned, if one was.
    fn decision_made(&self) -> Option<(Outcome, Option<ReasonCode>)> {
        *self
            .decided
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs inside the store's transaction, once the units already returned are read under a lock.
    fn plan(&self, so_far: &ReturnedSoFar) -> Result<NewReturn, StoreError> {
        let already: ReturnedUnits = so_far
            .iter()
            .filter_map(|(sku, n)| Some((Sku::parse(sku).ok()?, u32::try_from(*n).ok()?)))
            .collect();
        let order = &self.request.order;
        let profile = order.jurisdiction.profile();
        let decision = decide(
            self.request,
            &already,
            self.contract,
            profile,
            self.settings,
            self.now,
        );
        let first_reason = decision.reasons.first().map(|r| r.code);
        *self
            .decided
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) =
            Some((decision.outcome, first_reason));
        let under = DecidedUnder {
            settings_version: self.settings_version,
            decided_at: self.now,
        };
        let (ret, first) = Return::decide(
            self.id,
            self.request.clone(),
            self.raw.external_reference.clone(),
            decision,
            under,
            &self.actor,
        );
        let outbox = ret
            .open_request()
            .map(|request| self.supplier_message(&ret, request));
        // A rejected return takes no units; every other holds them until it is closed.
        let reserve = if first.releases_units() {
            Vec::new()
        } else {
            ret.items()
                .iter()
                .map(|i| (i.sku.as_str().to_owned(), i64::from(i.quantity)))
                .collect()
        };
        Ok(NewReturn {
            event: new_event(&ret, &first),
            ret,
            outbox,
            reserve,
        })
    }

    /// The message the gateway forwards: a notice of an authorized return, or a request to decide.
    fn supplier_message(&self, ret: &Return, request: &SupplierRequest) -> NewOutboxMessage {
        let shown = supplier_request(request);
        let message = pb::ReceiveReturnRequestRequest {
            request_id: request.id.to_string(),
            kind: shown.kind,
            attempt: 0,
            send_time: None,
            seller_id: self.tenant.to_string(),
            supplier_id: request.supplier.to_string(),
            supplier_return: Some(supplier_view(ret)),
            deadlines: shown.deadlines,
            credit_requested: None,
            trigger_event: pb::ReturnEventType::Decided as i32,
            failover: request.failover,
            failed_over_from_supplier_id: String::new(),
            contract_version: self.contract.version,
        };
        NewOutboxMessage {
            message_id: request.id,
            supplier: request.supplier,
            kind: request.kind.as_str().to_owned(),
            payload: message.encode_to_vec(),
            available_at: self.now,
        }
    }
}
