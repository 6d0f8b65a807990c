//! Row shapes both backends read into, and their one conversion back into the domain.

use crate::StoreError;
use chrono::{DateTime, Utc};
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::{ApiKeyId, SupplierId, TenantId};
use returnbridge_domain::supplier::{
    Connector, DeliveryPolicy, DisplayName, EndpointUrl, Supplier,
};
use uuid::Uuid;

pub(crate) const CONNECTOR_WEBHOOK: &str = "webhook";
pub(crate) const CONNECTOR_GRPC: &str = "grpc";

/// The stored form of a connector: its kind and its URL.
pub(crate) fn connector_columns(c: &Connector) -> (&'static str, &str) {
    match c {
        Connector::Webhook { url } => (CONNECTOR_WEBHOOK, url.as_str()),
        Connector::Grpc { endpoint } => (CONNECTOR_GRPC, endpoint.as_str()),
    }
}

/// The stored form of a delivery policy: `{"retry_delays_secs": [...], "max_per_second": n}`, or
/// NULL for the defaults.
pub(crate) fn delivery_column(p: &DeliveryPolicy) -> Option<String> {
    if *p == DeliveryPolicy::default() {
        return None;
    }
    let delays: Option<Vec<u64>> = p
        .retry_delays
        .as_ref()
        .map(|d| d.iter().map(std::time::Duration::as_secs).collect());
    Some(
        serde_json::json!({"retry_delays_secs": delays, "max_per_second": p.max_per_second})
            .to_string(),
    )
}

pub(crate) fn delivery_policy(raw: Option<&str>) -> Result<DeliveryPolicy, StoreError> {
    let Some(raw) = raw else {
        return Ok(DeliveryPolicy::default());
    };
    #[derive(serde::Deserialize)]
    struct Stored {
        retry_delays_secs: Option<Vec<u64>>,
        max_per_second: Option<u32>,
    }
    let stored: Stored = serde_json::from_str(raw)
        .map_err(|e| StoreError::Corrupt(format!("suppliers.delivery_policy: {e}")))?;
    Ok(DeliveryPolicy {
        retry_delays: stored
            .retry_delays_secs
            .map(|d| d.into_iter().map(std::time::Duration::from_secs).collect()),
        max_per_second: stored.max_per_second,
    })
}

pub(crate) struct SupplierRow {
    pub tenant_id: String,
    pub supplier_id: Uuid,
    pub display_name: String,
    pub connector_kind: String,
    pub connector_url: String,
    pub backup_supplier_id: Option<Uuid>,
    pub delivery_policy: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<SupplierRow> for Supplier {
    type Error = StoreError;

    fn try_from(r: SupplierRow) -> Result<Self, StoreError> {
        let url =
            EndpointUrl::parse(&r.connector_url).map_err(corrupt("suppliers.connector_url"))?;
        let connector = match r.connector_kind.as_str() {
            CONNECTOR_WEBHOOK => Connector::Webhook { url },
            CONNECTOR_GRPC => Connector::Grpc { endpoint: url },
            other => {
                return Err(StoreError::Corrupt(format!(
                    "suppliers.connector_kind {other:?}"
                )));
            }
        };
        Ok(Supplier {
            id: SupplierId::from_uuid(r.supplier_id),
            tenant: TenantId::parse(&r.tenant_id).map_err(corrupt("suppliers.tenant_id"))?,
            display_name: DisplayName::parse(&r.display_name)
                .map_err(corrupt("suppliers.display_name"))?,
            connector,
            backup: r.backup_supplier_id.map(SupplierId::from_uuid),
            delivery: delivery_policy(r.delivery_policy.as_deref())?,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(crate) struct ApiKeyRow {
    pub key_id: Uuid,
    pub tenant_id: String,
    pub supplier_id: Option<Uuid>,
    pub name: String,
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<ApiKeyRow> for crate::ApiKeyRecord {
    type Error = StoreError;

    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(crate::ApiKeyRecord {
            id: ApiKeyId::from_uuid(r.key_id),
            tenant: TenantId::parse(&r.tenant_id).map_err(corrupt("api_keys.tenant_id"))?,
            supplier: r.supplier_id.map(SupplierId::from_uuid),
            name: r.name,
            scopes: Scope::parse_list(&r.scopes).map_err(corrupt("api_keys.scopes"))?,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        })
    }
}

fn corrupt(column: &'static str) -> impl Fn(String) -> StoreError {
    move |why| StoreError::Corrupt(format!("{column}: {why}"))
}

/// Both backends keep microseconds; truncating first makes what a write returns equal what a read
/// returns later.
pub(crate) fn stored_precision(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}
