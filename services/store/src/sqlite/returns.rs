use super::{claim_key, record_answer, ts, uuid_col};
use crate::documents::{LEGACY_RETURN_FORMAT, RETURN_FORMAT, ReturnColumns, decode_return};
use crate::returns::{
    AuthorizePlan, LegacyReturn, NewBreach, NewEvent, NewOutboxMessage, ReturnFilter, ReturnStore,
    SalesRecord, StoredEvent, UpdatePlan,
};
use crate::rows::stored_precision;
use crate::{Applied, IdempotencyClaim, SqliteStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use returnbridge_domain::DomainError;
use returnbridge_domain::error::Resource;
use returnbridge_domain::ids::{ReturnId, TenantId};
use returnbridge_domain::lifecycle::ReturnStatus;
use returnbridge_domain::returns::Return;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqliteRow};

macro_rules! return_columns {
    () => {
        "document_format, document"
    };
}

fn return_row(row: &SqliteRow) -> Result<Return, StoreError> {
    let format: String = row.try_get("document_format")?;
    let document: Vec<u8> = row.try_get("document")?;
    decode_return(&format, &document)
}

/// Writes a new return's row.
async fn insert_return(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    c: &ReturnColumns<'_>,
) -> Result<(), StoreError> {
    let r = c.ret;
    sqlx::query(
        "INSERT INTO returns (tenant_id, return_id, supplier_id, order_id, reason, status, version, \
         contract_version, statutory_profile, currency, ship_by, ack_by, decide_by, credit_by, \
         document_format, document, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(tenant.as_str())
    .bind(r.id.to_string())
    .bind(r.supplier.to_string())
    .bind(r.request.order.order_id.as_str())
    .bind(c.reason)
    .bind(c.status)
    .bind(r.version)
    .bind(r.decision.contract_version)
    .bind(r.decision.profile_version.as_ref())
    .bind(c.currency)
    .bind(r.ship_by.map(ts))
    .bind(c.ack_by.map(ts))
    .bind(c.decide_by.map(ts))
    .bind(c.credit_by.map(ts))
    .bind(RETURN_FORMAT)
    .bind(&c.document)
    .bind(ts(r.created_at))
    .bind(ts(r.updated_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rewrites a return's row after a change (or an upgrade: every column is written again).
async fn rewrite_return(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    c: &ReturnColumns<'_>,
) -> Result<u64, StoreError> {
    let r = c.ret;
    Ok(sqlx::query(
        "UPDATE returns SET supplier_id = $3, status = $4, version = $5, contract_version = $6, \
         statutory_profile = $7, currency = $8, ship_by = $9, ack_by = $10, decide_by = $11, \
         credit_by = $12, document_format = $13, document = $14, updated_at = $15 \
         WHERE tenant_id = $1 AND return_id = $2",
    )
    .bind(tenant.as_str())
    .bind(r.id.to_string())
    .bind(r.supplier.to_string())
    .bind(c.status)
    .bind(r.version)
    .bind(r.decision.contract_version)
    .bind(r.decision.profile_version.as_ref())
    .bind(c.currency)
    .bind(r.ship_by.map(ts))
    .bind(c.ack_by.map(ts))
    .bind(c.decide_by.map(ts))
    .bind(c.credit_by.map(ts))
    .bind(RETURN_FORMAT)
    .bind(&c.document)
    .bind(ts(r.updated_at))
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

fn event_row(row: &SqliteRow) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        seq: row.try_get("seq")?,
        return_id: ReturnId::from_uuid(uuid_col(row, "return_id")?),
        detail: row.try_get("detail")?,
    })
}

/// Appends an event under the next per-tenant sequence number (SQLite serializes writers anyway).
async fn append_event(
    conn: &mut SqliteConnection,
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
    .bind(return_id.to_string())
    .bind(&event.event_type)
    .bind(&event.actor)
    .bind(event.from_status.map(ReturnStatus::as_str))
    .bind(event.to_status.map(ReturnStatus::as_str))
    .bind(ts(event.occurred_at))
    .bind(&event.detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn enqueue(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    return_id: ReturnId,
    message: &NewOutboxMessage,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (message_id, tenant_id, supplier_id, return_id, kind, payload, created_at, available_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(message.message_id.to_string())
    .bind(tenant.as_str())
    .bind(message.supplier.to_string())
    .bind(return_id.to_string())
    .bind(&message.kind)
    .bind(&message.payload)
    .bind(ts(now))
    .bind(ts(message.available_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a missed deadline; the primary key refuses a second record of the same one.
async fn insert_breach(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    return_id: ReturnId,
    b: &NewBreach,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sla_breaches (tenant_id, request_id, deadline_kind, return_id, supplier_id, \
         request_kind, deadline_at, breached_at, action, failover_supplier_id, contract_version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(tenant.as_str())
    .bind(b.request_id.to_string())
    .bind(&b.deadline_kind)
    .bind(return_id.to_string())
    .bind(b.supplier.to_string())
    .bind(&b.request_kind)
    .bind(ts(b.deadline_at))
    .bind(ts(b.breached_at))
    .bind(&b.action)
    .bind(b.failover_supplier.map(|s| s.to_string()))
    .bind(b.contract_version)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn adjust_units(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    order_id: &str,
    units: &[(String, i64)],
    sign: i64,
) -> Result<(), StoreError> {
    for (sku, quantity) in units {
        sqlx::query(
            "UPDATE returned_units SET quantity = MAX(quantity + $4, 0) \
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
impl ReturnStore for SqliteStore {
    async fn authorize_return(
        &self,
        tenant: &TenantId,
        order_id: &str,
        skus: &[String],
        plan: AuthorizePlan<'_>,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, Return>>,
    ) -> Result<Applied<Return>, StoreError> {
        let now = stored_precision(now);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(answer) = claim_key(&mut tx, tenant, idempotency.as_ref(), now).await? {
            return Ok(Applied::Replayed(answer));
        }
        let mut so_far = crate::ReturnedSoFar::new();
        for sku in skus {
            let quantity: Option<i64> = sqlx::query_scalar(
                "SELECT quantity FROM returned_units WHERE tenant_id = $1 AND order_id = $2 AND sku = $3",
            )
            .bind(tenant.as_str())
            .bind(order_id)
            .bind(sku)
            .fetch_optional(&mut *tx)
            .await?;
            if quantity.is_none() {
                sqlx::query("INSERT INTO returned_units (tenant_id, order_id, sku, quantity) VALUES ($1, $2, $3, 0)")
                    .bind(tenant.as_str())
                    .bind(order_id)
                    .bind(sku)
                    .execute(&mut *tx)
                    .await?;
            }
            so_far.insert(sku.clone(), quantity.unwrap_or(0));
        }
        let new = plan(&so_far)?;
        let ret = new.ret;
        adjust_units(&mut tx, tenant, order_id, &new.reserve, 1).await?;
        insert_return(&mut tx, tenant, &ReturnColumns::of(&ret)?).await?;
        if let Some(message) = &new.outbox {
            enqueue(&mut tx, tenant, ret.id, message, now).await?;
        }
        record_answer(&mut tx, tenant, idempotency.as_ref(), &ret).await?;
        append_event(&mut tx, tenant, ret.id, &new.event).await?;
        tx.commit().await?;
        Ok(Applied::New(ret))
    }

    async fn update_return(
        &self,
        tenant: &TenantId,
        id: ReturnId,
        plan: UpdatePlan<'_>,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, Return>>,
    ) -> Result<Applied<Return>, StoreError> {
        let now = stored_precision(now);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(answer) = claim_key(&mut tx, tenant, idempotency.as_ref(), now).await? {
            return Ok(Applied::Replayed(answer));
        }
        let current = sqlx::query(concat!(
            "SELECT ",
            return_columns!(),
            " FROM returns WHERE tenant_id = $1 AND return_id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
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
        let ret = update.ret;
        rewrite_return(&mut tx, tenant, &ReturnColumns::of(&ret)?).await?;
        adjust_units(
            &mut tx,
            tenant,
            current.request.order.order_id.as_str(),
            &update.release,
            -1,
        )
        .await?;
        if let Some(settlement) = &update.settlement {
            super::liability::insert_settlement(&mut tx, tenant, id, settlement).await?;
        }
        if let Some(message) = &update.outbox {
            enqueue(&mut tx, tenant, id, message, now).await?;
        }
        record_answer(&mut tx, tenant, idempotency.as_ref(), &ret).await?;
        for breach in &update.breaches {
            insert_breach(&mut tx, tenant, id, breach).await?;
        }
        for event in &update.events {
            append_event(&mut tx, tenant, id, event).await?;
        }
        tx.commit().await?;
        Ok(Applied::New(ret))
    }

    async fn get_return(
        &self,
        tenant: &TenantId,
        id: ReturnId,
    ) -> Result<Option<Return>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            return_columns!(),
            " FROM returns WHERE tenant_id = $1 AND return_id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.to_string())
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
    ) -> Result<Vec<Return>, StoreError> {
        // SQLite has no arrays: the statuses travel as ",A,B," and match by substring.
        let statuses = (!filter.statuses.is_empty()).then(|| {
            let names: Vec<_> = filter.statuses.iter().map(|s| s.as_str()).collect();
            format!(",{},", names.join(","))
        });
        sqlx::query(concat!(
            "SELECT ",
            return_columns!(),
            " FROM returns WHERE tenant_id = $1 \
             AND ($2 IS NULL OR (created_at, return_id) < \
                  (SELECT created_at, return_id FROM returns WHERE tenant_id = $1 AND return_id = $2)) \
             AND ($3 IS NULL OR instr($3, ',' || status || ',') > 0) \
             AND ($4 IS NULL OR supplier_id = $4) \
             AND ($5 IS NULL OR order_id = $5) \
             AND ($6 IS NULL OR reason = $6) \
             AND ($7 IS NULL OR created_at >= $7) \
             AND ($8 IS NULL OR created_at < $8) \
             ORDER BY created_at DESC, return_id DESC LIMIT $9"
        ))
        .bind(tenant.as_str())
        .bind(after.map(|a| a.to_string()))
        .bind(statuses)
        .bind(filter.supplier.map(|s| s.to_string()))
        .bind(filter.order_id.as_deref())
        .bind(filter.reason.as_deref())
        .bind(filter.created_from.map(ts))
        .bind(filter.created_before.map(ts))
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
        .bind(id.to_string())
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
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let tenant: String = r.try_get("tenant_id")?;
            Ok((
                TenantId::parse(&tenant).map_err(StoreError::Corrupt)?,
                ReturnId::from_uuid(uuid_col(r, "return_id")?),
            ))
        })
        .collect()
    }

    async fn return_of_supplier_request(
        &self,
        tenant: &TenantId,
        request_id: uuid::Uuid,
    ) -> Result<Option<ReturnId>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT return_id FROM outbox WHERE tenant_id = $1 AND message_id = $2",
        )
        .bind(tenant.as_str())
        .bind(request_id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .flatten();
        id.map(|raw| super::parse_uuid(&raw).map(ReturnId::from_uuid))
            .transpose()
    }

    async fn supplier_deadlines_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(TenantId, ReturnId)>, StoreError> {
        // One index scan per deadline kind; a return due on two kinds is listed once.
        sqlx::query(
            "SELECT tenant_id, return_id, MIN(due) AS due FROM ( \
               SELECT tenant_id, return_id, ack_by AS due FROM returns WHERE ack_by <= $1 \
               UNION ALL SELECT tenant_id, return_id, decide_by FROM returns WHERE decide_by <= $1 \
               UNION ALL SELECT tenant_id, return_id, credit_by FROM returns WHERE credit_by <= $1 \
             ) AS deadlines GROUP BY tenant_id, return_id ORDER BY due, return_id LIMIT $2",
        )
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let tenant: String = r.try_get("tenant_id")?;
            Ok((
                TenantId::parse(&tenant).map_err(StoreError::Corrupt)?,
                ReturnId::from_uuid(uuid_col(r, "return_id")?),
            ))
        })
        .collect()
    }

    async fn legacy_returns(&self, limit: u32) -> Result<Vec<LegacyReturn>, StoreError> {
        sqlx::query(
            "SELECT tenant_id, return_id, document_format, document FROM returns \
             WHERE document_format <> $1 ORDER BY tenant_id, return_id LIMIT $2",
        )
        .bind(RETURN_FORMAT)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let tenant: String = r.try_get("tenant_id")?;
            Ok(LegacyReturn {
                tenant: TenantId::parse(&tenant).map_err(StoreError::Corrupt)?,
                id: ReturnId::from_uuid(uuid_col(r, "return_id")?),
                format: r.try_get("document_format")?,
                document: r.try_get("document")?,
            })
        })
        .collect()
    }

    async fn upgrade_return(&self, tenant: &TenantId, ret: &Return) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let format: Option<String> = sqlx::query_scalar(
            "SELECT document_format FROM returns WHERE tenant_id = $1 AND return_id = $2",
        )
        .bind(tenant.as_str())
        .bind(ret.id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if format.as_deref() != Some(LEGACY_RETURN_FORMAT) {
            return Ok(false);
        }
        rewrite_return(&mut tx, tenant, &ReturnColumns::of(ret)?).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn record_sales(
        &self,
        tenant: &TenantId,
        records: &[SalesRecord],
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, (u32, u32)>>,
    ) -> Result<Applied<(u32, u32)>, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(answer) = claim_key(&mut tx, tenant, idempotency.as_ref(), now).await? {
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
            let existed = sqlx::query(
                "SELECT 1 FROM sales_records WHERE tenant_id = $1 AND supplier_id = $2 AND sku = $3 \
                 AND period_start = $4 AND period_end = $5",
            )
            .bind(tenant.as_str())
            .bind(r.supplier.to_string())
            .bind(&r.sku)
            .bind(ts(r.period_start))
            .bind(ts(r.period_end))
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
            sqlx::query(
                "INSERT INTO sales_records (tenant_id, supplier_id, sku, category, period_start, period_end, \
                 units_sold, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (tenant_id, supplier_id, sku, period_start, period_end) DO UPDATE \
                 SET units_sold = excluded.units_sold, category = excluded.category, recorded_at = excluded.recorded_at",
            )
            .bind(tenant.as_str())
            .bind(r.supplier.to_string())
            .bind(&r.sku)
            .bind(&r.category)
            .bind(ts(r.period_start))
            .bind(ts(r.period_end))
            .bind(r.units_sold)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            if existed {
                replaced += 1;
            } else {
                inserted += 1;
            }
        }
        record_answer(&mut tx, tenant, idempotency.as_ref(), &(inserted, replaced)).await?;
        tx.commit().await?;
        Ok(Applied::New((inserted, replaced)))
    }
}
