//! GetReturn, ListReturns, ListReturnEvents.

use super::{return_id, return_not_found};
use crate::ApiContext;
use crate::convert::contract::{instant, reason_from_proto};
use crate::convert::return_view::return_to_proto;
use crate::convert::returns::status_from_proto;
use crate::convert::supplier::supplier_id;
use crate::error::ApiError;
use crate::paging::{decode_token, encode_token, page_size};
use returnbridge_convert::events::read_event;
use returnbridge_domain::Violations;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::ReturnId;
use returnbridge_domain::order::OrderRef;
use returnbridge_proto::v1 as pb;
use returnbridge_store::ReturnFilter;
use sha2::{Digest, Sha256};
use tonic::Request;

pub(super) async fn get(
    ctx: &ApiContext,
    request: Request<pb::GetReturnRequest>,
) -> Result<pb::GetReturnResponse, ApiError> {
    let caller = ctx
        .authorize(request.metadata(), Scope::ReturnsRead)
        .await?;
    let id = return_id(&request.get_ref().return_id, "return_id")?;
    let row = ctx
        .store
        .get_return(&caller.tenant, id)
        .await?
        .ok_or_else(|| return_not_found(id))?;
    Ok(pb::GetReturnResponse {
        return_case: Some(return_to_proto(&row)),
    })
}

/// A page token names the last return served and the filters it was served under, so a token cannot
/// silently continue a different listing.
fn filter_tag(req: &pb::ListReturnsRequest) -> String {
    let mut h = Sha256::new();
    h.update(prost::Message::encode_to_vec(&pb::ListReturnsRequest {
        page_size: 0,
        page_token: String::new(),
        ..req.clone()
    }));
    hex_prefix(&h.finalize())
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

pub(super) async fn list(
    ctx: &ApiContext,
    request: Request<pb::ListReturnsRequest>,
) -> Result<pb::ListReturnsResponse, ApiError> {
    let caller = ctx
        .authorize(request.metadata(), Scope::ReturnsRead)
        .await?;
    let req = request.get_ref();
    let mut v = Violations::default();
    let limit = page_size(req.page_size, &mut v);
    let tag = filter_tag(req);
    let after = decode_token(&req.page_token, &mut v).and_then(|p| match p.split_once('/') {
        Some((t, id)) if t == tag => v.take("page_token", ReturnId::parse(id)),
        _ => {
            v.add(
                "page_token",
                "belongs to a listing with other filters; start again without a token",
            );
            None
        }
    });
    let mut filter = ReturnFilter::default();
    for (i, raw) in req.statuses.iter().enumerate() {
        match status_from_proto(*raw) {
            Some(s) => filter.statuses.push(s),
            None => v.add(format!("statuses[{i}]"), "is not a return status"),
        }
    }
    if !req.supplier_id.is_empty() {
        filter.supplier = supplier_id(&req.supplier_id, "supplier_id", &mut v);
    }
    if !req.order_id.is_empty() {
        filter.order_id = v
            .take("order_id", OrderRef::parse(&req.order_id))
            .map(|o| o.as_str().to_owned());
    }
    if req.reason != 0 {
        match reason_from_proto(req.reason) {
            Some(r) => filter.reason = Some(r.as_str().to_owned()),
            None => v.add("reason", "is not a return reason"),
        }
    }
    if let Some(range) = &req.create_time_range {
        filter.created_from = range
            .start_time
            .as_ref()
            .and_then(|t| instant(t, "create_time_range.start_time", &mut v));
        filter.created_before = range
            .end_time
            .as_ref()
            .and_then(|t| instant(t, "create_time_range.end_time", &mut v));
        if let (Some(from), Some(to)) = (filter.created_from, filter.created_before) {
            v.check(
                from < to,
                "create_time_range",
                "start_time must be before end_time",
            );
        }
    }
    v.finish()?;
    let mut rows = ctx
        .store
        .list_returns(&caller.tenant, &filter, after, limit + 1)
        .await?;
    let next_page_token = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|r| encode_token(&format!("{tag}/{}", r.id)))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(pb::ListReturnsResponse {
        returns: rows.iter().map(return_to_proto).collect(),
        next_page_token,
    })
}

pub(super) async fn list_events(
    ctx: &ApiContext,
    request: Request<pb::ListReturnEventsRequest>,
) -> Result<pb::ListReturnEventsResponse, ApiError> {
    let caller = ctx
        .authorize(request.metadata(), Scope::ReturnsRead)
        .await?;
    let req = request.get_ref();
    let id = return_id(&req.return_id, "return_id")?;
    let mut v = Violations::default();
    let limit = page_size(req.page_size, &mut v);
    let after = decode_token(&req.page_token, &mut v)
        .and_then(|p| {
            v.take(
                "page_token",
                p.parse::<i64>()
                    .map_err(|_| "is not a token this service issued".to_owned()),
            )
        })
        .unwrap_or(0);
    v.finish()?;
    if ctx.store.get_return(&caller.tenant, id).await?.is_none() {
        return Err(return_not_found(id));
    }
    let mut events = ctx
        .store
        .list_return_events(&caller.tenant, id, after, limit + 1)
        .await?;
    let next_page_token = if events.len() > limit as usize {
        events.truncate(limit as usize);
        events
            .last()
            .map(|e| encode_token(&e.seq.to_string()))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(pb::ListReturnEventsResponse {
        events: events
            .iter()
            .map(|e| read_event(e.seq, &e.detail))
            .collect::<Result<_, _>>()?,
        next_page_token,
    })
}
