//! The PostgreSQL store: production, shared by every api and gateway replica.

mod contracts;
mod liability;
mod outbox;
mod returns;
mod scratch;
mod sla;

pub use scratch::ScratchDatabase;

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
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};
use std::str::FromStr;
use std::sync::Arc;

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

macro_rules! supplier_columns {
    () => {
        "tenant_id, supplier_id, display_name, connector_kind, connector_url, backup_supplier_id, \
         delivery_policy, version, created_at, updated_at"
    };
}

/// [`Store`] on PostgreSQL.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    probe: Arc<ProbeConnection<PgConnection>>,
}

impl PgStore {
    /// Builds the pool; connections are opened on first use, so a database that is down at start-up
    /// shows as NOT_SERVING rather than a crash loop.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?
            // NOTICEs ("relation _sqlx_migrations already exists, skipping" on every start) are
            // noise in the service's log; warnings and errors still come through.
            .options([("client_min_messages", "warning")]);
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_lazy_with(connect.clone());
        Ok(Self {
            pool,
            probe: Arc::new(ProbeConnection::new(connect)),
        })
    }

    /// The pool, for tests and benchmarks that need to look underneath.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn supplier_row(row: &PgRow) -> Result<Supplier, StoreError> {
    SupplierRow {
        tenant_id: row.try_get("tenant_id")?,
        supplier_id: row.try_get("supplier_id")?,
        display_name: row.try_get("display_name")?,
        connector_kind: row.try_get("connector_kind")?,
        connector_url: row.try_get("connector_url")?,
        backup_supplier_id: row.try_get("backup_supplier_id")?,
        delivery_policy: row.try_get("delivery_policy")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    }
    .try_into()
}

fn api_key_row(row: &PgRow) -> Result<ApiKeyRecord, StoreError> {
    ApiKeyRow {
        key_id: row.try_get("key_id")?,
        tenant_id: row.try_get("tenant_id")?,
        supplier_id: row.try_get("supplier_id")?,
        name: row.try_get("name")?,
        scopes: row.try_get("scopes")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    }
    .try_into()
}

/// Claims an idempotency key inside the caller's transaction. A concurrent claim of the same key
/// waits on the primary key until the first transaction ends, then sees its stored answer: exactly
/// one effect, whatever the race.
async fn claim_key<T>(
    conn: &mut PgConnection,
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
    .bind(now)
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
    conn: &mut PgConnection,
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
    conn: &mut PgConnection,
    tenant: &TenantId,
    id: SupplierId,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("SELECT 1 FROM suppliers WHERE tenant_id = $1 AND supplier_id = $2")
            .bind(tenant.as_str())
            .bind(id.as_uuid())
            .fetch_optional(&mut *conn)
            .await?
            .is_some(),
    )
}

#[async_trait]
impl Store for PgStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let applied = self
            .probe
            .run(|c| {
                Box::pin(
                    sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
                        .fetch_one(c),
                )
            })
            .await?;
        schema_current(applied, latest)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.probe.run(|c| Box::pin(c.ping())).await
    }

    async fn purge_idempotency_records(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM idempotency_records WHERE ctid IN \
             (SELECT ctid FROM idempotency_records WHERE created_at < $1 ORDER BY created_at LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected())
    }

    async fn create_api_key(&self, key: NewApiKey) -> Result<ApiKeyRecord, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO tenants (tenant_id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(key.tenant.as_str())
        .bind(key.created_at)
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
        .bind(key.id.as_uuid())
        .bind(key.tenant.as_str())
        .bind(key.supplier.map(|s| s.as_uuid()))
        .bind(&key.name)
        .bind(Scope::join(&key.scopes))
        .bind(&key.secret_hash[..])
        .bind(key.created_at)
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
             FROM api_keys WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY created_at, key_id",
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
        .bind(id.as_uuid())
        .bind(at)
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
        let mut tx = self.pool.begin().await?;
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
        .bind(SupplierId::generate().as_uuid())
        .bind(supplier.display_name.as_str())
        .bind(kind)
        .bind(url)
        .bind(webhook_secret)
        .bind(supplier.backup.map(|b| b.as_uuid()))
        .bind(now)
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
        .bind(id.as_uuid())
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
             WHERE tenant_id = $1 AND ($2::uuid IS NULL OR supplier_id > $2) \
             ORDER BY supplier_id LIMIT $3"
        ))
        .bind(tenant.as_str())
        .bind(after.map(|a| a.as_uuid()))
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
        let mut tx = self.pool.begin().await?;
        if let Some(answer) = claim_key(&mut tx, tenant, idempotency.as_ref(), now).await? {
            return Ok(Applied::Replayed(answer));
        }
        let current = sqlx::query(concat!(
            "SELECT ",
            supplier_columns!(),
            " FROM suppliers WHERE tenant_id = $1 AND supplier_id = $2 FOR UPDATE"
        ))
        .bind(tenant.as_str())
        .bind(id.as_uuid())
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
             previous_webhook_secret = CASE WHEN $9::TEXT IS NULL THEN previous_webhook_secret ELSE webhook_secret END, \
             previous_secret_until = CASE WHEN $9::TEXT IS NULL THEN previous_secret_until ELSE $10 END, \
             webhook_secret = COALESCE($9, webhook_secret), delivery_policy = $11 \
             WHERE tenant_id = $1 AND supplier_id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_uuid())
        .bind(next.display_name.as_str())
        .bind(kind)
        .bind(url)
        .bind(next.backup.map(|b| b.as_uuid()))
        .bind(next.version)
        .bind(next.updated_at)
                .bind(rotation.map(|r| r.secret))
        .bind(rotation.map(|r| stored_precision(r.old_signs_until)))
        .bind(delivery_column(&next.delivery))
        .execute(&mut *tx)
        .await?;
        record_answer(&mut tx, tenant, idempotency.as_ref(), &next).await?;
        tx.commit().await?;
        Ok(Applied::New(next))
    }
}
