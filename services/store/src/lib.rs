//! Persistence for Returnbridge: one [`Store`] trait, a PostgreSQL and a SQLite implementation, both
//! on sqlx and both held to one conformance suite (`tests/conformance.rs`).
//!
//! The backend is chosen once, from the database URL's scheme ([`connect`]). Queries are checked at
//! run time, so nothing here needs a live database to compile.

// A failure is an error the caller sees, never a panic in the server.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod contracts;
mod documents;
mod error;
mod explain;
mod keys;
mod liability;
mod outbox;
mod postgres;
mod probe;
mod returns;
mod rows;
mod sla;
mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use returnbridge_domain::ids::{ApiKeyId, SupplierId, TenantId};
use returnbridge_domain::supplier::{NewSupplier, Supplier, SupplierChanges};
use std::sync::Arc;
use std::time::Duration;

pub use contracts::{
    ContractStore, NewContractVersion, SettingsChange, SettingsWrite, StoredContract,
    StoredSettings,
};
pub use documents::{LEGACY_RETURN_FORMAT, RETURN_FORMAT};
pub use error::StoreError;
pub use keys::{ApiKeyRecord, NewApiKey};
pub use liability::{
    LedgerEntry, LiabilityStore, NewSettlement, SettlementScope, SettlementSums, StoredSettlement,
};
pub use outbox::{
    AttemptOutcome, AttemptReport, ClaimSkip, ClaimedMessage, DeliveryAttempt, DeliveryTarget,
    Disposition, OutboxSignal, OutboxStore, RESPONSE_EXCERPT_MAX, Recipient, SELLER_EVENT_KIND,
};
pub use postgres::{PgStore, ScratchDatabase};
pub use returns::{
    AuthorizePlan, LegacyReturn, NewBreach, NewEvent, NewOutboxMessage, NewReturn, ReturnFilter,
    ReturnStore, ReturnUpdate, ReturnedSoFar, SalesRecord, StoredEvent, UpdatePlan,
};
pub use sla::{BreachCursor, BreachFilter, SlaStore, StoredBreach};
pub use sqlite::SqliteStore;

/// Connection settings that do not belong in the URL.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most connections the pool opens (PostgreSQL; SQLite uses this for readers too).
    pub max_connections: u32,
    /// How long a caller waits for a pooled connection before the store reports itself unavailable.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Opens the store the URL names (`sqlite:` or `postgres:`/`postgresql:`) without migrating it.
pub async fn connect(url: &str, options: &StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, options).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PgStore::connect(url, options).await?))
    } else {
        Err(StoreError::Config(format!(
            "unsupported database URL scheme in {:?}: use sqlite:PATH or postgres://...",
            redact_url(url)
        )))
    }
}

/// The URL with any password replaced, safe to log or print.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("REDACTED"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// A supplier's new webhook signing secret; the old one keeps signing beside it until
/// `old_signs_until`.
#[derive(Debug, Clone, Copy)]
pub struct SecretRotation<'a> {
    /// The new `whsec_` secret.
    pub secret: &'a str,
    /// Until when deliveries carry the old secret's signature too.
    pub old_signs_until: DateTime<Utc>,
}

/// A mutating call's idempotency key, checked and recorded in the same transaction as its effect, so
/// a retry can never apply the effect twice nor lose the recorded answer.
pub struct IdempotencyClaim<'a, T> {
    /// The caller's `idempotency-key`.
    pub key: &'a str,
    /// SHA-256 over the RPC name and the request: the same key with another request is refused.
    pub request_hash: [u8; 32],
    /// Renders the answer to keep, so a retry gets the identical bytes back. A failure fails the
    /// whole change: an answer that cannot be kept is never kept empty.
    pub encode: &'a (dyn Fn(&T) -> Result<Vec<u8>, StoreError> + Send + Sync),
}

/// What a mutating call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied<T> {
    /// The effect happened now.
    New(T),
    /// The key was seen before with the same request: the stored answer, and no second effect.
    Replayed(Vec<u8>),
}

/// Everything Returnbridge persists: keys and suppliers here, contracts in [`ContractStore`], returns in
/// [`ReturnStore`], their delivery to suppliers in [`OutboxStore`]. Every method is scoped by tenant where the data is a tenant's: another tenant's
/// row is simply not found.
#[async_trait]
pub trait Store:
    ContractStore + ReturnStore + LiabilityStore + OutboxStore + SlaStore + Send + Sync + 'static
{
    /// Applies pending migrations (embedded in the binary; checksums verified).
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Succeeds when the database answers and every migration is applied.
    async fn check_ready(&self) -> Result<(), StoreError>;

    /// Succeeds when the database answers, on a connection of its own: at once, never after the
    /// pool's acquire timeout.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Deletes up to `limit` idempotency records created before `before`, oldest first, and says how
    /// many went. A key older than the retention is then new again.
    async fn purge_idempotency_records(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError>;

    /// Creates an API key (and its tenant, on first use).
    async fn create_api_key(&self, key: NewApiKey) -> Result<ApiKeyRecord, StoreError>;

    /// The key whose secret hashes to `secret_hash`, revoked or not.
    async fn find_api_key(
        &self,
        secret_hash: &[u8; 32],
    ) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// Keys of one tenant, or of all tenants, oldest first.
    async fn list_api_keys(
        &self,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Marks a key revoked; false when no such key exists. Revoking twice keeps the first time.
    async fn revoke_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Creates a supplier. An unknown backup is an INVALID_ARGUMENT naming `backup_field`.
    async fn create_supplier(
        &self,
        tenant: &TenantId,
        supplier: NewSupplier,
        webhook_secret: &str,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, Supplier>>,
    ) -> Result<Applied<Supplier>, StoreError>;

    /// One supplier of the tenant.
    async fn get_supplier(
        &self,
        tenant: &TenantId,
        id: SupplierId,
    ) -> Result<Option<Supplier>, StoreError>;

    /// The tenant's suppliers in id (creation) order, after `after`, at most `limit`.
    async fn list_suppliers(
        &self,
        tenant: &TenantId,
        after: Option<SupplierId>,
        limit: u32,
    ) -> Result<Vec<Supplier>, StoreError>;

    /// Applies changes to a supplier under a row lock, and a secret rotation if one is asked;
    /// NOT_FOUND, INVALID_ARGUMENT (unknown backup) and version conflicts come back as
    /// [`StoreError::Domain`].
    async fn update_supplier(
        &self,
        tenant: &TenantId,
        id: SupplierId,
        changes: SupplierChanges,
        rotation: Option<SecretRotation<'_>>,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, Supplier>>,
    ) -> Result<Applied<Supplier>, StoreError>;
}
