//! [`OutboxStore`] on SQLite: one statement claims (the database's write lock makes it atomic), and
//! wake-ups come from the connection hooks in `mod.rs`, which fire when a commit added outbox rows.

use super::{opt_uuid_col, parse_ts, ts, ts_col, uuid_col};
use crate::outbox::{
    AttemptOutcome, AttemptReport, ClaimedMessage, DeliveryAttempt, DeliveryTarget, Disposition,
    OutboxSignal, OutboxStore, excerpt, millis, next_attempt, target,
};
use crate::rows::stored_precision;
use crate::{SqliteStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use uuid::Uuid;

macro_rules! attempt_columns {
    () => {
        "attempt_id, tenant_id, message_id, supplier_id, return_id, attempt_no, started_at, \
         duration_ms, delivered, outcome, status_code, response_excerpt, next_attempt_at"
    };
}

fn opt_ts_col(row: &SqliteRow, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    row.try_get::<Option<String>, _>(column)?
        .as_deref()
        .map(parse_ts)
        .transpose()
}

fn claimed_row(row: &SqliteRow) -> Result<ClaimedMessage, StoreError> {
    let attempts: i32 = row.try_get("attempts")?;
    let retry_from: i32 = row.try_get("retry_from")?;
    Ok(ClaimedMessage {
        outbox_id: row.try_get("outbox_id")?,
        message_id: uuid_col(row, "message_id")?,
        tenant: TenantId::parse(&row.try_get::<String, _>("tenant_id")?)
            .map_err(|e| StoreError::Corrupt(format!("outbox.tenant_id: {e}")))?,
        supplier: SupplierId::from_uuid(uuid_col(row, "supplier_id")?),
        return_id: opt_uuid_col(row, "return_id")?.map(ReturnId::from_uuid),
        kind: row.try_get("kind")?,
        payload: row.try_get("payload")?,
        attempts,
        attempts_since_redelivery: attempts.saturating_sub(retry_from).max(0),
        claimed_until: ts_col(row, "claimed_until")?,
    })
}

fn attempt_row(row: &SqliteRow) -> Result<DeliveryAttempt, StoreError> {
    Ok(DeliveryAttempt {
        attempt_id: row.try_get("attempt_id")?,
        message_id: uuid_col(row, "message_id")?,
        tenant: TenantId::parse(&row.try_get::<String, _>("tenant_id")?)
            .map_err(|e| StoreError::Corrupt(format!("delivery_attempts.tenant_id: {e}")))?,
        supplier: SupplierId::from_uuid(uuid_col(row, "supplier_id")?),
        return_id: opt_uuid_col(row, "return_id")?.map(ReturnId::from_uuid),
        attempt_no: row.try_get("attempt_no")?,
        started_at: ts_col(row, "started_at")?,
        duration_ms: row.try_get("duration_ms")?,
        delivered: row.try_get("delivered")?,
        outcome: AttemptOutcome::from_columns(
            &row.try_get::<String, _>("outcome")?,
            row.try_get("status_code")?,
        )?,
        response_excerpt: row.try_get("response_excerpt")?,
        next_attempt_at: opt_ts_col(row, "next_attempt_at")?,
    })
}

/// The store's in-process signal: every dispatcher of this store shares it (one per process).
struct SqliteSignal(Arc<Notify>);

#[async_trait]
impl OutboxSignal for SqliteSignal {
    async fn changed(&mut self) -> Result<(), StoreError> {
        self.0.notified().await;
        Ok(())
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
        skip: &[SupplierId],
    ) -> Result<Vec<ClaimedMessage>, StoreError> {
        let now = stored_precision(now);
        let until = stored_precision(now + chrono::Duration::from_std(lease).unwrap_or_default());
        // A JSON array of the skipped ids: one bound value however many there are.
        let skip = format!(
            "[{}]",
            skip.iter()
                .map(|s| format!("\"{}\"", s.as_uuid()))
                .collect::<Vec<_>>()
                .join(",")
        );
        let mut claimed = sqlx::query(
            "UPDATE outbox SET claimed_until = $2 WHERE outbox_id IN ( \
                 SELECT outbox_id FROM outbox \
                 WHERE delivered_at IS NULL AND failed_at IS NULL AND available_at <= $1 \
                   AND (claimed_until IS NULL OR claimed_until <= $1) \
                   AND supplier_id NOT IN (SELECT value FROM json_each($4)) \
                 ORDER BY available_at, outbox_id LIMIT $3) \
             RETURNING outbox_id, message_id, tenant_id, supplier_id, return_id, kind, payload, \
                 attempts, retry_from, claimed_until",
        )
        .bind(ts(now))
        .bind(ts(until))
        .bind(i64::from(limit))
        .bind(skip)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(claimed_row)
        .collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by_key(|m| m.outbox_id);
        Ok(claimed)
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
        let lease = ts(message.claimed_until);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let changed = match report.disposition {
            Disposition::Delivered => sqlx::query(
                "UPDATE outbox SET delivered_at = $2, attempts = attempts + 1, claimed_until = NULL, \
                 last_error = NULL WHERE outbox_id = $1 AND delivered_at IS NULL",
            )
            .bind(message.outbox_id)
            .bind(ts(finished)),
            Disposition::RetryAt(at) => sqlx::query(
                "UPDATE outbox SET available_at = $3, attempts = attempts + 1, claimed_until = NULL, \
                 last_error = $4 \
                 WHERE outbox_id = $1 AND claimed_until = $2 AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(message.outbox_id)
            .bind(lease)
            .bind(ts(stored_precision(at)))
            .bind(text),
            Disposition::Exhausted => sqlx::query(
                "UPDATE outbox SET failed_at = $3, attempts = attempts + 1, claimed_until = NULL, \
                 last_error = $4 \
                 WHERE outbox_id = $1 AND claimed_until = $2 AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(message.outbox_id)
            .bind(lease)
            .bind(ts(finished))
            .bind(text),
            Disposition::HeldUntil(at) => sqlx::query(
                "UPDATE outbox SET available_at = $3, claimed_until = NULL \
                 WHERE outbox_id = $1 AND claimed_until = $2 AND delivered_at IS NULL AND failed_at IS NULL",
            )
            .bind(message.outbox_id)
            .bind(lease)
            .bind(ts(stored_precision(at))),
        }
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        sqlx::query(
            "INSERT INTO delivery_attempts (tenant_id, message_id, supplier_id, return_id, attempt_no, \
             started_at, duration_ms, delivered, outcome, status_code, response_excerpt, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(message.tenant.as_str())
        .bind(message.message_id.to_string())
        .bind(message.supplier.as_uuid().to_string())
        .bind(message.return_id.map(|r| r.as_uuid().to_string()))
        .bind(message.attempt_no())
        .bind(ts(started))
        .bind(millis(report.duration))
        .bind(report.disposition == Disposition::Delivered)
        .bind(outcome)
        .bind(code)
        .bind(text)
        .bind(next.filter(|_| changed).map(ts))
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
        let changed = sqlx::query(
            "UPDATE outbox SET failed_at = NULL, available_at = $3, retry_from = attempts, \
             claimed_until = NULL WHERE tenant_id = $1 AND message_id = $2 AND failed_at IS NOT NULL",
        )
        .bind(tenant.as_str())
        .bind(message_id.to_string())
        .bind(ts(stored_precision(now)))
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        if changed {
            self.outbox_changed.notify_one();
        }
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
        .bind(return_id.as_uuid().to_string())
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
             ORDER BY attempt_id LIMIT $4"
        ))
        .bind(tenant.as_str())
        .bind(supplier.as_uuid().to_string())
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
            "SELECT connector_kind, connector_url, webhook_secret FROM suppliers \
             WHERE tenant_id = $1 AND supplier_id = $2",
        )
        .bind(tenant.as_str())
        .bind(supplier.as_uuid().to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            target(
                &row.try_get::<String, _>("connector_kind")?,
                &row.try_get::<String, _>("connector_url")?,
                row.try_get("webhook_secret")?,
            )
        })
        .transpose()
    }

    async fn outbox_signal(&self) -> Result<Box<dyn OutboxSignal>, StoreError> {
        Ok(Box::new(SqliteSignal(self.outbox_changed.clone())))
    }
}
