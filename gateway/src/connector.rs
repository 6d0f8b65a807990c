//! What every connector takes and gives back: one attempt in, the supplier's answer out. Connectors
//! never fail: whatever went wrong is an [`AttemptOutcome`], recorded and retried like any answer.

use crate::retry::FailureKind;
use chrono::{DateTime, Utc};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{AttemptOutcome, DeliveryTarget, RESPONSE_EXCERPT_MAX};
use std::time::Duration;
use uuid::Uuid;

/// One try at delivering one message.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The stable id: `webhook-id`, gRPC `request_id`, the supplier's deduplication key.
    pub message_id: Uuid,
    /// The outbox kind (`AUTHORIZATION_REQUEST`, `NOTICE`, `RETURN_EVENT`).
    pub kind: String,
    /// What is sent.
    pub payload: Payload,
    /// Where it goes.
    pub target: DeliveryTarget,
    /// When it is sent, by the server's clock.
    pub sent_at: DateTime<Utc>,
}

/// What one outbox row carries.
#[derive(Debug, Clone)]
pub enum Payload {
    /// A request to a supplier, with this attempt's number and send time filled in.
    SupplierRequest(Box<pb::ReceiveReturnRequestRequest>),
    /// One of the seller's return events, for its event webhook.
    SellerEvent(Box<pb::ReturnEvent>),
}

/// How the supplier (or the way to it) answered one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// What happened.
    pub outcome: AttemptOutcome,
    /// True when the supplier has the message.
    pub delivered: bool,
    /// The start of the answer or the error, for the attempt record.
    pub excerpt: String,
    /// The supplier's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
}

impl Answer {
    /// A failure before any answer.
    pub fn failed(outcome: AttemptOutcome, why: impl Into<String>) -> Self {
        Self {
            outcome,
            delivered: false,
            excerpt: cut(why.into()),
            retry_after: None,
        }
    }

    /// How the retry schedule treats it.
    pub fn failure_kind(&self) -> FailureKind {
        match self.outcome {
            AttemptOutcome::Timeout => FailureKind::Timeout,
            AttemptOutcome::HttpStatus(429) => FailureKind::TooManyRequests,
            AttemptOutcome::GrpcCode(c) if c == tonic::Code::ResourceExhausted as i32 => {
                FailureKind::TooManyRequests
            }
            _ => FailureKind::Other,
        }
    }
}

/// `text` cut to the excerpt limit on a character boundary.
pub(crate) fn cut(mut text: String) -> String {
    if text.len() > RESPONSE_EXCERPT_MAX {
        let mut end = RESPONSE_EXCERPT_MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// A W3C `traceparent` whose trace id is the message id, so every attempt of one message (on any
/// replica) lands in one trace at the supplier, each attempt a span of its own.
pub fn traceparent(message_id: Uuid) -> String {
    format!(
        "00-{}-{:016x}-01",
        message_id.simple(),
        rand::random::<u64>().max(1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_carries_the_message_id_as_its_trace_id() {
        let id = Uuid::new_v4();
        let header = traceparent(id);
        let parts: Vec<_> = header.split('-').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!((parts[0], parts[3]), ("00", "01"));
        assert_eq!(parts[1], id.simple().to_string());
        assert_eq!(parts[2].len(), 16);
    }
}
