//! docs/design.md's liability table, row by row, parametrized by the contract terms, the statutory
//! profile and the seller settings. [`super::split`] checked the input before any of this runs.

use super::{
    Allocation, Component, ComponentAmount, Inspection, LabelPaidBy, LiabilityError,
    LiabilityFault, LiabilitySplit, Party, PartyTotal, Resolution, Rule, SplitInput, split_two,
};
use crate::contract::DefectCoverage;
use crate::decision::{Clause, FaultClass, ReasonCode};
use crate::money::Money;
use crate::order::ReturnReason;
use Component::{Compensation, ItemPrice, OutboundShipping, ReturnShipping};
use Party::{Customer, Seller, Supplier};

mod table;

type Result<T> = std::result::Result<T, LiabilityError>;

/// The gross amounts the rows allocate.
struct Amounts {
    /// Price of the resolved units (the allowance's bound even when ITEM_PRICE is zero).
    price: Money,
    /// Their unit cost x quantity.
    cost: Money,
    /// The ITEM_PRICE component: the price when goods are given back, else zero.
    item: Money,
    outbound: Money,
    label: Money,
    allowance: Money,
    goodwill: Money,
}

struct Ctx<'a> {
    input: &'a SplitInput<'a>,
    allocations: Vec<Allocation>,
}

pub(super) fn compute(input: &SplitInput<'_>) -> Result<LiabilitySplit> {
    let cur = input.order.currency;
    let d = input.decision;
    let late = d.fault == FaultClass::LateDelivery;
    let zero = Money::zero(cur);
    let (price, cost) = if late { (zero, zero) } else { priced(input)? };
    let keep = matches!(input.resolution, Resolution::PartialRefund { .. });
    let goods_back = !late && !keep && d.return_required;
    let allowance = match input.resolution {
        Resolution::PartialRefund { allowance } => {
            if allowance.amount_minor == 0 || allowance.amount_minor > price.amount_minor {
                return Err(LiabilityError::AllowanceOutOfRange {
                    allowance: *allowance,
                    max: price,
                });
            }
            *allowance
        }
        _ => zero,
    };
    let a = Amounts {
        price,
        cost,
        item: if late || keep { zero } else { price },
        outbound: if !late && input.resolution.undoes_sale() {
            outbound_share(input, price)?
        } else {
            zero
        },
        label: if goods_back {
            input.label_cost.unwrap_or(zero)
        } else {
            zero
        },
        allowance,
        goodwill: input.compensation.unwrap_or(zero),
    };
    let terms = &input.contract.terms;
    let inspection = if goods_back {
        input.inspection
    } else {
        Inspection::Passed
    };
    let faulty = matches!(
        d.fault,
        FaultClass::Supplier | FaultClass::Carrier | FaultClass::Seller
    );
    let mut gap = d.policy_gap;
    let mut c = Ctx {
        input,
        allocations: Vec::with_capacity(8),
    };
    let fault = match inspection {
        _ if late => LiabilityFault::LateDelivery,
        Inspection::DamagedByCustomer { deduction } => {
            c.customer_damage(&a, deduction)?;
            LiabilityFault::Customer
        }
        Inspection::DefectNotFound if faulty => {
            let covered = terms.accepts_no_fault_returns && !gap;
            gap = !covered;
            let clause = (!covered).then(|| c.gap_clause());
            c.no_fault(&a, clause)?;
            LiabilityFault::NoFault
        }
        Inspection::MissingOriginalPackaging
            if d.fault == FaultClass::NoFault && terms.requires_original_packaging =>
        {
            gap = true;
            let clause = c.term("requires_original_packaging", true);
            c.no_fault_uncovered(&a, Rule::MissingOriginalPackagingSeller, clause)?;
            LiabilityFault::NoFault
        }
        _ => {
            let row = LiabilityFault::from(d.fault);
            match row {
                _ if gap && faulty => c.fault_gap(&a)?,
                LiabilityFault::Supplier => match terms.defect_coverage {
                    DefectCoverage::FullRetail => c.supplier_full_retail(&a)?,
                    DefectCoverage::Wholesale => c.supplier_wholesale(&a)?,
                },
                LiabilityFault::Carrier => c.carrier(&a)?,
                LiabilityFault::Seller => c.seller_fault(&a)?,
                _ => {
                    let clause = gap.then(|| c.gap_clause());
                    c.no_fault(&a, clause)?
                }
            }
            row
        }
    };
    c.goodwill(&a, fault)?;
    c.finish(&a, fault, gap)
}

/// Price and cost of the resolved units, checked for overflow.
fn priced(input: &SplitInput<'_>) -> Result<(Money, Money)> {
    let cur = input.order.currency;
    let (mut price, mut cost) = (Money::zero(cur), Money::zero(cur));
    for item in input.items {
        // `check` made sure every item is a line of the order.
        let Some(line) = input.order.line(&item.sku) else {
            continue;
        };
        let q = i64::from(item.quantity);
        price = price.checked_add(line.unit_price.checked_mul(q)?)?;
        cost = cost.checked_add(line.unit_cost.checked_mul(q)?)?;
    }
    Ok((price, cost))
}

/// The outbound delivery due back for the resolved units: all of it when every unit comes back,
/// else pro rata to their price in the order's goods (by units when the goods were free), rounded by
/// largest remainder with ties to the returned part. A later return of the remaining units gets the
/// rest, so the pieces add up to the whole delivery charge across returns.
fn outbound_share(input: &SplitInput<'_>, price: Money) -> Result<Money> {
    let order = &input.order;
    let outbound = order.outbound_shipping;
    let cur = order.currency;
    let (mut goods, mut units, mut returned) = (Money::zero(cur), 0u64, 0u64);
    for l in &order.lines {
        goods = goods.checked_add(l.unit_price.checked_mul(i64::from(l.quantity))?)?;
        units += u64::from(l.quantity);
    }
    for i in input.items {
        returned += u64::from(i.quantity);
    }
    if returned >= units {
        return Ok(outbound);
    }
    let (share, _) = if goods.amount_minor > 0 {
        split_two(outbound, price, goods.checked_sub(price)?)?
    } else {
        let part = |u: u64| Money::new(cur, i64::try_from(u).unwrap_or(i64::MAX));
        split_two(outbound, part(returned), part(units - returned))?
    };
    Ok(share)
}

impl Ctx<'_> {
    fn give(
        &mut self,
        component: Component,
        party: Party,
        amount: Money,
        rule: Rule,
        clause: Clause,
        explanation: impl FnOnce() -> String,
    ) {
        debug_assert!(!amount.is_negative(), "{rule:?} {amount}");
        if amount.amount_minor > 0 {
            self.allocations.push(Allocation {
                component,
                party,
                amount,
                rule,
                clause,
                explanation: explanation(),
            });
        }
    }

    fn term(&self, term: &'static str, value: impl ToString) -> Clause {
        Clause::Contract {
            version: self.input.contract.version,
            term: term.into(),
            value: value.to_string(),
        }
    }

    fn fact(&self, facts: String) -> Clause {
        Clause::Order { facts }
    }

    fn statute(&self, summary: String) -> Clause {
        let p = self.input.profile;
        Clause::Statute {
            jurisdiction: p.jurisdiction,
            profile_version: p.version.into(),
            citation: p.withdrawal.map_or("", |w| w.citation).into(),
            summary,
        }
    }

    /// The clause a policy gap rests on: the statutory or seller-policy reason of the decision.
    fn gap_clause(&self) -> Clause {
        let d = self.input.decision;
        let entitling = [
            ReasonCode::StatutoryWithdrawal,
            ReasonCode::StatutoryLegalGuarantee,
            ReasonCode::SellerReturnWindow,
        ];
        match d.reasons.iter().find(|r| entitling.contains(&r.code)) {
            Some(r) if d.policy_gap => r.clause.clone(),
            _ if !self.input.contract.terms.accepts_no_fault_returns => {
                self.term("accepts_no_fault_returns", false)
            }
            _ => self.fact("the contract does not cover this return".into()),
        }
    }

    /// Whether the statute makes the outbound delivery refundable on this return.
    fn outbound_statutory(&self) -> bool {
        self.input.decision.statutory_withdrawal
            && self
                .input
                .profile
                .withdrawal
                .is_some_and(|w| w.outbound_delivery_refunded)
    }

    /// The fault clause of the seller row: its listing, or the transit damage it agreed to bear.
    fn seller_clause(&self) -> Clause {
        let t = &self.input.contract.terms;
        match self.input.reason {
            ReturnReason::DamagedInTransit => {
                self.term("transit_damage_party", t.transit_damage_party)
            }
            _ => self.term("listing_data_owner", t.listing_data_owner),
        }
    }

    fn everything(&mut self, a: &Amounts, party: Party, rule: Rule, clause: &Clause) {
        for (component, amount) in [
            (ItemPrice, a.item),
            (OutboundShipping, a.outbound),
            (ReturnShipping, a.label),
            (Compensation, a.allowance),
        ] {
            self.give(component, party, amount, rule, clause.clone(), || {
                format!("{} {amount}", component.as_str())
            });
        }
    }

    fn goodwill(&mut self, a: &Amounts, fault: LiabilityFault) -> Result<()> {
        if fault == LiabilityFault::LateDelivery {
            let days = self.input.contract.terms.defect_window_days;
            let clause = self.term("defect_window_days", days);
            self.give(
                Compensation,
                Supplier,
                a.goodwill,
                Rule::LateDeliverySupplier,
                clause,
                || format!("late-delivery compensation {}", a.goodwill),
            );
        } else {
            let clause = self.fact(format!("goodwill compensation {}", a.goodwill));
            self.give(
                Compensation,
                Seller,
                a.goodwill,
                Rule::GoodwillSeller,
                clause,
                || format!("goodwill {}", a.goodwill),
            );
        }
        Ok(())
    }

    fn finish(mut self, a: &Amounts, fault: LiabilityFault, gap: bool) -> Result<LiabilitySplit> {
        let i = self.input;
        let cur = i.order.currency;
        let compensation = a.allowance.checked_add(a.goodwill)?;
        let amounts = [a.item, a.outbound, a.label, compensation];
        // Stable: allocations of one component and party keep the order the row gave them.
        self.allocations
            .sort_by_key(|x| (x.component.index(), x.party.index()));
        let mut by_party = [Money::zero(cur); 4];
        let mut by_component = [Money::zero(cur); 4];
        for x in &self.allocations {
            let p = x.party.index();
            by_party[p] = by_party[p].checked_add(x.amount)?;
            let c = x.component.index();
            by_component[c] = by_component[c].checked_add(x.amount)?;
        }
        debug_assert_eq!(by_component, amounts, "{:#?}", self.allocations);
        let components =
            [ItemPrice, OutboundShipping, ReturnShipping, Compensation].map(|component| {
                ComponentAmount {
                    component,
                    amount: amounts[component.index()],
                }
            });
        let totals = Party::ALL
            .iter()
            .filter(|p| by_party[p.index()].amount_minor > 0)
            .map(|&party| PartyTotal {
                party,
                amount: by_party[party.index()],
            })
            .collect();
        let in_kind = match i.resolution {
            Resolution::Exchange(lines) => lines.iter().try_fold(Money::zero(cur), |s, l| {
                s.checked_add(l.unit_price.checked_mul(i64::from(l.quantity))?)
            })?,
            Resolution::Replacement => a.item,
            _ => Money::zero(cur),
        };
        // The label is paid to the carrier, so it is never part of what the customer gets back.
        let owed = a.item.checked_add(a.outbound)?.checked_add(compensation)?;
        let due = owed
            .checked_sub(by_party[Customer.index()])?
            .checked_sub(in_kind)?;
        let (refund, charge) = if due.is_negative() {
            (Money::zero(cur), Money::zero(cur).checked_sub(due)?)
        } else {
            (due, Money::zero(cur))
        };
        let supplier_label = match i.label_paid_by {
            LabelPaidBy::Supplier => a.label,
            LabelPaidBy::Seller => Money::zero(cur),
        };
        Ok(LiabilitySplit {
            currency: cur,
            fault,
            resolution: i.resolution.clone(),
            policy_gap: gap,
            components,
            allocations: self.allocations,
            totals,
            customer_refund: refund,
            customer_charge: charge,
            supplier_net_to_seller: by_party[Supplier.index()].checked_sub(supplier_label)?,
            contract_version: i.contract.version,
            jurisdiction: i.profile.jurisdiction,
            profile_version: i.profile.version,
        })
    }
}
