//! Delivery of the outbox: gateway dispatchers claim due rows under a lease, deliver them, and
//! record every attempt. Rows are written by the return changes that cause them (`returns.rs`).
//!
//! A claim is a lease (`claimed_until`), not a lock held across the delivery: a dispatcher that dies
//! mid-delivery leaves its rows to be claimed again once the lease ends, so delivery is at least
//! once and the message id (the supplier's deduplication key) never changes.

use crate::StoreError;
use crate::rows::{CONNECTOR_GRPC, CONNECTOR_WEBHOOK};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use returnbridge_domain::supplier::{Connector, DeliveryPolicy, EndpointUrl};
use std::time::Duration;
use uuid::Uuid;

/// Longest response excerpt kept with an attempt, in bytes.
pub const RESPONSE_EXCERPT_MAX: usize = 4096;

/// Who receives an outbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recipient {
    /// The supplier of the row's `supplier`: a request or notice about a return it handles.
    Supplier,
    /// The seller (the tenant): one of its return events, for its event webhook.
    Seller,
}

impl Recipient {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Recipient::Supplier => "supplier",
            Recipient::Seller => "seller",
        }
    }

    /// Reads the stored name back.
    pub fn parse(name: &str) -> Result<Self, StoreError> {
        match name {
            "supplier" => Ok(Recipient::Supplier),
            "seller" => Ok(Recipient::Seller),
            other => Err(StoreError::Corrupt(format!("outbox.recipient {other:?}"))),
        }
    }
}

/// The outbox kind of a seller row: the payload is a v1 `ReturnEvent`.
pub const SELLER_EVENT_KIND: &str = "RETURN_EVENT";

/// Rows a claim leaves alone: their recipient is busy here or its breaker is open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimSkip {
    /// Suppliers whose requests wait.
    pub suppliers: Vec<SupplierId>,
    /// Sellers whose events wait.
    pub sellers: Vec<TenantId>,
}

/// An outbox row a dispatcher holds the lease of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedMessage {
    /// The row.
    pub outbox_id: i64,
    /// Stable across retries and replicas: what suppliers deduplicate on.
    pub message_id: Uuid,
    /// Whose return it concerns.
    pub tenant: TenantId,
    /// The supplier it goes to; on a seller row, the return's supplier (attribution only).
    pub supplier: SupplierId,
    /// Who receives it.
    pub recipient: Recipient,
    /// The return, when the message concerns one.
    pub return_id: Option<ReturnId>,
    /// `AUTHORIZATION_REQUEST`, `NOTICE`, ... or [`SELLER_EVENT_KIND`].
    pub kind: String,
    /// The encoded `ReceiveReturnRequestRequest`, or on a seller row the v1 `ReturnEvent`.
    pub payload: Vec<u8>,
    /// On a seller row, the event's sequence number.
    pub event_seq: Option<i64>,
    /// Attempts made before this claim (counted ones: an open breaker's hold-back is not one).
    pub attempts: i32,
    /// Attempts made since the last redelivery: the position in the retry schedule.
    pub attempts_since_redelivery: i32,
    /// The lease, as stored: it also identifies this claim when the attempt is recorded.
    pub claimed_until: DateTime<Utc>,
}

impl ClaimedMessage {
    /// The number of the attempt this claim makes (1 for the first).
    pub fn attempt_no(&self) -> i32 {
        self.attempts.saturating_add(1)
    }
}

/// How an attempt ended, as the supplier (or the way to it) answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A webhook answered with this HTTP status.
    HttpStatus(u16),
    /// A gRPC supplier answered with this status code (0 = OK).
    GrpcCode(i32),
    /// No answer within the per-attempt timeout.
    Timeout,
    /// No connection (refused, reset, DNS, TLS).
    ConnectError,
    /// Not sent: the supplier's circuit breaker is open. Not counted as an attempt.
    BreakerOpen,
    /// Not sent: the target resolves to an address deliveries may not go to.
    DestinationRefused,
}

impl AttemptOutcome {
    /// The stored name and code.
    pub fn to_columns(self) -> (&'static str, Option<i32>) {
        match self {
            AttemptOutcome::HttpStatus(s) => ("http_status", Some(i32::from(s))),
            AttemptOutcome::GrpcCode(c) => ("grpc_code", Some(c)),
            AttemptOutcome::Timeout => ("timeout", None),
            AttemptOutcome::ConnectError => ("connect_error", None),
            AttemptOutcome::BreakerOpen => ("breaker_open", None),
            AttemptOutcome::DestinationRefused => ("destination_refused", None),
        }
    }

    /// Reads the stored name and code back.
    pub fn from_columns(name: &str, code: Option<i32>) -> Result<Self, StoreError> {
        let corrupt =
            || StoreError::Corrupt(format!("delivery_attempts.outcome {name:?} {code:?}"));
        Ok(match (name, code) {
            ("http_status", Some(s)) => {
                AttemptOutcome::HttpStatus(u16::try_from(s).map_err(|_| corrupt())?)
            }
            ("grpc_code", Some(c)) => AttemptOutcome::GrpcCode(c),
            ("timeout", _) => AttemptOutcome::Timeout,
            ("connect_error", _) => AttemptOutcome::ConnectError,
            ("breaker_open", _) => AttemptOutcome::BreakerOpen,
            ("destination_refused", _) => AttemptOutcome::DestinationRefused,
            _ => return Err(corrupt()),
        })
    }
}

/// What happens to the row after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The supplier has it: the row is done.
    Delivered,
    /// Failed; counted, and tried again at this instant.
    RetryAt(DateTime<Utc>),
    /// Failed and the retries ran out: the row is marked failed until an operator redelivers it.
    Exhausted,
    /// Not sent (an open breaker): not counted, tried again at this instant.
    HeldUntil(DateTime<Utc>),
}

/// One attempt, as a dispatcher reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptReport {
    /// When the request went out.
    pub started_at: DateTime<Utc>,
    /// How long until the answer (or the error).
    pub duration: Duration,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// The start of the answer or the error; cut to [`RESPONSE_EXCERPT_MAX`] bytes by the store.
    pub response_excerpt: String,
    /// What happens to the row now.
    pub disposition: Disposition,
}

/// One attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// Orders attempts; the cursor for paging.
    pub attempt_id: i64,
    /// The message tried.
    pub message_id: Uuid,
    /// Whose.
    pub tenant: TenantId,
    /// The supplier it went to, or on a seller row the return's supplier.
    pub supplier: SupplierId,
    /// Who it went to.
    pub recipient: Recipient,
    /// About which return.
    pub return_id: Option<ReturnId>,
    /// 1 for the first try.
    pub attempt_no: i32,
    /// When it went out.
    pub started_at: DateTime<Utc>,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// Whether the supplier took it.
    pub delivered: bool,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// The start of the answer or the error (at most 4 KiB).
    pub response_excerpt: String,
    /// When it is tried next; `None` once delivered or failed.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Where and how one supplier takes deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryTarget {
    /// Webhook URL or gRPC endpoint.
    pub connector: Connector,
    /// The supplier's `whsec_` signing secret.
    pub webhook_secret: String,
    /// A rotated-out secret that still signs beside the current one, and until when.
    pub retiring_secret: Option<(String, DateTime<Utc>)>,
    /// The supplier's own retry schedule and rate limit, if it has them.
    pub policy: DeliveryPolicy,
}

/// Waits for commits that add outbox rows: an in-process signal on SQLite, `LISTEN` on
/// PostgreSQL (every replica hears every commit). Signals may be spurious or folded together;
/// dispatchers poll as well, so a missed one delays a delivery, never loses it.
#[async_trait]
pub trait OutboxSignal: Send {
    /// Resolves after the next commit that added outbox rows (or at once, if one came since the
    /// last call). An error means the signal is broken: poll, and make a new one later.
    async fn changed(&mut self) -> Result<(), StoreError>;
}

/// The outbox as the gateway sees it.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` due rows (`available_at <= now`, neither delivered nor failed, no live
    /// lease), oldest first, leasing them until `now + lease`. Rows of `skip`'s recipients (busy or
    /// with an open breaker here) are left for later, and so is a seller row while an earlier seller
    /// row of its return is neither delivered nor failed (a seller gets a return's events in order).
    /// Concurrent claimers never get the same row.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
        skip: &ClaimSkip,
    ) -> Result<Vec<ClaimedMessage>, StoreError>;

    /// Records an attempt of a claimed row and applies its disposition. A delivery is recorded
    /// whatever happened meanwhile; any other disposition only while `message`'s claim is still the
    /// row's (not re-claimed after its lease ended). Says whether the row changed.
    async fn record_attempt(
        &self,
        message: &ClaimedMessage,
        report: &AttemptReport,
    ) -> Result<bool, StoreError>;

    /// Operator action: a failed row of the tenant is due again at `now`, its retry schedule starting
    /// over. False when the tenant has no such failed row.
    async fn redeliver(
        &self,
        tenant: &TenantId,
        message_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The attempts for one return, oldest first.
    async fn attempts_for_return(
        &self,
        tenant: &TenantId,
        return_id: ReturnId,
    ) -> Result<Vec<DeliveryAttempt>, StoreError>;

    /// The attempts for one supplier after `after` (an `attempt_id`), oldest first, at most `limit`;
    /// seller rows are not the supplier's and are left out.
    async fn attempts_for_supplier(
        &self,
        tenant: &TenantId,
        supplier: SupplierId,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<DeliveryAttempt>, StoreError>;

    /// Where the supplier takes deliveries, with its signing secret.
    async fn delivery_target(
        &self,
        tenant: &TenantId,
        supplier: SupplierId,
    ) -> Result<Option<DeliveryTarget>, StoreError>;

    /// The outbox backlog: messages neither delivered nor failed, and when the oldest was queued.
    async fn outbox_backlog(&self) -> Result<(u64, Option<DateTime<Utc>>), StoreError>;

    /// Tenants whose events run ahead of their event webhook cursor (the relay's work list).
    async fn seller_event_backlog(&self) -> Result<Vec<TenantId>, StoreError>;

    /// Moves up to `limit` of the tenant's events after its cursor into the outbox as seller rows
    /// (or only moves the cursor past them, when `deliver` is false: the webhook is off), in one
    /// transaction, and says how many events it passed. 0 when another relay holds the cursor.
    async fn relay_seller_events(
        &self,
        tenant: &TenantId,
        deliver: bool,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError>;

    /// A new wake-up signal for a dispatcher.
    async fn outbox_signal(&self) -> Result<Box<dyn OutboxSignal>, StoreError>;
}

/// `text` cut to at most [`RESPONSE_EXCERPT_MAX`] bytes, on a character boundary.
pub(crate) fn excerpt(text: &str) -> &str {
    if text.len() <= RESPONSE_EXCERPT_MAX {
        return text;
    }
    let mut end = RESPONSE_EXCERPT_MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The columns a disposition writes: (next attempt, counts as an attempt).
pub(crate) fn next_attempt(d: Disposition) -> Option<DateTime<Utc>> {
    match d {
        Disposition::RetryAt(t) | Disposition::HeldUntil(t) => {
            Some(crate::rows::stored_precision(t))
        }
        Disposition::Delivered | Disposition::Exhausted => None,
    }
}

/// Milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A supplier's stored connector and secret as a [`DeliveryTarget`].
pub(crate) fn target(
    kind: &str,
    url: &str,
    webhook_secret: String,
    retiring_secret: Option<(String, DateTime<Utc>)>,
    policy: Option<&str>,
) -> Result<DeliveryTarget, StoreError> {
    let url = EndpointUrl::parse(url)
        .map_err(|e| StoreError::Corrupt(format!("suppliers.connector_url: {e}")))?;
    let connector = match kind {
        CONNECTOR_WEBHOOK => Connector::Webhook { url },
        CONNECTOR_GRPC => Connector::Grpc { endpoint: url },
        other => {
            return Err(StoreError::Corrupt(format!(
                "suppliers.connector_kind {other:?}"
            )));
        }
    };
    Ok(DeliveryTarget {
        connector,
        webhook_secret,
        retiring_secret,
        policy: crate::rows::delivery_policy(policy)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_cut_to_4_kib_on_a_character_boundary() {
        let long = "é".repeat(3000);
        let cut = excerpt(&long);
        assert!(cut.len() <= RESPONSE_EXCERPT_MAX);
        assert_eq!(cut.len(), RESPONSE_EXCERPT_MAX);
        assert_eq!(excerpt("short"), "short");
    }

    #[test]
    fn outcomes_read_back_as_written() {
        for o in [
            AttemptOutcome::HttpStatus(503),
            AttemptOutcome::GrpcCode(14),
            AttemptOutcome::Timeout,
            AttemptOutcome::ConnectError,
            AttemptOutcome::BreakerOpen,
            AttemptOutcome::DestinationRefused,
        ] {
            let (name, code) = o.to_columns();
            assert_eq!(AttemptOutcome::from_columns(name, code).unwrap(), o);
        }
    }
}
