//! Each supplier's tower stack, outermost first: circuit breaker, concurrency limit, the supplier's
//! optional rate limit, per-attempt timeout, then the connector its URL calls for. One stack per supplier, so a hanging or failing
//! supplier fills only its own queue and opens only its own breaker.

pub mod breaker;
pub mod concurrency;
pub mod rate_limit;
pub mod timeout;

use crate::connector::{Answer, Attempt};
use crate::grpc_connector::GrpcConnector;
use crate::webhook::WebhookConnector;
use breaker::{Breaker, BreakerLayer, BreakerPolicy};
use rate_limit::RateLimitLayer;
use returnbridge_domain::supplier::Connector;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use timeout::AttemptTimeoutLayer;
use tower::util::BoxCloneService;
use tower::{Service, ServiceBuilder};

/// What every supplier's stack is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackPolicy {
    /// Attempts in flight per supplier.
    pub concurrency: usize,
    /// Longest one attempt may take.
    pub attempt_timeout: Duration,
    /// When the breaker opens.
    pub breaker: BreakerPolicy,
}

impl Default for StackPolicy {
    fn default() -> Self {
        Self {
            concurrency: 16,
            attempt_timeout: Duration::from_secs(10),
            breaker: BreakerPolicy::default(),
        }
    }
}

/// The innermost service: sends an attempt with the connector its target names.
#[derive(Clone)]
pub struct Connectors {
    /// Signed JSON POSTs.
    pub webhook: WebhookConnector,
    /// `SupplierInbox` calls.
    pub grpc: GrpcConnector,
}

impl Service<Attempt> for Connectors {
    type Response = Answer;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Answer, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, attempt: Attempt) -> Self::Future {
        let connectors = self.clone();
        Box::pin(async move {
            Ok(match attempt.target.connector {
                Connector::Webhook { .. } => connectors.webhook.send(&attempt).await,
                Connector::Grpc { .. } => connectors.grpc.send(&attempt).await,
            })
        })
    }
}

/// One supplier's stack and its breaker (which the dispatcher asks before claiming its rows).
#[derive(Clone)]
pub struct SupplierStack {
    /// Sends an attempt through every layer.
    pub service: BoxCloneService<Attempt, Answer, Infallible>,
    /// The supplier's circuit breaker.
    pub breaker: Breaker,
}

impl SupplierStack {
    /// A fresh stack (closed breaker, free permits) over `connectors`, pacing attempts to
    /// `per_second` when set.
    pub fn new(policy: StackPolicy, per_second: Option<u32>, connectors: Connectors) -> Self {
        let breaker = Breaker::new(policy.breaker);
        let service = ServiceBuilder::new()
            .layer(BreakerLayer(breaker.clone()))
            .layer(concurrency::layer(policy.concurrency))
            .layer(RateLimitLayer::new(per_second))
            .layer(AttemptTimeoutLayer(policy.attempt_timeout))
            .service(connectors);
        Self {
            service: BoxCloneService::new(service),
            breaker,
        }
    }
}
