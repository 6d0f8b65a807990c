//! The proto documents exactly the codes the server sends: every `ErrorInfo` reason and every
//! decision reason code is listed where clients read the API, and nothing listed is never sent.

use returnbridge_domain::{ErrorReason, ReasonCode};
use std::collections::BTreeSet;

const COMMON: &str = include_str!("../../proto/returnbridge/v1/common.proto");
const RETURN: &str = include_str!("../../proto/returnbridge/v1/return.proto");
const ALL_PROTOS: &[&str] = &[
    COMMON,
    RETURN,
    include_str!("../../proto/returnbridge/v1/contract_service.proto"),
    include_str!("../../proto/returnbridge/v1/liability.proto"),
    include_str!("../../proto/returnbridge/v1/liability_service.proto"),
    include_str!("../../proto/returnbridge/v1/return_service.proto"),
    include_str!("../../proto/returnbridge/v1/sla_service.proto"),
    include_str!("../../proto/returnbridge/v1/delivery_service.proto"),
    // supplier_callback_service.proto describes the callbacks the gateway issue builds; its reasons
    // join the catalogue with them.
];

/// The codes of a catalogue comment: lines `<indent>//   CODE: what it means`.
fn listed(proto: &str, indent: &str) -> BTreeSet<String> {
    let prefix = format!("{indent}//   ");
    proto
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|l| l.split_once(':'))
        .map(|(code, _)| code.to_owned())
        .filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
        .collect()
}

#[test]
fn common_proto_lists_every_error_reason_the_server_sends_and_no_other() {
    let sent: BTreeSet<String> = ErrorReason::ALL.iter().map(|r| r.as_str().into()).collect();
    assert_eq!(listed(COMMON, ""), sent);
}

#[test]
fn decision_reason_lists_every_decision_code_and_no_other() {
    let sent: BTreeSet<String> = ReasonCode::ALL.iter().map(|r| r.as_str().into()).collect();
    assert_eq!(listed(RETURN, "  "), sent);
}

#[test]
fn every_reason_a_proto_comment_names_is_one_the_server_sends() {
    let known: BTreeSet<&str> = ErrorReason::ALL
        .iter()
        .map(|r| r.as_str())
        .chain(ReasonCode::ALL.iter().map(|r| r.as_str()))
        .collect();
    let mut unknown = Vec::new();
    for proto in ALL_PROTOS {
        // "(reason RETURN_NOT_RESOLVED)", "reason `EXTENDED_CANCELLATION_RIGHT`"
        for (i, _) in proto.match_indices("reason ") {
            let named: String = proto[i + "reason ".len()..]
                .trim_start_matches('`')
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            if named.len() > 3 && !known.contains(named.as_str()) {
                unknown.push(named);
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "named in a proto, never sent: {unknown:?}"
    );
}
