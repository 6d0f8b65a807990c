use super::timestamp;
use returnbridge_domain::ids::SupplierId;
use returnbridge_domain::supplier::{
    BACKUP_FIELD, Connector, DeliveryPolicy, DisplayName, EndpointUrl, NewSupplier, Supplier,
    SupplierChanges,
};
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;

/// The supplier as the API shows it (never its signing secret).
pub fn to_proto(s: &Supplier) -> pb::Supplier {
    pb::Supplier {
        supplier_id: s.id.to_string(),
        display_name: s.display_name.as_str().to_owned(),
        connector: Some(match &s.connector {
            Connector::Webhook { url } => pb::supplier::Connector::Webhook(pb::WebhookConnector {
                url: url.as_str().to_owned(),
            }),
            Connector::Grpc { endpoint } => pb::supplier::Connector::Grpc(pb::GrpcConnector {
                endpoint: endpoint.as_str().to_owned(),
            }),
        }),
        backup_supplier_id: s.backup.map(|b| b.to_string()).unwrap_or_default(),
        version: s.version,
        create_time: Some(timestamp(s.created_at)),
        update_time: Some(timestamp(s.updated_at)),
        delivery: Some(pb::DeliveryPolicy {
            retry_delays: s
                .delivery
                .retry_delays
                .iter()
                .flatten()
                .map(|d| prost_types::Duration {
                    seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                    nanos: 0,
                })
                .collect(),
            max_requests_per_second: s
                .delivery
                .max_per_second
                .map_or(0, |n| i32::try_from(n).unwrap_or(i32::MAX)),
        }),
    }
}

/// The delivery policy a request sets (`None`: the defaults).
fn delivery(p: Option<&pb::DeliveryPolicy>, v: &mut Violations) -> DeliveryPolicy {
    let Some(p) = p else {
        return DeliveryPolicy::default();
    };
    let field = "supplier.delivery";
    let delays = p
        .retry_delays
        .iter()
        .map(|d| {
            // Out of range or fractional: DeliveryPolicy::new names the entry.
            u64::try_from(d.seconds)
                .ok()
                .filter(|_| d.nanos == 0)
                .map_or(std::time::Duration::ZERO, std::time::Duration::from_secs)
        })
        .collect();
    let rate = u32::try_from(p.max_requests_per_second).unwrap_or_else(|_| {
        v.add(
            format!("{field}.max_requests_per_second"),
            "must be 0 (no limit) or more",
        );
        0
    });
    DeliveryPolicy::new(delays, rate, field, v)
}

/// Parses a supplier id named by `field`.
pub fn supplier_id(raw: &str, field: &str, v: &mut Violations) -> Option<SupplierId> {
    if raw.is_empty() {
        v.add(field, "is required");
        return None;
    }
    v.take(field, SupplierId::parse(raw))
}

fn connector(c: &pb::supplier::Connector, v: &mut Violations) -> Option<Connector> {
    match c {
        pb::supplier::Connector::Webhook(w) => v
            .take("supplier.webhook.url", EndpointUrl::parse(&w.url))
            .map(|url| Connector::Webhook { url }),
        pb::supplier::Connector::Grpc(g) => v
            .take("supplier.grpc.endpoint", EndpointUrl::parse(&g.endpoint))
            .map(|endpoint| Connector::Grpc { endpoint }),
    }
}

fn backup(raw: &str, v: &mut Violations) -> Option<Option<SupplierId>> {
    if raw.is_empty() {
        return Some(None);
    }
    v.take(BACKUP_FIELD, SupplierId::parse(raw)).map(Some)
}

/// A create request's supplier. Output-only fields (id, version, times) are ignored.
pub fn new_supplier(req: &pb::CreateSupplierRequest) -> Result<NewSupplier, DomainError> {
    let mut v = Violations::default();
    let Some(s) = &req.supplier else {
        v.add("supplier", "is required");
        return Err(DomainError::InvalidArgument(v));
    };
    let display_name = v.take("supplier.display_name", DisplayName::parse(&s.display_name));
    let connector = match &s.connector {
        Some(c) => connector(c, &mut v),
        None => {
            v.add(
                "supplier.connector",
                "set either webhook { url } or grpc { endpoint }",
            );
            None
        }
    };
    let backup = backup(&s.backup_supplier_id, &mut v);
    let delivery = delivery(s.delivery.as_ref(), &mut v);
    v.finish()?;
    match (display_name, connector, backup) {
        (Some(display_name), Some(connector), Some(backup)) => Ok(NewSupplier {
            display_name,
            connector,
            backup,
            delivery,
        }),
        _ => unreachable!("every missing part recorded a violation"),
    }
}

/// An update request: the supplier's id and the fields its mask names.
pub fn supplier_changes(
    req: &pb::UpdateSupplierRequest,
) -> Result<(SupplierId, SupplierChanges), DomainError> {
    let mut v = Violations::default();
    let Some(s) = &req.supplier else {
        v.add("supplier", "is required");
        return Err(DomainError::InvalidArgument(v));
    };
    let id = supplier_id(&s.supplier_id, "supplier.supplier_id", &mut v);
    let mut changes = SupplierChanges::default();
    let paths = req
        .update_mask
        .as_ref()
        .map(|m| m.paths.as_slice())
        .unwrap_or_default();
    if paths.is_empty() && !req.rotate_webhook_secret {
        v.add(
            "update_mask",
            "list the fields to change (display_name, webhook, grpc, backup_supplier_id, \
             delivery), or set \
             rotate_webhook_secret",
        );
    }
    for (i, path) in paths.iter().enumerate() {
        match path.as_str() {
            "display_name" => {
                changes.display_name = v.take("supplier.display_name", DisplayName::parse(&s.display_name))
            }
            "webhook" | "grpc" => match &s.connector {
                Some(c @ pb::supplier::Connector::Webhook(_)) if path == "webhook" => {
                    changes.connector = connector(c, &mut v)
                }
                Some(c @ pb::supplier::Connector::Grpc(_)) if path == "grpc" => {
                    changes.connector = connector(c, &mut v)
                }
                _ => v.add(format!("supplier.{path}"), format!("update_mask names {path}, so set supplier.{path}")),
            },
            "backup_supplier_id" => changes.backup = backup(&s.backup_supplier_id, &mut v),
            "delivery" => changes.delivery = Some(delivery(s.delivery.as_ref(), &mut v)),
            other => v.add(
                format!("update_mask.paths[{i}]"),
                format!("unknown path {other:?}; updatable: display_name, webhook, grpc, backup_supplier_id, delivery"),
            ),
        }
    }
    match req.expected_version {
        0 => {}
        n if n > 0 => changes.expected_version = Some(n),
        _ => v.add(
            "expected_version",
            "must be positive, or 0 to skip the version check",
        ),
    }
    if let Some(id) = id
        && let Err(DomainError::InvalidArgument(own)) = changes.check_for(id)
    {
        v.append(own);
    }
    Ok((v.finish_with(id, "supplier_id")?, changes))
}
