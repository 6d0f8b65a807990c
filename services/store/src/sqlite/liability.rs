use super::{ts, ts_col, uuid_col};
use crate::liability::{
    LiabilityStore, NewSettlement, SettlementScope, SettlementSums, StoredSettlement,
};
use crate::{SqliteStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use returnbridge_domain::ids::{ReturnId, TenantId};
use sqlx::Row;
use sqlx::sqlite::SqliteConnection;

/// Writes a resolved return's split and its postings (inside the resolving transaction).
pub(super) async fn insert_settlement(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    return_id: ReturnId,
    s: &NewSettlement,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO liability_splits (tenant_id, return_id, supplier_id, currency, resolved_at, contract_version, \
         statutory_profile_version, supplier_owes_seller, seller_owes_supplier, split, line) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(tenant.as_str())
    .bind(return_id.to_string())
    .bind(s.supplier.to_string())
    .bind(&s.currency)
    .bind(ts(s.resolved_at))
    .bind(s.contract_version)
    .bind(&s.profile_version)
    .bind(s.supplier_owes_seller)
    .bind(s.seller_owes_supplier)
    .bind(&s.split)
    .bind(&s.line)
    .execute(&mut *conn)
    .await?;
    for (no, e) in s.entries.iter().enumerate() {
        sqlx::query(
            "INSERT INTO ledger_entries (tenant_id, return_id, entry_no, party, component, amount, currency, rule, \
             posted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(tenant.as_str())
        .bind(return_id.to_string())
        .bind(no as i32)
        .bind(&e.party)
        .bind(&e.component)
        .bind(e.amount)
        .bind(&s.currency)
        .bind(&e.rule)
        .bind(ts(s.resolved_at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl LiabilityStore for SqliteStore {
    async fn liability_split(
        &self,
        tenant: &TenantId,
        id: ReturnId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT split FROM liability_splits WHERE tenant_id = $1 AND return_id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn settlement_lines(
        &self,
        tenant: &TenantId,
        scope: &SettlementScope,
        after: Option<(DateTime<Utc>, ReturnId)>,
        limit: u32,
    ) -> Result<Vec<StoredSettlement>, StoreError> {
        sqlx::query(
            "SELECT return_id, resolved_at, line FROM liability_splits \
             WHERE tenant_id = $1 AND supplier_id = $2 AND currency = $3 AND resolved_at >= $4 AND resolved_at < $5 \
             AND ($6 IS NULL OR resolved_at > $6 OR (resolved_at = $6 AND return_id > $7)) \
             ORDER BY resolved_at, return_id LIMIT $8",
        )
        .bind(tenant.as_str())
        .bind(scope.supplier.to_string())
        .bind(&scope.currency)
        .bind(ts(scope.from))
        .bind(ts(scope.to))
        .bind(after.map(|a| ts(a.0)))
        .bind(after.map(|a| a.1.to_string()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredSettlement {
                return_id: ReturnId::from_uuid(uuid_col(r, "return_id")?),
                resolved_at: ts_col(r, "resolved_at")?,
                line: r.try_get("line")?,
            })
        })
        .collect()
    }

    async fn settlement_sums(
        &self,
        tenant: &TenantId,
        scope: &SettlementScope,
    ) -> Result<SettlementSums, StoreError> {
        // SQLite's SUM fails on integer overflow rather than wrapping; TOTAL would silently go to float.
        let row = sqlx::query(
            "SELECT COALESCE(SUM(supplier_owes_seller), 0) AS owed_to_seller, \
             COALESCE(SUM(seller_owes_supplier), 0) AS owed_to_supplier, COUNT(*) AS lines \
             FROM liability_splits \
             WHERE tenant_id = $1 AND supplier_id = $2 AND currency = $3 AND resolved_at >= $4 AND resolved_at < $5",
        )
        .bind(tenant.as_str())
        .bind(scope.supplier.to_string())
        .bind(&scope.currency)
        .bind(ts(scope.from))
        .bind(ts(scope.to))
        .fetch_one(&self.pool)
        .await?;
        Ok(SettlementSums {
            supplier_owes_seller: row.try_get("owed_to_seller")?,
            seller_owes_supplier: row.try_get("owed_to_supplier")?,
            lines: row.try_get("lines")?,
        })
    }
}
