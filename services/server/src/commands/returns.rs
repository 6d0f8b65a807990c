use super::client::{Authenticated, connect, explain};
use crate::cli::{ReturnsCommand, SettlementArgs};
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::liability_service_client::LiabilityServiceClient;
use returnbridge_proto::v1::return_service_client::ReturnServiceClient;

fn money(m: &Option<pb::Money>) -> String {
    match m {
        Some(m) => format!("{} {}", m.amount_minor, m.currency_code),
        None => "-".into(),
    }
}

fn status_name(raw: i32) -> &'static str {
    pb::ReturnStatus::try_from(raw)
        .map(|s| s.as_str_name().trim_start_matches("RETURN_STATUS_"))
        .unwrap_or("?")
}

fn print(r: &pb::Return) {
    let order = r.order.as_ref();
    println!("return_id:  {}", r.return_id);
    println!(
        "status:     {} (version {})",
        status_name(r.status),
        r.version
    );
    println!(
        "order:      {}",
        order.map(|o| o.order_id.as_str()).unwrap_or("-")
    );
    println!("supplier:   {}", r.handling_supplier_id);
    if let Some(d) = &r.decision {
        let outcome = pb::DecisionOutcome::try_from(d.outcome)
            .map(|o| o.as_str_name())
            .unwrap_or("?");
        println!(
            "decision:   {outcome} (contract v{}, {})",
            d.contract_version, d.statutory_profile_version
        );
        for reason in &d.reasons {
            let clause = reason
                .clauses
                .first()
                .map(|c| c.text.as_str())
                .unwrap_or_default();
            println!("  {:<36} {clause}", reason.code);
        }
    }
    if let Some(res) = &r.resolution {
        println!("refund:     {}", money(&res.customer_refund));
    }
}

/// Runs a `returns` subcommand against a running server.
pub async fn run(command: ReturnsCommand) -> anyhow::Result<()> {
    match command {
        ReturnsCommand::Get { client, return_id } => {
            let mut c = ReturnServiceClient::new(connect(&client, None).await?);
            let r = c
                .get_return(pb::GetReturnRequest { return_id })
                .await
                .map_err(explain)?;
            if let Some(r) = &r.into_inner().return_case {
                print(r);
            }
        }
        ReturnsCommand::List {
            client,
            statuses,
            supplier,
        } => {
            let mut c = ReturnServiceClient::new(connect(&client, None).await?);
            let statuses = statuses
                .iter()
                .map(|s| {
                    pb::ReturnStatus::from_str_name(&format!("RETURN_STATUS_{}", s.to_uppercase()))
                        .map(|s| s as i32)
                        .ok_or_else(|| anyhow::anyhow!("--status {s:?} is not a return status"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            list(&mut c, statuses, supplier.unwrap_or_default()).await?;
        }
        ReturnsCommand::Events { client, return_id } => {
            let mut c = ReturnServiceClient::new(connect(&client, None).await?);
            let mut page_token = String::new();
            loop {
                let page = c
                    .list_return_events(pb::ListReturnEventsRequest {
                        return_id: return_id.clone(),
                        page_size: 500,
                        page_token,
                    })
                    .await
                    .map_err(explain)?
                    .into_inner();
                for e in &page.events {
                    let kind = pb::ReturnEventType::try_from(e.event_type)
                        .map(|t| t.as_str_name().trim_start_matches("RETURN_EVENT_TYPE_"))
                        .unwrap_or("?");
                    let at = e.event_time.map(|t| t.seconds).unwrap_or_default();
                    let when = chrono::DateTime::from_timestamp(at, 0)
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default();
                    let by = e.actor.as_ref().map(|a| a.id.as_str()).unwrap_or("-");
                    println!(
                        "{:>6}  {when}  {kind:<24} {:<16} by {by}",
                        e.sequence,
                        status_name(e.to_status)
                    );
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
        }
        ReturnsCommand::Cancel {
            client,
            return_id,
            reason,
        } => {
            let mut c = ReturnServiceClient::new(connect(&client, None).await?);
            let r = c
                .cancel_return(pb::CancelReturnRequest {
                    return_id,
                    expected_version: 0,
                    reason,
                })
                .await
                .map_err(explain)?;
            if let Some(r) = &r.into_inner().return_case {
                print(r);
            }
        }
    }
    Ok(())
}

async fn list(
    c: &mut ReturnServiceClient<Authenticated>,
    statuses: Vec<i32>,
    supplier_id: String,
) -> anyhow::Result<()> {
    let mut page_token = String::new();
    println!(
        "{:<36}  {:<16}  {:<20}  supplier",
        "return_id", "status", "order"
    );
    loop {
        let page = c
            .list_returns(pb::ListReturnsRequest {
                page_size: 500,
                page_token,
                statuses: statuses.clone(),
                supplier_id: supplier_id.clone(),
                ..Default::default()
            })
            .await
            .map_err(explain)?
            .into_inner();
        for r in &page.returns {
            let order = r.order.as_ref().map(|o| o.order_id.as_str()).unwrap_or("-");
            println!(
                "{:<36}  {:<16}  {order:<20}  {}",
                r.return_id,
                status_name(r.status),
                r.handling_supplier_id
            );
        }
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        page_token = page.next_page_token;
    }
}

/// Prints a supplier's settlement statement, every page, then its totals.
pub async fn settlement(args: SettlementArgs) -> anyhow::Result<()> {
    let mut c = LiabilityServiceClient::new(connect(&args.client, None).await?);
    let ts = |t: chrono::DateTime<chrono::Utc>| prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    };
    let mut page_token = String::new();
    println!(
        "{:<36}  {:<20}  {:>14}  {:>14}  {:>14}",
        "return_id", "order", "supplier owes", "seller owes", "net"
    );
    loop {
        let page = c
            .get_settlement_statement(pb::GetSettlementStatementRequest {
                supplier_id: args.supplier.clone(),
                period: Some(pb::TimeRange {
                    start_time: Some(ts(args.from)),
                    end_time: Some(ts(args.to)),
                }),
                currency_code: args.currency.clone(),
                page_size: 500,
                page_token,
            })
            .await
            .map_err(explain)?
            .into_inner();
        for l in &page.lines {
            println!(
                "{:<36}  {:<20}  {:>14}  {:>14}  {:>14}",
                l.return_id,
                l.order_id,
                money(&l.supplier_owes_seller),
                money(&l.seller_owes_supplier),
                money(&l.net)
            );
        }
        if page.next_page_token.is_empty() {
            if let Some(t) = page.totals {
                println!(
                    "{:<36}  {:<20}  {:>14}  {:>14}  {:>14}",
                    format!("TOTAL ({} returns)", t.line_count),
                    "",
                    money(&t.supplier_owes_seller),
                    money(&t.seller_owes_supplier),
                    money(&t.net)
                );
            }
            return Ok(());
        }
        page_token = page.next_page_token;
    }
}
