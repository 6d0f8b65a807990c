//! The split's invariants over random returns: every component sums exactly, nothing is negative,
//! every amount is in the order's currency, and the same input gives the same split.

use super::tests::{Fx, item, order};
use super::*;
use crate::contract::{DefectCoverage, ShippingPayer, TransitDamageParty};
use crate::decision::FaultClass;
use crate::money::BasisPoints;
use crate::statute::{EU, GB, IL, NONE, US};
use proptest::prelude::*;

const CURRENCIES: [Currency; 5] = [
    Currency::EUR,
    Currency::JPY,
    Currency::BHD,
    Currency::ILS,
    Currency::USD,
];
const PROFILES: [&StatutoryProfile; 5] = [&EU, &GB, &IL, &US, &NONE];

/// Lines of (units bought, unit price, unit cost), cost sometimes above the price.
fn lines() -> impl Strategy<Value = Vec<(u32, i64, i64)>> {
    prop::collection::vec((1u32..=20, 0i64..=10_000_000, 0i64..=12_000_000), 1..=5)
}

#[derive(Debug, Clone)]
struct Knobs {
    currency: usize,
    profile: usize,
    reason: usize,
    gap: bool,
    withdrawal: bool,
    returnless: bool,
    coverage_wholesale: bool,
    transit: usize,
    accepts: bool,
    packaging: bool,
    payer_seller: bool,
    supplier_label: bool,
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        (0..5usize, 0..5usize, 0..8usize, any::<bool>()),
        (any::<bool>(), any::<bool>(), any::<bool>(), 0..3usize),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(|((c, p, r, g), (w, rl, cw, t), (a, pk, ps, sl))| Knobs {
            currency: c,
            profile: p,
            reason: r,
            gap: g,
            withdrawal: w,
            returnless: rl,
            coverage_wholesale: cw,
            transit: t,
            accepts: a,
            packaging: pk,
            payer_seller: ps,
            supplier_label: sl,
        })
}

/// Amounts: outbound, label, compensation, supplier fee bps, customer fee bps, a share in 0..=1000
/// (allowance or deduction, per mille of the price), the resolution and inspection picks.
type Amounts = (i64, Option<i64>, Option<i64>, u16, u16, u16, usize, usize);

fn amounts() -> impl Strategy<Value = Amounts> {
    (
        0i64..=100_000,
        prop::option::of(0i64..=100_000),
        prop::option::of(0i64..=100_000),
        0u16..=10_000,
        0u16..=10_000,
        0u16..=1_000,
        0..5usize,
        0..5usize,
    )
}

fn build(lines: &[(u32, i64, i64)], returned: &[u32], k: &Knobs, a: Amounts) -> Fx {
    let (outbound, label, comp, sup_bps, cust_bps, share, res, insp) = a;
    let cur = CURRENCIES[k.currency];
    let skus: Vec<String> = (0..lines.len()).map(|i| format!("SKU-{i}")).collect();
    let spec: Vec<(&str, u32, i64, i64)> = (lines.iter().zip(&skus))
        .map(|(&(q, p, c), s)| (s.as_str(), q, p, c))
        .collect();
    let reason = ReturnReason::ALL[k.reason];
    let mut fx = Fx::worked(reason).profile(PROFILES[k.profile]).terms(|t| {
        t.supplier_restocking_fee_bps = BasisPoints::parse(i64::from(sup_bps)).unwrap();
        if k.coverage_wholesale {
            t.defect_coverage = DefectCoverage::Wholesale;
        }
        t.transit_damage_party = TransitDamageParty::ALL[k.transit];
        t.accepts_no_fault_returns = k.accepts;
        t.requires_original_packaging = k.packaging;
        if k.payer_seller {
            t.no_fault_return_shipping_payer = ShippingPayer::Seller;
        }
    });
    fx.order = order(cur, &spec, outbound);
    fx.items = (spec.iter().zip(returned))
        .filter(|(_, r)| **r > 0)
        .map(|(l, r)| item(l.0, (*r).min(l.1)))
        .collect();
    if fx.items.is_empty() {
        fx.items.push(item(spec[0].0, 1));
    }
    let late = fx.decision.fault == FaultClass::LateDelivery;
    fx.decision.policy_gap = k.gap && !late;
    fx.decision.statutory_withdrawal = k.withdrawal && PROFILES[k.profile].withdrawal.is_some();
    fx.decision.returnless = k.returnless && !late;
    fx.decision.return_required = !fx.decision.returnless && !late;
    fx.settings.customer_restocking_fee_bps = BasisPoints::parse(i64::from(cust_bps)).unwrap();
    fx.label = label.map(|m| Money::new(cur, m));
    fx.compensation = comp.map(|m| Money::new(cur, m));
    fx.label_paid_by = if k.supplier_label {
        LabelPaidBy::Supplier
    } else {
        LabelPaidBy::Seller
    };
    let price: i64 = (fx.items.iter())
        .map(|i| i64::from(i.quantity) * fx.order.line(&i.sku).unwrap().unit_price.amount_minor)
        .sum();
    let part = Money::new(cur, price * i64::from(share) / 1_000);
    fx.resolution = match res {
        _ if late => Resolution::Refund,
        1 => Resolution::StoreCredit,
        2 => Resolution::Exchange(vec![ExchangeLine {
            sku: Sku::parse("NEW").unwrap(),
            quantity: 2,
            unit_price: Money::new(cur, outbound * 7),
        }]),
        3 => Resolution::Replacement,
        4 if part.amount_minor > 0 => Resolution::PartialRefund { allowance: part },
        _ => Resolution::Refund,
    };
    fx.inspection = match insp {
        1 => Inspection::DamagedByCustomer { deduction: None },
        2 => Inspection::DamagedByCustomer {
            deduction: Some(part),
        },
        3 => Inspection::MissingOriginalPackaging,
        4 => Inspection::DefectNotFound,
        _ => Inspection::Passed,
    };
    fx
}

fn returned() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(0u32..=20, 5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_split_is_exact_non_negative_in_one_currency_and_deterministic(
        lines in lines(), returned in returned(), k in knobs(), a in amounts(),
    ) {
        let fx = build(&lines, &returned, &k, a);
        let s = split(&fx.input()).unwrap();
        let cur = fx.order.currency;
        for c in Component::ALL {
            let parts: i64 = s.allocations.iter()
                .filter(|x| x.component == *c)
                .map(|x| x.amount.amount_minor)
                .sum();
            prop_assert_eq!(parts, s.component(*c).amount_minor, "{:?}", c);
            prop_assert!(!s.component(*c).is_negative());
        }
        for x in &s.allocations {
            prop_assert!(x.amount.amount_minor > 0, "{}", x);
            prop_assert_eq!(x.amount.currency, cur);
        }
        let by_parties: i64 = s.totals.iter().map(|t| t.amount.amount_minor).sum();
        let by_components: i64 = s.components.iter().map(|c| c.amount.amount_minor).sum();
        prop_assert_eq!(by_parties, by_components);
        prop_assert!(!s.customer_refund.is_negative() && !s.customer_charge.is_negative());
        prop_assert!(s.customer_refund.amount_minor == 0 || s.customer_charge.amount_minor == 0);
        for m in [s.customer_refund, s.customer_charge, s.supplier_net_to_seller] {
            prop_assert_eq!(m.currency, cur);
            let shown = m.to_string();
            let decimals = shown.split(' ').next().unwrap().split('.').nth(1).map_or(0, str::len);
            prop_assert_eq!(decimals, usize::from(cur.exponent()));
        }
        prop_assert_eq!(split(&fx.input()).unwrap(), s);
    }

    #[test]
    fn a_refund_and_store_credit_split_alike(
        lines in lines(), returned in returned(), k in knobs(), a in amounts(),
    ) {
        let mut fx = build(&lines, &returned, &k, a);
        fx.resolution = Resolution::Refund;
        let refund = split(&fx.input()).unwrap();
        fx.resolution = Resolution::StoreCredit;
        let credit = split(&fx.input()).unwrap();
        prop_assert_eq!(refund.allocations, credit.allocations);
        prop_assert_eq!(refund.customer_refund, credit.customer_refund);
    }
}
