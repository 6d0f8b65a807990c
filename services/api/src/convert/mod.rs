//! proto <-> domain conversions. Parsing here is the edge: past it, values are trusted.

pub mod supplier;

use chrono::{DateTime, Utc};

/// A domain instant as a protobuf timestamp.
pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}
