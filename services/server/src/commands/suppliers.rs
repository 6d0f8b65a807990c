use super::client::{Authenticated, explain};
use super::output::Table;
use super::protojson::print_json;
use crate::cli::{ClientArgs, SuppliersCommand};
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::contract_service_client::ContractServiceClient;

async fn connect(
    args: &ClientArgs,
    idempotency_key: Option<&str>,
) -> anyhow::Result<ContractServiceClient<Authenticated>> {
    Ok(ContractServiceClient::new(
        super::client::connect(args, idempotency_key).await?,
    ))
}

fn connector(
    webhook_url: Option<String>,
    grpc_endpoint: Option<String>,
) -> Option<pb::supplier::Connector> {
    match (webhook_url, grpc_endpoint) {
        (Some(url), _) => Some(pb::supplier::Connector::Webhook(pb::WebhookConnector {
            url,
        })),
        (None, Some(endpoint)) => Some(pb::supplier::Connector::Grpc(pb::GrpcConnector {
            endpoint,
        })),
        (None, None) => None,
    }
}

fn print(s: &pb::Supplier) {
    let connector = match &s.connector {
        Some(pb::supplier::Connector::Webhook(w)) => format!("webhook {}", w.url),
        Some(pb::supplier::Connector::Grpc(g)) => format!("grpc {}", g.endpoint),
        None => "-".into(),
    };
    let backup = if s.backup_supplier_id.is_empty() {
        "-"
    } else {
        &s.backup_supplier_id
    };
    println!("supplier_id:  {}", s.supplier_id);
    println!("display_name: {}", s.display_name);
    println!("connector:    {connector}");
    println!("backup:       {backup}");
    let policy = s.delivery.clone().unwrap_or_default();
    let retries = if policy.retry_delays.is_empty() {
        "default schedule".to_owned()
    } else {
        policy
            .retry_delays
            .iter()
            .map(|d| format!("{}s", d.seconds))
            .collect::<Vec<_>>()
            .join(",")
    };
    let rate = match policy.max_requests_per_second {
        0 => "no rate limit".to_owned(),
        n => format!("at most {n}/s"),
    };
    println!("delivery:     retries {retries}; {rate}");
    println!("version:      {}", s.version);
}

/// Runs a `suppliers` subcommand against a running server.
pub async fn run(command: SuppliersCommand) -> anyhow::Result<()> {
    match command {
        SuppliersCommand::Create {
            client,
            name,
            webhook_url,
            grpc_endpoint,
            backup,
            idempotency_key,
        } => {
            let mut c = connect(&client, idempotency_key.as_deref()).await?;
            let created = c
                .create_supplier(pb::CreateSupplierRequest {
                    supplier: Some(pb::Supplier {
                        display_name: name,
                        connector: connector(webhook_url, grpc_endpoint),
                        backup_supplier_id: backup.unwrap_or_default(),
                        ..Default::default()
                    }),
                })
                .await
                .map_err(explain)?
                .into_inner();
            if client.json {
                return print_json("CreateSupplierResponse", &created);
            }
            if let Some(s) = &created.supplier {
                print(s);
            }
            println!(
                "webhook_signing_secret: {} (shown once)",
                created.webhook_signing_secret
            );
        }
        SuppliersCommand::Get {
            client,
            supplier_id,
        } => {
            let mut c = connect(&client, None).await?;
            let got = c
                .get_supplier(pb::GetSupplierRequest { supplier_id })
                .await
                .map_err(explain)?
                .into_inner();
            if client.json {
                return print_json("GetSupplierResponse", &got);
            }
            if let Some(s) = &got.supplier {
                print(s);
            }
        }
        SuppliersCommand::List { client } => {
            let mut c = connect(&client, None).await?;
            let mut page_token = String::new();
            let mut suppliers = Vec::new();
            loop {
                let page = c
                    .list_suppliers(pb::ListSuppliersRequest {
                        page_size: 500,
                        page_token,
                    })
                    .await
                    .map_err(explain)?
                    .into_inner();
                suppliers.extend(page.suppliers);
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            if client.json {
                return print_json(
                    "ListSuppliersResponse",
                    &pb::ListSuppliersResponse {
                        suppliers,
                        next_page_token: String::new(),
                    },
                );
            }
            let mut t = Table::new(&["supplier_id", "connector", "display_name"]);
            for s in &suppliers {
                let kind = match s.connector {
                    Some(pb::supplier::Connector::Grpc(_)) => "grpc",
                    _ => "webhook",
                };
                t.row(vec![
                    s.supplier_id.clone(),
                    kind.into(),
                    s.display_name.clone(),
                ]);
            }
            t.print();
        }
        SuppliersCommand::Update {
            client,
            supplier_id,
            name,
            webhook_url,
            grpc_endpoint,
            backup,
            no_backup,
            rotate_webhook_secret,
            retry_delays,
            max_requests_per_second,
            expected_version,
        } => {
            let mut paths = Vec::new();
            if name.is_some() {
                paths.push("display_name".to_owned());
            }
            if webhook_url.is_some() {
                paths.push("webhook".into());
            }
            if grpc_endpoint.is_some() {
                paths.push("grpc".into());
            }
            if backup.is_some() || no_backup {
                paths.push("backup_supplier_id".into());
            }
            let delivery =
                (retry_delays.is_some() || max_requests_per_second.is_some()).then(|| {
                    paths.push("delivery".into());
                    pb::DeliveryPolicy {
                        retry_delays: retry_delays.unwrap_or_default(),
                        max_requests_per_second: max_requests_per_second.unwrap_or_default(),
                    }
                });
            let mut c = connect(&client, None).await?;
            let updated = c
                .update_supplier(pb::UpdateSupplierRequest {
                    supplier: Some(pb::Supplier {
                        supplier_id,
                        display_name: name.unwrap_or_default(),
                        connector: connector(webhook_url, grpc_endpoint),
                        backup_supplier_id: backup.unwrap_or_default(),
                        delivery,
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask { paths }),
                    expected_version: expected_version.unwrap_or(0),
                    rotate_webhook_secret,
                })
                .await
                .map_err(explain)?
                .into_inner();
            if client.json {
                return print_json("UpdateSupplierResponse", &updated);
            }
            if let Some(s) = &updated.supplier {
                print(s);
            }
            if !updated.webhook_signing_secret.is_empty() {
                println!(
                    "webhook_signing_secret: {} (shown once; the old secret signs beside it for 24 hours)",
                    updated.webhook_signing_secret
                );
            }
        }
    }
    Ok(())
}
