//! The `idempotency-key` of ReturnService's mutating calls: required by AuthorizeReturn, a repeat
//! answers the stored response with no second effect, a reused key with another request is refused,
//! and concurrent duplicates have exactly one effect.

use returnbridge_proto::v1 as pb;
use returnbridge_tests::fixtures::{
    authorize, changed_mind, get_return, list_returns, return_events, seller_with_supplier,
    ship_request,
};
use returnbridge_tests::{Auth, reason, spawn_app, violated_fields};
use tonic::Code;

#[tokio::test]
async fn authorize_return_without_an_idempotency_key_is_invalid_and_creates_nothing() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let err = app
        .returns(Auth::key(&key))
        .authorize_return(changed_mind(&supplier, "ORDER-1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["idempotency-key"]);
    assert!(list_returns(&app, &key).await.is_empty());
}

#[tokio::test]
async fn a_malformed_or_over_long_idempotency_key_is_invalid_and_creates_nothing() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    // The proto allows 1 to 200 printable ASCII characters.
    for bad in ["x".repeat(201), "has space".to_owned(), String::new()] {
        let err = app
            .returns(Auth::key(&key).idempotent(&bad))
            .authorize_return(changed_mind(&supplier, "ORDER-1"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}");
        assert_eq!(violated_fields(&err), ["idempotency-key"], "{bad:?}");
    }
    assert!(list_returns(&app, &key).await.is_empty());
    // The longest allowed key works.
    app.returns(Auth::key(&key).idempotent(&"k".repeat(200)))
        .authorize_return(changed_mind(&supplier, "ORDER-1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_same_key_and_request_replays_the_identical_answer_with_one_return_and_one_event() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let request = changed_mind(&supplier, "ORDER-1");
    let mut c = app.returns(Auth::key(&key).idempotent("authorize-order-1"));
    let first = c
        .authorize_return(request.clone())
        .await
        .unwrap()
        .into_inner();
    let second = c
        .authorize_return(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, second);
    let r = first.return_case.unwrap();

    let all = list_returns(&app, &key).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].return_id, r.return_id);
    let events = return_events(&app, &key, &r.return_id).await;
    let decided = events
        .iter()
        .filter(|e| e.event_type == pb::ReturnEventType::Decided as i32)
        .count();
    assert_eq!(decided, 1);
    assert_eq!(events.len(), 1);
}

#[tokio::test]
async fn the_same_key_with_a_different_request_is_refused_as_reused() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let mut c = app.returns(Auth::key(&key).idempotent("authorize-order-1"));
    let request = changed_mind(&supplier, "ORDER-1");
    c.authorize_return(request.clone()).await.unwrap();
    let mut other = request.clone();
    other.customer_comment = "changed my mind twice".into();
    for different in [other, changed_mind(&supplier, "ORDER-2")] {
        let err = c.authorize_return(different).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert_eq!(reason(&err), "IDEMPOTENCY_KEY_REUSED");
    }
    assert_eq!(list_returns(&app, &key).await.len(), 1);
    // The original request still replays.
    c.authorize_return(request).await.unwrap();
    assert_eq!(list_returns(&app, &key).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_raced_from_ten_tasks_creates_exactly_one_return_and_identical_answers() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let request = changed_mind(&supplier, "ORDER-1");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let mut c = app.returns(Auth::key(&key).idempotent("raced-key"));
            let request = request.clone();
            tokio::spawn(async move { c.authorize_return(request).await.map(|r| r.into_inner()) })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap().expect("every duplicate gets the answer"));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:#?}");
    let all = list_returns(&app, &key).await;
    assert_eq!(all.len(), 1);
    let id = &answers[0].return_case.as_ref().unwrap().return_id;
    assert_eq!(&all[0].return_id, id);
    assert_eq!(return_events(&app, &key, id).await.len(), 1);
}

#[tokio::test]
async fn a_retried_transition_with_its_key_replays_instead_of_conflicting() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let r = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;
    let mut c = app.returns(Auth::key(&key).idempotent("ship-1"));
    let first = c
        .record_shipment(ship_request(&r.return_id, 1))
        .await
        .unwrap()
        .into_inner();
    // The retry carries the same, now stale, expected_version: the stored answer comes back.
    let again = c
        .record_shipment(ship_request(&r.return_id, 1))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    let stored = get_return(&app, &key, &r.return_id).await;
    assert_eq!(stored.version, 2);
    assert_eq!(return_events(&app, &key, &r.return_id).await.len(), 2);

    // The key belongs to the shipment now: another call with it is refused.
    let err = c
        .cancel_return(returnbridge_tests::fixtures::cancel_request(
            &r.return_id,
            2,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(reason(&err), "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(get_return(&app, &key, &r.return_id).await, stored);
}

#[tokio::test]
async fn idempotency_keys_are_per_tenant() {
    let app = spawn_app().await;
    let (acme, acme_supplier) = seller_with_supplier(&app, "acme").await;
    let (globex, globex_supplier) = seller_with_supplier(&app, "globex").await;
    let a = app
        .returns(Auth::key(&acme).idempotent("shared-key"))
        .authorize_return(changed_mind(&acme_supplier, "ORDER-1"))
        .await
        .unwrap()
        .into_inner()
        .return_case
        .unwrap();
    let g = app
        .returns(Auth::key(&globex).idempotent("shared-key"))
        .authorize_return(changed_mind(&globex_supplier, "ORDER-1"))
        .await
        .unwrap()
        .into_inner()
        .return_case
        .unwrap();
    assert_ne!(
        a.return_id, g.return_id,
        "another tenant's answer is never replayed"
    );
    assert_eq!(list_returns(&app, &acme).await.len(), 1);
    assert_eq!(list_returns(&app, &globex).await.len(), 1);
}
