//! The table's rows: each allocates ITEM_PRICE, OUTBOUND_SHIPPING, RETURN_SHIPPING and the
//! allowance part of COMPENSATION for one fault class.

use super::{Amounts, Ctx, Result};
use crate::contract::{DefectCoverage, ShippingPayer};
use crate::decision::Clause;
use crate::liability::{Component::*, LiabilityError, Party::*, Rule, split_two};
use crate::money::{Money, apply_bps};

impl Ctx<'_> {
    pub(super) fn supplier_full_retail(&mut self, a: &Amounts) -> Result<()> {
        let clause = self.term("defect_coverage", DefectCoverage::FullRetail);
        self.everything(a, Supplier, Rule::SupplierFaultFullRetail, &clause);
        Ok(())
    }

    pub(super) fn supplier_wholesale(&mut self, a: &Amounts) -> Result<()> {
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

    pub(super) fn carrier(&mut self, a: &Amounts) -> Result<()> {
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

    pub(super) fn seller_fault(&mut self, a: &Amounts) -> Result<()> {
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

    pub(super) fn fault_gap(&mut self, a: &Amounts) -> Result<()> {
        let clause = self.gap_clause();
        self.everything(a, Seller, Rule::PolicyGapSeller, &clause);
        Ok(())
    }

    /// The no-fault row: in contract when `gap` is `None`, else the policy-gap row resting on it.
    pub(super) fn no_fault(&mut self, a: &Amounts, gap: Option<Clause>) -> Result<()> {
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
    pub(super) fn no_fault_uncovered(
        &mut self,
        a: &Amounts,
        rule: Rule,
        clause: Clause,
    ) -> Result<()> {
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
            term: "customer_restocking_fee_bps".into(),
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

    pub(super) fn customer_damage(&mut self, a: &Amounts, deduction: Option<Money>) -> Result<()> {
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
}
