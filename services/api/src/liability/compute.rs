//! The split of a return: what it was decided under (the contract version and seller settings
//! version its decision recorded), the resolution asked, and the domain's split.
//!
//! A stored return keeps its decision as made, so its split never depends on today's settings or on
//! deciding again.

use crate::ApiContext;
use crate::convert::contract::contract_to_domain;
use crate::convert::{money_input, settings};
use crate::error::ApiError;
use returnbridge_domain::contract::{ContractVersion, SellerSettings};
use returnbridge_domain::currency::Currency;
use returnbridge_domain::decision::Decision;
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use returnbridge_domain::liability::{
    ExchangeLine, Inspection, LabelPaidBy, LiabilitySplit, Resolution, SplitInput, split,
};
use returnbridge_domain::money::Money;
use returnbridge_domain::order::{ReturnItem, ReturnRequest, Sku};
use returnbridge_domain::returns::{ResolutionAsk, Return, SplitTerms, refusal};
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{Store, StoreError};

/// What a return was decided under: fetched before the resolving transaction (contract versions
/// and settings versions never change).
pub(crate) struct DecidedUnder {
    pub contract: ContractVersion,
    pub settings: SellerSettings,
}

impl DecidedUnder {
    /// The terms of `ret`'s split.
    pub fn terms<'a>(&'a self, ret: &Return) -> SplitTerms<'a> {
        SplitTerms {
            contract: &self.contract,
            settings: &self.settings,
            profile: ret.request.order.jurisdiction.profile(),
        }
    }
}

/// Loads the contract version and the seller settings version a return's decision recorded.
pub(crate) async fn decided_under(
    ctx: &ApiContext,
    tenant: &TenantId,
    ret: &Return,
) -> Result<DecidedUnder, ApiError> {
    let versions = Versions {
        supplier: ret.request.order.supplier,
        contract: ret.decision.contract_version,
        settings: ret.decided.settings_version,
    };
    Ok(load_decided_under(ctx.store.as_ref(), tenant, ret.id, &versions).await?)
}

/// The versions a decision recorded: the order's supplier's contract version and the seller
/// settings version.
pub(crate) struct Versions {
    pub supplier: SupplierId,
    pub contract: i64,
    pub settings: i64,
}

/// The contract version and seller settings `versions` name. The settings are the defaults for
/// version 0, else that version as it was written; a return decided before versions were kept (the
/// version's record is missing) falls back to today's settings, as every return did before.
pub(crate) async fn load_decided_under(
    store: &dyn Store,
    tenant: &TenantId,
    id: ReturnId,
    versions: &Versions,
) -> Result<DecidedUnder, StoreError> {
    let stored = store
        .contract_version(tenant, versions.supplier, versions.contract)
        .await?
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "return {id}: its contract version {} is gone",
                versions.contract
            ))
        })?;
    let contract = contract_to_domain(&stored)?;
    let settings = if versions.settings == 0 {
        SellerSettings::default()
    } else {
        let stored = match store
            .seller_settings_version(tenant, versions.settings)
            .await?
        {
            Some(stored) => Some(stored),
            None => store.seller_settings(tenant).await?,
        };
        settings::to_domain(stored.as_ref())?.0
    };
    Ok(DecidedUnder { contract, settings })
}

/// An amount of the request in a known currency; its fit with the order is the split's to check.
pub(crate) fn money(m: &pb::Money, field: &str, v: &mut Violations) -> Option<Money> {
    let input = money_input(m);
    let currency = v.take(
        &format!("{field}.currency_code"),
        Currency::parse(&input.currency),
    )?;
    Some(Money::new(currency, input.amount_minor))
}

/// The resolution asked, as the domain's (UNSPECIFIED is a refund: a quote's default); `None` when
/// a violation was recorded.
pub(crate) fn resolution_ask(
    spec: &pb::ResolutionSpec,
    field: &str,
    v: &mut Violations,
) -> Option<ResolutionAsk> {
    let f = |name: &str| format!("{field}.{name}");
    let items: Vec<ReturnItem> = spec
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let quantity = u32::try_from(item.quantity).ok().filter(|q| *q > 0);
            v.check(
                quantity.is_some(),
                format!("{}[{i}].quantity", f("items")),
                "must be at least 1",
            );
            Some(ReturnItem {
                sku: v.take(&format!("{}[{i}].sku", f("items")), Sku::parse(&item.sku))?,
                quantity: quantity?,
            })
        })
        .collect();
    let resolution =
        match pb::Resolution::try_from(spec.resolution).unwrap_or(pb::Resolution::Unspecified) {
            pb::Resolution::Unspecified | pb::Resolution::Refund => Resolution::Refund,
            pb::Resolution::StoreCredit => Resolution::StoreCredit,
            pb::Resolution::Replacement => Resolution::Replacement,
            pb::Resolution::Exchange => Resolution::Exchange(
                spec.exchange_lines
                    .iter()
                    .enumerate()
                    .filter_map(|(i, l)| {
                        let line = format!("{}[{i}]", f("exchange_lines"));
                        let quantity = u32::try_from(l.quantity)
                            .ok()
                            .filter(|q| (1..=10_000).contains(q));
                        v.check(
                            quantity.is_some(),
                            format!("{line}.quantity"),
                            "must be between 1 and 10000",
                        );
                        if l.unit_price.is_none() {
                            v.add(format!("{line}.unit_price"), "is required");
                        }
                        Some(ExchangeLine {
                            sku: v.take(&format!("{line}.sku"), Sku::parse(&l.sku))?,
                            quantity: quantity?,
                            unit_price: money(
                                l.unit_price.as_ref()?,
                                &format!("{line}.unit_price"),
                                v,
                            )?,
                        })
                    })
                    .collect(),
            ),
            pb::Resolution::PartialRefund => match spec.allowance.as_ref() {
                Some(a) => Resolution::PartialRefund {
                    allowance: money(a, &f("allowance"), v)?,
                },
                None => {
                    v.add(f("allowance"), "is required for PARTIAL_REFUND");
                    return None;
                }
            },
        };
    let compensation = spec
        .compensation
        .as_ref()
        .and_then(|m| money(m, &f("compensation"), v));
    v.is_empty().then_some(ResolutionAsk {
        resolution,
        items,
        compensation,
    })
}

/// What a quote assumes besides the resolution.
pub(crate) struct Assumed {
    pub inspection: Inspection,
    pub label_cost: Option<Money>,
}

/// The split a quote shows: `request` decided as `decision` under `under`, resolved as `ask`.
pub(crate) fn quote_split(
    request: &ReturnRequest,
    decision: &Decision,
    under: &DecidedUnder,
    ask: &ResolutionAsk,
    assumed: &Assumed,
) -> Result<LiabilitySplit, DomainError> {
    let items = if ask.items.is_empty() {
        request.items.clone()
    } else {
        ask.items.clone()
    };
    split(&SplitInput {
        order: &request.order,
        reason: request.reason,
        items: &items,
        decision,
        contract: &under.contract,
        profile: request.order.jurisdiction.profile(),
        settings: &under.settings,
        resolution: &ask.resolution,
        label_cost: assumed.label_cost,
        label_paid_by: LabelPaidBy::Seller,
        compensation: ask.compensation,
        inspection: assumed.inspection,
    })
    .map_err(|e| refusal(e, "resolution"))
}
