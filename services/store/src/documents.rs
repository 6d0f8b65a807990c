//! How a return is stored: the domain [`Return`] as a versioned JSON document the store owns, beside
//! typed copies of what queries and the SLA clock need. The public API's messages are never stored
//! for a return, so changing the API never rewrites stored data.

use crate::StoreError;
use chrono::{DateTime, Utc};
use returnbridge_domain::returns::{DeadlineKind, Return};
use serde::{Deserialize, Serialize};

/// Today's document format, written with every change.
pub const RETURN_FORMAT: &str = "return-json-1";

/// The format of rows written before the store owned its encoding: the v1 `Return` message. The
/// upgrade after migrations rewrites them (`ReturnStore::upgrade_return`).
pub const LEGACY_RETURN_FORMAT: &str = "v1-proto";

/// The document: a version tag, so a later format can read an earlier one.
#[derive(Serialize, Deserialize)]
struct Document<R> {
    v: u32,
    #[serde(rename = "return")]
    ret: R,
}

/// Everything a return row holds, computed from the aggregate.
pub(crate) struct ReturnColumns<'a> {
    pub ret: &'a Return,
    pub reason: &'static str,
    pub status: &'static str,
    pub currency: &'a str,
    /// The earliest deadline of each kind over the open supplier requests that is still running and
    /// not yet recorded as missed: what the SLA clock scans.
    pub ack_by: Option<DateTime<Utc>>,
    pub decide_by: Option<DateTime<Utc>>,
    pub credit_by: Option<DateTime<Utc>>,
    pub document: Vec<u8>,
}

impl<'a> ReturnColumns<'a> {
    pub fn of(ret: &'a Return) -> Result<Self, StoreError> {
        let running = |kind| {
            ret.supplier_requests
                .iter()
                .filter_map(|r| r.watched(kind))
                .min()
        };
        let document = serde_json::to_vec(&Document { v: 1, ret }).map_err(|e| {
            StoreError::Corrupt(format!("return {} cannot be encoded: {e}", ret.id))
        })?;
        Ok(Self {
            ret,
            reason: ret.request.reason.as_str(),
            status: ret.status.as_str(),
            currency: ret.request.order.currency.code(),
            ack_by: running(DeadlineKind::Ack),
            decide_by: running(DeadlineKind::Decision),
            credit_by: running(DeadlineKind::Credit),
            document,
        })
    }
}

/// Reads a stored document in `format`.
pub(crate) fn decode_return(format: &str, document: &[u8]) -> Result<Return, StoreError> {
    match format {
        RETURN_FORMAT => serde_json::from_slice::<Document<Return>>(document)
            .map(|d| d.ret)
            .map_err(|e| StoreError::Corrupt(format!("return document: {e}"))),
        LEGACY_RETURN_FORMAT => Err(StoreError::Corrupt(
            "a return stored in the v1-proto format was not upgraded; run `returnbridge migrate`"
                .into(),
        )),
        other => Err(StoreError::Corrupt(format!(
            "return document in an unknown format {other:?}: written by a newer Returnbridge?"
        ))),
    }
}
