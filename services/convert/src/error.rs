//! The one mapping from Returnbridge's errors to gRPC statuses, with `google.rpc` details.

use returnbridge_core::auth::AuthError;
use returnbridge_domain::{DomainError, ErrorReason};
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
    /// The caller's key was refused.
    #[error(transparent)]
    Auth(AuthError),
    /// The call exists in the API but is not served yet.
    #[error("{0}")]
    Unimplemented(String),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Store(e) => ApiError::from(e),
            other => ApiError::Auth(other),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => ApiError::Domain(d),
            other => ApiError::Store(other),
        }
    }
}

fn info(reason: ErrorReason, metadata: HashMap<String, String>) -> ErrorDetails {
    ErrorDetails::with_error_info(reason.as_str(), ERROR_DOMAIN, metadata)
}

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Domain(DomainError::InvalidArgument(violations)) => {
                invalid_argument(violations.as_slice())
            }
            ApiError::Domain(DomainError::NotFound { resource, id }) => Status::with_error_details(
                Code::NotFound,
                format!("{} {id} not found", resource.noun()),
                info(resource.not_found(), HashMap::from([("id".into(), id)])),
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
                        ErrorReason::ReturnStatusConflict,
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
                        ErrorReason::VersionConflict,
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
                info(ErrorReason::IdempotencyKeyReused, HashMap::new()),
            ),
            ApiError::Auth(AuthError::Unauthenticated { reason, message }) => {
                Status::with_error_details(
                    Code::Unauthenticated,
                    message,
                    info(reason, HashMap::new()),
                )
            }
            ApiError::Auth(AuthError::MissingScope { scope }) => Status::with_error_details(
                Code::PermissionDenied,
                format!("this API key lacks the {scope} scope; create a key with it"),
                info(
                    ErrorReason::MissingScope,
                    HashMap::from([("scope".into(), scope.to_owned())]),
                ),
            ),
            ApiError::Auth(AuthError::SupplierKey { scope }) => Status::with_error_details(
                Code::PermissionDenied,
                format!(
                    "this API key belongs to a supplier and answers forwarded requests only; \
                     {scope} needs a seller key"
                ),
                info(
                    ErrorReason::SupplierKeyNotAllowed,
                    HashMap::from([("scope".into(), scope.to_owned())]),
                ),
            ),
            ApiError::Auth(AuthError::Store(e)) => ApiError::from(e).into(),
            ApiError::Unimplemented(message) => Status::unimplemented(message),
            ApiError::Store(StoreError::Unavailable(cause)) => {
                tracing::warn!(error = %cause, "database unavailable");
                database_unavailable()
            }
            ApiError::Store(other) => {
                tracing::error!(error = ?anyhow_chain(&other), "internal error");
                Status::internal("internal error")
            }
        }
    }
}

/// UNAVAILABLE (reason `DATABASE_UNAVAILABLE`) with a RetryInfo of one second: the answer to a call
/// that needs a database that cannot be reached.
pub fn database_unavailable() -> Status {
    let mut details = info(ErrorReason::DatabaseUnavailable, HashMap::new());
    details.set_retry_info(Some(Duration::from_secs(1)));
    Status::with_error_details(
        Code::Unavailable,
        "the database is unavailable; retry later",
        details,
    )
}

/// How many field violations an answer lists in its message; the rest are counted.
const MESSAGE_VIOLATIONS: usize = 3;
/// How many field violations an answer carries in its details, and in how many bytes of text. Stock
/// clients refuse trailers above 8-16 KiB (grpcio turns them into RESOURCE_EXHAUSTED), so a request
/// with hundreds of bad lines still gets a readable INVALID_ARGUMENT with the first of them; the
/// details travel base64-encoded (a third larger), and the message is percent-encoded (up to three times larger), so 3 KiB of details and a message of
/// three cut violations stay inside 8 KiB.
const DETAIL_VIOLATIONS: usize = 50;
const DETAIL_BYTES: usize = 3 * 1024;
/// Longest field path or description kept in the details, and in the message; longer ones are cut
/// at a character boundary.
const DETAIL_TEXT_BYTES: usize = 256;
const MESSAGE_TEXT_BYTES: usize = 120;

/// INVALID_ARGUMENT with a short message (the first few violations and a count) and `BadRequest`
/// details capped in number and size; `ErrorInfo` says how many there were in all.
fn invalid_argument(all: &[returnbridge_domain::FieldViolation]) -> Status {
    let mut message = String::from("invalid request: ");
    for (i, v) in all.iter().take(MESSAGE_VIOLATIONS).enumerate() {
        if i > 0 {
            message.push_str("; ");
        }
        message.push_str(&format!(
            "{}: {}",
            cut(&v.field, MESSAGE_TEXT_BYTES),
            cut(&v.description, MESSAGE_TEXT_BYTES)
        ));
    }
    if all.len() > MESSAGE_VIOLATIONS {
        message.push_str(&format!(
            "; and {} more (see the BadRequest details)",
            all.len() - MESSAGE_VIOLATIONS
        ));
    }
    let mut budget = DETAIL_BYTES;
    let listed: Vec<FieldViolation> = all
        .iter()
        .take(DETAIL_VIOLATIONS)
        .map(|v| {
            FieldViolation::new(
                cut(&v.field, DETAIL_TEXT_BYTES),
                cut(&v.description, DETAIL_TEXT_BYTES),
            )
        })
        .take_while(|v| {
            let size = v.field.len() + v.description.len() + 8;
            budget = budget.saturating_sub(size);
            budget > 0
        })
        .collect();
    let mut details = info(
        ErrorReason::InvalidArgument,
        HashMap::from([
            ("violations".into(), all.len().to_string()),
            ("violations_listed".into(), listed.len().to_string()),
        ]),
    );
    details.set_bad_request(listed);
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// `text`, cut to at most `max` bytes at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
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
pub fn respond<T>(result: Result<T, ApiError>) -> Result<tonic::Response<T>, Status> {
    result.map(tonic::Response::new).map_err(Status::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use returnbridge_domain::Violations;

    fn trailer_bytes(status: &Status) -> usize {
        let response = status.clone().into_http::<()>();
        response
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum()
    }

    #[test]
    fn a_request_with_hundreds_of_bad_fields_answers_within_8_kib() {
        let mut v = Violations::default();
        for i in 0..500 {
            v.add(format!("order.lines[{i}].sku"), "é".repeat(400));
        }
        let status = Status::from(ApiError::Domain(DomainError::InvalidArgument(v)));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            trailer_bytes(&status) < 8 * 1024,
            "{}",
            trailer_bytes(&status)
        );
        let details = status.get_error_details();
        let listed = details.bad_request().map(|b| b.field_violations.len());
        assert!(listed.is_some_and(|n| (1..=50).contains(&n)), "{listed:?}");
        let info = details
            .error_info()
            .map(|i| i.metadata.clone())
            .unwrap_or_default();
        assert_eq!(info.get("violations").map(String::as_str), Some("500"));
        assert!(status.message().contains("and 497 more"));
    }

    #[test]
    fn a_few_violations_are_all_listed() {
        let mut v = Violations::default();
        v.add("a", "is required");
        v.add("b", "is required");
        let status = Status::from(ApiError::Domain(DomainError::InvalidArgument(v)));
        let listed = status
            .get_error_details()
            .bad_request()
            .map(|b| b.field_violations.len());
        assert_eq!(listed, Some(2));
        assert_eq!(
            status.message(),
            "invalid request: a: is required; b: is required"
        );
    }
}
