//! The JSON callback endpoint: SupplierCallbackService's five operations over HTTP/1.1 + JSON, for
//! suppliers with a plain web stack (paths in `route.rs`, docs/suppliers.md). Each request becomes a
//! `tonic::Request` (metadata from its headers: `authorization`, `idempotency-key`), goes through
//! the same database gate and the same `SupplierCallbacks` as a gRPC call, and its answer or status
//! comes back as proto3 JSON; so keys, idempotency, validation and errors are the gRPC service's.
//!
//! It listens on a port of its own (`gateway.callback_listen`), not on the gRPC port through tonic's
//! axum router: tonic's server answers its own load shedding and timeouts as gRPC statuses inside an
//! HTTP 200, which a JSON client would read as success, and its call log counts gRPC statuses only.
//! A separate listener also lets an operator expose the supplier endpoint to the internet, behind a
//! plain HTTP load balancer, without exposing the seller API beside it.

mod error_body;
mod proto_json;
mod route;
mod rpc;

use crate::SupplierCallbacks;
use bytes::Bytes;
use error_body::{Failure, http_mapping, json_response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use returnbridge_convert::error::ApiError;
use returnbridge_core::jobs::Background;
use returnbridge_domain::DomainError;
use returnbridge_proto::v1 as pb;
use route::{Miss, Operation, Route};
use rpc::CallbackRpc;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tonic::metadata::MetadataMap;
use tonic::service::Interceptor;
use tonic::{Code, Extensions, Status};
use tracing::Instrument;

/// Largest request body: a decision with every reason and instructions at their limits is a few
/// tens of KiB, so this refuses only what is not a callback.
pub const MAX_BODY: usize = 1024 * 1024;

/// How long a client may take to send a request's head: a silent connection is closed, not kept.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// The endpoint: the gRPC service's handlers and gate, and how long one call may run.
#[derive(Clone)]
pub struct JsonCallbacks<G> {
    inner: Arc<Endpoint<G>>,
}

struct Endpoint<G> {
    callbacks: SupplierCallbacks,
    gate: G,
    timeout: Duration,
}

impl<G> JsonCallbacks<G>
where
    G: Interceptor + Clone + Send + Sync + 'static,
{
    /// Calls `callbacks` through `gate` (the interceptor the gRPC service has), each call cut off
    /// after `timeout` (the gRPC server's `server.request_timeout_secs`).
    pub fn new(callbacks: SupplierCallbacks, gate: G, timeout: Duration) -> Self {
        Self {
            inner: Arc::new(Endpoint {
                callbacks,
                gate,
                timeout,
            }),
        }
    }

    /// Serves on `listener` until `background` stops; then each connection finishes the call it is
    /// in and closes.
    pub fn spawn(self, listener: TcpListener, background: &Background) {
        let jobs = background.clone();
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(HEAD_TIMEOUT);
        background.spawn(async move {
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    () = jobs.stopping() => return,
                };
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a JSON callback connection failed");
                        // Out of file descriptors and the like: do not spin.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let endpoint = self.clone();
                let service = hyper::service::service_fn(move |req| {
                    let endpoint = endpoint.clone();
                    async move { Ok::<_, Infallible>(endpoint.answer(req).await) }
                });
                let connection = http.serve_connection(TokioIo::new(stream), service);
                let stopping = jobs.clone();
                jobs.spawn(async move {
                    tokio::pin!(connection);
                    let served = tokio::select! {
                        served = connection.as_mut() => served,
                        () = stopping.stopping() => {
                            connection.as_mut().graceful_shutdown();
                            connection.await
                        }
                    };
                    if let Err(e) = served {
                        tracing::debug!(error = %e, "JSON callback connection ended");
                    }
                });
            }
        });
    }

    /// One request's answer, logged like a gRPC call (method, status, latency, tenant).
    async fn answer(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let route = match route::route(req.method(), req.uri().path()) {
            Ok(route) => route,
            Err(miss) => return refuse(miss, req.method(), req.uri().path()),
        };
        let method = match route.operation {
            Operation::Acknowledge => pb::AcknowledgeRequestRequest::METHOD,
            Operation::Decide => pb::SubmitDecisionRequest::METHOD,
            Operation::ReportReceipt => pb::ReportReceiptRequest::METHOD,
            Operation::ReportInspection => pb::ReportInspectionRequest::METHOD,
            Operation::ConfirmCredit => pb::ConfirmCreditRequest::METHOD,
        };
        // `tenant` is recorded by the handlers once the caller's key is resolved.
        let span = tracing::info_span!("json_callback", method, tenant = tracing::field::Empty);
        let call = tokio::time::timeout(self.inner.timeout, self.dispatch(route, req));
        let (response, code) = match call.instrument(span.clone()).await {
            Ok(Ok(body)) => (json_response(StatusCode::OK, body), Code::Ok),
            Ok(Err(failure)) => (failure.response(), failure.status.code()),
            Err(_) => {
                let failure = Failure::from(Status::deadline_exceeded(format!(
                    "the call took longer than {:?}; retry with the same Idempotency-Key",
                    self.inner.timeout
                )));
                (failure.response(), Code::DeadlineExceeded)
            }
        };
        span.in_scope(|| {
            tracing::info!(
                rpc_method = method,
                rpc_status_code = http_mapping(code).1,
                http_status = response.status().as_u16(),
                latency_ms = started.elapsed().as_secs_f64() * 1000.0,
                "call"
            );
        });
        response
    }

    async fn dispatch(&self, route: Route, req: Request<Incoming>) -> Result<Vec<u8>, Failure> {
        match route.operation {
            Operation::Acknowledge => {
                self.call::<pb::AcknowledgeRequestRequest>(route.id, req)
                    .await
            }
            Operation::Decide => self.call::<pb::SubmitDecisionRequest>(route.id, req).await,
            Operation::ReportReceipt => self.call::<pb::ReportReceiptRequest>(route.id, req).await,
            Operation::ReportInspection => {
                self.call::<pb::ReportInspectionRequest>(route.id, req)
                    .await
            }
            Operation::ConfirmCredit => self.call::<pb::ConfirmCreditRequest>(route.id, req).await,
        }
    }

    /// Reads the body as `R`, fills its id from the path, and calls the service with the request's
    /// headers as metadata, through the gate.
    async fn call<R: CallbackRpc>(
        &self,
        path_id: String,
        req: Request<Incoming>,
    ) -> Result<Vec<u8>, Failure> {
        let (parts, body) = req.into_parts();
        let body = read_body(&parts.headers, body).await?;
        let mut message: R = if body.iter().all(u8::is_ascii_whitespace) {
            // A POST with no body is `{}`: an acknowledgement needs nothing but the path.
            R::default()
        } else {
            proto_json::read(R::REQUEST, &body)?
        };
        let id = message.id();
        if id.is_empty() {
            *id = path_id;
        } else if *id != path_id {
            return Err(invalid(
                R::ID_FIELD,
                format!(
                    "is {id:?} in the body but {path_id:?} in the path; leave it out of the body or make them agree"
                ),
            ));
        }
        let metadata = MetadataMap::from_headers(parts.headers);
        let mut gate = self.inner.gate.clone();
        let (metadata, extensions, ()) = gate
            .call(tonic::Request::from_parts(
                metadata,
                Extensions::default(),
                (),
            ))?
            .into_parts();
        let request = tonic::Request::from_parts(metadata, extensions, message);
        let answer = R::call(&self.inner.callbacks, request).await?;
        Ok(proto_json::write(R::RESPONSE, answer.get_ref())?)
    }
}

/// The body, at most [`MAX_BODY`], after checking that what it claims to be is JSON.
async fn read_body(headers: &hyper::HeaderMap, body: Incoming) -> Result<Bytes, Failure> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    let json = headers.get(CONTENT_TYPE).map(is_json);
    if json == Some(false) {
        return Err(not_json());
    }
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Err(e) => {
            return Err(invalid("body", format!("could not be read: {e}")));
        }
    };
    // Without a content type only an empty body is taken.
    if json.is_none() && !body.iter().all(u8::is_ascii_whitespace) {
        return Err(not_json());
    }
    Ok(body)
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(value: &HeaderValue) -> bool {
    value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

fn invalid(field: &str, description: String) -> Failure {
    Status::from(ApiError::from(DomainError::invalid(field, description))).into()
}

fn too_large() -> Failure {
    let status = Status::from(ApiError::from(DomainError::invalid(
        "body",
        format!("is larger than {MAX_BODY} bytes"),
    )));
    Failure::with_http(StatusCode::PAYLOAD_TOO_LARGE, status)
}

fn not_json() -> Failure {
    let status = Status::from(ApiError::from(DomainError::invalid(
        "content-type",
        "must be application/json: the body is the request message in proto3 JSON",
    )));
    Failure::with_http(StatusCode::UNSUPPORTED_MEDIA_TYPE, status)
}

/// The answer to a request that names no operation, listing those there are.
fn refuse(miss: Miss, method: &hyper::Method, path: &str) -> Response<Full<Bytes>> {
    let served = route::paths().join(", ");
    let failure = match miss {
        Miss::UnknownPath => Failure::from(Status::not_found(format!(
            "no JSON callback at {method} {path}; served: {served}"
        ))),
        Miss::MethodNotAllowed => Failure::with_http(
            StatusCode::METHOD_NOT_ALLOWED,
            Status::unimplemented(format!("{path} takes POST only")),
        ),
    };
    let mut response = failure.response();
    if miss == Miss::MethodNotAllowed {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
    }
    tracing::info!(%method, path, http_status = response.status().as_u16(), "JSON callback refused");
    response
}
