use super::*;
use crate::contracts::unknown_supplier;
use crate::{ContractStore, NewContractVersion, SettingsChange, StoredContract, StoredSettings};
use returnbridge_domain::contract_input::{
    check_effective_from, failover_without_backup, is_correction,
};

// A later version governs every order from its effective_from on, so a version is in effect until
// the earliest start among the later ones; a correction that starts before it leaves it an empty
// interval (effective_until = effective_from: never in effect).
macro_rules! contract_columns {
    () => {
        "c.supplier_id, c.version, c.effective_from, c.terms, c.description, c.published_at, \
         (SELECT max(c.effective_from, MIN(n.effective_from)) FROM contract_versions n \
          WHERE n.tenant_id = c.tenant_id AND n.supplier_id = c.supplier_id AND n.version > c.version) \
          AS effective_until"
    };
}

fn contract_row(row: &SqliteRow) -> Result<StoredContract, StoreError> {
    Ok(StoredContract {
        supplier: SupplierId::from_uuid(uuid_col(row, "supplier_id")?),
        version: row.try_get("version")?,
        effective_from: ts_col(row, "effective_from")?,
        effective_until: row
            .try_get::<Option<String>, _>("effective_until")?
            .map(|t| parse_ts(&t))
            .transpose()?,
        terms: row.try_get("terms")?,
        description: row.try_get("description")?,
        published_at: ts_col(row, "published_at")?,
    })
}

fn settings_row(row: &SqliteRow) -> Result<StoredSettings, StoreError> {
    Ok(StoredSettings {
        document: row.try_get("settings")?,
        version: row.try_get("version")?,
        updated_at: ts_col(row, "updated_at")?,
        event_webhook_secret: row.try_get("event_webhook_secret")?,
    })
}

async fn require_supplier(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    id: SupplierId,
) -> Result<(), StoreError> {
    if supplier_exists(conn, tenant, id).await? {
        Ok(())
    } else {
        Err(unknown_supplier(id))
    }
}

#[async_trait]
impl ContractStore for SqliteStore {
    async fn publish_contract(
        &self,
        tenant: &TenantId,
        new: NewContractVersion,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, StoredContract>>,
    ) -> Result<Applied<StoredContract>, StoreError> {
        let now = stored_precision(now);
        let effective_from = stored_precision(new.effective_from);
        // IMMEDIATE takes the write lock up front: it serializes publishers, so the latest version
        // read below cannot move before the insert.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(answer) = claim_key(&mut tx, tenant, idempotency.as_ref(), now).await? {
            return Ok(Applied::Replayed(answer));
        }
        let has_backup: bool = sqlx::query_scalar(
            "SELECT backup_supplier_id IS NOT NULL FROM suppliers \
             WHERE tenant_id = $1 AND supplier_id = $2",
        )
        .bind(tenant.as_str())
        .bind(new.supplier.as_uuid().to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| unknown_supplier(new.supplier))?;
        let latest = sqlx::query(
            "SELECT version, effective_from FROM contract_versions \
             WHERE tenant_id = $1 AND supplier_id = $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(tenant.as_str())
        .bind(new.supplier.as_uuid().to_string())
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| Ok::<_, StoreError>((r.try_get("version")?, ts_col(&r, "effective_from")?)))
        .transpose()?;
        let current = latest.map_or(0, |(v, _)| v);
        if let Some(expected) = new.expected_latest_version
            && expected != current
        {
            return Err(DomainError::VersionConflict { expected, current }.into());
        }
        // A correction (earlier than the latest version, or in the past) needs the supplier's newest
        // return: it may not reach back over a decided one.
        let last_return_at = if is_correction(effective_from, latest, now) {
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT MAX(created_at) FROM returns WHERE tenant_id = $1 AND supplier_id = $2",
            )
            .bind(tenant.as_str())
            .bind(new.supplier.as_uuid().to_string())
            .fetch_one(&mut *tx)
            .await?
            .as_deref()
            .map(parse_ts)
            .transpose()?
        } else {
            None
        };
        check_effective_from(effective_from, latest, now, last_return_at)?;
        if new.requires_backup && !has_backup {
            return Err(failover_without_backup().into());
        }
        sqlx::query(
            "INSERT INTO contract_versions \
             (tenant_id, supplier_id, version, effective_from, terms, description, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tenant.as_str())
        .bind(new.supplier.as_uuid().to_string())
        .bind(current + 1)
        .bind(ts(effective_from))
        .bind(&new.terms)
        .bind(&new.description)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        let published = StoredContract {
            supplier: new.supplier,
            version: current + 1,
            effective_from,
            effective_until: None,
            terms: new.terms,
            description: new.description,
            published_at: now,
        };
        record_answer(&mut tx, tenant, idempotency.as_ref(), &published).await?;
        tx.commit().await?;
        Ok(Applied::New(published))
    }

    async fn list_contract_versions(
        &self,
        tenant: &TenantId,
        supplier: SupplierId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredContract>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        require_supplier(&mut conn, tenant, supplier).await?;
        sqlx::query(concat!(
            "SELECT ",
            contract_columns!(),
            " FROM contract_versions c WHERE c.tenant_id = $1 AND c.supplier_id = $2 \
             AND ($3 IS NULL OR c.version < $3) ORDER BY c.version DESC LIMIT $4"
        ))
        .bind(tenant.as_str())
        .bind(supplier.as_uuid().to_string())
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(contract_row)
        .collect()
    }

    async fn contract_in_effect(
        &self,
        tenant: &TenantId,
        supplier: SupplierId,
        at: DateTime<Utc>,
    ) -> Result<Option<StoredContract>, StoreError> {
        // One round trip on the AuthorizeReturn path: the outer join tells an unknown supplier (no
        // row) from a known one with no version in effect (a row of NULLs, which sort last).
        let row = sqlx::query(concat!(
            "SELECT s.supplier_id AS known, ",
            contract_columns!(),
            " FROM suppliers s LEFT JOIN contract_versions c ON c.tenant_id = s.tenant_id \
             AND c.supplier_id = s.supplier_id AND c.effective_from <= $3 \
             WHERE s.tenant_id = $1 AND s.supplier_id = $2 ORDER BY c.version DESC LIMIT 1"
        ))
        .bind(tenant.as_str())
        .bind(supplier.as_uuid().to_string())
        .bind(ts(at))
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| unknown_supplier(supplier))?;
        match row.try_get::<Option<i64>, _>("version")? {
            Some(_) => contract_row(&row).map(Some),
            None => Ok(None),
        }
    }

    async fn contract_version(
        &self,
        tenant: &TenantId,
        supplier: SupplierId,
        version: i64,
    ) -> Result<Option<StoredContract>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        require_supplier(&mut conn, tenant, supplier).await?;
        sqlx::query(concat!(
            "SELECT ",
            contract_columns!(),
            " FROM contract_versions c WHERE c.tenant_id = $1 AND c.supplier_id = $2 AND c.version = $3"
        ))
        .bind(tenant.as_str())
        .bind(supplier.as_uuid().to_string())
        .bind(version)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(contract_row)
        .transpose()
    }

    async fn seller_settings(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<StoredSettings>, StoreError> {
        sqlx::query(
            "SELECT settings, version, updated_at, event_webhook_secret FROM seller_settings \
             WHERE tenant_id = $1",
        )
        .bind(tenant.as_str())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(settings_row)
        .transpose()
    }

    async fn seller_settings_version(
        &self,
        tenant: &TenantId,
        version: i64,
    ) -> Result<Option<StoredSettings>, StoreError> {
        sqlx::query(
            "SELECT settings, version, recorded_at AS updated_at, CAST(NULL AS TEXT) AS event_webhook_secret \
             FROM seller_settings_versions WHERE tenant_id = $1 AND version = $2",
        )
        .bind(tenant.as_str())
        .bind(version)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(settings_row)
        .transpose()
    }

    async fn update_seller_settings(
        &self,
        tenant: &TenantId,
        expected_version: Option<i64>,
        change: SettingsChange<'_>,
        now: DateTime<Utc>,
        idempotency: Option<IdempotencyClaim<'_, StoredSettings>>,
    ) -> Result<Applied<StoredSettings>, StoreError> {
        let now = stored_precision(now);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(answer) = claim_key(&mut tx, tenant, idempotency.as_ref(), now).await? {
            return Ok(Applied::Replayed(answer));
        }
        let current = sqlx::query(
            "SELECT settings, version, updated_at, event_webhook_secret FROM seller_settings \
             WHERE tenant_id = $1",
        )
        .bind(tenant.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(settings_row)
        .transpose()?;
        let version = current.as_ref().map_or(0, |c| c.version);
        if let Some(expected) = expected_version
            && expected != version
        {
            return Err(DomainError::VersionConflict {
                expected,
                current: version,
            }
            .into());
        }
        let write = change(current.as_ref())?;
        sqlx::query(
            "INSERT INTO seller_settings (tenant_id, settings, version, updated_at, event_webhook_secret) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET settings = $2, \
             version = $3, updated_at = $4, event_webhook_secret = $5",
        )
        .bind(tenant.as_str())
        .bind(&write.document)
        .bind(version + 1)
        .bind(ts(now))
        .bind(&write.event_webhook_secret)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO seller_settings_versions (tenant_id, version, settings, recorded_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant.as_str())
        .bind(version + 1)
        .bind(&write.document)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        if write.event_webhook_secret.is_some() {
            // The event webhook's cursor starts at the tenant's latest event: a new webhook gets
            // what happens from now on, not the history.
            sqlx::query(
                "INSERT INTO seller_event_cursors (tenant_id, last_seq) \
                 SELECT tenant_id, last_event_seq FROM tenants WHERE tenant_id = $1 \
                 ON CONFLICT (tenant_id) DO NOTHING",
            )
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let stored = StoredSettings {
            document: write.document,
            version: version + 1,
            updated_at: now,
            event_webhook_secret: write.event_webhook_secret,
        };
        record_answer(&mut tx, tenant, idempotency.as_ref(), &stored).await?;
        tx.commit().await?;
        Ok(Applied::New(stored))
    }
}
