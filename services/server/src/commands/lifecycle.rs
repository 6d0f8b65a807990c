//! `returns authorize|ship|receive|inspect|resolve|evidence`: the calls that create and move a return.

use super::client::{Authenticated, connect, explain};
use super::liability::print_split;
use super::output::{parse_item, parse_money, parse_time, timestamp};
use super::protojson::{flags, from_json, print_json, read_source};
use super::returns::{print, show};
use crate::cli::ClientArgs;
use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::return_service_client::ReturnServiceClient;

/// Flags of `returns authorize`.
#[derive(Debug, Args)]
pub struct AuthorizeArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The whole AuthorizeReturnRequest as proto3 JSON, from FILE or `-` for stdin (enum values by
    /// their full names, such as "RETURN_REASON_CHANGED_MIND"); replaces the order flags.
    #[arg(long, value_name = "FILE|-", conflicts_with_all = [
        "order_id", "supplier", "ordered", "delivered", "jurisdiction", "currency", "lines", "items",
        "reason", "label_cost", "outbound_shipping", "time_zone", "evidence", "comment", "reference",
    ])]
    pub from_json: Option<String>,
    /// Makes a retry safe: the same key never authorizes twice. Default: a fresh UUID, printed on
    /// stderr so a retry can pass it again.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// The seller's order id.
    #[arg(long)]
    pub order_id: Option<String>,
    /// The supplier that fulfilled the order.
    #[arg(long)]
    pub supplier: Option<String>,
    /// When the order was placed, RFC 3339 (for example 2026-11-10T09:00:00Z).
    #[arg(long, value_parser = parse_time)]
    pub ordered: Option<DateTime<Utc>>,
    /// When it was delivered, RFC 3339 (for example 2026-11-14T15:30:00Z).
    #[arg(long, value_parser = parse_time)]
    pub delivered: Option<DateTime<Utc>>,
    /// The customer's jurisdiction: EU, GB, IL, US, NONE, or an EEA country code such as DE.
    #[arg(long)]
    pub jurisdiction: Option<String>,
    /// The order's ISO 4217 currency (EUR); every amount flag is in it.
    #[arg(long)]
    pub currency: Option<String>,
    /// An order line, repeatable, prices as decimal money: TEE-M:apparel/tops:2:50.00:30.00 (unit
    /// price 50.00, unit cost 30.00).
    #[arg(long = "line", value_name = "SKU:CATEGORY:QTY:PRICE:COST")]
    pub lines: Vec<String>,
    /// Units returned, repeatable: TEE-M:2.
    #[arg(long = "return", value_name = "SKU:QTY", value_parser = parse_item)]
    pub items: Vec<pb::ReturnItem>,
    /// The customer's reason: defective, wrong-item, missing-parts, damaged-in-transit,
    /// not-as-described, late-delivery, changed-mind, size-fit.
    #[arg(long, value_parser = flags::reason)]
    pub reason: Option<i32>,
    /// Estimated return label cost, decimal (7.00).
    #[arg(long)]
    pub label_cost: Option<String>,
    /// The outbound delivery charge the customer paid, decimal (4.99); default none.
    #[arg(long)]
    pub outbound_shipping: Option<String>,
    /// The customer's IANA time zone (Europe/Berlin): statutory periods count its calendar days.
    #[arg(long)]
    pub time_zone: Option<String>,
    /// An https evidence URI, repeatable.
    #[arg(long)]
    pub evidence: Vec<String>,
    /// The customer's own words.
    #[arg(long)]
    pub comment: Option<String>,
    /// The seller's own reference (its RMA number).
    #[arg(long)]
    pub reference: Option<String>,
}

/// What every transition of one return takes.
#[derive(Debug, Args)]
pub struct Target {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The return's id.
    pub return_id: String,
    /// Refuse the change unless the return is still at this version (`returns get` shows it).
    #[arg(long)]
    pub expected_version: Option<i64>,
    /// Makes a retry safe: the same key never records the change twice.
    #[arg(long)]
    pub idempotency_key: Option<String>,
}

/// Flags of `returns ship`.
#[derive(Debug, Args)]
pub struct ShipArgs {
    #[command(flatten)]
    pub target: Target,
    /// The carrier (DHL).
    #[arg(long)]
    pub carrier: Option<String>,
    /// The tracking number.
    #[arg(long)]
    pub tracking: Option<String>,
    /// The actual label cost, decimal, in the return's currency (7.00).
    #[arg(long)]
    pub label_cost: Option<String>,
    /// When the goods were handed to the carrier, RFC 3339 (2026-11-20T10:00:00Z); default now.
    #[arg(long, value_parser = parse_time)]
    pub shipped: Option<DateTime<Utc>>,
}

/// Flags of `returns receive`.
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    #[command(flatten)]
    pub target: Target,
    /// Units that arrived, repeatable (SKU:QTY); default every returned unit.
    #[arg(long = "item", value_name = "SKU:QTY", value_parser = parse_item)]
    pub items: Vec<pb::ReturnItem>,
    /// When they arrived, RFC 3339 (2026-11-22T10:00:00Z); default now.
    #[arg(long, value_parser = parse_time)]
    pub received: Option<DateTime<Utc>>,
    /// Free text.
    #[arg(long)]
    pub note: Option<String>,
}

/// Flags of `returns inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub target: Target,
    /// The overall outcome: passed, damaged-by-customer, missing-original-packaging,
    /// defect-not-found, item-mismatch.
    #[arg(long, value_parser = flags::inspection)]
    pub outcome: i32,
    /// Units whose outcome differs from the overall one, repeatable: SKU:QTY:OUTCOME.
    #[arg(long = "item", value_name = "SKU:QTY:OUTCOME", value_parser = parse_inspected)]
    pub items: Vec<pb::InspectedItem>,
    /// What the damage withholds from the refund, decimal, in the return's currency.
    #[arg(long)]
    pub damage_deduction: Option<String>,
    /// An https photo or document of the inspection, repeatable.
    #[arg(long)]
    pub evidence: Vec<String>,
    /// When the goods were inspected, RFC 3339 (2026-11-22T12:00:00Z); default now.
    #[arg(long, value_parser = parse_time)]
    pub inspected: Option<DateTime<Utc>>,
    /// Free text.
    #[arg(long)]
    pub note: Option<String>,
}

/// Flags of `returns resolve`.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    #[command(flatten)]
    pub target: Target,
    /// How: refund, store-credit, exchange, replacement, partial-refund.
    #[arg(long, value_parser = flags::resolution)]
    pub resolution: i32,
    /// Units resolved, repeatable (SKU:QTY); default every returned unit.
    #[arg(long = "item", value_name = "SKU:QTY", value_parser = parse_item)]
    pub items: Vec<pb::ReturnItem>,
    /// partial-refund only: the allowance the customer keeps the goods for, decimal.
    #[arg(long)]
    pub allowance: Option<String>,
    /// Goodwill or late-delivery compensation, decimal.
    #[arg(long)]
    pub compensation: Option<String>,
    /// exchange only: goods given instead, repeatable: SKU:QTY:PRICE.
    #[arg(long = "exchange", value_name = "SKU:QTY:PRICE")]
    pub exchange: Vec<String>,
    /// Free text.
    #[arg(long)]
    pub note: Option<String>,
}

/// Flags of `returns evidence`.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    #[command(flatten)]
    pub target: Target,
    /// An https URI of a photo or document, repeatable.
    #[arg(long = "uri", required = true)]
    pub uris: Vec<String>,
    /// A caption, given to every URI of this call.
    #[arg(long)]
    pub description: Option<String>,
}

fn parse_inspected(raw: &str) -> Result<pb::InspectedItem, String> {
    let (rest, outcome) = raw.rsplit_once(':').ok_or_else(|| {
        format!("{raw:?} is not SKU:QTY:OUTCOME (for example TEE-M:1:damaged-by-customer)")
    })?;
    let item = parse_item(rest)?;
    Ok(pb::InspectedItem {
        sku: item.sku,
        quantity: item.quantity,
        outcome: flags::inspection(outcome)?,
    })
}

/// `SKU:CATEGORY:QTY:PRICE:COST`, prices in `currency`.
fn parse_line(currency: &str, raw: &str) -> anyhow::Result<pb::OrderLine> {
    let shape = || {
        anyhow::anyhow!(
            "--line {raw:?} is not SKU:CATEGORY:QTY:PRICE:COST (for example TEE-M:apparel/tops:2:50.00:30.00)"
        )
    };
    // From the right: a category never holds a colon, a SKU might.
    let mut parts = raw.rsplitn(4, ':');
    let (cost, price, qty, head) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(c), Some(p), Some(q), Some(h)) => (c, p, q, h),
        _ => return Err(shape()),
    };
    let (sku, category) = head.rsplit_once(':').ok_or_else(shape)?;
    let quantity = qty.parse().map_err(|_| {
        anyhow::anyhow!("--line {raw:?}: the quantity {qty:?} is not a whole number")
    })?;
    Ok(pb::OrderLine {
        sku: sku.to_owned(),
        category: category.to_owned(),
        quantity,
        unit_price: Some(
            parse_money(currency, price).with_context(|| format!("--line {raw:?} price"))?,
        ),
        unit_cost: Some(
            parse_money(currency, cost).with_context(|| format!("--line {raw:?} cost"))?,
        ),
    })
}

fn authorize_request(args: &AuthorizeArgs) -> anyhow::Result<pb::AuthorizeReturnRequest> {
    if let Some(source) = &args.from_json {
        return from_json("AuthorizeReturnRequest", &read_source(source)?);
    }
    let mut missing = Vec::new();
    let mut need = |present: bool, flag: &'static str| {
        if !present {
            missing.push(flag);
        }
    };
    need(args.order_id.is_some(), "--order-id");
    need(args.supplier.is_some(), "--supplier");
    need(args.ordered.is_some(), "--ordered");
    need(args.delivered.is_some(), "--delivered");
    need(args.jurisdiction.is_some(), "--jurisdiction");
    need(args.currency.is_some(), "--currency");
    need(!args.lines.is_empty(), "--line");
    need(!args.items.is_empty(), "--return");
    need(args.reason.is_some(), "--reason");
    if !missing.is_empty() {
        bail!(
            "missing {} (or give the whole request with --from-json FILE)",
            missing.join(", ")
        );
    }
    let currency = args.currency.clone().unwrap_or_default();
    let amount = |flag: &str, raw: &Option<String>| {
        raw.as_deref()
            .map(|r| parse_money(&currency, r).with_context(|| format!("{flag} {r:?}")))
            .transpose()
    };
    Ok(pb::AuthorizeReturnRequest {
        order: Some(pb::OrderFacts {
            order_id: args.order_id.clone().unwrap_or_default(),
            supplier_id: args.supplier.clone().unwrap_or_default(),
            order_time: args.ordered.map(timestamp),
            delivery_time: args.delivered.map(timestamp),
            customer_jurisdiction: args.jurisdiction.clone().unwrap_or_default(),
            currency_code: currency.clone(),
            outbound_shipping: amount("--outbound-shipping", &args.outbound_shipping)?,
            lines: args
                .lines
                .iter()
                .map(|l| parse_line(&currency, l))
                .collect::<anyhow::Result<_>>()?,
            customer_time_zone: args.time_zone.clone().unwrap_or_default(),
            customer_extended_cancellation_right: false,
        }),
        items: args.items.clone(),
        reason: args.reason.unwrap_or_default(),
        evidence_uris: args.evidence.clone(),
        label_cost_estimate: amount("--label-cost", &args.label_cost)?,
        customer_comment: args.comment.clone().unwrap_or_default(),
        external_reference: args.reference.clone().unwrap_or_default(),
    })
}

/// `returns authorize`.
pub async fn authorize(args: AuthorizeArgs) -> anyhow::Result<()> {
    let request = authorize_request(&args)?;
    let key = match &args.idempotency_key {
        Some(k) => k.clone(),
        None => {
            let k = uuid::Uuid::new_v4().to_string();
            eprintln!("idempotency key {k} (to retry safely: --idempotency-key {k})");
            k
        }
    };
    let mut c = ReturnServiceClient::new(connect(&args.client, Some(&key)).await?);
    let r = c
        .authorize_return(request)
        .await
        .map_err(explain)?
        .into_inner();
    if args.client.json {
        return print_json("AuthorizeReturnResponse", &r);
    }
    if let Some(r) = &r.return_case {
        print(r);
    }
    Ok(())
}

async fn client(target: &Target) -> anyhow::Result<ReturnServiceClient<Authenticated>> {
    Ok(ReturnServiceClient::new(
        connect(&target.client, target.idempotency_key.as_deref()).await?,
    ))
}

/// The return's currency, for amount flags given as plain decimals.
async fn currency_of(
    c: &mut ReturnServiceClient<Authenticated>,
    return_id: &str,
) -> anyhow::Result<String> {
    let r = c
        .get_return(pb::GetReturnRequest {
            return_id: return_id.to_owned(),
        })
        .await
        .map_err(explain)?
        .into_inner();
    r.return_case
        .and_then(|r| r.order)
        .map(|o| o.currency_code)
        .context("the server sent the return without its order")
}

/// Parses the amount flags given (`(flag, value)`) in the return's currency, asking the server for it
/// only when one is given.
async fn amounts<const N: usize>(
    c: &mut ReturnServiceClient<Authenticated>,
    return_id: &str,
    flags: [(&str, &Option<String>); N],
) -> anyhow::Result<[Option<pb::Money>; N]> {
    let mut out: [Option<pb::Money>; N] = std::array::from_fn(|_| None);
    if flags.iter().all(|(_, v)| v.is_none()) {
        return Ok(out);
    }
    let currency = currency_of(c, return_id).await?;
    for (slot, (flag, value)) in out.iter_mut().zip(flags) {
        if let Some(raw) = value {
            *slot = Some(parse_money(&currency, raw).with_context(|| format!("{flag} {raw:?}"))?);
        }
    }
    Ok(out)
}

/// `returns ship`.
pub async fn ship(args: ShipArgs) -> anyhow::Result<()> {
    let t = &args.target;
    let mut c = client(t).await?;
    let [label_cost] = amounts(&mut c, &t.return_id, [("--label-cost", &args.label_cost)]).await?;
    let r = c
        .record_shipment(pb::RecordShipmentRequest {
            return_id: t.return_id.clone(),
            expected_version: t.expected_version.unwrap_or(0),
            shipment: Some(pb::Shipment {
                carrier: args.carrier.clone().unwrap_or_default(),
                tracking_number: args.tracking.clone().unwrap_or_default(),
                label_cost,
                ship_time: args.shipped.map(timestamp),
                recorded_by: None,
            }),
        })
        .await
        .map_err(explain)?
        .into_inner();
    show(t.client.json, "RecordShipmentResponse", &r, &r.return_case)
}

/// `returns receive`.
pub async fn receive(args: ReceiveArgs) -> anyhow::Result<()> {
    let t = &args.target;
    let mut c = client(t).await?;
    let r = c
        .record_receipt(pb::RecordReceiptRequest {
            return_id: t.return_id.clone(),
            expected_version: t.expected_version.unwrap_or(0),
            receipt: Some(pb::Receipt {
                receive_time: args.received.map(timestamp),
                items: args.items.clone(),
                note: args.note.clone().unwrap_or_default(),
                recorded_by: None,
            }),
        })
        .await
        .map_err(explain)?
        .into_inner();
    show(t.client.json, "RecordReceiptResponse", &r, &r.return_case)
}

/// `returns inspect`.
pub async fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let t = &args.target;
    let mut c = client(t).await?;
    let [damage_deduction] = amounts(
        &mut c,
        &t.return_id,
        [("--damage-deduction", &args.damage_deduction)],
    )
    .await?;
    let r = c
        .record_inspection(pb::RecordInspectionRequest {
            return_id: t.return_id.clone(),
            expected_version: t.expected_version.unwrap_or(0),
            inspection: Some(pb::Inspection {
                outcome: args.outcome,
                items: args.items.clone(),
                damage_deduction,
                note: args.note.clone().unwrap_or_default(),
                evidence_uris: args.evidence.clone(),
                inspect_time: args.inspected.map(timestamp),
                recorded_by: None,
            }),
        })
        .await
        .map_err(explain)?
        .into_inner();
    show(
        t.client.json,
        "RecordInspectionResponse",
        &r,
        &r.return_case,
    )
}

/// `returns resolve`.
pub async fn resolve(args: ResolveArgs) -> anyhow::Result<()> {
    let t = &args.target;
    let mut c = client(t).await?;
    let [allowance, compensation] = amounts(
        &mut c,
        &t.return_id,
        [
            ("--allowance", &args.allowance),
            ("--compensation", &args.compensation),
        ],
    )
    .await?;
    let mut exchange_lines = Vec::new();
    if !args.exchange.is_empty() {
        let currency = currency_of(&mut c, &t.return_id).await?;
        for raw in &args.exchange {
            let (item, price) = raw
                .rsplit_once(':')
                .and_then(|(item, price)| parse_item(item).ok().map(|i| (i, price)))
                .with_context(|| {
                    format!("--exchange {raw:?} is not SKU:QTY:PRICE (for example TEE-L:1:50.00)")
                })?;
            exchange_lines.push(pb::ExchangeLine {
                sku: item.sku,
                quantity: item.quantity,
                unit_price: Some(
                    parse_money(&currency, price).with_context(|| format!("--exchange {raw:?}"))?,
                ),
            });
        }
    }
    let r = c
        .resolve_return(pb::ResolveReturnRequest {
            return_id: t.return_id.clone(),
            expected_version: t.expected_version.unwrap_or(0),
            resolution: Some(pb::ResolutionSpec {
                resolution: args.resolution,
                items: args.items.clone(),
                allowance,
                compensation,
                exchange_lines,
            }),
            note: args.note.clone().unwrap_or_default(),
        })
        .await
        .map_err(explain)?
        .into_inner();
    show(t.client.json, "ResolveReturnResponse", &r, &r.return_case)?;
    if !t.client.json
        && let Some(split) = &r.split
    {
        println!();
        print_split(split);
    }
    Ok(())
}

/// `returns evidence`.
pub async fn evidence(args: EvidenceArgs) -> anyhow::Result<()> {
    let t = &args.target;
    let mut c = client(t).await?;
    let r = c
        .add_evidence(pb::AddEvidenceRequest {
            return_id: t.return_id.clone(),
            expected_version: t.expected_version.unwrap_or(0),
            evidence: args
                .uris
                .iter()
                .map(|uri| pb::Evidence {
                    uri: uri.clone(),
                    description: args.description.clone().unwrap_or_default(),
                    ..Default::default()
                })
                .collect(),
        })
        .await
        .map_err(explain)?
        .into_inner();
    show(t.client.json, "AddEvidenceResponse", &r, &r.return_case)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_line_reads_from_the_right_with_decimal_prices() -> anyhow::Result<()> {
        let line = parse_line("EUR", "TEE:M:apparel/tops:2:50.00:30.00")?;
        assert_eq!(line.sku, "TEE:M");
        assert_eq!(line.category, "apparel/tops");
        assert_eq!(line.quantity, 2);
        assert_eq!(line.unit_price.map(|m| m.amount_minor), Some(5000));
        assert_eq!(line.unit_cost.map(|m| m.amount_minor), Some(3000));
        Ok(())
    }

    #[test]
    fn a_malformed_order_line_shows_the_expected_shape() {
        let err = parse_line("EUR", "TEE-M:2:50.00")
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("SKU:CATEGORY:QTY:PRICE:COST")));
        let err = parse_line("EUR", "TEE-M:tops:2:50.001:30")
            .err()
            .map(|e| format!("{e:#}"));
        assert!(err.is_some_and(|e| e.contains("at most 2 decimals")));
    }
}
