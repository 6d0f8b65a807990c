//! Returnbridge's tonic services: each handler authenticates, converts the request to the domain,
//! calls the domain and the store, and converts the answer back. Errors become statuses in one
//! place, [`error`].

// A failure is an error the caller sees, never a panic in the server.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod contract_service;
pub mod contracts;
pub use returnbridge_convert as convert;
pub use returnbridge_convert::error;
pub use returnbridge_convert::idempotency;
mod liability;
pub mod paging;
pub mod returns;
mod sla;

use error::ApiError;
use returnbridge_convert::render::ProtoRender;
use returnbridge_core::auth::{Authenticator, Principal};
use returnbridge_core::clock::Clock;
use returnbridge_core::jobs::Background;
use returnbridge_core::metrics::Metrics;
use returnbridge_core::returns::Returns;
use returnbridge_domain::auth::Scope;
use returnbridge_store::Store;
use std::sync::Arc;
use tonic::metadata::MetadataMap;

pub use contract_service::ContractApi;
pub use liability::LiabilityApi;
pub use returns::ReturnApi;
pub use sla::SlaApi;

/// What every handler shares: the store, the authenticator over it, and the clock.
#[derive(Clone)]
pub struct ApiContext {
    /// Wakes this replica's event streams after a write; other replicas' writes are found by polling.
    pub events: Arc<tokio::sync::Notify>,
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// Resolves API keys to tenants and scopes.
    pub auth: Authenticator,
    /// The one source of "now".
    pub clock: Arc<dyn Clock>,
    /// The process's background work (event streams, jobs) and its shutdown.
    pub background: Background,
    /// The process's metrics (the server's call layer records into the same registry).
    pub metrics: Metrics,
    /// The return use cases.
    pub returns: Returns,
}

impl ApiContext {
    /// A context over `store`, telling time by `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        let metrics = Metrics::new();
        Self {
            events: Arc::new(tokio::sync::Notify::new()),
            auth: Authenticator::new(store.clone()),
            returns: Returns::new(store.clone(), clock.clone(), Arc::new(ProtoRender))
                .with_metrics(metrics.clone()),
            store,
            clock,
            background: Background::default(),
            metrics,
        }
    }

    /// The caller behind the call's `authorization` metadata, if its key holds `scope`.
    pub async fn authorize(
        &self,
        metadata: &MetadataMap,
        scope: Scope,
    ) -> Result<Principal, ApiError> {
        // Metadata that is not text is a malformed key, like any other value without `Bearer `.
        let authorization = metadata
            .get("authorization")
            .map(|v| v.to_str().unwrap_or_default());
        let caller = self.auth.authorize(authorization, scope).await?;
        // The server's `grpc` span declares `tenant`, so the call's log line names it; outside that
        // span this records nothing.
        tracing::Span::current().record("tenant", caller.tenant.as_str());
        Ok(caller)
    }

    /// Tells this replica's event streams that new events were committed.
    pub fn events_written(&self) {
        self.events.notify_waiters();
    }
}
