//! The Prometheus endpoint, scraped over a real socket after real calls: the call histogram by
//! method and status code, and the decisions counter.

use returnbridge_proto::v1 as pb;
use returnbridge_tests::fixtures::{authorize, changed_mind, seller_with_supplier};
use returnbridge_tests::{Auth, sample, spawn_app};
use tonic::Code;

const RETURNS: &str = "/returnbridge.v1.ReturnService";

fn calls(text: &str, method: &str, code: &str) -> Option<f64> {
    sample(
        text,
        &format!(
            "rpc_server_call_duration_seconds_count{{rpc_method=\"{method}\",rpc_status_code=\"{code}\"}}"
        ),
    )
}

#[tokio::test]
async fn calls_and_decisions_are_counted_by_method_status_and_outcome() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let decided = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;

    let invalid = app
        .returns(Auth::key(&key))
        .get_return(pb::GetReturnRequest {
            return_id: "not-an-id".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    for _ in 0..2 {
        let denied = app
            .returns(Auth::none())
            .get_return(pb::GetReturnRequest {
                return_id: decided.return_id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::Unauthenticated);
    }
    app.returns(Auth::key(&key))
        .get_return(pb::GetReturnRequest {
            return_id: decided.return_id.clone(),
        })
        .await
        .unwrap();

    let (status, text) = app.scrape("/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let authorize_return = format!("{RETURNS}/AuthorizeReturn");
    let get_return = format!("{RETURNS}/GetReturn");
    assert_eq!(calls(&text, &authorize_return, "OK"), Some(1.0), "{text}");
    assert_eq!(calls(&text, &get_return, "OK"), Some(1.0), "{text}");
    assert_eq!(
        calls(&text, &get_return, "INVALID_ARGUMENT"),
        Some(1.0),
        "{text}"
    );
    // Failed authentication is a call like any other.
    assert_eq!(
        calls(&text, &get_return, "UNAUTHENTICATED"),
        Some(2.0),
        "{text}"
    );
    // Every call falls in the +Inf bucket; its buckets are the semconv boundaries.
    let inf = format!(
        "rpc_server_call_duration_seconds_bucket{{le=\"+Inf\",rpc_method=\"{get_return}\",rpc_status_code=\"UNAUTHENTICATED\"}}"
    );
    assert_eq!(sample(&text, &inf), Some(2.0), "{text}");
    assert!(text.contains(&format!("le=\"0.005\",rpc_method=\"{get_return}\"")));
    assert!(text.contains(&format!("le=\"10.0\",rpc_method=\"{get_return}\"")));

    let decision = decided.decision.unwrap();
    let outcome = pb::DecisionOutcome::try_from(decision.outcome)
        .unwrap()
        .as_str_name()
        .trim_start_matches("DECISION_OUTCOME_")
        .to_owned();
    let first_reason = &decision.reasons[0].code;
    assert!(
        text.contains("# TYPE returnbridge_returns_decided counter"),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!(
                "returnbridge_returns_decided_total{{outcome=\"{outcome}\",reason=\"{first_reason}\"}}"
            )
        ),
        Some(1.0),
        "{text}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_idempotent_replay_is_not_a_second_decision() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let request = changed_mind(&supplier, "ORDER-1");
    for _ in 0..2 {
        app.returns(Auth::key(&key).idempotent("the-same-key"))
            .authorize_return(request.clone())
            .await
            .unwrap();
    }
    let (_, text) = app.scrape("/metrics").await;
    let decided: f64 = text
        .lines()
        .filter(|l| l.starts_with("returnbridge_returns_decided_total{"))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
        .sum();
    assert_eq!(decided, 1.0, "{text}");
    assert_eq!(
        calls(&text, &format!("{RETURNS}/AuthorizeReturn"), "OK"),
        Some(2.0),
        "{text}"
    );
}

#[tokio::test]
async fn the_metrics_listener_answers_nothing_but_metrics() {
    let app = spawn_app().await;
    let (status, _) = app.scrape("/").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
}

#[tokio::test]
async fn the_metrics_endpoint_stops_with_the_server() {
    let app = spawn_app().await;
    let addr = app.metrics_addr;
    app.stop().await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
