//! Services whose handlers are not built yet. Each RPC authenticates first, so a caller without a
//! valid key learns nothing (not even that the RPC is unbuilt), then answers UNIMPLEMENTED. The
//! types exist so the server registers every v1 service (and reflection lists them) from the start;
//! each becomes a real module as its issue lands.

use crate::ApiContext;
use returnbridge_domain::auth::Scope;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::sla_service_server::SlaService;
use tonic::{Request, Response, Status};

/// SlaService (supplier SLA reports and analytics).
#[derive(Clone)]
pub struct SlaApi {
    ctx: ApiContext,
}

impl SlaApi {
    /// The service over `ctx`.
    pub fn new(ctx: ApiContext) -> Self {
        Self { ctx }
    }

    async fn unbuilt<T, R>(&self, request: &Request<T>, rpc: &str) -> Result<Response<R>, Status> {
        self.ctx
            .authorize(request.metadata(), Scope::SlaRead)
            .await?;
        Err(Status::unimplemented(format!(
            "SlaService.{rpc} is not available yet"
        )))
    }
}

#[tonic::async_trait]
impl SlaService for SlaApi {
    async fn get_supplier_sla(
        &self,
        request: Request<pb::GetSupplierSlaRequest>,
    ) -> Result<Response<pb::GetSupplierSlaResponse>, Status> {
        self.unbuilt(&request, "GetSupplierSla").await
    }

    async fn list_sla_breaches(
        &self,
        request: Request<pb::ListSlaBreachesRequest>,
    ) -> Result<Response<pb::ListSlaBreachesResponse>, Status> {
        self.unbuilt(&request, "ListSlaBreaches").await
    }

    async fn get_return_analytics(
        &self,
        request: Request<pb::GetReturnAnalyticsRequest>,
    ) -> Result<Response<pb::GetReturnAnalyticsResponse>, Status> {
        self.unbuilt(&request, "GetReturnAnalytics").await
    }
}
