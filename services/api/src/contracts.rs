//! Contracts and seller settings: the ContractService handlers' logic, and the reads other services
//! (AuthorizeReturn) make of them, decoded into the domain.
//!
//! Statutory floors are applied on top, never stored into either: a contract window shorter than the
//! customer's statutory one is accepted (the supplier's deal with the seller) and outlasted by the
//! statute in the decision, and a customer restocking fee above a profile's cap is accepted and
//! capped per return (`SellerSettings::customer_fee`), as the proto's SellerSettings comment says.

use crate::ApiContext;
use crate::convert::contract::{
    contract_to_domain, contract_to_proto, instant, terms_input, terms_to_proto,
};
use crate::convert::settings::{self, patch};
use crate::convert::supplier::supplier_id;
use crate::error::ApiError;
use crate::idempotency::{Idempotency, answer, keep};
use crate::paging::{decode_token, encode_token, page_size};
use chrono::{DateTime, Utc};
use prost::Message;
use returnbridge_domain::Resource;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::contract::{BreachAction, ContractVersion, SellerSettings};
use returnbridge_domain::contract_input::PublishContractInput;
use returnbridge_domain::ids::{SupplierId, TenantId};
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{NewContractVersion, SettingsWrite, StoredContract, StoredSettings};
use tonic::Request;

/// The contract version of `supplier` in effect at `at` (an order time), decoded into the domain;
/// `None` when no version is in effect then. An unknown supplier, or another tenant's, is NOT_FOUND
/// (`SUPPLIER_NOT_FOUND`).
pub async fn contract_in_effect(
    ctx: &ApiContext,
    tenant: &TenantId,
    supplier: SupplierId,
    at: DateTime<Utc>,
) -> Result<Option<ContractVersion>, ApiError> {
    let stored = ctx.store.contract_in_effect(tenant, supplier, at).await?;
    Ok(stored.as_ref().map(contract_to_domain).transpose()?)
}

/// The tenant's seller settings decoded into the domain, and their version: the defaults with
/// version 0 while never set.
pub async fn seller_settings(
    ctx: &ApiContext,
    tenant: &TenantId,
) -> Result<(SellerSettings, i64), ApiError> {
    let stored = ctx.store.seller_settings(tenant).await?;
    Ok(settings::to_domain(stored.as_ref())?)
}

fn contract_not_found(supplier: SupplierId, what: String) -> ApiError {
    DomainError::NotFound {
        resource: Resource::Contract,
        id: format!("{supplier} {what}"),
    }
    .into()
}

/// Checks a publish request, collecting every violation (the edge's and the domain's) into one.
fn new_version(
    req: &pb::PublishContractRequest,
    now: DateTime<Utc>,
) -> Result<(NewContractVersion, pb::ContractTerms), ApiError> {
    let mut v = Violations::default();
    let effective_from = req
        .effective_from
        .as_ref()
        .and_then(|t| instant(t, "effective_from", &mut v));
    let expected_latest_version = match req.expected_latest_version {
        0 => None,
        n if n > 0 => Some(n),
        _ => {
            v.add(
                "expected_latest_version",
                "must be positive, or 0 to skip the check",
            );
            None
        }
    };
    let parsed = PublishContractInput {
        supplier_id: req.supplier_id.clone(),
        effective_from,
        terms: req.terms.as_ref().map(terms_input),
        description: req.description.clone(),
    }
    .parse(now);
    let parsed = match parsed {
        Err(DomainError::InvalidArgument(own)) => {
            v.append(own);
            None
        }
        other => Some(other?),
    };
    let c = v.finish_with(parsed, "terms")?;
    let terms = terms_to_proto(&c.terms);
    Ok((
        NewContractVersion {
            supplier: c.supplier,
            effective_from: c.effective_from,
            terms: terms.encode_to_vec(),
            description: c.description,
            expected_latest_version,
            requires_backup: c.terms.sla.breach_action == BreachAction::Failover,
        },
        terms,
    ))
}

/// PublishContract.
pub(crate) async fn publish(
    ctx: &ApiContext,
    request: Request<pb::PublishContractRequest>,
) -> Result<pb::PublishContractResponse, ApiError> {
    let caller = ctx
        .authorize(request.metadata(), Scope::ContractsWrite)
        .await?;
    let idempotency = Idempotency::of(
        request.metadata(),
        "PublishContract",
        request.get_ref(),
        false,
    )?;
    let req = request.into_inner();
    let now = ctx.clock.now();
    let (new, terms) = new_version(&req, now)?;
    // Rendered from the terms just checked, so the answer needs no decoding and cannot fail.
    let render = |c: &StoredContract| pb::PublishContractResponse {
        contract: Some(pb::Contract {
            supplier_id: c.supplier.to_string(),
            version: c.version,
            effective_from: Some(crate::convert::timestamp(c.effective_from)),
            effective_until: None,
            terms: Some(terms.clone()),
            description: c.description.clone(),
            create_time: Some(crate::convert::timestamp(c.published_at)),
        }),
    };
    let encode = keep(&render);
    let applied = ctx
        .store
        .publish_contract(&caller.tenant, new, now, idempotency.claim(&encode))
        .await?;
    answer(applied, render)
}

/// Which version GetContract reads.
enum Which {
    Version(i64),
    At(DateTime<Utc>),
}

/// GetContract: by version number, or in effect at an instant (default now).
pub(crate) async fn get(
    ctx: &ApiContext,
    request: Request<pb::GetContractRequest>,
) -> Result<pb::GetContractResponse, ApiError> {
    use pb::get_contract_request::Selector;
    let caller = ctx
        .authorize(request.metadata(), Scope::ContractsRead)
        .await?;
    let req = request.into_inner();
    let mut v = Violations::default();
    let supplier = supplier_id(&req.supplier_id, "supplier_id", &mut v);
    let which = match req.selector {
        None => Some(Which::At(ctx.clock.now())),
        Some(Selector::Version(n)) if n >= 1 => Some(Which::Version(n)),
        Some(Selector::Version(_)) => {
            v.add("version", "must be 1 or more");
            None
        }
        Some(Selector::EffectiveAt(t)) => instant(&t, "effective_at", &mut v).map(Which::At),
    };
    let (supplier, which) = v.finish_with(supplier.zip(which), "supplier_id")?;
    let found = match which {
        Which::Version(n) => ctx
            .store
            .contract_version(&caller.tenant, supplier, n)
            .await?
            .ok_or_else(|| contract_not_found(supplier, format!("version {n}")))?,
        Which::At(at) => ctx
            .store
            .contract_in_effect(&caller.tenant, supplier, at)
            .await?
            .ok_or_else(|| contract_not_found(supplier, format!("at {}", at.to_rfc3339())))?,
    };
    Ok(pb::GetContractResponse {
        contract: Some(contract_to_proto(&found)?),
    })
}

/// ListContractVersions, newest first.
pub(crate) async fn list(
    ctx: &ApiContext,
    request: Request<pb::ListContractVersionsRequest>,
) -> Result<pb::ListContractVersionsResponse, ApiError> {
    let caller = ctx
        .authorize(request.metadata(), Scope::ContractsRead)
        .await?;
    let req = request.get_ref();
    let mut v = Violations::default();
    let supplier = supplier_id(&req.supplier_id, "supplier_id", &mut v);
    let limit = page_size(req.page_size, &mut v);
    let before = decode_token(&req.page_token, &mut v).and_then(|p| {
        v.take(
            "page_token",
            p.parse::<i64>()
                .map_err(|_| "is not a token this service issued".into()),
        )
    });
    let supplier = v.finish_with(supplier, "supplier_id")?;
    // One extra row tells whether another page follows.
    let mut versions = ctx
        .store
        .list_contract_versions(&caller.tenant, supplier, before, limit + 1)
        .await?;
    let next_page_token = if versions.len() > limit as usize {
        versions.truncate(limit as usize);
        versions
            .last()
            .map(|c| encode_token(&c.version.to_string()))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(pb::ListContractVersionsResponse {
        contracts: versions
            .iter()
            .map(contract_to_proto)
            .collect::<Result<_, _>>()?,
        next_page_token,
    })
}

/// GetSellerSettings.
pub(crate) async fn get_settings(
    ctx: &ApiContext,
    request: Request<pb::GetSellerSettingsRequest>,
) -> Result<pb::GetSellerSettingsResponse, ApiError> {
    let caller = ctx
        .authorize(request.metadata(), Scope::ContractsRead)
        .await?;
    let stored = ctx.store.seller_settings(&caller.tenant).await?;
    Ok(pb::GetSellerSettingsResponse {
        settings: Some(settings::to_proto(stored.as_ref())?),
    })
}

/// UpdateSellerSettings: the named fields merged over the stored ones inside the writing
/// transaction, so concurrent updates of different fields never lose each other.
pub(crate) async fn update_settings(
    ctx: &ApiContext,
    request: Request<pb::UpdateSellerSettingsRequest>,
) -> Result<pb::UpdateSellerSettingsResponse, ApiError> {
    let caller = ctx
        .authorize(request.metadata(), Scope::ContractsWrite)
        .await?;
    let idempotency = Idempotency::of(
        request.metadata(),
        "UpdateSellerSettings",
        request.get_ref(),
        false,
    )?;
    let req = request.into_inner();
    let patch = patch(&req)?;
    // Generated up front so the answer can tell whether this call issued it.
    let fresh_secret = returnbridge_core::auth::generate_webhook_secret();
    let change = |current: Option<&StoredSettings>| {
        let next = patch.apply(&settings::to_proto(current)?);
        let kept = current.and_then(|c| c.event_webhook_secret.clone());
        let first_url = kept.is_none() && !next.event_webhook_url.is_empty();
        Ok(SettingsWrite {
            document: next.encode_to_vec(),
            event_webhook_secret: if patch.rotate_secret || first_url {
                Some(fresh_secret.clone())
            } else {
                kept
            },
        })
    };
    let render = |s: &StoredSettings| pb::UpdateSellerSettingsResponse {
        settings: settings::to_proto(Some(s)).ok(),
        event_webhook_signing_secret: match &s.event_webhook_secret {
            Some(secret) if *secret == fresh_secret => secret.clone(),
            _ => String::new(),
        },
    };
    let encode = keep(&render);
    let applied = ctx
        .store
        .update_seller_settings(
            &caller.tenant,
            patch.expected_version,
            &change,
            ctx.clock.now(),
            idempotency.claim(&encode),
        )
        .await?;
    answer(applied, render)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publish_request_reports_edge_and_domain_violations_together() {
        let req = pb::PublishContractRequest {
            supplier_id: "nope".into(),
            effective_from: Some(prost_types::Timestamp {
                seconds: 0,
                nanos: -1,
            }),
            terms: None,
            description: String::new(),
            expected_latest_version: -1,
        };
        let Err(ApiError::Domain(DomainError::InvalidArgument(v))) = new_version(&req, Utc::now())
        else {
            panic!("expected INVALID_ARGUMENT");
        };
        let fields: Vec<_> = v.as_slice().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "effective_from",
                "expected_latest_version",
                "supplier_id",
                "terms"
            ]
        );
    }
}
