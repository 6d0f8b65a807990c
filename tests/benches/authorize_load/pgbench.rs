//! The PostgreSQL baseline: pgbench (a C client, a process of its own) running the authorization
//! transaction of services/store/src/postgres/returns.rs statement for statement, with the stored
//! bytes of a real authorization, on a scratch database with the migrated schema.

use crate::Backend;
use crate::app::{FreshStore, Sample};
use crate::baseline::{supplier_of, tenant_name};
use crate::cpu::CpuMark;
use crate::drive::{Measured, histogram};
use anyhow::Context;
use chrono::Utc;
use returnbridge_store::{PgStore, Store, StoreOptions};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// One authorization. `:t` picks the seller, `:n` makes the order and idempotency key unique. Ids
/// are time-ordered like the store's v7 UUIDs (milliseconds first), so index inserts stay local;
/// `RETURNING return_id \gset` reuses the id without an extra round trip.
const SCRIPT: &str = r"\set t random(0, :tenants - 1)
\set n random(1, 9000000000000000000)
BEGIN;
INSERT INTO idempotency_records (tenant_id, idempotency_key, request_hash, response, created_at) VALUES ('bench-seller-' || CAST(:t AS text), md5('key' || CAST(:n AS text)), :hash, '', now()) ON CONFLICT DO NOTHING;
INSERT INTO returned_units (tenant_id, order_id, sku, quantity) SELECT 'bench-seller-' || CAST(:t AS text), 'pgbench-' || CAST(:n AS text), sku, 0 FROM unnest(ARRAY['TEE-M']::text[]) AS sku ON CONFLICT DO NOTHING;
SELECT sku, quantity FROM returned_units WHERE tenant_id = 'bench-seller-' || CAST(:t AS text) AND order_id = 'pgbench-' || CAST(:n AS text) AND sku = ANY(ARRAY['TEE-M']::text[]) ORDER BY sku FOR UPDATE;
UPDATE returned_units SET quantity = GREATEST(quantity + 2, 0) WHERE tenant_id = 'bench-seller-' || CAST(:t AS text) AND order_id = 'pgbench-' || CAST(:n AS text) AND sku = 'TEE-M';
INSERT INTO returns (tenant_id, return_id, supplier_id, order_id, reason, status, version, contract_version, statutory_profile, currency, ship_by, document, created_at, updated_at) VALUES ('bench-seller-' || CAST(:t AS text), CAST(lpad(to_hex(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') || substr(md5('r' || CAST(:n AS text)), 13) AS uuid), CAST(lpad(to_hex(CAST(:t AS int) + 1), 32, '0') AS uuid), 'pgbench-' || CAST(:n AS text), 'CHANGED_MIND', 'AUTHORIZED', 1, 0, '', '', now() + interval '14 days', :doc, now(), now()) RETURNING return_id \gset
INSERT INTO outbox (message_id, tenant_id, supplier_id, return_id, kind, payload, created_at, available_at) VALUES (CAST(lpad(to_hex(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') || substr(md5('m' || CAST(:n AS text)), 13) AS uuid), 'bench-seller-' || CAST(:t AS text), CAST(lpad(to_hex(CAST(:t AS int) + 1), 32, '0') AS uuid), :return_id, 'NOTICE', :payload, now(), now());
UPDATE idempotency_records SET response = :resp WHERE tenant_id = 'bench-seller-' || CAST(:t AS text) AND idempotency_key = md5('key' || CAST(:n AS text));
UPDATE tenants SET last_event_seq = last_event_seq + 1 WHERE tenant_id = 'bench-seller-' || CAST(:t AS text) RETURNING last_event_seq \gset
INSERT INTO return_events (tenant_id, seq, return_id, event_type, actor, from_status, to_status, occurred_at, detail) VALUES ('bench-seller-' || CAST(:t AS text), :last_event_seq, :return_id, 'DECIDED', :actor, 'REQUESTED', 'AUTHORIZED', now(), :detail);
END;
";

/// pgbench at `clients` connections (closed loop), or at `rate` transactions a second when given
/// (pgbench then times each transaction from its scheduled start, as the open loop does).
pub async fn run(
    pg_url: &str,
    sample: &Sample,
    tenants: usize,
    clients: usize,
    rate: Option<u64>,
    duration: Duration,
) -> anyhow::Result<Measured> {
    let fresh = FreshStore::create(Backend::Postgres, pg_url).await?;
    let store = PgStore::connect(&fresh.url, &StoreOptions::default()).await?;
    store.migrate().await?;
    for t in 0..tenants {
        sqlx::query("INSERT INTO tenants (tenant_id, created_at) VALUES ($1, $2)")
            .bind(tenant_name(t))
            .bind(Utc::now())
            .execute(store.pool())
            .await?;
        sqlx::query(
            "INSERT INTO suppliers (tenant_id, supplier_id, display_name, connector_kind, connector_url, \
             webhook_secret, version, created_at, updated_at) \
             VALUES ($1, $2, 'Acme Supply', 'webhook', 'https://acme.example/returns', 'whsec_x', 1, $3, $3)",
        )
        .bind(tenant_name(t))
        .bind(supplier_of(t))
        .bind(Utc::now())
        .execute(store.pool())
        .await?;
    }
    store.pool().close().await;

    let dir = std::env::temp_dir().join(format!(
        "returnbridge-pgbench-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("authorize.sql");
    std::fs::write(&script, SCRIPT)?;
    let bytea = |b: &[u8]| format!("\\x{}", hex::encode(b));
    let mut cmd = tokio::process::Command::new("pgbench");
    cmd.arg("--no-vacuum")
        .args(["--protocol", "prepared"])
        .args(["--client", &clients.to_string()])
        .args(["--jobs", &clients.min(2).to_string()])
        .args(["--time", &duration.as_secs().to_string()])
        .args(["--progress", "1"])
        .arg("--log")
        .arg(format!("--log-prefix={}", dir.join("txn").display()))
        .arg(format!("--file={}", script.display()))
        .arg(format!("--define=tenants={tenants}"))
        .arg(format!("--define=hash={}", bytea(&sample.request_hash)))
        .arg(format!("--define=doc={}", bytea(&sample.document)))
        .arg(format!("--define=payload={}", bytea(&sample.payload)))
        .arg(format!("--define=resp={}", bytea(&sample.response)))
        .arg(format!("--define=detail={}", bytea(&sample.detail)))
        .arg(format!("--define=actor={}", sample.actor));
    if let Some(rate) = rate {
        cmd.args(["--rate", &rate.to_string()]);
    }
    cmd.arg(&fresh.url);
    let what = match rate {
        Some(r) => format!("pgbench t={tenants} {r}/s (c={clients})"),
        None => format!("pgbench t={tenants} c={clients}"),
    };
    eprintln!("  [{what}] running for {} s", duration.as_secs());
    let mark = CpuMark::now();
    let out = cmd
        .output()
        .await
        .context("running pgbench (apt-get install postgresql-client)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr.lines().filter(|l| l.starts_with("progress:")) {
        eprintln!("  [{what}] {line}");
    }
    anyhow::ensure!(out.status.success(), "pgbench failed:\n{stdout}\n{stderr}");
    let mut measured = parse(&stdout, &dir, duration)?;
    measured.cpu = mark.since();
    let _ = std::fs::remove_dir_all(&dir);
    fresh.remove().await?;
    Ok(measured)
}

/// Throughput from pgbench's summary ("tps = ... (without initial connection time)"), latency
/// from its per-transaction log: `client txn latency_us script epoch_s epoch_us [lag_us]`.
fn parse(stdout: &str, dir: &Path, duration: Duration) -> anyhow::Result<Measured> {
    let field = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    let tps = field("tps =").context("no tps in pgbench output")?;
    let failed = field("number of failed transactions:").unwrap_or(0.0) as u64;
    let mut latency_us = histogram();
    let mut ok = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("txn"))
        {
            continue;
        }
        for line in std::fs::read_to_string(&path)?.lines() {
            if let Some(us) = line
                .split_whitespace()
                .nth(2)
                .and_then(|v| v.parse::<u64>().ok())
            {
                latency_us.saturating_record(us.max(1));
                ok += 1;
            }
        }
    }
    let mut errors = BTreeMap::new();
    if failed > 0 {
        errors.insert("failed".to_owned(), failed);
    }
    Ok(Measured {
        ok,
        errors,
        elapsed: duration,
        latency_us,
        reported_tps: Some(tps),
        cpu: None,
    })
}
