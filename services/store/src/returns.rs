//! Returns, their events, the outbox rows they cause, and sales records.

use async_trait::async_trait;

/// Returns and everything written with them.
#[async_trait]
pub trait ReturnStore: Send + Sync {}
