//! Exact money: integer minor units in one currency, basis points, and splits that never lose a unit.

use crate::currency::Currency;
use std::fmt;

/// Why a money operation was refused. Overflow is an error rather than a wrap or a saturation, because a
/// silently wrong amount in a settlement is worse than a refused request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The two amounts are in different currencies; Returnbridge never converts.
    #[error("cannot combine {left} with {right}: amounts in one operation must share a currency")]
    CurrencyMismatch {
        /// Currency of the left operand.
        left: Currency,
        /// Currency of the right operand.
        right: Currency,
    },
    /// The result does not fit in an `i64` of minor units.
    #[error("amount out of range")]
    Overflow,
    /// A non-zero total was to be split among parties that all weigh zero.
    #[error("cannot allocate a non-zero amount when every weight is zero")]
    NoWeights,
}

/// An amount of one currency in its minor units (cents, fils, yen). Never a float. Signed, so that a
/// settlement net can be negative; request validation is where "no negative price" is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Money {
    /// The ISO 4217 currency.
    pub currency: Currency,
    /// The amount in minor units: `12.34 EUR` is 1234, `500 JPY` is 500, `1.250 BHD` is 1250.
    pub amount_minor: i64,
}

impl Money {
    /// An amount in minor units.
    pub const fn new(currency: Currency, amount_minor: i64) -> Self {
        Self {
            currency,
            amount_minor,
        }
    }

    /// Nothing, in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self::new(currency, 0)
    }

    /// True below zero.
    pub fn is_negative(&self) -> bool {
        self.amount_minor < 0
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// `self + other`, refusing mixed currencies and overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let sum = self.amount_minor.checked_add(other.amount_minor);
        sum.map(|a| Money::new(self.currency, a))
            .ok_or(MoneyError::Overflow)
    }

    /// `self - other`, refusing mixed currencies and overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let diff = self.amount_minor.checked_sub(other.amount_minor);
        diff.map(|a| Money::new(self.currency, a))
            .ok_or(MoneyError::Overflow)
    }

    /// `self * quantity` (a unit price times the units), refusing overflow.
    pub fn checked_mul(self, quantity: i64) -> Result<Money, MoneyError> {
        let product = self.amount_minor.checked_mul(quantity);
        product
            .map(|a| Money::new(self.currency, a))
            .ok_or(MoneyError::Overflow)
    }

    /// The sum of `amounts`, all in `currency`; zero when there are none.
    pub fn sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    /// The smaller of two amounts of one currency.
    pub fn min(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        Ok(if other.amount_minor < self.amount_minor {
            other
        } else {
            self
        })
    }

    /// Parses a decimal amount in major units (`"12.34"`, `"-0.5"`, `"500"`), refusing more decimals than
    /// the currency has: `"1.234"` is not euros, it is a typo.
    pub fn parse_decimal(currency: Currency, raw: &str) -> Result<Money, String> {
        let bad = || {
            format!(
                "{raw:?} is not an amount of {currency} (at most {} decimals)",
                currency.exponent()
            )
        };
        let (negative, digits) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !all_digits(whole)
            || !all_digits(frac)
            || (digits.contains('.') && frac.is_empty())
        {
            return Err(bad());
        }
        let exp = usize::from(currency.exponent());
        if frac.len() > exp {
            return Err(bad());
        }
        let scaled = format!("{whole}{frac:0<exp$}");
        let magnitude: i128 = scaled.parse().map_err(|_| bad())?;
        let signed = if negative { -magnitude } else { magnitude };
        i64::try_from(signed)
            .map(|a| Money::new(currency, a))
            .map_err(|_| bad())
    }
}

impl fmt::Display for Money {
    /// `12.34 EUR`, `500 JPY`, `-0.050 BHD`: the currency's exponent decides the decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = u32::from(self.currency.exponent());
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let magnitude = self.amount_minor.unsigned_abs();
        if exp == 0 {
            return write!(f, "{sign}{magnitude} {}", self.currency);
        }
        let scale = 10u64.pow(exp);
        let width = exp as usize;
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            magnitude / scale,
            magnitude % scale,
            self.currency
        )
    }
}

impl Money {
    /// The amount as people read it: the currency's decimals and thousands grouped with commas,
    /// `1,620 JPY`, `12,345.67 EUR`, `-10.500 BHD`. [`fmt::Display`] stays ungrouped because
    /// explanations and [`Money::parse_decimal`] use that form.
    pub fn grouped(&self) -> String {
        let exp = u32::from(self.currency.exponent());
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let magnitude = self.amount_minor.unsigned_abs();
        let scale = 10u64.pow(exp);
        let digits = (magnitude / scale).to_string();
        let mut whole = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, d) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                whole.push(',');
            }
            whole.push(d);
        }
        if exp == 0 {
            return format!("{sign}{whole} {}", self.currency);
        }
        let width = exp as usize;
        format!(
            "{sign}{whole}.{:0width$} {}",
            magnitude % scale,
            self.currency
        )
    }
}

/// A share in hundredths of a percent: 0 to 10000 (100%). `1% = 100`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BasisPoints(u16);

impl BasisPoints {
    /// 100%.
    pub const MAX: u16 = 10_000;
    /// Nothing.
    pub const ZERO: BasisPoints = BasisPoints(0);
    /// All of it.
    pub const FULL: BasisPoints = BasisPoints(Self::MAX);

    /// Parses a wire value, which may be negative or too large.
    pub fn parse(raw: i64) -> Result<Self, String> {
        u16::try_from(raw)
            .ok()
            .filter(|v| *v <= Self::MAX)
            .map(Self)
            .ok_or_else(|| {
                format!(
                    "must be between 0 and {} basis points (100% = 10000), not {raw}",
                    Self::MAX
                )
            })
    }

    /// A value known at compile time; panics above 10000, which in a `const` stops the build.
    pub const fn new_const(bps: u16) -> Self {
        assert!(bps <= Self::MAX, "basis points above 10000");
        Self(bps)
    }

    /// The number of basis points.
    pub fn value(self) -> u16 {
        self.0
    }
}

impl fmt::Display for BasisPoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}bps", self.0)
    }
}

/// `amount * bps / 10000`, rounded toward zero.
///
/// Rounding toward zero is the rule because these results are fees and caps: a fee rounded down never
/// exceeds the legal cap it was computed from, and the remainder goes to whoever bears the rest of the
/// amount (callers compute that as `amount - fee`, so nothing is lost). The result's magnitude is at
/// most the amount's, so this cannot overflow.
pub fn apply_bps(amount: Money, bps: BasisPoints) -> Money {
    let scaled = i128::from(amount.amount_minor) * i128::from(bps.0) / i128::from(BasisPoints::MAX);
    // |scaled| <= |amount_minor|, so the conversion always succeeds.
    Money::new(
        amount.currency,
        i64::try_from(scaled).unwrap_or(amount.amount_minor),
    )
}

/// Splits `total` into one part per weight, exactly: the parts sum to `total`, each part is the floor
/// of its proportional share plus at most one minor unit, and a zero weight gets nothing.
///
/// Remainders go by largest remainder: after every party gets the floor of its share, the units left
/// over go one each to the parties with the largest fractional remainders; equal remainders go to the
/// earlier party in `weights`, so callers list parties in their fixed order (for liability: supplier,
/// seller, customer, carrier). A negative total is split as its magnitude and every part negated, so
/// no part has the opposite sign of the total.
pub fn allocate(total: Money, weights: &[u64]) -> Result<Vec<Money>, MoneyError> {
    let weight_sum: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    if weight_sum == 0 {
        return if total.amount_minor == 0 {
            Ok(vec![Money::zero(total.currency); weights.len()])
        } else {
            Err(MoneyError::NoWeights)
        };
    }
    // magnitude * weight < 2^63 * 2^64 = 2^127, so u128 holds every product.
    let magnitude = u128::from(total.amount_minor.unsigned_abs());
    let mut parts: Vec<u128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let product = magnitude * u128::from(*w);
        parts.push(product / weight_sum);
        remainders.push((product % weight_sum, i));
    }
    let given: u128 = parts.iter().sum();
    let leftover = usize::try_from(magnitude - given).map_err(|_| MoneyError::Overflow)?;
    // Largest remainder first; on equal remainders the lower index (earlier party) first.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders.into_iter().take(leftover) {
        parts[i] += 1;
    }
    parts
        .into_iter()
        .map(|p| {
            let signed = if total.amount_minor < 0 {
                -(p as i128)
            } else {
                p as i128
            };
            i64::try_from(signed)
                .map(|a| Money::new(total.currency, a))
                .map_err(|_| MoneyError::Overflow)
        })
        .collect()
}

#[cfg(test)]
#[path = "money_tests.rs"]
mod tests;
