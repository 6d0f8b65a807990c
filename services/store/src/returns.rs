//! Returns, their events, the outbox rows they cause, and sales records.
//!
//! A return is the domain's [`Return`], stored as a document the store owns (`documents.rs`) beside
//! typed copies of the fields queries need. Every change to a return, its event and its outbox row
//! are written in one transaction, under a row lock on the return.

use crate::{Applied, IdempotencyClaim, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use returnbridge_domain::lifecycle::ReturnStatus;
use returnbridge_domain::returns::Return;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A return stored in an older document format, for the upgrade after migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyReturn {
    /// Whose.
    pub tenant: TenantId,
    /// Which.
    pub id: ReturnId,
    /// Its format ([`crate::LEGACY_RETURN_FORMAT`]).
    pub format: String,
    /// The document as stored.
    pub document: Vec<u8>,
}

/// An event to append to a return's audit trail (and the tenant's event stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// What happened (`SHIPPED`).
    pub event_type: String,
    /// Who did it: `seller:<key id>`, `supplier:<id>`, `system`.
    pub actor: String,
    /// Status before, if it changed.
    pub from_status: Option<ReturnStatus>,
    /// Status after, if it changed.
    pub to_status: Option<ReturnStatus>,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// The event, encoded by the api crate (without its sequence number, assigned here).
    pub detail: Vec<u8>,
}

/// An appended event, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Per-tenant sequence number: strictly increasing in the order events become visible.
    pub seq: i64,
    /// The return it belongs to.
    pub return_id: ReturnId,
    /// The encoded event.
    pub detail: Vec<u8>,
}

/// A message for the gateway to deliver to a supplier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxMessage {
    /// Stable across retries (the webhook-id).
    pub message_id: Uuid,
    /// Who receives it.
    pub supplier: SupplierId,
    /// `AUTHORIZATION_REQUEST`, `NOTICE`, ...
    pub kind: String,
    /// The encoded message.
    pub payload: Vec<u8>,
    /// Not before.
    pub available_at: DateTime<Utc>,
}

/// Everything an authorization writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReturn {
    /// The return.
    pub ret: Return,
    /// Its first event.
    pub event: NewEvent,
    /// The supplier's notice or authorization request, unless rejected.
    pub outbox: Option<NewOutboxMessage>,
    /// Units to count as returned, per SKU (empty when rejected).
    pub reserve: Vec<(String, i64)>,
}

/// Everything a change to a return writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnUpdate {
    /// The return after the change.
    pub ret: Return,
    /// The events recording the change, in order (a breach and its action are two).
    pub events: Vec<NewEvent>,
    /// Supplier deadlines the change records as missed.
    pub breaches: Vec<NewBreach>,
    /// A message for the supplier, if the change calls for one.
    pub outbox: Option<NewOutboxMessage>,
    /// Units no longer coming back, per SKU (cancelled, expired, rejected by the supplier).
    pub release: Vec<(String, i64)>,
    /// The final liability split and its ledger postings, when the change resolves the return.
    pub settlement: Option<crate::NewSettlement>,
}

/// A missed supplier deadline, recorded once per request and deadline kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBreach {
    /// The request that missed it.
    pub request_id: Uuid,
    /// The supplier it was addressed to.
    pub supplier: SupplierId,
    /// `AUTHORIZATION_REQUEST`, `NOTICE`, ...
    pub request_kind: String,
    /// `ACK`, `DECISION` or `CREDIT`.
    pub deadline_kind: String,
    /// When it was due.
    pub deadline_at: DateTime<Utc>,
    /// When the breach was recorded.
    pub breached_at: DateTime<Utc>,
    /// The contract's action: `NOTIFY`, `AUTO_APPROVE`, `FAILOVER`.
    pub action: String,
    /// The backup that took over, when the action failed over.
    pub failover_supplier: Option<SupplierId>,
    /// The contract version the deadline came from.
    pub contract_version: i64,
}

/// Units already returned per SKU of one order, across all its returns.
pub type ReturnedSoFar = BTreeMap<String, i64>;

/// Decides, inside the transaction, what an authorization writes given what was returned before.
pub type AuthorizePlan<'a> =
    &'a (dyn Fn(&ReturnedSoFar) -> Result<NewReturn, StoreError> + Send + Sync);

/// Decides, inside the transaction and under the row lock, what a change writes.
pub type UpdatePlan<'a> = &'a (dyn Fn(&Return) -> Result<ReturnUpdate, StoreError> + Send + Sync);

/// Filters of a return listing; empty means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnFilter {
    /// Any of these statuses.
    pub statuses: Vec<ReturnStatus>,
    /// This supplier's returns.
    pub supplier: Option<SupplierId>,
    /// This order's returns.
    pub order_id: Option<String>,
    /// This reason (`DEFECTIVE`).
    pub reason: Option<String>,
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    pub created_before: Option<DateTime<Utc>>,
}

/// Units sold in a period, as reported by the seller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesRecord {
    /// Whose goods.
    pub supplier: SupplierId,
    /// Which product.
    pub sku: String,
    /// Its category.
    pub category: String,
    /// Period start (inclusive).
    pub period_start: DateTime<Utc>,
    /// Period end (exclusive).
    pub period_end: DateTime<Utc>,
    /// Units sold.
    pub units_sold: i64,
}

/// Returns and everything written with them.
#[async_trait]
pub trait ReturnStore: Send + Sync {
    /// Authorizes (or records the refusal of) a return. Reads the units returned so far for `skus`
    /// of the order under a lock, so concurrent returns of one order cannot both take the same units.
    async fn authorize_return(
        &self,
        tenant: &TenantId,
        order_id: &str,
        skus: &[String],
        plan: AuthorizePlan<'_>,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, Return>>,
    ) -> Result<Applied<Return>, StoreError>;

    /// Changes a return under a row lock; NOT_FOUND when the tenant has no such return.
    async fn update_return(
        &self,
        tenant: &TenantId,
        id: ReturnId,
        plan: UpdatePlan<'_>,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, Return>>,
    ) -> Result<Applied<Return>, StoreError>;

    /// One return of the tenant.
    async fn get_return(
        &self,
        tenant: &TenantId,
        id: ReturnId,
    ) -> Result<Option<Return>, StoreError>;

    /// The tenant's returns matching `filter`, newest first (by creation time, then id), after the
    /// return `after` names, at most `limit`.
    async fn list_returns(
        &self,
        tenant: &TenantId,
        filter: &ReturnFilter,
        after: Option<ReturnId>,
        limit: u32,
    ) -> Result<Vec<Return>, StoreError>;

    /// One return's events after sequence `after_seq`, oldest first.
    async fn list_return_events(
        &self,
        tenant: &TenantId,
        id: ReturnId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// The tenant's events after sequence `after_seq`, oldest first: the event stream.
    async fn events_after(
        &self,
        tenant: &TenantId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// The tenant's latest event sequence number (0 when none).
    async fn last_event_seq(&self, tenant: &TenantId) -> Result<i64, StoreError>;

    /// AUTHORIZED returns whose ship-by deadline is at or before `now`, any tenant, oldest deadline first.
    async fn overdue_returns(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(TenantId, ReturnId)>, StoreError>;

    /// The return a supplier request belongs to (every request is queued in the outbox under its
    /// id), if it is the tenant's.
    async fn return_of_supplier_request(
        &self,
        tenant: &TenantId,
        request_id: Uuid,
    ) -> Result<Option<ReturnId>, StoreError>;

    /// Returns with a supplier deadline (ack, decision or credit) still running and due at or before
    /// `now`, any tenant, earliest deadline first: what the SLA clock acts on.
    async fn supplier_deadlines_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(TenantId, ReturnId)>, StoreError>;

    /// Returns stored in an older document format, any tenant, at most `limit`.
    async fn legacy_returns(&self, limit: u32) -> Result<Vec<LegacyReturn>, StoreError>;

    /// Rewrites a return read by [`legacy_returns`](Self::legacy_returns) in today's format, with its
    /// query columns. False when it was upgraded meanwhile (another replica).
    async fn upgrade_return(&self, tenant: &TenantId, ret: &Return) -> Result<bool, StoreError>;

    /// Stores sales records; a record for the same supplier, SKU and period replaces the earlier one.
    /// Returns (inserted, replaced), or the stored answer when the idempotency key was used before.
    async fn record_sales(
        &self,
        tenant: &TenantId,
        records: &[SalesRecord],
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, (u32, u32)>>,
    ) -> Result<Applied<(u32, u32)>, StoreError>;
}
