//! LiabilityService: quotes, final splits and settlement statements.

pub(crate) mod compute;
mod settlement;

use crate::ApiContext;
use crate::contracts::seller_settings;
use crate::convert::liability::split_to_proto;
use crate::convert::returns::decision_to_proto;
use crate::error::{ApiError, respond as ok};
use crate::returns::authorize::{contract_for_order, parse};
use crate::returns::{return_id, return_not_found};
use compute::{DecidedUnder, SplitAsk, decided_under, decision_of, split_of};
use prost::Message;
use returnbridge_domain::ErrorReason;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::decision::Outcome;
use returnbridge_domain::eligibility::decide;
use returnbridge_domain::lifecycle::ReturnStatus;
use returnbridge_domain::order::ReturnedUnits;
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::liability_service_server::LiabilityService;
use returnbridge_store::StoreError;
use tonic::{Request, Response, Status};

/// The LiabilityService handlers.
#[derive(Clone)]
pub struct LiabilityApi {
    ctx: ApiContext,
}

impl LiabilityApi {
    /// Handlers over the shared context.
    pub fn new(ctx: ApiContext) -> Self {
        Self { ctx }
    }
}

/// Statuses whose split can still be quoted: decided, not yet resolved or closed.
const QUOTABLE: [ReturnStatus; 5] = [
    ReturnStatus::Authorized,
    ReturnStatus::PendingSupplier,
    ReturnStatus::InTransit,
    ReturnStatus::Received,
    ReturnStatus::Inspected,
];

impl LiabilityApi {
    async fn quote(
        &self,
        request: Request<pb::QuoteLiabilityRequest>,
    ) -> Result<pb::QuoteLiabilityResponse, ApiError> {
        let caller = self
            .ctx
            .authorize(request.metadata(), Scope::LiabilityRead)
            .await?;
        let req = request.into_inner();
        let now = self.ctx.clock.now();
        let spec = req.resolution.clone().unwrap_or(pb::ResolutionSpec {
            resolution: pb::Resolution::Refund as i32,
            ..Default::default()
        });
        let assumed_outcome = pb::InspectionOutcome::try_from(req.assumed_inspection_outcome).ok();
        match req.subject {
            Some(pb::quote_liability_request::Subject::ReturnId(raw)) => {
                let id = return_id(&raw, "return_id")?;
                let row = self
                    .ctx
                    .store
                    .get_return(&caller.tenant, id)
                    .await?
                    .ok_or_else(|| return_not_found(id))?;
                if !QUOTABLE.contains(&row.status) {
                    return Err(DomainError::FailedPrecondition {
                        reason: ErrorReason::ReturnNotQuotable,
                        message: format!(
                            "the return is {}: only a return awaiting resolution can be quoted; \
                             GetLiabilitySplit shows a resolved return's final split",
                            row.status
                        ),
                    }
                    .into());
                }
                let doc = pb::Return::decode(row.document.as_slice())
                    .map_err(|e| StoreError::Corrupt(format!("return {id}: {e}")))?;
                let under = decided_under(&self.ctx, &caller.tenant, &doc).await?;
                let (parsed, decision) = decision_of(&doc, &under)?;
                let label = req.assumed_label_cost.as_ref().or(doc.label_cost.as_ref());
                let ask = SplitAsk {
                    spec: &spec,
                    inspection: doc.inspection.as_ref(),
                    assumed_outcome,
                    label_cost: label,
                    field: "resolution",
                };
                let split = split_of(&parsed, &decision, &under, &ask)?;
                Ok(pb::QuoteLiabilityResponse {
                    split: Some(split_to_proto(&split, &doc.return_id, true, now)),
                    decision: doc.decision,
                })
            }
            Some(pb::quote_liability_request::Subject::Hypothetical(hypothetical)) => {
                let parsed = match parse(&hypothetical, now) {
                    Err(ApiError::Domain(DomainError::InvalidArgument(v))) => {
                        return Err(prefixed(v).into());
                    }
                    other => other?,
                };
                let order = &parsed.order;
                let contract = contract_for_order(&self.ctx, &caller.tenant, order).await?;
                let (settings, settings_version) =
                    seller_settings(&self.ctx, &caller.tenant).await?;
                let under = DecidedUnder { contract, settings };
                // A quote reads nothing under lock: units taken by earlier returns are not counted.
                let decision = decide(
                    &parsed,
                    &ReturnedUnits::new(),
                    &under.contract,
                    order.jurisdiction.profile(),
                    &under.settings,
                    now,
                );
                let shown = decision_to_proto(&decision, order.jurisdiction, settings_version, now);
                let split = if decision.outcome == Outcome::Rejected {
                    None
                } else {
                    let ask = SplitAsk {
                        spec: &spec,
                        inspection: None,
                        assumed_outcome,
                        label_cost: req
                            .assumed_label_cost
                            .as_ref()
                            .or(hypothetical.label_cost_estimate.as_ref()),
                        field: "resolution",
                    };
                    Some(split_to_proto(
                        &split_of(&parsed, &decision, &under, &ask)?,
                        "",
                        true,
                        now,
                    ))
                };
                Ok(pb::QuoteLiabilityResponse {
                    split,
                    decision: Some(shown),
                })
            }
            None => Err(DomainError::invalid("subject", "set return_id or hypothetical").into()),
        }
    }

    async fn get_split(
        &self,
        request: Request<pb::GetLiabilitySplitRequest>,
    ) -> Result<pb::GetLiabilitySplitResponse, ApiError> {
        let caller = self
            .ctx
            .authorize(request.metadata(), Scope::LiabilityRead)
            .await?;
        let id = return_id(&request.get_ref().return_id, "return_id")?;
        if let Some(bytes) = self.ctx.store.liability_split(&caller.tenant, id).await? {
            let split = pb::LiabilitySplit::decode(bytes.as_slice())
                .map_err(|e| StoreError::Corrupt(format!("split of {id}: {e}")))?;
            return Ok(pb::GetLiabilitySplitResponse { split: Some(split) });
        }
        let row = self
            .ctx
            .store
            .get_return(&caller.tenant, id)
            .await?
            .ok_or_else(|| return_not_found(id))?;
        Err(DomainError::FailedPrecondition {
            reason: ErrorReason::ReturnNotResolved,
            message: format!(
                "the return is {}: its final split exists once it is resolved; QuoteLiability shows what it would be",
                row.status
            ),
        }
        .into())
    }
}

/// Violations of the hypothetical request, under its field name in QuoteLiabilityRequest.
fn prefixed(v: Violations) -> DomainError {
    let mut out = Violations::default();
    out.extend_prefixed("hypothetical", v);
    DomainError::InvalidArgument(out)
}

#[tonic::async_trait]
impl LiabilityService for LiabilityApi {
    async fn quote_liability(
        &self,
        request: Request<pb::QuoteLiabilityRequest>,
    ) -> Result<Response<pb::QuoteLiabilityResponse>, Status> {
        ok(self.quote(request).await)
    }

    async fn get_liability_split(
        &self,
        request: Request<pb::GetLiabilitySplitRequest>,
    ) -> Result<Response<pb::GetLiabilitySplitResponse>, Status> {
        ok(self.get_split(request).await)
    }

    async fn get_settlement_statement(
        &self,
        request: Request<pb::GetSettlementStatementRequest>,
    ) -> Result<Response<pb::GetSettlementStatementResponse>, Status> {
        ok(settlement::statement(&self.ctx, request).await)
    }
}
