//! The SLA read model: recorded breaches of supplier deadlines (written with the change that
//! records them, see `ReturnUpdate::breaches`).

use crate::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use uuid::Uuid;

/// A recorded breach, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBreach {
    /// The request that missed its deadline.
    pub request_id: Uuid,
    /// `ACK`, `DECISION` or `CREDIT`.
    pub deadline_kind: String,
    /// The return.
    pub return_id: ReturnId,
    /// The supplier the request was addressed to.
    pub supplier: SupplierId,
    /// `AUTHORIZATION_REQUEST`, `NOTICE`, ...
    pub request_kind: String,
    /// When it was due.
    pub deadline_at: DateTime<Utc>,
    /// When it was recorded.
    pub breached_at: DateTime<Utc>,
    /// `NOTIFY`, `AUTO_APPROVE` or `FAILOVER`.
    pub action: String,
    /// The backup that took over, when the action failed over.
    pub failover_supplier: Option<SupplierId>,
    /// The contract version of the deadline.
    pub contract_version: i64,
}

/// Where a page of breaches resumes: after this one (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreachCursor {
    /// The last breach's time.
    pub breached_at: DateTime<Utc>,
    /// Its request.
    pub request_id: Uuid,
    /// Its deadline kind.
    pub deadline_kind: String,
}

/// Filters of a breach listing; empty means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BreachFilter {
    /// This supplier's.
    pub supplier: Option<SupplierId>,
    /// This deadline kind (`ACK`).
    pub deadline_kind: Option<String>,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before.
    pub before: Option<DateTime<Utc>>,
}

/// The SLA read model.
#[async_trait]
pub trait SlaStore: Send + Sync {
    /// The tenant's breaches matching `filter`, newest first (by time, request, kind), after
    /// `after`, at most `limit`.
    async fn list_sla_breaches(
        &self,
        tenant: &TenantId,
        filter: &BreachFilter,
        after: Option<&BreachCursor>,
        limit: u32,
    ) -> Result<Vec<StoredBreach>, StoreError>;
}
