//! Readiness: a background probe of the database that drives the health service and the
//! [`DatabaseGate`]. While the database is known to be unreachable, calls are answered UNAVAILABLE
//! at once (with RetryInfo) instead of each waiting out the pool's acquire timeout, and health says
//! NOT_SERVING; both recover on the first probe that gets an answer.

use returnbridge_store::{Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
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
    pub store: Arc<dyn Store>,
    pub health: HealthReporter,
    pub services: Vec<&'static str>,
    pub gate: DatabaseGate,
}

impl Readiness {
    /// Probes every `interval` until `stop`; `ready` is the first probe's answer.
    pub async fn watch(self, interval: Duration, stop: CancellationToken, mut ready: bool) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = stop.cancelled() => return,
            }
            ready = self.probe(Some(ready)).await;
        }
    }

    /// Probes once, reports a change of readiness and returns whether the store is ready.
    pub async fn probe(&self, was_ready: Option<bool>) -> bool {
        let answer = match tokio::time::timeout(PROBE_TIMEOUT, self.store.check_ready()).await {
            Ok(answer) => answer.map_err(|e| {
                let unreachable = matches!(e, StoreError::Unavailable(_));
                (unreachable, anyhow::Error::new(e))
            }),
            Err(_) => Err((true, anyhow::anyhow!("no answer within {PROBE_TIMEOUT:?}"))),
        };
        let ready = answer.is_ok();
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
