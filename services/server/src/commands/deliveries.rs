//! `deliveries`: the delivery attempts of a return's or a supplier's requests, and redelivery of a
//! request whose retries ran out.

use super::client::{Authenticated, explain};
use super::output::{Table, time};
use super::protojson::print_json;
use crate::cli::DeliveriesCommand;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::delivery_service_client::DeliveryServiceClient;
use returnbridge_proto::v1::list_delivery_attempts_request::Subject;

async fn connect(
    args: &crate::cli::ClientArgs,
) -> anyhow::Result<DeliveryServiceClient<Authenticated>> {
    Ok(DeliveryServiceClient::new(
        super::client::connect(args, None).await?,
    ))
}

/// How an attempt ended, in a table cell: `http 503`, `grpc 14`, `timeout`, ...
fn outcome(a: &pb::DeliveryAttempt) -> String {
    match pb::DeliveryOutcome::try_from(a.outcome).unwrap_or_default() {
        pb::DeliveryOutcome::HttpStatus => format!("http {}", a.status_code),
        pb::DeliveryOutcome::GrpcStatus => format!("grpc {}", a.status_code),
        pb::DeliveryOutcome::Timeout => "timeout".into(),
        pb::DeliveryOutcome::ConnectError => "connect error".into(),
        pb::DeliveryOutcome::BreakerOpen => "breaker open".into(),
        pb::DeliveryOutcome::DestinationRefused => "destination refused".into(),
        pb::DeliveryOutcome::Unspecified => "-".into(),
    }
}

/// An attempt's duration in milliseconds: `16 ms`.
fn took(d: &Option<prost_types::Duration>) -> String {
    match d {
        Some(d) => format!("{} ms", d.seconds * 1000 + i64::from(d.nanos) / 1_000_000),
        None => "-".into(),
    }
}

/// Runs a `deliveries` subcommand against a running server.
pub async fn run(command: DeliveriesCommand) -> anyhow::Result<()> {
    match command {
        DeliveriesCommand::List {
            client,
            return_id,
            supplier,
        } => {
            let subject = match (return_id, supplier) {
                (Some(id), _) => Subject::ReturnId(id),
                (None, Some(id)) => Subject::SupplierId(id),
                (None, None) => anyhow::bail!("name --return or --supplier"),
            };
            let mut c = connect(&client).await?;
            let mut page_token = String::new();
            let mut attempts = Vec::new();
            loop {
                let page = c
                    .list_delivery_attempts(pb::ListDeliveryAttemptsRequest {
                        subject: Some(subject.clone()),
                        page_size: 500,
                        page_token,
                    })
                    .await
                    .map_err(explain)?
                    .into_inner();
                attempts.extend(page.attempts);
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            if client.json {
                return print_json(
                    "ListDeliveryAttemptsResponse",
                    &pb::ListDeliveryAttemptsResponse {
                        attempts,
                        next_page_token: String::new(),
                    },
                );
            }
            let mut t = Table::new(&[
                "request_id",
                "attempt",
                "sent",
                "took",
                "outcome",
                "delivered",
                "next_attempt",
            ]);
            for a in &attempts {
                t.row(vec![
                    a.request_id.clone(),
                    a.attempt.to_string(),
                    time(&a.start_time),
                    took(&a.duration),
                    outcome(a),
                    if a.delivered { "yes" } else { "no" }.into(),
                    if a.next_attempt_time.is_some() {
                        time(&a.next_attempt_time)
                    } else {
                        "-".into()
                    },
                ]);
            }
            t.print();
        }
        DeliveriesCommand::Redeliver { client, request_id } => {
            let mut c = connect(&client).await?;
            let answer = c
                .redeliver_request(pb::RedeliverRequestRequest {
                    request_id: request_id.clone(),
                })
                .await
                .map_err(explain)?
                .into_inner();
            if client.json {
                return print_json("RedeliverRequestResponse", &answer);
            }
            println!("request {request_id} will be delivered again now, under the same id");
        }
    }
    Ok(())
}
