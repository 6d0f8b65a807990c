//! The decision table, first half: no-fault returns, categories, contract switches and evidence.
//! Base row (see `base()`): a US customer returns one TEE for a change of mind five days after
//! delivery under contract v3.

use super::*;

fn eu() -> Jurisdiction {
    Jurisdiction::Eu
}

fn short_window(t: &mut ContractTerms) {
    t.return_window_days = 7;
}

fn late(d: i64, secs: i64) -> When {
    When::After(TimeDelta::days(d) + TimeDelta::seconds(secs))
}

pub(super) fn no_fault_cases() -> Vec<Case> {
    vec![
        // No-fault returns, windows and their edges.
        Case {
            name: "a change of mind inside both windows rests on contract and statute",
            jurisdiction: eu(),
            codes: &[ContractReturnWindow, StatutoryWithdrawal],
            basis: Basis::Both,
            ..base()
        },
        Case {
            name: "an EU withdrawal at exactly delivery plus 14 days is still in time",
            jurisdiction: eu(),
            contract: short_window,
            when: days(14),
            basis: Basis::Statute,
            gap: true,
            codes: &[ReturnWindowExpired, StatutoryWithdrawal],
            ..base()
        },
        Case {
            name: "an EU withdrawal a minute before the end of the Monday a Sunday last day runs on to is in time",
            jurisdiction: eu(),
            contract: short_window,
            when: When::At("2026-03-16T23:59:00+01:00"),
            basis: Basis::Statute,
            gap: true,
            codes: &[ReturnWindowExpired, StatutoryWithdrawal],
            ..base()
        },
        Case {
            name: "an EU withdrawal at the start of the day after that Monday is too late",
            jurisdiction: eu(),
            contract: short_window,
            when: When::At("2026-03-17T00:00:00+01:00"),
            outcome: Outcome::Rejected,
            basis: Basis::Both,
            codes: &[ReturnWindowExpired, StatutoryWindowExpired],
            ..base()
        },
        Case {
            name: "an EU change of mind on day 20 inside a 30-day contract window rests on the contract alone",
            jurisdiction: eu(),
            when: days(20),
            codes: &[ContractReturnWindow, StatutoryWindowExpired],
            ..base()
        },
        Case {
            name: "a US change of mind at exactly the end of the contract window is accepted",
            when: days(30),
            ..base()
        },
        Case {
            name: "a US change of mind one second after the contract window is rejected on the contract",
            when: late(30, 1),
            outcome: Outcome::Rejected,
            codes: &[ReturnWindowExpired],
            ..base()
        },
        Case {
            name: "a late-evening Tokyo delivery to a GB customer counts from the Tokyo date, to the end of the Tokyo day",
            jurisdiction: Jurisdiction::Gb,
            zone: Some("Asia/Tokyo"),
            contract: short_window,
            delivered: "2026-03-01T23:30:00+09:00",
            when: When::At("2026-03-15T23:59:00+09:00"),
            basis: Basis::Statute,
            gap: true,
            codes: &[ReturnWindowExpired, StatutoryWithdrawal],
            ..base()
        },
        Case {
            name: "the start of the next Tokyo day is too late even though it is still the 15th in UTC",
            jurisdiction: Jurisdiction::Gb,
            zone: Some("Asia/Tokyo"),
            contract: short_window,
            delivered: "2026-03-01T23:30:00+09:00",
            when: When::At("2026-03-15T15:00:00Z"),
            outcome: Outcome::Rejected,
            basis: Basis::Both,
            codes: &[ReturnWindowExpired, StatutoryWindowExpired],
            ..base()
        },
        Case {
            name: "a New York delivery just before midnight counts from its New York date, past spring forward",
            jurisdiction: eu(),
            zone: Some("America/New_York"),
            contract: short_window,
            delivered: "2026-03-01T23:59:00-05:00",
            when: When::At("2026-03-17T03:59:00Z"),
            basis: Basis::Statute,
            gap: true,
            codes: &[ReturnWindowExpired, StatutoryWithdrawal],
            ..base()
        },
        Case {
            name: "the end of the New York Monday (daylight time) closes that withdrawal",
            jurisdiction: eu(),
            zone: Some("America/New_York"),
            contract: short_window,
            delivered: "2026-03-01T23:59:00-05:00",
            when: When::At("2026-03-17T04:00:00Z"),
            outcome: Outcome::Rejected,
            basis: Basis::Both,
            codes: &[ReturnWindowExpired, StatutoryWindowExpired],
            ..base()
        },
        Case {
            name: "a GB cancellation within 14 days outlasts a shorter contract window",
            jurisdiction: Jurisdiction::Gb,
            contract: short_window,
            when: days(10),
            basis: Basis::Statute,
            gap: true,
            codes: &[ReturnWindowExpired, StatutoryWithdrawal],
            ..base()
        },
        Case {
            name: "an Israeli cancellation within 14 days outlasts a shorter contract window",
            jurisdiction: Jurisdiction::Il,
            contract: short_window,
            when: days(14),
            basis: Basis::Statute,
            gap: true,
            codes: &[ReturnWindowExpired, StatutoryWithdrawal],
            ..base()
        },
        Case {
            name: "an Israeli cancellation after 14 days and after the contract window is rejected on both",
            jurisdiction: Jurisdiction::Il,
            when: days(31),
            outcome: Outcome::Rejected,
            basis: Basis::Both,
            codes: &[ReturnWindowExpired, StatutoryWindowExpired],
            ..base()
        },
        Case {
            name: "without a statutory profile a late change of mind is rejected on the contract alone",
            jurisdiction: Jurisdiction::None,
            when: days(31),
            outcome: Outcome::Rejected,
            codes: &[ReturnWindowExpired],
            ..base()
        },
        Case {
            name: "the seller's own 60-day window covers a US return on day 45 as a policy gap",
            when: days(45),
            seller_window: Some(60),
            basis: Basis::SellerPolicy,
            gap: true,
            codes: &[ReturnWindowExpired, SellerReturnWindow],
            ..base()
        },
        Case {
            name: "the seller's own window covers an EU return after both other windows as a policy gap",
            jurisdiction: eu(),
            when: days(40),
            seller_window: Some(45),
            basis: Basis::SellerPolicy,
            gap: true,
            codes: &[
                ReturnWindowExpired,
                StatutoryWindowExpired,
                SellerReturnWindow,
            ],
            ..base()
        },
        Case {
            name: "a return after the seller's own window is rejected",
            when: days(61),
            seller_window: Some(60),
            outcome: Outcome::Rejected,
            codes: &[ReturnWindowExpired],
            ..base()
        },
        Case {
            name: "a size-fit return is a no-fault return like a change of mind",
            reason: SizeFit,
            ..base()
        },
        // Categories.
        Case {
            name: "swimwear is not returnable for a change of mind in the US",
            items: &[("SWIM", 1)],
            outcome: Outcome::Rejected,
            codes: &[NonReturnableCategory],
            ..base()
        },
        Case {
            name: "swimwear returned within the EU withdrawal period is a statutory withdrawal and a policy gap",
            jurisdiction: eu(),
            items: &[("SWIM", 1)],
            basis: Basis::Statute,
            gap: true,
            codes: &[NonReturnableCategory, StatutoryWithdrawal],
            ..base()
        },
        Case {
            name: "listing a category makes its subcategories non-returnable too",
            items: &[("CAKE", 1)],
            outcome: Outcome::Rejected,
            codes: &[NonReturnableCategory],
            ..base()
        },
        Case {
            name: "perishable food is refused by the contract and exempt from EU withdrawal",
            jurisdiction: eu(),
            items: &[("CAKE", 1)],
            outcome: Outcome::Rejected,
            basis: Basis::Both,
            codes: &[NonReturnableCategory, StatutoryExemptCategory],
            ..base()
        },
        Case {
            name: "a custom-made item the contract accepts is returned on the contract, not as a withdrawal",
            jurisdiction: eu(),
            items: &[("MUG", 1)],
            codes: &[ContractReturnWindow, StatutoryExemptCategory],
            ..base()
        },
        Case {
            name: "a custom-made item after the contract window has no statutory fallback",
            jurisdiction: eu(),
            items: &[("MUG", 1)],
            when: days(31),
            outcome: Outcome::Rejected,
            basis: Basis::Both,
            codes: &[
                ReturnWindowExpired,
                StatutoryWindowExpired,
                StatutoryExemptCategory,
            ],
            ..base()
        },
        Case {
            name: "one non-returnable item among returnable ones rejects the whole no-fault request",
            items: &[("TEE", 1), ("SWIM", 1)],
            outcome: Outcome::Rejected,
            codes: &[NonReturnableCategory],
            ..base()
        },
        Case {
            name: "the seller's own window does not reopen a non-returnable category",
            items: &[("SWIM", 1)],
            seller_window: Some(60),
            outcome: Outcome::Rejected,
            codes: &[NonReturnableCategory],
            ..base()
        },
        // Contract switches.
        Case {
            name: "a supplier that takes no no-fault returns leaves a US change of mind rejected",
            contract: |t| t.accepts_no_fault_returns = false,
            outcome: Outcome::Rejected,
            codes: &[NoFaultReturnsNotAccepted],
            ..base()
        },
        Case {
            name: "a supplier that takes no no-fault returns leaves an EU withdrawal as a policy gap",
            jurisdiction: eu(),
            contract: |t| t.accepts_no_fault_returns = false,
            basis: Basis::Statute,
            gap: true,
            codes: &[NoFaultReturnsNotAccepted, StatutoryWithdrawal],
            ..base()
        },
        Case {
            name: "without auto-authorize an in-policy US return waits for the supplier",
            contract: |t| t.auto_authorize = false,
            outcome: Outcome::PendingSupplier,
            codes: &[ContractReturnWindow, AwaitingSupplierDecision],
            ..base()
        },
        Case {
            name: "without auto-authorize an EU withdrawal is still authorized at once",
            jurisdiction: eu(),
            contract: |t| t.auto_authorize = false,
            basis: Basis::Both,
            codes: &[ContractReturnWindow, StatutoryWithdrawal],
            ..base()
        },
        Case {
            name: "an original-packaging term is noted for inspection",
            contract: |t| t.requires_original_packaging = true,
            codes: &[ContractReturnWindow, OriginalPackagingRequired],
            ..base()
        },
        // Evidence.
        Case {
            name: "a defect claim without evidence is rejected until a photo is attached",
            jurisdiction: eu(),
            reason: Defective,
            outcome: Outcome::Rejected,
            codes: &[EvidenceRequired],
            ..base()
        },
        Case {
            name: "a change of mind needing evidence under the contract is rejected without it in the US",
            contract: |t| {
                t.evidence_required_reasons.insert(ChangedMind);
            },
            outcome: Outcome::Rejected,
            codes: &[EvidenceRequired],
            ..base()
        },
        Case {
            name: "an EU withdrawal needs no evidence whatever the contract says",
            jurisdiction: eu(),
            contract: |t| {
                t.evidence_required_reasons.insert(ChangedMind);
            },
            basis: Basis::Statute,
            gap: true,
            codes: &[EvidenceWaivedByStatute, StatutoryWithdrawal],
            ..base()
        },
        Case {
            name: "transit damage without evidence is rejected",
            reason: DamagedInTransit,
            outcome: Outcome::Rejected,
            codes: &[EvidenceRequired],
            ..base()
        },
    ]
}
