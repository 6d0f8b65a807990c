//! The supplier gateway. It starts with the endpoint suppliers call back on; the outbox dispatcher,
//! supplier connectors and the SLA clock land here with their issues.

// A failure is an error the caller sees, never a panic in the server.
#![deny(clippy::unwrap_used, clippy::expect_used)]

use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::supplier_callback_service_server::SupplierCallbackService;
use std::sync::Arc;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

/// Checks that a call carries a valid supplier key. Keys live with the api side; the server hands
/// the gateway a checker, so the gateway never depends on the api crate.
#[tonic::async_trait]
pub trait SupplierKeyCheck: Send + Sync + 'static {
    /// `Ok` when `metadata` carries a live key allowed to use the supplier callbacks.
    async fn check(&self, metadata: &MetadataMap) -> Result<(), Status>;
}

/// SupplierCallbackService: suppliers acknowledge, decide and report here. Its handlers are not
/// built yet: every RPC authenticates first (a caller without a key learns nothing), then answers
/// UNIMPLEMENTED.
#[derive(Clone)]
pub struct SupplierCallbacks {
    keys: Arc<dyn SupplierKeyCheck>,
}

impl SupplierCallbacks {
    /// The service, checking callers with `keys`.
    pub fn new(keys: Arc<dyn SupplierKeyCheck>) -> Self {
        Self { keys }
    }

    async fn unbuilt<T, R>(&self, request: &Request<T>, rpc: &str) -> Result<Response<R>, Status> {
        self.keys.check(request.metadata()).await?;
        Err(Status::unimplemented(format!(
            "SupplierCallbackService.{rpc} is not available yet"
        )))
    }
}

#[tonic::async_trait]
impl SupplierCallbackService for SupplierCallbacks {
    async fn acknowledge_request(
        &self,
        request: Request<pb::AcknowledgeRequestRequest>,
    ) -> Result<Response<pb::AcknowledgeRequestResponse>, Status> {
        self.unbuilt(&request, "AcknowledgeRequest").await
    }

    async fn submit_decision(
        &self,
        request: Request<pb::SubmitDecisionRequest>,
    ) -> Result<Response<pb::SubmitDecisionResponse>, Status> {
        self.unbuilt(&request, "SubmitDecision").await
    }

    async fn report_receipt(
        &self,
        request: Request<pb::ReportReceiptRequest>,
    ) -> Result<Response<pb::ReportReceiptResponse>, Status> {
        self.unbuilt(&request, "ReportReceipt").await
    }

    async fn report_inspection(
        &self,
        request: Request<pb::ReportInspectionRequest>,
    ) -> Result<Response<pb::ReportInspectionResponse>, Status> {
        self.unbuilt(&request, "ReportInspection").await
    }

    async fn confirm_credit(
        &self,
        request: Request<pb::ConfirmCreditRequest>,
    ) -> Result<Response<pb::ConfirmCreditResponse>, Status> {
        self.unbuilt(&request, "ConfirmCredit").await
    }
}
