//! The SQLite store: the embedded default, one file, no setup. Writers take the database lock at
//! `BEGIN IMMEDIATE` so two writers never deadlock upgrading a read lock. UUIDs and instants are
//! stored as canonical text (fixed-width UTC), which compares in time order.

mod contracts;
mod liability;
mod outbox;
mod returns;
mod sla;

use crate::probe::{ProbeConnection, schema_current};
use crate::rows::{ApiKeyRow, SupplierRow, connector_columns, delivery_column, stored_precision};
use crate::{
    ApiKeyRecord, Applied, IdempotencyClaim, NewApiKey, SecretRotation, Store, StoreError,
    StoreOptions,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use returnbridge_domain::DomainError;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::error::Resource;
use returnbridge_domain::ids::{ApiKeyId, SupplierId, TenantId};
use returnbridge_domain::supplier::{NewSupplier, Supplier, SupplierChanges, unknown_backup};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteOperation, SqlitePool,
    SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection, Row};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;
use uuid::Uuid;

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

macro_rules! supplier_columns {
    () => {
        "tenant_id, supplier_id, display_name, connector_kind, connector_url, backup_supplier_id, \
         delivery_policy, version, created_at, updated_at"
    };
}

/// [`Store`] on SQLite.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// None for an in-memory database, which exists only inside the pool's one connection.
    probe: Option<Arc<ProbeConnection<SqliteConnection>>>,
    /// Fired when a commit added outbox rows (see [`watch_outbox_inserts`]): the dispatcher's wake-up.
    outbox_changed: Arc<Notify>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file in WAL mode with foreign keys enforced.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(5))
            .foreign_keys(true);
        // An in-memory database exists once per connection: keep exactly one.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let max = if in_memory {
            1
        } else {
            options.max_connections
        };
        let outbox_changed = Arc::new(Notify::new());
        let hooked = outbox_changed.clone();
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .acquire_timeout(options.acquire_timeout)
            .after_connect(move |conn, _| {
                let notify = hooked.clone();
                Box::pin(async move { watch_outbox_inserts(conn, notify).await })
            })
            .connect_with(connect.clone())
            .await?;
        Ok(Self {
            pool,
            probe: (!in_memory).then(|| Arc::new(ProbeConnection::new(connect))),
            outbox_changed,
        })
    }

    /// The pool, for tests and benchmarks that need to look underneath.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Makes `conn` fire `notify` once a transaction that inserted outbox rows has committed, so the
/// dispatcher wakes without touching the code that writes them. The hooks run on SQLite's thread
/// and only flip a flag or notify; they never use the connection.
async fn watch_outbox_inserts(
    conn: &mut SqliteConnection,
    notify: Arc<Notify>,
) -> Result<(), sqlx::Error> {
    let inserted = Arc::new(AtomicBool::new(false));
    let mut handle = conn.lock_handle().await?;
    let seen = inserted.clone();
    handle.set_update_hook(move |change| {
        if change.table == "outbox" && matches!(change.operation, SqliteOperation::Insert) {
            seen.store(true, Ordering::Relaxed);
        }
    });
    let committed = inserted.clone();
    // The hook runs while the commit still holds the write lock, so a dispatcher's claim (a write)
    // waits for the commit to finish and then sees the rows.
    handle.set_commit_hook(move || {
        if committed.swap(false, Ordering::Relaxed) {
            notify.notify_one();
        }
        true
    });
    handle.set_rollback_hook(move || inserted.store(false, Ordering::Relaxed));
    Ok(())
}

/// Fixed-width UTC text, so that stored instants compare in time order.
fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn parse_ts(raw: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("instant {raw:?}: {e}")))
}

fn ts_col(row: &SqliteRow, column: &str) -> Result<DateTime<Utc>, StoreError> {
    parse_ts(&row.try_get::<String, _>(column)?)
}

fn parse_uuid(raw: &str) -> Result<Uuid, StoreError> {
    Uuid::try_parse(raw).map_err(|e| StoreError::Corrupt(format!("uuid {raw:?}: {e}")))
}

fn uuid_col(row: &SqliteRow, column: &str) -> Result<Uuid, StoreError> {
    parse_uuid(&row.try_get::<String, _>(column)?)
}

fn opt_uuid_col(row: &SqliteRow, column: &str) -> Result<Option<Uuid>, StoreError> {
    row.try_get::<Option<String>, _>(column)?
        .as_deref()
        .map(parse_uuid)
        .transpose()
}

fn supplier_row(row: &SqliteRow) -> Result<Supplier, StoreError> {
    SupplierRow {
        tenant_id: row.try_get("tenant_id")?,
        supplier_id: uuid_col(row, "supplier_id")?,
        display_name: row.try_get("display_name")?,
        connector_kind: row.try_get("connector_kind")?,
        connector_url: row.try_get("connector_url")?,
        backup_supplier_id: opt_uuid_col(row, "backup_supplier_id")?,
        delivery_policy: row.try_get("delivery_policy")?,
        version: row.try_get("version")?,
        created_at: ts_col(row, "created_at")?,
        updated_at: ts_col(row, "updated_at")?,
    }
    .try_into()
}

fn api_key_row(row: &SqliteRow) -> Result<ApiKeyRecord, StoreError> {
    ApiKeyRow {
        key_id: uuid_col(row, "key_id")?,
        tenant_id: row.try_get("tenant_id")?,
        supplier_id: opt_uuid_col(row, "supplier_id")?,
        name: row.try_get("name")?,
        scopes: row.try_get("scopes")?,
        created_at: ts_col(row, "created_at")?,
        revoked_at: row
            .try_get::<Option<String>, _>("revoked_at")?
            .map(|t| parse_ts(&t))
            .transpose()?,
    }
    .try_into()
}

/// Claims an idempotency key inside the caller's transaction. A concurrent claim of the same key
/// waits on the primary key until the first transaction ends, then sees its stored answer: exactly
/// one effect, whatever the race.
async fn claim_key<T>(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    claim: Option<&IdempotencyClaim<'_, T>>,
    now: DateTime<Utc>,
) -> Result<Option<Vec<u8>>, StoreError> {
    let Some(claim) = claim else {
        return Ok(None);
    };
    let inserted = sqlx::query(
        "INSERT INTO idempotency_records (tenant_id, idempotency_key, request_hash, response, created_at) \
         VALUES ($1, $2, $3, '', $4) ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(claim.key)
    .bind(&claim.request_hash[..])
    .bind(ts(now))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT request_hash, response FROM idempotency_records WHERE tenant_id = $1 AND idempotency_key = $2",
    )
    .bind(tenant.as_str())
    .bind(claim.key)
    .fetch_one(&mut *conn)
    .await?;
    let hash: Vec<u8> = row.try_get("request_hash")?;
    if hash != claim.request_hash {
        return Err(DomainError::IdempotencyKeyReused.into());
    }
    Ok(Some(row.try_get("response")?))
}

async fn record_answer<T>(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    claim: Option<&IdempotencyClaim<'_, T>>,
    value: &T,
) -> Result<(), StoreError> {
    let Some(claim) = claim else {
        return Ok(());
    };
    sqlx::query("UPDATE idempotency_records SET response = $3 WHERE tenant_id = $1 AND idempotency_key = $2")
        .bind(tenant.as_str())
        .bind(claim.key)
        .bind((claim.encode)(value)?)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn supplier_exists(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    id: SupplierId,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("SELECT 1 FROM suppliers WHERE tenant_id = $1 AND supplier_id = $2")
            .bind(tenant.as_str())
            .bind(id.as_uuid().to_string())
            .fetch_optional(&mut *conn)
            .await?
            .is_some(),
    )
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        const APPLIED: &str = "SELECT max(version) FROM _sqlx_migrations WHERE success";
        let applied = match &self.probe {
            Some(probe) => {
                probe
                    .run(|c| Box::pin(sqlx::query_scalar(APPLIED).fetch_one(c)))
                    .await?
            }
            None => sqlx::query_scalar(APPLIED).fetch_one(&self.pool).await?,
        };
        schema_current(applied, latest)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        match &self.probe {
            Some(probe) => probe.run(|c| Box::pin(c.ping())).await,
            None => Ok(()),
        }
    }

    async fn purge_idempotency_records(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM idempotency_records WHERE rowid IN \
             (SELECT rowid FROM idempotency_records WHERE created_at < $1 ORDER BY created_at LIMIT $2)",
        )
        .bind(ts(before))
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected())
    }

    async fn create_api_key(&self, key: NewApiKey) -> Result<ApiKeyRecord, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO tenants (tenant_id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(key.tenant.as_str())
        .bind(ts(key.created_at))
        .execute(&mut *tx)
        .await?;
        if let Some(supplier) = key.supplier
            && !supplier_exists(&mut tx, &key.tenant, supplier).await?
        {
            return Err(DomainError::NotFound {
                resource: Resource::Supplier,
                id: supplier.to_string(),
            }
            .into());
        }
        let row = sqlx::query(
            "INSERT INTO api_keys (key_id, tenant_id, supplier_id, name, scopes, secret_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING key_id, tenant_id, supplier_id, name, scopes, created_at, revoked_at",
        )
        .bind(key.id.as_uuid().to_string())
        .bind(key.tenant.as_str())
        .bind(key.supplier.map(|s| s.as_uuid().to_string()))
        .bind(&key.name)
        .bind(Scope::join(&key.scopes))
        .bind(&key.secret_hash[..])
        .bind(ts(key.created_at))
        .fetch_one(&mut *tx)
        .await?;
        let record = api_key_row(&row)?;
        tx.commit().await?;
        Ok(record)
    }

    async fn find_api_key(
        &self,
        secret_hash: &[u8; 32],
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        sqlx::query(
            "SELECT key_id, tenant_id, supplier_id, name, scopes, created_at, revoked_at \
             FROM api_keys WHERE secret_hash = $1",
        )
        .bind(&secret_hash[..])
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(api_key_row)
        .transpose()
    }

    async fn list_api_keys(
        &self,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        sqlx::query(
            "SELECT key_id, tenant_id, supplier_id, name, scopes, created_at, revoked_at \
             FROM api_keys WHERE $1 IS NULL OR tenant_id = $1 ORDER BY created_at, key_id",
        )
        .bind(tenant.map(TenantId::as_str))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(api_key_row)
        .collect()
    }

    async fn revoke_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE key_id = $1",
        )
        .bind(id.as_uuid().to_string())
        .bind(ts(at))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn create_supplier(
        &self,
        tenant: &TenantId,
        supplier: NewSupplier,
        webhook_secret: &str,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, Supplier>>,
    ) -> Result<Applied<Supplier>, StoreError> {
        let now = stored_precision(now);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(answer) = claim_key(&mut tx, tenant, idempotency.as_ref(), now).await? {
            return Ok(Applied::Replayed(answer));
        }
        if let Some(backup) = supplier.backup
            && !supplier_exists(&mut tx, tenant, backup).await?
        {
            return Err(unknown_backup(backup).into());
        }
        let (kind, url) = connector_columns(&supplier.connector);
        let row = sqlx::query(concat!("INSERT INTO suppliers (tenant_id, supplier_id, display_name, connector_kind, connector_url, \
             webhook_secret, backup_supplier_id, version, created_at, updated_at, delivery_policy) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8, $9) RETURNING ", supplier_columns!(), ""))
        .bind(tenant.as_str())
        .bind(SupplierId::generate().as_uuid().to_string())
        .bind(supplier.display_name.as_str())
        .bind(kind)
        .bind(url)
        .bind(webhook_secret)
        .bind(supplier.backup.map(|b| b.as_uuid().to_string()))
        .bind(ts(now))
        .bind(delivery_column(&supplier.delivery))
        .fetch_one(&mut *tx)
        .await?;
        let created = supplier_row(&row)?;
        record_answer(&mut tx, tenant, idempotency.as_ref(), &created).await?;
        tx.commit().await?;
        Ok(Applied::New(created))
    }

    async fn get_supplier(
        &self,
        tenant: &TenantId,
        id: SupplierId,
    ) -> Result<Option<Supplier>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            supplier_columns!(),
            " FROM suppliers WHERE tenant_id = $1 AND supplier_id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_uuid().to_string())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(supplier_row)
        .transpose()
    }

    async fn list_suppliers(
        &self,
        tenant: &TenantId,
        after: Option<SupplierId>,
        limit: u32,
    ) -> Result<Vec<Supplier>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            supplier_columns!(),
            " FROM suppliers \
             WHERE tenant_id = $1 AND ($2 IS NULL OR supplier_id > $2) \
             ORDER BY supplier_id LIMIT $3"
        ))
        .bind(tenant.as_str())
        .bind(after.map(|a| a.as_uuid().to_string()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(supplier_row)
        .collect()
    }

    async fn update_supplier(
        &self,
        tenant: &TenantId,
        id: SupplierId,
        changes: SupplierChanges,
        rotation: Option<SecretRotation<'_>>,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, Supplier>>,
    ) -> Result<Applied<Supplier>, StoreError> {
        let now = stored_precision(now);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(answer) = claim_key(&mut tx, tenant, idempotency.as_ref(), now).await? {
            return Ok(Applied::Replayed(answer));
        }
        let current = sqlx::query(concat!(
            "SELECT ",
            supplier_columns!(),
            " FROM suppliers WHERE tenant_id = $1 AND supplier_id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_uuid().to_string())
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(supplier_row)
        .transpose()?
        .ok_or_else(|| DomainError::NotFound {
            resource: Resource::Supplier,
            id: id.to_string(),
        })?;
        if let Some(Some(backup)) = changes.backup
            && !supplier_exists(&mut tx, tenant, backup).await?
        {
            return Err(unknown_backup(backup).into());
        }
        let next = changes.apply(&current, now)?;
        let (kind, url) = connector_columns(&next.connector);
        sqlx::query(
            "UPDATE suppliers SET display_name = $3, connector_kind = $4, connector_url = $5, \
             backup_supplier_id = $6, version = $7, updated_at = $8, \
             previous_webhook_secret = CASE WHEN $9 IS NULL THEN previous_webhook_secret ELSE webhook_secret END, \
             previous_secret_until = CASE WHEN $9 IS NULL THEN previous_secret_until ELSE $10 END, \
             webhook_secret = COALESCE($9, webhook_secret), delivery_policy = $11 \
             WHERE tenant_id = $1 AND supplier_id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_uuid().to_string())
        .bind(next.display_name.as_str())
        .bind(kind)
        .bind(url)
        .bind(next.backup.map(|b| b.as_uuid().to_string()))
        .bind(next.version)
        .bind(ts(next.updated_at))
                .bind(rotation.map(|r| r.secret))
        .bind(rotation.map(|r| ts(stored_precision(r.old_signs_until))))
        .bind(delivery_column(&next.delivery))
        .execute(&mut *tx)
        .await?;
        record_answer(&mut tx, tenant, idempotency.as_ref(), &next).await?;
        tx.commit().await?;
        Ok(Applied::New(next))
    }
}
