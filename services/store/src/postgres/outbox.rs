//! [`OutboxStore`] on PostgreSQL: claims with `FOR UPDATE SKIP LOCKED`, so replicas share one
//! outbox without waiting on each other, and wake-ups by `LISTEN` (the 0005 trigger notifies).

use crate::outbox::{
    AttemptOutcome, AttemptReport, ClaimSkip, ClaimedMessage, DeliveryAttempt, DeliveryTarget,
    Disposition, OutboxSignal, OutboxStore, Recipient, SELLER_EVENT_KIND, excerpt, millis,
    next_attempt, target,
};
use crate::rows::stored_precision;
use crate::{PgStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use sqlx::Row;
use sqlx::postgres::{PgListener, PgRow};
use std::time::Duration;
use uuid::Uuid;

/// The channel the outbox trigger notifies (migrations/postgres/0005_delivery.sql).
const CHANNEL: &str = "returnbridge_outbox";

macro_rules! attempt_columns {
    () => {
        "attempt_id, tenant_id, message_id, supplier_id, recipient, return_id, attempt_no, \
         started_at, duration_ms, delivered, outcome, status_code, response_excerpt, next_attempt_at"
    };
}

fn claimed_row(row: &PgRow) -> Result<ClaimedMessage, StoreError> {
    let attempts: i32 = row.try_get("attempts")?;
    let retry_from: i32 = row.try_get("retry_from")?;
    Ok(ClaimedMessage {
        outbox_id: row.try_get("outbox_id")?,
        message_id: row.try_get("message_id")?,
        tenant: TenantId::parse(&row.try_get::<String, _>("tenant_id")?)
            .map_err(|e| StoreError::Corrupt(format!("outbox.tenant_id: {e}")))?,
        supplier: SupplierId::from_uuid(row.try_get("supplier_id")?),
        recipient: Recipient::parse(&row.try_get::<String, _>("recipient")?)?,
        return_id: row
            .try_get::<Option<Uuid>, _>("return_id")?
            .map(ReturnId::from_uuid),
        kind: row.try_get("kind")?,
        payload: row.try_get("payload")?,
        event_seq: row.try_get("event_seq")?,
        attempts,
        attempts_since_redelivery: attempts.saturating_sub(retry_from).max(0),
        claimed_until: row.try_get("claimed_until")?,
    })
}

fn attempt_row(row: &PgRow) -> Result<DeliveryAttempt, StoreError> {
    Ok(DeliveryAttempt {
        attempt_id: row.try_get("attempt_id")?,
        message_id: row.try_get("message_id")?,
        tenant: TenantId::parse(&row.try_get::<String, _>("tenant_id")?)
            .map_err(|e| StoreError::Corrupt(format!("delivery_attempts.tenant_id: {e}")))?,
        supplier: SupplierId::from_uuid(row.try_get("supplier_id")?),
        recipient: Recipient::parse(&row.try_get::<String, _>("recipient")?)?,
        return_id: row
            .try_get::<Option<Uuid>, _>("return_id")?
            .map(ReturnId::from_uuid),
        attempt_no: row.try_get("attempt_no")?,
        started_at: row.try_get("started_at")?,
        duration_ms: row.try_get("duration_ms")?,
        delivered: row.try_get("delivered")?,
        outcome: AttemptOutcome::from_columns(
            &row.try_get::<String, _>("outcome")?,
            row.try_get("status_code")?,
        )?,
        response_excerpt: row.try_get("response_excerpt")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
    })
}

/// `LISTEN returnbridge_outbox` on a connection of its own.
struct PgSignal(PgListener);

#[async_trait]
impl OutboxSignal for PgSignal {
    async fn changed(&mut self) -> Result<(), StoreError> {
        self.0.recv().await?;
        Ok(())
    }
}

#[async_trait]
impl OutboxStore for PgStore {
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
        skip: &ClaimSkip,
    ) -> Result<Vec<ClaimedMessage>, StoreError> {
        let now = stored_precision(now);
        let until = stored_precision(now + chrono::Duration::from_std(lease).unwrap_or_default());
        let suppliers: Vec<Uuid> = skip.suppliers.iter().map(SupplierId::as_uuid).collect();
        let sellers: Vec<&str> = skip.sellers.iter().map(TenantId::as_str).collect();
        sqlx::query(
            "UPDATE outbox SET claimed_until = $2 WHERE outbox_id IN ( \
                 SELECT o.outbox_id FROM outbox o \
                 WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND o.available_at <= $1 \
                   AND (o.claimed_until IS NULL OR o.claimed_until <= $1) \
                   AND CASE WHEN o.recipient = 'supplier' THEN NOT (o.supplier_id = ANY($4)) \
                       ELSE NOT (o.tenant_id = ANY($5)) AND NOT EXISTS ( \
                           SELECT 1 FROM outbox e WHERE e.recipient = 'seller' \
                             AND e.tenant_id = o.tenant_id AND e.return_id = o.return_id \
                             AND e.outbox_id < o.outbox_id \
                             AND e.delivered_at IS NULL AND e.failed_at IS NULL) END \
                 ORDER BY o.available_at, o.outbox_id LIMIT $3 \
                 FOR UPDATE SKIP LOCKED) \
             RETURNING outbox_id, message_id, tenant_id, supplier_id, recipient, return_id, kind, \
                 payload, event_seq, attempts, retry_from, claimed_until",
        )
        .bind(now)
        .bind(until)
        .bind(i64::from(limit))
        .bind(&suppliers)
        .bind(&sellers)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(claimed_row)
        .collect::<Result<Vec<_>, _>>()
        .map(|mut claimed| {
            // RETURNING follows no ORDER BY: put the oldest first again.
            claimed.sort_by_key(|m| m.outbox_id);
            claimed
        })
    }

    async fn record_attempt(
        &self,
        message: &ClaimedMessage,
        report: &AttemptReport,
    ) -> Result<bool, StoreError> {
        let started = stored_precision(report.started_at);
        let finished = stored_precision(
            report.started_at + chrono::Duration::from_std(report.duration).unwrap_or_default(),
        );
        let next = next_attempt(report.disposition);
        let (outcome, code) = report.outcome.to_columns();
        let text = excerpt(&report.response_excerpt);
        let mut tx = self.pool.begin().await?;
        let changed = match report.disposition {
            Disposition::Delivered => sqlx::query(
                "UPDATE outbox SET delivered_at = $2, attempts = attempts + 1, claimed_until = NULL, \
                 last_error = NULL WHERE outbox_id = $1 AND delivered_at IS NULL",
            )
            .bind(message.outbox_id)
            .bind(finished),
            Disposition::RetryAt(at) => sqlx::query(
                "UPDATE outbox SET available_at = $3, attempts = attempts + 1, claimed_until = NULL, \
                 last_error = $4 \
                 WHERE outbox_id = $1 AND claimed_until = $2 AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(message.outbox_id)
            .bind(message.claimed_until)
            .bind(stored_precision(at))
            .bind(text),
            Disposition::Exhausted => sqlx::query(
                "UPDATE outbox SET failed_at = $3, attempts = attempts + 1, claimed_until = NULL, \
                 last_error = $4 \
                 WHERE outbox_id = $1 AND claimed_until = $2 AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(message.outbox_id)
            .bind(message.claimed_until)
            .bind(finished)
            .bind(text),
            Disposition::HeldUntil(at) => sqlx::query(
                "UPDATE outbox SET available_at = $3, claimed_until = NULL \
                 WHERE outbox_id = $1 AND claimed_until = $2 AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(message.outbox_id)
            .bind(message.claimed_until)
            .bind(stored_precision(at)),
        }
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        sqlx::query(
            "INSERT INTO delivery_attempts (tenant_id, message_id, supplier_id, return_id, attempt_no, \
             started_at, duration_ms, delivered, outcome, status_code, response_excerpt, next_attempt_at, \
             recipient) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(message.tenant.as_str())
        .bind(message.message_id)
        .bind(message.supplier.as_uuid())
        .bind(message.return_id.map(|r| r.as_uuid()))
        .bind(message.attempt_no())
        .bind(started)
        .bind(millis(report.duration))
        .bind(report.disposition == Disposition::Delivered)
        .bind(outcome)
        .bind(code)
        .bind(text)
        .bind(next.filter(|_| changed))
        .bind(message.recipient.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn redeliver(
        &self,
        tenant: &TenantId,
        message_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE outbox SET failed_at = NULL, available_at = $3, retry_from = attempts, \
             claimed_until = NULL WHERE tenant_id = $1 AND message_id = $2 AND failed_at IS NOT NULL",
        )
        .bind(tenant.as_str())
        .bind(message_id)
        .bind(stored_precision(now))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if changed {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(CHANNEL)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn attempts_for_return(
        &self,
        tenant: &TenantId,
        return_id: ReturnId,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            attempt_columns!(),
            " FROM delivery_attempts WHERE tenant_id = $1 AND return_id = $2 ORDER BY attempt_id"
        ))
        .bind(tenant.as_str())
        .bind(return_id.as_uuid())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(attempt_row)
        .collect()
    }

    async fn attempts_for_supplier(
        &self,
        tenant: &TenantId,
        supplier: SupplierId,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            attempt_columns!(),
            " FROM delivery_attempts WHERE tenant_id = $1 AND supplier_id = $2 AND attempt_id > $3 \
             AND recipient = 'supplier' ORDER BY attempt_id LIMIT $4"
        ))
        .bind(tenant.as_str())
        .bind(supplier.as_uuid())
        .bind(after.unwrap_or(0))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(attempt_row)
        .collect()
    }

    async fn delivery_target(
        &self,
        tenant: &TenantId,
        supplier: SupplierId,
    ) -> Result<Option<DeliveryTarget>, StoreError> {
        let row = sqlx::query(
            "SELECT connector_kind, connector_url, webhook_secret, previous_webhook_secret, \
             previous_secret_until, delivery_policy FROM suppliers \
             WHERE tenant_id = $1 AND supplier_id = $2",
        )
        .bind(tenant.as_str())
        .bind(supplier.as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            target(
                &row.try_get::<String, _>("connector_kind")?,
                &row.try_get::<String, _>("connector_url")?,
                row.try_get("webhook_secret")?,
                row.try_get::<Option<String>, _>("previous_webhook_secret")?
                    .zip(row.try_get("previous_secret_until")?),
                row.try_get::<Option<String>, _>("delivery_policy")?
                    .as_deref(),
            )
        })
        .transpose()
    }

    async fn outbox_backlog(&self) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM outbox \
             WHERE delivered_at IS NULL AND failed_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        let pending: i64 = row.try_get("pending")?;
        Ok((u64::try_from(pending).unwrap_or(0), row.try_get("oldest")?))
    }

    async fn seller_event_backlog(&self) -> Result<Vec<TenantId>, StoreError> {
        sqlx::query_scalar::<_, String>(
            "SELECT c.tenant_id FROM seller_event_cursors c \
             JOIN tenants t ON t.tenant_id = c.tenant_id WHERE t.last_event_seq > c.last_seq",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|t| {
            TenantId::parse(t)
                .map_err(|e| StoreError::Corrupt(format!("seller_event_cursors.tenant_id: {e}")))
        })
        .collect()
    }

    async fn relay_seller_events(
        &self,
        tenant: &TenantId,
        deliver: bool,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(cursor) = sqlx::query_scalar::<_, i64>(
            "SELECT last_seq FROM seller_event_cursors WHERE tenant_id = $1 \
             FOR UPDATE SKIP LOCKED",
        )
        .bind(tenant.as_str())
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(0);
        };
        // Events become visible in sequence order (the tenant's counter row is locked until each
        // writer commits), so reading after the cursor never skips one that commits later.
        let events = sqlx::query(
            "SELECT e.seq, e.return_id, e.detail, r.supplier_id FROM return_events e \
             JOIN returns r ON r.tenant_id = e.tenant_id AND r.return_id = e.return_id \
             WHERE e.tenant_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(cursor)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = events.last() else {
            return Ok(0);
        };
        let last: i64 = last.try_get("seq")?;
        if deliver {
            let now = stored_precision(now);
            for event in &events {
                sqlx::query(
                    "INSERT INTO outbox (message_id, tenant_id, supplier_id, return_id, kind, payload, \
                     created_at, available_at, recipient, event_seq) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 'seller', $8)",
                )
                .bind(Uuid::now_v7())
                .bind(tenant.as_str())
                .bind(event.try_get::<Uuid, _>("supplier_id")?)
                .bind(event.try_get::<Uuid, _>("return_id")?)
                .bind(SELLER_EVENT_KIND)
                .bind(event.try_get::<Vec<u8>, _>("detail")?)
                .bind(now)
                .bind(event.try_get::<i64, _>("seq")?)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query("UPDATE seller_event_cursors SET last_seq = $2 WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .bind(last)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(events.len())
    }

    async fn outbox_signal(&self) -> Result<Box<dyn OutboxSignal>, StoreError> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Box::new(PgSignal(listener)))
    }
}
