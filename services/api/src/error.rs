//! The one mapping from Returnbridge's errors to gRPC statuses, with `google.rpc` details.

use returnbridge_domain::DomainError;
use returnbridge_store::StoreError;
use std::collections::HashMap;
use std::time::Duration;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// The `ErrorInfo.domain` of every error Returnbridge answers.
pub const ERROR_DOMAIN: &str = "returnbridge";

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A rule of the domain said no.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Persistence failed.
    #[error(transparent)]
    Store(StoreError),
    /// No usable credentials: missing, malformed, unknown or revoked key.
    #[error("{message}")]
    Unauthenticated {
        /// Machine-readable reason (`API_KEY_MISSING`).
        reason: &'static str,
        /// What to do about it.
        message: String,
    },
    /// The key is valid but lacks the scope this call needs.
    #[error("this API key lacks the {scope} scope")]
    PermissionDenied {
        /// The scope the call needs.
        scope: &'static str,
    },
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => ApiError::Domain(d),
            other => ApiError::Store(other),
        }
    }
}

fn info(reason: &str, metadata: HashMap<String, String>) -> ErrorDetails {
    ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata)
}

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Domain(DomainError::InvalidArgument(violations)) => {
                let mut details = info("INVALID_ARGUMENT", HashMap::new());
                details.set_bad_request(
                    violations
                        .as_slice()
                        .iter()
                        .map(|v| FieldViolation::new(&v.field, &v.description))
                        .collect::<Vec<_>>(),
                );
                Status::with_error_details(
                    Code::InvalidArgument,
                    format!("invalid request: {violations}"),
                    details,
                )
            }
            ApiError::Domain(DomainError::NotFound { resource, id }) => Status::with_error_details(
                Code::NotFound,
                format!(
                    "{} {id} not found",
                    resource.to_lowercase().replace('_', " ")
                ),
                info(
                    &format!("{resource}_NOT_FOUND"),
                    HashMap::from([("id".into(), id)]),
                ),
            ),
            ApiError::Domain(DomainError::FailedPrecondition { reason, message }) => {
                Status::with_error_details(
                    Code::FailedPrecondition,
                    message,
                    info(reason, HashMap::new()),
                )
            }
            ApiError::Domain(DomainError::StatusConflict { current, message }) => {
                Status::with_error_details(
                    Code::FailedPrecondition,
                    message,
                    info(
                        "RETURN_STATUS_CONFLICT",
                        HashMap::from([("current_status".into(), current.to_owned())]),
                    ),
                )
            }
            ApiError::Domain(DomainError::VersionConflict { expected, current }) => {
                Status::with_error_details(
                    Code::Aborted,
                    format!(
                        "the resource changed: expected version {expected}, current version {current}; \
                     read it again and retry with expected_version={current}"
                    ),
                    info(
                        "VERSION_CONFLICT",
                        HashMap::from([
                            ("expected_version".into(), expected.to_string()),
                            ("current_version".into(), current.to_string()),
                        ]),
                    ),
                )
            }
            ApiError::Domain(DomainError::IdempotencyKeyReused) => Status::with_error_details(
                Code::InvalidArgument,
                "this idempotency-key was already used for a different request; use a new key for a new request",
                info("IDEMPOTENCY_KEY_REUSED", HashMap::new()),
            ),
            ApiError::Unauthenticated { reason, message } => Status::with_error_details(
                Code::Unauthenticated,
                message,
                info(reason, HashMap::new()),
            ),
            ApiError::PermissionDenied { scope } => Status::with_error_details(
                Code::PermissionDenied,
                format!("this API key lacks the {scope} scope; create a key with it"),
                info(
                    "MISSING_SCOPE",
                    HashMap::from([("scope".into(), scope.to_owned())]),
                ),
            ),
            ApiError::Store(StoreError::Unavailable(cause)) => {
                tracing::warn!(error = %cause, "database unavailable");
                let mut details = info("DATABASE_UNAVAILABLE", HashMap::new());
                details.set_retry_info(Some(Duration::from_secs(1)));
                Status::with_error_details(
                    Code::Unavailable,
                    "the database is unavailable; retry later",
                    details,
                )
            }
            ApiError::Store(other) => {
                tracing::error!(error = ?anyhow_chain(&other), "internal error");
                Status::internal("internal error")
            }
        }
    }
}

/// The error with all its sources, for a log line that shows the root cause.
fn anyhow_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// A handler's result as tonic wants it.
pub(crate) fn respond<T>(result: Result<T, ApiError>) -> Result<tonic::Response<T>, Status> {
    result.map(tonic::Response::new).map_err(Status::from)
}
