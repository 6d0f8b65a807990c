use crate::liability::{
    LiabilityStore, NewSettlement, SettlementScope, SettlementSums, StoredSettlement,
};
use crate::rows::stored_precision;
use crate::{PgStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use returnbridge_domain::ids::{ReturnId, TenantId};
use sqlx::Row;
use sqlx::postgres::PgConnection;

/// Writes a resolved return's split and its postings (inside the resolving transaction).
pub(super) async fn insert_settlement(
    conn: &mut PgConnection,
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
    .bind(return_id.as_uuid())
    .bind(s.supplier.as_uuid())
    .bind(&s.currency)
    .bind(stored_precision(s.resolved_at))
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
        .bind(return_id.as_uuid())
        .bind(no as i32)
        .bind(&e.party)
        .bind(&e.component)
        .bind(e.amount)
        .bind(&s.currency)
        .bind(&e.rule)
        .bind(stored_precision(s.resolved_at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl LiabilityStore for PgStore {
    async fn liability_split(
        &self,
        tenant: &TenantId,
        id: ReturnId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT split FROM liability_splits WHERE tenant_id = $1 AND return_id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_uuid())
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
             AND ($6::timestamptz IS NULL OR (resolved_at, return_id) > ($6, $7)) \
             ORDER BY resolved_at, return_id LIMIT $8",
        )
        .bind(tenant.as_str())
        .bind(scope.supplier.as_uuid())
        .bind(&scope.currency)
        .bind(scope.from)
        .bind(scope.to)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredSettlement {
                return_id: ReturnId::from_uuid(r.try_get("return_id")?),
                resolved_at: r.try_get("resolved_at")?,
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
        // SUM over BIGINT is NUMERIC in PostgreSQL: it cannot overflow there; narrowing back is checked.
        let row = sqlx::query(
            "SELECT COALESCE(SUM(supplier_owes_seller), 0)::text AS owed_to_seller, \
             COALESCE(SUM(seller_owes_supplier), 0)::text AS owed_to_supplier, COUNT(*) AS lines \
             FROM liability_splits \
             WHERE tenant_id = $1 AND supplier_id = $2 AND currency = $3 AND resolved_at >= $4 AND resolved_at < $5",
        )
        .bind(tenant.as_str())
        .bind(scope.supplier.as_uuid())
        .bind(&scope.currency)
        .bind(scope.from)
        .bind(scope.to)
        .fetch_one(&self.pool)
        .await?;
        let narrow = |column: &str| -> Result<i64, StoreError> {
            let text: String = row.try_get(column)?;
            text.parse().map_err(|_| {
                StoreError::Corrupt(format!("settlement total {column} {text} exceeds i64"))
            })
        };
        Ok(SettlementSums {
            supplier_owes_seller: narrow("owed_to_seller")?,
            seller_owes_supplier: narrow("owed_to_supplier")?,
            lines: row.try_get("lines")?,
        })
    }
}
