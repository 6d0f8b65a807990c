//! What a return is decided on: the order facts the seller sends, the lines returned, and the reason.
//! Returnbridge does not own orders, so these arrive with every request and are checked at the edge
//! (see [`crate::order_input`]).

use crate::currency::Currency;
use crate::ids::SupplierId;
use crate::money::Money;
use crate::statute::Jurisdiction;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::collections::BTreeMap;
use std::fmt;
use url::Url;

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Longest accepted value, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Parses the value: 1 to `MAX_CHARS` characters, no control characters, no surrounding
            /// whitespace (trimming an identifier could merge two different ones).
            pub fn parse(raw: &str) -> Result<Self, String> {
                if raw.is_empty() {
                    return Err("must not be empty".into());
                }
                if raw.chars().count() > Self::MAX_CHARS {
                    return Err(format!("must be at most {} characters", Self::MAX_CHARS));
                }
                if raw.chars().any(char::is_control) || raw.trim() != raw {
                    return Err("must not contain control characters or surrounding whitespace".into());
                }
                Ok(Self(raw.to_owned()))
            }

            /// The value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        serde_as_text!($name);
    };
}

text_newtype!(
    /// A stock-keeping unit as the seller names it.
    Sku,
    64
);
text_newtype!(
    /// The seller's order identifier.
    OrderRef,
    128
);

/// A product category: lowercase slugs joined by `/`, most general first (`swimwear`,
/// `food/perishable`). At most 4 levels and 100 characters; each slug is `a-z`, `0-9` and inner `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Category(String);

impl Category {
    /// Longest accepted category, in characters.
    pub const MAX_CHARS: usize = 100;
    /// Deepest accepted nesting.
    pub const MAX_LEVELS: usize = 4;

    /// Parses a category.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let slug_ok = |s: &str| {
            !s.is_empty()
                && !s.starts_with('-')
                && !s.ends_with('-')
                && !s.contains("--")
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        let levels = raw.split('/').count();
        if raw.len() > Self::MAX_CHARS || levels > Self::MAX_LEVELS || !raw.split('/').all(slug_ok)
        {
            return Err(format!(
                "must be lowercase slugs (a-z, 0-9, inner '-') joined by '/', at most {} levels and {} \
                 characters, such as \"swimwear\" or \"food/perishable\"",
                Self::MAX_LEVELS,
                Self::MAX_CHARS
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The category.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `self` is `ancestor` or nested under it: listing `food` covers `food/perishable`.
    pub fn is_within(&self, ancestor: &Category) -> bool {
        self.0 == ancestor.0
            || (self.0.starts_with(&ancestor.0)
                && self.0.as_bytes().get(ancestor.0.len()) == Some(&b'/'))
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why the customer returns the goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReturnReason {
    /// The goods do not work as they should.
    Defective,
    /// Other goods than ordered were delivered.
    WrongItem,
    /// Parts of the goods are missing.
    MissingParts,
    /// The goods arrived damaged.
    DamagedInTransit,
    /// The goods differ from their listing.
    NotAsDescribed,
    /// The goods arrived after the promised date: a compensation claim, not a return.
    LateDelivery,
    /// The customer no longer wants the goods.
    ChangedMind,
    /// The goods do not fit.
    SizeFit,
}

impl ReturnReason {
    /// Every reason, in proto order.
    pub const ALL: [ReturnReason; 8] = [
        Self::Defective,
        Self::WrongItem,
        Self::MissingParts,
        Self::DamagedInTransit,
        Self::NotAsDescribed,
        Self::LateDelivery,
        Self::ChangedMind,
        Self::SizeFit,
    ];

    /// The reason's name, as in the proto enum without its prefix (`DAMAGED_IN_TRANSIT`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Defective => "DEFECTIVE",
            Self::WrongItem => "WRONG_ITEM",
            Self::MissingParts => "MISSING_PARTS",
            Self::DamagedInTransit => "DAMAGED_IN_TRANSIT",
            Self::NotAsDescribed => "NOT_AS_DESCRIBED",
            Self::LateDelivery => "LATE_DELIVERY",
            Self::ChangedMind => "CHANGED_MIND",
            Self::SizeFit => "SIZE_FIT",
        }
    }

    /// Parses a reason name.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|r| r.as_str()).collect();
                format!(
                    "unknown reason {raw:?}; known reasons: {}",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for ReturnReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A link to a photo or document backing a claim: `https` only, at most 2048 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceUri(Url);

impl EvidenceUri {
    /// Longest accepted URI.
    pub const MAX_LEN: usize = 2048;

    /// Parses an evidence URI.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let url = Url::parse(raw).map_err(|e| format!("is not a valid absolute URL ({e})"))?;
        if url.scheme() != "https" || url.host().is_none() {
            return Err("must be an https URL with a host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry credentials".into());
        }
        Ok(Self(url))
    }

    /// The URI.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for EvidenceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

serde_as_text!(EvidenceUri);
serde_as_text!(Category);
serde_as_text!(ReturnReason);

/// One line of the order as the seller sold it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderLine {
    /// What was sold.
    pub sku: Sku,
    /// Its category, matched against the contract's non-returnable categories.
    pub category: Category,
    /// Units bought, 1 to 10000.
    pub quantity: u32,
    /// Retail price per unit the customer paid, in the order's currency.
    pub unit_price: Money,
    /// What the seller pays the supplier per unit, in the order's currency.
    pub unit_cost: Money,
}

/// The facts of the order a return is decided on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderFacts {
    /// The seller's order id.
    pub order_id: OrderRef,
    /// The supplier that fulfilled it.
    pub supplier: SupplierId,
    /// When the order was placed: selects the contract version.
    pub ordered_at: DateTime<Utc>,
    /// When the goods were delivered: contract and seller windows count from this instant, statutory
    /// periods from its calendar day in `customer_time_zone`.
    pub delivered_at: DateTime<Utc>,
    /// The customer's jurisdiction: selects the statutory profile.
    pub jurisdiction: Jurisdiction,
    /// The customer's time zone, whose calendar days statutory periods count; `None` when not given,
    /// and then the reading most generous to the customer is taken.
    pub customer_time_zone: Option<Tz>,
    /// The seller says the customer qualifies for an extended statutory cancellation period (Israel:
    /// senior, disabled or new-immigrant customers in a sale with a conversation). Ignored by
    /// profiles without one.
    pub extended_cancellation_right: bool,
    /// The order's currency; every amount of the request is in it.
    pub currency: Currency,
    /// What the customer paid for the outbound delivery.
    pub outbound_shipping: Money,
    /// Every line of the order, SKUs unique.
    pub lines: Vec<OrderLine>,
}

impl OrderFacts {
    /// The line for `sku`.
    pub fn line(&self, sku: &Sku) -> Option<&OrderLine> {
        self.lines.iter().find(|l| &l.sku == sku)
    }
}

/// Units of one SKU being returned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReturnItem {
    /// The order line's SKU.
    pub sku: Sku,
    /// Units returned, 1 to the units bought.
    pub quantity: u32,
}

/// A checked return request: every SKU is a line of the order, no SKU twice, no more units than bought.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReturnRequest {
    /// The order.
    pub order: OrderFacts,
    /// What comes back.
    pub items: Vec<ReturnItem>,
    /// Why.
    pub reason: ReturnReason,
    /// Photos or documents backing the claim.
    pub evidence: Vec<EvidenceUri>,
    /// Expected cost of the return label, when known at authorization.
    pub label_cost_estimate: Option<Money>,
    /// The customer's own words, if any.
    pub customer_comment: Option<String>,
}

/// Units of each SKU of the order already returned by earlier returns, as the store counts them.
pub type ReturnedUnits = BTreeMap<Sku, u32>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_lowercase_slug_paths() {
        for ok in ["swimwear", "food/perishable", "a/b/c/d", "kids-shoes", "x9"] {
            assert!(Category::parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            "Swimwear",
            "food/",
            "/food",
            "a/b/c/d/e",
            "-x",
            "x-",
            "a--b",
            "food perishable",
            "é",
        ] {
            assert!(Category::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Category::parse(&"a".repeat(101)).is_err());
    }

    #[test]
    fn a_listed_category_covers_its_subcategories_but_not_lookalikes() {
        let food = Category::parse("food").unwrap();
        assert!(Category::parse("food/perishable").unwrap().is_within(&food));
        assert!(food.is_within(&food));
        assert!(!Category::parse("foodstuff").unwrap().is_within(&food));
    }

    #[test]
    fn skus_refuse_control_characters_and_surrounding_spaces() {
        assert!(Sku::parse("SW-001/blue").is_ok());
        for bad in ["", " SW", "SW\n", &"x".repeat(65)] {
            assert!(Sku::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn evidence_must_be_https_and_short() {
        assert!(EvidenceUri::parse("https://cdn.example/p/1.jpg").is_ok());
        for bad in [
            "http://cdn.example/1.jpg",
            "ftp://x/y",
            "not a url",
            "https://u:p@cdn.example/1",
        ] {
            assert!(EvidenceUri::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("https://cdn.example/{}", "a".repeat(2048));
        assert!(EvidenceUri::parse(&long).is_err());
    }

    #[test]
    fn reasons_round_trip_through_their_names() {
        for r in ReturnReason::ALL {
            assert_eq!(ReturnReason::parse(r.as_str()), Ok(r));
        }
        assert!(
            ReturnReason::parse("BORED")
                .unwrap_err()
                .contains("CHANGED_MIND")
        );
    }
}
