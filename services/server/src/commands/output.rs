//! How client commands print for people (money as money, aligned tables) and parse what people type
//! (RFC 3339 times, durations, amounts, `SKU:QTY` items).

use chrono::{DateTime, Utc};
use returnbridge_api::convert::money_to_proto;
use returnbridge_domain::currency::Currency;
use returnbridge_domain::money::Money;
use returnbridge_proto::v1 as pb;

/// `54.00 EUR`, `1,620 JPY`, `10.500 BHD`; `-` when unset. A code the domain does not know (a newer
/// server) still prints, marked as minor units rather than guessed.
pub fn money(m: &Option<pb::Money>) -> String {
    match m {
        Some(m) => match Currency::parse(&m.currency_code) {
            Ok(c) => Money::new(c, m.amount_minor).grouped(),
            Err(_) => format!("{} {} (minor units)", m.amount_minor, m.currency_code),
        },
        None => "-".into(),
    }
}

/// An RFC 3339 instant in UTC, or `-` when unset.
pub fn time(t: &Option<prost_types::Timestamp>) -> String {
    t.as_ref()
        .and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "-".into())
}

/// A protobuf Duration as people write it: `14d`, `72h`, `90s`.
pub fn duration(d: &Option<prost_types::Duration>) -> String {
    match d {
        None => "-".into(),
        Some(d) if d.nanos == 0 && d.seconds % 86_400 == 0 => format!("{}d", d.seconds / 86_400),
        Some(d) if d.nanos == 0 && d.seconds % 3600 == 0 => format!("{}h", d.seconds / 3600),
        Some(d) if d.nanos == 0 => format!("{}s", d.seconds),
        Some(d) => format!("{}.{:09}s", d.seconds, d.nanos),
    }
}

pub use returnbridge_api::convert::timestamp;

/// What the date flags say when they cannot read a value.
pub const RFC3339_HINT: &str = "want an RFC 3339 time such as 2026-11-14T15:30:00Z \
     (`date -u +%Y-%m-%dT%H:%M:%SZ` prints now, `date -u -d '9 days ago' +%Y-%m-%dT%H:%M:%SZ` a past day)";

/// Parses a date flag.
pub fn parse_time(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{raw:?} is not a time ({e}); {RFC3339_HINT}"))
}

/// Parses `14d`, `72h`, `30m` or `86400s` into a protobuf Duration.
pub fn parse_duration(raw: &str) -> Result<prost_types::Duration, String> {
    let bad = || {
        format!("{raw:?} is not a duration; write a whole number and a unit: 14d, 72h, 30m, 90s")
    };
    let raw = raw.trim();
    let split = raw.len().checked_sub(1).ok_or_else(bad)?;
    let (number, unit) = raw.split_at(split);
    let n: i64 = number.parse().map_err(|_| bad())?;
    let factor = match unit {
        "d" => 86_400,
        "h" => 3600,
        "m" => 60,
        "s" => 1,
        _ => return Err(bad()),
    };
    let seconds = n.checked_mul(factor).ok_or_else(bad)?;
    Ok(prost_types::Duration { seconds, nanos: 0 })
}

/// A decimal amount (`50.00`) in `currency` as protobuf Money.
pub fn parse_money(currency: &str, raw: &str) -> anyhow::Result<pb::Money> {
    let c = Currency::parse(currency).map_err(|e| anyhow::anyhow!("currency {e}"))?;
    let m = Money::parse_decimal(c, raw.trim()).map_err(|e| anyhow::anyhow!(e))?;
    Ok(money_to_proto(m))
}

/// `SKU:QTY` (a SKU may itself hold colons: the quantity is what follows the last one).
pub fn parse_item(raw: &str) -> Result<pb::ReturnItem, String> {
    let (sku, qty) = raw
        .rsplit_once(':')
        .ok_or_else(|| format!("{raw:?} is not SKU:QTY (for example TEE-M:2)"))?;
    let quantity = qty
        .parse()
        .map_err(|_| format!("{raw:?}: the quantity {qty:?} is not a whole number"))?;
    Ok(pb::ReturnItem {
        sku: sku.to_owned(),
        quantity,
    })
}

/// Columns sized to their widest cell, printed only once every row is known, so a failure half-way
/// never leaves a header without its rows.
pub struct Table {
    header: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles; a title starting with `>` is right-aligned (amounts).
    pub fn new(columns: &[&str]) -> Self {
        Self {
            header: columns
                .iter()
                .map(|c| c.trim_start_matches('>').to_owned())
                .collect(),
            right: columns.iter().map(|c| c.starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, with a trailing newline.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let last = row.len().saturating_sub(1);
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let w = widths.get(i).copied().unwrap_or(0);
                let pad = " ".repeat(w.saturating_sub(cell.chars().count()));
                if i > 0 {
                    line.push_str("  ");
                }
                if self.right.get(i).copied().unwrap_or(false) {
                    line.push_str(&pad);
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if i < last {
                        line.push_str(&pad);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Prints it on stdout.
    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// `1 return`, `2 returns`.
pub fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(amount_minor: i64) -> Option<pb::Money> {
        Some(pb::Money {
            currency_code: "EUR".into(),
            amount_minor,
        })
    }

    #[test]
    fn money_prints_in_major_units_with_the_currency() {
        assert_eq!(money(&eur(5400)), "54.00 EUR");
        let yen = Some(pb::Money {
            currency_code: "JPY".into(),
            amount_minor: 1620,
        });
        assert_eq!(money(&yen), "1,620 JPY");
        let dinar = Some(pb::Money {
            currency_code: "BHD".into(),
            amount_minor: 10_500,
        });
        assert_eq!(money(&dinar), "10.500 BHD");
        assert_eq!(money(&None), "-");
    }

    #[test]
    fn an_unknown_currency_says_its_amount_is_in_minor_units() {
        let odd = Some(pb::Money {
            currency_code: "XYZ".into(),
            amount_minor: 12,
        });
        assert_eq!(money(&odd), "12 XYZ (minor units)");
    }

    #[test]
    fn amounts_parse_with_the_currency_decimals() {
        assert_eq!(parse_money("EUR", "50.00").ok(), eur(5000));
        assert!(parse_money("EUR", "50.001").is_err());
        assert!(parse_money("EURO", "50").is_err());
    }

    #[test]
    fn a_bad_time_says_it_wants_rfc_3339_with_an_example() {
        let err = parse_time("yesterday").err().unwrap_or_default();
        assert!(
            err.contains("RFC 3339") && err.contains("2026-11-14T15:30:00Z"),
            "{err}"
        );
        assert!(parse_time("2026-11-14T15:30:00Z").is_ok());
    }

    #[test]
    fn durations_take_days_hours_minutes_and_seconds() {
        assert_eq!(parse_duration("1d").map(|d| d.seconds), Ok(86_400));
        assert_eq!(parse_duration("72h").map(|d| d.seconds), Ok(259_200));
        assert_eq!(parse_duration("90s").map(|d| d.seconds), Ok(90));
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(
            duration(&Some(prost_types::Duration {
                seconds: 1_209_600,
                nanos: 0
            })),
            "14d"
        );
    }

    #[test]
    fn items_take_the_quantity_after_the_last_colon() {
        let item = parse_item("A:B:3").ok();
        assert_eq!(item.map(|i| (i.sku, i.quantity)), Some(("A:B".into(), 3)));
        assert!(parse_item("TEE").is_err());
        assert!(parse_item("TEE:two").is_err());
    }

    #[test]
    fn tables_align_columns_and_right_align_amounts() {
        let mut t = Table::new(&["name", ">amount"]);
        t.row(vec!["a".into(), "5.00 EUR".into()]);
        t.row(vec!["longer".into(), "12,345.00 EUR".into()]);
        assert_eq!(
            t.render(),
            "name           amount\na            5.00 EUR\nlonger  12,345.00 EUR\n"
        );
    }

    #[test]
    fn counts_use_the_singular_for_one() {
        assert_eq!(plural(1, "return", "returns"), "1 return");
        assert_eq!(plural(0, "return", "returns"), "0 returns");
    }
}
