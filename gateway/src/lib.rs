//! The supplier gateway: the dispatcher that delivers the outbox to suppliers (`dispatcher.rs`)
//! through each supplier's tower stack (`stack/`) and its connector (`webhook.rs`,
//! `grpc_connector.rs`), retried on a schedule (`retry.rs`) to public addresses only
//! (`destination.rs`); DeliveryService, where sellers read the attempts and redeliver
//! (`deliveries.rs`); and the endpoint suppliers call back on (below). The SLA clock lands here
//! with its issue.

// A failure is an error the caller sees, never a panic in the server.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod connector;
pub mod deliveries;
pub mod destination;
pub mod dispatcher;
pub mod grpc_connector;
pub mod retry;
pub mod stack;
pub mod webhook;

use returnbridge_core::auth::{AuthError, Authenticator};
use returnbridge_domain::ErrorReason;
use returnbridge_domain::auth::Scope;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::supplier_callback_service_server::SupplierCallbackService;
use returnbridge_store::StoreError;
use std::collections::HashMap;
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// SupplierCallbackService: suppliers acknowledge, decide and report here. Its handlers are not
/// built yet: every RPC authenticates first (a caller without a supplier key learns nothing), then
/// answers UNIMPLEMENTED.
#[derive(Clone)]
pub struct SupplierCallbacks {
    auth: Authenticator,
}

impl SupplierCallbacks {
    /// The service, checking callers' keys with `auth`.
    pub fn new(auth: Authenticator) -> Self {
        Self { auth }
    }

    async fn unbuilt<T, R>(&self, request: &Request<T>, rpc: &str) -> Result<Response<R>, Status> {
        let authorization = request
            .metadata()
            .get("authorization")
            .map(|v| v.to_str().unwrap_or_default());
        self.auth
            .authorize(authorization, Scope::SupplierCallbacks)
            .await
            .map_err(refused)?;
        Err(Status::unimplemented(format!(
            "SupplierCallbackService.{rpc} is not available yet"
        )))
    }
}

/// A refused key, answered as the seller API answers it: the code, and `ErrorInfo` with the reason.
/// The callbacks' other errors join this mapping when they get real handlers (the gateway issue).
pub(crate) fn refused(e: AuthError) -> Status {
    let (code, reason, message) = match e {
        AuthError::Unauthenticated { reason, message } => (Code::Unauthenticated, reason, message),
        AuthError::MissingScope { scope } => (
            Code::PermissionDenied,
            ErrorReason::MissingScope,
            format!("this API key lacks the {scope} scope"),
        ),
        AuthError::SupplierKey { scope } => (
            Code::PermissionDenied,
            ErrorReason::SupplierKeyNotAllowed,
            format!("a supplier key cannot use {scope}"),
        ),
        AuthError::Store(StoreError::Unavailable(e)) => {
            tracing::warn!(error = %e, "database unavailable");
            (
                Code::Unavailable,
                ErrorReason::DatabaseUnavailable,
                "the database is unavailable; retry later".into(),
            )
        }
        AuthError::Store(e) => {
            tracing::error!(error = ?e, "internal error");
            return Status::internal("internal error");
        }
    };
    let details = ErrorDetails::with_error_info(reason.as_str(), "returnbridge", HashMap::new());
    Status::with_error_details(code, message, details)
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
