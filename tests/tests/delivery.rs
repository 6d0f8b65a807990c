//! Delivery of supplier requests through the real server: an authorized return reaches its mock
//! webhook supplier signed per Standard Webhooks, failures are retried on the schedule (on a manual
//! clock) with the same message id, one hanging supplier does not hold up another, and private
//! destinations are refused unless allowed. SQLite, or PostgreSQL with `TEST_DATABASE_URL`.

use chrono::Utc;
use returnbridge_core::clock::ManualClock;
use returnbridge_domain::ids::{ReturnId, TenantId};
use returnbridge_proto::v1 as pb;
use returnbridge_store::AttemptOutcome;
use returnbridge_tests::fixtures::{authorize, changed_mind};
use returnbridge_tests::supplier_mock::{Behaviour, MockInbox, MockSupplier};
use returnbridge_tests::webhooks::{
    attempts, seller_with_supplier_at, seller_with_webhook_supplier, verified,
};
use returnbridge_tests::{Auth, FreshStore, TestApp, spawn_app, spawn_app_configured};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorized_return_reaches_its_webhook_supplier_signed_and_once() {
    let app = spawn_app().await;
    let mock = MockSupplier::accepting().await;
    let (key, supplier, secret) = seller_with_webhook_supplier(&app, "acme", &mock.url()).await;
    let authorized = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;

    let request = mock.wait_for(1).await.remove(0);
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/hooks")
    );
    assert_eq!(request.header("content-type"), "application/json");
    let body = verified(&request, &secret);
    let id = request.header("webhook-id");
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("supplier_request."),
        "{body}"
    );
    assert!(body["timestamp"].is_string());
    let data = &body["data"];
    assert_eq!(data["requestId"], id);
    assert_eq!(data["attempt"], 1);
    assert_eq!(data["sellerId"], "acme");
    assert_eq!(data["supplierId"], supplier);
    let trace = request.header("traceparent");
    assert_eq!(
        trace.split('-').nth(1),
        Some(
            uuid::Uuid::parse_str(id)
                .unwrap()
                .simple()
                .to_string()
                .as_str()
        ),
        "{trace}"
    );

    let recorded = attempts(&app, "acme", &authorized.return_id, 1).await;
    assert!(recorded[0].delivered, "{recorded:?}");
    let (_, text) = app.scrape("/metrics").await;
    let series = |name: &str, labels: &str| {
        returnbridge_tests::sample(
            &text,
            &format!("{name}{{supplier_id=\"{supplier}\",{labels}}}"),
        )
    };
    assert_eq!(
        series(
            "returnbridge_delivery_attempts_total",
            "transport=\"webhook\",outcome=\"delivered\""
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(
            "returnbridge_delivery_duration_seconds_count",
            "transport=\"webhook\""
        ),
        Some(1.0)
    );
    assert_eq!(recorded[0].outcome, AttemptOutcome::HttpStatus(204));
    assert_eq!(recorded[0].message_id.to_string(), id);
    // Delivered once: nothing more comes.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(mock.received().len(), 1);
    // The seller sees it on the return: the request delivered, and an event saying when.
    let seen = returnbridge_tests::fixtures::get_return(&app, &key, &authorized.return_id).await;
    let sent = &seen.supplier_requests[0];
    assert_eq!(sent.state, pb::SupplierRequestState::Delivered as i32);
    assert!(sent.deliver_time.is_some());
    assert_eq!(sent.delivery_attempts, 1);
    let events =
        returnbridge_tests::fixtures::return_events(&app, &key, &authorized.return_id).await;
    let kinds: Vec<i32> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(
        kinds,
        [
            pb::ReturnEventType::Decided as i32,
            pb::ReturnEventType::SupplierRequestDelivered as i32
        ]
    );
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_supplier_is_retried_on_the_schedule_with_the_same_webhook_id() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = returnbridge_tests::spawn_app_with_clock(clock.clone()).await;
    let mock = MockSupplier::start(Behaviour::Script(vec![
        (503, Vec::new()),
        (429, vec![("retry-after".into(), "3600".into())]),
    ]))
    .await;
    let (key, supplier, secret) = seller_with_webhook_supplier(&app, "acme", &mock.url()).await;
    let authorized = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;

    // First attempt: 503, retried 5 s (±20%) later by the server's clock.
    mock.wait_for(1).await;
    let first = attempts(&app, "acme", &authorized.return_id, 1).await;
    assert_eq!(first[0].outcome, AttemptOutcome::HttpStatus(503));
    let wait = first[0].next_attempt_at.unwrap() - first[0].started_at;
    assert!((4_000..=6_100).contains(&wait.num_milliseconds()), "{wait}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(mock.received().len(), 1, "not before its time");

    // Second: a 429 asking for an hour, clamped to twice the 5 min base.
    clock.advance(chrono::Duration::seconds(7));
    mock.wait_for(2).await;
    let second = attempts(&app, "acme", &authorized.return_id, 2).await;
    assert_eq!(second[1].outcome, AttemptOutcome::HttpStatus(429));
    let wait = second[1].next_attempt_at.unwrap() - second[1].started_at;
    assert!((599..=601).contains(&wait.num_seconds()), "{wait}");

    // Third: delivered.
    clock.advance(chrono::Duration::seconds(601));
    let all = mock.wait_for(3).await;
    let third = attempts(&app, "acme", &authorized.return_id, 3).await;
    assert!(third[2].delivered);
    assert_eq!(
        third.iter().map(|a| a.attempt_no).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let ids: Vec<_> = all
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let numbers: Vec<_> = all
        .iter()
        .map(|r| verified(r, &secret)["data"]["attempt"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, vec![1, 2, 3]);
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_supplier_does_not_hold_up_another_suppliers_deliveries() {
    let app = spawn_app().await;
    let hanging = MockSupplier::start(Behaviour::Hang).await;
    let healthy = MockSupplier::accepting().await;
    let (key, stuck, _) = seller_with_webhook_supplier(&app, "acme", &hanging.url()).await;
    // More requests than the hanging supplier's concurrency limit: its queue is full.
    for order in 0..20 {
        authorize(&app, &key, changed_mind(&stuck, &format!("STUCK-{order}"))).await;
    }
    hanging.wait_for(16).await;
    let (other_key, fine, _) = seller_with_webhook_supplier(&app, "globex", &healthy.url()).await;
    let started = std::time::Instant::now();
    authorize(&app, &other_key, changed_mind(&fine, "FINE-1")).await;
    healthy.wait_for(1).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        hanging.received().len(),
        16,
        "at most 16 in flight per supplier"
    );
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_destinations_are_refused_unless_allowed() {
    let app = spawn_app_configured(
        FreshStore::create().await,
        Arc::new(returnbridge_core::clock::SystemClock),
        |settings| settings.gateway.allow_private_destinations = false,
    )
    .await;
    let mock = MockSupplier::accepting().await;
    let (key, supplier, _) = seller_with_webhook_supplier(&app, "acme", &mock.url()).await;
    let authorized = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;
    let recorded = attempts(&app, "acme", &authorized.return_id, 1).await;
    assert_eq!(recorded[0].outcome, AttemptOutcome::DestinationRefused);
    assert!(!recorded[0].delivered);
    assert!(
        recorded[0].response_excerpt.contains("loopback"),
        "{:?}",
        recorded[0]
    );
    assert!(mock.received().is_empty());
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grpc_supplier_gets_the_request_with_the_message_id_and_is_retried_after_a_failure() {
    let app = spawn_app().await;
    let inbox = MockInbox::start(&[tonic::Code::Unavailable]).await;
    let connector = pb::supplier::Connector::Grpc(pb::GrpcConnector {
        endpoint: inbox.endpoint(),
    });
    let (key, supplier, _) = seller_with_supplier_at(&app, "acme", connector).await;
    let authorized = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;

    let first = attempts(&app, "acme", &authorized.return_id, 1).await;
    assert_eq!(
        first[0].outcome,
        AttemptOutcome::GrpcCode(tonic::Code::Unavailable as i32)
    );
    // The second attempt follows the 5 s (±20%) retry.
    let got = inbox.wait_for(2).await;
    let both = attempts(&app, "acme", &authorized.return_id, 2).await;
    assert!(both[1].delivered, "{both:?}");
    assert_eq!(both[1].outcome, AttemptOutcome::GrpcCode(0));
    let message_id = first[0].message_id.to_string();
    assert_eq!(
        got.iter()
            .map(|r| (r.request_id.as_str(), r.attempt))
            .collect::<Vec<_>>(),
        vec![(message_id.as_str(), 1), (message_id.as_str(), 2)]
    );
    assert_eq!(got[0].seller_id, "acme");
    assert_eq!(got[0].supplier_id, supplier);
    assert!(got[1].send_time.is_some());
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failures_in_a_row_open_the_breaker_and_later_messages_wait_without_an_attempt() {
    let app = spawn_app().await;
    let failing = MockSupplier::answering(&[500; 10]).await;
    let healthy = MockSupplier::accepting().await;
    let (key, broken, _) = seller_with_webhook_supplier(&app, "acme", &failing.url()).await;
    let mut returns = Vec::new();
    for order in 0..5 {
        let r = authorize(
            &app,
            &key,
            changed_mind(&broken, &format!("BROKEN-{order}")),
        )
        .await;
        attempts(&app, "acme", &r.return_id, 1).await;
        returns.push(r);
    }
    // Open: the sixth message is neither sent nor counted.
    let sixth = authorize(&app, &key, changed_mind(&broken, "BROKEN-5")).await;
    let (other_key, fine, _) = seller_with_webhook_supplier(&app, "globex", &healthy.url()).await;
    authorize(&app, &other_key, changed_mind(&fine, "FINE-1")).await;
    healthy.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(failing.received().len(), 5);
    let tenant = TenantId::parse("acme").unwrap();
    let held = app
        .store
        .attempts_for_return(&tenant, ReturnId::parse(&sixth.return_id).unwrap())
        .await
        .unwrap();
    assert!(
        held.iter()
            .all(|a| a.outcome == AttemptOutcome::BreakerOpen),
        "{held:?}"
    );
    // Operations see it: the breaker's gauge, and the refused attempts by outcome.
    let (_, text) = app.scrape("/metrics").await;
    let series = |name: &str, labels: &str| {
        returnbridge_tests::sample(
            &text,
            &format!("{name}{{supplier_id=\"{broken}\"{labels}}}"),
        )
    };
    assert_eq!(
        series("returnbridge_supplier_circuit_open", ""),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(
            "returnbridge_delivery_attempts_total",
            ",transport=\"webhook\",outcome=\"refused\""
        ),
        Some(5.0)
    );
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_a_failed_attempt_and_is_not_followed() {
    let app = spawn_app().await;
    let elsewhere = MockSupplier::accepting().await;
    let mock = MockSupplier::start(Behaviour::Script(vec![(
        307,
        vec![("location".into(), elsewhere.url())],
    )]))
    .await;
    let (key, supplier, _) = seller_with_webhook_supplier(&app, "acme", &mock.url()).await;
    let authorized = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;
    let recorded = attempts(&app, "acme", &authorized.return_id, 1).await;
    assert_eq!(recorded[0].outcome, AttemptOutcome::HttpStatus(307));
    assert!(!recorded[0].delivered);
    assert!(recorded[0].next_attempt_at.is_some());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(elsewhere.received().is_empty(), "the redirect was followed");
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_without_an_answer_in_time_is_a_timeout_retried_no_sooner_than_a_minute() {
    let app = spawn_app_configured(
        FreshStore::create().await,
        Arc::new(returnbridge_core::clock::SystemClock),
        |settings| settings.gateway.attempt_timeout_ms = 300,
    )
    .await;
    let mock = MockSupplier::start(Behaviour::Hang).await;
    let (key, supplier, _) = seller_with_webhook_supplier(&app, "acme", &mock.url()).await;
    let authorized = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;
    let recorded = attempts(&app, "acme", &authorized.return_id, 1).await;
    assert_eq!(recorded[0].outcome, AttemptOutcome::Timeout);
    assert!(
        (300..2000).contains(&recorded[0].duration_ms),
        "{:?}",
        recorded[0]
    );
    let wait = recorded[0].next_attempt_at.unwrap() - recorded[0].started_at;
    assert!(wait >= chrono::Duration::seconds(60), "{wait}");
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_whose_retries_ran_out_is_listed_and_redelivered_under_the_same_id() {
    use returnbridge_proto::v1::delivery_service_client::DeliveryServiceClient;
    use returnbridge_proto::v1::list_delivery_attempts_request::Subject;
    // No retries: the first failure is final.
    let app = spawn_app_configured(
        FreshStore::create().await,
        Arc::new(returnbridge_core::clock::SystemClock),
        |settings| settings.gateway.retry_schedule_secs = Vec::new(),
    )
    .await;
    let mock = MockSupplier::answering(&[500]).await;
    let (key, supplier, _) = seller_with_webhook_supplier(&app, "acme", &mock.url()).await;
    let authorized = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;
    attempts(&app, "acme", &authorized.return_id, 1).await;

    let mut deliveries =
        DeliveryServiceClient::with_interceptor(app.channel.clone(), Auth::key(&key));
    let list = |subject| pb::ListDeliveryAttemptsRequest {
        subject: Some(subject),
        ..Default::default()
    };
    let by_return = deliveries
        .list_delivery_attempts(list(Subject::ReturnId(authorized.return_id.clone())))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_return.attempts.len(), 1);
    let failed = &by_return.attempts[0];
    assert_eq!(
        (
            failed.outcome,
            failed.status_code,
            failed.delivered,
            failed.attempt
        ),
        (pb::DeliveryOutcome::HttpStatus as i32, 500, false, 1)
    );
    assert_eq!(failed.next_attempt_time, None, "no retries left");
    assert_eq!(
        (failed.return_id.as_str(), failed.supplier_id.as_str()),
        (authorized.return_id.as_str(), supplier.as_str())
    );
    let by_supplier = deliveries
        .list_delivery_attempts(list(Subject::SupplierId(supplier.clone())))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_supplier.attempts, by_return.attempts);
    // The seller is told on the return, in its event stream.
    let mut told = Vec::new();
    for _ in 0..50 {
        told = returnbridge_tests::fixtures::return_events(&app, &key, &authorized.return_id).await;
        if told.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let last = told.last().unwrap();
    assert_eq!(
        last.event_type,
        pb::ReturnEventType::SupplierDeliveryFailed as i32
    );
    let Some(pb::return_event::Detail::SupplierRequest(request)) = &last.detail else {
        panic!("{last:?}");
    };
    assert_eq!(
        request.request_id,
        authorized.supplier_requests[0].request_id
    );
    assert_eq!(request.delivery_attempts, 1);

    // Another seller cannot see or redeliver it.
    let other = app.seller_key("globex").await;
    let mut theirs =
        DeliveryServiceClient::with_interceptor(app.channel.clone(), Auth::key(&other));
    let seen = theirs
        .list_delivery_attempts(list(Subject::ReturnId(authorized.return_id.clone())))
        .await
        .unwrap()
        .into_inner();
    assert!(seen.attempts.is_empty());
    let refused = theirs
        .redeliver_request(pb::RedeliverRequestRequest {
            request_id: failed.request_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound);
    assert_eq!(
        returnbridge_tests::reason(&refused),
        "SUPPLIER_REQUEST_NOT_FOUND"
    );
    let malformed = deliveries
        .redeliver_request(pb::RedeliverRequestRequest {
            request_id: "not-a-uuid".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        returnbridge_tests::violated_fields(&malformed),
        vec!["request_id"]
    );

    deliveries
        .redeliver_request(pb::RedeliverRequestRequest {
            request_id: failed.request_id.clone(),
        })
        .await
        .unwrap();
    let got = mock.wait_for(2).await;
    assert_eq!(got[1].header("webhook-id"), failed.request_id);
    assert_eq!(got[1].json()["data"]["attempt"], 2);
    let after = attempts(&app, "acme", &authorized.return_id, 2).await;
    assert!(after[1].delivered);
    let again = deliveries
        .redeliver_request(pb::RedeliverRequestRequest {
            request_id: failed.request_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        again.code(),
        tonic::Code::NotFound,
        "a delivered request is not redelivered"
    );
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_signs_beside_the_new_one_for_a_day_then_stops() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = returnbridge_tests::spawn_app_with_clock(clock.clone()).await;
    let mock = MockSupplier::accepting().await;
    let (key, supplier, old) = seller_with_webhook_supplier(&app, "acme", &mock.url()).await;
    let rotated = app
        .contracts(Auth::key(&key))
        .update_supplier(pb::UpdateSupplierRequest {
            supplier: Some(pb::Supplier {
                supplier_id: supplier.clone(),
                ..Default::default()
            }),
            update_mask: None,
            expected_version: 0,
            rotate_webhook_secret: true,
        })
        .await
        .unwrap()
        .into_inner();
    let new = rotated.webhook_signing_secret;
    assert!(new.starts_with("whsec_") && new != old, "{new}");
    assert_eq!(rotated.supplier.unwrap().version, 2);

    authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;
    let during = mock.wait_for(1).await.remove(0);
    assert_eq!(during.header("webhook-signature").split(' ').count(), 2);
    verified(&during, &new);
    verified(&during, &old);

    clock.advance(chrono::Duration::hours(25));
    authorize(&app, &key, changed_mind(&supplier, "ORDER-2")).await;
    let after = mock.wait_for(2).await.remove(1);
    assert_eq!(after.header("webhook-signature").split(' ').count(), 1);
    verified(&after, &new);
    app.stop().await.unwrap();
}

/// Sets the supplier's delivery policy.
async fn set_delivery_policy(app: &TestApp, key: &str, supplier: &str, policy: pb::DeliveryPolicy) {
    let updated = app
        .contracts(Auth::key(key))
        .update_supplier(pb::UpdateSupplierRequest {
            supplier: Some(pb::Supplier {
                supplier_id: supplier.into(),
                delivery: Some(policy.clone()),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["delivery".into()],
            }),
            expected_version: 0,
            rotate_webhook_secret: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.supplier.unwrap().delivery, Some(policy));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplier_with_its_own_retry_schedule_is_retried_on_it_and_fails_when_it_runs_out() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = returnbridge_tests::spawn_app_with_clock(clock.clone()).await;
    let mock = MockSupplier::answering(&[503, 503, 503]).await;
    let (key, supplier, _) = seller_with_webhook_supplier(&app, "acme", &mock.url()).await;
    set_delivery_policy(
        &app,
        &key,
        &supplier,
        pb::DeliveryPolicy {
            retry_delays: vec![prost_types::Duration {
                seconds: 120,
                nanos: 0,
            }],
            max_requests_per_second: 0,
        },
    )
    .await;
    let authorized = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;

    let first = attempts(&app, "acme", &authorized.return_id, 1).await;
    let wait = first[0].next_attempt_at.unwrap() - first[0].started_at;
    assert!(
        (96..=144).contains(&wait.num_seconds()),
        "2 min ±20%: {wait}"
    );
    clock.advance(chrono::Duration::seconds(150));
    let second = attempts(&app, "acme", &authorized.return_id, 2).await;
    assert_eq!(second[1].next_attempt_at, None, "one retry, then failed");
    let events =
        returnbridge_tests::fixtures::return_events(&app, &key, &authorized.return_id).await;
    assert_eq!(
        events.last().unwrap().event_type,
        pb::ReturnEventType::SupplierDeliveryFailed as i32
    );
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_supplier_gets_its_requests_paced() {
    let app = spawn_app().await;
    let mock = MockSupplier::accepting().await;
    let (key, supplier, _) = seller_with_webhook_supplier(&app, "acme", &mock.url()).await;
    set_delivery_policy(
        &app,
        &key,
        &supplier,
        pb::DeliveryPolicy {
            retry_delays: vec![],
            max_requests_per_second: 4,
        },
    )
    .await;
    for i in 0..5 {
        authorize(&app, &key, changed_mind(&supplier, &format!("ORDER-{i}"))).await;
    }
    let arrivals: Vec<_> = mock.wait_for(5).await.iter().map(|r| r.at).collect();
    // A burst of one, then one every 250 ms: five take at least a second, however fast the machine.
    let span = *arrivals.iter().max().unwrap() - *arrivals.iter().min().unwrap();
    assert!(span >= Duration::from_millis(950), "{span:?}");
    app.stop().await.unwrap();
}
