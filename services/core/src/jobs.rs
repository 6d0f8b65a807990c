//! Background work and its shutdown: every task a process spawns (event streams, periodic jobs) is
//! tracked, and one token tells them all to stop, so a shutdown ends streams at once and waits for
//! jobs to finish the round they are in.

use crate::clock::Clock;
use chrono::TimeDelta;
use returnbridge_store::Store;
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The tasks of one process and the token that stops them.
#[derive(Clone, Default)]
pub struct Background {
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl Background {
    /// Runs `task` as tracked background work. It should end soon after [`Self::stopping`] resolves.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Runs `round` every `interval` (the first after one interval) until shutdown; a round that has
    /// started finishes.
    pub fn every<F, R>(&self, interval: Duration, mut round: F)
    where
        F: FnMut() -> R + Send + 'static,
        R: Future<Output = ()> + Send,
    {
        let shutdown = self.shutdown.clone();
        self.tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(interval) => {}
                    () = shutdown.cancelled() => return,
                }
                round().await;
            }
        });
    }

    /// Tells every task to stop.
    pub fn stop(&self) {
        self.shutdown.cancel();
    }

    /// Resolves once shutdown has begun.
    pub async fn stopping(&self) {
        self.shutdown.cancelled().await;
    }

    /// Whether shutdown has begun.
    pub fn is_stopping(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    /// Waits for every task to end, after [`Self::stop`]; no new task may be spawned after this.
    pub async fn finished(&self) {
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// How many idempotency records one statement deletes: short statements never hold locks for long.
const PURGE_BATCH: u32 = 1000;

/// One round of the idempotency purge: deletes records older than `retention`, in batches, and logs
/// how many went. Replicas may overlap: each record is deleted once, by whoever gets to it.
pub async fn purge_idempotency_records(
    store: &dyn Store,
    clock: &dyn Clock,
    retention: TimeDelta,
    background: &Background,
) {
    let before = clock.now() - retention;
    let mut purged = 0;
    loop {
        match store.purge_idempotency_records(before, PURGE_BATCH).await {
            Ok(n) => {
                purged += n;
                if n < u64::from(PURGE_BATCH) || background.is_stopping() {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "idempotency purge failed; retrying next round");
                break;
            }
        }
    }
    if purged > 0 {
        tracing::info!(purged, %before, "purged idempotency records past the retention");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn periodic_work_runs_each_interval_and_stops_with_its_round_finished() {
        let background = Background::default();
        let rounds = Arc::new(AtomicUsize::new(0));
        let counted = rounds.clone();
        background.every(Duration::from_secs(10), move || {
            let counted = counted.clone();
            async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        tokio::time::sleep(Duration::from_secs(25)).await;
        assert_eq!(rounds.load(Ordering::SeqCst), 2);
        // Mid-round (the third started at 32 s): stopping lets it finish, then no more start.
        tokio::time::sleep(Duration::from_millis(7_500)).await;
        background.stop();
        background.finished().await;
        assert_eq!(rounds.load(Ordering::SeqCst), 3);
    }
}
