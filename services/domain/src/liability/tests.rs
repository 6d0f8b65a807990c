//! docs/design.md's worked example and its table, row by row.

use super::*;
use crate::contract::{
    BreachAction, ContractTerms, DefectCoverage, ListingDataOwner, ShippingPayer, SlaTerms,
    TransitDamageParty,
};
use crate::decision::{Basis, Deadlines, DecisionReason, FaultClass, ReasonCode};
use crate::ids::SupplierId;
use crate::money::BasisPoints;
use crate::order::{Category, OrderLine, OrderRef};
use crate::statute::{EU, IL, US};
use Component::*;
use Party::*;
use chrono::{DateTime, TimeDelta, Utc};

mod inspection;
mod resolutions;

pub(crate) fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

pub(crate) fn terms() -> ContractTerms {
    ContractTerms {
        return_window_days: 30,
        defect_window_days: 180,
        non_returnable_categories: vec![],
        evidence_required_reasons: Default::default(),
        requires_original_packaging: false,
        accepts_no_fault_returns: true,
        supplier_restocking_fee_bps: BasisPoints::new_const(1_000),
        defect_coverage: DefectCoverage::FullRetail,
        transit_damage_party: TransitDamageParty::Carrier,
        listing_data_owner: ListingDataOwner::Seller,
        no_fault_return_shipping_payer: ShippingPayer::Customer,
        returnless_threshold: None,
        auto_authorize: true,
        sla: SlaTerms {
            ack_within: TimeDelta::hours(24),
            decision_within: TimeDelta::hours(72),
            credit_within: TimeDelta::days(14),
            breach_action: BreachAction::Notify,
        },
    }
}

pub(crate) fn order(
    currency: Currency,
    lines: &[(&str, u32, i64, i64)],
    outbound: i64,
) -> OrderFacts {
    let delivered_at = at("2026-03-01T10:00:00Z");
    OrderFacts {
        order_id: OrderRef::parse("SO-1001").unwrap(),
        supplier: SupplierId::parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").unwrap(),
        ordered_at: delivered_at - TimeDelta::days(4),
        delivered_at,
        jurisdiction: Jurisdiction::Eu,
        customer_time_zone: Some(chrono_tz::Europe::Berlin),
        extended_cancellation_right: false,
        currency,
        outbound_shipping: Money::new(currency, outbound),
        lines: lines
            .iter()
            .map(|&(sku, quantity, price, cost)| OrderLine {
                sku: Sku::parse(sku).unwrap(),
                category: Category::parse("apparel").unwrap(),
                quantity,
                unit_price: Money::new(currency, price),
                unit_cost: Money::new(currency, cost),
            })
            .collect(),
    }
}

pub(crate) fn item(sku: &str, quantity: u32) -> ReturnItem {
    ReturnItem {
        sku: Sku::parse(sku).unwrap(),
        quantity,
    }
}

/// Everything a split needs, owned, so a test changes only what it is about.
pub(super) struct Fx {
    pub order: OrderFacts,
    pub items: Vec<ReturnItem>,
    pub reason: ReturnReason,
    pub decision: Decision,
    pub contract: ContractVersion,
    pub profile: &'static StatutoryProfile,
    pub settings: SellerSettings,
    pub resolution: Resolution,
    pub label: Option<Money>,
    pub label_paid_by: LabelPaidBy,
    pub compensation: Option<Money>,
    pub inspection: Inspection,
}

impl Fx {
    /// docs/design.md's worked example: EU customer, 2 x 50.00 EUR (unit cost 30.00), outbound 5.00,
    /// label 7.00, restocking fee 10%, the customer pays a no-fault label. A no-fault return in the
    /// EU within 14 days is a statutory withdrawal as well as in contract.
    pub fn worked(reason: ReturnReason) -> Self {
        let t = terms();
        let fault = FaultClass::of(reason, &t);
        Fx {
            order: order(Currency::EUR, &[("TEE", 2, 5_000, 3_000)], 500),
            items: vec![item("TEE", 2)],
            reason,
            decision: Decision {
                outcome: Outcome::Authorized,
                fault,
                basis: Basis::Both,
                policy_gap: false,
                statutory_withdrawal: fault == FaultClass::NoFault,
                return_required: fault != FaultClass::LateDelivery,
                returnless: false,
                reasons: vec![],
                deadlines: Deadlines::default(),
                contract_version: 3,
                profile_version: EU.version.into(),
            },
            contract: ContractVersion {
                supplier: SupplierId::parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").unwrap(),
                version: 3,
                effective_from: at("2026-01-01T00:00:00Z"),
                terms: t,
                published_at: at("2026-01-01T00:00:00Z"),
            },
            profile: &EU,
            settings: SellerSettings::default(),
            resolution: Resolution::Refund,
            label: Some(Money::new(Currency::EUR, 700)),
            label_paid_by: LabelPaidBy::Seller,
            compensation: None,
            inspection: Inspection::Passed,
        }
    }

    pub fn terms(mut self, f: impl FnOnce(&mut ContractTerms)) -> Self {
        f(&mut self.contract.terms);
        self.decision.fault = FaultClass::of(self.reason, &self.contract.terms);
        self
    }

    /// Moves the customer to `profile`, where nothing is a statutory withdrawal unless set again.
    pub fn profile(mut self, profile: &'static StatutoryProfile) -> Self {
        self.profile = profile;
        self.decision.profile_version = profile.version.into();
        self.decision.statutory_withdrawal = false;
        self
    }

    pub fn input(&self) -> SplitInput<'_> {
        SplitInput {
            order: &self.order,
            reason: self.reason,
            items: &self.items,
            decision: &self.decision,
            contract: &self.contract,
            profile: self.profile,
            settings: &self.settings,
            resolution: &self.resolution,
            label_cost: self.label,
            label_paid_by: self.label_paid_by,
            compensation: self.compensation,
            inspection: self.inspection,
        }
    }

    pub fn run(&self) -> LiabilitySplit {
        split(&self.input()).unwrap_or_else(|e| panic!("split failed: {e}"))
    }
}

pub(crate) fn eur(minor: i64) -> Money {
    Money::new(Currency::EUR, minor)
}

/// `(component, party, minor units, rule)` of every allocation, for whole-split comparisons.
pub(crate) fn lines(s: &LiabilitySplit) -> Vec<(Component, Party, i64, &'static str)> {
    let all = s.allocations.iter();
    all.map(|a| (a.component, a.party, a.amount.amount_minor, a.rule.as_str()))
        .collect()
}

pub(crate) fn total(s: &LiabilitySplit, p: Party) -> i64 {
    s.total(p).amount_minor
}

#[test]
fn worked_example_defective_full_retail_supplier_bears_112_and_customer_gets_105() {
    let s = Fx::worked(ReturnReason::Defective).run();
    assert_eq!(total(&s, Supplier), 11_200);
    assert_eq!(s.customer_refund, eur(10_500));
    assert_eq!(s.customer_charge, eur(0));
    assert_eq!(s.supplier_net_to_seller, eur(11_200));
    assert_eq!(s.totals.len(), 1);
    assert_eq!(s.fault, LiabilityFault::Supplier);
}

#[test]
fn worked_example_defective_wholesale_splits_67_supplier_45_seller() {
    let s = Fx::worked(ReturnReason::Defective)
        .terms(|t| t.defect_coverage = DefectCoverage::Wholesale)
        .run();
    assert_eq!(
        lines(&s),
        [
            (ItemPrice, Supplier, 6_000, "WHOLESALE_UNIT_COST"),
            (ItemPrice, Seller, 4_000, "SELLER_MARGIN"),
            (OutboundShipping, Seller, 500, "SELLER_OUTBOUND_REFUND"),
            (
                ReturnShipping,
                Supplier,
                700,
                "SUPPLIER_FAULT_RETURN_SHIPPING"
            ),
        ]
    );
    assert_eq!((total(&s, Supplier), total(&s, Seller)), (6_700, 4_500));
    assert_eq!(s.customer_refund, eur(10_500));
}

#[test]
fn worked_example_changed_mind_splits_54_supplier_46_plus_5_seller_7_customer() {
    let s = Fx::worked(ReturnReason::ChangedMind).run();
    assert_eq!(
        lines(&s),
        [
            (
                ItemPrice,
                Supplier,
                5_400,
                "SUPPLIER_UNIT_COST_LESS_RESTOCKING"
            ),
            (ItemPrice, Seller, 600, "SUPPLIER_RESTOCKING_FEE"),
            (ItemPrice, Seller, 4_000, "SELLER_MARGIN"),
            (OutboundShipping, Seller, 500, "STATUTORY_OUTBOUND_REFUND"),
            (ReturnShipping, Customer, 700, "RETURN_SHIPPING_PAYER"),
        ]
    );
    assert_eq!(s.borne(ItemPrice, Seller), eur(4_600));
    assert_eq!(s.customer_refund, eur(9_800));
    assert_eq!(s.supplier_net_to_seller, eur(5_400));
}

#[test]
fn worked_example_holds_when_decided_by_the_eligibility_rules() {
    use crate::order::ReturnRequest;
    let fx = Fx::worked(ReturnReason::ChangedMind);
    let request = ReturnRequest {
        order: fx.order.clone(),
        items: fx.items.clone(),
        reason: ReturnReason::ChangedMind,
        evidence: vec![],
        label_cost_estimate: fx.label,
        customer_comment: None,
    };
    let now = fx.order.delivered_at + TimeDelta::days(5);
    let d = crate::eligibility::decide(
        &request,
        &Default::default(),
        &fx.contract,
        &EU,
        &fx.settings,
        now,
    );
    assert!(d.statutory_withdrawal && !d.policy_gap);
    let s = Fx { decision: d, ..fx }.run();
    assert_eq!(
        (total(&s, Supplier), total(&s, Seller), total(&s, Customer)),
        (5_400, 5_100, 700)
    );
    assert_eq!(s.customer_refund, eur(9_800));
}

#[test]
fn carrier_fault_puts_goods_and_label_on_the_carrier_and_outbound_on_the_seller() {
    let s = Fx::worked(ReturnReason::DamagedInTransit).run();
    assert_eq!(s.fault, LiabilityFault::Carrier);
    assert_eq!(
        lines(&s),
        [
            (ItemPrice, Carrier, 10_000, "CARRIER_CLAIM"),
            (OutboundShipping, Seller, 500, "SELLER_OUTBOUND_REFUND"),
            (ReturnShipping, Carrier, 700, "CARRIER_CLAIM"),
        ]
    );
    assert_eq!(s.customer_refund, eur(10_500));
    assert_eq!(s.supplier_net_to_seller, eur(0));
}

#[test]
fn seller_listing_fault_gets_the_supplier_credit_less_restocking_when_it_takes_goods_back() {
    let s = Fx::worked(ReturnReason::NotAsDescribed).run();
    assert_eq!(s.fault, LiabilityFault::Seller);
    assert_eq!(
        lines(&s),
        [
            (
                ItemPrice,
                Supplier,
                5_400,
                "SUPPLIER_UNIT_COST_LESS_RESTOCKING"
            ),
            (ItemPrice, Seller, 600, "SUPPLIER_RESTOCKING_FEE"),
            (ItemPrice, Seller, 4_000, "SELLER_FAULT"),
            (OutboundShipping, Seller, 500, "SELLER_FAULT"),
            (ReturnShipping, Seller, 700, "SELLER_FAULT"),
        ]
    );
    assert_eq!(s.customer_refund, eur(10_500));
    let clause = &s.allocations[2].clause;
    assert_eq!(clause.to_string(), "contract v3 listing_data_owner=SELLER");
}

#[test]
fn seller_fault_bears_everything_when_the_supplier_takes_nothing_back() {
    let s = Fx::worked(ReturnReason::DamagedInTransit)
        .terms(|t| {
            t.transit_damage_party = TransitDamageParty::Seller;
            t.accepts_no_fault_returns = false;
        })
        .run();
    assert_eq!(total(&s, Seller), 11_200);
    assert_eq!(s.totals.len(), 1);
    let clause = s.allocations[0].clause.to_string();
    assert_eq!(clause, "contract v3 transit_damage_party=SELLER");
}

#[test]
fn no_fault_outside_any_statute_charges_the_uncapped_customer_fee_and_the_outbound() {
    let mut fx = Fx::worked(ReturnReason::SizeFit).profile(&US);
    fx.settings.customer_restocking_fee_bps = BasisPoints::new_const(1_000);
    let s = fx.run();
    assert_eq!(
        lines(&s),
        [
            (
                ItemPrice,
                Supplier,
                5_400,
                "SUPPLIER_UNIT_COST_LESS_RESTOCKING"
            ),
            (ItemPrice, Seller, 600, "SUPPLIER_RESTOCKING_FEE"),
            (ItemPrice, Seller, 3_000, "SELLER_MARGIN"),
            (ItemPrice, Customer, 1_000, "CUSTOMER_RESTOCKING_FEE"),
            (OutboundShipping, Customer, 500, "OUTBOUND_NOT_REFUNDED"),
            (ReturnShipping, Customer, 700, "RETURN_SHIPPING_PAYER"),
        ]
    );
    assert_eq!(s.customer_refund, eur(10_500 - 2_200));
}

#[test]
fn no_fault_on_an_eu_withdrawal_charges_no_customer_fee_and_the_seller_may_pay_the_label() {
    let mut fx = Fx::worked(ReturnReason::ChangedMind)
        .terms(|t| t.no_fault_return_shipping_payer = ShippingPayer::Seller);
    fx.settings.customer_restocking_fee_bps = BasisPoints::new_const(1_000);
    let s = fx.run();
    assert_eq!(s.borne(ItemPrice, Customer), eur(0));
    assert_eq!(s.borne(ReturnShipping, Seller), eur(700));
    assert_eq!(s.customer_refund, eur(10_500));
}

#[test]
fn israeli_withdrawal_fee_is_capped_at_five_percent_or_100_ils_and_keeps_the_outbound() {
    let ils = |m| Money::new(Currency::ILS, m);
    let mut fx = Fx::worked(ReturnReason::ChangedMind).profile(&IL);
    fx.decision.statutory_withdrawal = true;
    fx.order = order(Currency::ILS, &[("TEE", 2, 5_000, 3_000)], 500);
    fx.label = Some(ils(700));
    fx.settings.customer_restocking_fee_bps = BasisPoints::new_const(1_000);
    let s = fx.run();
    let fee = s.allocations.iter().find(|a| a.party == Customer).unwrap();
    assert_eq!(
        (fee.amount, fee.rule),
        (ils(500), Rule::CustomerRestockingFeeCapped)
    );
    assert!(fee.clause.to_string().contains("§14C"), "{}", fee.clause);
    assert_eq!(s.borne(OutboundShipping, Customer), ils(500));
    fx.order = order(Currency::ILS, &[("TEE", 2, 300_000, 100_000)], 500);
    assert_eq!(fx.run().borne(ItemPrice, Customer), ils(10_000));
    fx.reason = ReturnReason::Defective;
    fx.decision.fault = FaultClass::Supplier;
    assert_eq!(fx.run().total(Customer), ils(0));
}

#[test]
fn no_fault_policy_gap_puts_the_price_on_the_seller_resting_on_the_statute() {
    let mut fx =
        Fx::worked(ReturnReason::ChangedMind).terms(|t| t.accepts_no_fault_returns = false);
    fx.decision.policy_gap = true;
    fx.decision.basis = Basis::Statute;
    fx.decision.reasons = vec![DecisionReason {
        code: ReasonCode::StatutoryWithdrawal,
        clause: Clause::Statute {
            jurisdiction: Jurisdiction::Eu,
            profile_version: EU.version.into(),
            citation: "Directive 2011/83/EU art. 9".into(),
            summary: "withdrawal 14d".into(),
        },
        detail: String::new(),
    }];
    let s = fx.run();
    assert!(s.policy_gap);
    assert_eq!(
        lines(&s),
        [
            (ItemPrice, Seller, 10_000, "POLICY_GAP_SELLER"),
            (OutboundShipping, Seller, 500, "STATUTORY_OUTBOUND_REFUND"),
            (ReturnShipping, Customer, 700, "RETURN_SHIPPING_PAYER"),
        ]
    );
    assert!(s.allocations[0].clause.to_string().contains("art. 9"));
    assert_eq!(s.customer_refund, eur(9_800));
}

#[test]
fn seller_policy_gap_outside_the_statute_still_charges_the_customer_fee() {
    let mut fx = Fx::worked(ReturnReason::ChangedMind).profile(&US);
    fx.decision.policy_gap = true;
    fx.decision.basis = Basis::SellerPolicy;
    fx.settings.customer_restocking_fee_bps = BasisPoints::new_const(1_000);
    let s = fx.run();
    assert_eq!(s.borne(ItemPrice, Seller), eur(9_000));
    assert_eq!(s.borne(ItemPrice, Customer), eur(1_000));
    assert_eq!(s.total(Supplier), eur(0));
}

#[test]
fn a_fault_claim_covered_only_by_the_legal_guarantee_is_the_sellers_to_bear() {
    let mut fx = Fx::worked(ReturnReason::Defective);
    fx.decision.policy_gap = true;
    fx.decision.basis = Basis::Statute;
    let s = fx.run();
    assert_eq!(total(&s, Seller), 11_200);
    assert!(
        s.allocations
            .iter()
            .all(|a| a.rule == Rule::PolicyGapSeller)
    );
    assert_eq!(s.supplier_net_to_seller, eur(0));
}
