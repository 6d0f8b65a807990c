//! The process's Prometheus metrics: one registry, the metric families with their exact names, and
//! the text exposition `GET /metrics` answers. Label values are bounded enums or the server's own
//! method names, never ids or free text, so a series per value stays cheap.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use returnbridge_domain::ids::SupplierId;
use returnbridge_domain::returns::DeadlineKind;
use returnbridge_domain::{Outcome, ReasonCode};
use std::sync::Arc;
use std::time::Duration;

/// The OpenTelemetry RPC semantic conventions' advisory buckets for call durations, in seconds.
pub const RPC_DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
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

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric one process records; cheap to clone (the families are shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    rpc_duration: HistogramFamily<RpcLabels>,
    decided: Family<DecisionLabels, Counter>,
    breaches: Family<BreachLabels, Counter>,
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
        Self {
            registry: Arc::new(registry),
            rpc_duration,
            decided,
            breaches,
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
