//! The liability split: who bears which cost of a return (docs/design.md, "Liability table").
//!
//! # Money flow
//! The seller is the hub: it refunds the customer and buys the return label (unless the supplier
//! provided it). "Party X bears A" therefore means X *funds* A:
//! - the **supplier** owes the seller A (a credit or chargeback: a dropshipper was paid the unit cost
//!   when the order shipped, and on a return it pays back what it bears);
//! - the **carrier** owes the seller A (a carrier claim);
//! - the **customer** gets A less back (withheld from the refund, or charged when the refund is not
//!   enough);
//! - the **seller** funds A itself.
//!
//! # Readings of docs/design.md
//! - OUTBOUND_SHIPPING is due back only when the sale is undone (REFUND, STORE_CREDIT), pro rata to
//!   the resolved units' price for a partial return. EXCHANGE and REPLACEMENT keep the sale.
//! - A customer fee never makes the seller gain from a return: it is capped by the statute on a
//!   withdrawal, and by what the seller would otherwise bear.
//! - Goods sold below cost: the supplier funds at most the price, so no share is negative.
//! - Customer damage: the customer bears the deduction, the label and (unless a statutory
//!   withdrawal refunds it) the outbound; the seller refunds the price above the deduction.
//! - Missing original packaging voids the supplier's no-fault credit; the seller bears it, and the
//!   customer bears only what the no-fault row already gives them.
//! - A policy gap on a fault claim (statute or seller policy only) puts every supplier or carrier
//!   share on the seller.
//! - Keep-with-allowance follows the fault row (FULL_RETAIL supplier, WHOLESALE in the price's
//!   cost/margin proportions, carrier, else seller); goodwill is the seller's; LATE_DELIVERY
//!   compensation is a contract claim against the supplier.
//!
//! # Exactness
//! Every component's allocations sum exactly to the component, no allocation is negative, and every
//! sum is checked (overflow is an error). Shares come from `apply_bps` (rounded toward zero, the rest
//! going to whoever bears the remainder of the component) or from [`allocate`] (largest remainder,
//! ties to the earlier party in the fixed order SUPPLIER, SELLER, CUSTOMER, CARRIER).

use crate::contract::{ContractVersion, SellerSettings};
use crate::currency::Currency;
use crate::decision::{Clause, Decision, FaultClass, Outcome};
use crate::money::{Money, MoneyError, allocate};
use crate::order::{OrderFacts, ReturnItem, ReturnReason, Sku};
use crate::statute::{Jurisdiction, StatutoryProfile};
use std::fmt;

mod rows;
mod types;

pub use types::{Component, LiabilityFault, Party, Rule};

/// One line of goods given in exchange.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExchangeLine {
    /// The new goods.
    pub sku: Sku,
    /// Units, at least 1.
    pub quantity: u32,
    /// Retail price per unit, in the order's currency, >= 0.
    pub unit_price: Money,
}

/// How the return is resolved. The split of the returned goods' value is the same for every
/// resolution that takes goods back; the resolution decides what the customer receives for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Resolution {
    /// Money back.
    Refund,
    /// The same split as a refund, the customer's share paid as store credit.
    StoreCredit,
    /// Other goods instead: their value is set against the refund, and the difference is refunded
    /// or charged. The sale stands, so the outbound delivery is not refunded.
    Exchange(Vec<ExchangeLine>),
    /// The same goods again: an exchange for the returned units at their price.
    Replacement,
    /// The customer keeps the goods and receives `allowance` (> 0, at most the resolved units'
    /// price) as COMPENSATION; nothing is shipped back.
    PartialRefund {
        /// The allowance.
        allowance: Money,
    },
}

impl Resolution {
    /// The resolution's name, as in the proto enum without its prefix.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Refund => "REFUND",
            Self::StoreCredit => "STORE_CREDIT",
            Self::Exchange(_) => "EXCHANGE",
            Self::Replacement => "REPLACEMENT",
            Self::PartialRefund { .. } => "PARTIAL_REFUND",
        }
    }

    /// Whether the original sale is undone (and so its outbound delivery can be due back).
    fn undoes_sale(&self) -> bool {
        matches!(self, Self::Refund | Self::StoreCredit)
    }
}

/// What inspection found, for the whole return. Per-unit outcomes are reduced to this at the edge:
/// units not the ones sold are left out of `items`, and damaged units become a damage deduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inspection {
    /// As expected, or not inspected (nothing came back yet, or nothing comes back).
    Passed,
    /// The customer damaged the goods: the customer bears `deduction` of the price (the whole price
    /// of the resolved units when `None`), and the customer row of the table applies.
    DamagedByCustomer {
        /// How much of the price the damage withholds, at most the resolved units' price.
        deduction: Option<Money>,
    },
    /// The original packaging is missing. Only matters for a no-fault return under a contract with
    /// `requires_original_packaging`: the supplier's credit lapses and the seller bears it.
    MissingOriginalPackaging,
    /// The claimed fault was not found: the return is split as a no-fault return.
    DefectNotFound,
}

/// Who bought the return label, and so who the others' shares of it are owed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LabelPaidBy {
    /// The seller (the default): every share of the label is owed to the seller.
    #[default]
    Seller,
    /// The supplier provided the label: what it does not bear itself is owed back to it.
    Supplier,
}

/// Everything a split depends on. Pure data: the same input always gives the same split.
#[derive(Debug, Clone, Copy)]
pub struct SplitInput<'a> {
    /// The order.
    pub order: &'a OrderFacts,
    /// The customer's reason (it tells a seller fault for the listing from one for transit damage).
    pub reason: ReturnReason,
    /// The units resolved: each SKU once, 1 to the units bought. Ignored for LATE_DELIVERY.
    pub items: &'a [ReturnItem],
    /// The return's decision; it must not be REJECTED.
    pub decision: &'a Decision,
    /// The contract version the decision was made under.
    pub contract: &'a ContractVersion,
    /// The statutory profile the decision was made under.
    pub profile: &'a StatutoryProfile,
    /// The seller's settings.
    pub settings: &'a SellerSettings,
    /// How the return is resolved.
    pub resolution: &'a Resolution,
    /// The return label's cost, actual or estimated; `None` is zero. Ignored when nothing comes back.
    pub label_cost: Option<Money>,
    /// Who bought the label.
    pub label_paid_by: LabelPaidBy,
    /// Goodwill, or the whole LATE_DELIVERY claim; `None` is zero.
    pub compensation: Option<Money>,
    /// What inspection found. Ignored when nothing comes back.
    pub inspection: Inspection,
}

/// The gross amount of one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentAmount {
    /// The component.
    pub component: Component,
    /// Its amount, >= 0; its allocations sum to exactly this.
    pub amount: Money,
}

/// The share of one component one party bears, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// The component.
    pub component: Component,
    /// Who bears it.
    pub party: Party,
    /// The share, > 0.
    pub amount: Money,
    /// The stable rule code.
    pub rule: Rule,
    /// The contract term, statute provision, seller setting or fact it applies.
    pub clause: Clause,
    /// The figures, for people.
    pub explanation: String,
}

/// What one party bears over all components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartyTotal {
    /// The party.
    pub party: Party,
    /// The amount, > 0.
    pub amount: Money,
}

/// How a return's costs are split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiabilitySplit {
    /// The currency of every amount: the order's.
    pub currency: Currency,
    /// The table row applied (after inspection).
    pub fault: LiabilityFault,
    /// The resolution split for.
    pub resolution: Resolution,
    /// The seller bears what the contract does not cover.
    pub policy_gap: bool,
    /// Every component in [`Component::ALL`] order, zero ones included.
    pub components: [ComponentAmount; 4],
    /// Every non-zero allocation, by component, then party order, then rule.
    pub allocations: Vec<Allocation>,
    /// What each party bears, parties bearing nothing left out, in party order.
    pub totals: Vec<PartyTotal>,
    /// What the customer gets back (as money, or as credit for STORE_CREDIT), >= 0.
    pub customer_refund: Money,
    /// What the customer pays on top (dearer exchange goods, or shares above the refund), >= 0.
    pub customer_charge: Money,
    /// What the supplier owes the seller for this return: what it bears, less the label it paid
    /// itself. Negative when the seller owes the supplier. The settlement line.
    pub supplier_net_to_seller: Money,
    /// The contract version applied.
    pub contract_version: i64,
    /// The statutory profile applied.
    pub jurisdiction: Jurisdiction,
    /// Its data version.
    pub profile_version: &'static str,
}

impl LiabilitySplit {
    /// The gross amount of `component`.
    pub fn component(&self, component: Component) -> Money {
        self.components[component.index()].amount
    }

    /// What `party` bears of `component`, over every rule.
    pub fn borne(&self, component: Component, party: Party) -> Money {
        let amounts = self.allocations.iter().filter(|a| a.component == component);
        let sum: i64 = amounts
            .filter(|a| a.party == party)
            .map(|a| a.amount.amount_minor)
            .sum();
        Money::new(self.currency, sum)
    }

    /// What `party` bears in total.
    pub fn total(&self, party: Party) -> Money {
        self.totals
            .iter()
            .find(|t| t.party == party)
            .map_or(Money::zero(self.currency), |t| t.amount)
    }
}

/// Why a split was refused. Every variant but `Overflow` and `Rejected` is an invalid input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiabilityError {
    /// A rejected return has no split: nobody owes anything.
    #[error("a rejected return has no liability split")]
    Rejected,
    /// The decision was made under another contract or profile version than the one given.
    #[error("the decision was made under {decided}, not {given}")]
    VersionMismatch {
        /// The version the decision records.
        decided: String,
        /// The version given to the split.
        given: String,
    },
    /// An amount is not in the order's currency.
    #[error("{field} is in {found}, but the order is in {expected}")]
    CurrencyMismatch {
        /// Which input.
        field: &'static str,
        /// The order's currency.
        expected: Currency,
        /// The amount's.
        found: Currency,
    },
    /// An amount that must not be negative is.
    #[error("{field} must not be negative")]
    NegativeAmount {
        /// Which input.
        field: &'static str,
    },
    /// A resolved item is not a line of the order, is listed twice, or has too many or no units.
    #[error("item {sku}: {problem}")]
    BadItem {
        /// The SKU.
        sku: String,
        /// What is wrong.
        problem: String,
    },
    /// A return (other than a LATE_DELIVERY claim) resolves no units.
    #[error("no units resolved")]
    NoItems,
    /// An exchange with no lines, or a line with no units.
    #[error("exchange lines must not be empty and each needs at least one unit")]
    BadExchange,
    /// The allowance is zero or more than the resolved units' price.
    #[error("the allowance {allowance} must be above zero and at most {max}")]
    AllowanceOutOfRange {
        /// The allowance asked.
        allowance: Money,
        /// The resolved units' price.
        max: Money,
    },
    /// The damage deduction is more than the resolved units' price.
    #[error("the damage deduction {deduction} must be at most {max}")]
    DeductionOutOfRange {
        /// The deduction asked.
        deduction: Money,
        /// The resolved units' price.
        max: Money,
    },
    /// A LATE_DELIVERY claim is paid as money or credit only.
    #[error(
        "a late-delivery claim is resolved by REFUND or STORE_CREDIT of its compensation, not {0}"
    )]
    ResolutionNotApplicable(&'static str),
    /// An amount does not fit in 64 bits of minor units.
    #[error("amounts out of range")]
    Overflow,
}

impl From<MoneyError> for LiabilityError {
    fn from(e: MoneyError) -> Self {
        match e {
            // Inputs are checked for their currency first, so only overflow can reach here; a
            // mismatch or empty weights would be a bug, reported as the one thing it could mean.
            MoneyError::CurrencyMismatch { left, right } => LiabilityError::CurrencyMismatch {
                field: "amount",
                expected: left,
                found: right,
            },
            MoneyError::Overflow | MoneyError::NoWeights => LiabilityError::Overflow,
        }
    }
}

/// Splits a return's costs among supplier, seller, customer and carrier, by docs/design.md's table
/// parametrized by the contract terms, the statutory profile and the seller settings. Pure and
/// deterministic.
pub fn split(input: &SplitInput<'_>) -> Result<LiabilitySplit, LiabilityError> {
    check(input)?;
    rows::compute(input)
}

fn in_currency(field: &'static str, m: Money, c: Currency) -> Result<(), LiabilityError> {
    if m.currency != c {
        return Err(LiabilityError::CurrencyMismatch {
            field,
            expected: c,
            found: m.currency,
        });
    }
    if m.is_negative() {
        return Err(LiabilityError::NegativeAmount { field });
    }
    Ok(())
}

/// Refuses inputs the rules cannot split; amounts inside the order are trusted as parsed at the edge
/// but their currency is still checked, because mixing currencies would silently mis-sum.
fn check(input: &SplitInput<'_>) -> Result<(), LiabilityError> {
    let d = input.decision;
    if d.outcome == Outcome::Rejected {
        return Err(LiabilityError::Rejected);
    }
    if d.contract_version != input.contract.version {
        return Err(LiabilityError::VersionMismatch {
            decided: format!("contract v{}", d.contract_version),
            given: format!("contract v{}", input.contract.version),
        });
    }
    if d.profile_version != input.profile.version {
        return Err(LiabilityError::VersionMismatch {
            decided: d.profile_version.to_string(),
            given: input.profile.version.to_owned(),
        });
    }
    let c = input.order.currency;
    in_currency("order.outbound_shipping", input.order.outbound_shipping, c)?;
    for l in &input.order.lines {
        in_currency("order.lines.unit_price", l.unit_price, c)?;
        in_currency("order.lines.unit_cost", l.unit_cost, c)?;
    }
    if let Some(m) = input.label_cost {
        in_currency("label_cost", m, c)?;
    }
    if let Some(m) = input.compensation {
        in_currency("compensation", m, c)?;
    }
    if let Inspection::DamagedByCustomer { deduction: Some(m) } = input.inspection {
        in_currency("inspection.damage_deduction", m, c)?;
    }
    match input.resolution {
        Resolution::PartialRefund { allowance } => in_currency("allowance", *allowance, c)?,
        Resolution::Exchange(lines) => {
            if lines.is_empty() || lines.iter().any(|l| l.quantity == 0) {
                return Err(LiabilityError::BadExchange);
            }
            for l in lines {
                in_currency("exchange_lines.unit_price", l.unit_price, c)?;
            }
        }
        _ => {}
    }
    if d.fault == FaultClass::LateDelivery {
        return match input.resolution {
            Resolution::Refund | Resolution::StoreCredit => Ok(()),
            other => Err(LiabilityError::ResolutionNotApplicable(other.as_str())),
        };
    }
    if input.items.is_empty() {
        return Err(LiabilityError::NoItems);
    }
    for (i, item) in input.items.iter().enumerate() {
        let bad = |problem: String| LiabilityError::BadItem {
            sku: item.sku.to_string(),
            problem,
        };
        let line = input
            .order
            .line(&item.sku)
            .ok_or_else(|| bad("not a line of the order".into()))?;
        if item.quantity == 0 || item.quantity > line.quantity {
            return Err(bad(format!(
                "1 to {} units, not {}",
                line.quantity, item.quantity
            )));
        }
        if input.items[..i].iter().any(|o| o.sku == item.sku) {
            return Err(bad("listed twice".into()));
        }
    }
    Ok(())
}

impl fmt::Display for Allocation {
    /// `ITEM_PRICE SUPPLIER 54.00 EUR SUPPLIER_UNIT_COST_LESS_RESTOCKING (contract v3 ...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} ({})",
            self.component.as_str(),
            self.party.as_str(),
            self.amount,
            self.rule.as_str(),
            self.clause
        )
    }
}

/// Splits `total` between two weights by largest remainder, the first winning ties.
fn split_two(total: Money, first: Money, second: Money) -> Result<(Money, Money), LiabilityError> {
    let w = |m: Money| u64::try_from(m.amount_minor).map_err(|_| LiabilityError::Overflow);
    let parts = allocate(total, &[w(first)?, w(second)?])?;
    Ok((parts[0], parts[1]))
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod tests;
