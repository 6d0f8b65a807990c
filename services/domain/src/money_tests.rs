use super::*;
use proptest::prelude::*;

fn eur(minor: i64) -> Money {
    Money::new(Currency::EUR, minor)
}

#[test]
fn adding_amounts_of_different_currencies_is_refused() {
    let usd = Money::new(Currency::USD, 1);
    assert!(matches!(
        eur(1).checked_add(usd),
        Err(MoneyError::CurrencyMismatch { .. })
    ));
}

#[test]
fn overflow_is_an_error_never_a_wrap() {
    assert_eq!(eur(i64::MAX).checked_add(eur(1)), Err(MoneyError::Overflow));
    assert_eq!(eur(i64::MIN).checked_sub(eur(1)), Err(MoneyError::Overflow));
    assert_eq!(
        eur(i64::MAX / 2 + 1).checked_mul(2),
        Err(MoneyError::Overflow)
    );
    assert_eq!(eur(5000).checked_mul(3), Ok(eur(15000)));
}

#[test]
fn amounts_display_with_the_currency_exponent() {
    assert_eq!(eur(1234).to_string(), "12.34 EUR");
    assert_eq!(eur(-5).to_string(), "-0.05 EUR");
    assert_eq!(Money::new(Currency::JPY, 500).to_string(), "500 JPY");
    assert_eq!(Money::new(Currency::BHD, 1250).to_string(), "1.250 BHD");
}

#[test]
fn grouped_amounts_use_the_exponent_and_group_thousands() {
    assert_eq!(eur(5400).grouped(), "54.00 EUR");
    assert_eq!(eur(0).grouped(), "0.00 EUR");
    assert_eq!(eur(123_456_789).grouped(), "1,234,567.89 EUR");
    assert_eq!(Money::new(Currency::JPY, 1620).grouped(), "1,620 JPY");
    assert_eq!(Money::new(Currency::JPY, 999).grouped(), "999 JPY");
    assert_eq!(Money::new(Currency::JPY, 100_000).grouped(), "100,000 JPY");
    assert_eq!(Money::new(Currency::BHD, 10_500).grouped(), "10.500 BHD");
}

#[test]
fn grouped_negative_amounts_keep_the_sign_before_the_digits() {
    assert_eq!(eur(-5).grouped(), "-0.05 EUR");
    assert_eq!(eur(-123_456).grouped(), "-1,234.56 EUR");
    assert_eq!(
        Money::new(Currency::JPY, i64::MIN).grouped(),
        "-9,223,372,036,854,775,808 JPY"
    );
}

#[test]
fn decimals_beyond_the_exponent_are_refused() {
    assert_eq!(Money::parse_decimal(Currency::EUR, "12.3"), Ok(eur(1230)));
    assert_eq!(
        Money::parse_decimal(Currency::BHD, "1.25"),
        Ok(Money::new(Currency::BHD, 1250))
    );
    for bad in ["12.345", "", "-", ".5", "5.", "1e3", "12,34", "+1"] {
        assert!(Money::parse_decimal(Currency::EUR, bad).is_err(), "{bad:?}");
    }
    assert!(Money::parse_decimal(Currency::JPY, "100.5").is_err());
    assert!(Money::parse_decimal(Currency::EUR, "92233720368547758.08").is_err());
}

#[test]
fn basis_points_stay_between_zero_and_ten_thousand() {
    assert_eq!(BasisPoints::parse(10_000), Ok(BasisPoints::FULL));
    assert!(BasisPoints::parse(10_001).is_err());
    assert!(BasisPoints::parse(-1).is_err());
}

#[test]
fn applying_basis_points_rounds_toward_zero() {
    // 5% of 10.10 ILS is 50.5 agorot: the fee is 50, never 51, so it stays under a 5% cap.
    let fee = apply_bps(Money::new(Currency::ILS, 1010), BasisPoints::new_const(500));
    assert_eq!(fee.amount_minor, 50);
    assert_eq!(
        apply_bps(eur(-1010), BasisPoints::new_const(500)).amount_minor,
        -50
    );
    assert_eq!(
        apply_bps(eur(i64::MAX), BasisPoints::FULL).amount_minor,
        i64::MAX
    );
}

#[test]
fn equal_remainders_go_to_the_earlier_party() {
    let parts = allocate(eur(2), &[1, 1, 1]).unwrap();
    assert_eq!(parts, vec![eur(1), eur(1), eur(0)]);
    let parts = allocate(eur(-1), &[1, 1]).unwrap();
    assert_eq!(parts, vec![eur(-1), eur(0)]);
}

#[test]
fn the_largest_remainder_wins_over_order() {
    // Shares of 100 by 1:2 are 33.33 and 66.67: the second party's larger remainder takes the unit.
    assert_eq!(allocate(eur(100), &[1, 2]).unwrap(), vec![eur(33), eur(67)]);
}

#[test]
fn allocating_among_zero_weights_is_refused_unless_there_is_nothing_to_allocate() {
    assert_eq!(allocate(eur(1), &[0, 0]), Err(MoneyError::NoWeights));
    assert_eq!(allocate(eur(0), &[0, 0]), Ok(vec![eur(0), eur(0)]));
    assert_eq!(allocate(eur(1), &[]), Err(MoneyError::NoWeights));
}

fn any_currency() -> impl Strategy<Value = Currency> {
    let all: Vec<Currency> = Currency::all().collect();
    proptest::sample::select(all)
}

proptest! {
    #[test]
    fn parts_always_sum_to_the_total_and_never_change_sign(
        total in any::<i64>(),
        weights in proptest::collection::vec(0u64..=u64::MAX, 1..8),
        currency in any_currency(),
    ) {
        prop_assume!(weights.iter().any(|w| *w > 0));
        let total = Money::new(currency, total);
        let parts = allocate(total, &weights).unwrap();
        prop_assert_eq!(parts.len(), weights.len());
        let sum: i128 = parts.iter().map(|p| i128::from(p.amount_minor)).sum();
        prop_assert_eq!(sum, i128::from(total.amount_minor));
        for (part, w) in parts.iter().zip(&weights) {
            prop_assert_eq!(part.currency, currency);
            prop_assert!(total.amount_minor < 0 || part.amount_minor >= 0);
            prop_assert!(total.amount_minor > 0 || part.amount_minor <= 0);
            if *w == 0 {
                prop_assert_eq!(part.amount_minor, 0);
            }
        }
    }

    #[test]
    fn each_part_is_within_one_unit_of_its_exact_share(
        total in 0i64..1_000_000_000,
        weights in proptest::collection::vec(0u64..1_000_000, 1..6),
    ) {
        prop_assume!(weights.iter().any(|w| *w > 0));
        let parts = allocate(eur(total), &weights).unwrap();
        let wsum: u128 = weights.iter().map(|w| u128::from(*w)).sum();
        for (part, w) in parts.iter().zip(&weights) {
            let floor = (total as u128 * u128::from(*w) / wsum) as i64;
            prop_assert!(part.amount_minor == floor || part.amount_minor == floor + 1);
        }
    }

    #[test]
    fn decimal_text_round_trips_in_every_currency_exponent(amount in any::<i64>(), currency in any_currency()) {
        let money = Money::new(currency, amount);
        let text = money.to_string();
        let (number, code) = text.split_once(' ').unwrap();
        prop_assert_eq!(code, currency.code());
        let decimals = number.split_once('.').map_or(0, |(_, frac)| frac.len());
        prop_assert_eq!(decimals, usize::from(currency.exponent()));
        prop_assert_eq!(Money::parse_decimal(currency, number), Ok(money));
        let extra = if decimals == 0 { format!("{number}.1") } else { format!("{number}1") };
        prop_assert!(Money::parse_decimal(currency, &extra).is_err());
    }

    #[test]
    fn grouped_text_is_the_display_text_with_commas_every_three_digits(amount in any::<i64>(), currency in any_currency()) {
        let money = Money::new(currency, amount);
        let grouped = money.grouped();
        prop_assert_eq!(grouped.replace(',', ""), money.to_string());
        let whole = grouped.trim_start_matches('-').split([' ', '.']).next().unwrap_or_default();
        for (i, group) in whole.split(',').enumerate() {
            let ok = if i == 0 { (1..=3).contains(&group.len()) } else { group.len() == 3 };
            prop_assert!(ok, "group {:?} of {:?}", group, grouped);
        }
    }

    #[test]
    fn checked_arithmetic_agrees_with_wide_arithmetic(a in any::<i64>(), b in any::<i64>(), q in -10_000i64..=10_000) {
        let wide = i128::from(a) + i128::from(b);
        prop_assert_eq!(eur(a).checked_add(eur(b)).ok().map(|m| i128::from(m.amount_minor)), i64::try_from(wide).ok().map(i128::from));
        let wide = i128::from(a) * i128::from(q);
        prop_assert_eq!(eur(a).checked_mul(q).ok().map(|m| i128::from(m.amount_minor)), i64::try_from(wide).ok().map(i128::from));
    }

    #[test]
    fn a_fee_never_exceeds_its_amount(amount in 0i64..=i64::MAX, bps in 0u16..=10_000) {
        let fee = apply_bps(eur(amount), BasisPoints::new_const(bps));
        prop_assert!(fee.amount_minor >= 0 && fee.amount_minor <= amount);
    }
}
