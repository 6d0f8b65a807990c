use super::*;

pub(crate) fn valid_terms() -> ContractTermsInput {
    ContractTermsInput {
        return_window_days: 30,
        defect_window_days: 365,
        non_returnable_categories: vec!["swimwear".into(), "food/perishable".into()],
        evidence_required_reasons: vec![Some(ReturnReason::Defective)],
        requires_original_packaging: true,
        accepts_no_fault_returns: true,
        supplier_restocking_fee_bps: 1_000,
        defect_coverage: Some(DefectCoverage::FullRetail),
        transit_damage_party: Some(TransitDamageParty::Carrier),
        listing_data_owner: Some(ListingDataOwner::Seller),
        no_fault_return_shipping_payer: Some(ShippingPayer::Customer),
        returnless_threshold: Some(MoneyInput {
            currency: "EUR".into(),
            amount_minor: 1_000,
        }),
        auto_authorize: true,
        sla: Some(SlaTermsInput {
            ack_within: Some(TimeDelta::hours(24)),
            decision_within: Some(TimeDelta::hours(72)),
            credit_within: Some(TimeDelta::days(14)),
            breach_action: Some(BreachAction::Notify),
        }),
    }
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z")
        .unwrap()
        .to_utc()
}

fn publish(terms: ContractTermsInput) -> Result<NewContract, DomainError> {
    PublishContractInput {
        supplier_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        effective_from: None,
        terms: Some(terms),
        description: String::new(),
    }
    .parse(now())
}

fn fields(result: Result<NewContract, DomainError>) -> Vec<String> {
    match result {
        Err(DomainError::InvalidArgument(v)) => {
            v.as_slice().iter().map(|f| f.field.clone()).collect()
        }
        other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
    }
}

#[test]
fn a_complete_contract_parses_with_sorted_categories() {
    let c = publish(valid_terms()).unwrap();
    assert_eq!(c.effective_from, now());
    let cats: Vec<_> = c
        .terms
        .non_returnable_categories
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(cats, ["food/perishable", "swimwear"]);
}

#[test]
fn negative_windows_and_fees_over_one_hundred_percent_name_their_terms() {
    let mut t = valid_terms();
    t.return_window_days = -1;
    t.defect_window_days = 3_651;
    t.supplier_restocking_fee_bps = 10_001;
    assert_eq!(
        fields(publish(t)),
        [
            "terms.return_window_days",
            "terms.defect_window_days",
            "terms.supplier_restocking_fee_bps"
        ]
    );
}

#[test]
fn zero_or_negative_sla_durations_are_invalid() {
    let mut t = valid_terms();
    let sla = t.sla.as_mut().unwrap();
    sla.ack_within = Some(TimeDelta::zero());
    sla.credit_within = Some(TimeDelta::seconds(-1));
    sla.decision_within = None;
    assert_eq!(
        fields(publish(t)),
        [
            "terms.sla.ack_within",
            "terms.sla.decision_within",
            "terms.sla.credit_within"
        ]
    );
}

#[test]
fn a_decision_deadline_before_the_ack_deadline_is_invalid() {
    let mut t = valid_terms();
    t.sla.as_mut().unwrap().decision_within = Some(TimeDelta::hours(1));
    assert_eq!(fields(publish(t)), ["terms.sla.decision_within"]);
}

#[test]
fn badly_formed_categories_name_their_index() {
    let mut t = valid_terms();
    t.non_returnable_categories = vec!["swimwear".into(), "Food & Drink".into()];
    assert_eq!(fields(publish(t)), ["terms.non_returnable_categories[1]"]);
    let mut t = valid_terms();
    t.non_returnable_categories = (0..201).map(|i| format!("c{i}")).collect();
    assert_eq!(fields(publish(t)), ["terms.non_returnable_categories"]);
}

#[test]
fn unspecified_enums_and_missing_sla_are_invalid() {
    let mut t = valid_terms();
    t.defect_coverage = None;
    t.evidence_required_reasons = vec![None];
    t.sla = None;
    assert_eq!(
        fields(publish(t)),
        [
            "terms.evidence_required_reasons[0]",
            "terms.defect_coverage",
            "terms.sla"
        ]
    );
}

#[test]
fn a_negative_or_unknown_returnless_threshold_is_invalid() {
    let mut t = valid_terms();
    t.returnless_threshold = Some(MoneyInput {
        currency: "EUR".into(),
        amount_minor: -5,
    });
    assert_eq!(
        fields(publish(t)),
        ["terms.returnless_threshold.amount_minor"]
    );
    let mut t = valid_terms();
    t.returnless_threshold = Some(MoneyInput {
        currency: "eur".into(),
        amount_minor: 5,
    });
    assert_eq!(
        fields(publish(t)),
        ["terms.returnless_threshold.currency_code"]
    );
}

#[test]
fn the_version_in_effect_is_the_latest_started_one() {
    let v1 = publish(valid_terms()).unwrap().into_version(1, now());
    let mut v2 = publish(valid_terms()).unwrap().into_version(2, now());
    v2.effective_from = now() + TimeDelta::days(10);
    let versions = [v1, v2];
    assert_eq!(
        ContractVersion::in_effect(&versions, now() + TimeDelta::days(5))
            .unwrap()
            .version,
        1
    );
    assert_eq!(
        ContractVersion::in_effect(&versions, now() + TimeDelta::days(10))
            .unwrap()
            .version,
        2
    );
    assert!(ContractVersion::in_effect(&versions, now() - TimeDelta::seconds(1)).is_none());
}

#[test]
fn seller_settings_default_and_validate() {
    let s = SellerSettingsInput::default().parse().unwrap();
    assert_eq!(s, SellerSettings::default());
    let bad = SellerSettingsInput {
        customer_restocking_fee_bps: -1,
        ship_by: Some(TimeDelta::days(91)),
        return_window_days: Some(-3),
    };
    match bad.parse() {
        Err(DomainError::InvalidArgument(v)) => {
            let f: Vec<_> = v.as_slice().iter().map(|f| f.field.as_str()).collect();
            assert_eq!(
                f,
                [
                    "settings.customer_restocking_fee_bps",
                    "settings.ship_by_period",
                    "settings.return_window_days"
                ]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_description_over_two_thousand_characters_is_invalid() {
    let mut input = PublishContractInput {
        supplier_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        effective_from: None,
        terms: Some(valid_terms()),
        description: "é".repeat(MAX_DESCRIPTION_CHARS),
    };
    assert!(input.clone().parse(now()).is_ok());
    input.description.push('x');
    assert_eq!(fields(input.parse(now())), ["description"]);
}

#[test]
fn a_version_may_correct_the_history_only_where_no_return_was_decided() {
    let latest = Some((3, now()));
    let later = now() + TimeDelta::seconds(1);
    let earlier = now() - TimeDelta::days(9);
    assert!(!is_correction(later, latest, now()));
    assert!(check_effective_from(later, latest, now(), Some(now())).is_ok());
    // A supplier's first version may start in the past: nothing was decided under the supplier.
    assert!(!is_correction(earlier, None, now()));
    // Before the latest version, or in the past: a correction.
    assert!(is_correction(now(), latest, now()));
    assert!(is_correction(earlier, Some((1, later)), now()));
    assert!(check_effective_from(earlier, latest, now(), None).is_ok());
    assert!(
        check_effective_from(
            earlier,
            latest,
            now(),
            Some(earlier - TimeDelta::seconds(1))
        )
        .is_ok()
    );
    match check_effective_from(earlier, latest, now(), Some(earlier)) {
        Err(DomainError::InvalidArgument(v)) => {
            assert_eq!(v.as_slice()[0].field, "effective_from");
            assert!(
                v.as_slice()[0].description.contains("already decided"),
                "{v:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    match failover_without_backup() {
        DomainError::InvalidArgument(v) => assert_eq!(v.as_slice()[0].field, BREACH_ACTION_FIELD),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_seller_window_of_zero_days_means_none() {
    let s = SellerSettingsInput {
        return_window_days: Some(0),
        ..SellerSettingsInput::default()
    };
    assert_eq!(s.parse().unwrap().return_window_days, None);
}
