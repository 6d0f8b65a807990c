//! Settings: compiled defaults < optional TOML file < `RETURNBRIDGE_*` env vars (`__` nests) <
//! command-line flags.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;

/// Which parts of Returnbridge a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The seller-facing API and the supplier gateway in one process (the embedded default).
    All,
    /// ContractService, ReturnService, LiabilityService, SlaService, DeliveryService.
    Api,
    /// SupplierCallbackService, the outbox dispatcher and the SLA clock.
    Gateway,
}

impl Role {
    /// True when this role serves the seller-facing API.
    pub fn runs_api(self) -> bool {
        matches!(self, Role::All | Role::Api)
    }

    /// True when this role runs the supplier gateway.
    pub fn runs_gateway(self) -> bool {
        matches!(self, Role::All | Role::Gateway)
    }
}

/// Everything the binary can be told.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// gRPC server.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Logging.
    pub log: LogSettings,
    /// Metrics.
    pub telemetry: TelemetrySettings,
    /// Where the client commands call.
    pub client: ClientSettings,
    /// Delivery to suppliers (the gateway role).
    pub gateway: GatewaySettings,
}

/// `[gateway]`: how the dispatcher delivers the outbox to suppliers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    /// Deliver to loopback, private, link-local and metadata addresses too. Off in production: a
    /// supplier URL is seller input and must not reach into our own network. Tests and the
    /// simulator turn it on.
    pub allow_private_destinations: bool,
    /// Longest wait, in milliseconds, between looks at the outbox when no commit signal comes
    /// (10 to 1000).
    pub poll_interval_ms: u64,
    /// Longest one delivery attempt may take, in milliseconds.
    pub attempt_timeout_ms: u64,
    /// Attempts in flight per supplier.
    pub concurrency_per_supplier: usize,
    /// Seconds to wait before each retry; past the last, the message has failed. Spread by ±20%.
    pub retry_schedule_secs: Vec<u64>,
    /// How long a claim holds its outbox rows, in seconds: past it, a row whose dispatcher died is
    /// delivered by another. Longer than an attempt, so a live dispatcher's rows are never taken.
    pub lease_secs: u64,
    /// Where suppliers' JSON callbacks (HTTP/1.1) are served, `host:port`; empty turns the endpoint
    /// off. A listener of its own rather than the gRPC port: see `returnbridge_gateway::json_callbacks`.
    /// Loopback by default: expose it deliberately.
    pub callback_listen: String,
}

impl GatewaySettings {
    /// The dispatcher's settings.
    pub fn dispatcher(&self) -> returnbridge_gateway::dispatcher::DispatcherSettings {
        use returnbridge_gateway::dispatcher::DispatcherSettings;
        use returnbridge_gateway::retry::RetrySchedule;
        use returnbridge_gateway::stack::StackPolicy;
        use std::time::Duration;
        let defaults = DispatcherSettings::default();
        DispatcherSettings {
            poll_interval: Duration::from_millis(self.poll_interval_ms),
            stack: StackPolicy {
                concurrency: self.concurrency_per_supplier,
                attempt_timeout: Duration::from_millis(self.attempt_timeout_ms),
                ..defaults.stack
            },
            schedule: RetrySchedule::new(
                self.retry_schedule_secs
                    .iter()
                    .map(|s| Duration::from_secs(*s))
                    .collect(),
            ),
            allow_private_destinations: self.allow_private_destinations,
            lease: Duration::from_secs(self.lease_secs),
            ..defaults
        }
    }

    /// The JSON callback endpoint's address, or `None` when it is off; an address that does not
    /// parse is an error naming the key.
    pub fn callback_addr(&self) -> Result<Option<SocketAddr>, String> {
        let raw = self.callback_listen.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        raw.parse().map(Some).map_err(|_| {
            format!(
                "gateway.callback_listen must be an address like 127.0.0.1:50052, or empty to turn \
                 the JSON callback endpoint off (got {raw:?})"
            )
        })
    }
}

/// `[client]`: defaults of the client commands (`suppliers`, `returns`, ...); `--server` and
/// `RETURNBRIDGE_SERVER` win over them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// The server's address: `http://` for plaintext, `https://` for TLS.
    pub server: String,
    /// A PEM file of the CA behind an `https://` server's certificate; empty: the system's roots.
    pub ca_cert: String,
}

/// `[telemetry]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// Where `GET /metrics` (Prometheus) is served, `host:port`; empty turns the endpoint off.
    /// Loopback by default: expose it deliberately.
    pub metrics_listen: String,
}

impl TelemetrySettings {
    /// The metrics endpoint's address, or `None` when it is off; an address that does not parse is
    /// an error naming the key.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>, String> {
        let raw = self.metrics_listen.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        raw.parse().map(Some).map_err(|_| {
            format!(
                "telemetry.metrics_listen must be an address like 127.0.0.1:9464, or empty to turn \
                 the endpoint off (got {raw:?})"
            )
        })
    }
}

/// `[server]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on. Loopback by default: expose it deliberately.
    pub listen: SocketAddr,
    /// Which parts to run.
    pub role: Role,
    /// Longest a call may run before it answers DEADLINE_EXCEEDED/CANCELLED (clients may ask for less).
    pub request_timeout_secs: u64,
    /// Calls in flight per connection before new ones are shed with RESOURCE_EXHAUSTED.
    pub concurrency_limit_per_connection: usize,
    /// How long SIGTERM waits for calls in flight before exiting anyway.
    pub shutdown_grace_secs: u64,
    /// How often, in milliseconds, a background probe checks that the database answers and is
    /// migrated; it drives health and, while the database is unreachable, answers calls UNAVAILABLE at
    /// once.
    pub readiness_interval_ms: u64,
    /// How often the api role expires AUTHORIZED returns not shipped by their deadline.
    pub expiry_sweep_secs: u64,
}

/// `[database]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite:PATH` (embedded default) or `postgres://user:password@host/db`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
    /// Seconds to wait for a pooled connection before answering UNAVAILABLE.
    pub acquire_timeout_secs: u64,
    /// How long, in hours, an idempotency key's answer is kept for replays (at least 24); older
    /// records are purged and their keys count as new.
    pub idempotency_retention_hours: u64,
    /// Apply migrations when `serve` starts (turn off when a Helm pre-upgrade job runs `migrate`).
    pub migrate_on_start: bool,
}

/// `[log]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `auto` (human-readable on a terminal, JSON otherwise), `text` or `json`.
    pub format: LogFormat,
    /// tracing filter directives; `RUST_LOG` wins when set.
    pub filter: String,
}

/// Log line format.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text on a terminal, JSON otherwise.
    Auto,
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings {
                listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
                role: Role::All,
                request_timeout_secs: 30,
                concurrency_limit_per_connection: 256,
                shutdown_grace_secs: 30,
                readiness_interval_ms: 250,
                expiry_sweep_secs: 60,
            },
            database: DatabaseSettings {
                url: "sqlite:returnbridge.db".into(),
                max_connections: 16,
                acquire_timeout_secs: 5,
                idempotency_retention_hours: 72,
                migrate_on_start: true,
            },
            log: LogSettings {
                format: LogFormat::Auto,
                filter: "info".into(),
            },
            telemetry: TelemetrySettings {
                metrics_listen: "127.0.0.1:9464".into(),
            },
            client: ClientSettings {
                server: "http://127.0.0.1:50051".into(),
                ca_cert: String::new(),
            },
            gateway: GatewaySettings {
                allow_private_destinations: false,
                poll_interval_ms: 500,
                attempt_timeout_ms: 10_000,
                concurrency_per_supplier: 16,
                retry_schedule_secs: vec![5, 300, 1800, 7200, 18_000, 36_000, 36_000],
                lease_secs: 300,
                callback_listen: "127.0.0.1:50052".into(),
            },
        }
    }
}

impl Settings {
    /// Defaults, then the file (if given; it must exist), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(Box::new(figment::Error::from(format!(
                    "config file {} does not exist",
                    path.display()
                ))));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment
            // Only the sections above: RETURNBRIDGE_API_KEY and friends belong to the client commands.
            .merge(Env::prefixed("RETURNBRIDGE_").split("__").filter(|key| {
                let key = key.as_str().to_ascii_lowercase();
                [
                    "server.",
                    "database.",
                    "log.",
                    "telemetry.",
                    "client.",
                    "gateway.",
                ]
                .iter()
                .any(|section| key.starts_with(section))
            }))
            .extract::<Settings>()
            .map_err(Box::new)?
            .validated()
            .map_err(|e| Box::new(figment::Error::from(e)))
    }

    /// The settings, or every value out of range named by its key: a bad value is an error, never
    /// silently raised to a minimum.
    fn validated(self) -> Result<Self, String> {
        let s = &self.server;
        let d = &self.database;
        let g = &self.gateway;
        let checks = [
            (
                "gateway.poll_interval_ms",
                (10..=1000).contains(&g.poll_interval_ms),
                "between 10 and 1000",
            ),
            (
                "gateway.attempt_timeout_ms",
                g.attempt_timeout_ms >= 1,
                "at least 1",
            ),
            (
                "gateway.concurrency_per_supplier",
                g.concurrency_per_supplier >= 1,
                "at least 1",
            ),
            (
                "gateway.lease_secs",
                g.lease_secs.saturating_mul(1000) > g.attempt_timeout_ms,
                "longer than gateway.attempt_timeout_ms",
            ),
            (
                "server.request_timeout_secs",
                s.request_timeout_secs >= 1,
                "at least 1",
            ),
            (
                "server.concurrency_limit_per_connection",
                s.concurrency_limit_per_connection >= 1,
                "at least 1",
            ),
            (
                "server.readiness_interval_ms",
                s.readiness_interval_ms >= 50,
                "at least 50",
            ),
            (
                "server.expiry_sweep_secs",
                s.expiry_sweep_secs >= 1,
                "at least 1",
            ),
            (
                "database.max_connections",
                d.max_connections >= 1,
                "at least 1",
            ),
            (
                "database.acquire_timeout_secs",
                d.acquire_timeout_secs >= 1,
                "at least 1",
            ),
        ];
        let mut problems: Vec<String> = checks
            .iter()
            .filter(|(_, ok, _)| !ok)
            .map(|(key, _, rule)| format!("{key} must be {rule}"))
            .collect();
        problems.extend(self.telemetry.metrics_addr().err());
        problems.extend(self.gateway.callback_addr().err());
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(problems.join("; "))
        }
    }

    /// The settings as TOML with secrets replaced, for `print-config`.
    pub fn redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = returnbridge_store::redact_url(&shown.database.url);
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render settings: {e}"))
    }
}

#[cfg(test)]
// figment::Jail's closures return its large error type; that is the test harness's shape, not ours.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "returnbridge.toml",
                "[server]\nlisten = \"0.0.0.0:6000\"\n[database]\nurl = \"sqlite:file.db\"\n",
            )?;
            jail.set_env(
                "RETURNBRIDGE_DATABASE__URL",
                "postgres://u:secret@db/returnbridge",
            );
            let s = Settings::load(Some(Path::new("returnbridge.toml"))).map_err(|e| *e)?;
            assert_eq!(s.server.listen.to_string(), "0.0.0.0:6000");
            assert_eq!(s.database.url, "postgres://u:secret@db/returnbridge");
            assert_eq!(s.server.role, Role::All);
            assert!(!s.redacted_toml().contains("secret"));
            Ok(())
        });
    }

    #[test]
    fn a_value_out_of_range_is_an_error_naming_its_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("RETURNBRIDGE_SERVER__READINESS_INTERVAL_MS", "0");
            jail.set_env("RETURNBRIDGE_DATABASE__MAX_CONNECTIONS", "0");
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(err.contains("server.readiness_interval_ms"), "{err}");
            assert!(err.contains("database.max_connections"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn the_metrics_endpoint_defaults_to_loopback_and_an_empty_address_turns_it_off() {
        figment::Jail::expect_with(|jail| {
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(
                s.telemetry.metrics_addr(),
                Ok(Some(SocketAddr::from(([127, 0, 0, 1], 9464))))
            );
            jail.set_env("RETURNBRIDGE_TELEMETRY__METRICS_LISTEN", "");
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(s.telemetry.metrics_addr(), Ok(None));
            jail.set_env("RETURNBRIDGE_TELEMETRY__METRICS_LISTEN", "localhost");
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(err.contains("telemetry.metrics_listen"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn json_callbacks_default_to_loopback_and_an_empty_address_turns_them_off() {
        figment::Jail::expect_with(|jail| {
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(
                s.gateway.callback_addr(),
                Ok(Some(SocketAddr::from(([127, 0, 0, 1], 50052))))
            );
            jail.set_env("RETURNBRIDGE_GATEWAY__CALLBACK_LISTEN", "");
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(s.gateway.callback_addr(), Ok(None));
            jail.set_env("RETURNBRIDGE_GATEWAY__CALLBACK_LISTEN", "localhost:50052");
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(err.contains("gateway.callback_listen"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn private_destinations_are_refused_by_default_and_allowed_by_the_environment() {
        figment::Jail::expect_with(|jail| {
            let s = Settings::load(None).map_err(|e| *e)?;
            assert!(!s.gateway.allow_private_destinations);
            assert_eq!(
                s.gateway.dispatcher().schedule,
                returnbridge_gateway::retry::RetrySchedule::default()
            );
            jail.set_env("RETURNBRIDGE_GATEWAY__ALLOW_PRIVATE_DESTINATIONS", "true");
            jail.set_env("RETURNBRIDGE_GATEWAY__RETRY_SCHEDULE_SECS", "[1, 2]");
            let s = Settings::load(None).map_err(|e| *e)?;
            assert!(s.gateway.dispatcher().allow_private_destinations);
            assert_eq!(s.gateway.retry_schedule_secs, vec![1, 2]);
            jail.set_env("RETURNBRIDGE_GATEWAY__POLL_INTERVAL_MS", "5000");
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(err.contains("gateway.poll_interval_ms"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_in_the_file_are_an_error_not_a_silent_default() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "returnbridge.toml",
                "[server]\nlisten_addr = \"0.0.0.0:6000\"\n",
            )?;
            assert!(Settings::load(Some(Path::new("returnbridge.toml"))).is_err());
            Ok(())
        });
    }
}
