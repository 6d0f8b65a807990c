//! CPU accounting around a phase, from /proc: how busy the whole box was and how much of that was
//! this process (server and client), so a number taken while something else ran can be told apart.

use std::collections::HashMap;

/// Counters at the start of a phase.
pub struct CpuMark {
    total: u64,
    idle: u64,
    own: u64,
    postgres: HashMap<u32, u64>,
}

/// CPUs used during a phase (2.0 = both cores of a 2-core box, all the time).
#[derive(Debug, Clone, Copy)]
pub struct CpuUse {
    /// By everything on the box: this process, the database, pgbench, and anyone else.
    pub busy: f64,
    /// By this process.
    pub own: f64,
    /// By PostgreSQL's processes alive at the end of the phase (a backend that exited during it,
    /// such as pgbench's, is missed).
    pub postgres: f64,
}

impl CpuUse {
    /// What neither this process nor PostgreSQL used: other people's work, or pgbench.
    pub fn others(&self) -> f64 {
        (self.busy - self.own - self.postgres).max(0.0)
    }
}

impl CpuMark {
    pub fn now() -> Self {
        let (total, idle) = box_ticks().unwrap_or_default();
        Self {
            total,
            idle,
            own: own_ticks().unwrap_or_default(),
            postgres: postgres_ticks(),
        }
    }

    /// Use since the mark; both counters are in the kernel's USER_HZ ticks, summed over CPUs.
    pub fn since(&self) -> Option<CpuUse> {
        let (total, idle) = box_ticks()?;
        let cpus = std::thread::available_parallelism().ok()?.get() as f64;
        let elapsed = total.checked_sub(self.total).filter(|t| *t > 0)? as f64;
        let idle = idle.saturating_sub(self.idle) as f64;
        let own = own_ticks()?.saturating_sub(self.own) as f64;
        let postgres: u64 = postgres_ticks()
            .into_iter()
            .map(|(pid, t)| t.saturating_sub(self.postgres.get(&pid).copied().unwrap_or(0)))
            .sum();
        Some(CpuUse {
            busy: cpus * (elapsed - idle) / elapsed,
            own: cpus * own / elapsed,
            postgres: cpus * postgres as f64 / elapsed,
        })
    }
}

/// All ticks and idle (+ iowait) ticks, from the `cpu` line of /proc/stat.
fn box_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    let total = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4)?;
    Some((total, idle))
}

fn own_ticks() -> Option<u64> {
    process_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?).map(|(_, t)| t)
}

/// Every `postgres` process's ticks, by pid.
fn postgres_ticks() -> HashMap<u32, u64> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        let (name, ticks) = process_ticks(&stat)?;
        (name == "postgres").then_some((pid, ticks))
    })
    .collect()
}

/// The command name and utime + stime (fields 14 and 15) of a /proc/PID/stat line.
fn process_ticks(stat: &str) -> Option<(&str, u64)> {
    let name = &stat[stat.find('(')? + 1..stat.rfind(')')?];
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((name, ticks))
}
