//! The command line.

use crate::commands::contracts::{ContractsCommand, SettingsCommand};
use crate::commands::liability::{QuoteArgs, SettlementArgs};
use crate::commands::lifecycle::{
    AuthorizeArgs, EvidenceArgs, InspectArgs, ReceiveArgs, ResolveArgs, ShipArgs, Target,
};
use crate::commands::protojson::flags;
use crate::commands::supplier_sim::SupplierSimArgs;
use crate::config::Role;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Returnbridge coordinates dropshipping sellers and their suppliers on returns.
#[derive(Debug, Parser)]
#[command(name = "returnbridge", version, about, long_about = None)]
pub struct Cli {
    /// TOML config file (settings there override the defaults; RETURNBRIDGE_* env vars override it).
    #[arg(long, global = true, env = "RETURNBRIDGE_CONFIG")]
    pub config: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (api and gateway roles in one process by default).
    Serve(ServeArgs),
    /// Apply database migrations and exit (for a Helm pre-upgrade job).
    Migrate(DatabaseArgs),
    /// Print the effective configuration, secrets redacted.
    PrintConfig(DatabaseArgs),
    /// Create, list and revoke API keys (works on the database directly).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage suppliers through a running server's API.
    #[command(subcommand)]
    Suppliers(SuppliersCommand),
    /// Publish and read supplier contracts through a running server's API.
    #[command(subcommand)]
    Contracts(ContractsCommand),
    /// Authorize returns and take them through their lifecycle through a running server's API.
    #[command(subcommand)]
    Returns(ReturnsCommand),
    /// Quote who would bear what of a return if it were resolved now.
    Quote(QuoteArgs),
    /// Print a supplier's settlement statement for a period.
    Settlement(SettlementArgs),
    /// Read and change the seller's own return settings.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Read delivery attempts to suppliers and redeliver failed requests, through a running server's
    /// API.
    #[command(subcommand)]
    Deliveries(DeliveriesCommand),
    /// Play a supplier on this machine: receive forwarded requests as webhooks (or SupplierInbox
    /// calls with --grpc) and answer them through the server with the supplier's key.
    SupplierSim(Box<SupplierSimArgs>),
}

/// `deliveries ...`
#[derive(Debug, Subcommand)]
pub enum DeliveriesCommand {
    /// List the delivery attempts of one return's requests or one supplier's, oldest first.
    List {
        #[command(flatten)]
        client: ClientArgs,
        /// The return's id.
        #[arg(
            long = "return",
            conflicts_with = "supplier",
            required_unless_present = "supplier"
        )]
        return_id: Option<String>,
        /// The supplier's id.
        #[arg(long)]
        supplier: Option<String>,
    },
    /// Deliver a request whose retries ran out again, now, under the same request id.
    Redeliver {
        #[command(flatten)]
        client: ClientArgs,
        /// The failed request's id (`request_id` in `deliveries list`).
        request_id: String,
    },
}

/// `returns ...`
#[derive(Debug, Subcommand)]
pub enum ReturnsCommand {
    /// Decide a return request: flags for the simple case, --from-json for the whole request.
    Authorize(Box<AuthorizeArgs>),
    /// Show one return: status, decision and its reasons.
    Get {
        #[command(flatten)]
        client: ClientArgs,
        /// The return's id.
        return_id: String,
    },
    /// List returns, newest first, following every page.
    List {
        #[command(flatten)]
        client: ClientArgs,
        /// Only returns in this status, repeatable: requested, authorized, pending-supplier,
        /// rejected, in-transit, received, inspected, resolved, expired, cancelled.
        #[arg(long = "status", value_parser = flags::status)]
        statuses: Vec<i32>,
        /// Only this supplier's returns.
        #[arg(long)]
        supplier: Option<String>,
    },
    /// Show a return's audit trail, oldest first.
    Events {
        #[command(flatten)]
        client: ClientArgs,
        /// The return's id.
        return_id: String,
    },
    /// Record the customer's shipment: AUTHORIZED -> IN_TRANSIT.
    Ship(ShipArgs),
    /// Record the goods' arrival: IN_TRANSIT -> RECEIVED.
    Receive(ReceiveArgs),
    /// Record the inspection: RECEIVED -> INSPECTED (again on INSPECTED replaces it).
    Inspect(InspectArgs),
    /// Resolve the return and store its final liability split: -> RESOLVED.
    Resolve(ResolveArgs),
    /// Add evidence (photos, documents) to an open return.
    Evidence(EvidenceArgs),
    /// Cancel a return.
    Cancel {
        #[command(flatten)]
        target: Target,
        /// Why, for the audit trail (required, 1 to 1000 characters).
        #[arg(long)]
        reason: String,
    },
}

/// Flags of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Which parts to run.
    #[arg(long, value_enum)]
    pub role: Option<Role>,
    /// Address to listen on (default 127.0.0.1:50051).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Database URL: sqlite:PATH or postgres://...
    #[arg(long)]
    pub database_url: Option<String>,
}

/// Commands that only need the database.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite:PATH or postgres://...
    #[arg(long)]
    pub database_url: Option<String>,
}

/// `keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it once (on stdout; details on stderr).
    Create {
        /// The seller (tenant) the key acts for; created on first use. Lowercase letters, digits, '-'.
        #[arg(long)]
        tenant: String,
        /// Make a supplier's callback key for this supplier id (default scope: supplier:callbacks).
        #[arg(long)]
        supplier: Option<String>,
        /// Comma-separated scopes (default: every seller scope, or supplier:callbacks with --supplier).
        #[arg(long)]
        scopes: Option<String>,
        /// A label for people.
        #[arg(long, default_value = "default")]
        name: String,
        /// Database URL: sqlite:PATH or postgres://...
        #[arg(long)]
        database_url: Option<String>,
    },
    /// List keys (never their secrets).
    List {
        /// Only this tenant's keys.
        #[arg(long)]
        tenant: Option<String>,
        /// Database URL: sqlite:PATH or postgres://...
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Revoke a key by its id; it stops working at once.
    Revoke {
        /// The key's id, as `keys list` shows it.
        key_id: String,
        /// Database URL: sqlite:PATH or postgres://...
        #[arg(long)]
        database_url: Option<String>,
    },
}

/// How client commands reach the server.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The server's address: `http://` for plaintext, `https://` for TLS (checked against the
    /// system's roots, or --ca-cert).
    /// Default: `[client] server` in the config file, else http://127.0.0.1:50051.
    #[arg(long, env = "RETURNBRIDGE_SERVER")]
    pub server: Option<String>,
    /// A PEM file of the CA that signed an `https://` server's certificate, instead of the system's
    /// roots.
    #[arg(long, env = "RETURNBRIDGE_CA_CERT")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// The API key to call with (`returnbridge keys create` makes one).
    #[arg(long, env = "RETURNBRIDGE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Print the response as proto3 JSON (for scripts) instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// `suppliers ...`
#[derive(Debug, Subcommand)]
pub enum SuppliersCommand {
    /// Create a supplier; prints it and its webhook signing secret (shown once).
    Create {
        #[command(flatten)]
        client: ClientArgs,
        /// The supplier's name.
        #[arg(long)]
        name: String,
        /// Deliver requests as signed webhooks to this URL.
        #[arg(
            long,
            conflicts_with = "grpc_endpoint",
            required_unless_present = "grpc_endpoint"
        )]
        webhook_url: Option<String>,
        /// Deliver requests to this SupplierInbox gRPC endpoint.
        #[arg(long)]
        grpc_endpoint: Option<String>,
        /// Another supplier's id to fail over to.
        #[arg(long)]
        backup: Option<String>,
        /// Makes retries of this command safe: the same key never creates a second supplier.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Show one supplier.
    Get {
        #[command(flatten)]
        client: ClientArgs,
        /// The supplier's id.
        supplier_id: String,
    },
    /// List suppliers, following every page.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change a supplier's name, connector, backup or delivery policy, or rotate its secret.
    Update {
        #[command(flatten)]
        client: ClientArgs,
        /// The supplier's id.
        supplier_id: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New webhook URL (replaces the connector).
        #[arg(long, conflicts_with = "grpc_endpoint")]
        webhook_url: Option<String>,
        /// New gRPC endpoint (replaces the connector).
        #[arg(long)]
        grpc_endpoint: Option<String>,
        /// New backup supplier id.
        #[arg(long, conflicts_with = "no_backup")]
        backup: Option<String>,
        /// Remove the backup supplier.
        #[arg(long)]
        no_backup: bool,
        /// Issue a new webhook signing secret (printed once); the old one keeps signing beside it
        /// for 24 hours.
        #[arg(long)]
        rotate_webhook_secret: bool,
        /// Replace the delivery policy: the waits before each retry (`30s,10m,1h`; empty for the
        /// default schedule) ...
        #[arg(long, value_delimiter = ',', num_args = 0.., value_parser = crate::commands::output::parse_duration)]
        retry_delays: Option<Vec<prost_types::Duration>>,
        /// ... and the most requests per second to the supplier (0 for no limit). Setting either
        /// replaces the whole policy.
        #[arg(long)]
        max_requests_per_second: Option<i32>,
        /// Refuse the change if the supplier's version is no longer this one.
        #[arg(long)]
        expected_version: Option<i64>,
    },
}
