//! `authorize-load`: how many AuthorizeReturn calls per second the real server sustains, and at what
//! latency, beside what the database alone does with the same transaction (BENCHMARKS.md).
//!
//! The server runs in this process on `127.0.0.1:0` over a fresh store; the client drives it over
//! HTTP/2 on several channels, closed loop (fixed concurrency -> throughput) and open loop (fixed
//! rate, latency counted from each call's intended send time so a stall is not hidden by the client
//! waiting for it). The baselines run in the same invocation: pgbench with the store's transaction
//! (PostgreSQL), the same statements through bare sqlx, and the store's own calls without gRPC.

mod app;
mod baseline;
mod cpu;
mod drive;
mod pgbench;
mod report;

use anyhow::Context;
use baseline::PoolSetup;
use clap::{Parser, ValueEnum};
use report::{Kind, Mode, Report, Row};
use std::time::Duration;

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(about = "AuthorizeReturn load generator with in-run database baselines")]
pub struct Args {
    /// Store backend under the server.
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    database: Backend,
    /// PostgreSQL server on which a scratch database per measurement is created (and dropped).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_url: String,
    /// Length of each measured phase.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Unmeasured load before the first phase (connections, caches, prepared statements).
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Calls in flight for the closed-loop phases (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "32,64")]
    concurrency: Vec<usize>,
    /// Calls per second for the open-loop phases (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    rate: Vec<u64>,
    /// Sellers the load is spread over, one server per value (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    tenants: Vec<usize>,
    /// HTTP/2 connections the client spreads calls over.
    #[arg(long, default_value_t = 4)]
    channels: usize,
    /// The server's database pool size (`database.max_connections`).
    #[arg(long, default_value_t = 16)]
    pool_size: u32,
    /// Only the gRPC measurements.
    #[arg(long)]
    no_baselines: bool,
    /// Passed by `cargo bench` to every bench target; nothing to do with it.
    #[arg(long, hide = true)]
    bench: bool,
    /// Also the diagnostic variants of the bare-sqlx baseline: without sqlx's ping on pool
    /// acquire, and (SQLite) through a single connection.
    #[arg(long)]
    diagnostics: bool,
}

/// Which store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// A new SQLite file in the temp directory.
    Sqlite,
    /// A scratch database on `--pg-url`.
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        !args.concurrency.is_empty() && !args.tenants.is_empty(),
        "--concurrency and --tenants need at least one value"
    );
    let duration = Duration::from_secs(args.duration_secs);
    let mut report = Report::new(&args);
    for &tenants in &args.tenants {
        let app = app::App::start(&args, tenants)
            .await
            .with_context(|| format!("starting the server over {}", args.database.name()))?;
        let warmup = *args.concurrency.iter().max().unwrap_or(&32);
        drive::closed(
            &app.target,
            warmup,
            Duration::from_secs(args.warmup_secs),
            "warm-up",
        )
        .await;
        let sample = app.sample().await.context("reading back a stored return")?;
        eprintln!("row sizes: {}", sample.describe());
        for &c in &args.concurrency {
            let label = format!("grpc t={tenants} c={c}");
            let m = drive::closed(&app.target, c, duration, &label).await;
            report.push(Row::new(Kind::Grpc, Mode::Closed(c), tenants, m));
        }
        for &rate in &args.rate {
            let label = format!("grpc t={tenants} {rate}/s");
            let m = drive::open(&app.target, rate, duration, &label).await;
            report.push(Row::new(Kind::Grpc, Mode::Open(rate), tenants, m));
        }
        if !args.no_baselines {
            for &c in &args.concurrency {
                let label = format!("store t={tenants} c={c}");
                let m = baseline::store_calls(&app, &sample, c, duration, &label).await;
                report.push(Row::new(Kind::Store, Mode::Closed(c), tenants, m));
            }
        }
        app.stop().await?;
        if args.no_baselines {
            continue;
        }
        for &c in &args.concurrency {
            let server = PoolSetup {
                size: args.pool_size,
                ping: true,
            };
            let mut variants = vec![(Kind::Sqlx, server)];
            if args.diagnostics {
                variants.push((
                    Kind::SqlxNoPing,
                    PoolSetup {
                        ping: false,
                        ..server
                    },
                ));
                if args.database == Backend::Sqlite {
                    variants.push((Kind::SqlxOneConnection, PoolSetup { size: 1, ..server }));
                }
            }
            for (kind, setup) in variants {
                let label = format!("{kind:?} t={tenants} c={c}");
                let m = baseline::bare_sqlx(&args, &sample, tenants, c, setup, duration, &label)
                    .await?;
                report.push(Row::new(kind, Mode::Closed(c), tenants, m));
            }
        }
        if args.database == Backend::Postgres {
            let mut clients = args.concurrency.clone();
            if !clients.contains(&(args.pool_size as usize)) {
                clients.push(args.pool_size as usize);
            }
            for c in clients {
                let m = pgbench::run(&args.pg_url, &sample, tenants, c, None, duration).await?;
                report.push(Row::new(Kind::Pgbench, Mode::Closed(c), tenants, m));
            }
            for &rate in &args.rate {
                // As many connections as the server's pool: what the service has to work with.
                let c = args.pool_size as usize;
                let m =
                    pgbench::run(&args.pg_url, &sample, tenants, c, Some(rate), duration).await?;
                report.push(Row::new(Kind::Pgbench, Mode::Open(rate), tenants, m));
            }
        }
    }
    report.print();
    Ok(())
}
