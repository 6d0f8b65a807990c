//! Contract versions and seller settings.
//!
//! The store keeps the documents as the api encoded them (the v1 `ContractTerms` and `SellerSettings`
//! messages) next to the typed columns it queries on, so it needs no proto types of its own.

use crate::{Applied, IdempotencyClaim, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use returnbridge_domain::DomainError;
use returnbridge_domain::error::Resource;
use returnbridge_domain::ids::{SupplierId, TenantId};

/// A contract version to publish; the store numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContractVersion {
    /// The supplier it binds.
    pub supplier: SupplierId,
    /// When it takes effect (checked against the latest version under the supplier's lock).
    pub effective_from: DateTime<Utc>,
    /// The encoded, already validated terms.
    pub terms: Vec<u8>,
    /// Free text for humans.
    pub description: String,
    /// Refuse with a version conflict unless the latest version is this one (0 when there is none).
    pub expected_latest_version: Option<i64>,
    /// The terms fail over on a breach, so the supplier must have a backup when the version is
    /// published.
    pub requires_backup: bool,
}

/// One stored contract version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredContract {
    /// The supplier it binds.
    pub supplier: SupplierId,
    /// 1, 2, 3... per supplier.
    pub version: i64,
    /// When it takes effect.
    pub effective_from: DateTime<Utc>,
    /// When the next version takes effect; `None` for the latest.
    pub effective_until: Option<DateTime<Utc>>,
    /// The encoded terms, as published.
    pub terms: Vec<u8>,
    /// Free text for humans.
    pub description: String,
    /// When it was published.
    pub published_at: DateTime<Utc>,
}

/// The seller's stored settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSettings {
    /// The encoded settings document.
    pub document: Vec<u8>,
    /// 1 after the first write, +1 per update.
    pub version: i64,
    /// When they last changed.
    pub updated_at: DateTime<Utc>,
    /// The secret seller event webhooks are signed with, once one was issued.
    pub event_webhook_secret: Option<String>,
}

/// What an update writes: the whole new document and the secret to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsWrite {
    /// The new settings document.
    pub document: Vec<u8>,
    /// The event webhook secret after the update (the current one, a new one, or none).
    pub event_webhook_secret: Option<String>,
}

/// Computes the new settings from the current ones (`None` when never written). It runs inside the
/// writing transaction, so a merge can never lose a concurrent update.
pub type SettingsChange<'a> =
    &'a (dyn Fn(Option<&StoredSettings>) -> Result<SettingsWrite, StoreError> + Send + Sync);

/// Contract versions (immutable, one per publish) and per-tenant seller settings. An unknown
/// supplier, including another tenant's, is `DomainError::NotFound { resource: Resource::Supplier }`.
#[async_trait]
pub trait ContractStore: Send + Sync {
    /// Publishes version n+1 under a lock on the supplier, so concurrent publishers get consecutive
    /// numbers. Refuses a stale `expected_latest_version` (VersionConflict), an `effective_from` the
    /// domain does not allow after the latest version, and a failover contract for a supplier
    /// without a backup.
    async fn publish_contract(
        &self,
        tenant: &TenantId,
        new: NewContractVersion,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, StoredContract>>,
    ) -> Result<Applied<StoredContract>, StoreError>;

    /// The supplier's versions, newest first, older than `before` (a version number), at most
    /// `limit`.
    async fn list_contract_versions(
        &self,
        tenant: &TenantId,
        supplier: SupplierId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredContract>, StoreError>;

    /// The version in effect at `at`: the latest whose `effective_from` is not after it. `None` when
    /// the supplier has no version in effect then.
    async fn contract_in_effect(
        &self,
        tenant: &TenantId,
        supplier: SupplierId,
        at: DateTime<Utc>,
    ) -> Result<Option<StoredContract>, StoreError>;

    /// One version by number; `None` when the supplier has no such version.
    async fn contract_version(
        &self,
        tenant: &TenantId,
        supplier: SupplierId,
        version: i64,
    ) -> Result<Option<StoredContract>, StoreError>;

    /// The tenant's settings; `None` while never written.
    async fn seller_settings(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<StoredSettings>, StoreError>;

    /// Version `version` of the tenant's seller settings, as it was written (without the webhook
    /// secret); `None` when that version was never written or predates version history.
    async fn seller_settings_version(
        &self,
        tenant: &TenantId,
        version: i64,
    ) -> Result<Option<StoredSettings>, StoreError>;

    /// Rewrites the settings with `change` under a lock (version 1 on the first write). A stale
    /// `expected_version` (0 for never written) is a VersionConflict.
    async fn update_seller_settings(
        &self,
        tenant: &TenantId,
        expected_version: Option<i64>,
        change: SettingsChange<'_>,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, StoredSettings>>,
    ) -> Result<Applied<StoredSettings>, StoreError>;
}

/// The answer for a supplier that does not exist for the tenant.
pub(crate) fn unknown_supplier(id: SupplierId) -> StoreError {
    DomainError::NotFound {
        resource: Resource::Supplier,
        id: id.to_string(),
    }
    .into()
}
