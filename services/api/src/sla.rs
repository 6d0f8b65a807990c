//! SlaService: operations' read model of supplier performance. ListSlaBreaches reads the breaches
//! the SLA clock records; GetSupplierSla and GetReturnAnalytics are not built yet and answer
//! UNIMPLEMENTED once the caller's key is checked, so a caller without one learns nothing.

use crate::ApiContext;
use crate::convert::contract::instant;
use crate::convert::return_view::by_name;
use crate::convert::supplier::supplier_id;
use crate::convert::timestamp;
use crate::error::{ApiError, respond};
use crate::paging::{decode_token, encode_token, page_size};
use chrono::DateTime;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::returns::DeadlineKind;
use returnbridge_domain::{DomainError, Resource, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::sla_service_server::SlaService;
use returnbridge_store::{BreachCursor, BreachFilter, StoredBreach};
use tonic::{Request, Response, Status};

/// SlaService (supplier SLA reports and analytics).
#[derive(Clone)]
pub struct SlaApi {
    ctx: ApiContext,
}

impl SlaApi {
    /// The service over `ctx`.
    pub fn new(ctx: ApiContext) -> Self {
        Self { ctx }
    }

    async fn unbuilt<T, R>(&self, request: &Request<T>, rpc: &str) -> Result<R, ApiError> {
        self.ctx
            .authorize(request.metadata(), Scope::SlaRead)
            .await?;
        Err(ApiError::Unimplemented(format!(
            "SlaService.{rpc} is not available yet"
        )))
    }

    async fn list_breaches(
        &self,
        request: Request<pb::ListSlaBreachesRequest>,
    ) -> Result<pb::ListSlaBreachesResponse, ApiError> {
        let caller = self
            .ctx
            .authorize(request.metadata(), Scope::SlaRead)
            .await?;
        let req = request.get_ref();
        let mut v = Violations::default();
        let limit = page_size(req.page_size, &mut v);
        let mut filter = BreachFilter::default();
        if !req.supplier_id.is_empty() {
            filter.supplier = supplier_id(&req.supplier_id, "supplier_id", &mut v);
        }
        filter.deadline_kind = match pb::SlaDeadlineKind::try_from(req.deadline_kind) {
            Ok(pb::SlaDeadlineKind::Unspecified) => None,
            Ok(kind) => kind
                .as_str_name()
                .strip_prefix("SLA_DEADLINE_KIND_")
                .and_then(|k| DeadlineKind::parse(k).ok())
                .map(|k| k.as_str().to_owned()),
            Err(_) => {
                v.add("deadline_kind", "is not a deadline kind");
                None
            }
        };
        if let Some(range) = &req.breach_time_range {
            filter.from = range
                .start_time
                .as_ref()
                .and_then(|t| instant(t, "breach_time_range.start_time", &mut v));
            filter.before = range
                .end_time
                .as_ref()
                .and_then(|t| instant(t, "breach_time_range.end_time", &mut v));
        }
        let after = decode_token(&req.page_token, &mut v).and_then(|p| cursor(&p, &mut v));
        v.finish()?;
        // Another tenant's supplier (or none) is NOT_FOUND, not an empty page.
        if let Some(supplier) = filter.supplier
            && self
                .ctx
                .store
                .get_supplier(&caller.tenant, supplier)
                .await?
                .is_none()
        {
            return Err(DomainError::NotFound {
                resource: Resource::Supplier,
                id: supplier.to_string(),
            }
            .into());
        }
        let mut rows = self
            .ctx
            .store
            .list_sla_breaches(&caller.tenant, &filter, after.as_ref(), limit + 1)
            .await?;
        let next_page_token = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last()
                .map(|b| {
                    encode_token(&format!(
                        "{}|{}|{}",
                        b.breached_at.to_rfc3339(),
                        b.request_id,
                        b.deadline_kind
                    ))
                })
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(pb::ListSlaBreachesResponse {
            breaches: rows.iter().map(breach_to_proto).collect(),
            next_page_token,
        })
    }
}

/// The position a page token names.
fn cursor(position: &str, v: &mut Violations) -> Option<BreachCursor> {
    let mut parts = position.splitn(3, '|');
    let parsed = (|| {
        Some(BreachCursor {
            breached_at: DateTime::parse_from_rfc3339(parts.next()?).ok()?.to_utc(),
            request_id: uuid::Uuid::try_parse(parts.next()?).ok()?,
            deadline_kind: parts.next()?.to_owned(),
        })
    })();
    if parsed.is_none() {
        v.add("page_token", "is not a token this listing issued");
    }
    parsed
}

/// A recorded breach as the API shows it; its id is the request's and the deadline kind's.
fn breach_to_proto(b: &StoredBreach) -> pb::SlaBreach {
    pb::SlaBreach {
        breach_id: format!("{}:{}", b.request_id, b.deadline_kind),
        supplier_id: b.supplier.to_string(),
        return_id: b.return_id.to_string(),
        request_id: b.request_id.to_string(),
        request_kind: by_name("SUPPLIER_REQUEST_KIND_", &b.request_kind, |n| {
            pb::SupplierRequestKind::from_str_name(n).map(|k| k as i32)
        }),
        deadline_kind: by_name("SLA_DEADLINE_KIND_", &b.deadline_kind, |n| {
            pb::SlaDeadlineKind::from_str_name(n).map(|k| k as i32)
        }),
        deadline_time: Some(timestamp(b.deadline_at)),
        breach_time: Some(timestamp(b.breached_at)),
        action: by_name("SLA_BREACH_ACTION_", &b.action, |n| {
            pb::SlaBreachAction::from_str_name(n).map(|k| k as i32)
        }),
        failover_supplier_id: b
            .failover_supplier
            .map(|s| s.to_string())
            .unwrap_or_default(),
        contract_version: b.contract_version,
    }
}

#[tonic::async_trait]
impl SlaService for SlaApi {
    async fn get_supplier_sla(
        &self,
        request: Request<pb::GetSupplierSlaRequest>,
    ) -> Result<Response<pb::GetSupplierSlaResponse>, Status> {
        respond(self.unbuilt(&request, "GetSupplierSla").await)
    }

    async fn list_sla_breaches(
        &self,
        request: Request<pb::ListSlaBreachesRequest>,
    ) -> Result<Response<pb::ListSlaBreachesResponse>, Status> {
        respond(self.list_breaches(request).await)
    }

    async fn get_return_analytics(
        &self,
        request: Request<pb::GetReturnAnalyticsRequest>,
    ) -> Result<Response<pb::GetReturnAnalyticsResponse>, Status> {
        respond(self.unbuilt(&request, "GetReturnAnalytics").await)
    }
}
