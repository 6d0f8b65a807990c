//! proto <-> domain conversions, for both adapters (the seller api and the supplier gateway).
//! Parsing here is the edge: past it, values are trusted.

// A failure is an error the caller sees, never a panic in the server.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod contract;
pub mod error;
pub mod events;
pub mod idempotency;
pub mod input;
pub mod liability;
pub mod render;
pub mod return_view;
pub mod returns;
pub mod settings;
pub mod supplier;

use chrono::{DateTime, Utc};
use returnbridge_domain::Money;
use returnbridge_domain::order_input::MoneyInput;
use returnbridge_proto::v1 as pb;

/// A domain instant as a protobuf timestamp.
pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

/// A domain amount as the proto message.
pub fn money_to_proto(m: Money) -> pb::Money {
    pb::Money {
        currency_code: m.currency.code().to_owned(),
        amount_minor: m.amount_minor,
    }
}

/// A proto amount as sent, for the domain to check.
pub fn money_input(m: &pb::Money) -> MoneyInput {
    MoneyInput {
        currency: m.currency_code.clone(),
        amount_minor: m.amount_minor,
    }
}
