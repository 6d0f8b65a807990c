//! Inspection outcomes: customer damage, a defect not found, missing original packaging.

use super::*;

#[test]
fn customer_damage_outside_a_withdrawal_puts_everything_on_the_customer() {
    let mut fx = Fx::worked(ReturnReason::ChangedMind).profile(&US);
    fx.inspection = Inspection::DamagedByCustomer { deduction: None };
    let s = fx.run();
    assert_eq!(s.fault, LiabilityFault::Customer);
    assert_eq!(total(&s, Customer), 11_200);
    assert_eq!((s.customer_refund, s.customer_charge), (eur(0), eur(700)));
}

#[test]
fn customer_damage_on_a_withdrawal_deducts_the_damage_but_refunds_the_outbound() {
    let mut fx = Fx::worked(ReturnReason::ChangedMind);
    fx.inspection = Inspection::DamagedByCustomer {
        deduction: Some(eur(2_000)),
    };
    let s = fx.run();
    assert_eq!(
        lines(&s),
        [
            (ItemPrice, Seller, 8_000, "CUSTOMER_DAMAGE_REMAINDER"),
            (ItemPrice, Customer, 2_000, "CUSTOMER_DAMAGE"),
            (OutboundShipping, Seller, 500, "STATUTORY_OUTBOUND_REFUND"),
            (ReturnShipping, Customer, 700, "CUSTOMER_DAMAGE"),
        ]
    );
    assert_eq!(s.customer_refund, eur(7_800));
    fx.inspection = Inspection::DamagedByCustomer {
        deduction: Some(eur(10_001)),
    };
    assert!(matches!(
        split(&fx.input()),
        Err(LiabilityError::DeductionOutOfRange { .. })
    ));
}

#[test]
fn a_defect_not_found_is_split_as_a_no_fault_return() {
    let mut fx = Fx::worked(ReturnReason::Defective);
    fx.inspection = Inspection::DefectNotFound;
    let s = fx.run();
    assert_eq!(s.fault, LiabilityFault::NoFault);
    assert_eq!(total(&s, Supplier), 5_400);
    // A fault claim is no withdrawal, so the outbound stays paid.
    assert_eq!(total(&s, Customer), 1_200);
    let fx = fx.terms(|t| t.accepts_no_fault_returns = false);
    let s = fx.run();
    assert!(s.policy_gap);
    assert_eq!(total(&s, Supplier), 0);
}

#[test]
fn missing_original_packaging_voids_the_supplier_credit_only_when_the_contract_requires_it() {
    let mut fx = Fx::worked(ReturnReason::ChangedMind);
    fx.inspection = Inspection::MissingOriginalPackaging;
    assert_eq!(fx.run(), Fx::worked(ReturnReason::ChangedMind).run());
    let s = fx.terms(|t| t.requires_original_packaging = true).run();
    assert_eq!(s.borne(ItemPrice, Seller), eur(10_000));
    assert_eq!(s.allocations[0].rule, Rule::MissingOriginalPackagingSeller);
    assert_eq!(
        s.allocations[0].clause.to_string(),
        "contract v3 requires_original_packaging=true"
    );
    assert_eq!(s.customer_refund, eur(9_800));
}
