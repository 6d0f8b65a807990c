//! One line on stdout per delivery the simulator receives and per answer it sends: for people by
//! default, one JSON object per line with --json (enums by their API names, as in proto3 JSON).

use super::Verdict;
use super::answer::Answer;
use super::supplier::{Progress, Reception};
use crate::commands::client::explain;
use returnbridge_proto::v1 as pb;
use serde_json::{Value, json};

/// Where the simulator says what it does.
#[derive(Clone)]
pub struct Journal {
    json: bool,
}

/// `authorization request`, `notice`, ...
fn kind(request: &pb::ReceiveReturnRequestRequest) -> String {
    pb::SupplierRequestKind::try_from(request.kind)
        .map(|k| k.as_str_name().trim_start_matches("SUPPLIER_REQUEST_KIND_"))
        .unwrap_or("UNSPECIFIED")
        .to_ascii_lowercase()
        .replace('_', " ")
}

/// The kind as the API names it (`SUPPLIER_REQUEST_KIND_NOTICE`), for JSON lines.
fn kind_name(request: &pb::ReceiveReturnRequestRequest) -> &'static str {
    pb::SupplierRequestKind::try_from(request.kind)
        .unwrap_or_default()
        .as_str_name()
}

fn return_id(request: &pb::ReceiveReturnRequestRequest) -> &str {
    request
        .supplier_return
        .as_ref()
        .map(|r| r.return_id.as_str())
        .unwrap_or("-")
}

fn status_name(status: pb::ReturnStatus) -> &'static str {
    status.as_str_name().trim_start_matches("RETURN_STATUS_")
}

impl Journal {
    /// Lines for people, or JSON objects.
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    fn line(&self, text: String, fields: Value) {
        if self.json {
            println!("{fields}");
        } else {
            println!("{text}");
        }
    }

    /// A delivery of a request not taken before, and what was done with it.
    pub fn received(&self, request: &pb::ReceiveReturnRequestRequest, reception: Reception) {
        let (action, note) = match reception {
            Reception::Fail => ("failed", " - failing it on purpose (--fail-rate)"),
            Reception::Hang => ("held", " - holding it without an answer (--hang-rate)"),
            Reception::Taken | Reception::Repeat => ("taken", ""),
        };
        self.line(
            format!(
                "received request {} (attempt {}): {} for return {}{note}",
                request.request_id,
                request.attempt,
                kind(request),
                return_id(request),
            ),
            json!({
                "event": "received",
                "request_id": request.request_id,
                "attempt": request.attempt,
                "kind": kind_name(request),
                "return_id": return_id(request),
                "action": action,
            }),
        );
    }

    /// A redelivery of a request already taken: acknowledged again, not answered twice.
    pub fn repeat(&self, request: &pb::ReceiveReturnRequestRequest, progress: Progress) {
        let state = match progress {
            Progress::Answering => "being answered",
            Progress::Answered => "answered",
        };
        self.line(
            format!(
                "received request {} again (attempt {}): already {state}, acknowledged and not answered twice",
                request.request_id, request.attempt,
            ),
            json!({
                "event": "repeat",
                "request_id": request.request_id,
                "attempt": request.attempt,
                "return_id": return_id(request),
                "state": state,
            }),
        );
    }

    /// A delivery refused before it was read as a request.
    pub fn refused(&self, code: u16, why: &str) {
        self.line(
            format!("refused a delivery with {code}: {why}"),
            json!({"event": "refused", "status": code, "reason": why}),
        );
    }

    /// An answer sent.
    pub fn answered(&self, request: &pb::ReceiveReturnRequestRequest, answer: &Answer) {
        let verdict = answer.verdict.map(|v| match v {
            Verdict::Approve => "approved",
            Verdict::Reject => "rejected",
        });
        let status = answer.status.map(status_name);
        let mut text = format!(
            "answered request {} for return {}: acknowledged",
            request.request_id,
            return_id(request)
        );
        if let Some(v) = &verdict {
            text.push_str(&format!(", {v}"));
        }
        if let Some(s) = status {
            text.push_str(&format!("; the return is {s}"));
        }
        self.line(
            text,
            json!({
                "event": "answered",
                "request_id": request.request_id,
                "return_id": return_id(request),
                "verdict": answer.verdict.map(|v| match v {
                    Verdict::Approve => pb::SupplierVerdict::Approve.as_str_name(),
                    Verdict::Reject => pb::SupplierVerdict::Reject.as_str_name(),
                }),
                "return_status": answer.status.map(|s| s.as_str_name()),
            }),
        );
    }

    /// An answer the server did not take.
    pub fn not_answered(&self, request: &pb::ReceiveReturnRequestRequest, status: &tonic::Status) {
        let why = explain(status.clone()).to_string();
        self.line(
            format!(
                "could not answer request {} for return {}: {why}",
                request.request_id,
                return_id(request)
            ),
            json!({
                "event": "not_answered",
                "request_id": request.request_id,
                "return_id": return_id(request),
                "error": why,
            }),
        );
    }

    /// The count of answers was reached.
    pub fn done(&self, answered: u64) {
        let noun = if answered == 1 { "request" } else { "requests" };
        self.line(
            format!("answered {answered} {noun}; stopping"),
            json!({"event": "done", "answered": answered}),
        );
    }

    /// A signal asked the simulator to stop.
    pub fn stopping(&self) {
        self.line("stopping".into(), json!({"event": "stopping"}));
    }
}
