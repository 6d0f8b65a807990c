//! `quote` and `settlement`: who bears what of a return, and what a supplier and the seller owe.

use super::client::{connect, explain};
use super::output::{Table, money, parse_money, parse_time, plural, timestamp};
use super::protojson::{enum_name, flags, print_json};
use crate::cli::ClientArgs;
use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::liability_service_client::LiabilityServiceClient;
use returnbridge_proto::v1::return_service_client::ReturnServiceClient;

/// Flags of `quote`.
#[derive(Debug, Args)]
pub struct QuoteArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The return's id.
    pub return_id: String,
    /// The resolution to quote: refund (default), store-credit, exchange, replacement,
    /// partial-refund.
    #[arg(long, value_parser = flags::resolution)]
    pub resolution: Option<i32>,
    /// Assume this inspection outcome: passed, damaged-by-customer, missing-original-packaging,
    /// defect-not-found, item-mismatch (default: the recorded one, else passed).
    #[arg(long, value_parser = flags::inspection)]
    pub assume_inspection: Option<i32>,
    /// Assume this return label cost, decimal, in the return's currency.
    #[arg(long)]
    pub assume_label_cost: Option<String>,
}

/// Flags of `settlement`.
#[derive(Debug, Args)]
pub struct SettlementArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The supplier's id.
    #[arg(long)]
    pub supplier: String,
    /// ISO 4217 currency of the statement (amounts are never converted).
    #[arg(long)]
    pub currency: String,
    /// Period start (inclusive), RFC 3339, for example 2026-11-01T00:00:00Z.
    #[arg(long, value_parser = parse_time)]
    pub from: DateTime<Utc>,
    /// Period end (exclusive), RFC 3339, for example 2026-12-01T00:00:00Z.
    #[arg(long, value_parser = parse_time)]
    pub to: DateTime<Utc>,
}

fn short(kind: &str, prefix: &str, n: i32) -> String {
    enum_name(kind, prefix, n)
}

/// Prints a split: each allocation with its rule, then what each party bears.
pub fn print_split(s: &pb::LiabilitySplit) {
    println!(
        "fault: {}  resolution: {}  contract v{}  {} {}{}",
        short("FaultClass", "FAULT_CLASS_", s.fault_class),
        short("Resolution", "RESOLUTION_", s.resolution),
        s.contract_version,
        short("Jurisdiction", "JURISDICTION_", s.statutory_profile),
        s.statutory_profile_version,
        if s.policy_gap { "  (policy gap)" } else { "" }
    );
    let mut t = Table::new(&["component", "party", ">amount", "rule"]);
    for a in &s.allocations {
        t.row(vec![
            short("CostComponent", "COST_COMPONENT_", a.component),
            short("Party", "PARTY_", a.party),
            money(&a.amount),
            a.rule.clone(),
        ]);
    }
    t.print();
    println!();
    let mut totals = Table::new(&["party", ">bears"]);
    for p in &s.totals {
        totals.row(vec![short("Party", "PARTY_", p.party), money(&p.amount)]);
    }
    totals.print();
    println!();
    println!("customer refund:         {}", money(&s.customer_refund));
    if s.customer_charge
        .as_ref()
        .is_some_and(|m| m.amount_minor != 0)
    {
        println!("customer charge:         {}", money(&s.customer_charge));
    }
    println!(
        "supplier net to seller:  {}",
        money(&s.supplier_net_to_seller)
    );
}

/// `quote RETURN_ID`.
pub async fn quote(args: QuoteArgs) -> anyhow::Result<()> {
    let channel = connect(&args.client, None).await?;
    let assumed_label_cost = match &args.assume_label_cost {
        None => None,
        Some(raw) => {
            let r = ReturnServiceClient::new(channel.clone())
                .get_return(pb::GetReturnRequest {
                    return_id: args.return_id.clone(),
                })
                .await
                .map_err(explain)?
                .into_inner();
            let currency = r
                .return_case
                .and_then(|r| r.order)
                .map(|o| o.currency_code)
                .unwrap_or_default();
            Some(
                parse_money(&currency, raw)
                    .with_context(|| format!("--assume-label-cost {raw:?}"))?,
            )
        }
    };
    let mut c = LiabilityServiceClient::new(channel);
    let quoted = c
        .quote_liability(pb::QuoteLiabilityRequest {
            subject: Some(pb::quote_liability_request::Subject::ReturnId(
                args.return_id.clone(),
            )),
            resolution: args.resolution.map(|resolution| pb::ResolutionSpec {
                resolution,
                ..Default::default()
            }),
            assumed_inspection_outcome: args.assume_inspection.unwrap_or(0),
            assumed_label_cost,
        })
        .await;
    let q = match quoted {
        Ok(q) => q.into_inner(),
        // A resolved return has its final split instead of a quote: show that.
        Err(status) if status.code() == tonic::Code::FailedPrecondition => {
            let split = c
                .get_liability_split(pb::GetLiabilitySplitRequest {
                    return_id: args.return_id.clone(),
                })
                .await
                .map_err(|_| explain(status))?
                .into_inner();
            if args.client.json {
                return print_json("GetLiabilitySplitResponse", &split);
            }
            println!("The return is resolved; its final split:");
            if let Some(s) = &split.split {
                print_split(s);
            }
            return Ok(());
        }
        Err(status) => return Err(explain(status)),
    };
    if args.client.json {
        return print_json("QuoteLiabilityResponse", &q);
    }
    match &q.split {
        Some(split) => print_split(split),
        None => println!("The return was rejected: nobody owes anything."),
    }
    Ok(())
}

/// Prints a supplier's settlement statement, every page, then its totals.
pub async fn settlement(args: SettlementArgs) -> anyhow::Result<()> {
    let mut c = LiabilityServiceClient::new(connect(&args.client, None).await?);
    let mut page_token = String::new();
    let mut lines = Vec::new();
    let totals = loop {
        let page = c
            .get_settlement_statement(pb::GetSettlementStatementRequest {
                supplier_id: args.supplier.clone(),
                period: Some(pb::TimeRange {
                    start_time: Some(timestamp(args.from)),
                    end_time: Some(timestamp(args.to)),
                }),
                currency_code: args.currency.clone(),
                page_size: 500,
                page_token,
            })
            .await
            .map_err(explain)?
            .into_inner();
        lines.extend(page.lines);
        if page.next_page_token.is_empty() {
            break page.totals;
        }
        page_token = page.next_page_token;
    };
    if args.client.json {
        return print_json(
            "GetSettlementStatementResponse",
            &pb::GetSettlementStatementResponse {
                supplier_id: args.supplier,
                period: Some(pb::TimeRange {
                    start_time: Some(timestamp(args.from)),
                    end_time: Some(timestamp(args.to)),
                }),
                currency_code: args.currency,
                lines,
                totals,
                ..Default::default()
            },
        );
    }
    let mut t = Table::new(&[
        "return_id",
        "order",
        ">supplier owes",
        ">seller owes",
        ">net",
    ]);
    for l in &lines {
        t.row(vec![
            l.return_id.clone(),
            l.order_id.clone(),
            money(&l.supplier_owes_seller),
            money(&l.seller_owes_supplier),
            money(&l.net),
        ]);
    }
    if let Some(total) = totals {
        t.row(vec![
            format!("TOTAL ({})", plural(total.line_count, "return", "returns")),
            String::new(),
            money(&total.supplier_owes_seller),
            money(&total.seller_owes_supplier),
            money(&total.net),
        ]);
    }
    t.print();
    Ok(())
}
