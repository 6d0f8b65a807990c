//! Statutory periods counted as the law counts them, in the customer's calendar.
//!
//! Regulation (EEC, Euratom) No 1182/71 art. 3, which Directive 2011/83/EU recital 41 applies to the
//! withdrawal period, and the other profiles' laws (see [`crate::statute`]) agree on the core:
//! the day of the event (delivery) is not counted; a period of N days ends at the end of the Nth day
//! after it; a period of N months ends at the end of the day of the last month with the same date as
//! the day of delivery, or the last day of that month when it has no such date (31 January + 1 month
//! ends on 28/29 February). Some laws then run a period on past a last day that is not a working day
//! ([`Counting::rest_days`]). Days are the customer's local calendar days, so the end is "before the
//! start of the next local day", which also covers daylight-saving changes: a local day may last 23 or
//! 25 hours. Public holidays are not modelled (they differ by region and year); see the profiles.
//!
//! Contract windows are the supplier's promise and are counted in instants elsewhere
//! ([`crate::statute::add_days`]); only the law's periods are counted here.

use chrono::{
    DateTime, Datelike, Days, LocalResult, Months, NaiveDate, NaiveTime, Offset, SecondsFormat,
    TimeDelta, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use std::fmt;

/// A period's length as the law states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// Calendar days after the day of delivery.
    Days(u32),
    /// Calendar months after the day of delivery.
    Months(u32),
}

impl fmt::Display for Length {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Length::Days(n) => write!(f, "{n}d"),
            Length::Months(n) => write!(f, "{n} months"),
        }
    }
}

/// How a law treats a period whose last day falls on a day off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counting {
    /// Weekdays on which a period may not end: a last day on one of them runs on to the end of the
    /// next day that is not one of them. Empty: the period ends on its last day, whatever day it is.
    pub rest_days: &'static [Weekday],
    /// The provision that says how the period is counted, as cited in decisions.
    pub citation: &'static str,
}

/// The latest local time on Earth (UTC+14, Pacific/Kiritimati): the delivery's latest calendar date.
const EARTH_LATEST_OFFSET: TimeDelta = TimeDelta::hours(14);
/// The earliest local time on Earth (UTC-12): where a calendar day ends last.
const EARTH_EARLIEST_OFFSET: TimeDelta = TimeDelta::hours(-12);

/// The end of a statutory period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodEnd {
    /// The last day of the period on the customer's calendar, after any run-on past rest days.
    pub last_day: NaiveDate,
    /// The last day before running on, when the counted last day was a rest day.
    pub ran_on_from: Option<NaiveDate>,
    /// The first instant outside the period: the start of the local day after `last_day`.
    pub ends_before: DateTime<Utc>,
    /// The zone counted in; `None` when none was given and the most generous reading was taken.
    pub zone: Option<Tz>,
}

impl PeriodEnd {
    /// Whether the period still runs at `now`: up to, not including, the start of the next day.
    pub fn is_open_at(&self, now: DateTime<Utc>) -> bool {
        now < self.ends_before
    }
}

impl fmt::Display for PeriodEnd {
    /// `the end of Mon 2026-03-16 Europe/Berlin (before 2026-03-16T23:00:00Z)`, naming the rest day it
    /// ran on from and, without a zone, that the latest end on Earth was taken.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = |d: NaiveDate| format!("{} {d}", d.weekday());
        let zone = self
            .zone
            .map_or_else(|| "anywhere on Earth".to_owned(), |z| z.name().to_owned());
        write!(f, "the end of {} {zone}", day(self.last_day))?;
        if let Some(from) = self.ran_on_from {
            write!(f, ", run on from {}", day(from))?;
        }
        let before = self.ends_before.to_rfc3339_opts(SecondsFormat::Secs, true);
        write!(f, " (before {before})")
    }
}

/// Counts a period of `length` from `delivered_at` in `zone` under `counting`.
///
/// Without a zone, the reading most generous to the customer: the delivery's date is the latest
/// calendar date the delivery instant has anywhere (UTC+14), and the last day ends where a day ends
/// last (UTC-12). Each half alone is a real zone's reading; together they bound every zone's end from
/// above (by up to 26 hours beyond the nearest real one), so no customer anywhere gets less.
///
/// Saturates at the end of time instead of failing: a period that would end after the year 262143 is,
/// for every purpose here, open.
pub fn period_end(
    delivered_at: DateTime<Utc>,
    zone: Option<Tz>,
    length: Length,
    counting: &Counting,
) -> PeriodEnd {
    let utc = delivered_at.naive_utc();
    let offset = match zone {
        Some(z) => TimeDelta::seconds(i64::from(
            z.offset_from_utc_datetime(&utc).fix().local_minus_utc(),
        )),
        None => EARTH_LATEST_OFFSET,
    };
    // Checked rather than `with_timezone(..).date_naive()`, which panics at the end of time.
    let Some(delivery_day) = utc.checked_add_signed(offset).map(|n| n.date()) else {
        return open_forever(zone);
    };
    let counted = match length {
        Length::Days(n) => delivery_day.checked_add_days(Days::new(u64::from(n))),
        Length::Months(n) => delivery_day.checked_add_months(Months::new(n)),
    };
    let Some(counted) = counted else {
        return open_forever(zone);
    };
    let mut last_day = counted;
    // A week of rest days would never end; seven steps reach a working day if there is one.
    for _ in 0..7 {
        if !counting.rest_days.contains(&last_day.weekday()) {
            break;
        }
        match last_day.succ_opt() {
            Some(next) => last_day = next,
            None => return open_forever(zone),
        }
    }
    let ends_before = last_day.succ_opt().and_then(|next| match zone {
        Some(z) => start_of_day(z, next),
        None => (next.and_time(NaiveTime::MIN))
            .checked_sub_signed(EARTH_EARLIEST_OFFSET)
            .map(|n| n.and_utc()),
    });
    PeriodEnd {
        last_day,
        ran_on_from: (last_day != counted).then_some(counted),
        ends_before: ends_before.unwrap_or(DateTime::<Utc>::MAX_UTC),
        zone,
    }
}

fn open_forever(zone: Option<Tz>) -> PeriodEnd {
    PeriodEnd {
        last_day: NaiveDate::MAX,
        ran_on_from: None,
        ends_before: DateTime::<Utc>::MAX_UTC,
        zone,
    }
}

/// The instant local `day` begins in `zone`. Where a daylight-saving or offset change makes local
/// midnight ambiguous (clocks fall back over it) or skip it (clocks jump over it), the later of the
/// two readings is taken: the period it ends is then the longer one, which is never below the law.
fn start_of_day(zone: Tz, day: NaiveDate) -> Option<DateTime<Utc>> {
    let midnight = day.and_time(NaiveTime::MIN);
    match zone.from_local_datetime(&midnight) {
        LocalResult::Single(t) => Some(t.to_utc()),
        LocalResult::Ambiguous(a, b) => Some(a.to_utc().max(b.to_utc())),
        LocalResult::None => {
            // Skipped: the day begins at the jump, which is midnight read at the offset before it,
            // the smaller of the offsets around (clocks only skip forward). Two offset changes within
            // a day of each other around a skipped midnight are not known in the database.
            let offset_near = |n: Option<chrono::NaiveDateTime>| {
                n.map(|n| zone.offset_from_utc_datetime(&n).fix().local_minus_utc())
            };
            let before = offset_near(midnight.checked_sub_signed(TimeDelta::days(1)));
            let after = offset_near(midnight.checked_add_signed(TimeDelta::days(1)));
            let smaller = before.into_iter().chain(after).min()?;
            midnight
                .checked_sub_signed(TimeDelta::seconds(i64::from(smaller)))
                .map(|n| n.and_utc())
        }
    }
}

/// Parses an IANA time zone name (`Europe/Berlin`), exactly as the database spells it.
pub fn parse_time_zone(raw: &str) -> Result<Tz, String> {
    raw.parse::<Tz>().map_err(|_| {
        format!(
            "{raw:?} is not an IANA time zone name; send the customer's zone as the tz database names \
             it, such as \"Europe/Berlin\" or \"America/New_York\", or leave it empty"
        )
    })
}

#[cfg(test)]
#[path = "period_tests.rs"]
mod tests;
