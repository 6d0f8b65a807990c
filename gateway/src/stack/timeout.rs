//! Every attempt ends within the per-attempt timeout (default 10 s); an attempt that did not answer
//! in time is a `Timeout` answer.
//!
//! Why: a supplier that accepts the connection and never answers would otherwise hold a permit of
//! its concurrency limit forever, and with it every later message to that supplier. The timeout
//! starts once the attempt holds its permit, so queueing behind a slow supplier is not counted as
//! that message's failure.

use crate::connector::{Answer, Attempt};
use returnbridge_store::AttemptOutcome;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::{Layer, Service};

/// Wraps a connector service with the per-attempt timeout.
#[derive(Debug, Clone, Copy)]
pub struct AttemptTimeoutLayer(pub Duration);

impl<S> Layer<S> for AttemptTimeoutLayer {
    type Service = AttemptTimeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AttemptTimeout {
            inner,
            limit: self.0,
        }
    }
}

/// See [`AttemptTimeoutLayer`].
#[derive(Debug, Clone)]
pub struct AttemptTimeout<S> {
    inner: S,
    limit: Duration,
}

impl<S> Service<Attempt> for AttemptTimeout<S>
where
    S: Service<Attempt, Response = Answer, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Answer;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Answer, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, attempt: Attempt) -> Self::Future {
        let limit = self.limit;
        let call = self.inner.call(attempt);
        Box::pin(async move {
            match tokio::time::timeout(limit, call).await {
                Ok(answer) => answer,
                Err(_) => Ok(Answer::failed(
                    AttemptOutcome::Timeout,
                    format!("no answer within {} ms", limit.as_millis()),
                )),
            }
        })
    }
}
