//! The split of a stored return: its decision re-derived from its own facts, then the domain's split.
//!
//! The decision is pure and deterministic, so deciding again with the return's facts, the contract
//! version, seller settings version and profile recorded on it, and the decision's own instant gives
//! the decision the return was authorized under, as domain values the split can use.

use crate::ApiContext;
use crate::contracts::seller_settings;
use crate::convert::contract::{contract_to_domain, instant};
use crate::convert::returns::request_input;
use crate::convert::{money_input, settings};
use crate::error::ApiError;
use chrono::{DateTime, Utc};
use returnbridge_domain::ErrorReason;
use returnbridge_domain::contract::{ContractVersion, SellerSettings};
use returnbridge_domain::currency::Currency;
use returnbridge_domain::decision::Decision;
use returnbridge_domain::eligibility::decide;
use returnbridge_domain::ids::{SupplierId, TenantId};
use returnbridge_domain::liability::{
    ExchangeLine, Inspection, LabelPaidBy, LiabilityError, LiabilitySplit, Resolution, SplitInput,
    split,
};
use returnbridge_domain::money::Money;
use returnbridge_domain::order::{ReturnItem, ReturnRequest, ReturnedUnits, Sku};
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_store::StoreError;

/// What a stored return was decided under: fetched before the resolving transaction (contract
/// versions never change).
pub(crate) struct DecidedUnder {
    pub contract: ContractVersion,
    pub settings: SellerSettings,
}

/// Loads the contract version a return's decision recorded, and the seller's settings.
pub(crate) async fn decided_under(
    ctx: &ApiContext,
    tenant: &TenantId,
    doc: &pb::Return,
) -> Result<DecidedUnder, ApiError> {
    let corrupt = |what: &str| {
        ApiError::from(StoreError::Corrupt(format!(
            "return {}: {what}",
            doc.return_id
        )))
    };
    let supplier = doc
        .order
        .as_ref()
        .and_then(|o| SupplierId::parse(&o.supplier_id).ok())
        .ok_or_else(|| corrupt("no supplier"))?;
    let decision = doc
        .decision
        .as_ref()
        .ok_or_else(|| corrupt("no decision"))?;
    let version = decision.contract_version;
    let stored = ctx
        .store
        .contract_version(tenant, supplier, version)
        .await?
        .ok_or_else(|| corrupt("its contract version is gone"))?;
    let contract = contract_to_domain(&stored)?;
    let settings = decided_settings(ctx, tenant, decision.seller_settings_version).await?;
    Ok(DecidedUnder { contract, settings })
}

/// The seller settings a decision was made under: the defaults for version 0, else that version as
/// it was written. A return decided before versions were kept (the version's record is missing) falls
/// back to today's settings, as every return did before.
async fn decided_settings(
    ctx: &ApiContext,
    tenant: &TenantId,
    version: i64,
) -> Result<SellerSettings, ApiError> {
    if version == 0 {
        return Ok(SellerSettings::default());
    }
    match ctx.store.seller_settings_version(tenant, version).await? {
        Some(stored) => Ok(settings::to_domain(Some(&stored))?.0),
        None => Ok(seller_settings(ctx, tenant).await?.0),
    }
}

/// The request and decision of a stored return, as domain values.
pub(crate) fn decision_of(
    doc: &pb::Return,
    under: &DecidedUnder,
) -> Result<(ReturnRequest, Decision), StoreError> {
    let decided_at: DateTime<Utc> = doc
        .decision
        .as_ref()
        .and_then(|d| d.decide_time.as_ref())
        .and_then(|t| instant(t, "decision.decide_time", &mut Violations::default()))
        .ok_or_else(|| {
            StoreError::Corrupt(format!("return {}: no decision time", doc.return_id))
        })?;
    // Evidence added after the decision played no part in it.
    let evidence_then = doc
        .evidence
        .iter()
        .filter(|e| {
            e.add_time
                .as_ref()
                .is_none_or(|t| t.seconds <= decided_at.timestamp())
        })
        .map(|e| e.uri.clone())
        .collect();
    let original = pb::AuthorizeReturnRequest {
        order: doc.order.clone(),
        items: doc.items.clone(),
        reason: doc.reason,
        evidence_uris: evidence_then,
        label_cost_estimate: None,
        customer_comment: doc.customer_comment.clone(),
        external_reference: String::new(),
    };
    let request = request_input(&original, &mut Violations::default())
        .parse(decided_at)
        .map_err(|e| {
            StoreError::Corrupt(format!(
                "return {}: stored facts no longer parse: {e}",
                doc.return_id
            ))
        })?;
    let profile = request.order.jurisdiction.profile();
    let decision = decide(
        &request,
        &ReturnedUnits::new(),
        &under.contract,
        profile,
        &under.settings,
        decided_at,
    );
    Ok((request, decision))
}

/// What the split is asked for: the resolution, what came back and at what label cost.
pub(crate) struct SplitAsk<'a> {
    pub spec: &'a pb::ResolutionSpec,
    pub inspection: Option<&'a pb::Inspection>,
    pub assumed_outcome: Option<pb::InspectionOutcome>,
    pub label_cost: Option<&'a pb::Money>,
    /// Prefix of field paths in violations (`resolution` in ResolveReturn and QuoteLiability).
    pub field: &'a str,
}

fn money(m: &pb::Money, field: &str, v: &mut Violations) -> Option<Money> {
    let input = money_input(m);
    let currency = v.take(
        &format!("{field}.currency_code"),
        Currency::parse(&input.currency),
    )?;
    Some(Money::new(currency, input.amount_minor))
}

/// Computes the split of `request` decided as `decision` under `under`.
pub(crate) fn split_of(
    request: &ReturnRequest,
    decision: &Decision,
    under: &DecidedUnder,
    ask: &SplitAsk<'_>,
) -> Result<LiabilitySplit, DomainError> {
    let f = |name: &str| format!("{}.{name}", ask.field);
    let mut v = Violations::default();
    let spec = ask.spec;
    let items: Vec<ReturnItem> = if spec.items.is_empty() {
        request.items.clone()
    } else {
        spec.items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let sku = v.take(&format!("{}[{i}].sku", f("items")), Sku::parse(&item.sku))?;
                let quantity = u32::try_from(item.quantity).ok().filter(|q| *q > 0);
                v.check(
                    quantity.is_some(),
                    format!("{}[{i}].quantity", f("items")),
                    "must be at least 1",
                );
                Some(ReturnItem {
                    sku,
                    quantity: quantity?,
                })
            })
            .collect()
    };
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
                        let field = format!("{}[{i}]", f("exchange_lines"));
                        Some(ExchangeLine {
                            sku: v.take(&format!("{field}.sku"), Sku::parse(&l.sku))?,
                            quantity: u32::try_from(l.quantity).ok().filter(|q| *q > 0)?,
                            unit_price: money(
                                l.unit_price.as_ref()?,
                                &format!("{field}.unit_price"),
                                &mut v,
                            )?,
                        })
                    })
                    .collect(),
            ),
            pb::Resolution::PartialRefund => match spec.allowance.as_ref() {
                Some(a) => match money(a, &f("allowance"), &mut v) {
                    Some(allowance) => Resolution::PartialRefund { allowance },
                    None => Resolution::Refund,
                },
                None => {
                    v.add(f("allowance"), "is required for PARTIAL_REFUND");
                    Resolution::Refund
                }
            },
        };
    let outcome = ask
        .assumed_outcome
        .filter(|o| *o != pb::InspectionOutcome::Unspecified)
        .or_else(|| {
            ask.inspection
                .and_then(|i| pb::InspectionOutcome::try_from(i.outcome).ok())
        })
        .unwrap_or(pb::InspectionOutcome::Passed);
    let deduction = ask
        .inspection
        .and_then(|i| i.damage_deduction.as_ref())
        .and_then(|d| money(d, "inspection.damage_deduction", &mut v));
    let inspection = match outcome {
        pb::InspectionOutcome::DamagedByCustomer => Inspection::DamagedByCustomer { deduction },
        // Goods other than the ones sold came back: the customer bears their whole price.
        pb::InspectionOutcome::ItemMismatch => Inspection::DamagedByCustomer { deduction: None },
        pb::InspectionOutcome::MissingOriginalPackaging => Inspection::MissingOriginalPackaging,
        pb::InspectionOutcome::DefectNotFound => Inspection::DefectNotFound,
        pb::InspectionOutcome::Passed | pb::InspectionOutcome::Unspecified => Inspection::Passed,
    };
    let label_cost = ask.label_cost.and_then(|m| money(m, "label_cost", &mut v));
    let compensation = spec
        .compensation
        .as_ref()
        .and_then(|m| money(m, &f("compensation"), &mut v));
    v.finish()?;
    let profile = request.order.jurisdiction.profile();
    split(&SplitInput {
        order: &request.order,
        reason: request.reason,
        items: &items,
        decision,
        contract: &under.contract,
        profile,
        settings: &under.settings,
        resolution: &resolution,
        label_cost,
        label_paid_by: LabelPaidBy::Seller,
        compensation,
        inspection,
    })
    .map_err(|e| refusal(e, ask.field))
}

/// A refused split as the caller's error, naming the input at fault.
fn refusal(e: LiabilityError, field: &str) -> DomainError {
    let f = |name: &str| format!("{field}.{name}");
    match &e {
        LiabilityError::Rejected => DomainError::FailedPrecondition {
            reason: ErrorReason::ReturnRejected,
            message: "the return was rejected: nobody owes anything, so there is no split".into(),
        },
        LiabilityError::AllowanceOutOfRange { .. } => {
            DomainError::invalid(f("allowance"), e.to_string())
        }
        LiabilityError::DeductionOutOfRange { .. } => {
            DomainError::invalid("inspection.damage_deduction", e.to_string())
        }
        LiabilityError::BadItem { .. } | LiabilityError::NoItems => {
            DomainError::invalid(f("items"), e.to_string())
        }
        LiabilityError::BadExchange => DomainError::invalid(f("exchange_lines"), e.to_string()),
        LiabilityError::ResolutionNotApplicable(_) => {
            DomainError::invalid(f("resolution"), e.to_string())
        }
        LiabilityError::CurrencyMismatch { field: name, .. }
        | LiabilityError::NegativeAmount { field: name } => {
            DomainError::invalid(f(name), e.to_string())
        }
        LiabilityError::VersionMismatch { .. } | LiabilityError::Overflow => {
            DomainError::invalid(field, e.to_string())
        }
    }
}
