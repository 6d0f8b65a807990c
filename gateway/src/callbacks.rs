//! SupplierCallbackService: suppliers acknowledge and decide the requests forwarded to them, and
//! report receipts, inspections and credits on the returns they handle. Every
//! call authenticates a supplier's key first; a key sees only its own supplier's requests (another's
//! is NOT_FOUND), and the return use cases in `returnbridge-core` make each answer one transaction.

use chrono::TimeDelta;
use returnbridge_convert::error::{ApiError, respond};
use returnbridge_convert::idempotency::{Idempotency, answer, keep};
use returnbridge_convert::input;
use returnbridge_convert::return_view::{supplier_request, supplier_view};
use returnbridge_convert::settings;
use returnbridge_core::auth::Authenticator;
use returnbridge_core::clock::Clock;
use returnbridge_core::returns::Returns;
use returnbridge_core::returns::{Changed, Edit};
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::ReturnId;
use returnbridge_domain::ids::{SupplierId, TenantId};
use returnbridge_domain::lifecycle::ReturnStatus;
use returnbridge_domain::returns::{
    Actor, ActorKind, CreditConfirmation, Return, Shipment, SupplierDecision, SupplierReason,
    SupplierVerdict,
};
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

    /// The supplier of the caller's key as the actor of its reports.
    fn actor(supplier: SupplierId) -> Actor {
        Actor {
            kind: ActorKind::Supplier,
            id: supplier.to_string(),
        }
    }

    /// What every report starts with: the caller's supplier, the return named, the request's
    /// idempotency, and now.
    async fn report_call<T: prost::Message>(
        &self,
        request: &Request<T>,
        rpc: &str,
        raw_id: &str,
    ) -> Result<ReportCall, ApiError> {
        let (tenant, supplier) = self.supplier(request).await?;
        Ok(ReportCall {
            idempotency: Idempotency::of(request.metadata(), rpc, request.get_ref(), false)?,
            id: input::return_id(raw_id, "return_id")?,
            by: Self::actor(supplier),
            tenant,
            supplier,
            now: self.clock.now(),
        })
    }

    /// Makes a report with `edit` through the core, answering the return as the supplier sees it.
    async fn report(
        &self,
        call: &ReportCall,
        edit: Edit<'_>,
        same: &(dyn Fn(&Return) -> bool + Send + Sync),
    ) -> Result<pb::SupplierReturn, ApiError> {
        let render = keep(&supplier_view);
        let claim = call.idempotency.claim(&render);
        let applied = self
            .returns
            .supplier_report(&call.tenant, call.supplier, call.id, edit, same, claim)
            .await?;
        self.events.notify_waiters();
        answer(applied, supplier_view)
    }

    async fn receipt_report(
        &self,
        request: Request<pb::ReportReceiptRequest>,
    ) -> Result<pb::ReportReceiptResponse, ApiError> {
        let call = self
            .report_call(&request, "ReportReceipt", &request.get_ref().return_id)
            .await?;
        let Some(sent) = &request.get_ref().receipt else {
            return Err(DomainError::invalid("receipt", "is required").into());
        };
        let (by, now) = (&call.by, call.now);
        let mut v = Violations::default();
        let receipt = input::receipt(sent, "receipt", by.clone(), now, &mut v);
        v.finish()?;
        // Goods that arrive before anyone recorded their shipment were shipped: an empty shipment is
        // recorded first, in the same change.
        let edit = |ret: &mut Return| {
            let mut events = Vec::new();
            if ret.status == ReturnStatus::Authorized {
                let shipment = Shipment {
                    carrier: String::new(),
                    tracking_number: String::new(),
                    label_cost: None,
                    shipped_at: receipt.received_at,
                    recorded_by: by.clone(),
                };
                events.push(ret.ship(shipment, now)?);
            }
            events.push(ret.receive(receipt.clone(), now)?);
            Ok(Changed {
                events,
                settlement: None,
            })
        };
        let same = |ret: &Return| ret.receipt.as_ref().is_some_and(|r| &r.recorded_by == by);
        Ok(pb::ReportReceiptResponse {
            supplier_return: Some(self.report(&call, &edit, &same).await?),
        })
    }

    async fn inspection_report(
        &self,
        request: Request<pb::ReportInspectionRequest>,
    ) -> Result<pb::ReportInspectionResponse, ApiError> {
        let call = self
            .report_call(&request, "ReportInspection", &request.get_ref().return_id)
            .await?;
        let Some(sent) = &request.get_ref().inspection else {
            return Err(DomainError::invalid("inspection", "is required").into());
        };
        let now = call.now;
        let mut v = Violations::default();
        let report = input::inspection(sent, "inspection", call.by.clone(), now, &mut v);
        let report = v.finish_with(report, "inspection.outcome")?;
        let edit = |ret: &mut Return| Ok(ret.inspect(report.clone(), now)?.into());
        // An inspection may be redone, so a repeat is a new report: never the same answer.
        let same = |_: &Return| false;
        Ok(pb::ReportInspectionResponse {
            supplier_return: Some(self.report(&call, &edit, &same).await?),
        })
    }

    async fn credit_confirmation(
        &self,
        request: Request<pb::ConfirmCreditRequest>,
    ) -> Result<pb::ConfirmCreditResponse, ApiError> {
        let call = self
            .report_call(&request, "ConfirmCredit", &request.get_ref().return_id)
            .await?;
        let req = request.get_ref();
        let now = call.now;
        let mut v = Violations::default();
        let amount = input::amount(&req.amount, "amount", &mut v);
        if req.amount.is_none() {
            v.add(
                "amount",
                "is required: what was credited, in the return's currency",
            );
        }
        v.check(
            !req.credit_reference.trim().is_empty(),
            "credit_reference",
            "is required: your credit note or transaction reference",
        );
        v.text("credit_reference", &req.credit_reference, 200);
        let credited_at = input::when(&req.credit_time, "credit_time", now, &mut v);
        let amount = v.finish_with(amount, "amount")?;
        let credit = CreditConfirmation {
            amount,
            reference: req.credit_reference.clone(),
            credited_at,
            recorded_by: call.by.clone(),
        };
        let edit = |ret: &mut Return| Ok(ret.confirm_credit(credit.clone(), now)?.into());
        let same = |ret: &Return| {
            ret.credit
                .as_ref()
                .is_some_and(|c| c.amount == credit.amount && c.reference == credit.reference)
        };
        Ok(pb::ConfirmCreditResponse {
            supplier_return: Some(self.report(&call, &edit, &same).await?),
        })
    }
}

/// The common part of a supplier's report on a return.
struct ReportCall {
    tenant: TenantId,
    supplier: SupplierId,
    id: ReturnId,
    idempotency: Idempotency,
    by: Actor,
    now: chrono::DateTime<chrono::Utc>,
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
        respond(self.receipt_report(request).await)
    }

    async fn report_inspection(
        &self,
        request: Request<pb::ReportInspectionRequest>,
    ) -> Result<Response<pb::ReportInspectionResponse>, Status> {
        respond(self.inspection_report(request).await)
    }

    async fn confirm_credit(
        &self,
        request: Request<pb::ConfirmCreditRequest>,
    ) -> Result<Response<pb::ConfirmCreditResponse>, Status> {
        respond(self.credit_confirmation(request).await)
    }
}
