//! Resolutions, partial returns, currencies, the settlement net and refused inputs.

use super::*;

#[test]
fn partial_returns_get_the_outbound_pro_rata_and_the_pieces_add_up_to_the_whole() {
    let mut fx = Fx::worked(ReturnReason::ChangedMind);
    fx.order = order(
        Currency::EUR,
        &[("TEE", 2, 5_000, 3_000), ("CAP", 1, 2_000, 800)],
        500,
    );
    fx.items = vec![item("TEE", 1)];
    let first = fx.run();
    assert_eq!(first.component(ItemPrice), eur(5_000));
    assert_eq!(first.component(OutboundShipping), eur(208));
    assert_eq!(first.borne(ItemPrice, Supplier), eur(2_700));
    fx.items = vec![item("TEE", 1), item("CAP", 1)];
    let second = fx.run();
    assert_eq!(second.component(OutboundShipping), eur(292));
    assert_eq!(second.borne(ItemPrice, Supplier), eur(2_700 + 720));
    fx.items = vec![item("TEE", 2), item("CAP", 1)];
    assert_eq!(fx.run().component(OutboundShipping), eur(500));
}

#[test]
fn partial_refund_pays_an_allowance_funded_in_the_price_proportions_under_wholesale() {
    let mut fx = Fx::worked(ReturnReason::Defective)
        .terms(|t| t.defect_coverage = DefectCoverage::Wholesale);
    fx.resolution = Resolution::PartialRefund {
        allowance: eur(2_000),
    };
    let s = fx.run();
    assert_eq!(
        lines(&s),
        [
            (Compensation, Supplier, 1_200, "WHOLESALE_UNIT_COST"),
            (Compensation, Seller, 800, "SELLER_MARGIN"),
        ]
    );
    assert_eq!(
        [s.component(ItemPrice), s.component(ReturnShipping)],
        [eur(0); 2]
    );
    assert_eq!(s.customer_refund, eur(2_000));
    for bad in [0, 10_001] {
        fx.resolution = Resolution::PartialRefund {
            allowance: eur(bad),
        };
        let err = split(&fx.input()).unwrap_err();
        assert!(
            matches!(err, LiabilityError::AllowanceOutOfRange { .. }),
            "{bad}"
        );
    }
}

#[test]
fn partial_refund_follows_the_row_full_retail_supplier_no_fault_seller() {
    let mut fx = Fx::worked(ReturnReason::Defective);
    fx.resolution = Resolution::PartialRefund {
        allowance: eur(1_500),
    };
    assert_eq!(fx.run().total(Supplier), eur(1_500));
    let mut fx = Fx::worked(ReturnReason::SizeFit);
    fx.resolution = Resolution::PartialRefund {
        allowance: eur(1_500),
    };
    fx.inspection = Inspection::DamagedByCustomer { deduction: None };
    let s = fx.run();
    assert_eq!(
        lines(&s),
        [(Compensation, Seller, 1_500, "ALLOWANCE_SELLER")]
    );
}

#[test]
fn returnless_refunds_have_no_return_shipping_even_with_a_label_cost() {
    let mut fx = Fx::worked(ReturnReason::Defective);
    fx.decision.returnless = true;
    fx.decision.return_required = false;
    let s = fx.run();
    assert_eq!(s.component(ReturnShipping), eur(0));
    assert_eq!(s.total(Supplier), eur(10_500));
    assert_eq!(s.customer_refund, eur(10_500));
}

#[test]
fn store_credit_is_the_refund_split_paid_as_credit() {
    let mut fx = Fx::worked(ReturnReason::ChangedMind);
    let refund = fx.run();
    fx.resolution = Resolution::StoreCredit;
    let credit = fx.run();
    assert_eq!(credit.allocations, refund.allocations);
    assert_eq!(credit.customer_refund, eur(9_800));
    assert_eq!(credit.resolution.as_str(), "STORE_CREDIT");
}

#[test]
fn exchange_sets_the_new_goods_against_the_refund_and_keeps_the_outbound() {
    let mut fx = Fx::worked(ReturnReason::SizeFit);
    let line = |price| ExchangeLine {
        sku: Sku::parse("TEE-L").unwrap(),
        quantity: 1,
        unit_price: eur(price),
    };
    fx.resolution = Resolution::Exchange(vec![line(12_000)]);
    let s = fx.run();
    assert_eq!(s.component(OutboundShipping), eur(0));
    assert_eq!(
        (total(&s, Supplier), total(&s, Seller), total(&s, Customer)),
        (5_400, 4_600, 700)
    );
    assert_eq!((s.customer_refund, s.customer_charge), (eur(0), eur(2_700)));
    fx.resolution = Resolution::Exchange(vec![line(6_000)]);
    assert_eq!(fx.run().customer_refund, eur(3_300));
    fx.resolution = Resolution::Exchange(vec![]);
    assert_eq!(split(&fx.input()), Err(LiabilityError::BadExchange));
}

#[test]
fn replacement_gives_the_same_goods_so_nothing_is_refunded() {
    let mut fx = Fx::worked(ReturnReason::Defective);
    fx.resolution = Resolution::Replacement;
    let s = fx.run();
    assert_eq!(total(&s, Supplier), 10_700);
    assert_eq!((s.customer_refund, s.customer_charge), (eur(0), eur(0)));
}

#[test]
fn late_delivery_compensation_is_a_supplier_claim_with_no_goods() {
    let mut fx = Fx::worked(ReturnReason::LateDelivery);
    fx.compensation = Some(eur(1_000));
    fx.items.clear();
    let s = fx.run();
    assert_eq!(s.fault, LiabilityFault::LateDelivery);
    assert_eq!(
        lines(&s),
        [(Compensation, Supplier, 1_000, "LATE_DELIVERY_SUPPLIER")]
    );
    assert_eq!(s.customer_refund, eur(1_000));
    assert_eq!(s.supplier_net_to_seller, eur(1_000));
    assert_eq!(
        s.allocations[0].clause.to_string(),
        "contract v3 defect_window_days=180"
    );
    fx.resolution = Resolution::Replacement;
    let err = split(&fx.input()).unwrap_err();
    assert_eq!(err, LiabilityError::ResolutionNotApplicable("REPLACEMENT"));
}

#[test]
fn goodwill_on_top_of_a_refund_is_the_sellers() {
    let mut fx = Fx::worked(ReturnReason::Defective);
    fx.compensation = Some(eur(300));
    let s = fx.run();
    assert_eq!(s.borne(Compensation, Seller), eur(300));
    assert_eq!(s.customer_refund, eur(10_800));
}

#[test]
fn yen_has_no_minor_unit_and_remainders_go_by_largest_remainder() {
    let yen = |m| Money::new(Currency::JPY, m);
    let mut fx = Fx::worked(ReturnReason::ChangedMind)
        .profile(&US)
        .terms(|t| t.supplier_restocking_fee_bps = BasisPoints::new_const(1_250));
    fx.order = order(Currency::JPY, &[("TEE", 3, 999, 333)], 500);
    fx.items = vec![item("TEE", 3)];
    fx.label = Some(yen(700));
    let s = fx.run();
    // 999 x 12.5% = 124.875, rounded down: the supplier keeps 124 and credits 875.
    assert_eq!(s.borne(ItemPrice, Supplier), yen(875));
    assert_eq!(s.borne(ItemPrice, Seller), yen(2_122));
    assert_eq!(s.customer_refund.to_string(), "2297 JPY");
    fx.reason = ReturnReason::Defective;
    fx.contract.terms.defect_coverage = DefectCoverage::Wholesale;
    fx.decision.fault = FaultClass::Supplier;
    fx.resolution = Resolution::PartialRefund {
        allowance: yen(100),
    };
    // 100 x 999 / 2997 = 33.33 and 66.67: the larger remainder, the seller's, gets the unit.
    let s = fx.run();
    assert_eq!((total(&s, Supplier), total(&s, Seller)), (33, 67));
}

#[test]
fn bahraini_dinar_keeps_three_decimals() {
    let bhd = |m| Money::new(Currency::BHD, m);
    let mut fx = Fx::worked(ReturnReason::Defective)
        .terms(|t| t.defect_coverage = DefectCoverage::Wholesale);
    fx.order = order(Currency::BHD, &[("TEE", 1, 12_345, 7_777)], 1_005);
    fx.items = vec![item("TEE", 1)];
    fx.label = Some(bhd(2_500));
    let s = fx.run();
    assert_eq!(s.total(Supplier).to_string(), "10.277 BHD");
    assert_eq!(s.total(Seller).to_string(), "5.573 BHD");
    assert_eq!(s.customer_refund, bhd(13_350));
}

#[test]
fn a_supplier_label_is_netted_so_the_seller_can_owe_the_supplier() {
    let mut fx = Fx::worked(ReturnReason::ChangedMind);
    fx.label_paid_by = LabelPaidBy::Supplier;
    assert_eq!(fx.run().supplier_net_to_seller, eur(5_400 - 700));
    fx.decision.policy_gap = true;
    assert_eq!(fx.run().supplier_net_to_seller, eur(-700));
}

#[test]
fn goods_sold_below_cost_never_give_a_negative_share() {
    let mut fx = Fx::worked(ReturnReason::Defective)
        .terms(|t| t.defect_coverage = DefectCoverage::Wholesale);
    fx.order = order(Currency::EUR, &[("TEE", 2, 5_000, 6_000)], 500);
    let s = fx.run();
    assert_eq!(s.borne(ItemPrice, Supplier), eur(10_000));
    assert_eq!(s.borne(ItemPrice, Seller), eur(0));
}

#[test]
fn inputs_the_rules_cannot_split_are_refused() {
    let fx = Fx::worked(ReturnReason::ChangedMind);
    let refused = |f: &dyn Fn(&mut Fx)| {
        let mut fx = Fx::worked(ReturnReason::ChangedMind);
        f(&mut fx);
        split(&fx.input()).unwrap_err()
    };
    assert_eq!(
        refused(&|f| f.decision.outcome = Outcome::Rejected),
        LiabilityError::Rejected
    );
    let usd = Some(Money::new(Currency::USD, 700));
    assert!(matches!(
        refused(&|f| f.label = usd),
        LiabilityError::CurrencyMismatch {
            field: "label_cost",
            ..
        }
    ));
    assert!(matches!(
        refused(&|f| f.label = Some(eur(-1))),
        LiabilityError::NegativeAmount { .. }
    ));
    assert!(matches!(
        refused(&|f| f.items = vec![item("HAT", 1)]),
        LiabilityError::BadItem { .. }
    ));
    assert!(matches!(
        refused(&|f| f.items = vec![item("TEE", 3)]),
        LiabilityError::BadItem { .. }
    ));
    let twice = vec![item("TEE", 1), item("TEE", 1)];
    assert!(matches!(
        refused(&|f| f.items = twice.clone()),
        LiabilityError::BadItem { .. }
    ));
    assert_eq!(refused(&|f| f.items.clear()), LiabilityError::NoItems);
    assert!(matches!(
        refused(&|f| f.contract.version = 4),
        LiabilityError::VersionMismatch { .. }
    ));
    assert!(matches!(
        refused(&|f| f.profile = &US),
        LiabilityError::VersionMismatch { .. }
    ));
    let huge = order(Currency::EUR, &[("TEE", 2, i64::MAX / 2 + 1, 0)], 0);
    assert_eq!(
        refused(&|f| f.order = huge.clone()),
        LiabilityError::Overflow
    );
    assert!(split(&fx.input()).is_ok());
}
