use super::{claim_key, record_answer};
use crate::returns::{
    AuthorizePlan, NewEvent, NewOutboxMessage, ReturnFilter, ReturnRow, ReturnStore, SalesRecord,
    StoredEvent, UpdatePlan,
};
use crate::rows::{row_precision, stored_precision};
use crate::{Applied, IdempotencyClaim, PgStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use returnbridge_domain::DomainError;
use returnbridge_domain::error::Resource;
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use returnbridge_domain::lifecycle::ReturnStatus;
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};

macro_rules! return_columns {
    () => {
        "return_id, supplier_id, order_id, reason, status, version, ship_by, created_at, updated_at, document"
    };
}

fn return_row(row: &PgRow) -> Result<ReturnRow, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(ReturnRow {
        id: ReturnId::from_uuid(row.try_get("return_id")?),
        supplier: SupplierId::from_uuid(row.try_get("supplier_id")?),
        order_id: row.try_get("order_id")?,
        reason: row.try_get("reason")?,
        status: ReturnStatus::parse(&status).map_err(StoreError::Corrupt)?,
        version: row.try_get("version")?,
        ship_by: row.try_get("ship_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        document: row.try_get("document")?,
    })
}

fn event_row(row: &PgRow) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        seq: row.try_get("seq")?,
        return_id: ReturnId::from_uuid(row.try_get("return_id")?),
        detail: row.try_get("detail")?,
    })
}

/// Appends an event. Bumping the tenant's counter takes a row lock held until commit, so a tenant's
/// events become visible in sequence order and a reader resuming from a cursor never skips one.
/// It is the transaction's last write, to hold that lock as briefly as possible.
async fn append_event(
    conn: &mut PgConnection,
    tenant: &TenantId,
    return_id: ReturnId,
    event: &NewEvent,
) -> Result<(), StoreError> {
    let seq: i64 = sqlx::query_scalar(
        "UPDATE tenants SET last_event_seq = last_event_seq + 1 WHERE tenant_id = $1 RETURNING last_event_seq",
    )
    .bind(tenant.as_str())
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO return_events (tenant_id, seq, return_id, event_type, actor, from_status, to_status, \
         occurred_at, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant.as_str())
    .bind(seq)
    .bind(return_id.as_uuid())
    .bind(&event.event_type)
    .bind(&event.actor)
    .bind(event.from_status.map(ReturnStatus::as_str))
    .bind(event.to_status.map(ReturnStatus::as_str))
    .bind(stored_precision(event.occurred_at))
    .bind(&event.detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn enqueue(
    conn: &mut PgConnection,
    tenant: &TenantId,
    return_id: ReturnId,
    message: &NewOutboxMessage,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (message_id, tenant_id, supplier_id, return_id, kind, payload, created_at, available_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(message.message_id)
    .bind(tenant.as_str())
    .bind(message.supplier.as_uuid())
    .bind(return_id.as_uuid())
    .bind(&message.kind)
    .bind(&message.payload)
    .bind(now)
    .bind(stored_precision(message.available_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds `delta` (negative to release) to the units returned of each SKU of an order.
async fn adjust_units(
    conn: &mut PgConnection,
    tenant: &TenantId,
    order_id: &str,
    units: &[(String, i64)],
    sign: i64,
) -> Result<(), StoreError> {
    for (sku, quantity) in units {
        sqlx::query(
            "UPDATE returned_units SET quantity = GREATEST(quantity + $4, 0) \
             WHERE tenant_id = $1 AND order_id = $2 AND sku = $3",
        )
        .bind(tenant.as_str())
        .bind(order_id)
        .bind(sku)
        .bind(sign * quantity)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl ReturnStore for PgStore {
    async fn authorize_return(
        &self,
        tenant: &TenantId,
        order_id: &str,
        skus: &[String],
        plan: AuthorizePlan<'_>,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, ReturnRow>>,
    ) -> Result<Applied<ReturnRow>, StoreError> {
        let now = stored_precision(now);
        let mut tx = self.pool.begin().await?;
        if let Some(answer) = claim_key(&mut tx, tenant, idempotency.as_ref(), now).await? {
            return Ok(Applied::Replayed(answer));
        }
        // Lock the order's lines (creating their counters on first use) before reading them. Both
        // take them in SKU order: two first returns of an order naming its lines in different
        // orders would otherwise each wait on a counter the other had just created (deadlock).
        sqlx::query(
            "INSERT INTO returned_units (tenant_id, order_id, sku, quantity) \
             SELECT $1, $2, sku, 0 FROM unnest($3::text[]) AS sku ORDER BY sku ON CONFLICT DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(order_id)
        .bind(skus)
        .execute(&mut *tx)
        .await?;
        let so_far = sqlx::query(
            "SELECT sku, quantity FROM returned_units \
             WHERE tenant_id = $1 AND order_id = $2 AND sku = ANY($3) ORDER BY sku FOR UPDATE",
        )
        .bind(tenant.as_str())
        .bind(order_id)
        .bind(skus)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("sku")?, r.try_get("quantity")?)))
        .collect::<Result<_, sqlx::Error>>()?;
        let new = plan(&so_far)?;
        let row = row_precision(new.row);
        adjust_units(&mut tx, tenant, order_id, &new.reserve, 1).await?;
        sqlx::query(
            "INSERT INTO returns (tenant_id, return_id, supplier_id, order_id, reason, status, version, \
             contract_version, statutory_profile, currency, ship_by, document, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, '', '', $8, $9, $10, $11)",
        )
        .bind(tenant.as_str())
        .bind(row.id.as_uuid())
        .bind(row.supplier.as_uuid())
        .bind(&row.order_id)
        .bind(&row.reason)
        .bind(row.status.as_str())
        .bind(row.version)
        .bind(row.ship_by)
        .bind(&row.document)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&mut *tx)
        .await?;
        if let Some(message) = &new.outbox {
            enqueue(&mut tx, tenant, row.id, message, now).await?;
        }
        record_answer(&mut tx, tenant, idempotency.as_ref(), &row).await?;
        append_event(&mut tx, tenant, row.id, &new.event).await?;
        tx.commit().await?;
        Ok(Applied::New(row))
    }

    async fn update_return(
        &self,
        tenant: &TenantId,
        id: ReturnId,
        plan: UpdatePlan<'_>,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, ReturnRow>>,
    ) -> Result<Applied<ReturnRow>, StoreError> {
        let now = stored_precision(now);
        let mut tx = self.pool.begin().await?;
        if let Some(answer) = claim_key(&mut tx, tenant, idempotency.as_ref(), now).await? {
            return Ok(Applied::Replayed(answer));
        }
        let current = sqlx::query(concat!(
            "SELECT ",
            return_columns!(),
            " FROM returns WHERE tenant_id = $1 AND return_id = $2 FOR UPDATE"
        ))
        .bind(tenant.as_str())
        .bind(id.as_uuid())
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(return_row)
        .transpose()?
        .ok_or_else(|| DomainError::NotFound {
            resource: Resource::Return,
            id: id.to_string(),
        })?;
        let update = plan(&current)?;
        let row = row_precision(update.row);
        sqlx::query(
            "UPDATE returns SET status = $3, version = $4, ship_by = $5, document = $6, updated_at = $7 \
             WHERE tenant_id = $1 AND return_id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_uuid())
        .bind(row.status.as_str())
        .bind(row.version)
        .bind(row.ship_by)
        .bind(&row.document)
        .bind(row.updated_at)
        .execute(&mut *tx)
        .await?;
        adjust_units(&mut tx, tenant, &current.order_id, &update.release, -1).await?;
        if let Some(settlement) = &update.settlement {
            super::liability::insert_settlement(&mut tx, tenant, id, settlement).await?;
        }
        if let Some(message) = &update.outbox {
            enqueue(&mut tx, tenant, id, message, now).await?;
        }
        record_answer(&mut tx, tenant, idempotency.as_ref(), &row).await?;
        append_event(&mut tx, tenant, id, &update.event).await?;
        tx.commit().await?;
        Ok(Applied::New(row))
    }

    async fn get_return(
        &self,
        tenant: &TenantId,
        id: ReturnId,
    ) -> Result<Option<ReturnRow>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            return_columns!(),
            " FROM returns WHERE tenant_id = $1 AND return_id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(return_row)
        .transpose()
    }

    async fn list_returns(
        &self,
        tenant: &TenantId,
        filter: &ReturnFilter,
        after: Option<ReturnId>,
        limit: u32,
    ) -> Result<Vec<ReturnRow>, StoreError> {
        let statuses: Option<Vec<&str>> = (!filter.statuses.is_empty())
            .then(|| filter.statuses.iter().map(|s| s.as_str()).collect());
        sqlx::query(concat!(
            "SELECT ",
            return_columns!(),
            " FROM returns WHERE tenant_id = $1 \
             AND ($2::uuid IS NULL OR (created_at, return_id) < \
                  (SELECT created_at, return_id FROM returns WHERE tenant_id = $1 AND return_id = $2)) \
             AND ($3::text[] IS NULL OR status = ANY($3)) \
             AND ($4::uuid IS NULL OR supplier_id = $4) \
             AND ($5::text IS NULL OR order_id = $5) \
             AND ($6::text IS NULL OR reason = $6) \
             AND ($7::timestamptz IS NULL OR created_at >= $7) \
             AND ($8::timestamptz IS NULL OR created_at < $8) \
             ORDER BY created_at DESC, return_id DESC LIMIT $9"
        ))
        .bind(tenant.as_str())
        .bind(after.map(|a| a.as_uuid()))
        .bind(statuses)
        .bind(filter.supplier.map(|s| s.as_uuid()))
        .bind(filter.order_id.as_deref())
        .bind(filter.reason.as_deref())
        .bind(filter.created_from)
        .bind(filter.created_before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(return_row)
        .collect()
    }

    async fn list_return_events(
        &self,
        tenant: &TenantId,
        id: ReturnId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        sqlx::query(
            "SELECT seq, return_id, detail FROM return_events \
             WHERE tenant_id = $1 AND return_id = $2 AND seq > $3 ORDER BY seq LIMIT $4",
        )
        .bind(tenant.as_str())
        .bind(id.as_uuid())
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(event_row)
        .collect()
    }

    async fn events_after(
        &self,
        tenant: &TenantId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        sqlx::query(
            "SELECT seq, return_id, detail FROM return_events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(event_row)
        .collect()
    }

    async fn last_event_seq(&self, tenant: &TenantId) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT last_event_seq FROM tenants WHERE tenant_id = $1")
                .bind(tenant.as_str())
                .fetch_optional(&self.pool)
                .await?
                .unwrap_or(0),
        )
    }

    async fn overdue_returns(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(TenantId, ReturnId)>, StoreError> {
        sqlx::query(
            "SELECT tenant_id, return_id FROM returns WHERE status = 'AUTHORIZED' AND ship_by <= $1 \
             ORDER BY ship_by LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let tenant: String = r.try_get("tenant_id")?;
            Ok((
                TenantId::parse(&tenant).map_err(StoreError::Corrupt)?,
                ReturnId::from_uuid(r.try_get("return_id")?),
            ))
        })
        .collect()
    }

    async fn record_sales(
        &self,
        tenant: &TenantId,
        records: &[SalesRecord],
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, (u32, u32)>>,
    ) -> Result<Applied<(u32, u32)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        if let Some(answer) =
            claim_key(&mut tx, tenant, idempotency.as_ref(), stored_precision(now)).await?
        {
            return Ok(Applied::Replayed(answer));
        }
        let (mut inserted, mut replaced) = (0, 0);
        for r in records {
            if !super::supplier_exists(&mut tx, tenant, r.supplier).await? {
                return Err(DomainError::NotFound {
                    resource: Resource::Supplier,
                    id: r.supplier.to_string(),
                }
                .into());
            }
            // xmax = 0 only for a freshly inserted row: tells an insert from a replacement.
            let fresh: bool = sqlx::query_scalar(
                "INSERT INTO sales_records (tenant_id, supplier_id, sku, category, period_start, period_end, \
                 units_sold, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (tenant_id, supplier_id, sku, period_start, period_end) DO UPDATE \
                 SET units_sold = EXCLUDED.units_sold, category = EXCLUDED.category, recorded_at = EXCLUDED.recorded_at \
                 RETURNING (xmax = 0)",
            )
            .bind(tenant.as_str())
            .bind(r.supplier.as_uuid())
            .bind(&r.sku)
            .bind(&r.category)
            .bind(stored_precision(r.period_start))
            .bind(stored_precision(r.period_end))
            .bind(r.units_sold)
            .bind(stored_precision(now))
            .fetch_one(&mut *tx)
            .await?;
            if fresh {
                inserted += 1;
            } else {
                replaced += 1;
            }
        }
        record_answer(&mut tx, tenant, idempotency.as_ref(), &(inserted, replaced)).await?;
        tx.commit().await?;
        Ok(Applied::New((inserted, replaced)))
    }
}
