use chrono::{DateTime, Utc};
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::{ApiKeyId, SupplierId, TenantId};

/// A key to create: only the hash of its secret is stored.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// Its public id.
    pub id: ApiKeyId,
    /// The tenant it acts for (created if new).
    pub tenant: TenantId,
    /// Set for a supplier's callback key: it may act for this supplier only.
    pub supplier: Option<SupplierId>,
    /// A label for people (`shop-backend-prod`).
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// SHA-256 of the secret.
    pub secret_hash: [u8; 32],
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// A stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Its public id.
    pub id: ApiKeyId,
    /// The tenant it acts for.
    pub tenant: TenantId,
    /// The one supplier a supplier key acts for.
    pub supplier: Option<SupplierId>,
    /// Its label.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stopped working, if it did.
    pub revoked_at: Option<DateTime<Utc>>,
}
