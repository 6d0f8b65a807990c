//! Contract versions and seller settings.

use async_trait::async_trait;

/// Contract versions (immutable, one per publish) and per-tenant seller settings.
#[async_trait]
pub trait ContractStore: Send + Sync {}
