//! A return's events as the API shows them (WatchEvents, GetReturn, the seller's event webhook): the
//! stored v1 event with its sequence number and opaque cursor filled in on read.

use crate::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prost::Message;
use returnbridge_domain::Violations;
use returnbridge_proto::v1 as pb;
use returnbridge_store::StoreError;

/// The stored event `detail` with sequence number `seq`, as the API shows it.
pub fn read_event(seq: i64, detail: &[u8]) -> Result<pb::ReturnEvent, ApiError> {
    let mut event = pb::ReturnEvent::decode(detail)
        .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))?;
    event.sequence = seq;
    event.cursor = cursor(seq);
    Ok(event)
}

const CURSOR_VERSION: &str = "e1:";

/// The opaque cursor after event `seq`.
pub fn cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_VERSION}{seq}"))
}

/// The sequence number a cursor stands for.
pub fn parse_cursor(raw: &str, field: &str, v: &mut Violations) -> Option<i64> {
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
