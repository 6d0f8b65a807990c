//! The call layer: one log line at info and one `rpc_server_call_duration_seconds` observation per
//! gRPC call, with its method, status code and latency.
//!
//! The status is read from the response headers: tonic answers a failed unary call trailers-only, so
//! its `grpc-status` is a header. A response without one is counted `OK`: an OK unary answer carries
//! its status in the trailers, after the body, and a stream's final status is not known when its
//! headers go out. Latency is to the response headers, which for a unary call is the whole call. A
//! call dropped before it answers (tonic's timeout, or the client going away) is counted
//! `CANCELLED`, which is what tonic's timeout answers. The layer sits inside tonic's load shedding,
//! so calls shed for overload are not seen here.

use returnbridge_core::metrics::Metrics;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::time::Instant;
use tonic::Code;
use tonic::codegen::http;
use tower::{Layer, Service};

/// Wraps a service in [`CallLog`].
#[derive(Clone)]
pub struct CallLogLayer {
    metrics: Metrics,
}

impl CallLogLayer {
    /// Records into `metrics`.
    pub fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for CallLogLayer {
    type Service = CallLog<S>;

    fn layer(&self, inner: S) -> CallLog<S> {
        CallLog {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// Logs and measures each call to the inner service.
#[derive(Clone)]
pub struct CallLog<S> {
    inner: S,
    metrics: Metrics,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for CallLog<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let mut call = Call {
            method: Some(req.uri().path().to_owned()),
            started: Instant::now(),
            metrics: self.metrics.clone(),
        };
        let answer = self.inner.call(req);
        Box::pin(async move {
            let result = answer.await;
            let code = match &result {
                Ok(response) => header_code(response.headers()),
                // tonic turns an error out of the service stack into UNKNOWN.
                Err(_) => Code::Unknown,
            };
            call.finish(code);
            result
        })
    }
}

/// The status a response's headers carry (a trailers-only answer), else OK (see the module docs).
fn header_code(headers: &http::HeaderMap) -> Code {
    headers
        .get("grpc-status")
        .map_or(Code::Ok, |v| Code::from_bytes(v.as_bytes()))
}

/// One call in flight; dropped unfinished, it is recorded as CANCELLED.
struct Call {
    method: Option<String>,
    started: Instant,
    metrics: Metrics,
}

impl Call {
    fn finish(&mut self, code: Code) {
        let Some(method) = self.method.take() else {
            return;
        };
        let elapsed = self.started.elapsed();
        // An unknown method would otherwise be a new series per name a client makes up.
        let method = if code == Code::Unimplemented {
            "_OTHER".to_owned()
        } else {
            method
        };
        let code = code_name(code);
        self.metrics.record_call(&method, code, elapsed);
        tracing::info!(
            rpc_method = %method,
            rpc_status_code = code,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "call"
        );
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.finish(Code::Cancelled);
    }
}

/// The canonical name of a status code, as gRPC's documentation and other languages spell it.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use std::time::Duration;
    use tower::ServiceExt;

    fn answering(
        status: Option<&'static str>,
        delay: Duration,
    ) -> impl Service<
        http::Request<()>,
        Response = http::Response<()>,
        Error = Infallible,
        Future = impl Future<Output = Result<http::Response<()>, Infallible>> + Send + 'static,
    > + Clone {
        tower::service_fn(move |_req: http::Request<()>| async move {
            tokio::time::sleep(delay).await;
            let mut response = http::Response::new(());
            if let Some(code) = status {
                response
                    .headers_mut()
                    .insert("grpc-status", http::HeaderValue::from_static(code));
            }
            Ok(response)
        })
    }

    fn request(path: &str) -> http::Request<()> {
        http::Request::builder().uri(path).body(()).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_trailers_only_error_is_recorded_with_its_code_and_latency() {
        let metrics = Metrics::new();
        let svc = CallLogLayer::new(metrics.clone())
            .layer(answering(Some("3"), Duration::from_millis(40)));
        svc.oneshot(request("/p.S/M")).await.unwrap();
        let text = metrics.encode().unwrap();
        let series = "rpc_method=\"/p.S/M\",rpc_status_code=\"INVALID_ARGUMENT\"";
        assert!(
            text.contains(&format!("le=\"0.025\",{series}}} 0")),
            "{text}"
        );
        assert!(
            text.contains(&format!("le=\"0.05\",{series}}} 1")),
            "{text}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_status_in_the_headers_counts_as_ok() {
        let metrics = Metrics::new();
        let svc = CallLogLayer::new(metrics.clone()).layer(answering(None, Duration::ZERO));
        svc.oneshot(request("/p.S/M")).await.unwrap();
        let text = metrics.encode().unwrap();
        assert!(
            text.contains("rpc_method=\"/p.S/M\",rpc_status_code=\"OK\"} 1"),
            "{text}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_dropped_before_it_answers_counts_as_cancelled() {
        let metrics = Metrics::new();
        let svc =
            CallLogLayer::new(metrics.clone()).layer(answering(None, Duration::from_secs(60)));
        let call = svc.oneshot(request("/p.S/M"));
        assert!(
            tokio::time::timeout(Duration::from_secs(1), call)
                .await
                .is_err()
        );
        let text = metrics.encode().unwrap();
        assert!(text.contains("rpc_status_code=\"CANCELLED\"} 1"), "{text}");
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_methods_share_one_series() {
        let metrics = Metrics::new();
        for path in ["/made.Up/One", "/made.Up/Two"] {
            let svc =
                CallLogLayer::new(metrics.clone()).layer(answering(Some("12"), Duration::ZERO));
            svc.oneshot(request(path)).await.unwrap();
        }
        let text = metrics.encode().unwrap();
        assert!(
            text.contains("rpc_method=\"_OTHER\",rpc_status_code=\"UNIMPLEMENTED\"} 2"),
            "{text}"
        );
        assert!(!text.contains("made.Up"), "{text}");
    }
}
