//! At most N attempts started per second to one supplier, when its delivery policy sets a limit
//! (`DeliveryPolicy.max_requests_per_second`; none by default). `governor`'s GCRA limiter paces the
//! attempts evenly instead of letting a burst through at the start of each second.
//!
//! Why: some suppliers' APIs enforce a request rate and answer 429 past it; pacing on our side keeps
//! those attempts from failing and being pushed back by the retry schedule. It sits inside the
//! concurrency limit and outside the per-attempt timeout, so waiting for a slot never counts as the
//! supplier being slow.

use crate::connector::{Answer, Attempt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::convert::Infallible;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// Paces attempts to `per_second`, or passes them straight through when `None`.
#[derive(Clone)]
pub struct RateLimitLayer(Option<Arc<DefaultDirectRateLimiter>>);

impl RateLimitLayer {
    /// One limiter, shared by every clone of the stack it is layered into.
    pub fn new(per_second: Option<u32>) -> Self {
        Self(
            per_second
                .and_then(NonZeroU32::new)
                .map(|n| Quota::per_second(n).allow_burst(NonZeroU32::MIN))
                .map(|quota| Arc::new(RateLimiter::direct(quota))),
        )
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            limiter: self.0.clone(),
        }
    }
}

/// See [`RateLimitLayer`].
#[derive(Clone)]
pub struct RateLimit<S> {
    inner: S,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
}

impl<S> Service<Attempt> for RateLimit<S>
where
    S: Service<Attempt, Response = Answer, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Answer;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Answer, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, attempt: Attempt) -> Self::Future {
        // The service that was polled ready goes into the future; a fresh clone stays behind.
        let fresh = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, fresh);
        let limiter = self.limiter.clone();
        Box::pin(async move {
            if let Some(limiter) = limiter {
                limiter.until_ready().await;
            }
            ready.call(attempt).await
        })
    }
}
