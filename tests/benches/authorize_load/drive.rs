//! The two ways of driving a system: closed loop (N callers, each sending again as soon as it has
//! an answer: throughput) and open loop (calls started on a fixed schedule whatever happens:
//! latency). Also the measurement record every phase, baselines included, produces.

use crate::cpu::{CpuMark, CpuUse};
use hdrhistogram::Histogram;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::return_service_client::ReturnServiceClient;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tonic::Request;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

/// Most open-loop calls allowed in flight: past it the schedule slips, and the slip still counts
/// in the latency because that is measured from the intended start.
const MAX_OPEN_IN_FLIGHT: usize = 4096;

/// A seller the load is spread over.
pub struct Seller {
    pub authorization: MetadataValue<Ascii>,
    /// A valid request; each call gets its own order id and idempotency key.
    pub template: pb::AuthorizeReturnRequest,
}

/// Where calls go.
pub struct Target {
    clients: Vec<ReturnServiceClient<Channel>>,
    sellers: Vec<Seller>,
    next_order: AtomicU64,
}

impl Target {
    pub fn new(clients: Vec<ReturnServiceClient<Channel>>, sellers: Vec<Seller>) -> Self {
        Self {
            clients,
            sellers,
            next_order: AtomicU64::new(0),
        }
    }

    /// One AuthorizeReturn for a new order of seller `i % sellers`, on channel `i % channels`.
    async fn call(&self, i: usize) -> Result<(), String> {
        let seller = &self.sellers[i % self.sellers.len()];
        let mut client = self.clients[i % self.clients.len()].clone();
        let n = self.next_order.fetch_add(1, Ordering::Relaxed);
        let mut message = seller.template.clone();
        if let Some(order) = message.order.as_mut() {
            order.order_id = format!("load-{n}");
        }
        let mut request = Request::new(message);
        let key: MetadataValue<Ascii> = uuid::Uuid::new_v4()
            .to_string()
            .parse()
            .map_err(|_| "key")?;
        request
            .metadata_mut()
            .insert("authorization", seller.authorization.clone());
        request.metadata_mut().insert("idempotency-key", key);
        match client.authorize_return(request).await {
            Ok(answer) => match answer.into_inner().return_case {
                Some(r) if r.status == pb::ReturnStatus::Authorized as i32 => Ok(()),
                other => Err(format!(
                    "not AUTHORIZED: {:?}",
                    other.map(|r| r.status).unwrap_or_default()
                )),
            },
            Err(status) => Err(format!("{:?}", status.code())),
        }
    }
}

/// What a phase measured: successes, failures by kind, latency in microseconds.
pub struct Measured {
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub elapsed: Duration,
    pub latency_us: Histogram<u64>,
    /// When the tool did not time calls itself (pgbench), the throughput it reported.
    pub reported_tps: Option<f64>,
    /// CPUs used meanwhile, by the box and by this process.
    pub cpu: Option<CpuUse>,
}

impl Measured {
    pub fn per_sec(&self) -> f64 {
        self.reported_tps
            .unwrap_or(self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9))
    }

    /// The `q` quantile in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.latency_us.value_at_quantile(q) as f64 / 1000.0
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// 1 us to 60 s at 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// Shared by a phase's tasks; a mutex is cheap at a few thousand records a second.
pub struct Stats {
    ok: AtomicU64,
    failed: AtomicU64,
    inner: Mutex<(Histogram<u64>, BTreeMap<String, u64>)>,
}

impl Stats {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            inner: Mutex::new((histogram(), BTreeMap::new())),
        })
    }

    pub fn record(&self, result: Result<(), String>, latency: Duration) {
        let mut inner = self.inner.lock().expect("stats lock");
        match result {
            Ok(()) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
                let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                inner.0.saturating_record(us.max(1));
            }
            Err(kind) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                *inner.1.entry(kind).or_default() += 1;
            }
        }
    }

    fn finish(&self, elapsed: Duration, cpu: &CpuMark) -> Measured {
        let inner = self.inner.lock().expect("stats lock");
        Measured {
            ok: self.ok.load(Ordering::Relaxed),
            errors: inner.1.clone(),
            elapsed,
            latency_us: inner.0.clone(),
            reported_tps: None,
            cpu: cpu.since(),
        }
    }
}

/// Prints a line a second while a phase runs.
fn progress(stats: Arc<Stats>, label: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let start = Instant::now();
        let mut last = 0;
        let mut tick =
            tokio::time::interval_at(start + Duration::from_secs(1), Duration::from_secs(1));
        loop {
            tick.tick().await;
            let ok = stats.ok.load(Ordering::Relaxed);
            let failed = stats.failed.load(Ordering::Relaxed);
            let p99 = stats
                .inner
                .lock()
                .map(|i| i.0.value_at_quantile(0.99) as f64 / 1000.0)
                .unwrap_or_default();
            eprintln!(
                "  [{label}] {:>3.0}s  {:>6}/s  total {ok}  errors {failed}  p99 so far {p99:.2} ms  load {}",
                start.elapsed().as_secs_f64(),
                ok - last,
                crate::report::loadavg(),
            );
            last = ok;
        }
    })
}

/// `concurrency` callers of `op` (given the caller's index), each looping until `duration` is up.
pub async fn closed_loop<F, Fut>(
    concurrency: usize,
    duration: Duration,
    label: &str,
    op: F,
) -> Measured
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let stats = Stats::new();
    let ticker = progress(stats.clone(), label.to_owned());
    let (start, cpu) = (Instant::now(), CpuMark::now());
    let deadline = start + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (stats, op) = (stats.clone(), op.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    let result = op(w).await;
                    stats.record(result, t0.elapsed());
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    ticker.abort();
    stats.finish(start.elapsed(), &cpu)
}

/// Closed loop over gRPC.
pub async fn closed(
    target: &Arc<Target>,
    concurrency: usize,
    duration: Duration,
    label: &str,
) -> Measured {
    let target = target.clone();
    closed_loop(concurrency, duration, label, move |w| {
        let target = target.clone();
        async move { target.call(w).await }
    })
    .await
}

/// Open loop over gRPC: `rate` calls a second for `duration`, each timed from when it should have
/// started (no coordinated omission).
pub async fn open(target: &Arc<Target>, rate: u64, duration: Duration, label: &str) -> Measured {
    let stats = Stats::new();
    let ticker = progress(stats.clone(), label.to_owned());
    let slots = Arc::new(Semaphore::new(MAX_OPEN_IN_FLIGHT));
    let total = rate.saturating_mul(duration.as_secs());
    let (start, cpu) = (Instant::now(), CpuMark::now());
    for i in 0..total {
        let intended = start + Duration::from_nanos(i * 1_000_000_000 / rate.max(1));
        if intended > Instant::now() {
            tokio::time::sleep_until(intended).await;
        }
        let slot = slots.clone().acquire_owned().await.expect("semaphore open");
        let (target, stats) = (target.clone(), stats.clone());
        tokio::spawn(async move {
            let result = target.call(i as usize).await;
            stats.record(result, intended.elapsed());
            drop(slot);
        });
    }
    let _all = slots
        .acquire_many(MAX_OPEN_IN_FLIGHT as u32)
        .await
        .expect("semaphore open");
    ticker.abort();
    stats.finish(start.elapsed(), &cpu)
}
