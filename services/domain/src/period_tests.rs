use super::*;
use chrono_tz::{America, Asia, Europe, Pacific};

/// Regulation 1182/71: a Saturday or Sunday last day runs on to Monday.
const EU: Counting = Counting {
    rest_days: &[Weekday::Sat, Weekday::Sun],
    citation: "EU",
};
/// Israel as profiled: a Saturday last day runs on to Sunday.
const IL: Counting = Counting {
    rest_days: &[Weekday::Sat],
    citation: "IL",
};
/// GB's withdrawal period: no run-on.
const FLAT: Counting = Counting {
    rest_days: &[],
    citation: "GB",
};

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

struct Case {
    name: &'static str,
    zone: Option<Tz>,
    delivered: &'static str,
    length: Length,
    counting: Counting,
    /// The last day after any run-on.
    last_day: &'static str,
    /// The last day as counted, when it ran on.
    ran_on_from: Option<&'static str>,
    /// The first instant outside the period.
    ends_before: &'static str,
}

const D14: Length = Length::Days(14);

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "Berlin: spring forward inside the period moves the end to summer time",
            zone: Some(Europe::Berlin),
            delivered: "2026-03-20T12:00:00Z",
            length: D14,
            counting: EU,
            last_day: "2026-04-03",
            ran_on_from: None,
            ends_before: "2026-04-03T22:00:00Z",
        },
        Case {
            name: "Berlin: a 23-hour last day (spring forward) without run-on ends at summer-time midnight",
            zone: Some(Europe::Berlin),
            delivered: "2026-03-15T12:00:00Z",
            length: D14,
            counting: FLAT,
            last_day: "2026-03-29",
            ran_on_from: None,
            ends_before: "2026-03-29T22:00:00Z",
        },
        Case {
            name: "Berlin: the same Sunday last day runs on to Monday under Regulation 1182/71",
            zone: Some(Europe::Berlin),
            delivered: "2026-03-15T12:00:00Z",
            length: D14,
            counting: EU,
            last_day: "2026-03-30",
            ran_on_from: Some("2026-03-29"),
            ends_before: "2026-03-30T22:00:00Z",
        },
        Case {
            name: "Berlin: a 25-hour last day (fall back) without run-on ends at winter-time midnight",
            zone: Some(Europe::Berlin),
            delivered: "2026-10-11T12:00:00Z",
            length: D14,
            counting: FLAT,
            last_day: "2026-10-25",
            ran_on_from: None,
            ends_before: "2026-10-25T23:00:00Z",
        },
        Case {
            name: "Berlin: fall back on a Sunday last day, run on to Monday",
            zone: Some(Europe::Berlin),
            delivered: "2026-10-11T12:00:00Z",
            length: D14,
            counting: EU,
            last_day: "2026-10-26",
            ran_on_from: Some("2026-10-25"),
            ends_before: "2026-10-26T23:00:00Z",
        },
        Case {
            name: "Berlin: fall back inside the period",
            zone: Some(Europe::Berlin),
            delivered: "2026-10-20T10:00:00Z",
            length: D14,
            counting: EU,
            last_day: "2026-11-03",
            ran_on_from: None,
            ends_before: "2026-11-03T23:00:00Z",
        },
        Case {
            name: "Berlin: a delivery late on the UTC day is already the next local day",
            zone: Some(Europe::Berlin),
            delivered: "2026-06-30T22:30:00Z",
            length: D14,
            counting: EU,
            last_day: "2026-07-15",
            ran_on_from: None,
            ends_before: "2026-07-15T22:00:00Z",
        },
        Case {
            name: "London: spring forward on the Sunday last day (GB: no run-on)",
            zone: Some(Europe::London),
            delivered: "2026-03-15T12:00:00Z",
            length: D14,
            counting: FLAT,
            last_day: "2026-03-29",
            ran_on_from: None,
            ends_before: "2026-03-29T23:00:00Z",
        },
        Case {
            name: "London: fall back on the Sunday last day (GB: no run-on)",
            zone: Some(Europe::London),
            delivered: "2026-10-11T12:00:00Z",
            length: D14,
            counting: FLAT,
            last_day: "2026-10-25",
            ran_on_from: None,
            ends_before: "2026-10-26T00:00:00Z",
        },
        Case {
            name: "London: half past midnight in summer time is the next local day",
            zone: Some(Europe::London),
            delivered: "2026-06-30T23:30:00Z",
            length: D14,
            counting: FLAT,
            last_day: "2026-07-15",
            ran_on_from: None,
            ends_before: "2026-07-15T23:00:00Z",
        },
        Case {
            name: "Jerusalem: spring forward (a Friday) on the last day; Friday does not run on",
            zone: Some(Asia::Jerusalem),
            delivered: "2026-03-13T10:00:00Z",
            length: D14,
            counting: IL,
            last_day: "2026-03-27",
            ran_on_from: None,
            ends_before: "2026-03-27T21:00:00Z",
        },
        Case {
            name: "Jerusalem: fall back on the Sunday last day",
            zone: Some(Asia::Jerusalem),
            delivered: "2026-10-11T10:00:00Z",
            length: D14,
            counting: IL,
            last_day: "2026-10-25",
            ran_on_from: None,
            ends_before: "2026-10-25T22:00:00Z",
        },
        Case {
            name: "Jerusalem: a Saturday last day runs on to Sunday",
            zone: Some(Asia::Jerusalem),
            delivered: "2026-02-28T08:00:00Z",
            length: D14,
            counting: IL,
            last_day: "2026-03-15",
            ran_on_from: Some("2026-03-14"),
            ends_before: "2026-03-15T22:00:00Z",
        },
        Case {
            name: "Jerusalem: four months across spring forward end in summer time",
            zone: Some(Asia::Jerusalem),
            delivered: "2026-03-01T10:00:00Z",
            length: Length::Months(4),
            counting: IL,
            last_day: "2026-07-01",
            ran_on_from: None,
            ends_before: "2026-07-01T21:00:00Z",
        },
        Case {
            name: "New York: spring forward on the last day",
            zone: Some(America::New_York),
            delivered: "2026-02-22T15:00:00Z",
            length: D14,
            counting: FLAT,
            last_day: "2026-03-08",
            ran_on_from: None,
            ends_before: "2026-03-09T04:00:00Z",
        },
        Case {
            name: "New York: fall back on the last day",
            zone: Some(America::New_York),
            delivered: "2026-10-18T15:00:00Z",
            length: D14,
            counting: FLAT,
            last_day: "2026-11-01",
            ran_on_from: None,
            ends_before: "2026-11-02T05:00:00Z",
        },
        Case {
            name: "New York: late evening local is still the earlier local date",
            zone: Some(America::New_York),
            delivered: "2026-06-02T03:30:00Z",
            length: D14,
            counting: EU,
            last_day: "2026-06-15",
            ran_on_from: None,
            ends_before: "2026-06-16T04:00:00Z",
        },
        Case {
            name: "Kiritimati: a minute before local midnight counts from that local date",
            zone: Some(Pacific::Kiritimati),
            delivered: "2026-03-02T09:59:00Z",
            length: D14,
            counting: EU,
            last_day: "2026-03-16",
            ran_on_from: None,
            ends_before: "2026-03-16T10:00:00Z",
        },
        Case {
            name: "Kiritimati: local midnight is the next date, a day ahead of UTC",
            zone: Some(Pacific::Kiritimati),
            delivered: "2026-03-02T10:00:00Z",
            length: D14,
            counting: EU,
            last_day: "2026-03-17",
            ran_on_from: None,
            ends_before: "2026-03-17T10:00:00Z",
        },
        Case {
            name: "Havana: a skipped local midnight (clocks jump 00:00 to 01:00) is read at the offset before",
            zone: Some(America::Havana),
            delivered: "2026-02-21T17:00:00Z",
            length: D14,
            counting: FLAT,
            last_day: "2026-03-07",
            ran_on_from: None,
            ends_before: "2026-03-08T05:00:00Z",
        },
        Case {
            name: "Havana: a doubled local midnight (clocks fall back 01:00 to 00:00) takes the later one",
            zone: Some(America::Havana),
            delivered: "2026-10-17T16:00:00Z",
            length: D14,
            counting: FLAT,
            last_day: "2026-10-31",
            ran_on_from: None,
            ends_before: "2026-11-01T05:00:00Z",
        },
        Case {
            name: "months: 31 January plus one month ends on the last day of February",
            zone: Some(Europe::Berlin),
            delivered: "2026-01-31T12:00:00Z",
            length: Length::Months(1),
            counting: FLAT,
            last_day: "2026-02-28",
            ran_on_from: None,
            ends_before: "2026-02-28T23:00:00Z",
        },
        Case {
            name: "months: that Saturday runs on to Monday under Regulation 1182/71",
            zone: Some(Europe::Berlin),
            delivered: "2026-01-31T12:00:00Z",
            length: Length::Months(1),
            counting: EU,
            last_day: "2026-03-02",
            ran_on_from: Some("2026-02-28"),
            ends_before: "2026-03-02T23:00:00Z",
        },
        Case {
            name: "no zone: the date at UTC+14, the end of the last day at UTC-12",
            zone: None,
            delivered: "2026-03-01T10:00:00Z",
            length: D14,
            counting: EU,
            last_day: "2026-03-16",
            ran_on_from: None,
            ends_before: "2026-03-17T12:00:00Z",
        },
        Case {
            name: "no zone: a Saturday last day runs on to Monday",
            zone: None,
            delivered: "2026-03-14T09:59:00Z",
            length: D14,
            counting: EU,
            last_day: "2026-03-30",
            ran_on_from: Some("2026-03-28"),
            ends_before: "2026-03-31T12:00:00Z",
        },
    ]
}

#[test]
fn every_period_in_the_table_ends_where_the_law_ends_it() {
    let mut failures = Vec::new();
    for c in cases() {
        let got = period_end(at(c.delivered), c.zone, c.length, &c.counting);
        let want = PeriodEnd {
            last_day: date(c.last_day),
            ran_on_from: c.ran_on_from.map(date),
            ends_before: at(c.ends_before),
            zone: c.zone,
        };
        if got != want {
            failures.push(format!("{}:\n  got  {got:?}\n  want {want:?}", c.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_period_is_open_until_just_before_the_start_of_the_next_day() {
    let end = period_end(at("2026-03-15T12:00:00Z"), Some(Europe::London), D14, &FLAT);
    let last_nanosecond = end.ends_before - TimeDelta::nanoseconds(1);
    assert!(end.is_open_at(last_nanosecond));
    assert!(!end.is_open_at(end.ends_before));
}

#[test]
fn without_a_zone_the_end_is_never_before_the_end_in_any_zone() {
    let deliveries = [
        "2026-03-01T00:00:00Z",
        "2026-03-01T09:59:59Z",
        "2026-03-01T10:00:00Z",
        "2026-03-01T11:59:59Z",
        "2026-03-01T12:00:00Z",
        "2026-03-14T23:30:00Z",
        "2026-10-17T16:00:00Z",
    ];
    for delivered in deliveries.map(at) {
        for counting in [EU, IL, FLAT] {
            for length in [D14, Length::Months(4)] {
                let generous = period_end(delivered, None, length, &counting).ends_before;
                for zone in chrono_tz::TZ_VARIANTS {
                    let end = period_end(delivered, Some(zone), length, &counting).ends_before;
                    assert!(
                        end <= generous,
                        "{zone} {delivered} {length}: {end} > {generous}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_period_past_the_end_of_time_stays_open() {
    let end = period_end(DateTime::<Utc>::MAX_UTC, Some(Europe::Berlin), D14, &EU);
    assert_eq!(end.ends_before, DateTime::<Utc>::MAX_UTC);
    let end = period_end(DateTime::<Utc>::MAX_UTC, None, Length::Months(72), &EU);
    assert!(end.is_open_at(DateTime::<Utc>::MAX_UTC - TimeDelta::days(1)));
}

#[test]
fn the_end_reads_as_a_local_day_with_its_instant() {
    let end = period_end(at("2026-03-15T12:00:00Z"), Some(Europe::Berlin), D14, &EU);
    assert_eq!(
        end.to_string(),
        "the end of Mon 2026-03-30 Europe/Berlin, run on from Sun 2026-03-29 (before \
         2026-03-30T22:00:00Z)"
    );
    let end = period_end(at("2026-03-01T10:00:00Z"), None, D14, &FLAT);
    assert_eq!(
        end.to_string(),
        "the end of Mon 2026-03-16 anywhere on Earth (before 2026-03-17T12:00:00Z)"
    );
}

#[test]
fn time_zones_parse_by_their_exact_iana_names() {
    assert_eq!(parse_time_zone("Asia/Jerusalem"), Ok(Asia::Jerusalem));
    assert_eq!(parse_time_zone("UTC"), Ok(Tz::UTC));
    for bad in [
        "",
        "asia/jerusalem",
        "Mars/Olympus_Mons",
        "+03:00",
        "Europe/Berlin ",
    ] {
        assert!(parse_time_zone(bad).is_err(), "{bad:?}");
    }
}
