//! LiabilityService: quotes, final splits and settlement statements.

pub(crate) mod compute;
mod settlement;

use crate::ApiContext;
use crate::contracts::seller_settings;
use crate::convert::input::inspection_outcome;
use crate::convert::liability::split_to_proto;
use crate::convert::return_view::return_to_proto;
use crate::convert::returns::decision_to_proto;
use crate::error::{ApiError, respond as ok};
use crate::returns::authorize::{contract_for_order, parse};
use crate::returns::{return_id, return_not_found};
use compute::{Assumed, DecidedUnder, decided_under, money, quote_split, resolution_ask};
use prost::Message;
use returnbridge_domain::ErrorReason;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::decision::Outcome;
use returnbridge_domain::eligibility::decide;
use returnbridge_domain::liability::Inspection;
use returnbridge_domain::lifecycle::ReturnStatus;
use returnbridge_domain::order::ReturnedUnits;
use returnbridge_domain::returns::{Actor, InspectionOutcome, InspectionReport};
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
        let mut v = Violations::default();
        let ask = resolution_ask(&spec, "resolution", &mut v);
        let assumed_label = req
            .assumed_label_cost
            .as_ref()
            .and_then(|m| money(m, "assumed_label_cost", &mut v));
        let ask = v.finish_with(ask, "resolution")?;
        let assumed_outcome = inspection_outcome(req.assumed_inspection_outcome);
        match req.subject {
            Some(pb::quote_liability_request::Subject::ReturnId(raw)) => {
                let id = return_id(&raw, "return_id")?;
                let ret = self
                    .ctx
                    .store
                    .get_return(&caller.tenant, id)
                    .await?
                    .ok_or_else(|| return_not_found(id))?;
                if !QUOTABLE.contains(&ret.status) {
                    return Err(DomainError::FailedPrecondition {
                        reason: ErrorReason::ReturnNotQuotable,
                        message: format!(
                            "the return is {}: only a return awaiting resolution can be quoted; \
                             GetLiabilitySplit shows a resolved return's final split",
                            ret.status
                        ),
                    }
                    .into());
                }
                let under = decided_under(&self.ctx, &caller.tenant, &ret).await?;
                // An assumed outcome keeps the recorded deduction, as re-inspecting would.
                let inspection = match (assumed_outcome, &ret.inspection) {
                    (Some(outcome), Some(report)) => InspectionReport {
                        outcome,
                        ..report.clone()
                    }
                    .for_split(),
                    (Some(outcome), None) => outcome_only(outcome),
                    (None, Some(report)) => report.for_split(),
                    (None, None) => Inspection::Passed,
                };
                let assumed = Assumed {
                    inspection,
                    label_cost: assumed_label.or(ret.label_cost),
                };
                let split = quote_split(&ret.request, &ret.decision, &under, &ask, &assumed)?;
                let shown = return_to_proto(&ret);
                Ok(pb::QuoteLiabilityResponse {
                    split: Some(split_to_proto(&split, &shown.return_id, true, now)),
                    decision: shown.decision,
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
                    let assumed = Assumed {
                        inspection: assumed_outcome.map_or(Inspection::Passed, outcome_only),
                        label_cost: assumed_label.or(parsed.label_cost_estimate),
                    };
                    Some(split_to_proto(
                        &quote_split(&parsed, &decision, &under, &ask, &assumed)?,
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
/// An inspection outcome with no report behind it (no deduction recorded).
fn outcome_only(outcome: InspectionOutcome) -> Inspection {
    InspectionReport {
        outcome,
        items: Vec::new(),
        damage_deduction: None,
        note: String::new(),
        evidence: Vec::new(),
        inspected_at: chrono::DateTime::UNIX_EPOCH,
        recorded_by: Actor::system(),
    }
    .for_split()
}

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
