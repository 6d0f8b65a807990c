//! Readiness: a background probe of the database that drives the health service and the
//! [`DatabaseGate`]. While the database is known to be unreachable, calls are answered UNAVAILABLE
//! at once (with RetryInfo) instead of each waiting out the pool's acquire timeout, and health says
//! NOT_SERVING; both recover on the first probe that gets an answer.

use returnbridge_store::{Store, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::service::Interceptor;
use tonic::{Request, Status};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// Longest a probe may take before the database counts as unreachable: a database that cannot
/// answer one query on an idle connection in this time cannot serve calls either.
const PROBE_TIMEOUT: Duration = Duration::from_millis(750);

/// Refuses calls while the last probe could not reach the database. Cloned into every service that
/// needs the database (health and reflection do not).
#[derive(Clone, Default)]
pub struct DatabaseGate {
    unreachable: Arc<AtomicBool>,
}

impl Interceptor for DatabaseGate {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        if self.unreachable.load(Ordering::Relaxed) {
            Err(returnbridge_api::error::database_unavailable())
        } else {
            Ok(request)
        }
    }
}

/// Where probe results go: the health service's statuses and the gate.
pub struct Readiness {
    store: Arc<dyn Store>,
    health: HealthReporter,
    services: Vec<&'static str>,
    gate: DatabaseGate,
    /// The last probe's answer; `None` before the first.
    ready: Mutex<Option<bool>>,
}

impl Readiness {
    /// Reports on `services` through `health` and `gate`.
    pub fn new(
        store: Arc<dyn Store>,
        health: HealthReporter,
        services: Vec<&'static str>,
        gate: DatabaseGate,
    ) -> Self {
        Self {
            store,
            health,
            services,
            gate,
            ready: Mutex::new(None),
        }
    }

    /// Probes once, reports a change of readiness and returns whether the store is ready.
    pub async fn probe(&self) -> bool {
        let answer = match tokio::time::timeout(PROBE_TIMEOUT, self.store.check_ready()).await {
            Ok(answer) => answer.map_err(|e| {
                let unreachable = matches!(e, StoreError::Unavailable(_));
                (unreachable, anyhow::Error::new(e))
            }),
            Err(_) => Err((true, anyhow::anyhow!("no answer within {PROBE_TIMEOUT:?}"))),
        };
        let ready = answer.is_ok();
        let was_ready = self
            .ready
            .lock()
            .map(|mut last| last.replace(ready))
            .unwrap_or_else(|poisoned| poisoned.into_inner().replace(ready));
        let unreachable = matches!(answer, Err((true, _)));
        self.gate.unreachable.store(unreachable, Ordering::Relaxed);
        if let Err((_, e)) = &answer
            && was_ready != Some(false)
        {
            tracing::warn!(
                error = format!("{e:#}"),
                "store not ready; health reports NOT_SERVING"
            );
        }
        if was_ready != Some(ready) {
            let status = if ready {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            set_status(&self.health, &self.services, status).await;
            if ready {
                tracing::info!("store ready; health reports SERVING");
            }
        }
        ready
    }
}

/// Sets every one of `services` to `status`.
pub async fn set_status(health: &HealthReporter, services: &[&'static str], status: ServingStatus) {
    for name in services {
        health.set_service_status(*name, status).await;
    }
}
