//! The `returnbridge` binary's library half: configuration, telemetry, the server's wiring and the
//! subcommands. `main.rs` only parses the command line and dispatches here; tests call [`run`] with
//! their own listener and shutdown future.

// A failure is an error the caller sees, never a panic in the server.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod cli;
pub mod commands;
pub mod config;
pub mod dispatch;
mod readiness;
pub mod serve;
pub mod telemetry;

pub use config::Settings;
pub use serve::run;

use anyhow::Context;
use returnbridge_store::{Store, StoreOptions};
use std::sync::Arc;
use std::time::Duration;

/// Opens the configured store.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let options = StoreOptions {
        max_connections: settings.database.max_connections,
        acquire_timeout: Duration::from_secs(settings.database.acquire_timeout_secs),
    };
    returnbridge_store::connect(&settings.database.url, &options)
        .await
        .with_context(|| {
            format!(
                "opening {}",
                returnbridge_store::redact_url(&settings.database.url)
            )
        })
}

/// Opens the configured store and applies pending migrations.
pub async fn open_migrated_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let store = open_store(settings).await?;
    store.migrate().await.with_context(|| {
        format!(
            "migrating {}",
            returnbridge_store::redact_url(&settings.database.url)
        )
    })?;
    Ok(store)
}
