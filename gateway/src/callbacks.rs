//! SupplierCallbackService: suppliers acknowledge and decide the requests forwarded to them. Every
//! call authenticates a supplier's key first; a key sees only its own supplier's requests (another's
//! is NOT_FOUND), and the return use cases in `returnbridge-core` make each answer one transaction.

use chrono::TimeDelta;
use returnbridge_convert::error::{ApiError, respond};
use returnbridge_convert::idempotency::{Idempotency, answer, keep};
use returnbridge_convert::return_view::{supplier_request, supplier_view};
use returnbridge_convert::settings;
use returnbridge_core::auth::Authenticator;
use returnbridge_core::clock::Clock;
use returnbridge_core::returns::Returns;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::{SupplierId, TenantId};
use returnbridge_domain::returns::{Return, SupplierDecision, SupplierReason, SupplierVerdict};
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::supplier_callback_service_server::SupplierCallbackService;
use returnbridge_store::Store;
use std::sync::Arc;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};
use uuid::Uuid;

/// Most reasons one decision gives.
const MAX_REASONS: usize = 20;
/// Longest reason code, and reason message.
const MAX_REASON_CODE: usize = 100;
const MAX_REASON_MESSAGE: usize = 1000;
/// Longest instructions for the customer.
const MAX_INSTRUCTIONS: usize = 4000;

/// The service's handlers.
#[derive(Clone)]
pub struct SupplierCallbacks {
    auth: Authenticator,
    returns: Returns,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    events: Arc<Notify>,
}

impl SupplierCallbacks {
    /// Handlers over the shared use cases; `events` wakes this replica's event streams.
    pub fn new(
        auth: Authenticator,
        returns: Returns,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        events: Arc<Notify>,
    ) -> Self {
        Self {
            auth,
            returns,
            store,
            clock,
            events,
        }
    }

    /// The tenant and supplier of the caller's key.
    async fn supplier<T>(&self, request: &Request<T>) -> Result<(TenantId, SupplierId), ApiError> {
        let authorization = request
            .metadata()
            .get("authorization")
            .map(|v| v.to_str().unwrap_or_default());
        let caller = self
            .auth
            .authorize(authorization, Scope::SupplierCallbacks)
            .await?;
        tracing::Span::current().record("tenant", caller.tenant.as_str());
        // Only a supplier's key is bound to a supplier: another key has no requests to answer.
        let supplier = caller.supplier.ok_or_else(|| DomainError::NotFound {
            resource: returnbridge_domain::Resource::SupplierRequest,
            id: "any".into(),
        })?;
        Ok((caller.tenant, supplier))
    }

    async fn acknowledge(
        &self,
        request: Request<pb::AcknowledgeRequestRequest>,
    ) -> Result<pb::AcknowledgeRequestResponse, ApiError> {
        let (tenant, supplier) = self.supplier(&request).await?;
        let idempotency = Idempotency::of(
            request.metadata(),
            "AcknowledgeRequest",
            request.get_ref(),
            false,
        )?;
        let request_id = request_id(&request.get_ref().request_id)?;
        let render = |ret: &Return| pb::AcknowledgeRequestResponse {
            request: ret
                .supplier_requests
                .iter()
                .find(|r| r.id == request_id)
                .map(supplier_request),
        };
        let applied = self
            .returns
            .supplier_acknowledge(
                &tenant,
                supplier,
                request_id,
                idempotency.claim(&keep(&render)),
            )
            .await?;
        self.events.notify_waiters();
        answer(applied, render)
    }

    async fn decide(
        &self,
        request: Request<pb::SubmitDecisionRequest>,
    ) -> Result<pb::SubmitDecisionResponse, ApiError> {
        let (tenant, supplier) = self.supplier(&request).await?;
        let idempotency = Idempotency::of(
            request.metadata(),
            "SubmitDecision",
            request.get_ref(),
            false,
        )?;
        let req = request.into_inner();
        let request_id = request_id(&req.request_id)?;
        let decision = decision(&req, supplier, self.clock.now())?;
        // An approved return gets the seller's time to ship, counted from the approval.
        let stored = self.store.seller_settings(&tenant).await?;
        let ship_within: TimeDelta = settings::to_domain(stored.as_ref())?.0.ship_by;
        let render = |ret: &Return| pb::SubmitDecisionResponse {
            supplier_return: Some(supplier_view(ret)),
        };
        let applied = self
            .returns
            .supplier_decide(
                &tenant,
                request_id,
                decision,
                ship_within,
                idempotency.claim(&keep(&render)),
            )
            .await?;
        self.events.notify_waiters();
        answer(applied, render)
    }
}

/// The request id a supplier names: the webhook-id it was sent under.
fn request_id(raw: &str) -> Result<Uuid, ApiError> {
    let mut v = Violations::default();
    let id = if raw.is_empty() {
        v.add(
            "request_id",
            "is required: the request_id (webhook-id) you were sent",
        );
        None
    } else {
        v.take(
            "request_id",
            Uuid::try_parse(raw).map_err(|_| "is not a request id this service sent".to_owned()),
        )
    };
    Ok(v.finish_with(id, "request_id")?)
}

/// The supplier's decision as the domain's, every field problem at once.
fn decision(
    req: &pb::SubmitDecisionRequest,
    supplier: SupplierId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<SupplierDecision, ApiError> {
    let mut v = Violations::default();
    let Some(sent) = &req.decision else {
        return Err(DomainError::invalid("decision", "is required").into());
    };
    let verdict = match pb::SupplierVerdict::try_from(sent.verdict) {
        Ok(pb::SupplierVerdict::Approve) => Some(SupplierVerdict::Approve),
        Ok(pb::SupplierVerdict::Reject) => Some(SupplierVerdict::Reject),
        _ => {
            v.add("decision.verdict", "is required: APPROVE or REJECT");
            None
        }
    };
    v.check(
        verdict != Some(SupplierVerdict::Reject) || !sent.reasons.is_empty(),
        "decision.reasons",
        "a REJECT gives at least one reason",
    );
    v.check(
        sent.reasons.len() <= MAX_REASONS,
        "decision.reasons",
        format!("at most {MAX_REASONS}"),
    );
    for (i, r) in sent.reasons.iter().enumerate() {
        v.check(
            !r.code.trim().is_empty(),
            format!("decision.reasons[{i}].code"),
            "is required",
        );
        v.text(
            format!("decision.reasons[{i}].code"),
            &r.code,
            MAX_REASON_CODE,
        );
        v.text(
            format!("decision.reasons[{i}].message"),
            &r.message,
            MAX_REASON_MESSAGE,
        );
    }
    v.text(
        "decision.return_instructions",
        &sent.return_instructions,
        MAX_INSTRUCTIONS,
    );
    // Not kept yet: refused rather than silently dropped.
    for (field, given) in [
        ("decision.return_label", sent.return_label.is_some()),
        ("decision.return_address", sent.return_address.is_some()),
    ] {
        v.check(
            !given,
            field,
            "is not accepted yet; give the customer's label and address in return_instructions",
        );
    }
    let verdict = v.finish_with(verdict, "decision.verdict")?;
    Ok(SupplierDecision {
        verdict,
        reasons: sent
            .reasons
            .iter()
            .map(|r| SupplierReason {
                code: r.code.clone(),
                message: r.message.clone(),
            })
            .collect(),
        return_instructions: sent.return_instructions.clone(),
        decided_at: now,
        automatic: false,
        supplier,
    })
}

/// What the service answers for calls not built yet, after the key was checked, so a caller
/// without a supplier key learns nothing.
async fn not_yet<T, R>(
    service: &SupplierCallbacks,
    request: &Request<T>,
    rpc: &str,
) -> Result<R, ApiError> {
    service.supplier(request).await?;
    Err(ApiError::Unimplemented(format!(
        "SupplierCallbackService.{rpc} is not available yet"
    )))
}

#[tonic::async_trait]
impl SupplierCallbackService for SupplierCallbacks {
    async fn acknowledge_request(
        &self,
        request: Request<pb::AcknowledgeRequestRequest>,
    ) -> Result<Response<pb::AcknowledgeRequestResponse>, Status> {
        respond(self.acknowledge(request).await)
    }

    async fn submit_decision(
        &self,
        request: Request<pb::SubmitDecisionRequest>,
    ) -> Result<Response<pb::SubmitDecisionResponse>, Status> {
        respond(self.decide(request).await)
    }

    async fn report_receipt(
        &self,
        request: Request<pb::ReportReceiptRequest>,
    ) -> Result<Response<pb::ReportReceiptResponse>, Status> {
        respond(not_yet(self, &request, "ReportReceipt").await)
    }

    async fn report_inspection(
        &self,
        request: Request<pb::ReportInspectionRequest>,
    ) -> Result<Response<pb::ReportInspectionResponse>, Status> {
        respond(not_yet(self, &request, "ReportInspection").await)
    }

    async fn confirm_credit(
        &self,
        request: Request<pb::ConfirmCreditRequest>,
    ) -> Result<Response<pb::ConfirmCreditResponse>, Status> {
        respond(not_yet(self, &request, "ConfirmCredit").await)
    }
}
