//! `contracts publish|get|versions` and `settings get|update`: the ContractService calls besides
//! suppliers.

use super::client::{Authenticated, connect, explain};
use super::output::{
    Table, duration, money, parse_duration, parse_money, parse_time, time, timestamp,
};
use super::protojson::{enum_name, flags, from_json, print_json, read_source};
use crate::cli::ClientArgs;
use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::contract_service_client::ContractServiceClient;

/// `contracts ...`
#[derive(Debug, Subcommand)]
pub enum ContractsCommand {
    /// Publish a new contract version for a supplier: flags for the common terms, or --from-json
    /// for the whole PublishContractRequest.
    Publish(Box<PublishArgs>),
    /// Show the contract version in effect now, at an instant, or by number.
    Get {
        #[command(flatten)]
        client: ClientArgs,
        /// The supplier's id.
        #[arg(long)]
        supplier: String,
        /// This version number.
        #[arg(long, conflicts_with = "at")]
        version: Option<i64>,
        /// The version in effect at this instant, RFC 3339 (2026-11-10T09:00:00Z); default now.
        #[arg(long, value_parser = parse_time)]
        at: Option<DateTime<Utc>>,
    },
    /// List a supplier's contract versions, newest first.
    Versions {
        #[command(flatten)]
        client: ClientArgs,
        /// The supplier's id.
        #[arg(long)]
        supplier: String,
    },
}

/// Flags of `contracts publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The supplier's id (used when the JSON leaves supplier_id out).
    #[arg(long)]
    pub supplier: Option<String>,
    /// The whole PublishContractRequest as proto3 JSON, from FILE or `-` for stdin (enum values by
    /// their full names, such as "PARTY_CARRIER"); replaces the term flags.
    #[arg(long, value_name = "FILE|-", conflicts_with_all = [
        "effective_from", "return_window_days", "defect_window_days", "restocking_fee_bps",
        "no_fault_returns", "defect_coverage", "transit_damage", "listing_owner",
        "no_fault_shipping", "auto_authorize", "ack_within", "decision_within", "credit_within",
        "breach_action", "non_returnable", "description", "requires_original_packaging",
        "returnless_below",
    ])]
    pub from_json: Option<String>,
    /// Makes a retry safe: the same key never publishes twice.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// When the version takes effect, RFC 3339 (2026-01-01T00:00:00Z); default now.
    #[arg(long, value_parser = parse_time)]
    pub effective_from: Option<DateTime<Utc>>,
    /// No-fault returns are accepted until delivery + this many days.
    #[arg(long, default_value_t = 30)]
    pub return_window_days: i32,
    /// Supplier-fault claims are accepted until delivery + this many days.
    #[arg(long, default_value_t = 365)]
    pub defect_window_days: i32,
    /// Fee the supplier keeps on a no-fault return, in basis points of the unit cost (1000 = 10%).
    #[arg(long, default_value_t = 0)]
    pub restocking_fee_bps: i32,
    /// The supplier takes no-fault returns back and credits the seller.
    #[arg(long)]
    pub no_fault_returns: bool,
    /// What the supplier funds when at fault: full-retail or wholesale.
    #[arg(long, value_parser = flags::defect_coverage, default_value = "full-retail")]
    pub defect_coverage: i32,
    /// Who bears damage in transit: supplier, carrier or seller.
    #[arg(long, value_parser = flags::party, default_value = "carrier")]
    pub transit_damage: i32,
    /// Who answers for "not as described": supplier or seller.
    #[arg(long, value_parser = flags::party, default_value = "supplier")]
    pub listing_owner: i32,
    /// Who pays the return label of a no-fault return: customer or seller.
    #[arg(long, value_parser = flags::party, default_value = "customer")]
    pub no_fault_shipping: i32,
    /// Authorize in-policy returns at once (otherwise they wait for the supplier).
    #[arg(long)]
    pub auto_authorize: bool,
    /// No-fault returns need the original packaging.
    #[arg(long)]
    pub requires_original_packaging: bool,
    /// Refund without a physical return below this value: AMOUNT CURRENCY, such as "10.00 EUR".
    #[arg(long)]
    pub returnless_below: Option<String>,
    /// A category never accepted for no-fault returns (food/perishable), repeatable.
    #[arg(long)]
    pub non_returnable: Vec<String>,
    /// Time the supplier has to acknowledge a request: 14d, 24h, 30m, 90s.
    #[arg(long, value_parser = parse_duration, default_value = "1d")]
    pub ack_within: prost_types::Duration,
    /// Time the supplier has to approve or reject.
    #[arg(long, value_parser = parse_duration, default_value = "3d")]
    pub decision_within: prost_types::Duration,
    /// Time the supplier has to credit the seller after receipt.
    #[arg(long, value_parser = parse_duration, default_value = "14d")]
    pub credit_within: prost_types::Duration,
    /// What a missed deadline triggers: notify, auto-approve or failover.
    #[arg(long, value_parser = flags::breach_action, default_value = "notify")]
    pub breach_action: i32,
    /// Free text for people (what changed, the signed document's reference).
    #[arg(long)]
    pub description: Option<String>,
}

/// `settings ...`
#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Show the seller's settings (the defaults, version 0, until changed).
    Get {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change the settings named by the flags given; the others stay as they are.
    Update {
        #[command(flatten)]
        client: ClientArgs,
        /// Customer-facing restocking fee on no-fault returns, basis points of the price (500 = 5%).
        #[arg(long)]
        customer_restocking_fee_bps: Option<i32>,
        /// How long the customer has to ship after authorization: 14d, 72h.
        #[arg(long, value_parser = parse_duration)]
        ship_by_period: Option<prost_types::Duration>,
        /// The seller's own no-fault return window in days (0: none).
        #[arg(long)]
        return_window_days: Option<i32>,
        /// Where return events are POSTed as webhooks; "" removes it.
        #[arg(long)]
        event_webhook_url: Option<String>,
        /// Issue a new event webhook signing secret (the old one stops working).
        #[arg(long)]
        rotate_event_webhook_secret: bool,
        /// Refuse the change unless the settings are still at this version.
        #[arg(long)]
        expected_version: Option<i64>,
    },
}

fn publish_request(args: &PublishArgs) -> anyhow::Result<pb::PublishContractRequest> {
    if let Some(source) = &args.from_json {
        let mut request: pb::PublishContractRequest =
            from_json("PublishContractRequest", &read_source(source)?)?;
        if request.supplier_id.is_empty() {
            request.supplier_id = args.supplier.clone().unwrap_or_default();
        }
        if request.supplier_id.is_empty() {
            bail!("no supplier: pass --supplier ID or put supplier_id in the JSON");
        }
        return Ok(request);
    }
    let supplier_id = args
        .supplier
        .clone()
        .context("missing --supplier (the supplier's id, as `suppliers list` shows it)")?;
    let returnless_threshold = match &args.returnless_below {
        None => None,
        Some(raw) => {
            let (amount, currency) = raw.trim().split_once(' ').with_context(|| {
                format!("--returnless-below {raw:?} is not AMOUNT CURRENCY, such as \"10.00 EUR\"")
            })?;
            Some(
                parse_money(currency.trim(), amount)
                    .with_context(|| format!("--returnless-below {raw:?}"))?,
            )
        }
    };
    Ok(pb::PublishContractRequest {
        supplier_id,
        effective_from: args.effective_from.map(timestamp),
        terms: Some(pb::ContractTerms {
            return_window_days: args.return_window_days,
            defect_window_days: args.defect_window_days,
            non_returnable_categories: args.non_returnable.clone(),
            evidence_required_reasons: Vec::new(),
            requires_original_packaging: args.requires_original_packaging,
            accepts_no_fault_returns: args.no_fault_returns,
            supplier_restocking_fee_bps: args.restocking_fee_bps,
            defect_coverage: args.defect_coverage,
            transit_damage_party: args.transit_damage,
            listing_data_owner: args.listing_owner,
            no_fault_return_shipping_payer: args.no_fault_shipping,
            returnless_threshold,
            auto_authorize: args.auto_authorize,
            sla: Some(pb::SlaTerms {
                ack_within: Some(args.ack_within),
                decision_within: Some(args.decision_within),
                credit_within: Some(args.credit_within),
                breach_action: args.breach_action,
            }),
        }),
        description: args.description.clone().unwrap_or_default(),
        expected_latest_version: 0,
    })
}

fn print_contract(c: &pb::Contract) {
    let field = |name: &str, value: String| println!("{:<32}{value}", format!("{name}:"));
    let party = |n: i32| enum_name("Party", "PARTY_", n);
    field("supplier_id", c.supplier_id.clone());
    field("version", c.version.to_string());
    field("effective_from", time(&c.effective_from));
    field("effective_until", time(&c.effective_until));
    if !c.description.is_empty() {
        field("description", c.description.clone());
    }
    let Some(t) = &c.terms else { return };
    field("return_window_days", t.return_window_days.to_string());
    field("defect_window_days", t.defect_window_days.to_string());
    field(
        "accepts_no_fault_returns",
        t.accepts_no_fault_returns.to_string(),
    );
    field(
        "supplier_restocking_fee_bps",
        t.supplier_restocking_fee_bps.to_string(),
    );
    field(
        "defect_coverage",
        enum_name("DefectCoverage", "DEFECT_COVERAGE_", t.defect_coverage),
    );
    field("transit_damage_party", party(t.transit_damage_party));
    field("listing_data_owner", party(t.listing_data_owner));
    field(
        "no_fault_return_shipping_payer",
        party(t.no_fault_return_shipping_payer),
    );
    field(
        "requires_original_packaging",
        t.requires_original_packaging.to_string(),
    );
    field("returnless_threshold", money(&t.returnless_threshold));
    field("auto_authorize", t.auto_authorize.to_string());
    if !t.non_returnable_categories.is_empty() {
        field(
            "non_returnable_categories",
            t.non_returnable_categories.join(", "),
        );
    }
    if let Some(sla) = &t.sla {
        field(
            "sla",
            format!(
                "ack {}, decide {}, credit {}, on breach {}",
                duration(&sla.ack_within),
                duration(&sla.decision_within),
                duration(&sla.credit_within),
                enum_name("SlaBreachAction", "SLA_BREACH_ACTION_", sla.breach_action)
            ),
        );
    }
}

fn print_settings(s: &pb::SellerSettings) {
    let field = |name: &str, value: String| println!("{:<29}{value}", format!("{name}:"));
    field(
        "customer_restocking_fee_bps",
        s.customer_restocking_fee_bps.to_string(),
    );
    field("ship_by_period", duration(&s.ship_by_period));
    field("return_window_days", s.return_window_days.to_string());
    let url = if s.event_webhook_url.is_empty() {
        "-".to_owned()
    } else {
        s.event_webhook_url.clone()
    };
    field("event_webhook_url", url);
    field("version", s.version.to_string());
    field("update_time", time(&s.update_time));
}

async fn client(
    args: &ClientArgs,
    idempotency_key: Option<&str>,
) -> anyhow::Result<ContractServiceClient<Authenticated>> {
    Ok(ContractServiceClient::new(
        connect(args, idempotency_key).await?,
    ))
}

/// Runs a `contracts` subcommand.
pub async fn run(command: ContractsCommand) -> anyhow::Result<()> {
    match command {
        ContractsCommand::Publish(args) => {
            let request = publish_request(&args)?;
            let mut c = client(&args.client, args.idempotency_key.as_deref()).await?;
            let r = c
                .publish_contract(request)
                .await
                .map_err(explain)?
                .into_inner();
            if args.client.json {
                return print_json("PublishContractResponse", &r);
            }
            if let Some(contract) = &r.contract {
                print_contract(contract);
            }
        }
        ContractsCommand::Get {
            client: args,
            supplier,
            version,
            at,
        } => {
            let selector = match (version, at) {
                (Some(v), _) => Some(pb::get_contract_request::Selector::Version(v)),
                (None, Some(t)) => Some(pb::get_contract_request::Selector::EffectiveAt(
                    timestamp(t),
                )),
                (None, None) => None,
            };
            let r = client(&args, None)
                .await?
                .get_contract(pb::GetContractRequest {
                    supplier_id: supplier,
                    selector,
                })
                .await
                .map_err(explain)?
                .into_inner();
            if args.json {
                return print_json("GetContractResponse", &r);
            }
            if let Some(contract) = &r.contract {
                print_contract(contract);
            }
        }
        ContractsCommand::Versions {
            client: args,
            supplier,
        } => {
            let mut c = client(&args, None).await?;
            let mut page_token = String::new();
            let mut contracts = Vec::new();
            loop {
                let page = c
                    .list_contract_versions(pb::ListContractVersionsRequest {
                        supplier_id: supplier.clone(),
                        page_size: 500,
                        page_token,
                    })
                    .await
                    .map_err(explain)?
                    .into_inner();
                contracts.extend(page.contracts);
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            if args.json {
                return print_json(
                    "ListContractVersionsResponse",
                    &pb::ListContractVersionsResponse {
                        contracts,
                        next_page_token: String::new(),
                    },
                );
            }
            let mut t = Table::new(&[
                ">version",
                "effective_from",
                "effective_until",
                "description",
            ]);
            for c in &contracts {
                t.row(vec![
                    c.version.to_string(),
                    time(&c.effective_from),
                    time(&c.effective_until),
                    c.description.clone(),
                ]);
            }
            t.print();
        }
    }
    Ok(())
}

/// Runs a `settings` subcommand.
pub async fn settings(command: SettingsCommand) -> anyhow::Result<()> {
    match command {
        SettingsCommand::Get { client: args } => {
            let r = client(&args, None)
                .await?
                .get_seller_settings(pb::GetSellerSettingsRequest {})
                .await
                .map_err(explain)?
                .into_inner();
            if args.json {
                return print_json("GetSellerSettingsResponse", &r);
            }
            if let Some(s) = &r.settings {
                print_settings(s);
            }
        }
        SettingsCommand::Update {
            client: args,
            customer_restocking_fee_bps,
            ship_by_period,
            return_window_days,
            event_webhook_url,
            rotate_event_webhook_secret,
            expected_version,
        } => {
            let mut paths = Vec::new();
            let mut named = |given: bool, path: &str| {
                if given {
                    paths.push(path.to_owned());
                }
            };
            named(
                customer_restocking_fee_bps.is_some(),
                "customer_restocking_fee_bps",
            );
            named(ship_by_period.is_some(), "ship_by_period");
            named(return_window_days.is_some(), "return_window_days");
            named(event_webhook_url.is_some(), "event_webhook_url");
            if paths.is_empty() && !rotate_event_webhook_secret {
                bail!(
                    "nothing to change: give at least one of --customer-restocking-fee-bps, \
                     --ship-by-period, --return-window-days, --event-webhook-url, \
                     --rotate-event-webhook-secret"
                );
            }
            let r = client(&args, None)
                .await?
                .update_seller_settings(pb::UpdateSellerSettingsRequest {
                    settings: Some(pb::SellerSettings {
                        customer_restocking_fee_bps: customer_restocking_fee_bps.unwrap_or(0),
                        ship_by_period,
                        return_window_days: return_window_days.unwrap_or(0),
                        event_webhook_url: event_webhook_url.unwrap_or_default(),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask { paths }),
                    expected_version: expected_version.unwrap_or(0),
                    rotate_event_webhook_secret,
                })
                .await
                .map_err(explain)?
                .into_inner();
            if args.json {
                return print_json("UpdateSellerSettingsResponse", &r);
            }
            if let Some(s) = &r.settings {
                print_settings(s);
            }
            if !r.event_webhook_signing_secret.is_empty() {
                println!(
                    "event_webhook_signing_secret: {} (shown once)",
                    r.event_webhook_signing_secret
                );
            }
        }
    }
    Ok(())
}
