//! When a failed delivery is tried again. Pure: the dispatcher passes the jitter in, so the schedule
//! is tested exactly.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// How a failed attempt failed, as far as the schedule cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No answer in time: the supplier may be overloaded, so it gets at least [`SLOW_DOWN`].
    Timeout,
    /// HTTP 429 or gRPC RESOURCE_EXHAUSTED: the supplier asked us to slow down.
    TooManyRequests,
    /// Anything else (a 5xx, a refused connection, ...).
    Other,
}

/// The least wait after a timeout or a 429, whatever the schedule says.
pub const SLOW_DOWN: Duration = Duration::from_secs(60);

/// How far each delay is spread either way, so suppliers that were down together are not hit by
/// every retry at once when they come back.
pub const JITTER: f64 = 0.2;

/// The waits before each retry: the n-th failure waits the n-th delay; past the last, the message
/// has failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl Default for RetrySchedule {
    /// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 28 hours of trying, so a supplier that is down
    /// for a day still gets the message.
    fn default() -> Self {
        Self::new(
            [5, 300, 1800, 7200, 18_000, 36_000, 36_000]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        )
    }
}

impl RetrySchedule {
    /// A schedule of these delays (empty: the first failure is final).
    pub fn new(delays: Vec<Duration>) -> Self {
        Self { delays }
    }

    /// The delays.
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// How long to wait after the `failures`-th failed attempt (counting from 1, since the last
    /// redelivery), or `None` when the retries ran out. `jitter` is uniform in [-1, 1] and spreads
    /// the delay by up to ±20%. A supplier's `Retry-After` is honoured within [base, 2 x base], so
    /// it can slow us down but never stall a message or make us hammer; a timeout or a 429 waits at
    /// least [`SLOW_DOWN`].
    pub fn next_delay(
        &self,
        failures: u32,
        kind: FailureKind,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        let index = usize::try_from(failures.checked_sub(1)?).ok()?;
        let base = *self.delays.get(index)?;
        let delay = match retry_after {
            Some(asked) => asked.clamp(base, base.saturating_mul(2)),
            None => base.mul_f64(1.0 + JITTER * jitter.clamp(-1.0, 1.0)),
        };
        Some(match kind {
            FailureKind::Timeout | FailureKind::TooManyRequests => delay.max(SLOW_DOWN),
            FailureKind::Other => delay,
        })
    }
}

/// A `Retry-After` value: delay-seconds, or an HTTP date (read against `now`). Anything else, or a
/// date in the past, is no advice.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    (at - now).to_std().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn without_jitter_the_default_schedule_is_5s_5min_30min_2h_5h_10h_10h_then_failed() {
        let schedule = RetrySchedule::default();
        let waits: Vec<_> = (1..=8)
            .map(|n| schedule.next_delay(n, FailureKind::Other, None, 0.0))
            .collect();
        assert_eq!(
            waits,
            vec![
                Some(S(5)),
                Some(S(300)),
                Some(S(1800)),
                Some(S(7200)),
                Some(S(18_000)),
                Some(S(36_000)),
                Some(S(36_000)),
                None
            ]
        );
    }

    #[test]
    fn jitter_spreads_a_delay_by_at_most_twenty_percent_either_way() {
        let schedule = RetrySchedule::default();
        let wait = |j| schedule.next_delay(2, FailureKind::Other, None, j);
        assert_eq!(wait(-1.0), Some(S(240)));
        assert_eq!(wait(1.0), Some(S(360)));
        assert_eq!(wait(7.0), Some(S(360)), "out-of-range jitter is clamped");
    }

    #[test]
    fn a_timeout_or_a_429_waits_at_least_a_minute() {
        let schedule = RetrySchedule::default();
        for kind in [FailureKind::Timeout, FailureKind::TooManyRequests] {
            assert_eq!(schedule.next_delay(1, kind, None, 0.0), Some(S(60)));
            assert_eq!(schedule.next_delay(2, kind, None, 0.0), Some(S(300)));
        }
        assert_eq!(
            schedule.next_delay(1, FailureKind::Other, None, 0.0),
            Some(S(5))
        );
    }

    #[test]
    fn retry_after_is_honoured_between_the_base_and_twice_the_base() {
        let schedule = RetrySchedule::default();
        let after = |asked| schedule.next_delay(2, FailureKind::Other, Some(S(asked)), 1.0);
        assert_eq!(after(400), Some(S(400)));
        assert_eq!(after(10), Some(S(300)), "never sooner than the schedule");
        assert_eq!(after(86_400), Some(S(600)), "never more than twice it");
        // A 429's Retry-After below a minute still waits the minute.
        assert_eq!(
            schedule.next_delay(1, FailureKind::TooManyRequests, Some(S(8)), 0.0),
            Some(S(60))
        );
    }

    #[test]
    fn an_empty_schedule_fails_at_the_first_failure() {
        let schedule = RetrySchedule::new(Vec::new());
        assert_eq!(schedule.next_delay(1, FailureKind::Other, None, 0.0), None);
        assert_eq!(
            RetrySchedule::default().next_delay(0, FailureKind::Other, None, 0.0),
            None
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(parse_retry_after(" 120 ", now), Some(S(120)));
        assert_eq!(
            parse_retry_after("Sun, 01 Mar 2026 12:05:00 GMT", now),
            Some(S(300))
        );
        assert_eq!(
            parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now),
            None
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
