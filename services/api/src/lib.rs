//! Returnbridge's tonic services: each handler authenticates, converts the request to the domain,
//! calls the domain and the store, and converts the answer back. Errors become statuses in one
//! place, [`error`].

pub mod auth;
pub mod clock;
mod contract_service;
pub mod convert;
pub mod error;
pub mod idempotency;
pub mod paging;
mod unimplemented;

use auth::Authenticator;
use clock::Clock;
use returnbridge_store::Store;
use std::sync::Arc;

pub use contract_service::ContractApi;
pub use unimplemented::{LiabilityApi, ReturnApi, SlaApi};

/// What every handler shares: the store, the authenticator over it, and the clock.
#[derive(Clone)]
pub struct ApiContext {
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// Resolves API keys to tenants and scopes.
    pub auth: Authenticator,
    /// The one source of "now".
    pub clock: Arc<dyn Clock>,
}

impl ApiContext {
    /// A context over `store`, telling time by `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            auth: Authenticator::new(store.clone()),
            store,
            clock,
        }
    }
}
