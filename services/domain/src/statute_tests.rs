use super::*;

fn ils(minor: i64) -> Money {
    Money::new(Currency::ILS, minor)
}

#[test]
fn israeli_fee_is_five_percent_or_one_hundred_shekels_whichever_is_lower() {
    assert_eq!(IL.max_withdrawal_fee(ils(100_000), false), ils(5_000));
    assert_eq!(IL.max_withdrawal_fee(ils(1_000_000), false), ils(10_000));
    assert_eq!(IL.max_withdrawal_fee(ils(1_000_000), true), ils(0));
}

#[test]
fn an_absolute_cap_in_another_currency_allows_no_fee() {
    let usd = Money::new(Currency::USD, 100_000);
    assert_eq!(
        IL.max_withdrawal_fee(usd, false),
        Money::zero(Currency::USD)
    );
}

#[test]
fn eu_and_gb_allow_no_withdrawal_fee_and_the_us_sets_no_cap() {
    let price = Money::new(Currency::EUR, 5_000);
    assert_eq!(EU.max_withdrawal_fee(price, false).amount_minor, 0);
    assert_eq!(
        GB.cap_customer_fee(Money::new(Currency::EUR, 500), price, false)
            .amount_minor,
        0
    );
    assert_eq!(US.max_withdrawal_fee(price, false), price);
}

#[test]
fn a_seller_fee_below_the_cap_is_kept() {
    assert_eq!(
        IL.cap_customer_fee(ils(1_000), ils(100_000), false),
        ils(1_000)
    );
}

#[test]
fn jurisdictions_parse_from_profile_codes_and_eea_countries() {
    assert_eq!(Jurisdiction::parse("DE"), Ok(Jurisdiction::Eu));
    assert_eq!(Jurisdiction::parse("NO"), Ok(Jurisdiction::Eu));
    assert_eq!(Jurisdiction::parse("UK"), Ok(Jurisdiction::Gb));
    assert_eq!(Jurisdiction::parse("NONE"), Ok(Jurisdiction::None));
    for bad in ["", "de", "CA", "ZZ"] {
        assert!(Jurisdiction::parse(bad).is_err(), "{bad:?}");
    }
    for j in Jurisdiction::ALL {
        assert_eq!(Jurisdiction::parse(j.as_str()), Ok(j));
        assert_eq!(j.profile().jurisdiction, j);
    }
}

#[test]
fn every_profile_with_a_right_cites_its_source() {
    for j in Jurisdiction::ALL {
        let p = j.profile();
        assert!(p.version.starts_with(j.as_str()));
        if p.withdrawal.is_some() || p.legal_guarantee.is_some() {
            assert!(!p.sources.is_empty(), "{j}");
        }
    }
}

#[test]
fn the_guarantee_runs_in_calendar_months_to_the_end_of_the_last_day() {
    let delivered = DateTime::parse_from_rfc3339("2025-02-28T10:00:00Z")
        .unwrap()
        .to_utc();
    let berlin = Some(chrono_tz::Europe::Berlin);
    // 2027-02-28 is a Sunday: the EU period runs on to the end of Monday 1 March.
    let ends = EU.guarantee_ends(delivered, berlin).unwrap();
    assert_eq!(ends.ends_before.to_rfc3339(), "2027-03-01T23:00:00+00:00");
    assert_eq!(US.guarantee_ends(delivered, berlin), None);
}

#[test]
fn only_israel_has_an_extended_withdrawal_and_only_when_the_customer_qualifies() {
    let delivered = DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .unwrap()
        .to_utc();
    let tz = Some(chrono_tz::Asia::Jerusalem);
    let (length, _) = IL.withdrawal_ends(delivered, tz, true).unwrap();
    assert_eq!(length, Length::Months(4));
    let (length, _) = IL.withdrawal_ends(delivered, tz, false).unwrap();
    assert_eq!(length, Length::Days(14));
    let (length, _) = EU.withdrawal_ends(delivered, tz, true).unwrap();
    assert_eq!(length, Length::Days(14));
    assert_eq!(US.withdrawal_ends(delivered, tz, true), None);
}

#[test]
fn statutory_exemptions_match_a_category_segment() {
    assert!(EU.withdrawal_exempts("food/perishable"));
    assert!(!EU.withdrawal_exempts("swimwear"));
    assert!(!US.withdrawal_exempts("food/perishable"));
}
