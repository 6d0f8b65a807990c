//! Errors as JSON: `google.rpc.Status` in proto3 JSON the way Google's HTTP APIs answer it (AIP-193):
//! `{"error": {"code": <HTTP status>, "status": "<gRPC code name>", "message": ..., "details": [...]}}`,
//! the details being the very `ErrorInfo`, `BadRequest` and `RetryInfo` a gRPC caller gets.

use super::proto_json;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Response, StatusCode};
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The HTTP status and canonical name of a gRPC code. As google.rpc.Code maps them, but for
/// FAILED_PRECONDITION: 409, not 400, since every one this service answers (ALREADY_ANSWERED,
/// REQUEST_SUPERSEDED, a return's status) is a conflict with the resource's state, not a bad request.
pub fn http_mapping(code: Code) -> (StatusCode, &'static str) {
    match code {
        Code::Ok => (StatusCode::OK, "OK"),
        // nginx's "client closed request": no standard status says it.
        Code::Cancelled => (status(499), "CANCELLED"),
        Code::Unknown => (StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN"),
        Code::InvalidArgument => (StatusCode::BAD_REQUEST, "INVALID_ARGUMENT"),
        Code::DeadlineExceeded => (StatusCode::GATEWAY_TIMEOUT, "DEADLINE_EXCEEDED"),
        Code::NotFound => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        Code::AlreadyExists => (StatusCode::CONFLICT, "ALREADY_EXISTS"),
        Code::PermissionDenied => (StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
        Code::ResourceExhausted => (StatusCode::TOO_MANY_REQUESTS, "RESOURCE_EXHAUSTED"),
        Code::FailedPrecondition => (StatusCode::CONFLICT, "FAILED_PRECONDITION"),
        Code::Aborted => (StatusCode::CONFLICT, "ABORTED"),
        Code::OutOfRange => (StatusCode::BAD_REQUEST, "OUT_OF_RANGE"),
        Code::Unimplemented => (StatusCode::NOT_IMPLEMENTED, "UNIMPLEMENTED"),
        Code::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
        Code::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
        Code::DataLoss => (StatusCode::INTERNAL_SERVER_ERROR, "DATA_LOSS"),
        Code::Unauthenticated => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A failed call: the status, and the HTTP status when the HTTP layer knows a more exact one than
/// the code's (405, 413, 415).
#[derive(Debug)]
pub struct Failure {
    pub http: Option<StatusCode>,
    pub status: Status,
}

impl From<Status> for Failure {
    fn from(status: Status) -> Self {
        Self { http: None, status }
    }
}

impl Failure {
    /// `status` answered with `http`.
    pub fn with_http(http: StatusCode, status: Status) -> Self {
        Self {
            http: Some(http),
            status,
        }
    }

    /// The HTTP answer.
    pub fn response(&self) -> Response<Full<Bytes>> {
        let (mapped, name) = http_mapping(self.status.code());
        let http = self.http.unwrap_or(mapped);
        let body = serde_json::json!({
            "error": {
                "code": http.as_u16(),
                "status": name,
                "message": self.status.message(),
                "details": proto_json::details(&self.status),
            }
        });
        let mut response = json_response(http, body.to_string().into_bytes());
        // A plain HTTP client reads when to retry from the header, not from RetryInfo.
        if let Some(delay) = self
            .status
            .get_details_retry_info()
            .and_then(|r| r.retry_delay)
        {
            let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
        }
        response
    }
}

/// A JSON answer with `status`.
pub fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use returnbridge_convert::error::{ApiError, database_unavailable};
    use returnbridge_domain::DomainError;

    async fn body(failure: Failure) -> (StatusCode, serde_json::Value, Option<String>) {
        let response = failure.response();
        let status = response.status();
        let retry = response
            .headers()
            .get(RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap(), retry)
    }

    #[tokio::test]
    async fn a_bad_request_answers_400_with_its_error_info_and_field_violations() {
        let status = Status::from(ApiError::from(DomainError::invalid(
            "decision.verdict",
            "is required",
        )));
        let (http, json, _) = body(status.into()).await;
        assert_eq!(http, StatusCode::BAD_REQUEST);
        let error = &json["error"];
        assert_eq!(error["code"], 400);
        assert_eq!(error["status"], "INVALID_ARGUMENT");
        let details = error["details"].as_array().unwrap();
        let info = details
            .iter()
            .find(|d| d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo")
            .unwrap();
        assert_eq!(info["reason"], "INVALID_ARGUMENT");
        assert_eq!(info["domain"], "returnbridge");
        let bad = details
            .iter()
            .find(|d| d["@type"] == "type.googleapis.com/google.rpc.BadRequest")
            .unwrap();
        assert_eq!(bad["fieldViolations"][0]["field"], "decision.verdict");
    }

    #[tokio::test]
    async fn an_outage_answers_503_with_retry_after() {
        let (http, json, retry) = body(database_unavailable().into()).await;
        assert_eq!(http, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(json["error"]["status"], "UNAVAILABLE");
        assert_eq!(retry.as_deref(), Some("1"));
        let retry_info = json["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["@type"] == "type.googleapis.com/google.rpc.RetryInfo")
            .cloned()
            .unwrap();
        assert_eq!(retry_info["retryDelay"], "1s");
    }

    #[tokio::test]
    async fn the_http_layer_may_answer_a_more_exact_status() {
        let failure =
            Failure::with_http(StatusCode::METHOD_NOT_ALLOWED, Status::unimplemented("x"));
        let (http, json, _) = body(failure).await;
        assert_eq!(http, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(json["error"]["code"], 405);
        assert_eq!(json["error"]["status"], "UNIMPLEMENTED");
        assert_eq!(json["error"]["details"], serde_json::json!([]));
    }

    #[test]
    fn conflicts_are_409_and_unknown_callers_401() {
        for (code, http) in [
            (Code::FailedPrecondition, 409),
            (Code::Aborted, 409),
            (Code::AlreadyExists, 409),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::NotFound, 404),
            (Code::ResourceExhausted, 429),
            (Code::Unavailable, 503),
            (Code::Cancelled, 499),
        ] {
            assert_eq!(http_mapping(code).0.as_u16(), http, "{code:?}");
        }
    }
}
