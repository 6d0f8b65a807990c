//! Issue 4's goal: decide + split for a 10-item return in at most 5 us. `decide` alone runs in the
//! same process as the baseline, so a regression shows which half moved.
//!
//! `cargo bench -p returnbridge-domain --bench decide_and_split -- --warm-up-time 1 --measurement-time 3`

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use returnbridge_domain::contract::{
    BreachAction, ContractTerms, ContractVersion, DefectCoverage, ListingDataOwner, SellerSettings,
    ShippingPayer, SlaTerms, TransitDamageParty,
};
use returnbridge_domain::ids::SupplierId;
use returnbridge_domain::liability::{Inspection, LabelPaidBy, Resolution, SplitInput, split};
use returnbridge_domain::order::{
    Category, OrderFacts, OrderLine, OrderRef, ReturnItem, ReturnReason, ReturnRequest, Sku,
};
use returnbridge_domain::statute::{EU, Jurisdiction};
use returnbridge_domain::{BasisPoints, Currency, Money, decide};
use std::hint::black_box;

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

struct Setup {
    request: ReturnRequest,
    contract: ContractVersion,
    settings: SellerSettings,
    now: DateTime<Utc>,
}

/// A change-of-mind return of one unit from each of 10 lines, by an EU customer five days after
/// delivery: the no-fault row, with a supplier restocking fee, a capped customer fee and a pro-rata
/// outbound refund, is the longest path through both functions.
fn setup() -> Setup {
    let eur = |m| Money::new(Currency::EUR, m);
    let delivered_at = at("2026-03-01T10:00:00Z");
    let lines: Vec<OrderLine> = (0..10)
        .map(|i| OrderLine {
            sku: Sku::parse(&format!("SKU-{i}")).unwrap(),
            category: Category::parse("apparel/shirts").unwrap(),
            quantity: 2,
            unit_price: eur(2_999 + i * 100),
            unit_cost: eur(1_799 + i * 50),
        })
        .collect();
    let items = lines
        .iter()
        .map(|l| ReturnItem {
            sku: l.sku.clone(),
            quantity: 1,
        })
        .collect();
    let supplier = SupplierId::parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").unwrap();
    let request = ReturnRequest {
        order: OrderFacts {
            order_id: OrderRef::parse("SO-1001").unwrap(),
            supplier,
            ordered_at: delivered_at - TimeDelta::days(4),
            delivered_at,
            jurisdiction: Jurisdiction::Eu,
            customer_time_zone: Some(chrono_tz::Europe::Berlin),
            extended_cancellation_right: false,
            currency: Currency::EUR,
            outbound_shipping: eur(495),
            lines,
        },
        items,
        reason: ReturnReason::ChangedMind,
        evidence: vec![],
        label_cost_estimate: Some(eur(700)),
        customer_comment: None,
    };
    let terms = ContractTerms {
        return_window_days: 30,
        defect_window_days: 180,
        non_returnable_categories: vec![Category::parse("food").unwrap()],
        evidence_required_reasons: [ReturnReason::Defective].into_iter().collect(),
        requires_original_packaging: true,
        accepts_no_fault_returns: true,
        supplier_restocking_fee_bps: BasisPoints::new_const(1_000),
        defect_coverage: DefectCoverage::Wholesale,
        transit_damage_party: TransitDamageParty::Carrier,
        listing_data_owner: ListingDataOwner::Supplier,
        no_fault_return_shipping_payer: ShippingPayer::Customer,
        returnless_threshold: Some(eur(1_000)),
        auto_authorize: true,
        sla: SlaTerms {
            ack_within: TimeDelta::hours(24),
            decision_within: TimeDelta::hours(72),
            credit_within: TimeDelta::days(14),
            breach_action: BreachAction::Notify,
        },
    };
    Setup {
        request,
        contract: ContractVersion {
            supplier,
            version: 3,
            effective_from: at("2026-01-01T00:00:00Z"),
            terms,
            published_at: at("2026-01-01T00:00:00Z"),
        },
        settings: SellerSettings {
            customer_restocking_fee_bps: BasisPoints::new_const(500),
            ..SellerSettings::default()
        },
        now: delivered_at + TimeDelta::days(5),
    }
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let returned = Default::default();
    let run_decide = || {
        decide(
            black_box(&s.request),
            &returned,
            &s.contract,
            &EU,
            &s.settings,
            s.now,
        )
    };
    c.bench_function("decide (10 items)", |b| b.iter(run_decide));
    let decision = run_decide();
    let input = SplitInput {
        order: &s.request.order,
        reason: s.request.reason,
        items: &s.request.items,
        decision: &decision,
        contract: &s.contract,
        profile: &EU,
        settings: &s.settings,
        resolution: &Resolution::Refund,
        label_cost: s.request.label_cost_estimate,
        label_paid_by: LabelPaidBy::Seller,
        compensation: None,
        inspection: Inspection::Passed,
    };
    c.bench_function("split (10 items)", |b| {
        b.iter(|| split(black_box(&input)).unwrap())
    });
    c.bench_function("decide + split (10 items)", |b| {
        b.iter(|| {
            let decision = run_decide();
            let input = SplitInput {
                order: &s.request.order,
                reason: s.request.reason,
                items: &s.request.items,
                decision: &decision,
                contract: &s.contract,
                profile: &EU,
                settings: &s.settings,
                resolution: &Resolution::Refund,
                label_cost: s.request.label_cost_estimate,
                label_paid_by: LabelPaidBy::Seller,
                compensation: None,
                inspection: Inspection::Passed,
            };
            split(black_box(&input)).unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
