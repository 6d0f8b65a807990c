//! The edge of contracts and seller settings: raw values checked into [`ContractTerms`] and
//! [`SellerSettings`], with every problem reported under its proto field path.

use crate::contract::{
    BreachAction, ContractTerms, ContractVersion, DefectCoverage, ListingDataOwner, SellerSettings,
    ShippingPayer, SlaTerms, TransitDamageParty,
};
use crate::currency::Currency;
use crate::error::{DomainError, Violations};
use crate::ids::SupplierId;
use crate::money::{BasisPoints, Money};
use crate::order::{Category, ReturnReason};
use crate::order_input::{MAX_CLOCK_SKEW, MoneyInput};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::BTreeSet;

/// Longest window a contract or a seller may set, in days (ten years).
pub const MAX_WINDOW_DAYS: i64 = 3_650;
/// Most non-returnable categories one contract may list.
pub const MAX_CATEGORIES: usize = 200;
/// Longest SLA deadline.
pub const MAX_SLA: TimeDelta = TimeDelta::days(365);
/// Longest ship-by period a seller may give its customers.
pub const MAX_SHIP_BY: TimeDelta = TimeDelta::days(90);
/// Longest contract description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// SLA terms as sent; `None` where the wire value was absent or unspecified.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlaTermsInput {
    /// Acknowledgement deadline.
    pub ack_within: Option<TimeDelta>,
    /// Decision deadline.
    pub decision_within: Option<TimeDelta>,
    /// Credit deadline.
    pub credit_within: Option<TimeDelta>,
    /// Breach action.
    pub breach_action: Option<BreachAction>,
}

/// Contract terms as sent. Enums are `None` when unspecified or unknown on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContractTermsInput {
    /// Days.
    pub return_window_days: i64,
    /// Days.
    pub defect_window_days: i64,
    /// Category slug paths.
    pub non_returnable_categories: Vec<String>,
    /// Reasons needing evidence.
    pub evidence_required_reasons: Vec<Option<ReturnReason>>,
    /// Original packaging needed for no-fault returns.
    pub requires_original_packaging: bool,
    /// Supplier takes no-fault returns.
    pub accepts_no_fault_returns: bool,
    /// Basis points.
    pub supplier_restocking_fee_bps: i64,
    /// Defect coverage.
    pub defect_coverage: Option<DefectCoverage>,
    /// Transit damage party.
    pub transit_damage_party: Option<TransitDamageParty>,
    /// Listing data owner.
    pub listing_data_owner: Option<ListingDataOwner>,
    /// No-fault label payer.
    pub no_fault_return_shipping_payer: Option<ShippingPayer>,
    /// Returnless threshold; absent means never returnless.
    pub returnless_threshold: Option<MoneyInput>,
    /// Auto-authorize in-policy returns.
    pub auto_authorize: bool,
    /// SLA terms.
    pub sla: Option<SlaTermsInput>,
}

fn window(field: &str, days: i64, v: &mut Violations) -> Option<u32> {
    if (0..=MAX_WINDOW_DAYS).contains(&days) {
        u32::try_from(days).ok()
    } else {
        v.add(
            field,
            format!("must be between 0 and {MAX_WINDOW_DAYS} days, not {days}"),
        );
        None
    }
}

fn required<T: Copy>(
    field: &str,
    value: Option<T>,
    names: &[&str],
    v: &mut Violations,
) -> Option<T> {
    if value.is_none() {
        v.add(field, format!("is required; one of {}", names.join(", ")));
    }
    value
}

fn duration(
    field: &str,
    d: Option<TimeDelta>,
    max: TimeDelta,
    v: &mut Violations,
) -> Option<TimeDelta> {
    match d {
        Some(d) if d > TimeDelta::zero() && d <= max => Some(d),
        Some(_) => {
            v.add(
                field,
                format!(
                    "must be longer than zero and at most {} days",
                    max.num_days()
                ),
            );
            None
        }
        None => {
            v.add(field, "is required");
            None
        }
    }
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| name(*v)).collect()
}

impl SlaTermsInput {
    fn parse(self, v: &mut Violations) -> Option<SlaTerms> {
        let ack = duration("sla.ack_within", self.ack_within, MAX_SLA, v);
        let decision = duration("sla.decision_within", self.decision_within, MAX_SLA, v);
        let credit = duration("sla.credit_within", self.credit_within, MAX_SLA, v);
        let action_names = names(BreachAction::ALL, BreachAction::as_str);
        let breach_action = required("sla.breach_action", self.breach_action, &action_names, v);
        if let (Some(a), Some(d)) = (ack, decision) {
            v.check(
                d >= a,
                "sla.decision_within",
                "must not be shorter than sla.ack_within",
            );
        }
        Some(SlaTerms {
            ack_within: ack?,
            decision_within: decision?,
            credit_within: credit?,
            breach_action: breach_action?,
        })
    }
}

impl ContractTermsInput {
    /// Checks every term. Field paths are relative to the terms message (`return_window_days`,
    /// `sla.ack_within`); [`PublishContractInput::parse`] puts them under `terms`.
    pub fn parse(self) -> Result<ContractTerms, Violations> {
        let mut v = Violations::default();
        let return_window_days = window("return_window_days", self.return_window_days, &mut v);
        let defect_window_days = window("defect_window_days", self.defect_window_days, &mut v);
        v.check(
            self.non_returnable_categories.len() <= MAX_CATEGORIES,
            "non_returnable_categories",
            format!("at most {MAX_CATEGORIES} categories"),
        );
        let categories: BTreeSet<Category> = (self.non_returnable_categories.iter().enumerate())
            .filter_map(|(i, c)| {
                v.take(
                    &format!("non_returnable_categories[{i}]"),
                    Category::parse(c),
                )
            })
            .collect();
        let reason_names = names(&ReturnReason::ALL, ReturnReason::as_str);
        let reasons: BTreeSet<ReturnReason> = (self.evidence_required_reasons.iter().enumerate())
            .filter_map(|(i, r)| {
                required(
                    &format!("evidence_required_reasons[{i}]"),
                    *r,
                    &reason_names,
                    &mut v,
                )
            })
            .collect();
        let fee = v.take(
            "supplier_restocking_fee_bps",
            BasisPoints::parse(self.supplier_restocking_fee_bps),
        );
        let defect_coverage = required(
            "defect_coverage",
            self.defect_coverage,
            &names(DefectCoverage::ALL, DefectCoverage::as_str),
            &mut v,
        );
        let transit = required(
            "transit_damage_party",
            self.transit_damage_party,
            &names(TransitDamageParty::ALL, TransitDamageParty::as_str),
            &mut v,
        );
        let listing = required(
            "listing_data_owner",
            self.listing_data_owner,
            &names(ListingDataOwner::ALL, ListingDataOwner::as_str),
            &mut v,
        );
        let payer = required(
            "no_fault_return_shipping_payer",
            self.no_fault_return_shipping_payer,
            &names(ShippingPayer::ALL, ShippingPayer::as_str),
            &mut v,
        );
        let threshold = self.returnless_threshold.as_ref().and_then(|m| {
            let currency = v.take(
                "returnless_threshold.currency_code",
                Currency::parse(&m.currency),
            )?;
            if m.amount_minor < 0 {
                v.add("returnless_threshold.amount_minor", "must not be negative");
                return None;
            }
            Some(Money::new(currency, m.amount_minor))
        });
        let threshold_ok = self.returnless_threshold.is_none() || threshold.is_some();
        let sla = match self.sla {
            Some(s) => s.parse(&mut v),
            None => {
                v.add("sla", "is required: the supplier's response deadlines");
                None
            }
        };
        let terms = 'build: {
            let (
                Some(rw),
                Some(dw),
                Some(fee),
                Some(dc),
                Some(transit),
                Some(listing),
                Some(payer),
                Some(sla),
            ) = (
                return_window_days,
                defect_window_days,
                fee,
                defect_coverage,
                transit,
                listing,
                payer,
                sla,
            )
            else {
                break 'build None;
            };
            Some(ContractTerms {
                return_window_days: rw,
                defect_window_days: dw,
                non_returnable_categories: categories.into_iter().collect(),
                evidence_required_reasons: reasons,
                requires_original_packaging: self.requires_original_packaging,
                accepts_no_fault_returns: self.accepts_no_fault_returns,
                supplier_restocking_fee_bps: fee,
                defect_coverage: dc,
                transit_damage_party: transit,
                listing_data_owner: listing,
                no_fault_return_shipping_payer: payer,
                returnless_threshold: threshold,
                auto_authorize: self.auto_authorize,
                sla,
            })
        };
        match terms {
            Some(t) if v.is_empty() && threshold_ok => Ok(t),
            _ => Err(v),
        }
    }
}

/// A PublishContract request as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublishContractInput {
    /// The supplier's UUID.
    pub supplier_id: String,
    /// When the new version takes effect; absent means at publication.
    pub effective_from: Option<DateTime<Utc>>,
    /// The terms.
    pub terms: Option<ContractTermsInput>,
    /// Free text for humans.
    pub description: String,
}

/// A checked contract version waiting for its version number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContract {
    /// The supplier.
    pub supplier: SupplierId,
    /// When it takes effect.
    pub effective_from: DateTime<Utc>,
    /// The terms.
    pub terms: ContractTerms,
    /// Free text for humans (what changed, the signed document's reference).
    pub description: String,
}

impl PublishContractInput {
    /// Checks the request; term violations are reported under `terms.` (`terms.sla.ack_within`).
    pub fn parse(self, now: DateTime<Utc>) -> Result<NewContract, DomainError> {
        let mut v = Violations::default();
        let supplier = v.take("supplier_id", SupplierId::parse(&self.supplier_id));
        let terms = match self.terms {
            Some(t) => t.parse().map_err(|tv| v.extend_prefixed("terms", tv)).ok(),
            None => {
                v.add("terms", "is required");
                None
            }
        };
        v.text("description", &self.description, MAX_DESCRIPTION_CHARS);
        v.finish()?;
        match (supplier, terms) {
            (Some(supplier), Some(terms)) => Ok(NewContract {
                supplier,
                effective_from: self.effective_from.unwrap_or(now),
                terms,
                description: self.description,
            }),
            _ => Err(DomainError::invalid("terms", "is incomplete")),
        }
    }
}

impl NewContract {
    /// The stored version, once the store has numbered it.
    pub fn into_version(self, version: i64, published_at: DateTime<Utc>) -> ContractVersion {
        ContractVersion {
            supplier: self.supplier,
            version,
            effective_from: self.effective_from,
            terms: self.terms,
            published_at,
        }
    }
}

/// Whether a version starting at `effective_from` corrects the contract's history: it starts no
/// later than the latest version (`(version, effective_from)`), or in the past beyond clock skew, so
/// it would govern orders already placed. A supplier's first version is never one.
pub fn is_correction(
    effective_from: DateTime<Utc>,
    latest: Option<(i64, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> bool {
    latest.is_some_and(|(_, latest_from)| {
        effective_from <= latest_from || effective_from < now - MAX_CLOCK_SKEW
    })
}

/// A new version governs every order from its `effective_from` on, over any earlier version; it may
/// correct a mis-dated one (start before it, or in the past) as long as no return of the supplier
/// was decided since then, whose terms it would otherwise appear to change. `last_return_at` is
/// when the supplier's newest return was decided (needed only for a correction).
pub fn check_effective_from(
    effective_from: DateTime<Utc>,
    latest: Option<(i64, DateTime<Utc>)>,
    now: DateTime<Utc>,
    last_return_at: Option<DateTime<Utc>>,
) -> Result<(), DomainError> {
    if !is_correction(effective_from, latest, now) {
        return Ok(());
    }
    match last_return_at {
        Some(last) if last >= effective_from => Err(DomainError::invalid(
            "effective_from",
            format!(
                "would change the terms of returns already decided: this supplier's latest return was \
                 decided at {}; a version can start before the latest version or in the past only \
                 after that (publish it to take effect from now instead)",
                last.to_rfc3339()
            ),
        )),
        _ => Ok(()),
    }
}

/// Field path of the breach action, named when FAILOVER has no backup to fail over to.
pub const BREACH_ACTION_FIELD: &str = "terms.sla.breach_action";

/// A contract whose breach action is FAILOVER, for a supplier without a backup supplier.
pub fn failover_without_backup() -> DomainError {
    DomainError::invalid(
        BREACH_ACTION_FIELD,
        "FAILOVER needs a backup supplier: set the supplier's backup_supplier_id first, or choose NOTIFY or \
         AUTO_APPROVE",
    )
}

/// Seller settings as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SellerSettingsInput {
    /// Basis points of the price.
    pub customer_restocking_fee_bps: i64,
    /// Ship-by period; absent means the default.
    pub ship_by: Option<TimeDelta>,
    /// The seller's own window in days; absent or 0 means none.
    pub return_window_days: Option<i64>,
}

impl SellerSettingsInput {
    /// Checks the settings; field paths are under `settings.`.
    pub fn parse(self) -> Result<SellerSettings, DomainError> {
        let mut v = Violations::default();
        let fee = v.take(
            "settings.customer_restocking_fee_bps",
            BasisPoints::parse(self.customer_restocking_fee_bps),
        );
        let ship_by = self.ship_by.unwrap_or(SellerSettings::default().ship_by);
        let ship_by = duration(
            "settings.ship_by_period",
            Some(ship_by),
            MAX_SHIP_BY,
            &mut v,
        );
        let window = self
            .return_window_days
            .map(|d| window("settings.return_window_days", d, &mut v));
        v.finish()?;
        match (fee, ship_by, window) {
            (Some(fee), Some(ship_by), window) => Ok(SellerSettings {
                customer_restocking_fee_bps: fee,
                ship_by,
                // 0 days adds nothing to any contract: the same as no window of the seller's own.
                return_window_days: window.flatten().filter(|d| *d > 0),
            }),
            _ => Err(DomainError::invalid("settings", "is incomplete")),
        }
    }
}

#[cfg(test)]
#[path = "contract_input_tests.rs"]
mod tests;
