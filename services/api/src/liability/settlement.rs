//! GetSettlementStatement: what a supplier and the seller owe each other for the returns resolved in
//! a period, in one currency (never converted). Totals cover the whole period on every page.

use crate::ApiContext;
use crate::convert::contract::period;
use crate::convert::supplier::supplier_id;
use crate::convert::{money_to_proto, timestamp};
use crate::error::ApiError;
use crate::paging::{decode_token, encode_token, page_size};
use chrono::DateTime;
use prost::Message;
use returnbridge_domain::Resource;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::currency::Currency;
use returnbridge_domain::ids::ReturnId;
use returnbridge_domain::money::Money;
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{SettlementScope, StoreError};
use tonic::Request;

pub(super) async fn statement(
    ctx: &ApiContext,
    request: Request<pb::GetSettlementStatementRequest>,
) -> Result<pb::GetSettlementStatementResponse, ApiError> {
    let caller = ctx
        .authorize(request.metadata(), Scope::LiabilityRead)
        .await?;
    let req = request.get_ref();
    let mut v = Violations::default();
    let supplier = supplier_id(&req.supplier_id, "supplier_id", &mut v);
    let currency = v.take("currency_code", Currency::parse(&req.currency_code));
    let range = period(req.period.as_ref(), "period", &mut v);
    let (from, to) = (range.map(|r| r.0), range.map(|r| r.1));
    let limit = page_size(req.page_size, &mut v);
    let scope_tag = format!(
        "{}/{}/{:?}/{:?}",
        req.supplier_id, req.currency_code, from, to
    );
    let after = decode_token(&req.page_token, &mut v).and_then(|p| {
        let mut parts = p.splitn(3, '|');
        let (tag, micros, id) = (parts.next()?, parts.next()?, parts.next()?);
        let position = (tag == scope_tag)
            .then(|| {
                Some((
                    DateTime::from_timestamp_micros(micros.parse().ok()?)?,
                    ReturnId::parse(id).ok()?,
                ))
            })
            .flatten();
        if position.is_none() {
            v.add(
                "page_token",
                "belongs to another statement; start again without a token",
            );
        }
        position
    });
    v.finish()?;
    let (Some(supplier), Some(currency), Some(from), Some(to)) = (supplier, currency, from, to)
    else {
        unreachable!("every missing part recorded a violation")
    };
    if ctx
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
    let scope = SettlementScope {
        supplier,
        currency: currency.code().to_owned(),
        from,
        to,
    };
    let sums = ctx.store.settlement_sums(&caller.tenant, &scope).await?;
    let mut rows = ctx
        .store
        .settlement_lines(&caller.tenant, &scope, after, limit + 1)
        .await?;
    let next_page_token = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|r| {
                encode_token(&format!(
                    "{scope_tag}|{}|{}",
                    r.resolved_at.timestamp_micros(),
                    r.return_id
                ))
            })
            .unwrap_or_default()
    } else {
        String::new()
    };
    let lines = rows
        .iter()
        .map(|r| {
            pb::SettlementLine::decode(r.line.as_slice()).map_err(|e| {
                StoreError::Corrupt(format!("settlement line of {}: {e}", r.return_id))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let owed_to_seller = Money::new(currency, sums.supplier_owes_seller);
    let owed_to_supplier = Money::new(currency, sums.seller_owes_supplier);
    let net = owed_to_seller
        .checked_sub(owed_to_supplier)
        .map_err(|_| StoreError::Corrupt("settlement totals out of range".into()))?;
    Ok(pb::GetSettlementStatementResponse {
        supplier_id: supplier.to_string(),
        period: req.period,
        currency_code: currency.code().to_owned(),
        lines,
        totals: Some(pb::SettlementTotals {
            supplier_owes_seller: Some(money_to_proto(owed_to_seller)),
            seller_owes_supplier: Some(money_to_proto(owed_to_supplier)),
            net: Some(money_to_proto(net)),
            line_count: sums.lines,
        }),
        next_page_token,
        generate_time: Some(timestamp(ctx.clock.now())),
    })
}
