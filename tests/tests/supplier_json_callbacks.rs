//! Suppliers answer over HTTP/1.1 + JSON (the JSON callback endpoint) with a plain HTTP client: the
//! same keys, idempotency and errors as SupplierCallbackService over gRPC, and the return changes
//! the same way.

use returnbridge_proto::v1 as pb;
use returnbridge_tests::fixtures::get_return;
use returnbridge_tests::http_json::{post_json, send};
use returnbridge_tests::spawn_app;
use returnbridge_tests::supplier_world::SupplierWorld as World;
use serde_json::json;

fn approve() -> serde_json::Value {
    json!({"decision": {"verdict": "SUPPLIER_VERDICT_APPROVE", "returnInstructions": "to Lyon"}})
}

fn reject() -> serde_json::Value {
    json!({"decision": {"verdict": "SUPPLIER_VERDICT_REJECT",
        "reasons": [{"code": "NOT_DEFECTIVE", "message": "works as specified"}]}})
}

#[tokio::test]
async fn a_supplier_acknowledges_and_decides_over_json_and_the_return_follows() {
    let app = spawn_app().await;
    let w = World::new(&app, "acme").await;
    let (r, request_id) = w.pending(&app, "SO-1", "NONE").await;
    let key = Some(w.supplier_key.as_str());

    // No body at all: the path says everything an acknowledgement needs.
    let bearer = format!("Bearer {}", w.supplier_key);
    let path = format!("/v1/supplier/requests/{request_id}:acknowledge");
    let acked = send(
        app.callbacks_addr,
        "POST",
        &path,
        &[("Authorization", &bearer)],
        b"",
    )
    .await;
    assert_eq!(
        acked.status,
        200,
        "{}",
        String::from_utf8_lossy(&acked.body)
    );
    assert_eq!(acked.header("content-type"), Some("application/json"));
    let request = &acked.json()["request"];
    assert_eq!(request["requestId"], request_id.as_str());
    assert_eq!(request["state"], "SUPPLIER_REQUEST_STATE_ACKNOWLEDGED");

    let decide = format!("/v1/supplier/requests/{request_id}:decide");
    let once = [("Idempotency-Key", "decide-SO-1")];
    let approved = post_json(app.callbacks_addr, &decide, key, &once, &approve()).await;
    assert_eq!(
        approved.status,
        200,
        "{}",
        String::from_utf8_lossy(&approved.body)
    );
    let answered = approved.json();
    assert_eq!(
        answered["supplierReturn"]["status"],
        "RETURN_STATUS_AUTHORIZED"
    );
    let seen = get_return(&app, &w.seller, &r.return_id).await;
    assert_eq!(seen.status, pb::ReturnStatus::Authorized as i32);
    let decision = seen.supplier_decision.unwrap();
    assert_eq!(decision.verdict, pb::SupplierVerdict::Approve as i32);
    assert_eq!(decision.return_instructions, "to Lyon");

    // A retry under the same key is the same answer, byte for byte; another request under it is
    // refused, and another answer without one is a conflict.
    let replayed = post_json(app.callbacks_addr, &decide, key, &once, &approve()).await;
    assert_eq!(replayed.status, 200);
    assert_eq!(replayed.body, approved.body);
    let reused = post_json(app.callbacks_addr, &decide, key, &once, &reject()).await;
    assert_eq!(reused.status, 400);
    assert_eq!(reused.error().1, "IDEMPOTENCY_KEY_REUSED");
    let changed = post_json(app.callbacks_addr, &decide, key, &[], &reject()).await;
    assert_eq!(changed.status, 409);
    let (status, reason, _) = changed.error();
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("FAILED_PRECONDITION", "ALREADY_ANSWERED")
    );
    assert_eq!(get_return(&app, &w.seller, &r.return_id).await.version, 3);
}

#[tokio::test]
async fn the_supplier_reports_receipt_inspection_and_credit_over_json() {
    let app = spawn_app().await;
    let w = World::new(&app, "acme").await;
    let (r, request_id) = w.pending(&app, "SO-1", "NONE").await;
    let (addr, key) = (app.callbacks_addr, Some(w.supplier_key.as_str()));
    let decide = format!("/v1/supplier/requests/{request_id}:decide");
    assert_eq!(
        post_json(addr, &decide, key, &[], &approve()).await.status,
        200
    );

    let on_return = |verb: &str| format!("/v1/supplier/returns/{}:{verb}", r.return_id);
    let received = post_json(
        addr,
        &on_return("reportReceipt"),
        key,
        &[],
        &json!({"receipt": {}}),
    )
    .await;
    assert_eq!(
        received.json()["supplierReturn"]["status"],
        "RETURN_STATUS_RECEIVED"
    );
    let inspection = json!({"inspection": {"outcome": "INSPECTION_OUTCOME_PASSED"}});
    let inspected = post_json(addr, &on_return("reportInspection"), key, &[], &inspection).await;
    assert_eq!(
        inspected.json()["supplierReturn"]["status"],
        "RETURN_STATUS_INSPECTED"
    );
    // The body may name the id too (either JSON spelling), as long as it is the path's.
    let credit = json!({"return_id": r.return_id, "creditReference": "CN-7",
        "amount": {"currencyCode": "EUR", "amountMinor": "3000"}});
    let credited = post_json(addr, &on_return("confirmCredit"), key, &[], &credit).await;
    assert_eq!(
        credited.status,
        200,
        "{}",
        String::from_utf8_lossy(&credited.body)
    );

    let seen = get_return(&app, &w.seller, &r.return_id).await;
    assert_eq!(seen.status, pb::ReturnStatus::Inspected as i32);
    assert_eq!(seen.credit.unwrap().credit_reference, "CN-7");
}

#[tokio::test]
async fn a_key_answers_only_its_own_suppliers_requests() {
    let app = spawn_app().await;
    let w = World::new(&app, "acme").await;
    let (r, request_id) = w.pending(&app, "SO-1", "NONE").await;
    let path = format!("/v1/supplier/requests/{request_id}:acknowledge");

    let stranger = World::new(&app, "acme").await;
    let theirs = post_json(
        app.callbacks_addr,
        &path,
        Some(&stranger.supplier_key),
        &[],
        &json!({}),
    )
    .await;
    assert_eq!(theirs.status, 404);
    let (status, reason, _) = theirs.error();
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("NOT_FOUND", "SUPPLIER_REQUEST_NOT_FOUND")
    );

    let anonymous = post_json(app.callbacks_addr, &path, None, &[], &json!({})).await;
    assert_eq!(anonymous.status, 401);
    let (status, reason, _) = anonymous.error();
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("UNAUTHENTICATED", "API_KEY_MISSING")
    );

    // A seller's key answers nothing here either.
    let seller = post_json(app.callbacks_addr, &path, Some(&w.seller), &[], &json!({})).await;
    assert_eq!(
        seller.status,
        403,
        "{}",
        String::from_utf8_lossy(&seller.body)
    );
    let seen = get_return(&app, &w.seller, &r.return_id).await;
    assert_eq!(seen.version, r.version, "nothing changed");
}

#[tokio::test]
async fn bad_input_is_refused_with_its_field_and_changes_nothing() {
    let app = spawn_app().await;
    let w = World::new(&app, "acme").await;
    let (r, request_id) = w.pending(&app, "SO-1", "NONE").await;
    let (addr, key) = (app.callbacks_addr, w.supplier_key.as_str());
    let bearer = format!("Bearer {key}");
    let decide = format!("/v1/supplier/requests/{request_id}:decide");
    let json_headers = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];

    let cases: [(&str, &[u8], u16, &str); 6] = [
        ("malformed JSON", b"{\"decision\": ", 400, "body"),
        (
            "an unknown field",
            br#"{"decision": {"verdikt": 1}}"#,
            400,
            "body",
        ),
        (
            "an unknown enum value",
            br#"{"decision": {"verdict": "MAYBE"}}"#,
            400,
            "body",
        ),
        ("not an object", b"[]", 400, "body"),
        (
            "another request's id",
            br#"{"requestId": "0190d6a4-0000-7000-8000-000000000000"}"#,
            400,
            "request_id",
        ),
        (
            "no verdict",
            br#"{"decision": {}}"#,
            400,
            "decision.verdict",
        ),
    ];
    for (case, body, status, field) in cases {
        let answer = send(addr, "POST", &decide, &json_headers, body).await;
        assert_eq!(
            answer.status,
            status,
            "{case}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        let (code, reason, fields) = answer.error();
        assert_eq!(
            (code.as_str(), reason.as_str()),
            ("INVALID_ARGUMENT", "INVALID_ARGUMENT"),
            "{case}"
        );
        assert_eq!(fields, [field], "{case}");
    }

    let form = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let wrong_type = send(addr, "POST", &decide, &form, b"verdict=approve").await;
    assert_eq!(wrong_type.status, 415);
    assert_eq!(wrong_type.error().2, ["content-type"]);
    let untyped = send(
        addr,
        "POST",
        &decide,
        &[("Authorization", bearer.as_str())],
        b"{}",
    )
    .await;
    assert_eq!(untyped.status, 415);

    let huge = vec![b' '; returnbridge_gateway::json_callbacks::MAX_BODY + 1];
    let too_large = send(addr, "POST", &decide, &json_headers, &huge).await;
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.error().2, ["body"]);

    let seen = get_return(&app, &w.seller, &r.return_id).await;
    assert_eq!(seen.version, r.version, "nothing changed");
    assert_eq!(seen.status, pb::ReturnStatus::PendingSupplier as i32);
}

#[tokio::test]
async fn unknown_paths_and_methods_are_refused() {
    let app = spawn_app().await;
    let w = World::new(&app, "acme").await;
    let (_, request_id) = w.pending(&app, "SO-1", "NONE").await;
    let key = Some(w.supplier_key.as_str());
    for path in [
        format!("/v1/supplier/requests/{request_id}:approve"),
        format!("/v1/supplier/returns/{request_id}:acknowledge"),
        "/v1/supplier/requests".to_owned(),
        "/returnbridge.v1.SupplierCallbackService/AcknowledgeRequest".to_owned(),
    ] {
        let answer = post_json(app.callbacks_addr, &path, key, &[], &json!({})).await;
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(answer.error().0, "NOT_FOUND", "{path}");
    }
    let path = format!("/v1/supplier/requests/{request_id}:acknowledge");
    let get = send(app.callbacks_addr, "GET", &path, &[], b"").await;
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    assert_eq!(get.error().0, "UNIMPLEMENTED");
}
