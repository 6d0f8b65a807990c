//! ISO 4217 currencies and their minor units, embedded so that validating a currency never needs I/O.

use std::fmt;

/// ISO 4217 List One as published on 2026-01-01: every active alphabetic code whose minor unit is a
/// number. Codes whose minor unit is "N.A." (precious metals, SDR, bond-market units, XTS, XXX) are left
/// out on purpose: nobody pays for goods in them, and they have no exponent to respect. Withdrawn codes
/// (HRK, BGN, ANG, SLL, ZWL, CUC) are gone too; an order in one of them is refused rather than guessed.
/// Sorted by code, which `Currency::parse` relies on for its binary search.
#[rustfmt::skip]
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2), ("AWG", 2),
    ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BHD", 3), ("BIF", 0), ("BMD", 2), ("BND", 2),
    ("BOB", 2), ("BOV", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2), ("BWP", 2), ("BYN", 2), ("BZD", 2),
    ("CAD", 2), ("CDF", 2), ("CHE", 2), ("CHF", 2), ("CHW", 2), ("CLF", 4), ("CLP", 0), ("CNY", 2),
    ("COP", 2), ("COU", 2), ("CRC", 2), ("CUP", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0), ("DKK", 2),
    ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ERN", 2), ("ETB", 2), ("EUR", 2), ("FJD", 2), ("FKP", 2),
    ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2), ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2),
    ("HKD", 2), ("HNL", 2), ("HTG", 2), ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3),
    ("IRR", 2), ("ISK", 0), ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2),
    ("KMF", 0), ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2),
    ("LKR", 2), ("LRD", 2), ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2),
    ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2), ("MXN", 2),
    ("MXV", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2), ("NOK", 2), ("NPR", 2),
    ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2), ("PHP", 2), ("PKR", 2), ("PLN", 2),
    ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2), ("RUB", 2), ("RWF", 0), ("SAR", 2), ("SBD", 2),
    ("SCR", 2), ("SDG", 2), ("SEK", 2), ("SGD", 2), ("SHP", 2), ("SLE", 2), ("SOS", 2), ("SRD", 2),
    ("SSP", 2), ("STN", 2), ("SVC", 2), ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2),
    ("TND", 3), ("TOP", 2), ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0),
    ("USD", 2), ("USN", 2), ("UYI", 0), ("UYU", 2), ("UYW", 4), ("UZS", 2), ("VED", 2), ("VES", 2),
    ("VND", 0), ("VUV", 0), ("WST", 2), ("XAD", 2), ("XAF", 0), ("XCD", 2), ("XCG", 2), ("XOF", 0),
    ("XPF", 0), ("YER", 2), ("ZAR", 2), ("ZMW", 2), ("ZWG", 2),
];

/// An ISO 4217 currency, known to be in the table: the code and its minor-unit exponent (EUR 2, JPY 0,
/// BHD 3). Built by [`Currency::parse`] at the edge, so code past the edge never re-checks it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

impl Currency {
    /// Euro, used often enough in rules and tests to deserve a name.
    pub const EUR: Currency = Currency::known("EUR");
    /// US dollar.
    pub const USD: Currency = Currency::known("USD");
    /// Pound sterling.
    pub const GBP: Currency = Currency::known("GBP");
    /// New Israeli shekel (the Israeli cancellation-fee cap is in it).
    pub const ILS: Currency = Currency::known("ILS");
    /// Yen: no minor unit.
    pub const JPY: Currency = Currency::known("JPY");
    /// Bahraini dinar: three decimals.
    pub const BHD: Currency = Currency::known("BHD");

    /// Parses an upper-case ISO 4217 alphabetic code (`EUR`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        ISO_4217
            .binary_search_by(|(code, _)| (*code).cmp(raw))
            .map(|i| Self::from_entry(ISO_4217[i]))
            .map_err(|_| format!("{raw:?} is not an active ISO 4217 currency code such as \"EUR\""))
    }

    /// The currency for a code known at compile time. Panics when the code is not in the table, which in
    /// a `const` stops the build instead of the program.
    pub const fn known(code: &str) -> Self {
        let wanted = code.as_bytes();
        let mut i = 0;
        while i < ISO_4217.len() {
            let entry = ISO_4217[i];
            let have = entry.0.as_bytes();
            if wanted.len() == 3
                && have[0] == wanted[0]
                && have[1] == wanted[1]
                && have[2] == wanted[2]
            {
                return Self::from_entry(entry);
            }
            i += 1;
        }
        panic!("not an ISO 4217 code in the table");
    }

    const fn from_entry((code, exponent): (&str, u8)) -> Self {
        let b = code.as_bytes();
        Self {
            code: [b[0], b[1], b[2]],
            exponent,
        }
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // The bytes came from the table's ASCII literals, so this never fails.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Digits after the decimal point: amounts are stored as `major * 10^exponent` minor units.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// Every currency in the table, in code order.
    pub fn all() -> impl Iterator<Item = Currency> {
        ISO_4217.iter().map(|e| Self::from_entry(*e))
    }
}

serde_as_text!(Currency);

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_unique_so_binary_search_finds_every_code() {
        assert!(ISO_4217.windows(2).all(|w| w[0].0 < w[1].0));
        for c in Currency::all() {
            assert_eq!(Currency::parse(c.code()), Ok(c));
        }
        assert!(ISO_4217.len() >= 160);
    }

    #[test]
    fn exponents_follow_iso_4217() {
        for (code, exp) in [
            ("EUR", 2),
            ("JPY", 0),
            ("BHD", 3),
            ("KWD", 3),
            ("CLF", 4),
            ("ISK", 0),
            ("ILS", 2),
        ] {
            assert_eq!(Currency::parse(code).unwrap().exponent(), exp, "{code}");
        }
    }

    #[test]
    fn unknown_lower_case_withdrawn_and_metal_codes_are_refused() {
        for bad in ["", "eur", "EU", "EURO", "HRK", "BGN", "XAU", "XXX", "ZZZ"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
