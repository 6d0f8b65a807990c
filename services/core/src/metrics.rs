//! The process's Prometheus metrics: one registry, the metric families with their exact names, and
//! the text exposition `GET /metrics` answers. Label values are bounded enums or the server's own
//! method names, never ids or free text, so a series per value stays cheap.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use returnbridge_domain::ids::SupplierId;
use returnbridge_domain::returns::DeadlineKind;
use returnbridge_domain::{Outcome, ReasonCode};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// The OpenTelemetry RPC semantic conventions' advisory buckets for call durations, in seconds.
pub const RPC_DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Buckets of supplier response times, in seconds: the deadlines contracts commonly set (seconds
/// for tests, then minutes, hours and days up to 14), so compliance with those deadlines reads
/// exactly from a bucket.
pub const RESPONSE_BUCKETS: [f64; 20] = [
    1.0,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    900.0,
    1800.0,
    3600.0,
    7200.0,
    14_400.0,
    28_800.0,
    43_200.0,
    86_400.0,
    172_800.0,
    259_200.0,
    432_000.0,
    604_800.0,
    864_000.0,
    1_209_600.0,
];

/// The content type of [`Metrics::encode`]'s answer (OpenMetrics text, which Prometheus scrapes).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    rpc_method: String,
    rpc_status_code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    outcome: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BreachLabels {
    // Bounded by the suppliers a deployment's sellers contract with, which operations want to tell
    // apart on a dashboard; never a return or request id.
    supplier_id: String,
    deadline_kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    supplier_id: String,
    transport: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransportLabels {
    supplier_id: String,
    transport: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SupplierLabels {
    supplier_id: String,
}

/// How one delivery attempt to a supplier ended, as the metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    /// The supplier took it (2xx, gRPC OK).
    Delivered,
    /// The supplier answered with an error status.
    Refused,
    /// No answer in time.
    Timeout,
    /// No connection.
    ConnectError,
    /// Not sent: the supplier's breaker was open.
    BreakerOpen,
    /// Not sent: the destination is not allowed.
    DestinationRefused,
}

impl AttemptResult {
    fn as_str(self) -> &'static str {
        match self {
            AttemptResult::Delivered => "delivered",
            AttemptResult::Refused => "refused",
            AttemptResult::Timeout => "timeout",
            AttemptResult::ConnectError => "connect_error",
            AttemptResult::BreakerOpen => "breaker_open",
            AttemptResult::DestinationRefused => "destination_refused",
        }
    }
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric one process records; cheap to clone (the families are shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    rpc_duration: HistogramFamily<RpcLabels>,
    decided: Family<DecisionLabels, Counter>,
    breaches: Family<BreachLabels, Counter>,
    attempts: Family<AttemptLabels, Counter>,
    delivery_duration: HistogramFamily<TransportLabels>,
    outbox_pending: Gauge,
    outbox_oldest_age: Gauge<f64, AtomicU64>,
    circuit_open: Family<SupplierLabels, Gauge>,
    response: HistogramFamily<BreachLabels>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn rpc_histogram() -> Histogram {
    Histogram::new(RPC_DURATION_BUCKETS)
}

impl Metrics {
    /// A fresh registry with every family registered (each server has its own, so tests that run
    /// several servers in one process count apart).
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let rpc_duration: HistogramFamily<RpcLabels> = Family::new_with_constructor(rpc_histogram);
        registry.register(
            "rpc_server_call_duration_seconds",
            "Duration of gRPC calls served, until the response headers (see CONTRIBUTING.md)",
            rpc_duration.clone(),
        );
        let decided = Family::<DecisionLabels, Counter>::default();
        // The registry appends `_total` to counters: this is `returnbridge_returns_decided_total`.
        registry.register(
            "returnbridge_returns_decided",
            "Return requests decided by AuthorizeReturn, by outcome and first reason code",
            decided.clone(),
        );
        let breaches = Family::<BreachLabels, Counter>::default();
        registry.register(
            "returnbridge_supplier_sla_breaches",
            "Supplier deadlines missed, recorded once each, by supplier and deadline kind",
            breaches.clone(),
        );
        let attempts = Family::<AttemptLabels, Counter>::default();
        registry.register(
            "returnbridge_delivery_attempts",
            "Delivery attempts to suppliers, by supplier, transport (webhook, grpc) and outcome",
            attempts.clone(),
        );
        let delivery_duration: HistogramFamily<TransportLabels> =
            Family::new_with_constructor(rpc_histogram);
        registry.register(
            "returnbridge_delivery_duration_seconds",
            "Time from sending a request to a supplier to its answer (or the error)",
            delivery_duration.clone(),
        );
        let outbox_pending = Gauge::default();
        registry.register(
            "returnbridge_outbox_pending",
            "Outbox messages neither delivered nor failed (suppliers' and sellers' webhooks)",
            outbox_pending.clone(),
        );
        let outbox_oldest_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "returnbridge_outbox_oldest_age_seconds",
            "Age of the oldest pending outbox message; 0 when none is pending",
            outbox_oldest_age.clone(),
        );
        let circuit_open = Family::<SupplierLabels, Gauge>::default();
        registry.register(
            "returnbridge_supplier_circuit_open",
            "1 while this gateway's circuit breaker for the supplier holds its deliveries back",
            circuit_open.clone(),
        );
        let response: HistogramFamily<BreachLabels> =
            Family::new_with_constructor(|| Histogram::new(RESPONSE_BUCKETS));
        registry.register(
            "returnbridge_supplier_response_duration_seconds",
            "Time from a supplier request's creation to the supplier's answer, by deadline kind",
            response.clone(),
        );
        Self {
            registry: Arc::new(registry),
            rpc_duration,
            decided,
            breaches,
            response,
            attempts,
            delivery_duration,
            outbox_pending,
            outbox_oldest_age,
            circuit_open,
        }
    }

    /// Records one served call: `method` is the full `/package.Service/Method` path and `code` the
    /// gRPC status code name (`OK`, `INVALID_ARGUMENT`, ...).
    pub fn record_call(&self, method: &str, code: &'static str, elapsed: Duration) {
        self.rpc_duration
            .get_or_create(&RpcLabels {
                rpc_method: method.to_owned(),
                rpc_status_code: code,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one decision by its outcome and first reason (`NONE` when it has no reason).
    pub fn record_decision(&self, outcome: Outcome, first_reason: Option<ReasonCode>) {
        self.decided
            .get_or_create(&DecisionLabels {
                outcome: outcome.as_str(),
                reason: first_reason.map_or("NONE", ReasonCode::as_str),
            })
            .inc();
    }

    /// Counts one missed supplier deadline.
    pub fn record_breach(&self, supplier: SupplierId, kind: DeadlineKind) {
        self.breaches
            .get_or_create(&BreachLabels {
                supplier_id: supplier.to_string(),
                deadline_kind: kind.as_str(),
            })
            .inc();
    }

    /// Times one supplier answer (an acknowledgement, a decision) from its request's creation.
    pub fn record_response(&self, supplier: SupplierId, kind: DeadlineKind, elapsed: Duration) {
        self.response
            .get_or_create(&BreachLabels {
                supplier_id: supplier.to_string(),
                deadline_kind: kind.as_str(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one delivery attempt to `supplier` over `transport` (`webhook`, `grpc`), and times it
    /// when it was sent.
    pub fn record_attempt(
        &self,
        supplier: SupplierId,
        transport: &'static str,
        result: AttemptResult,
        elapsed: Duration,
    ) {
        let supplier_id = supplier.to_string();
        self.attempts
            .get_or_create(&AttemptLabels {
                supplier_id: supplier_id.clone(),
                transport,
                outcome: result.as_str(),
            })
            .inc();
        if !matches!(
            result,
            AttemptResult::BreakerOpen | AttemptResult::DestinationRefused
        ) {
            self.delivery_duration
                .get_or_create(&TransportLabels {
                    supplier_id,
                    transport,
                })
                .observe(elapsed.as_secs_f64());
        }
    }

    /// The outbox backlog: pending messages and the age of the oldest.
    pub fn set_outbox(&self, pending: u64, oldest_age: Duration) {
        self.outbox_pending
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
        self.outbox_oldest_age.set(oldest_age.as_secs_f64());
    }

    /// Whether this gateway's breaker for `supplier` is open.
    pub fn set_circuit_open(&self, supplier: SupplierId, open: bool) {
        self.circuit_open
            .get_or_create(&SupplierLabels {
                supplier_id: supplier.to_string(),
            })
            .set(i64::from(open));
    }

    /// The exposition of every metric, in the OpenMetrics text format ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the exposition line by line: metadata lines, then samples whose names belong to a
    /// declared family, label sets that close, and values that parse; `# EOF` last.
    fn assert_parses_as_exposition(text: &str) {
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.last(), Some(&"# EOF"), "{text}");
        let mut families: Vec<(String, String)> = Vec::new();
        for line in &lines[..lines.len() - 1] {
            if let Some(meta) = line.strip_prefix("# ") {
                let mut parts = meta.splitn(3, ' ');
                let (kind, name) = (parts.next().unwrap(), parts.next().unwrap());
                assert!(["HELP", "TYPE", "UNIT"].contains(&kind), "{line}");
                if kind == "TYPE" {
                    let ty = parts.next().unwrap();
                    assert!(["counter", "histogram", "gauge"].contains(&ty), "{line}");
                    families.push((name.to_owned(), ty.to_owned()));
                }
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap();
            value.parse::<f64>().unwrap();
            let name = series.split('{').next().unwrap();
            if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
                for pair in labels[1..labels.len() - 1].split("\",") {
                    let (key, value) = pair.split_once('=').unwrap();
                    assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
                    assert!(value.starts_with('"'), "{line}");
                }
            }
            let (family, ty) = families.last().expect("a sample after its # TYPE");
            let suffixes: &[&str] = match ty.as_str() {
                "counter" => &["_total", "_created"],
                "histogram" => &["_bucket", "_sum", "_count", "_created"],
                _ => &[""],
            };
            assert!(
                suffixes.iter().any(|s| name == format!("{family}{s}")),
                "{name} is not a sample of {family} ({ty})"
            );
        }
    }

    #[test]
    fn the_exposition_parses_and_names_the_metrics_exactly() {
        let metrics = Metrics::new();
        metrics.record_call(
            "/returnbridge.v1.ReturnService/GetReturn",
            "OK",
            Duration::from_millis(30),
        );
        metrics.record_decision(Outcome::Authorized, Some(ReasonCode::ALL[0]));
        let text = metrics.encode().unwrap();
        assert_parses_as_exposition(&text);
        assert!(text.contains("# TYPE rpc_server_call_duration_seconds histogram"));
        let series =
            "rpc_method=\"/returnbridge.v1.ReturnService/GetReturn\",rpc_status_code=\"OK\"";
        for (le, count) in [("0.025", 0), ("0.05", 1), ("+Inf", 1)] {
            let line =
                format!("rpc_server_call_duration_seconds_bucket{{le=\"{le}\",{series}}} {count}");
            assert!(text.contains(&line), "{line}: {text}");
        }
        assert!(text.contains("returnbridge_returns_decided_total{outcome=\"AUTHORIZED\""));
    }

    #[test]
    fn every_advisory_bucket_is_a_boundary() {
        let metrics = Metrics::new();
        metrics.record_call("/a.B/C", "OK", Duration::from_secs(20));
        let text = metrics.encode().unwrap();
        for bucket in RPC_DURATION_BUCKETS {
            assert!(
                text.contains(&format!("le=\"{bucket:?}\"")),
                "{bucket}: {text}"
            );
        }
        assert!(text.contains("le=\"+Inf\",rpc_method=\"/a.B/C\",rpc_status_code=\"OK\"} 1"));
    }
}
