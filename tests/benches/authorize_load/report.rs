//! The summary: one Markdown table per run (ready for BENCHMARKS.md) and a verdict per goal.

use crate::drive::Measured;
use crate::{Args, Backend};
use std::fmt::Write;

/// What was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// AuthorizeReturn over gRPC: the product.
    Grpc,
    /// The store's calls for one authorization, in process, no gRPC.
    Store,
    /// The transaction alone through sqlx.
    Sqlx,
    /// The same without sqlx's ping on every pool acquire (`test_before_acquire(false)`).
    SqlxNoPing,
    /// The same through one SQLite connection: writers queue in the pool, not in SQLite's busy
    /// handler.
    SqlxOneConnection,
    /// The transaction alone through pgbench.
    Pgbench,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Grpc => "gRPC AuthorizeReturn",
            Kind::Store => "store calls (3 reads + tx)",
            Kind::Sqlx => "bare sqlx tx",
            Kind::SqlxNoPing => "bare sqlx tx, no acquire ping",
            Kind::SqlxOneConnection => "bare sqlx tx, 1 connection",
            Kind::Pgbench => "pgbench tx",
        }
    }
}

/// How it was driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// This many in flight.
    Closed(usize),
    /// This many a second.
    Open(u64),
}

pub struct Row {
    kind: Kind,
    mode: Mode,
    tenants: usize,
    m: Measured,
}

impl Row {
    pub fn new(kind: Kind, mode: Mode, tenants: usize, m: Measured) -> Self {
        Self {
            kind,
            mode,
            tenants,
            m,
        }
    }
}

pub struct Report {
    backend: Backend,
    header: String,
    rows: Vec<Row>,
}

impl Report {
    pub fn new(args: &Args) -> Self {
        let mut header = String::new();
        let _ = writeln!(
            header,
            "authorize-load: {} at {}; {} CPUs; load average at start {}",
            args.database.name(),
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            loadavg()
        );
        let _ = write!(
            header,
            "phases of {} s after a {} s warm-up; {} HTTP/2 channels; server pool {} connections",
            args.duration_secs, args.warmup_secs, args.channels, args.pool_size
        );
        Self {
            backend: args.database,
            header,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    /// The transaction-only baseline a closed-loop gRPC row is compared with, same tenants: on
    /// PostgreSQL the best pgbench closed loop (at the same concurrency or at the server's pool
    /// size, whichever is faster, since the server never has more connections than its pool); on
    /// SQLite bare sqlx at the same concurrency.
    fn baseline(&self, row: &Row) -> Option<&Row> {
        if !matches!(row.mode, Mode::Closed(_)) {
            return None;
        }
        let same = |b: &&Row| b.tenants == row.tenants && matches!(b.mode, Mode::Closed(_));
        match self.backend {
            Backend::Postgres => self
                .rows
                .iter()
                .filter(|b| b.kind == Kind::Pgbench)
                .filter(same)
                .max_by(|a, b| a.m.per_sec().total_cmp(&b.m.per_sec())),
            Backend::Sqlite => self
                .rows
                .iter()
                .filter(|b| b.kind == Kind::Sqlx && b.mode == row.mode)
                .find(same),
        }
    }

    pub fn print(&self) {
        println!(
            "\n{}\n{}\n",
            self.header,
            format_args!("load average at end {}", loadavg())
        );
        println!(
            "| what | tenants | mode | ok/s | p50 ms | p99 ms | p99.9 ms | errors | gRPC ÷ baseline | CPUs: this process / postgres / rest |"
        );
        println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        for r in &self.rows {
            let mode = match r.mode {
                Mode::Closed(c) => format!("closed, {c} in flight"),
                Mode::Open(rate) => format!("open, {rate}/s"),
            };
            let ratio = match (r.kind, self.baseline(r)) {
                (Kind::Grpc, Some(b)) => format!("{:.0}%", 100.0 * r.m.per_sec() / b.m.per_sec()),
                _ => String::new(),
            };
            let cpu =
                r.m.cpu
                    .map(|c| format!("{:.2} / {:.2} / {:.2}", c.own, c.postgres, c.others()))
                    .unwrap_or_default();
            println!(
                "| {} | {} | {mode} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {ratio} | {cpu} |",
                r.kind.name(),
                r.tenants,
                r.m.per_sec(),
                r.m.ms(0.5),
                r.m.ms(0.99),
                r.m.ms(0.999),
                r.m.error_count(),
            );
        }
        for r in self.rows.iter().filter(|r| !r.m.errors.is_empty()) {
            println!(
                "errors in {} {:?} t={}: {:?}",
                r.kind.name(),
                r.mode,
                r.tenants,
                r.m.errors
            );
        }
        println!();
        for line in self.verdicts() {
            println!("{line}");
        }
    }

    /// The goals, per tenants value.
    fn verdicts(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut tenants: Vec<usize> = self.rows.iter().map(|r| r.tenants).collect();
        tenants.dedup();
        let mark = |ok: bool| if ok { "MET" } else { "MISSED" };
        for t in tenants {
            let grpc = |open: bool| {
                self.rows.iter().filter(move |r| {
                    r.kind == Kind::Grpc
                        && r.tenants == t
                        && matches!(r.mode, Mode::Open(_)) == open
                })
            };
            let best = grpc(false).max_by(|a, b| a.m.per_sec().total_cmp(&b.m.per_sec()));
            let Some(best) = best else { continue };
            let floor = match self.backend {
                Backend::Postgres => 1500.0,
                Backend::Sqlite => 3000.0,
            };
            out.push(format!(
                "t={t}: throughput {:.0}/s (best closed loop) vs goal >= {floor:.0}/s: {}",
                best.m.per_sec(),
                mark(best.m.per_sec() >= floor)
            ));
            if let Some(b) = self.baseline(best) {
                let ratio = best.m.per_sec() / b.m.per_sec();
                out.push(format!(
                    "t={t}: {:.0}% of the {} ({:.0}/s, {:?}){}",
                    100.0 * ratio,
                    b.kind.name(),
                    b.m.per_sec(),
                    b.mode,
                    if self.backend == Backend::Postgres {
                        format!(" vs goal >= 50%: {}", mark(ratio >= 0.5))
                    } else {
                        String::new()
                    }
                ));
            }
            if self.backend == Backend::Postgres {
                for r in grpc(true).filter(|r| r.mode == Mode::Open(1000)) {
                    out.push(format!(
                        "t={t}: p99 {:.2} ms at 1000/s (achieved {:.0}/s, {} errors) vs goal <= 20 ms: {}",
                        r.m.ms(0.99),
                        r.m.per_sec(),
                        r.m.error_count(),
                        mark(r.m.ms(0.99) <= 20.0 && r.m.error_count() == 0)
                    ));
                }
            }
        }
        out
    }
}

/// The 1, 5 and 15-minute load averages.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
