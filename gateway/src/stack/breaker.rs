//! A consecutive-failure circuit breaker per supplier: after 5 failed attempts in a row the supplier
//! is ejected for 30 s x n (n = how many times in a row it was ejected, at most 10 min); then one
//! probe goes through (half-open), and its answer closes the breaker or ejects the supplier again.
//!
//! Why: a supplier that is down would otherwise burn a retry of every one of its messages on every
//! round, pushing them all toward failure while it is down, and keep our connections busy for
//! nothing. While the breaker is open its messages are not sent and not counted as attempts: the
//! dispatcher leaves them unclaimed, and one that raced the opening is held (`BreakerOpen`).

use crate::connector::{Answer, Attempt};
use returnbridge_store::AttemptOutcome;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt};

/// When the breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Failures in a row that open it.
    pub failures_to_open: u32,
    /// The first ejection; the n-th in a row lasts n times this.
    pub ejection: Duration,
    /// The longest ejection.
    pub max_ejection: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            failures_to_open: 5,
            ejection: Duration::from_secs(30),
            max_ejection: Duration::from_secs(600),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant, ejections: u32 },
    HalfOpen { ejections: u32 },
}

/// One supplier's breaker; clones share it.
#[derive(Debug, Clone)]
pub struct Breaker {
    policy: BreakerPolicy,
    state: Arc<Mutex<State>>,
}

/// Whether an attempt may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Send it.
    Go,
    /// Hold it this long.
    Hold(Duration),
}

impl Breaker {
    /// A closed breaker.
    pub fn new(policy: BreakerPolicy) -> Self {
        Self {
            policy,
            state: Arc::new(Mutex::new(State::Closed { failures: 0 })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long attempts are held now (`None`: they may go), without taking the probe.
    pub fn holding(&self) -> Option<Duration> {
        match *self.lock() {
            State::Closed { .. } => None,
            State::Open { until, .. } => {
                let now = Instant::now();
                (until > now).then(|| until - now)
            }
            // A probe is in flight: the rest wait for its answer.
            State::HalfOpen { .. } => Some(self.policy.ejection.min(Duration::from_secs(5))),
        }
    }

    /// Admits an attempt, taking the half-open probe if the ejection is over.
    pub fn admit(&self) -> Admission {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Admission::Go,
            State::Open { until, ejections } => {
                let now = Instant::now();
                if until > now {
                    Admission::Hold(until - now)
                } else {
                    *state = State::HalfOpen { ejections };
                    Admission::Go
                }
            }
            State::HalfOpen { .. } => {
                Admission::Hold(self.policy.ejection.min(Duration::from_secs(5)))
            }
        }
    }

    /// Counts an admitted attempt's result.
    pub fn record(&self, delivered: bool) {
        let mut state = self.lock();
        let now = Instant::now();
        *state = match (*state, delivered) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 >= self.policy.failures_to_open => {
                self.eject(now, 1)
            }
            (State::Closed { failures }, false) => State::Closed {
                failures: failures + 1,
            },
            (State::HalfOpen { ejections }, false) => self.eject(now, ejections.saturating_add(1)),
            // An attempt admitted before the breaker opened: it is open already.
            (open @ State::Open { .. }, false) => open,
        };
    }

    fn eject(&self, now: Instant, ejections: u32) -> State {
        let length = self
            .policy
            .ejection
            .saturating_mul(ejections)
            .min(self.policy.max_ejection);
        tracing::warn!(
            ejections,
            seconds = length.as_secs(),
            "supplier ejected by its circuit breaker"
        );
        State::Open {
            until: now + length,
            ejections,
        }
    }
}

/// Puts a [`Breaker`] in front of a supplier's stack.
#[derive(Debug, Clone)]
pub struct BreakerLayer(pub Breaker);

impl<S> Layer<S> for BreakerLayer {
    type Service = BreakerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BreakerService {
            inner,
            breaker: self.0.clone(),
        }
    }
}

/// See [`BreakerLayer`].
#[derive(Debug, Clone)]
pub struct BreakerService<S> {
    inner: S,
    breaker: Breaker,
}

impl<S> Service<Attempt> for BreakerService<S>
where
    S: Service<Attempt, Response = Answer, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Answer;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Answer, Infallible>> + Send>>;

    /// Always ready: a held attempt must not wait for a concurrency permit to learn it is held.
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, attempt: Attempt) -> Self::Future {
        let breaker = self.breaker.clone();
        let inner = self.inner.clone();
        Box::pin(async move {
            if let Admission::Hold(wait) = breaker.admit() {
                let mut held = Answer::failed(
                    AttemptOutcome::BreakerOpen,
                    format!("circuit breaker open for another {} s", wait.as_secs()),
                );
                held.retry_after = Some(wait);
                return Ok(held);
            }
            let answer = inner.oneshot(attempt).await?;
            breaker.record(answer.delivered);
            Ok(answer)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[tokio::test(start_paused = true)]
    async fn five_failures_in_a_row_open_the_breaker_and_a_success_between_resets_the_count() {
        let b = Breaker::new(BreakerPolicy::default());
        for _ in 0..4 {
            assert_eq!(b.admit(), Admission::Go);
            b.record(false);
        }
        b.record(true);
        for _ in 0..4 {
            b.record(false);
        }
        assert_eq!(b.admit(), Admission::Go, "four in a row keep it closed");
        b.record(false);
        assert_eq!(b.admit(), Admission::Hold(S(30)));
        assert_eq!(b.holding(), Some(S(30)));
    }

    #[tokio::test(start_paused = true)]
    async fn ejections_grow_by_thirty_seconds_up_to_ten_minutes_with_one_probe_at_a_time() {
        let b = Breaker::new(BreakerPolicy::default());
        for _ in 0..5 {
            b.record(false);
        }
        let mut expected = vec![60, 90, 120, 150, 180, 210, 240, 270, 300];
        expected.extend([330, 360, 390, 420, 450, 480, 510, 540, 570, 600, 600, 600]);
        for length in expected {
            tokio::time::advance(S(600)).await;
            assert_eq!(b.admit(), Admission::Go, "the probe");
            assert!(matches!(b.admit(), Admission::Hold(_)), "only one probe");
            b.record(false);
            assert_eq!(b.admit(), Admission::Hold(S(length)));
        }
        tokio::time::advance(S(600)).await;
        assert_eq!(b.admit(), Admission::Go);
        b.record(true);
        assert_eq!(b.holding(), None, "a good probe closes it");
        for _ in 0..5 {
            b.record(false);
        }
        assert_eq!(
            b.admit(),
            Admission::Hold(S(30)),
            "and the ejections start over"
        );
    }
}
