//! Baselines below the gRPC server, in the same run and with the same stored bytes:
//! - `store_calls`: the calls AuthorizeReturn makes on the store (the API key, the contract in
//!   effect, the seller settings, then `authorize_return`), with no gRPC and no decision;
//! - `bare_sqlx`: only the authorization transaction, statement for statement as the store runs
//!   it (the SQL text is copied from services/store/src/{postgres,sqlite}/returns.rs and mod.rs),
//!   on a fresh database and a pool configured as the server's.

use crate::app::{App, FreshStore, Sample};
use crate::drive::{Measured, closed_loop};
use crate::{Args, Backend};
use chrono::{DateTime, Duration as Days, Utc};
use returnbridge_domain::ids::{ReturnId, SupplierId};
use returnbridge_domain::lifecycle::ReturnStatus;
use returnbridge_domain::order::OrderRef;
use returnbridge_domain::returns::Return;
use returnbridge_store::{
    IdempotencyClaim, NewEvent, NewOutboxMessage, NewReturn, PgStore, ReturnedSoFar, SqliteStore,
    Store, StoreOptions,
};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use uuid::Uuid;

/// The SKU every benchmark return takes back (the fixture order's tee), and how many.
const SKU: &str = "TEE-M";
const UNITS: i64 = 2;

/// The store's calls for one authorization, as services/api/src/returns/authorize.rs makes them.
pub async fn store_calls(
    app: &App,
    sample: &Sample,
    concurrency: usize,
    duration: Duration,
    label: &str,
) -> Measured {
    let store = app.store.clone();
    let seeds: Arc<Vec<_>> = Arc::new(
        app.seeds
            .iter()
            .map(|s| (s.tenant.clone(), s.key_hash, s.supplier))
            .collect(),
    );
    let sample = Arc::new(sample.clone());
    let next = Arc::new(AtomicU64::new(0));
    closed_loop(concurrency, duration, label, move |w| {
        let (store, seeds, sample, next) =
            (store.clone(), seeds.clone(), sample.clone(), next.clone());
        async move {
            let (tenant, hash, supplier) = &seeds[w % seeds.len()];
            let n = next.fetch_add(1, Ordering::Relaxed);
            let now = Utc::now();
            let fail = |e: returnbridge_store::StoreError| format!("{e}");
            store.find_api_key(hash).await.map_err(fail)?;
            store
                .contract_in_effect(tenant, *supplier, now - Days::days(8))
                .await
                .map_err(fail)?;
            store.seller_settings(tenant).await.map_err(fail)?;
            let order_id = format!("store-{n}");
            let plan = |_: &ReturnedSoFar| Ok(new_return(&sample, *supplier, &order_id, now));
            let response = sample.response.clone();
            let encode = move |_: &Return| Ok(response.clone());
            let key = Uuid::new_v4().to_string();
            store
                .authorize_return(
                    tenant,
                    &order_id,
                    &[SKU.to_owned()],
                    &plan,
                    now,
                    Some(IdempotencyClaim {
                        key: &key,
                        request_hash: sample.request_hash[..32].try_into().unwrap_or([0; 32]),
                        encode: &encode,
                    }),
                )
                .await
                .map(|_| ())
                .map_err(fail)
        }
    })
    .await
}

fn new_return(
    sample: &Sample,
    supplier: SupplierId,
    order_id: &str,
    now: DateTime<Utc>,
) -> NewReturn {
    NewReturn {
        ret: {
            let mut ret = sample.ret.clone();
            ret.id = ReturnId::generate();
            ret.supplier = supplier;
            ret.request.order.supplier = supplier;
            if let Ok(order) = OrderRef::parse(order_id) {
                ret.request.order.order_id = order;
            }
            ret.ship_by = Some(now + Days::days(14));
            ret.created_at = now;
            ret.updated_at = now;
            ret
        },
        event: NewEvent {
            event_type: "DECIDED".into(),
            actor: sample.actor.clone(),
            from_status: Some(ReturnStatus::Requested),
            to_status: Some(ReturnStatus::Authorized),
            occurred_at: now,
            detail: sample.detail.clone(),
        },
        outbox: Some(NewOutboxMessage {
            message_id: Uuid::now_v7(),
            supplier,
            kind: "NOTICE".into(),
            payload: sample.payload.clone(),
            available_at: now,
        }),
        reserve: vec![(SKU.to_owned(), UNITS)],
    }
}

/// The scratch databases' tenant `i`: `bench-seller-<i>`.
pub fn tenant_name(i: usize) -> String {
    format!("bench-seller-{i}")
}

/// Tenant `i`'s one supplier: the UUID whose value is `i + 1` (pgbench computes the same id as
/// `lpad(to_hex(i + 1), 32, '0')::uuid`).
pub fn supplier_of(i: usize) -> Uuid {
    Uuid::from_u128(i as u128 + 1)
}

/// The scratch databases' tenants and suppliers, written with plain SQL.
const SEED_TENANT: &str =
    "INSERT INTO tenants (tenant_id, created_at, last_event_seq) VALUES ($1, $2, 0)";
const SEED_SUPPLIER: &str = "INSERT INTO suppliers (tenant_id, supplier_id, display_name, connector_kind, \
     connector_url, webhook_secret, backup_supplier_id, version, created_at, updated_at) \
     VALUES ($1, $2, 'Acme Supply', 'webhook', 'https://acme.example/returns', 'whsec_x', NULL, 1, $3, $3)";

/// The bare-sqlx baseline's pool: the server's (`size` = its pool, `ping` = sqlx's default
/// `test_before_acquire`, one round trip per acquire) or a variant of it, to see what each costs.
#[derive(Debug, Clone, Copy)]
pub struct PoolSetup {
    pub size: u32,
    pub ping: bool,
}

/// The authorization transaction alone, through sqlx, on a fresh database.
pub async fn bare_sqlx(
    args: &Args,
    sample: &Sample,
    tenants: usize,
    concurrency: usize,
    setup: PoolSetup,
    duration: Duration,
    label: &str,
) -> anyhow::Result<Measured> {
    let fresh = FreshStore::create(args.database, &args.pg_url).await?;
    let options = StoreOptions {
        max_connections: setup.size,
        ..StoreOptions::default()
    };
    let sample = Arc::new(sample.clone());
    let next = Arc::new(AtomicU64::new(0));
    let names: Arc<Vec<String>> = Arc::new((0..tenants).map(tenant_name).collect());
    let measured = match args.database {
        Backend::Postgres => {
            let store = PgStore::connect(&fresh.url, &options).await?;
            store.migrate().await?;
            for (i, name) in names.iter().enumerate() {
                sqlx::query(SEED_TENANT)
                    .bind(name)
                    .bind(Utc::now())
                    .execute(store.pool())
                    .await?;
                sqlx::query(SEED_SUPPLIER)
                    .bind(name)
                    .bind(supplier_of(i))
                    .bind(Utc::now())
                    .execute(store.pool())
                    .await?;
            }
            let pool = if setup.ping {
                store.pool().clone()
            } else {
                store.pool().close().await;
                PgPoolOptions::new()
                    .max_connections(setup.size)
                    .test_before_acquire(false)
                    .connect(&fresh.url)
                    .await?
            };
            let m = closed_loop(concurrency, duration, label, {
                let pool = pool.clone();
                move |w| {
                    let (pool, sample, names) = (pool.clone(), sample.clone(), names.clone());
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    async move {
                        pg_authorize(&pool, &sample, &names, w % names.len(), n)
                            .await
                            .map_err(|e| e.to_string())
                    }
                }
            })
            .await;
            pool.close().await;
            m
        }
        Backend::Sqlite => {
            let store = SqliteStore::connect(&fresh.url, &options).await?;
            store.migrate().await?;
            for (i, name) in names.iter().enumerate() {
                sqlx::query(SEED_TENANT)
                    .bind(name)
                    .bind(ts(Utc::now()))
                    .execute(store.pool())
                    .await?;
                sqlx::query(SEED_SUPPLIER)
                    .bind(name)
                    .bind(supplier_of(i).to_string())
                    .bind(ts(Utc::now()))
                    .execute(store.pool())
                    .await?;
            }
            let pool = if setup.ping {
                store.pool().clone()
            } else {
                store.pool().close().await;
                // The connect options of SqliteStore::connect, with only the ping left out.
                let connect = SqliteConnectOptions::from_str(&fresh.url)?
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true);
                SqlitePoolOptions::new()
                    .max_connections(setup.size)
                    .test_before_acquire(false)
                    .connect_with(connect)
                    .await?
            };
            let m = closed_loop(concurrency, duration, label, {
                let pool = pool.clone();
                move |w| {
                    let (pool, sample, names) = (pool.clone(), sample.clone(), names.clone());
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    async move {
                        sqlite_authorize(&pool, &sample, &names, w % names.len(), n)
                            .await
                            .map_err(|e| e.to_string())
                    }
                }
            })
            .await;
            pool.close().await;
            m
        }
    };
    fresh.remove().await?;
    Ok(measured)
}

/// services/store/src/postgres/returns.rs `authorize_return`, with its SQL verbatim.
async fn pg_authorize(
    pool: &PgPool,
    s: &Sample,
    names: &[String],
    t: usize,
    n: u64,
) -> Result<(), sqlx::Error> {
    let (tenant, now) = (names[t].as_str(), Utc::now());
    let (key, order_id) = (Uuid::new_v4().to_string(), format!("sqlx-{n}"));
    let (return_id, supplier) = (Uuid::now_v7(), supplier_of(t));
    let skus = vec![SKU.to_owned()];
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO idempotency_records (tenant_id, idempotency_key, request_hash, response, created_at) \
         VALUES ($1, $2, $3, '', $4) ON CONFLICT DO NOTHING",
    )
    .bind(tenant).bind(&key).bind(&s.request_hash).bind(now)
    .execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO returned_units (tenant_id, order_id, sku, quantity) \
         SELECT $1, $2, sku, 0 FROM unnest($3::text[]) AS sku ON CONFLICT DO NOTHING",
    )
    .bind(tenant)
    .bind(&order_id)
    .bind(&skus)
    .execute(&mut *tx)
    .await?;
    let _so_far: Vec<(String, i64)> = sqlx::query_as(
        "SELECT sku, quantity FROM returned_units \
         WHERE tenant_id = $1 AND order_id = $2 AND sku = ANY($3) ORDER BY sku FOR UPDATE",
    )
    .bind(tenant)
    .bind(&order_id)
    .bind(&skus)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE returned_units SET quantity = GREATEST(quantity + $4, 0) \
         WHERE tenant_id = $1 AND order_id = $2 AND sku = $3",
    )
    .bind(tenant)
    .bind(&order_id)
    .bind(SKU)
    .bind(UNITS)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO returns (tenant_id, return_id, supplier_id, order_id, reason, status, version, \
         contract_version, statutory_profile, currency, ship_by, document, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, '', '', $8, $9, $10, $11)",
    )
    .bind(tenant).bind(return_id).bind(supplier).bind(&order_id).bind("CHANGED_MIND")
    .bind("AUTHORIZED").bind(1_i64).bind(now + Days::days(14)).bind(&s.document).bind(now).bind(now)
    .execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO outbox (message_id, tenant_id, supplier_id, return_id, kind, payload, created_at, available_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7()).bind(tenant).bind(supplier).bind(return_id).bind("NOTICE")
    .bind(&s.payload).bind(now).bind(now)
    .execute(&mut *tx).await?;
    sqlx::query("UPDATE idempotency_records SET response = $3 WHERE tenant_id = $1 AND idempotency_key = $2")
        .bind(tenant).bind(&key).bind(&s.response)
        .execute(&mut *tx).await?;
    let seq: i64 = sqlx::query_scalar(
        "UPDATE tenants SET last_event_seq = last_event_seq + 1 WHERE tenant_id = $1 RETURNING last_event_seq",
    )
    .bind(tenant)
    .fetch_one(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO return_events (tenant_id, seq, return_id, event_type, actor, from_status, to_status, \
         occurred_at, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant).bind(seq).bind(return_id).bind("DECIDED").bind(&s.actor).bind("REQUESTED")
    .bind("AUTHORIZED").bind(now).bind(&s.detail)
    .execute(&mut *tx).await?;
    tx.commit().await
}

/// services/store/src/sqlite/returns.rs `authorize_return`, with its SQL verbatim.
async fn sqlite_authorize(
    pool: &SqlitePool,
    s: &Sample,
    names: &[String],
    t: usize,
    n: u64,
) -> Result<(), sqlx::Error> {
    let (tenant, now) = (names[t].as_str(), ts(Utc::now()));
    let ship_by = ts(Utc::now() + Days::days(14));
    let (key, order_id) = (Uuid::new_v4().to_string(), format!("sqlx-{n}"));
    let (return_id, supplier) = (Uuid::now_v7().to_string(), supplier_of(t).to_string());
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "INSERT INTO idempotency_records (tenant_id, idempotency_key, request_hash, response, created_at) \
         VALUES ($1, $2, $3, '', $4) ON CONFLICT DO NOTHING",
    )
    .bind(tenant).bind(&key).bind(&s.request_hash).bind(&now)
    .execute(&mut *tx).await?;
    let quantity: Option<i64> = sqlx::query_scalar(
        "SELECT quantity FROM returned_units WHERE tenant_id = $1 AND order_id = $2 AND sku = $3",
    )
    .bind(tenant)
    .bind(&order_id)
    .bind(SKU)
    .fetch_optional(&mut *tx)
    .await?;
    if quantity.is_none() {
        sqlx::query("INSERT INTO returned_units (tenant_id, order_id, sku, quantity) VALUES ($1, $2, $3, 0)")
            .bind(tenant).bind(&order_id).bind(SKU)
            .execute(&mut *tx).await?;
    }
    sqlx::query(
        "UPDATE returned_units SET quantity = MAX(quantity + $4, 0) \
         WHERE tenant_id = $1 AND order_id = $2 AND sku = $3",
    )
    .bind(tenant)
    .bind(&order_id)
    .bind(SKU)
    .bind(UNITS)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO returns (tenant_id, return_id, supplier_id, order_id, reason, status, version, \
         contract_version, statutory_profile, currency, ship_by, document, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, '', '', $8, $9, $10, $11)",
    )
    .bind(tenant).bind(&return_id).bind(&supplier).bind(&order_id).bind("CHANGED_MIND")
    .bind("AUTHORIZED").bind(1_i64).bind(&ship_by).bind(&s.document).bind(&now).bind(&now)
    .execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO outbox (message_id, tenant_id, supplier_id, return_id, kind, payload, created_at, available_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7().to_string()).bind(tenant).bind(&supplier).bind(&return_id).bind("NOTICE")
    .bind(&s.payload).bind(&now).bind(&now)
    .execute(&mut *tx).await?;
    sqlx::query("UPDATE idempotency_records SET response = $3 WHERE tenant_id = $1 AND idempotency_key = $2")
        .bind(tenant).bind(&key).bind(&s.response)
        .execute(&mut *tx).await?;
    let seq: i64 = sqlx::query_scalar(
        "UPDATE tenants SET last_event_seq = last_event_seq + 1 WHERE tenant_id = $1 RETURNING last_event_seq",
    )
    .bind(tenant)
    .fetch_one(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO return_events (tenant_id, seq, return_id, event_type, actor, from_status, to_status, \
         occurred_at, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant).bind(seq).bind(&return_id).bind("DECIDED").bind(&s.actor).bind("REQUESTED")
    .bind("AUTHORIZED").bind(&now).bind(&s.detail)
    .execute(&mut *tx).await?;
    tx.commit().await
}

/// The SQLite store's instant format (fixed-width UTC text).
fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
