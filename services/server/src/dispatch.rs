//! From a parsed command line to the subcommand that runs it. Here rather than in `main.rs` so that a
//! test can run the very same CLI (the README tour test does).

use crate::cli::{Cli, Command, KeysCommand};
use crate::{Settings, commands, open_migrated_store, open_store, telemetry};
use anyhow::Context;
use clap::Parser;
use returnbridge_core::clock::SystemClock;
use std::sync::Arc;

/// Parses the process's arguments, runs the command, and reports a failure on stderr.
pub async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref()).context("loading configuration")?;
    commands::client::set_defaults(settings.client.clone());
    match cli.command {
        Command::Serve(args) => {
            if let Some(role) = args.role {
                settings.server.role = role;
            }
            if let Some(listen) = args.listen {
                settings.server.listen = listen;
            }
            if let Some(url) = args.database_url {
                settings.database.url = url;
            }
            telemetry::init(&settings.log);
            serve(settings).await
        }
        Command::Migrate(args) => {
            settings.database.url = args.database_url.unwrap_or(settings.database.url);
            telemetry::init(&settings.log);
            open_migrated_store(&settings).await?;
            eprintln!(
                "Migrations applied to {}.",
                returnbridge_store::redact_url(&settings.database.url)
            );
            Ok(())
        }
        Command::PrintConfig(args) => {
            settings.database.url = args.database_url.unwrap_or(settings.database.url);
            print!("{}", settings.redacted_toml());
            Ok(())
        }
        Command::Keys(command) => {
            let url = match &command {
                KeysCommand::Create { database_url, .. }
                | KeysCommand::List { database_url, .. }
                | KeysCommand::Revoke { database_url, .. } => database_url.clone(),
            };
            settings.database.url = url.unwrap_or(settings.database.url);
            let store = open_migrated_store(&settings).await?;
            // Keys live in the database, so say which one: the same one `serve` would use here.
            eprintln!("Database: {}", where_is(&settings.database.url));
            commands::keys::run(store, command).await
        }
        Command::Suppliers(command) => commands::suppliers::run(command).await,
        Command::Contracts(command) => commands::contracts::run(command).await,
        Command::Returns(command) => commands::returns::run(command).await,
        Command::Quote(args) => commands::liability::quote(args).await,
        Command::Settlement(args) => commands::liability::settlement(args).await,
        Command::Settings(command) => commands::contracts::settings(command).await,
        Command::Deliveries(command) => commands::deliveries::run(command).await,
        Command::SupplierSim(args) => commands::supplier_sim::run(*args).await,
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let store = if settings.database.migrate_on_start {
        open_migrated_store(&settings).await?
    } else {
        open_store(&settings).await?
    };
    if store
        .list_api_keys(None)
        .await
        .map(|k| k.is_empty())
        .unwrap_or(false)
    {
        let url = returnbridge_store::redact_url(&settings.database.url);
        let run = how_to_run();
        tracing::warn!(
            "no API keys exist yet; create the first one with: \
             {run} keys create --tenant <your-shop> --database-url {url}"
        );
    }
    let listener = tokio::net::TcpListener::bind(settings.server.listen)
        .await
        .with_context(|| format!("listening on {}", settings.server.listen))?;
    crate::run(
        &settings,
        store,
        Arc::new(SystemClock),
        listener,
        shutdown_signal(),
    )
    .await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (Kubernetes).
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// How the user can run this binary again from where they are: `cargo run --release -q --` when it
/// is a build in a cargo target folder, else its own path (`returnbridge` when that is what is on
/// `PATH`).
fn how_to_run() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "returnbridge".into();
    };
    let parent = exe
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str());
    let in_target = exe
        .parent()
        .and_then(|p| p.parent())
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "target");
    match parent {
        Some("release") if in_target => "cargo run --release -q --".into(),
        Some("debug") if in_target => "cargo run -q --".into(),
        _ => {
            let on_path = std::env::var_os("PATH").is_some_and(|paths| {
                std::env::split_paths(&paths).any(|dir| dir.join("returnbridge") == exe)
            });
            if on_path {
                "returnbridge".into()
            } else {
                exe.display().to_string()
            }
        }
    }
}

/// The database URL as a person checks it: secrets redacted, a relative SQLite path resolved.
fn where_is(url: &str) -> String {
    let shown = returnbridge_store::redact_url(url);
    let Some(path) = url.strip_prefix("sqlite:").filter(|p| !p.starts_with("//")) else {
        return shown;
    };
    let path = path.split('?').next().unwrap_or(path);
    match std::path::absolute(path) {
        Ok(absolute) if !std::path::Path::new(path).is_absolute() => {
            format!("{shown} ({})", absolute.display())
        }
        _ => shown,
    }
}
