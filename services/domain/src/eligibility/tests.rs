use super::*;
use crate::contract::{
    BreachAction, ContractTerms, DefectCoverage, ListingDataOwner, ShippingPayer, SlaTerms,
    TransitDamageParty,
};
use crate::currency::Currency;
use crate::ids::SupplierId;
use crate::money::BasisPoints;
use crate::order::{
    Category, EvidenceUri, OrderFacts, OrderLine, OrderRef, ReturnItem, ReturnReason, Sku,
};
use crate::statute::Jurisdiction;
use ReasonCode::*;
use ReturnReason::*;
use chrono::TimeDelta;

const DELIVERED: &str = "2026-03-01T10:00:00Z";

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

fn eur(minor: i64) -> Money {
    Money::new(Currency::EUR, minor)
}

/// Contract v3: 30-day no-fault window, 180-day defect window, swimwear and food non-returnable,
/// evidence for DEFECTIVE and DAMAGED_IN_TRANSIT, returnless under 10.00 EUR, auto-authorize.
fn terms() -> ContractTerms {
    ContractTerms {
        return_window_days: 30,
        defect_window_days: 180,
        non_returnable_categories: vec![
            Category::parse("food").unwrap(),
            Category::parse("swimwear").unwrap(),
        ],
        evidence_required_reasons: [Defective, DamagedInTransit].into_iter().collect(),
        requires_original_packaging: false,
        accepts_no_fault_returns: true,
        supplier_restocking_fee_bps: BasisPoints::new_const(1_000),
        defect_coverage: DefectCoverage::FullRetail,
        transit_damage_party: TransitDamageParty::Carrier,
        listing_data_owner: ListingDataOwner::Seller,
        no_fault_return_shipping_payer: ShippingPayer::Customer,
        returnless_threshold: Some(eur(1_000)),
        auto_authorize: true,
        sla: SlaTerms {
            ack_within: TimeDelta::hours(24),
            decision_within: TimeDelta::hours(72),
            credit_within: TimeDelta::days(14),
            breach_action: BreachAction::Notify,
        },
    }
}

fn line(sku: &str, category: &str, quantity: u32, price: i64, cost: i64) -> OrderLine {
    OrderLine {
        sku: Sku::parse(sku).unwrap(),
        category: Category::parse(category).unwrap(),
        quantity,
        unit_price: eur(price),
        unit_cost: eur(cost),
    }
}

/// docs/design.md's worked example order (2 x 50.00 EUR, cost 30.00, outbound 5.00) plus lines for the
/// category and returnless cases.
fn order(jurisdiction: Jurisdiction, delivered: &str, zone: Option<&str>) -> OrderFacts {
    let delivered_at = at(delivered);
    OrderFacts {
        customer_time_zone: zone.map(|z| z.parse().unwrap()),
        extended_cancellation_right: false,
        order_id: OrderRef::parse("SO-1001").unwrap(),
        supplier: SupplierId::parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").unwrap(),
        ordered_at: delivered_at - TimeDelta::days(4),
        delivered_at,
        jurisdiction,
        currency: Currency::EUR,
        outbound_shipping: eur(500),
        lines: vec![
            line("TEE", "apparel/shirts", 2, 5_000, 3_000),
            line("SWIM", "swimwear/women", 1, 4_000, 2_000),
            line("CAKE", "food/perishable", 1, 2_000, 1_000),
            line("MUG", "home/custom-made", 1, 1_500, 500),
            line("SOCKS", "apparel/socks", 2, 500, 200),
        ],
    }
}

#[derive(Clone, Copy)]
enum When {
    /// This long after delivery.
    After(TimeDelta),
    /// At this instant.
    At(&'static str),
}

struct Case {
    name: &'static str,
    jurisdiction: Jurisdiction,
    delivered: &'static str,
    /// The customer's time zone; `base()` gives Europe/Berlin.
    zone: Option<&'static str>,
    /// The seller says the customer qualifies for an extended cancellation period.
    extended: bool,
    reason: ReturnReason,
    items: &'static [(&'static str, u32)],
    when: When,
    evidence: bool,
    already: &'static [(&'static str, u32)],
    contract: fn(&mut ContractTerms),
    seller_window: Option<u32>,
    outcome: Outcome,
    basis: Basis,
    gap: bool,
    codes: &'static [ReasonCode],
    returnless: bool,
}

fn days(n: i64) -> When {
    When::After(TimeDelta::days(n))
}

fn base() -> Case {
    Case {
        name: "",
        jurisdiction: Jurisdiction::Us,
        delivered: DELIVERED,
        zone: Some("Europe/Berlin"),
        extended: false,
        reason: ChangedMind,
        items: &[("TEE", 1)],
        when: days(5),
        evidence: false,
        already: &[],
        contract: |_| {},
        seller_window: None,
        outcome: Outcome::Authorized,
        basis: Basis::Contract,
        gap: false,
        codes: &[ContractReturnWindow],
        returnless: false,
    }
}

fn run(case: &Case) -> Decision {
    let mut t = terms();
    (case.contract)(&mut t);
    let contract = ContractVersion {
        supplier: SupplierId::parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").unwrap(),
        version: 3,
        effective_from: at("2026-01-01T00:00:00Z"),
        terms: t,
        published_at: at("2026-01-01T00:00:00Z"),
    };
    let mut order = order(case.jurisdiction, case.delivered, case.zone);
    order.extended_cancellation_right = case.extended;
    let now = match case.when {
        When::After(d) => order.delivered_at + d,
        When::At(s) => at(s),
    };
    let request = ReturnRequest {
        items: (case.items.iter())
            .map(|(sku, q)| ReturnItem {
                sku: Sku::parse(sku).unwrap(),
                quantity: *q,
            })
            .collect(),
        reason: case.reason,
        evidence: if case.evidence {
            vec![EvidenceUri::parse("https://cdn.example/photo.jpg").unwrap()]
        } else {
            vec![]
        },
        label_cost_estimate: Some(eur(700)),
        customer_comment: None,
        order,
    };
    let returned = case
        .already
        .iter()
        .map(|(s, q)| (Sku::parse(s).unwrap(), *q))
        .collect();
    let settings = SellerSettings {
        return_window_days: case.seller_window,
        ..SellerSettings::default()
    };
    decide(
        &request,
        &returned,
        &contract,
        case.jurisdiction.profile(),
        &settings,
        now,
    )
}

#[path = "table_fault.rs"]
mod table_fault;
#[path = "table_no_fault.rs"]
mod table_no_fault;
#[path = "table_periods.rs"]
mod table_periods;

/// The one decision table, in three files to keep each readable.
fn table() -> Vec<Case> {
    let mut cases = table_no_fault::no_fault_cases();
    cases.extend(table_fault::fault_cases());
    cases.extend(table_periods::period_cases());
    cases
}

#[test]
fn every_decision_in_the_table_matches() {
    let cases = table();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let d = run(case);
        let got = (d.outcome, d.basis, d.policy_gap, d.codes(), d.returnless);
        let want = (
            case.outcome,
            case.basis,
            case.gap,
            case.codes.to_vec(),
            case.returnless,
        );
        if got != want {
            failures.push(format!("{}:\n  got  {got:?}\n  want {want:?}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_reason_code_is_reached_by_some_case() {
    let mut seen: Vec<ReasonCode> = table()
        .iter()
        .flat_map(|c| c.codes.iter().copied())
        .collect();
    seen.sort();
    seen.dedup();
    let missing: Vec<_> = ReasonCode::ALL
        .iter()
        .filter(|c| !seen.contains(c))
        .collect();
    assert!(missing.is_empty(), "no case for {missing:?}");
}

#[test]
fn the_same_inputs_always_give_the_same_decision() {
    for case in table() {
        assert_eq!(run(&case), run(&case), "{}", case.name);
    }
}

#[test]
fn clauses_name_the_contract_version_and_term_or_the_statute_and_article() {
    let d = run(&Case {
        jurisdiction: Jurisdiction::Eu,
        ..base()
    });
    let clauses: Vec<String> = d.reasons.iter().map(|r| r.clause.to_string()).collect();
    assert_eq!(
        clauses,
        [
            "contract v3 return_window_days=30",
            "statute EU Directive 2011/83/EU art. 9 withdrawal 14d"
        ]
    );
    assert_eq!(d.profile_version, "EU-2026.2");
    assert_eq!(d.contract_version, 3);
    assert!(
        d.reasons[0].detail.contains("2026-03-31T10:00:00Z"),
        "{}",
        d.reasons[0].detail
    );
}

#[test]
fn an_authorized_return_gets_a_ship_by_and_an_ack_deadline_but_no_decide_by() {
    let d = run(&base());
    let now = at(DELIVERED) + TimeDelta::days(5);
    assert_eq!(
        d.deadlines.customer_ship_by,
        Some(now + TimeDelta::days(14))
    );
    assert_eq!(
        d.deadlines.supplier_ack_by,
        Some(now + TimeDelta::hours(24))
    );
    assert_eq!(d.deadlines.supplier_decide_by, None);
    assert!(d.return_required);
}

#[test]
fn a_pending_return_gets_supplier_deadlines_and_no_ship_by_yet() {
    let d = run(&Case {
        contract: |t| t.auto_authorize = false,
        ..base()
    });
    let now = at(DELIVERED) + TimeDelta::days(5);
    assert_eq!(d.outcome, Outcome::PendingSupplier);
    assert_eq!(d.deadlines.customer_ship_by, None);
    assert_eq!(
        d.deadlines.supplier_ack_by,
        Some(now + TimeDelta::hours(24))
    );
    assert_eq!(
        d.deadlines.supplier_decide_by,
        Some(now + TimeDelta::hours(72))
    );
}

#[test]
fn a_rejection_has_no_deadlines_and_needs_no_shipment() {
    let d = run(&Case {
        when: days(31),
        ..base()
    });
    assert_eq!(d.outcome, Outcome::Rejected);
    assert_eq!(d.deadlines, Deadlines::default());
    assert!(!d.return_required);
}

#[test]
fn returnless_refunds_and_compensation_claims_need_no_shipment() {
    let returnless = run(&Case {
        items: &[("SOCKS", 1)],
        ..base()
    });
    assert!(returnless.returnless && !returnless.return_required);
    assert_eq!(returnless.deadlines.customer_ship_by, None);
    let late = run(&Case {
        reason: LateDelivery,
        codes: &[CompensationClaim],
        ..base()
    });
    assert_eq!(late.fault, FaultClass::LateDelivery);
    assert!(!late.return_required);
    assert_eq!(late.deadlines.customer_ship_by, None);
    assert!(late.deadlines.supplier_ack_by.is_some());
}

#[test]
fn the_fault_class_follows_the_reason_and_the_contract() {
    let t = terms();
    assert_eq!(FaultClass::of(Defective, &t), FaultClass::Supplier);
    assert_eq!(FaultClass::of(DamagedInTransit, &t), FaultClass::Carrier);
    assert_eq!(FaultClass::of(NotAsDescribed, &t), FaultClass::Seller);
    assert_eq!(FaultClass::of(SizeFit, &t), FaultClass::NoFault);
    let mut t = terms();
    t.transit_damage_party = TransitDamageParty::Supplier;
    t.listing_data_owner = ListingDataOwner::Supplier;
    assert_eq!(FaultClass::of(DamagedInTransit, &t), FaultClass::Supplier);
    assert_eq!(FaultClass::of(NotAsDescribed, &t), FaultClass::Supplier);
    t.transit_damage_party = TransitDamageParty::Seller;
    assert_eq!(FaultClass::of(DamagedInTransit, &t), FaultClass::Seller);
}

#[test]
fn a_statutory_withdrawal_is_flagged_so_the_fee_cap_and_delivery_refund_apply() {
    let eu = run(&Case {
        jurisdiction: Jurisdiction::Eu,
        ..base()
    });
    assert!(eu.statutory_withdrawal);
    let us = run(&base());
    assert!(!us.statutory_withdrawal);
    let custom = run(&Case {
        jurisdiction: Jurisdiction::Eu,
        items: &[("MUG", 1)],
        ..base()
    });
    assert!(!custom.statutory_withdrawal);
}
