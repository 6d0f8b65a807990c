//! DESIGN.md's liability table, row by row, parametrized by the contract terms, the statutory
//! profile and the seller settings. [`super::split`] checked the input before any of this runs.

use super::{
    Allocation, Component, ComponentAmount, Inspection, LabelPaidBy, LiabilityError,
    LiabilityFault, LiabilitySplit, Party, PartyTotal, Resolution, Rule, SplitInput, split_two,
};
use crate::contract::{DefectCoverage, ShippingPayer};
use crate::decision::{Clause, FaultClass, ReasonCode};
use crate::money::{Money, apply_bps};
use crate::order::ReturnReason;
use Component::{Compensation, ItemPrice, OutboundShipping, ReturnShipping};
use Party::{Carrier, Customer, Seller, Supplier};

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
            term,
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
            profile_version: p.version,
            citation: p.withdrawal.map_or("", |w| w.citation),
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

    fn supplier_full_retail(&mut self, a: &Amounts) -> Result<()> {
        let clause = self.term("defect_coverage", DefectCoverage::FullRetail);
        self.everything(a, Supplier, Rule::SupplierFaultFullRetail, &clause);
        Ok(())
    }

    fn supplier_wholesale(&mut self, a: &Amounts) -> Result<()> {
        let clause = self.term("defect_coverage", DefectCoverage::Wholesale);
        // Goods sold below cost: the supplier funds at most the price, so nothing goes negative.
        let credit = a.cost.min(a.item)?;
        let margin = a.item.checked_sub(credit)?;
        self.give(
            ItemPrice,
            Supplier,
            credit,
            Rule::WholesaleUnitCost,
            clause.clone(),
            || format!("unit cost {} of the returned units", a.cost),
        );
        self.give(
            ItemPrice,
            Seller,
            margin,
            Rule::SellerMargin,
            clause.clone(),
            || format!("price {} less unit cost", a.item),
        );
        self.give(
            OutboundShipping,
            Seller,
            a.outbound,
            Rule::SellerOutboundRefund,
            clause.clone(),
            || format!("outbound delivery {}", a.outbound),
        );
        let rule = Rule::SupplierFaultReturnShipping;
        self.give(
            ReturnShipping,
            Supplier,
            a.label,
            rule,
            clause.clone(),
            || format!("return label {}", a.label),
        );
        // An allowance is a partial refund of the price, so it is funded in the price's proportions.
        let cost_share = a.cost.min(a.price)?;
        let (sup, sel) = split_two(a.allowance, cost_share, a.price.checked_sub(cost_share)?)?;
        self.give(
            Compensation,
            Supplier,
            sup,
            Rule::WholesaleUnitCost,
            clause.clone(),
            || {
                format!(
                    "allowance {} x unit cost {} / price {}",
                    a.allowance, a.cost, a.price
                )
            },
        );
        self.give(
            Compensation,
            Seller,
            sel,
            Rule::SellerMargin,
            clause,
            || format!("allowance {} less the supplier's share", a.allowance),
        );
        Ok(())
    }

    fn carrier(&mut self, a: &Amounts) -> Result<()> {
        let t = &self.input.contract.terms;
        let clause = self.term("transit_damage_party", t.transit_damage_party);
        let rule = Rule::CarrierClaim;
        self.give(ItemPrice, Carrier, a.item, rule, clause.clone(), || {
            format!("damaged goods {}", a.item)
        });
        let out = Rule::SellerOutboundRefund;
        self.give(
            OutboundShipping,
            Seller,
            a.outbound,
            out,
            clause.clone(),
            || format!("outbound delivery {}", a.outbound),
        );
        self.give(
            ReturnShipping,
            Carrier,
            a.label,
            rule,
            clause.clone(),
            || format!("return label {}", a.label),
        );
        self.give(Compensation, Carrier, a.allowance, rule, clause, || {
            format!("allowance {}", a.allowance)
        });
        Ok(())
    }

    fn seller_fault(&mut self, a: &Amounts) -> Result<()> {
        let clause = self.seller_clause();
        if self.input.contract.terms.accepts_no_fault_returns {
            self.take_back(a, false, Rule::SellerFault, clause.clone())?;
        } else {
            self.give(
                ItemPrice,
                Seller,
                a.item,
                Rule::SellerFault,
                clause.clone(),
                || format!("price {}; the supplier takes nothing back", a.item),
            );
        }
        let item = a.item;
        let zero = Money::zero(item.currency);
        let rest = Amounts { item: zero, ..*a };
        self.everything(&rest, Seller, Rule::SellerFault, &clause);
        Ok(())
    }

    fn fault_gap(&mut self, a: &Amounts) -> Result<()> {
        let clause = self.gap_clause();
        self.everything(a, Seller, Rule::PolicyGapSeller, &clause);
        Ok(())
    }

    /// The no-fault row: in contract when `gap` is `None`, else the policy-gap row resting on it.
    fn no_fault(&mut self, a: &Amounts, gap: Option<Clause>) -> Result<()> {
        match gap {
            Some(clause) => self.no_fault_uncovered(a, Rule::PolicyGapSeller, clause),
            None => {
                let t = &self.input.contract.terms;
                let clause = self.term("accepts_no_fault_returns", t.accepts_no_fault_returns);
                self.take_back(a, true, Rule::SellerMargin, clause.clone())?;
                self.no_fault_shipping(a)?;
                self.give(
                    Compensation,
                    Seller,
                    a.allowance,
                    Rule::AllowanceSeller,
                    clause,
                    || format!("allowance {} on goods kept without a fault", a.allowance),
                );
                Ok(())
            }
        }
    }

    /// A no-fault return the contract does not cover: the seller bears the price less the capped
    /// customer fee.
    fn no_fault_uncovered(&mut self, a: &Amounts, rule: Rule, clause: Clause) -> Result<()> {
        let fee = self.customer_fee(a.item, a.item)?;
        let rest = a.item.checked_sub(fee)?;
        self.give(ItemPrice, Seller, rest, rule, clause.clone(), || {
            format!("price {} less customer fee {fee}", a.item)
        });
        self.no_fault_shipping(a)?;
        self.give(Compensation, Seller, a.allowance, rule, clause, || {
            format!("allowance {}", a.allowance)
        });
        Ok(())
    }

    /// ITEM_PRICE when the supplier takes the units back: it credits their unit cost less its
    /// restocking fee; the customer pays the capped fee (when `customer_fee`); the seller bears the
    /// supplier's fee and the rest under `seller_rule`.
    fn take_back(
        &mut self,
        a: &Amounts,
        customer_fee: bool,
        seller_rule: Rule,
        clause: Clause,
    ) -> Result<()> {
        let bps = self.input.contract.terms.supplier_restocking_fee_bps;
        let fee = apply_bps(a.cost, bps);
        let credit = a.cost.checked_sub(fee)?.min(a.item)?;
        let fee_clause = self.term("supplier_restocking_fee_bps", bps.value());
        let rule = Rule::SupplierUnitCostLessRestocking;
        self.give(
            ItemPrice,
            Supplier,
            credit,
            rule,
            fee_clause.clone(),
            || format!("unit cost {} less restocking fee {fee} ({bps})", a.cost),
        );
        let room = a.item.checked_sub(credit)?;
        let paid = if customer_fee {
            self.customer_fee(a.item, room)?
        } else {
            Money::zero(a.item.currency)
        };
        let rest = room.checked_sub(paid)?;
        let restocking = fee.min(rest)?;
        self.give(
            ItemPrice,
            Seller,
            restocking,
            Rule::SupplierRestockingFee,
            fee_clause,
            || format!("restocking fee {fee} the supplier keeps ({bps})"),
        );
        let margin = rest.checked_sub(restocking)?;
        self.give(ItemPrice, Seller, margin, seller_rule, clause, || {
            format!(
                "price {} less supplier credit {credit}, customer fee {paid} and restocking fee",
                a.item
            )
        });
        Ok(())
    }

    /// The seller's customer restocking fee on `price`, capped by the statute on a withdrawal and by
    /// `room` (what the seller would otherwise bear: the seller never gains from a return).
    fn customer_fee(&mut self, price: Money, room: Money) -> Result<Money> {
        let i = self.input;
        let bps = i.settings.customer_restocking_fee_bps;
        let requested = apply_bps(price, bps);
        let allowed =
            i.settings
                .customer_fee(price, i.profile, i.decision.statutory_withdrawal, false);
        let fee = allowed.min(room)?;
        let seller_clause = Clause::SellerPolicy {
            term: "customer_restocking_fee_bps",
            value: bps.value().to_string(),
        };
        let (rule, clause) = if fee == requested {
            (Rule::CustomerRestockingFee, seller_clause)
        } else if allowed.amount_minor < requested.amount_minor {
            let cap = i.profile.max_withdrawal_fee(price, false);
            (
                Rule::CustomerRestockingFeeCapped,
                self.statute(format!("withdrawal fee at most {cap}")),
            )
        } else {
            (Rule::CustomerRestockingFeeCapped, seller_clause)
        };
        self.give(ItemPrice, Customer, fee, rule, clause, || {
            format!("{bps} of {price} asked {requested}, charged {fee}")
        });
        Ok(fee)
    }

    /// OUTBOUND_SHIPPING and RETURN_SHIPPING of a no-fault return.
    fn no_fault_shipping(&mut self, a: &Amounts) -> Result<()> {
        if self.outbound_statutory() {
            let clause = self.statute("standard outbound delivery refunded".into());
            let rule = Rule::StatutoryOutboundRefund;
            self.give(OutboundShipping, Seller, a.outbound, rule, clause, || {
                format!("outbound delivery {}", a.outbound)
            });
        } else {
            let clause = if self.input.decision.statutory_withdrawal {
                self.statute("outbound delivery not refunded".into())
            } else {
                self.fact("outbound delivery is refunded on a statutory withdrawal only".into())
            };
            let rule = Rule::OutboundNotRefunded;
            self.give(OutboundShipping, Customer, a.outbound, rule, clause, || {
                format!("outbound delivery {} not refunded", a.outbound)
            });
        }
        let payer = self.input.contract.terms.no_fault_return_shipping_payer;
        let party = match payer {
            ShippingPayer::Customer => Customer,
            ShippingPayer::Seller => Seller,
        };
        let clause = self.term("no_fault_return_shipping_payer", payer);
        self.give(
            ReturnShipping,
            party,
            a.label,
            Rule::ReturnShippingPayer,
            clause,
            || format!("return label {}", a.label),
        );
        Ok(())
    }

    fn customer_damage(&mut self, a: &Amounts, deduction: Option<Money>) -> Result<()> {
        let damage = deduction.unwrap_or(a.item);
        if damage.amount_minor > a.item.amount_minor {
            return Err(LiabilityError::DeductionOutOfRange {
                deduction: damage,
                max: a.item,
            });
        }
        let clause = self.fact(format!("inspection DAMAGED_BY_CUSTOMER deduction={damage}"));
        let rule = Rule::CustomerDamage;
        self.give(ItemPrice, Customer, damage, rule, clause.clone(), || {
            format!("damaged value {damage} not refunded")
        });
        let rest = a.item.checked_sub(damage)?;
        self.give(
            ItemPrice,
            Seller,
            rest,
            Rule::CustomerDamageRemainder,
            clause.clone(),
            || format!("price {} above the deduction {damage}", a.item),
        );
        // The law refunds the delivery on a withdrawal whatever the goods' state; the customer
        // answers for the damage through the deduction only.
        if self.outbound_statutory() {
            let statute = self.statute("standard outbound delivery refunded".into());
            let out = Rule::StatutoryOutboundRefund;
            self.give(OutboundShipping, Seller, a.outbound, out, statute, || {
                format!("outbound delivery {}", a.outbound)
            });
        } else {
            self.give(
                OutboundShipping,
                Customer,
                a.outbound,
                rule,
                clause.clone(),
                || format!("outbound delivery {} not refunded", a.outbound),
            );
        }
        self.give(ReturnShipping, Customer, a.label, rule, clause, || {
            format!("return label {}", a.label)
        });
        Ok(())
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
