//! The decision table, second half: fault claims, late delivery, returnless refunds, quantities and
//! docs/design.md's worked examples.

use super::*;

fn eu() -> Jurisdiction {
    Jurisdiction::Eu
}

fn short_window(t: &mut ContractTerms) {
    t.return_window_days = 7;
}

pub(super) fn fault_cases() -> Vec<Case> {
    vec![
        // Fault claims.
        Case {
            name: "a US defect claim with evidence inside the defect window rests on the contract",
            reason: Defective,
            evidence: true,
            when: days(100),
            codes: &[ContractDefectWindow],
            ..base()
        },
        Case {
            name: "an EU defect claim inside the defect window rests on contract and legal guarantee",
            jurisdiction: eu(),
            reason: Defective,
            evidence: true,
            basis: Basis::Both,
            codes: &[ContractDefectWindow, StatutoryLegalGuarantee],
            ..base()
        },
        Case {
            name: "an EU defect after the defect window but within two years is a policy gap",
            jurisdiction: eu(),
            reason: Defective,
            evidence: true,
            when: days(200),
            basis: Basis::Statute,
            gap: true,
            codes: &[DefectWindowExpired, StatutoryLegalGuarantee],
            ..base()
        },
        Case {
            name: "an EU defect exactly 24 calendar months after delivery (a leap year in between) is still guaranteed",
            jurisdiction: eu(),
            reason: Defective,
            evidence: true,
            when: days(731),
            basis: Basis::Statute,
            gap: true,
            codes: &[DefectWindowExpired, StatutoryLegalGuarantee],
            ..base()
        },
        Case {
            name: "an EU defect a minute before the end of the guarantee's last day is still guaranteed",
            jurisdiction: eu(),
            reason: Defective,
            evidence: true,
            when: When::At("2028-03-01T23:59:00+01:00"),
            basis: Basis::Statute,
            gap: true,
            codes: &[DefectWindowExpired, StatutoryLegalGuarantee],
            ..base()
        },
        Case {
            name: "an EU defect at the start of the day after the guarantee's last day is rejected on both",
            jurisdiction: eu(),
            reason: Defective,
            evidence: true,
            when: When::At("2028-03-02T00:00:00+01:00"),
            outcome: Outcome::Rejected,
            basis: Basis::Both,
            codes: &[DefectWindowExpired, StatutoryGuaranteeExpired],
            ..base()
        },
        Case {
            name: "a US defect after the defect window is rejected on the contract",
            reason: Defective,
            evidence: true,
            when: days(181),
            outcome: Outcome::Rejected,
            codes: &[DefectWindowExpired],
            ..base()
        },
        Case {
            name: "a US defect after the defect window but inside the seller's window is a policy gap",
            reason: Defective,
            evidence: true,
            when: days(181),
            seller_window: Some(365),
            basis: Basis::SellerPolicy,
            gap: true,
            codes: &[DefectWindowExpired, SellerReturnWindow],
            ..base()
        },
        Case {
            name: "an Israeli defect after a short defect window is a statutory cancellation within 14 days",
            jurisdiction: Jurisdiction::Il,
            reason: Defective,
            evidence: true,
            contract: |t| t.defect_window_days = 7,
            when: days(10),
            basis: Basis::Statute,
            gap: true,
            codes: &[DefectWindowExpired, StatutoryWithdrawal],
            ..base()
        },
        Case {
            name: "an Israeli defect after the defect window and after 14 days is rejected on both",
            jurisdiction: Jurisdiction::Il,
            reason: Defective,
            evidence: true,
            contract: |t| t.defect_window_days = 7,
            when: days(20),
            outcome: Outcome::Rejected,
            basis: Basis::Both,
            codes: &[DefectWindowExpired, StatutoryWindowExpired],
            ..base()
        },
        Case {
            name: "a GB defect claim five years on is still within the limitation period",
            jurisdiction: Jurisdiction::Gb,
            reason: Defective,
            evidence: true,
            when: days(5 * 365),
            basis: Basis::Statute,
            gap: true,
            codes: &[DefectWindowExpired, StatutoryLegalGuarantee],
            ..base()
        },
        Case {
            name: "defective swimwear is taken back although the category is non-returnable",
            reason: Defective,
            evidence: true,
            items: &[("SWIM", 1)],
            codes: &[ContractDefectWindow, FaultOverridesNonReturnableCategory],
            ..base()
        },
        Case {
            name: "a wrong item needs no evidence under this contract and is the supplier's fault",
            reason: WrongItem,
            codes: &[ContractDefectWindow],
            ..base()
        },
        Case {
            name: "missing parts are claimed within the defect window",
            reason: MissingParts,
            when: days(60),
            codes: &[ContractDefectWindow],
            ..base()
        },
        Case {
            name: "transit damage with a photo is a carrier claim within the defect window",
            reason: DamagedInTransit,
            evidence: true,
            codes: &[ContractDefectWindow],
            ..base()
        },
        Case {
            name: "not as described on a seller-owned listing is a fault claim, not a change of mind",
            reason: NotAsDescribed,
            items: &[("SWIM", 1)],
            codes: &[ContractDefectWindow, FaultOverridesNonReturnableCategory],
            ..base()
        },
        Case {
            name: "an EU defect claim without auto-authorize waits for the supplier",
            jurisdiction: eu(),
            reason: Defective,
            evidence: true,
            contract: |t| t.auto_authorize = false,
            outcome: Outcome::PendingSupplier,
            basis: Basis::Both,
            codes: &[
                ContractDefectWindow,
                StatutoryLegalGuarantee,
                AwaitingSupplierDecision,
            ],
            ..base()
        },
        // Late delivery.
        Case {
            name: "late delivery is a compensation claim with nothing to ship back",
            reason: LateDelivery,
            codes: &[CompensationClaim],
            ..base()
        },
        Case {
            name: "a late-delivery claim after the defect window is rejected",
            reason: LateDelivery,
            when: days(181),
            outcome: Outcome::Rejected,
            codes: &[CompensationWindowExpired],
            ..base()
        },
        Case {
            name: "a late-delivery claim without auto-authorize waits for the supplier",
            reason: LateDelivery,
            contract: |t| t.auto_authorize = false,
            outcome: Outcome::PendingSupplier,
            codes: &[CompensationClaim, AwaitingSupplierDecision],
            ..base()
        },
        // Returnless.
        Case {
            name: "items worth less than the returnless threshold are refunded without a return",
            items: &[("SOCKS", 1)],
            codes: &[ContractReturnWindow, ReturnlessRefund],
            returnless: true,
            ..base()
        },
        Case {
            name: "items worth exactly the returnless threshold still come back",
            items: &[("SOCKS", 2)],
            ..base()
        },
        Case {
            name: "a returnless threshold in another currency never applies",
            items: &[("SOCKS", 1)],
            contract: |t| t.returnless_threshold = Some(Money::new(Currency::USD, 1_000_000)),
            ..base()
        },
        Case {
            name: "a policy gap is never returnless because the supplier does not fund it",
            jurisdiction: eu(),
            items: &[("SOCKS", 1)],
            contract: short_window,
            when: days(10),
            basis: Basis::Statute,
            gap: true,
            codes: &[ReturnWindowExpired, StatutoryWithdrawal],
            ..base()
        },
        Case {
            name: "a cheap defective item is refunded without a return",
            reason: Defective,
            evidence: true,
            items: &[("SOCKS", 1)],
            codes: &[ContractDefectWindow, ReturnlessRefund],
            returnless: true,
            ..base()
        },
        // Quantities.
        Case {
            name: "returning both units when one was already returned is rejected on the order",
            items: &[("TEE", 2)],
            already: &[("TEE", 1)],
            outcome: Outcome::Rejected,
            basis: Basis::Order,
            codes: &[QuantityAlreadyReturned],
            ..base()
        },
        Case {
            name: "returning the last remaining unit is accepted",
            items: &[("TEE", 1)],
            already: &[("TEE", 1)],
            ..base()
        },
        Case {
            name: "units already returned are refused even inside the statutory window",
            jurisdiction: eu(),
            items: &[("TEE", 1), ("SWIM", 1)],
            already: &[("SWIM", 1)],
            outcome: Outcome::Rejected,
            basis: Basis::Order,
            codes: &[QuantityAlreadyReturned],
            ..base()
        },
        // docs/design.md's worked examples: EU customer, 2 x 50.00 EUR, cost 30.00, outbound 5.00, label 7.00.
        Case {
            name: "worked example: a defective pair under full-retail coverage is authorized on both",
            jurisdiction: eu(),
            reason: Defective,
            evidence: true,
            items: &[("TEE", 2)],
            basis: Basis::Both,
            codes: &[ContractDefectWindow, StatutoryLegalGuarantee],
            ..base()
        },
        Case {
            name: "worked example: a defective pair under wholesale coverage is authorized on both",
            jurisdiction: eu(),
            reason: Defective,
            evidence: true,
            items: &[("TEE", 2)],
            contract: |t| t.defect_coverage = DefectCoverage::Wholesale,
            basis: Basis::Both,
            codes: &[ContractDefectWindow, StatutoryLegalGuarantee],
            ..base()
        },
        Case {
            name: "worked example: a change of mind in the contract window is a withdrawal the customer ships",
            jurisdiction: eu(),
            items: &[("TEE", 2)],
            when: days(10),
            basis: Basis::Both,
            codes: &[ContractReturnWindow, StatutoryWithdrawal],
            ..base()
        },
    ]
}
