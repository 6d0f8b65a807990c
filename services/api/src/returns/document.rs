//! The return's document (its v1 `Return` message), its events and its cursors.

use crate::convert::returns::status_to_proto;
use crate::convert::timestamp;
use crate::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use prost::Message;
use returnbridge_core::auth::Principal;
use returnbridge_domain::Violations;
use returnbridge_domain::lifecycle::ReturnStatus;
use returnbridge_proto::v1 as pb;
use returnbridge_store::{NewEvent, ReturnRow, StoreError, StoredEvent};

/// Who did something, as the document shows it and as the event row records it.
#[derive(Debug, Clone)]
pub(super) struct Actor {
    pub proto: pb::Actor,
    pub label: String,
}

impl Actor {
    /// The seller's API key behind a call.
    pub fn seller(caller: &Principal) -> Self {
        Self {
            proto: pb::Actor {
                kind: pb::ActorKind::Seller as i32,
                id: caller.key_id.to_string(),
            },
            label: format!("seller:{}", caller.key_id),
        }
    }

    /// Returnbridge itself (sweeps, SLA actions).
    pub fn system() -> Self {
        Self {
            proto: pb::Actor {
                kind: pb::ActorKind::System as i32,
                id: "returnbridge".into(),
            },
            label: "system".into(),
        }
    }
}

/// The stored document of a row.
pub(super) fn decode(row: &ReturnRow) -> Result<pb::Return, StoreError> {
    pb::Return::decode(row.document.as_slice())
        .map_err(|e| StoreError::Corrupt(format!("return {} document: {e}", row.id)))
}

/// The document of a row, for callers outside a store transaction.
pub(super) fn read(row: &ReturnRow) -> Result<pb::Return, ApiError> {
    Ok(decode(row)?)
}

/// An event about `doc` as it stands after the change.
#[allow(clippy::too_many_arguments)]
pub(super) fn event(
    doc: &pb::Return,
    event_type: pb::ReturnEventType,
    actor: &Actor,
    from: Option<ReturnStatus>,
    to: Option<ReturnStatus>,
    at: DateTime<Utc>,
    note: String,
    detail: Option<pb::return_event::Detail>,
) -> NewEvent {
    let proto = pb::ReturnEvent {
        event_id: uuid::Uuid::now_v7().to_string(),
        return_id: doc.return_id.clone(),
        event_type: event_type as i32,
        actor: Some(actor.proto.clone()),
        event_time: Some(timestamp(at)),
        from_status: from.map(|s| status_to_proto(s) as i32).unwrap_or_default(),
        to_status: to.map(|s| status_to_proto(s) as i32).unwrap_or_default(),
        return_version: doc.version,
        supplier_id: doc.handling_supplier_id.clone(),
        order_id: doc
            .order
            .as_ref()
            .map(|o| o.order_id.clone())
            .unwrap_or_default(),
        note,
        detail,
        ..Default::default()
    };
    NewEvent {
        event_type: event_type
            .as_str_name()
            .trim_start_matches("RETURN_EVENT_TYPE_")
            .to_owned(),
        actor: actor.label.clone(),
        from_status: from,
        to_status: to,
        occurred_at: at,
        detail: proto.encode_to_vec(),
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
