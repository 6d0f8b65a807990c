//! RecordSales: units sold per supplier, SKU and period, the denominator of return rates.

use crate::ApiContext;
use crate::convert::contract::period;
use crate::convert::supplier::supplier_id;
use crate::error::ApiError;
use crate::idempotency::{Idempotency, answer, keep};
use returnbridge_domain::Violations;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::order::{Category, Sku};
use returnbridge_domain::order_input::MAX_CLOCK_SKEW;
use returnbridge_proto::v1 as pb;
use returnbridge_store::SalesRecord;
use std::collections::HashSet;
use tonic::Request;

/// Most records one call may carry.
const MAX_RECORDS: usize = 1000;
/// Most units one record may report.
const MAX_UNITS: i64 = 1_000_000_000_000;

pub(super) async fn record(
    ctx: &ApiContext,
    request: Request<pb::RecordSalesRequest>,
) -> Result<pb::RecordSalesResponse, ApiError> {
    let caller = ctx
        .authorize(request.metadata(), Scope::ReturnsWrite)
        .await?;
    let idempotency = Idempotency::of(request.metadata(), "RecordSales", request.get_ref(), false)?;
    let req = request.get_ref();
    let mut v = Violations::default();
    v.check(
        !req.records.is_empty(),
        "records",
        "must list at least one record",
    );
    v.check(
        req.records.len() <= MAX_RECORDS,
        "records",
        format!("at most {MAX_RECORDS} per call"),
    );
    let now = ctx.clock.now();
    let mut seen = HashSet::new();
    let mut records = Vec::new();
    for (i, r) in req.records.iter().enumerate() {
        let field = |f: &str| format!("records[{i}].{f}");
        let supplier = supplier_id(&r.supplier_id, &field("supplier_id"), &mut v);
        let sku = v.take(&field("sku"), Sku::parse(&r.sku));
        let category = if r.category.is_empty() {
            Some(String::new())
        } else {
            v.take(&field("category"), Category::parse(&r.category))
                .map(|c| c.as_str().to_owned())
        };
        v.check(
            (0..=MAX_UNITS).contains(&r.units_sold),
            field("units_sold"),
            format!("must be between 0 and {MAX_UNITS}"),
        );
        let range = period(r.period.as_ref(), &field("period"), &mut v);
        if let Some((s, e)) = range {
            v.check(
                e <= now + MAX_CLOCK_SKEW,
                field("period.end_time"),
                "lies in the future; report sales of periods that have ended",
            );
            v.check(
                seen.insert((r.supplier_id.as_str(), r.sku.as_str(), s, e)),
                format!("records[{i}]"),
                "repeats an earlier record's supplier, SKU and period; send one record for them",
            );
        }
        let (start, end) = (range.map(|r| r.0), range.map(|r| r.1));
        if let (Some(supplier), Some(sku), Some(category), Some(period_start), Some(period_end)) =
            (supplier, sku, category, start, end)
        {
            records.push(SalesRecord {
                supplier,
                sku: sku.as_str().to_owned(),
                category,
                period_start,
                period_end,
                units_sold: r.units_sold,
            });
        }
    }
    v.finish()?;
    let render = |&(inserted, replaced): &(u32, u32)| pb::RecordSalesResponse {
        inserted_count: inserted as i32,
        replaced_count: replaced as i32,
    };
    let encode = keep(&render);
    let applied = ctx
        .store
        .record_sales(&caller.tenant, &records, now, idempotency.claim(&encode))
        .await?;
    answer(applied, render)
}
