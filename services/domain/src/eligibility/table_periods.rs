//! The decision table, third part: statutory periods counted in the customer's calendar, without a
//! time zone, and Israel's extended cancellation right. Delivery (see `base()`) is Sunday
//! 2026-03-01 10:00 UTC; the contract's no-fault window is cut to 7 days so that only the statute
//! decides.

use super::*;

fn short_window(t: &mut ContractTerms) {
    t.return_window_days = 7;
}

/// An accepted withdrawal the contract no longer covers.
fn in_time(name: &'static str, jurisdiction: Jurisdiction, when: &'static str) -> Case {
    Case {
        name,
        jurisdiction,
        contract: short_window,
        when: When::At(when),
        basis: Basis::Statute,
        gap: true,
        codes: &[ReturnWindowExpired, StatutoryWithdrawal],
        ..base()
    }
}

/// A withdrawal after its period and after the contract window.
fn too_late(name: &'static str, jurisdiction: Jurisdiction, when: &'static str) -> Case {
    Case {
        outcome: Outcome::Rejected,
        basis: Basis::Both,
        gap: false,
        codes: &[ReturnWindowExpired, StatutoryWindowExpired],
        ..in_time(name, jurisdiction, when)
    }
}

pub(super) fn period_cases() -> Vec<Case> {
    let (eu, gb, il) = (Jurisdiction::Eu, Jurisdiction::Gb, Jurisdiction::Il);
    vec![
        // GB: no run-on, so the Sunday last day ends the period, in London time.
        Case {
            zone: Some("Europe/London"),
            ..in_time(
                "a GB cancellation a minute before the end of the Sunday last day is in time",
                gb,
                "2026-03-15T23:59:00Z",
            )
        },
        Case {
            zone: Some("Europe/London"),
            ..too_late(
                "a GB cancellation on the Monday after a Sunday last day is too late: no run-on",
                gb,
                "2026-03-16T00:00:00Z",
            )
        },
        // Israel: Saturday runs on to Sunday, Jerusalem time (IST, UTC+2, before the spring change).
        Case {
            zone: Some("Asia/Jerusalem"),
            delivered: "2026-02-28T08:00:00Z",
            ..in_time(
                "an Israeli cancellation on the Sunday a Saturday last day runs on to is in time",
                il,
                "2026-03-15T23:59:00+02:00",
            )
        },
        Case {
            zone: Some("Asia/Jerusalem"),
            delivered: "2026-02-28T08:00:00Z",
            ..too_late(
                "an Israeli cancellation at the start of the Monday after is too late",
                il,
                "2026-03-16T00:00:00+02:00",
            )
        },
        // Kiritimati (UTC+14): the local date is a day ahead of UTC.
        Case {
            zone: Some("Pacific/Kiritimati"),
            delivered: "2026-03-02T09:59:00Z",
            ..in_time(
                "a Kiritimati delivery counts from its local date, a day ahead of UTC",
                eu,
                "2026-03-16T09:59:00Z",
            )
        },
        Case {
            zone: Some("Pacific/Kiritimati"),
            delivered: "2026-03-02T09:59:00Z",
            ..too_late(
                "the Kiritimati period ends at the local start of the day after the run-on Monday",
                eu,
                "2026-03-16T10:00:00Z",
            )
        },
        // No zone: the delivery's date at UTC+14 is Monday 2 March, so the last day is Monday 16,
        // whose end at UTC-12 is 2026-03-17T12:00Z.
        Case {
            zone: None,
            codes: &[
                ReturnWindowExpired,
                StatutoryWithdrawal,
                StatutoryPeriodWithoutTimeZone,
            ],
            ..in_time(
                "without a time zone the period runs to the end of its last day anywhere on Earth",
                eu,
                "2026-03-17T11:59:00Z",
            )
        },
        Case {
            zone: None,
            codes: &[
                ReturnWindowExpired,
                StatutoryWindowExpired,
                StatutoryPeriodWithoutTimeZone,
            ],
            ..too_late(
                "without a time zone the period ends when the last day has ended everywhere",
                eu,
                "2026-03-17T12:00:00Z",
            )
        },
        // Israel's extended right: four months from Sunday 1 March is Wednesday 1 July, IDT (UTC+3).
        Case {
            zone: Some("Asia/Jerusalem"),
            extended: true,
            codes: &[
                ReturnWindowExpired,
                StatutoryWithdrawal,
                ExtendedCancellationRight,
            ],
            ..in_time(
                "an Israeli senior customer may cancel until the end of the fourth month",
                il,
                "2026-07-01T23:59:00+03:00",
            )
        },
        Case {
            zone: Some("Asia/Jerusalem"),
            extended: true,
            codes: &[
                ReturnWindowExpired,
                StatutoryWindowExpired,
                ExtendedCancellationRight,
            ],
            ..too_late(
                "an Israeli senior customer's four months end with their last day",
                il,
                "2026-07-02T00:00:00+03:00",
            )
        },
        Case {
            extended: true,
            codes: &[
                ReturnWindowExpired,
                StatutoryWindowExpired,
                ExtendedCancellationNotInProfile,
            ],
            ..too_late(
                "the extended cancellation flag gives an EU customer nothing beyond the 14 days",
                eu,
                "2026-04-01T10:00:00Z",
            )
        },
    ]
}
