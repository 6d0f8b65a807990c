//! What storing a return as the store's own document (the domain return as JSON) costs per change,
//! beside what storing the v1 message cost, in the same run: a change reads the document, edits it,
//! writes it, and renders the answer.
//!
//! `cargo bench -p returnbridge-convert --bench return_document -- --warm-up-time 1 --measurement-time 3`

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use prost::Message;
use returnbridge_convert::return_view::return_to_proto;
use returnbridge_domain::contract::{
    BreachAction, ContractTerms, ContractVersion, DefectCoverage, ListingDataOwner, SellerSettings,
    ShippingPayer, SlaTerms, TransitDamageParty,
};
use returnbridge_domain::ids::{ReturnId, SupplierId};
use returnbridge_domain::order::{
    Category, OrderFacts, OrderLine, OrderRef, ReturnItem, ReturnReason, ReturnRequest, Sku,
};
use returnbridge_domain::returns::{Actor, ActorKind, DecidedUnder, Return, Shipment};
use returnbridge_domain::statute::{EU, Jurisdiction};
use returnbridge_domain::{BasisPoints, Currency, Money, decide};
use returnbridge_proto::v1 as pb;
use std::hint::black_box;

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

/// A change-of-mind return of one unit from each of 10 lines, decided and shipped: a typical stored
/// return half way through its life.
fn a_return() -> Return {
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
        customer_comment: Some("too big".into()),
    };
    let contract = ContractVersion {
        supplier,
        version: 3,
        effective_from: at("2026-01-01T00:00:00Z"),
        terms: ContractTerms {
            return_window_days: 30,
            defect_window_days: 180,
            non_returnable_categories: vec![],
            evidence_required_reasons: Default::default(),
            requires_original_packaging: false,
            accepts_no_fault_returns: true,
            supplier_restocking_fee_bps: BasisPoints::new_const(1_000),
            defect_coverage: DefectCoverage::Wholesale,
            transit_damage_party: TransitDamageParty::Carrier,
            listing_data_owner: ListingDataOwner::Supplier,
            no_fault_return_shipping_payer: ShippingPayer::Customer,
            returnless_threshold: None,
            auto_authorize: true,
            sla: SlaTerms {
                ack_within: TimeDelta::hours(24),
                decision_within: TimeDelta::hours(72),
                credit_within: TimeDelta::days(14),
                breach_action: BreachAction::Notify,
            },
        },
        published_at: at("2026-01-01T00:00:00Z"),
    };
    let now = delivered_at + TimeDelta::days(5);
    let settings = SellerSettings::default();
    let decision = decide(
        &request,
        &Default::default(),
        &contract,
        &EU,
        &settings,
        now,
    );
    let seller = Actor {
        kind: ActorKind::Seller,
        id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c".into(),
    };
    let under = DecidedUnder {
        settings_version: 1,
        decided_at: now,
    };
    let (mut ret, _) = Return::decide(
        ReturnId::generate(),
        request,
        "RMA-1".into(),
        decision,
        under,
        &seller,
    );
    let shipment = Shipment {
        carrier: "DHL".into(),
        tracking_number: "JD014600006281234567".into(),
        label_cost: Some(eur(700)),
        shipped_at: now,
        recorded_by: seller,
    };
    ret.ship(shipment, now).unwrap();
    ret
}

fn bench(c: &mut Criterion) {
    let ret = a_return();
    let v1 = return_to_proto(&ret).encode_to_vec();
    let json = serde_json::to_vec(&ret).unwrap();
    println!(
        "stored document: v1 message {} B, domain JSON {} B",
        v1.len(),
        json.len()
    );
    // Before: the row held the v1 message; a change decoded it, edited it and encoded it, and the
    // answer was that message.
    c.bench_function("per change, v1 message stored (decode + encode)", |b| {
        b.iter(|| {
            let doc = pb::Return::decode(black_box(v1.as_slice())).unwrap();
            black_box(doc.encode_to_vec())
        })
    });
    // After: the row holds the domain return as JSON; a change reads it, writes it, and renders the
    // answer (the v1 message) from it.
    c.bench_function(
        "per change, domain JSON stored (read + write + render the answer)",
        |b| {
            b.iter(|| {
                let doc: Return = serde_json::from_slice(black_box(json.as_slice())).unwrap();
                let stored = serde_json::to_vec(&doc).unwrap();
                black_box((stored, return_to_proto(&doc).encode_to_vec()))
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
