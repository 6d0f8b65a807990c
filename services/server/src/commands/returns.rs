//! `returns get|list|events|cancel`, and dispatch of the lifecycle commands.

use super::client::{Authenticated, connect, explain};
use super::lifecycle;
use super::output::{Table, money, time};
use super::protojson::print_json;
use crate::cli::ReturnsCommand;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::return_service_client::ReturnServiceClient;

fn status_name(raw: i32) -> &'static str {
    pb::ReturnStatus::try_from(raw)
        .map(|s| s.as_str_name().trim_start_matches("RETURN_STATUS_"))
        .unwrap_or("?")
}

/// Prints one return for people.
pub fn print(r: &pb::Return) {
    let order = r.order.as_ref();
    let field = |name: &str, value: &str| println!("{:<13}{value}", format!("{name}:"));
    field("return_id", &r.return_id);
    field(
        "status",
        &format!("{} (version {})", status_name(r.status), r.version),
    );
    field("order", order.map(|o| o.order_id.as_str()).unwrap_or("-"));
    field("supplier", &r.handling_supplier_id);
    let reason = pb::ReturnReason::try_from(r.reason)
        .map(|x| x.as_str_name().trim_start_matches("RETURN_REASON_"))
        .unwrap_or("?");
    field("reason", reason);
    let items: Vec<String> = r
        .items
        .iter()
        .map(|i| format!("{} x{}", i.sku, i.quantity))
        .collect();
    field("items", &items.join(", "));
    if r.label_cost.is_some() {
        field("label cost", &money(&r.label_cost));
    }
    if let Some(d) = &r.decision {
        let outcome = pb::DecisionOutcome::try_from(d.outcome)
            .map(|o| o.as_str_name().trim_start_matches("DECISION_OUTCOME_"))
            .unwrap_or("?");
        field(
            "decision",
            &format!(
                "{outcome} (contract v{}, {})",
                d.contract_version, d.statutory_profile_version
            ),
        );
        let mut reasons = Table::new(&["  reason", "clause"]);
        for reason in &d.reasons {
            let clause = reason
                .clauses
                .first()
                .map(|c| c.text.as_str())
                .unwrap_or_default();
            reasons.row(vec![format!("  {}", reason.code), clause.to_owned()]);
        }
        if !reasons.is_empty() {
            reasons.print();
        }
    }
    if r.ship_by.is_some() {
        field("ship by", &time(&r.ship_by));
    }
    if let Some(s) = &r.shipment {
        field(
            "shipped",
            &format!("{} {} {}", time(&s.ship_time), s.carrier, s.tracking_number),
        );
    }
    if let Some(x) = &r.receipt {
        field("received", &time(&x.receive_time));
    }
    if let Some(x) = &r.inspection {
        let outcome = pb::InspectionOutcome::try_from(x.outcome)
            .map(|o| o.as_str_name().trim_start_matches("INSPECTION_OUTCOME_"))
            .unwrap_or("?");
        field("inspected", &format!("{} {outcome}", time(&x.inspect_time)));
    }
    if let Some(res) = &r.resolution {
        field("resolved", &time(&res.resolve_time));
        field("refund", &money(&res.customer_refund));
    }
    if let Some(c) = &r.cancellation {
        field(
            "cancelled",
            &format!("{} {}", time(&c.cancel_time), c.reason),
        );
    }
}

/// Prints a response holding a return: as JSON, or the return for people.
pub fn show(
    json: bool,
    name: &str,
    response: &impl prost::Message,
    r: &Option<pb::Return>,
) -> anyhow::Result<()> {
    if json {
        return print_json(name, response);
    }
    if let Some(r) = r {
        print(r);
    }
    Ok(())
}

/// Runs a `returns` subcommand against a running server.
pub async fn run(command: ReturnsCommand) -> anyhow::Result<()> {
    match command {
        ReturnsCommand::Get { client, return_id } => {
            let mut c = ReturnServiceClient::new(connect(&client, None).await?);
            let r = c
                .get_return(pb::GetReturnRequest { return_id })
                .await
                .map_err(explain)?
                .into_inner();
            show(client.json, "GetReturnResponse", &r, &r.return_case)
        }
        ReturnsCommand::List {
            client,
            statuses,
            supplier,
        } => {
            let mut c = ReturnServiceClient::new(connect(&client, None).await?);
            list(&mut c, client.json, statuses, supplier.unwrap_or_default()).await
        }
        ReturnsCommand::Events { client, return_id } => {
            let mut c = ReturnServiceClient::new(connect(&client, None).await?);
            events(&mut c, client.json, return_id).await
        }
        ReturnsCommand::Cancel { target, reason } => {
            let mut c = ReturnServiceClient::new(
                connect(&target.client, target.idempotency_key.as_deref()).await?,
            );
            let r = c
                .cancel_return(pb::CancelReturnRequest {
                    return_id: target.return_id,
                    expected_version: target.expected_version.unwrap_or(0),
                    reason,
                })
                .await
                .map_err(explain)?
                .into_inner();
            show(
                target.client.json,
                "CancelReturnResponse",
                &r,
                &r.return_case,
            )
        }
        ReturnsCommand::Authorize(args) => lifecycle::authorize(*args).await,
        ReturnsCommand::Ship(args) => lifecycle::ship(args).await,
        ReturnsCommand::Receive(args) => lifecycle::receive(args).await,
        ReturnsCommand::Inspect(args) => lifecycle::inspect(args).await,
        ReturnsCommand::Resolve(args) => lifecycle::resolve(args).await,
        ReturnsCommand::Evidence(args) => lifecycle::evidence(args).await,
    }
}

/// Every page, newest first as the server lists them; printed once all arrived.
async fn list(
    c: &mut ReturnServiceClient<Authenticated>,
    json: bool,
    statuses: Vec<i32>,
    supplier_id: String,
) -> anyhow::Result<()> {
    let mut page_token = String::new();
    let mut returns = Vec::new();
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
        returns.extend(page.returns);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    if json {
        return print_json(
            "ListReturnsResponse",
            &pb::ListReturnsResponse {
                returns,
                next_page_token: String::new(),
            },
        );
    }
    let mut t = Table::new(&["return_id", "status", "order", "created", "supplier"]);
    for r in &returns {
        t.row(vec![
            r.return_id.clone(),
            status_name(r.status).to_owned(),
            r.order
                .as_ref()
                .map(|o| o.order_id.clone())
                .unwrap_or_default(),
            time(&r.create_time),
            r.handling_supplier_id.clone(),
        ]);
    }
    t.print();
    Ok(())
}

/// A return's audit trail, oldest first.
async fn events(
    c: &mut ReturnServiceClient<Authenticated>,
    json: bool,
    return_id: String,
) -> anyhow::Result<()> {
    let mut page_token = String::new();
    let mut events = Vec::new();
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
        events.extend(page.events);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    if json {
        return print_json(
            "ListReturnEventsResponse",
            &pb::ListReturnEventsResponse {
                events,
                next_page_token: String::new(),
            },
        );
    }
    let mut t = Table::new(&[">sequence", "time", "event", "status", "by"]);
    for e in &events {
        let kind = pb::ReturnEventType::try_from(e.event_type)
            .map(|t| t.as_str_name().trim_start_matches("RETURN_EVENT_TYPE_"))
            .unwrap_or("?");
        t.row(vec![
            e.sequence.to_string(),
            time(&e.event_time),
            kind.to_owned(),
            status_name(e.to_status).to_owned(),
            e.actor.as_ref().map(|a| a.id.clone()).unwrap_or_default(),
        ]);
    }
    t.print();
    Ok(())
}
