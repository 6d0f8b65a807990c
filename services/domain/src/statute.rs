//! Statutory profiles: the customer's rights by jurisdiction, as versioned data with their sources.
//!
//! These profiles are a best reading of the cited law, made to keep a seller from promising less than
//! the law gives; they are not legal advice. Where the law is finer-grained than a profile (national
//! longer guarantee periods, extensions when the trader failed to inform about the right, public
//! holidays ending a period), the profile states the general rule and the seller's own settings must
//! go further. Israel's four-month window for senior, disabled and new-immigrant customers applies
//! when the seller says the customer qualifies (`OrderFacts::extended_cancellation_right`).
//!
//! Periods are counted in the customer's calendar days (see [`crate::period`]): the day of delivery
//! does not count, a period ends at the end of its last day, and where the law says so a last day on a
//! rest day runs on to the next working day. Public holidays are out of scope: they differ by region
//! and year, so a period ending on one is not extended here, and a seller whose customers are owed the
//! extra day must give it by its own window.

use crate::currency::Currency;
use crate::money::{BasisPoints, Money, apply_bps};
use crate::period::{Counting, Length, PeriodEnd, period_end};
use chrono::{DateTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use std::fmt;

/// Which profile applies: the customer's jurisdiction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Jurisdiction {
    /// The EU and the EEA (Iceland, Liechtenstein, Norway).
    Eu,
    /// The United Kingdom.
    Gb,
    /// Israel.
    Il,
    /// The United States.
    Us,
    /// No statutory profile: only the contract and the seller's own policy apply.
    None,
}

/// EEA member states by ISO 3166-1 alpha-2 (plus `EL`, the EU's own code for Greece).
const EEA_COUNTRIES: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

impl Jurisdiction {
    /// Every jurisdiction with a profile.
    pub const ALL: [Jurisdiction; 5] = [Self::Eu, Self::Gb, Self::Il, Self::Us, Self::None];

    /// The profile code (`EU`, `GB`, `IL`, `US`, `NONE`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eu => "EU",
            Self::Gb => "GB",
            Self::Il => "IL",
            Self::Us => "US",
            Self::None => "NONE",
        }
    }

    /// Parses a profile code, or the ISO 3166-1 alpha-2 code of an EEA country (`DE` is `EU`) or `UK`.
    /// Other countries are refused rather than silently mapped to `NONE`: a seller must say `NONE` on
    /// purpose.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "EU" => Ok(Self::Eu),
            "GB" | "UK" => Ok(Self::Gb),
            "IL" => Ok(Self::Il),
            "US" => Ok(Self::Us),
            "NONE" => Ok(Self::None),
            c if EEA_COUNTRIES.contains(&c) => Ok(Self::Eu),
            _ => Err(format!(
                "{raw:?} is not a known jurisdiction: use EU, GB, IL, US or NONE (EEA country codes such as DE \
                 map to EU)"
            )),
        }
    }

    /// The current profile for this jurisdiction.
    pub fn profile(self) -> &'static StatutoryProfile {
        match self {
            Self::Eu => &EU,
            Self::Gb => &GB,
            Self::Il => &IL,
            Self::Us => &US,
            Self::None => &NONE,
        }
    }
}

serde_as_text!(Jurisdiction);

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cap on what a customer may be charged for exercising the statutory withdrawal right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeCap {
    /// At most this share of the price of the returned goods.
    pub bps: BasisPoints,
    /// And at most this amount, when the law names one.
    pub absolute: Option<Money>,
}

/// A no-reason right to withdraw from a distance sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WithdrawalRight {
    /// Days from delivery during which the customer may withdraw.
    pub days_from_delivery: u32,
    /// Whether the standard outbound delivery charge must be refunded on withdrawal.
    pub outbound_delivery_refunded: bool,
    /// The most the customer may be charged on withdrawal.
    pub customer_fee_cap: FeeCap,
    /// Whether no fee at all may be charged when the goods are faulty.
    pub fee_waived_when_faulty: bool,
    /// Category segments the law exempts from withdrawal. A category is exempt when one of its
    /// `/`-separated segments is listed (`food/perishable`), so sellers opt in by naming categories
    /// with these slugs.
    pub exempt_category_segments: &'static [&'static str],
    /// The provision granting the right, as cited in decisions.
    pub citation: &'static str,
    /// The provision listing the exemptions.
    pub exemption_citation: &'static str,
    /// How the period is counted: which last days run on.
    pub counting: Counting,
    /// A longer period for customers the law singles out, when the seller says one qualifies.
    pub extended: Option<ExtendedWithdrawal>,
}

/// A longer withdrawal period for some customers, applied when the order facts say the customer
/// qualifies: Returnbridge cannot check age, disability or immigration itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtendedWithdrawal {
    /// The period instead of `days_from_delivery`.
    pub length: Length,
    /// The provision, as cited in decisions.
    pub citation: &'static str,
    /// Who qualifies, for people reading a decision.
    pub who: &'static str,
}

/// The seller's liability for goods that do not conform to the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegalGuarantee {
    /// Months from delivery during which a non-conformity may be claimed.
    pub months: u32,
    /// The provision, as cited in decisions.
    pub citation: &'static str,
    /// How the period is counted: which last days run on.
    pub counting: Counting,
}

/// Saturday and Sunday: the days Regulation 1182/71 art. 3(4) runs a period on past (with public
/// holidays, which are not modelled).
const WEEKEND: &[Weekday] = &[Weekday::Sat, Weekday::Sun];

/// The EU's counting rule for every period of its acts, the withdrawal period included (Directive
/// 2011/83/EU recital 41).
const EU_COUNTING: Counting = Counting {
    rest_days: WEEKEND,
    citation: "Regulation (EEC, Euratom) No 1182/71 art. 3",
};

/// One statutory profile version. Profiles are replaced by new versions, never edited: a decision
/// records the version it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatutoryProfile {
    /// The jurisdiction.
    pub jurisdiction: Jurisdiction,
    /// The profile version recorded with every decision (`EU-2026.1`).
    pub version: &'static str,
    /// The no-reason withdrawal right, if the law gives one.
    pub withdrawal: Option<WithdrawalRight>,
    /// The legal guarantee for non-conformity, if the law gives a fixed period.
    pub legal_guarantee: Option<LegalGuarantee>,
    /// The law this profile reads.
    pub sources: &'static [&'static str],
}

/// EU/EEA: 14 days from delivery, no reason, no fee, outbound delivery refunded; two-year guarantee.
pub const EU: StatutoryProfile = StatutoryProfile {
    jurisdiction: Jurisdiction::Eu,
    version: "EU-2026.2",
    withdrawal: Some(WithdrawalRight {
        days_from_delivery: 14,
        outbound_delivery_refunded: true,
        customer_fee_cap: FeeCap {
            bps: BasisPoints::ZERO,
            absolute: None,
        },
        fee_waived_when_faulty: true,
        exempt_category_segments: &[
            "personalized",
            "custom-made",
            "perishable",
            "newspapers",
            "periodicals",
        ],
        citation: "Directive 2011/83/EU art. 9",
        exemption_citation: "Directive 2011/83/EU art. 16",
        counting: EU_COUNTING,
        extended: None,
    }),
    // Directive 2019/771 has no counting rule of its own; Regulation 1182/71 is read to apply to it
    // as to every period in EU acts, which is also the reading more generous to the customer.
    legal_guarantee: Some(LegalGuarantee {
        months: 24,
        citation: "Directive (EU) 2019/771 art. 10",
        counting: EU_COUNTING,
    }),
    sources: &[
        "Directive 2011/83/EU art. 9 (14-day withdrawal period from physical possession)",
        "Directive 2011/83/EU recital 41 and Regulation (EEC, Euratom) No 1182/71 art. 3 (the day of \
         delivery is not counted; a period ends at the end of its last day; a last day on a Saturday, \
         Sunday or public holiday runs on to the end of the next working day)",
        "Directive 2011/83/EU art. 13 (reimbursement of all payments incl. standard delivery; no fee)",
        "Directive 2011/83/EU art. 14 (customer bears only the direct cost of return, if informed)",
        "Directive 2011/83/EU art. 16 (exceptions: personalised, perishable, unsealed hygiene/media, press)",
        "Directive (EU) 2019/771 art. 10 (seller liable for non-conformity appearing within two years)",
    ],
};

/// United Kingdom: the Consumer Contracts Regulations 2013 mirror the EU right.
pub const GB: StatutoryProfile = StatutoryProfile {
    jurisdiction: Jurisdiction::Gb,
    version: "GB-2026.2",
    withdrawal: Some(WithdrawalRight {
        days_from_delivery: 14,
        outbound_delivery_refunded: true,
        customer_fee_cap: FeeCap {
            bps: BasisPoints::ZERO,
            absolute: None,
        },
        fee_waived_when_faulty: true,
        exempt_category_segments: &[
            "personalized",
            "custom-made",
            "perishable",
            "newspapers",
            "periodicals",
        ],
        citation: "Consumer Contracts Regulations 2013 reg. 29",
        exemption_citation: "Consumer Contracts Regulations 2013 reg. 28",
        // Reg. 30(3): the period "ends at the end of 14 days after the day on which the goods come
        // into the physical possession of the consumer". The Regulations have no rule running a
        // period on past a weekend or bank holiday, so none is applied.
        counting: Counting {
            rest_days: &[],
            citation: "Consumer Contracts Regulations 2013 reg. 30(3)",
        },
        extended: None,
    }),
    // The Consumer Rights Act 2015 has no fixed guarantee term; a claim may be brought within the
    // six-year limitation period, which is what this profile uses as the outer bound. The day the
    // cause of action accrues is not counted (Marren v Dawson Bentley [1961] 2 QB 135), and a period
    // ending on a day the court office is closed runs on to the next day it is open (Pritam Kaur v S
    // Russell & Sons [1973] QB 336): read here as Saturday and Sunday.
    legal_guarantee: Some(LegalGuarantee {
        months: 72,
        citation: "Consumer Rights Act 2015 ss. 9-24 (Limitation Act 1980 s. 5)",
        counting: Counting {
            rest_days: WEEKEND,
            citation: "Limitation Act 1980 s. 5 (Marren v Dawson Bentley; Pritam Kaur v Russell)",
        },
    }),
    sources: &[
        "Consumer Contracts (Information, Cancellation and Additional Charges) Regulations 2013 reg. 29 \
         (cancellation period ends 14 days after the goods come into physical possession)",
        "Consumer Contracts Regulations 2013 reg. 30(3) (the period ends at the end of 14 days after \
         the day of physical possession; no run-on past weekends or bank holidays)",
        "Consumer Contracts Regulations 2013 reg. 34 (reimbursement incl. standard delivery; no fee)",
        "Consumer Contracts Regulations 2013 reg. 28 (exceptions)",
        "Consumer Rights Act 2015 ss. 9-24 (goods to be as described, of satisfactory quality; remedies)",
    ],
};

/// Israel: 14 days from receipt; a fee of at most 5% of the price or 100 ILS, none when faulty.
pub const IL: StatutoryProfile = StatutoryProfile {
    jurisdiction: Jurisdiction::Il,
    version: "IL-2026.2",
    withdrawal: Some(WithdrawalRight {
        days_from_delivery: 14,
        // On a cancellation that is not for a fault, the law refunds the price less the fee; the
        // delivery charge is read here as not refundable.
        outbound_delivery_refunded: false,
        customer_fee_cap: FeeCap {
            bps: BasisPoints::new_const(500),
            absolute: Some(Money::new(Currency::ILS, 10_000)),
        },
        fee_waived_when_faulty: true,
        exempt_category_segments: &["personalized", "custom-made", "perishable", "underwear"],
        citation: "Consumer Protection Law 5741-1981 §14C",
        exemption_citation: "Consumer Protection Law 5741-1981 §14C(d)",
        // "Within 14 days from the day of receipt": the day of receipt is not counted (Interpretation
        // Law 5741-1981 s. 10). Whether a period ending on a day of rest runs on could not be settled
        // from the texts at hand, so the profile takes the reading more generous to the customer: a
        // last day on Saturday, the day of rest (Law and Administration Ordinance 5708-1948 s. 18A),
        // runs on to Sunday, a working day in Israel. Friday is a working day and does not run on.
        counting: Counting {
            rest_days: &[Weekday::Sat],
            citation: "Interpretation Law 5741-1981 s. 10",
        },
        // The 2016 amendment: four months for senior citizens, people with disabilities and new
        // immigrants, where the distance sale included a conversation between dealer and consumer
        // (including by phone or other electronic communication).
        extended: Some(ExtendedWithdrawal {
            length: Length::Months(4),
            citation: "Consumer Protection Law 5741-1981 §14C(c1)",
            who: "a senior citizen, a person with a disability or a new immigrant, in a distance sale \
                  that included a conversation with the dealer",
        }),
    }),
    legal_guarantee: None,
    sources: &[
        "Consumer Protection Law 5741-1981 §14C (distance sale: cancellation until 14 days from receipt \
         of the goods or of the disclosure document, whichever is later)",
        "Consumer Protection Law 5741-1981 §14C(c1) (amendment of 2016: four months for a senior \
         citizen (65 or older), a person with a disability or a new immigrant (within five years of \
         immigration), where the distance sale included a conversation, also by phone)",
        "Interpretation Law 5741-1981 s. 10 (counting periods: the day of the event is not counted)",
        "Consumer Protection Law 5741-1981 §14E and Consumer Protection Regulations (Cancellation of \
         Transaction) 5771-2010 (cancellation fee at most 5% of the price or 100 ILS, whichever is \
         lower; none when cancelled for a defect, non-conformity or late delivery)",
    ],
};

/// United States: no general federal right to return goods bought at a distance.
pub const US: StatutoryProfile = StatutoryProfile {
    jurisdiction: Jurisdiction::Us,
    version: "US-2026.1",
    withdrawal: None,
    legal_guarantee: None,
    sources: &[
        "No general federal withdrawal right; the FTC Cooling-Off Rule (16 CFR 429) covers door-to-door \
         sales only. Implied warranties (UCC 2-314) are state law and may be disclaimed.",
    ],
};

/// No statutory profile: the contract and the seller's own policy decide alone.
pub const NONE: StatutoryProfile = StatutoryProfile {
    jurisdiction: Jurisdiction::None,
    version: "NONE-2026.1",
    withdrawal: None,
    legal_guarantee: None,
    sources: &[],
};

impl StatutoryProfile {
    /// The withdrawal period for goods delivered at `delivered_at` to a customer in `zone` (`None`:
    /// unknown, counted the most generous way), with its length; the extended period when `extended`
    /// says the customer qualifies and the profile has one.
    pub fn withdrawal_ends(
        &self,
        delivered_at: DateTime<Utc>,
        zone: Option<Tz>,
        extended: bool,
    ) -> Option<(Length, PeriodEnd)> {
        let w = self.withdrawal?;
        let length = match w.extended {
            Some(x) if extended => x.length,
            _ => Length::Days(w.days_from_delivery),
        };
        Some((length, period_end(delivered_at, zone, length, &w.counting)))
    }

    /// The legal guarantee's period for goods delivered at `delivered_at` to a customer in `zone`:
    /// N calendar months, ending at the end of the last day.
    pub fn guarantee_ends(
        &self,
        delivered_at: DateTime<Utc>,
        zone: Option<Tz>,
    ) -> Option<PeriodEnd> {
        let g = self.legal_guarantee?;
        Some(period_end(
            delivered_at,
            zone,
            Length::Months(g.months),
            &g.counting,
        ))
    }

    /// The most a customer may be charged for withdrawing from the purchase of goods priced `price`.
    /// Without a withdrawal right the law sets no cap, so the whole price is the bound. An absolute cap
    /// in another currency than the price's cannot be compared without an exchange rate, so then no
    /// fee is allowed at all: the domain never risks charging above the law.
    pub fn max_withdrawal_fee(&self, price: Money, faulty: bool) -> Money {
        let Some(w) = self.withdrawal else {
            return price;
        };
        if faulty && w.fee_waived_when_faulty {
            return Money::zero(price.currency);
        }
        let by_share = apply_bps(price, w.customer_fee_cap.bps);
        match w.customer_fee_cap.absolute {
            None => by_share,
            Some(cap) if cap.currency == price.currency => by_share.min(cap).unwrap_or(by_share),
            Some(_) => Money::zero(price.currency),
        }
    }

    /// The customer fee actually charged on a statutory withdrawal: what the seller asks, capped by the
    /// law.
    pub fn cap_customer_fee(&self, requested: Money, price: Money, faulty: bool) -> Money {
        let cap = self.max_withdrawal_fee(price, faulty);
        requested.min(cap).unwrap_or(cap)
    }

    /// Whether the law exempts `category` (a `/`-separated slug) from withdrawal.
    pub fn withdrawal_exempts(&self, category: &str) -> bool {
        self.withdrawal.is_some_and(|w| {
            category
                .split('/')
                .any(|seg| w.exempt_category_segments.contains(&seg))
        })
    }
}

/// `at + days * 24h`, saturating at the end of time rather than failing: a window that ends after the
/// year 262143 is, for every purpose here, open. For contract and seller windows only, which promise
/// in instants; statutory periods count calendar days ([`crate::period`]).
pub(crate) fn add_days(at: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    at.checked_add_signed(TimeDelta::days(i64::from(days)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
#[path = "statute_tests.rs"]
mod tests;
