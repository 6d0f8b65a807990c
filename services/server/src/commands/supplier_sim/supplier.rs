//! What the simulated supplier does with each delivery, whichever way it came: a repeat of a
//! request it already took is acknowledged and nothing more (delivery is at least once); otherwise
//! the failure and hang rates pick its fate, and a request it takes is answered in the background.

use super::Finish;
use super::answer::Answerer;
use super::journal::Journal;
use returnbridge_proto::v1 as pb;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What the transport answers the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reception {
    /// Taken: 204 / OK.
    Taken,
    /// A repeat of a request already taken: 204 / OK again, and nothing else.
    Repeat,
    /// Failed on purpose: 500 / UNAVAILABLE.
    Fail,
    /// Never answered: the connection is held until the gateway gives up.
    Hang,
}

/// Where a request taken stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Waiting for its answer.
    Answering,
    /// Answered.
    Answered,
}

/// The failure and hang rates.
pub struct Fate {
    fail_rate: f64,
    hang_rate: f64,
}

impl Fate {
    /// Fails `fail_rate` of deliveries and hangs `hang_rate` of them.
    pub fn new(fail_rate: f64, hang_rate: f64) -> Self {
        Self {
            fail_rate,
            hang_rate,
        }
    }

    /// The fate of a delivery for a roll in [0, 1).
    fn of(&self, roll: f64) -> Reception {
        if roll < self.fail_rate {
            Reception::Fail
        } else if roll < self.fail_rate + self.hang_rate {
            Reception::Hang
        } else {
            Reception::Taken
        }
    }
}

/// The simulated supplier.
pub struct Supplier {
    fate: Fate,
    answerer: Answerer,
    journal: Journal,
    /// Requests taken, by id (the `webhook-id`).
    taken: Mutex<HashMap<String, Progress>>,
    answered: AtomicU64,
    count: Option<u64>,
    finish: mpsc::Sender<Finish>,
}

impl Supplier {
    /// A supplier answering with `answerer`; after `count` answers it asks to finish.
    pub fn new(
        fate: Fate,
        answerer: Answerer,
        journal: Journal,
        count: Option<u64>,
        finish: mpsc::Sender<Finish>,
    ) -> Self {
        Self {
            fate,
            answerer,
            journal,
            taken: Mutex::new(HashMap::new()),
            answered: AtomicU64::new(0),
            count,
            finish,
        }
    }

    /// Where it says what it does.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Receives one delivery (already verified) and says how to answer the gateway.
    pub fn receive(self: &Arc<Self>, request: pb::ReceiveReturnRequestRequest) -> Reception {
        let id = request.request_id.clone();
        let reception = {
            let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
            match taken.get(&id) {
                Some(progress) => {
                    self.journal.repeat(&request, *progress);
                    return Reception::Repeat;
                }
                None => {
                    let fate = self.fate.of(rand::random::<f64>());
                    if fate == Reception::Taken {
                        taken.insert(id.clone(), Progress::Answering);
                    }
                    fate
                }
            }
        };
        self.journal.received(&request, reception);
        if reception == Reception::Taken {
            let supplier = self.clone();
            tokio::spawn(async move { supplier.answer(request).await });
        }
        reception
    }

    /// Answers a request taken, after the delay; counts it, and finishes when the count is reached.
    async fn answer(&self, request: pb::ReceiveReturnRequestRequest) {
        match self.answerer.answer(&request).await {
            Ok(answer) => {
                self.taken
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(request.request_id.clone(), Progress::Answered);
                self.journal.answered(&request, &answer);
                let n = self.answered.fetch_add(1, Ordering::SeqCst) + 1;
                if self.count == Some(n) {
                    let _ = self.finish.send(Finish::Counted(n)).await;
                }
            }
            Err(status) => {
                self.journal.not_answered(&request, &status);
                if super::answer::refuses_the_key(&status) {
                    let e = crate::commands::client::explain(status)
                        .context("the server refused the supplier key");
                    let _ = self.finish.send(Finish::Fatal(e)).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rates_split_the_rolls_into_failures_hangs_and_the_rest() {
        let fate = Fate::new(0.2, 0.3);
        assert_eq!(fate.of(0.0), Reception::Fail);
        assert_eq!(fate.of(0.19), Reception::Fail);
        assert_eq!(fate.of(0.2), Reception::Hang);
        assert_eq!(fate.of(0.49), Reception::Hang);
        assert_eq!(fate.of(0.5), Reception::Taken);
        assert_eq!(Fate::new(0.0, 0.0).of(0.0), Reception::Taken);
        assert_eq!(Fate::new(1.0, 0.0).of(0.999), Reception::Fail);
    }
}
