use super::{opt_uuid_col, ts, ts_col, uuid_col};
use crate::sla::{BreachCursor, BreachFilter, SlaStore, StoredBreach};
use crate::{SqliteStore, StoreError};
use async_trait::async_trait;
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use sqlx::Row;

#[async_trait]
impl SlaStore for SqliteStore {
    async fn list_sla_breaches(
        &self,
        tenant: &TenantId,
        filter: &BreachFilter,
        after: Option<&BreachCursor>,
        limit: u32,
    ) -> Result<Vec<StoredBreach>, StoreError> {
        sqlx::query(
            "SELECT request_id, deadline_kind, return_id, supplier_id, request_kind, deadline_at, \
             breached_at, action, failover_supplier_id, contract_version FROM sla_breaches \
             WHERE tenant_id = $1 \
             AND ($2 IS NULL OR supplier_id = $2) \
             AND ($3 IS NULL OR deadline_kind = $3) \
             AND ($4 IS NULL OR breached_at >= $4) \
             AND ($5 IS NULL OR breached_at < $5) \
             AND ($6 IS NULL OR (breached_at, request_id, deadline_kind) < ($6, $7, $8)) \
             ORDER BY breached_at DESC, request_id DESC, deadline_kind DESC LIMIT $9",
        )
        .bind(tenant.as_str())
        .bind(filter.supplier.map(|s| s.to_string()))
        .bind(filter.deadline_kind.as_deref())
        .bind(filter.from.map(ts))
        .bind(filter.before.map(ts))
        .bind(after.map(|a| ts(a.breached_at)))
        .bind(after.map(|a| a.request_id.to_string()))
        .bind(after.map(|a| a.deadline_kind.as_str()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredBreach {
                request_id: uuid_col(r, "request_id")?,
                deadline_kind: r.try_get("deadline_kind")?,
                return_id: ReturnId::from_uuid(uuid_col(r, "return_id")?),
                supplier: SupplierId::from_uuid(uuid_col(r, "supplier_id")?),
                request_kind: r.try_get("request_kind")?,
                deadline_at: ts_col(r, "deadline_at")?,
                breached_at: ts_col(r, "breached_at")?,
                action: r.try_get("action")?,
                failover_supplier: opt_uuid_col(r, "failover_supplier_id")?
                    .map(SupplierId::from_uuid),
                contract_version: r.try_get("contract_version")?,
            })
        })
        .collect()
    }
}
