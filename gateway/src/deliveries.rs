//! DeliveryService: the seller's operators read every delivery attempt (per return or per supplier)
//! and redeliver a request whose retries ran out. A thin adapter over the store's outbox API.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use returnbridge_convert::error::ApiError;
use returnbridge_core::auth::Authenticator;
use returnbridge_core::clock::Clock;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::{ReturnId, SupplierId};
use returnbridge_domain::{DomainError, Resource, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::delivery_service_server::DeliveryService;
use returnbridge_store::{AttemptOutcome, DeliveryAttempt, Recipient, Store};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Page size when the caller sends none.
const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page served; larger requests are served this many.
const MAX_PAGE_SIZE: u32 = 500;
const TOKEN_VERSION: &str = "a1:";

/// The DeliveryService handlers.
#[derive(Clone)]
pub struct DeliveryApi {
    auth: Authenticator,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl DeliveryApi {
    /// The service over `store`, checking keys with `auth` and telling time by `clock`.
    pub fn new(auth: Authenticator, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { auth, store, clock }
    }

    async fn tenant<T>(
        &self,
        request: &Request<T>,
        scope: Scope,
    ) -> Result<returnbridge_domain::ids::TenantId, Status> {
        let authorization = request
            .metadata()
            .get("authorization")
            .map(|v| v.to_str().unwrap_or_default());
        let principal = self
            .auth
            .authorize(authorization, scope)
            .await
            .map_err(status)?;
        tracing::Span::current().record("tenant", principal.tenant.as_str());
        Ok(principal.tenant)
    }
}

#[tonic::async_trait]
impl DeliveryService for DeliveryApi {
    async fn list_delivery_attempts(
        &self,
        request: Request<pb::ListDeliveryAttemptsRequest>,
    ) -> Result<Response<pb::ListDeliveryAttemptsResponse>, Status> {
        let tenant = self.tenant(&request, Scope::ReturnsRead).await?;
        let r = request.into_inner();
        let limit = match u32::try_from(r.page_size) {
            Ok(0) => DEFAULT_PAGE_SIZE,
            Ok(n) => n.min(MAX_PAGE_SIZE),
            Err(_) => {
                return Err(invalid(
                    "page_size",
                    &format!("must be between 0 and {MAX_PAGE_SIZE} (0 means {DEFAULT_PAGE_SIZE})"),
                ));
            }
        };
        let after = decode_token(&r.page_token)?;
        use pb::list_delivery_attempts_request::Subject;
        let mut attempts = match r.subject {
            Some(Subject::ReturnId(id)) => {
                let id = ReturnId::parse(&id).map_err(|e| invalid("return_id", &e))?;
                self.store
                    .attempts_for_return(&tenant, id)
                    .await
                    .map_err(store_error)?
                    .into_iter()
                    .filter(|a| after.is_none_or(|after| a.attempt_id > after))
                    .take(limit as usize + 1)
                    .collect::<Vec<_>>()
            }
            Some(Subject::SupplierId(id)) => {
                let id = SupplierId::parse(&id).map_err(|e| invalid("supplier_id", &e))?;
                self.store
                    .attempts_for_supplier(&tenant, id, after, limit + 1)
                    .await
                    .map_err(store_error)?
            }
            None => return Err(invalid("return_id", "name a return_id or a supplier_id")),
        };
        let more = attempts.len() > limit as usize;
        attempts.truncate(limit as usize);
        let next_page_token = match (more, attempts.last()) {
            (true, Some(last)) => {
                URL_SAFE_NO_PAD.encode(format!("{TOKEN_VERSION}{}", last.attempt_id))
            }
            _ => String::new(),
        };
        Ok(Response::new(pb::ListDeliveryAttemptsResponse {
            attempts: attempts.iter().map(attempt_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn redeliver_request(
        &self,
        request: Request<pb::RedeliverRequestRequest>,
    ) -> Result<Response<pb::RedeliverRequestResponse>, Status> {
        let tenant = self.tenant(&request, Scope::ReturnsWrite).await?;
        let raw = request.into_inner().request_id;
        let id = uuid::Uuid::try_parse(&raw)
            .map_err(|_| invalid("request_id", "must be a request id (a UUID)"))?;
        let redelivered = self
            .store
            .redeliver(&tenant, id, self.clock.now())
            .await
            .map_err(store_error)?;
        if !redelivered {
            // Not the tenant's, never sent, or not failed: nothing to redeliver.
            return Err(status(DomainError::NotFound {
                resource: Resource::SupplierRequest,
                id: raw,
            }));
        }
        tracing::info!(request_id = %id, "redelivery requested");
        Ok(Response::new(pb::RedeliverRequestResponse {}))
    }
}

fn decode_token(token: &str) -> Result<Option<i64>, Status> {
    if token.is_empty() {
        return Ok(None);
    }
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| text.strip_prefix(TOKEN_VERSION)?.parse().ok())
        .map(Some)
        .ok_or_else(|| invalid("page_token", "is not a token from a previous page"))
}

/// INVALID_ARGUMENT naming the field, through the one error mapping.
fn invalid(field: &str, description: &str) -> Status {
    let mut v = Violations::default();
    v.add(field, description);
    status(DomainError::InvalidArgument(v))
}

/// Any refusal, answered as every other service answers it.
fn status(e: impl Into<ApiError>) -> Status {
    Status::from(e.into())
}

fn store_error(e: returnbridge_store::StoreError) -> Status {
    status(e)
}

fn timestamp(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn attempt_to_proto(a: &DeliveryAttempt) -> pb::DeliveryAttempt {
    let (outcome, status_code) = match a.outcome {
        AttemptOutcome::HttpStatus(s) => (pb::DeliveryOutcome::HttpStatus, i32::from(s)),
        AttemptOutcome::GrpcCode(c) => (pb::DeliveryOutcome::GrpcStatus, c),
        AttemptOutcome::Timeout => (pb::DeliveryOutcome::Timeout, 0),
        AttemptOutcome::ConnectError => (pb::DeliveryOutcome::ConnectError, 0),
        AttemptOutcome::BreakerOpen => (pb::DeliveryOutcome::BreakerOpen, 0),
        AttemptOutcome::DestinationRefused => (pb::DeliveryOutcome::DestinationRefused, 0),
    };
    let millis = a.duration_ms.max(0);
    pb::DeliveryAttempt {
        request_id: a.message_id.to_string(),
        return_id: a.return_id.map(|r| r.to_string()).unwrap_or_default(),
        supplier_id: a.supplier.to_string(),
        attempt: a.attempt_no,
        start_time: Some(timestamp(a.started_at)),
        duration: Some(prost_types::Duration {
            seconds: millis / 1000,
            nanos: i32::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
        }),
        delivered: a.delivered,
        outcome: outcome as i32,
        status_code,
        response_excerpt: a.response_excerpt.clone(),
        next_attempt_time: a.next_attempt_at.map(timestamp),
        recipient: match a.recipient {
            Recipient::Supplier => pb::DeliveryRecipient::Supplier,
            Recipient::Seller => pb::DeliveryRecipient::Seller,
        } as i32,
    }
}
