//! A return's events as stored and read back, who did them, and the event cursors.

use crate::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prost::Message;
use returnbridge_core::auth::Principal;
use returnbridge_domain::Violations;
use returnbridge_domain::returns::{Actor, ActorKind};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{StoreError, StoredEvent};

/// The seller's API key behind a call.
pub(crate) fn seller(caller: &Principal) -> Actor {
    Actor {
        kind: ActorKind::Seller,
        id: caller.key_id.to_string(),
    }
}

/// A stored event as the API shows it: its sequence number and cursor are filled in on read.
pub(super) fn read_event(stored: &StoredEvent) -> Result<pb::ReturnEvent, ApiError> {
    let mut event = pb::ReturnEvent::decode(stored.detail.as_slice())
        .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", stored.seq)))?;
    event.sequence = stored.seq;
    event.cursor = cursor(stored.seq);
    Ok(event)
}

const CURSOR_VERSION: &str = "e1:";

/// The opaque cursor after event `seq`.
pub(super) fn cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_VERSION}{seq}"))
}

/// The sequence number a cursor stands for.
pub(super) fn parse_cursor(raw: &str, field: &str, v: &mut Violations) -> Option<i64> {
    let seq = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.strip_prefix(CURSOR_VERSION)
                .and_then(|n| n.parse::<i64>().ok())
        })
        .filter(|n| *n >= 0);
    if seq.is_none() {
        v.add(
            field,
            "is not a cursor this service issued; pass an event's cursor back unchanged",
        );
    }
    seq
}
