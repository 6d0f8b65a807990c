//! Final liability splits, their ledger postings, and the settlement statements read from them.

use crate::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};

/// A resolved return's final split, written with the resolution in one transaction and never changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSettlement {
    /// The supplier the split settles with.
    pub supplier: SupplierId,
    /// The return's one currency.
    pub currency: String,
    /// When the return was resolved: places it in a settlement period.
    pub resolved_at: DateTime<Utc>,
    /// The contract version the split applied.
    pub contract_version: i64,
    /// The statutory profile version the split applied.
    pub profile_version: String,
    /// Minor units the supplier owes the seller for this return (>= 0).
    pub supplier_owes_seller: i64,
    /// Minor units the seller owes the supplier for this return (>= 0).
    pub seller_owes_supplier: i64,
    /// The encoded split (the api crate's v1 LiabilitySplit).
    pub split: Vec<u8>,
    /// The encoded settlement line (the api crate's v1 SettlementLine).
    pub line: Vec<u8>,
    /// One posting per allocation.
    pub entries: Vec<LedgerEntry>,
}

/// One posting: a party bears an amount of one cost component under a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// `SUPPLIER`, `SELLER`, `CUSTOMER`, `CARRIER`.
    pub party: String,
    /// `ITEM_PRICE`, `OUTBOUND_SHIPPING`, `RETURN_SHIPPING`, `COMPENSATION`.
    pub component: String,
    /// Minor units, >= 0.
    pub amount: i64,
    /// The rule that allocated it.
    pub rule: String,
}

/// A stored settlement line, in statement order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSettlement {
    /// The return.
    pub return_id: ReturnId,
    /// When it was resolved.
    pub resolved_at: DateTime<Utc>,
    /// The encoded settlement line.
    pub line: Vec<u8>,
}

/// Sums over a statement's period, computed by the database over every line, not one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SettlementSums {
    /// Total the supplier owes the seller.
    pub supplier_owes_seller: i64,
    /// Total the seller owes the supplier.
    pub seller_owes_supplier: i64,
    /// Number of lines.
    pub lines: i64,
}

/// Which settled returns a statement covers: one supplier, one currency, resolved in `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementScope {
    /// The supplier.
    pub supplier: SupplierId,
    /// The currency (never converted).
    pub currency: String,
    /// Period start, inclusive.
    pub from: DateTime<Utc>,
    /// Period end, exclusive.
    pub to: DateTime<Utc>,
}

/// Liability splits and settlement statements.
#[async_trait]
pub trait LiabilityStore: Send + Sync {
    /// The encoded final split of a resolved return.
    async fn liability_split(
        &self,
        tenant: &TenantId,
        id: ReturnId,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// A page of a statement's lines, ordered by (resolved_at, return_id), after `after`.
    async fn settlement_lines(
        &self,
        tenant: &TenantId,
        scope: &SettlementScope,
        after: Option<(DateTime<Utc>, ReturnId)>,
        limit: u32,
    ) -> Result<Vec<StoredSettlement>, StoreError>;

    /// The statement's totals over the whole period.
    async fn settlement_sums(
        &self,
        tenant: &TenantId,
        scope: &SettlementScope,
    ) -> Result<SettlementSums, StoreError>;
}
