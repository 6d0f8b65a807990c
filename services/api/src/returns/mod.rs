//! ReturnService: authorization, the lifecycle, reads, the event stream and sales records.

pub(crate) mod authorize;
mod change;
mod document;
mod expiry;
mod read;
mod record;
mod resolve;
mod sales;
mod upgrade;
mod watch;

pub use expiry::expire_overdue;
pub use upgrade::upgrade_stored_returns;

use crate::ApiContext;
use crate::error::{ApiError, respond as ok};
use returnbridge_domain::DomainError;
use returnbridge_domain::Resource;
use returnbridge_domain::ids::ReturnId;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::return_service_server::ReturnService;
use tonic::{Request, Response, Status};

/// The ReturnService handlers.
#[derive(Clone)]
pub struct ReturnApi {
    ctx: ApiContext,
}

impl ReturnApi {
    /// Handlers over the shared context.
    pub fn new(ctx: ApiContext) -> Self {
        Self { ctx }
    }
}

pub(crate) use returnbridge_convert::input::return_id;

/// NOT_FOUND for a return the tenant does not have (or another tenant's).
pub(crate) fn return_not_found(id: ReturnId) -> ApiError {
    DomainError::NotFound {
        resource: Resource::Return,
        id: id.to_string(),
    }
    .into()
}

#[tonic::async_trait]
impl ReturnService for ReturnApi {
    async fn authorize_return(
        &self,
        request: Request<pb::AuthorizeReturnRequest>,
    ) -> Result<Response<pb::AuthorizeReturnResponse>, Status> {
        ok(authorize::authorize(&self.ctx, request).await)
    }

    async fn get_return(
        &self,
        request: Request<pb::GetReturnRequest>,
    ) -> Result<Response<pb::GetReturnResponse>, Status> {
        ok(read::get(&self.ctx, request).await)
    }

    async fn list_returns(
        &self,
        request: Request<pb::ListReturnsRequest>,
    ) -> Result<Response<pb::ListReturnsResponse>, Status> {
        ok(read::list(&self.ctx, request).await)
    }

    async fn record_shipment(
        &self,
        request: Request<pb::RecordShipmentRequest>,
    ) -> Result<Response<pb::RecordShipmentResponse>, Status> {
        ok(record::record_shipment(&self.ctx, request).await)
    }

    async fn record_receipt(
        &self,
        request: Request<pb::RecordReceiptRequest>,
    ) -> Result<Response<pb::RecordReceiptResponse>, Status> {
        ok(record::record_receipt(&self.ctx, request).await)
    }

    async fn record_inspection(
        &self,
        request: Request<pb::RecordInspectionRequest>,
    ) -> Result<Response<pb::RecordInspectionResponse>, Status> {
        ok(record::record_inspection(&self.ctx, request).await)
    }

    async fn resolve_return(
        &self,
        request: Request<pb::ResolveReturnRequest>,
    ) -> Result<Response<pb::ResolveReturnResponse>, Status> {
        ok(resolve::resolve(&self.ctx, request).await)
    }

    async fn cancel_return(
        &self,
        request: Request<pb::CancelReturnRequest>,
    ) -> Result<Response<pb::CancelReturnResponse>, Status> {
        ok(record::cancel(&self.ctx, request).await)
    }

    async fn add_evidence(
        &self,
        request: Request<pb::AddEvidenceRequest>,
    ) -> Result<Response<pb::AddEvidenceResponse>, Status> {
        ok(record::add_evidence(&self.ctx, request).await)
    }

    async fn list_return_events(
        &self,
        request: Request<pb::ListReturnEventsRequest>,
    ) -> Result<Response<pb::ListReturnEventsResponse>, Status> {
        ok(read::list_events(&self.ctx, request).await)
    }

    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<watch::EventStream>, Status> {
        ok(watch::watch(&self.ctx, request).await)
    }

    async fn record_sales(
        &self,
        request: Request<pb::RecordSalesRequest>,
    ) -> Result<Response<pb::RecordSalesResponse>, Status> {
        ok(sales::record(&self.ctx, request).await)
    }
}
