//! The `returnbridge` binary's library half: configuration, telemetry, the server's wiring and the
//! subcommands. `main.rs` only parses the command line and dispatches here; tests call [`run`] with
//! their own listener and shutdown future.

// A failure is an error the caller sees, never a panic in the server.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod call_log;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dispatch;
mod metrics_endpoint;
mod readiness;
pub mod serve;
pub mod telemetry;

pub use config::Settings;
pub use serve::{Listeners, run, run_with};

use returnbridge_store::{Store, StoreOptions};
use std::sync::Arc;
use std::time::Duration;

/// Opens the configured store. A database that cannot be opened at all is one line that says why
/// and what to do.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let options = StoreOptions {
        max_connections: settings.database.max_connections,
        acquire_timeout: Duration::from_secs(settings.database.acquire_timeout_secs),
    };
    let url = &settings.database.url;
    returnbridge_store::connect(url, &options)
        .await
        .map_err(|e| anyhow::anyhow!(e.explain(url)))
}

/// Opens the configured store and applies pending migrations, after checking on a connection of
/// its own that the database answers (so a refused connection says so at once).
pub async fn open_migrated_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let store = open_store(settings).await?;
    let url = &settings.database.url;
    store
        .ping()
        .await
        .map_err(|e| anyhow::anyhow!(e.explain(url)))?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("migrating {}", e.explain(url)))?;
    let upgraded = returnbridge_api::returns::upgrade_stored_returns(&store)
        .await
        .map_err(|e| anyhow::anyhow!("upgrading stored returns: {e}"))?;
    if upgraded > 0 {
        tracing::info!(
            upgraded,
            "stored returns upgraded to the store's own format"
        );
    }
    Ok(store)
}
