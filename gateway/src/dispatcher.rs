//! The dispatcher: claims due outbox rows and delivers each through its recipient's stack (each
//! supplier's, and each seller's event webhook), at least once, with the message id unchanged across
//! retries and replicas.
//!
//! It wakes when a commit adds rows (the store's signal: in-process on SQLite, `LISTEN` on
//! PostgreSQL) and polls as well (at most every second), so a lost signal only delays. Deliveries
//! run concurrently, each supplier in its own stack; the claim loop never waits for one, and skips
//! suppliers whose queue here is full or whose breaker is open, so their rows stay unclaimed for
//! another replica or for later, without burning attempts.

use crate::connector::{Answer, Attempt, Payload};
use crate::destination::DestinationGuard;
use crate::grpc_connector::GrpcConnector;
use crate::retry::RetrySchedule;
use crate::stack::{Connectors, StackPolicy, SupplierStack};
use crate::webhook::WebhookConnector;
use chrono::{DateTime, Utc};
use prost::Message;
use returnbridge_core::clock::Clock;
use returnbridge_core::jobs::Background;
use returnbridge_core::metrics::{AttemptResult, Metrics};
use returnbridge_core::returns::Returns;
use returnbridge_domain::ids::{SupplierId, TenantId};
use returnbridge_domain::supplier::{Connector, EndpointUrl};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{
    AttemptOutcome, AttemptReport, ClaimSkip, ClaimedMessage, DeliveryTarget, Disposition,
    OutboxSignal, Recipient, Store,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// How the dispatcher runs.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatcherSettings {
    /// Longest wait between looks at the outbox when no signal comes (at most 1 s).
    pub poll_interval: Duration,
    /// How long a claim holds its rows: past it, another dispatcher may take them (a crashed
    /// replica's rows are delivered by the others).
    pub lease: Duration,
    /// Rows claimed per statement.
    pub batch: u32,
    /// Each supplier's stack.
    pub stack: StackPolicy,
    /// When failed attempts are retried.
    pub schedule: RetrySchedule,
    /// Deliver to loopback, private and link-local addresses too (tests, the simulator).
    pub allow_private_destinations: bool,
}

impl Default for DispatcherSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            lease: Duration::from_secs(300),
            batch: 64,
            stack: StackPolicy::default(),
            schedule: RetrySchedule::default(),
            allow_private_destinations: false,
        }
    }
}

/// Whose queue a row waits in: a supplier's, or a seller's event webhook.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum LaneKey {
    Supplier(SupplierId),
    Seller(TenantId),
}

impl LaneKey {
    fn of(message: &ClaimedMessage) -> Self {
        match message.recipient {
            Recipient::Supplier => LaneKey::Supplier(message.supplier),
            Recipient::Seller => LaneKey::Seller(message.tenant.clone()),
        }
    }
}

/// A recipient's stack and how many of its rows this process holds.
#[derive(Clone)]
struct Lane {
    stack: SupplierStack,
    held: Arc<AtomicUsize>,
    /// The rate limit the stack was built with (the supplier's delivery policy).
    per_second: Option<u32>,
}

/// Counts a held row off its lane when its delivery ends, however it ends.
struct Held(Arc<AtomicUsize>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Delivers the outbox.
pub struct Dispatcher {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Tells the seller, on the return, when a request's retries ran out.
    returns: Returns,
    settings: DispatcherSettings,
    metrics: Metrics,
    connectors: Connectors,
    lanes: Mutex<HashMap<LaneKey, Lane>>,
}

/// Starts the dispatcher as background work: it stops when `background` does.
pub fn spawn(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    returns: Returns,
    settings: DispatcherSettings,
    metrics: Metrics,
    background: &Background,
) {
    let dispatcher = Arc::new(Dispatcher::new(store, clock, returns, settings, metrics));
    let jobs = background.clone();
    background.spawn(async move { dispatcher.run(jobs).await });
}

impl Dispatcher {
    /// A dispatcher over `store`, telling time by `clock`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        returns: Returns,
        settings: DispatcherSettings,
        metrics: Metrics,
    ) -> Self {
        let guard = DestinationGuard {
            allow_private: settings.allow_private_destinations,
        };
        let connectors = Connectors {
            webhook: WebhookConnector::new(guard),
            grpc: GrpcConnector::new(guard, settings.stack.attempt_timeout),
        };
        Self {
            store,
            clock,
            returns,
            settings,
            metrics,
            connectors,
            lanes: Mutex::new(HashMap::new()),
        }
    }

    /// Claims and delivers until shutdown.
    pub async fn run(self: Arc<Self>, background: Background) {
        tracing::info!(
            poll_ms = self.settings.poll_interval.as_millis() as u64,
            allow_private_destinations = self.settings.allow_private_destinations,
            "dispatcher started"
        );
        let mut signal: Option<Box<dyn OutboxSignal>> = None;
        // Claims failed in a row: an outage is logged once, not every poll.
        let mut failing = 0u32;
        while !background.is_stopping() {
            if signal.is_none() {
                signal = match self.store.outbox_signal().await {
                    Ok(s) => Some(s),
                    Err(e) if failing == 0 => {
                        tracing::warn!(error = %e, "no outbox signal; polling only");
                        None
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "still no outbox signal");
                        None
                    }
                };
            }
            let claimed = match self.claim_round(&background).await {
                Ok(n) => {
                    if failing > 0 {
                        tracing::info!(failed_rounds = failing, "claiming outbox rows works again");
                    }
                    failing = 0;
                    n
                }
                Err(e) => {
                    if failing == 0 {
                        tracing::warn!(error = %e, "claiming outbox rows failed; retrying every poll");
                    } else {
                        tracing::debug!(error = %e, "claiming outbox rows failed again");
                    }
                    failing = failing.saturating_add(1);
                    0
                }
            };
            if claimed >= self.settings.batch as usize {
                // More may be due: claim again at once.
                tokio::task::yield_now().await;
                continue;
            }
            let changed = async {
                match signal.as_mut() {
                    Some(s) => s.changed().await.is_ok(),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = background.stopping() => break,
                () = tokio::time::sleep(self.settings.poll_interval) => {}
                ok = changed => if !ok { signal = None; },
            }
        }
        tracing::info!("dispatcher stopped");
    }

    /// One claim, each row handed to a delivery task; says how many were claimed.
    async fn claim_round(
        self: &Arc<Self>,
        background: &Background,
    ) -> Result<usize, returnbridge_store::StoreError> {
        let skip = self.recipients_to_skip();
        let claimed = self
            .store
            .claim_due(
                self.clock.now(),
                self.settings.lease,
                self.settings.batch,
                &skip,
            )
            .await?;
        let n = claimed.len();
        for message in claimed {
            let key = LaneKey::of(&message);
            let lane = self.lane(key.clone());
            lane.held.fetch_add(1, Ordering::SeqCst);
            let held = Held(lane.held.clone());
            let dispatcher = self.clone();
            let jobs = background.clone();
            background.spawn(async move {
                let _held = held;
                tokio::select! {
                    () = dispatcher.deliver(message, key) => {}
                    // Not recorded: the lease runs out and the row is claimed again.
                    () = jobs.stopping() => {}
                }
            });
        }
        Ok(n)
    }

    /// Recipients whose rows stay unclaimed now: breaker open, or a full queue here.
    fn recipients_to_skip(&self) -> ClaimSkip {
        let full = self.settings.stack.concurrency.saturating_mul(2);
        let mut skip = ClaimSkip::default();
        for (key, lane) in self.lanes.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let open = lane.stack.breaker.holding().is_some();
            if let LaneKey::Supplier(id) = key {
                self.metrics.set_circuit_open(*id, open);
            }
            if lane.held.load(Ordering::SeqCst) < full && !open {
                continue;
            }
            match key {
                LaneKey::Supplier(id) => skip.suppliers.push(*id),
                LaneKey::Seller(tenant) => skip.sellers.push(tenant.clone()),
            }
        }
        skip
    }

    fn lane(&self, key: LaneKey) -> Lane {
        self.lanes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_insert_with(|| Lane {
                stack: SupplierStack::new(self.settings.stack, None, self.connectors.clone()),
                held: Arc::new(AtomicUsize::new(0)),
                per_second: None,
            })
            .clone()
    }

    /// The lane's stack, rebuilt first when the supplier's rate limit is no longer the one it was
    /// built with (a policy change starts a fresh breaker too, which only errs towards trying).
    fn stack(&self, key: LaneKey, per_second: Option<u32>) -> SupplierStack {
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        let lane = lanes.entry(key).or_insert_with(|| Lane {
            stack: SupplierStack::new(self.settings.stack, per_second, self.connectors.clone()),
            held: Arc::new(AtomicUsize::new(0)),
            per_second,
        });
        if lane.per_second != per_second {
            lane.stack =
                SupplierStack::new(self.settings.stack, per_second, self.connectors.clone());
            lane.per_second = per_second;
        }
        lane.stack.clone()
    }

    /// One attempt of one row, recorded.
    async fn deliver(&self, message: ClaimedMessage, lane: LaneKey) {
        let started_at = self.clock.now();
        let started = Instant::now();
        let (answer, schedule) = match self.attempt(&message, started_at).await {
            Ok(attempt) => {
                let policy = &attempt.target.policy;
                let schedule = policy.retry_delays.clone().map(RetrySchedule::new);
                let stack = self.stack(lane, policy.max_per_second);
                let transport = match attempt.target.connector {
                    Connector::Webhook { .. } => "webhook",
                    Connector::Grpc { .. } => "grpc",
                };
                let sent = Instant::now();
                let answer = match stack.service.oneshot(attempt).await {
                    Ok(answer) => answer,
                    Err(never) => match never {},
                };
                if message.recipient == Recipient::Supplier {
                    self.metrics.record_attempt(
                        message.supplier,
                        transport,
                        attempt_result(&answer),
                        sent.elapsed(),
                    );
                }
                (answer, schedule)
            }
            // Nothing to send it with: retrying cannot help.
            Err(why) => {
                tracing::error!(message_id = %message.message_id, %why, "undeliverable outbox row");
                let report = AttemptReport {
                    started_at,
                    duration: started.elapsed(),
                    outcome: AttemptOutcome::ConnectError,
                    response_excerpt: why,
                    disposition: Disposition::Exhausted,
                };
                self.record(&message, &report).await;
                return;
            }
        };
        let disposition = self.disposition(
            &message,
            &answer,
            schedule.as_ref().unwrap_or(&self.settings.schedule),
        );
        match disposition {
            Disposition::Delivered => tracing::info!(
                message_id = %message.message_id, supplier = %message.supplier,
                attempt = message.attempt_no(), outcome = ?answer.outcome, "delivered"
            ),
            _ => tracing::warn!(
                message_id = %message.message_id, supplier = %message.supplier,
                attempt = message.attempt_no(), outcome = ?answer.outcome, ?disposition,
                excerpt = %answer.excerpt.chars().take(200).collect::<String>(), "delivery failed"
            ),
        }
        let report = AttemptReport {
            started_at,
            duration: started.elapsed(),
            outcome: answer.outcome,
            response_excerpt: answer.excerpt,
            disposition,
        };
        self.record(&message, &report).await;
    }

    async fn record(&self, message: &ClaimedMessage, report: &AttemptReport) {
        let to_supplier = message.recipient == Recipient::Supplier;
        match self.store.record_attempt(message, report).await {
            // A seller's own event webhook failing is not news for its event stream (and an event
            // about it would be one more row for the same failing webhook).
            Ok(true) if !to_supplier => {}
            Ok(true) if matches!(report.disposition, Disposition::Exhausted) => {
                self.tell_the_seller(message).await;
            }
            Ok(true) if matches!(report.disposition, Disposition::Delivered) => {
                self.mark_delivered(message).await;
            }
            Ok(_) => {}
            // The lease runs out and the row is tried again: at least once, never lost.
            Err(e) => {
                tracing::warn!(message_id = %message.message_id, error = %e, "recording an attempt failed");
            }
        }
    }

    /// The return's request shows it was delivered, with a SUPPLIER_REQUEST_DELIVERED event.
    async fn mark_delivered(&self, message: &ClaimedMessage) {
        let Some(id) = message.return_id else { return };
        let attempts = u32::try_from(message.attempt_no()).unwrap_or(0);
        if let Err(e) = self
            .returns
            .delivered(&message.tenant, id, message.message_id, attempts)
            .await
        {
            tracing::error!(message_id = %message.message_id, return_id = %id, error = %e, "recording the delivery on the return");
        }
    }

    /// The return gets a SUPPLIER_DELIVERY_FAILED event, which the seller's event stream carries.
    async fn tell_the_seller(&self, message: &ClaimedMessage) {
        let Some(id) = message.return_id else { return };
        let attempts = u32::try_from(message.attempt_no()).unwrap_or(0);
        if let Err(e) = self
            .returns
            .delivery_failed(&message.tenant, id, message.message_id, attempts)
            .await
        {
            tracing::error!(message_id = %message.message_id, return_id = %id, error = %e, "recording the failed delivery on the return");
        }
    }

    /// The attempt to send: the stored request with this attempt's number and time, or the
    /// seller's event.
    async fn attempt(
        &self,
        message: &ClaimedMessage,
        now: DateTime<Utc>,
    ) -> Result<Attempt, String> {
        let (target, payload) = match message.recipient {
            Recipient::Supplier => self.supplier_request(message, now).await?,
            Recipient::Seller => self.seller_event(message).await?,
        };
        Ok(Attempt {
            message_id: message.message_id,
            kind: message.kind.clone(),
            payload,
            target,
            sent_at: now,
        })
    }

    async fn supplier_request(
        &self,
        message: &ClaimedMessage,
        now: DateTime<Utc>,
    ) -> Result<(DeliveryTarget, Payload), String> {
        let target = self
            .store
            .delivery_target(&message.tenant, message.supplier)
            .await
            .map_err(|e| format!("reading the supplier: {e}"))?
            .ok_or("the supplier does not exist")?;
        let mut request = pb::ReceiveReturnRequestRequest::decode(message.payload.as_slice())
            .map_err(|e| format!("the stored request does not decode: {e}"))?;
        request.request_id = message.message_id.to_string();
        request.attempt = message.attempt_no();
        request.send_time = Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: i32::try_from(now.timestamp_subsec_nanos()).unwrap_or(0),
        });
        Ok((target, Payload::SupplierRequest(Box::new(request))))
    }

    /// The seller's event and its event webhook as the settings say now (a webhook turned off
    /// since leaves the row failed, for an operator to redeliver once it is back).
    async fn seller_event(
        &self,
        message: &ClaimedMessage,
    ) -> Result<(DeliveryTarget, Payload), String> {
        let stored = self
            .store
            .seller_settings(&message.tenant)
            .await
            .map_err(|e| format!("reading the seller settings: {e}"))?;
        let settings = returnbridge_convert::settings::to_proto(stored.as_ref())
            .map_err(|e| format!("reading the seller settings: {e}"))?;
        let secret = stored
            .and_then(|s| s.event_webhook_secret)
            .ok_or("the seller has no event webhook secret")?;
        let url = EndpointUrl::parse(&settings.event_webhook_url)
            .map_err(|e| format!("the seller's event_webhook_url {e}"))?;
        let seq = message
            .event_seq
            .ok_or("a seller row without its event's sequence number")?;
        let event = returnbridge_convert::events::read_event(seq, &message.payload)
            .map_err(|e| format!("the stored event does not decode: {e:?}"))?;
        let target = DeliveryTarget {
            connector: Connector::Webhook { url },
            webhook_secret: secret,
            retiring_secret: None,
            policy: Default::default(),
        };
        Ok((target, Payload::SellerEvent(Box::new(event))))
    }

    /// What happens to the row after `answer`, retried on `schedule` (the supplier's own, or the
    /// gateway's).
    fn disposition(
        &self,
        message: &ClaimedMessage,
        answer: &Answer,
        schedule: &RetrySchedule,
    ) -> Disposition {
        let now = self.clock.now();
        if answer.delivered {
            return Disposition::Delivered;
        }
        if answer.outcome == AttemptOutcome::BreakerOpen {
            let wait = answer
                .retry_after
                .unwrap_or(self.settings.stack.breaker.ejection);
            return Disposition::HeldUntil(after(now, wait));
        }
        let failures =
            u32::try_from(message.attempts_since_redelivery.saturating_add(1)).unwrap_or(1);
        let jitter = rand::random::<f64>() * 2.0 - 1.0;
        match schedule.next_delay(failures, answer.failure_kind(), answer.retry_after, jitter) {
            Some(wait) => Disposition::RetryAt(after(now, wait)),
            None => Disposition::Exhausted,
        }
    }
}

/// How an answer counts in the delivery metrics.
fn attempt_result(answer: &Answer) -> AttemptResult {
    match answer.outcome {
        _ if answer.delivered => AttemptResult::Delivered,
        AttemptOutcome::HttpStatus(_) | AttemptOutcome::GrpcCode(_) => AttemptResult::Refused,
        AttemptOutcome::Timeout => AttemptResult::Timeout,
        AttemptOutcome::ConnectError => AttemptResult::ConnectError,
        AttemptOutcome::BreakerOpen => AttemptResult::BreakerOpen,
        AttemptOutcome::DestinationRefused => AttemptResult::DestinationRefused,
    }
}

/// `wait` after `now`, saturating at the end of time.
fn after(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    chrono::TimeDelta::from_std(wait)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
