//! WatchEvents: the tenant's events in sequence order, resumable from a cursor with no gap and no
//! duplicate, live while watching, filtered, and strict about its arguments. Every read from a
//! stream is bounded by a timeout, so a broken stream fails the test instead of hanging it.

use returnbridge_proto::v1 as pb;
use returnbridge_tests::fixtures::{
    authorize, cancel_request, changed_mind, inspect_request, receive_request, refund_request,
    return_events, seller_with_supplier, ship_request,
};
use returnbridge_tests::{Auth, ReturnClient, TestApp, spawn_app, violated_fields};
use std::time::Duration;
use tokio::time::timeout;
use tonic::Code;
use tonic::Streaming;

use pb::watch_events_response::Item;

/// How long a stream may take to deliver an event that is due.
const DUE: Duration = Duration::from_secs(10);
/// How long a stream is watched to show that nothing more comes (longer than the server's poll).
const QUIET: Duration = Duration::from_millis(800);

type Events = Streaming<pb::WatchEventsResponse>;

async fn watch(c: &mut ReturnClient, req: pb::WatchEventsRequest) -> Events {
    c.watch_events(req)
        .await
        .expect("watch events")
        .into_inner()
}

fn from_beginning() -> pb::WatchEventsRequest {
    pb::WatchEventsRequest {
        from_beginning: true,
        ..Default::default()
    }
}

/// The next event (heartbeats skipped), or a failure after [`DUE`].
async fn next_event(stream: &mut Events) -> pb::ReturnEvent {
    loop {
        let message = timeout(DUE, stream.message())
            .await
            .expect("the stream stalled")
            .expect("the stream failed")
            .expect("the stream ended");
        if let Some(Item::Event(e)) = message.item {
            return e;
        }
    }
}

async fn next_events(stream: &mut Events, n: usize) -> Vec<pb::ReturnEvent> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(next_event(stream).await);
    }
    out
}

/// Fails if an event arrives within [`QUIET`].
async fn assert_quiet(stream: &mut Events) {
    let deadline = tokio::time::Instant::now() + QUIET;
    loop {
        match tokio::time::timeout_at(deadline, stream.message()).await {
            Err(_) => return,
            Ok(Ok(Some(pb::WatchEventsResponse {
                item: Some(Item::Event(e)),
            }))) => panic!("unexpected event {e:#?}"),
            Ok(Ok(Some(_))) => continue,
            Ok(other) => panic!("the stream broke: {other:?}"),
        }
    }
}

/// Two returns taken through several steps: 7 events of the tenant, returned in sequence order as
/// ListReturnEvents reads them.
async fn history(app: &TestApp, key: &str, supplier: &str) -> Vec<pb::ReturnEvent> {
    let mut c = app.returns(Auth::key(key));
    let a = authorize(app, key, changed_mind(supplier, "ORDER-A")).await;
    let b = authorize(app, key, changed_mind(supplier, "ORDER-B")).await;
    c.record_shipment(ship_request(&a.return_id, 1))
        .await
        .unwrap();
    c.cancel_return(cancel_request(&b.return_id, 1))
        .await
        .unwrap();
    c.record_receipt(receive_request(&a.return_id, 2))
        .await
        .unwrap();
    c.record_inspection(inspect_request(&a.return_id, 3))
        .await
        .unwrap();
    c.resolve_return(refund_request(&a.return_id, 4))
        .await
        .unwrap();
    let mut all = return_events(app, key, &a.return_id).await;
    all.extend(return_events(app, key, &b.return_id).await);
    all.sort_by_key(|e| e.sequence);
    assert_eq!(all.len(), 7);
    all
}

fn sequences(events: &[pb::ReturnEvent]) -> Vec<i64> {
    events.iter().map(|e| e.sequence).collect()
}

#[tokio::test]
async fn watching_from_the_beginning_delivers_every_stored_event_in_sequence_order() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let all = history(&app, &key, &supplier).await;
    let mut c = app.returns(Auth::key(&key));
    let mut stream = watch(&mut c, from_beginning()).await;
    let got = next_events(&mut stream, all.len()).await;
    assert_eq!(
        got, all,
        "the stream shows exactly what ListReturnEvents stores"
    );
    assert!(got.windows(2).all(|w| w[0].sequence < w[1].sequence));
    assert!(got.iter().all(|e| !e.cursor.is_empty()));
    assert_quiet(&mut stream).await;
}

#[tokio::test]
async fn a_stream_resumed_from_the_last_cursor_continues_with_no_gap_and_no_duplicate() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let all = history(&app, &key, &supplier).await;
    let mut c = app.returns(Auth::key(&key));
    for cut in [1, 3, 6] {
        let mut stream = watch(&mut c, from_beginning()).await;
        let head = next_events(&mut stream, cut).await;
        drop(stream); // disconnect mid-way
        let resumed = pb::WatchEventsRequest {
            after_cursor: head.last().unwrap().cursor.clone(),
            ..Default::default()
        };
        let mut stream = watch(&mut c, resumed).await;
        let tail = next_events(&mut stream, all.len() - cut).await;
        assert_quiet(&mut stream).await;
        let joined: Vec<_> = head.into_iter().chain(tail).collect();
        assert_eq!(sequences(&joined), sequences(&all), "cut after {cut}");
        assert_eq!(joined, all);
    }
}

#[tokio::test]
async fn live_events_arrive_while_watching_and_after_a_resume() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let mut c = app.returns(Auth::key(&key));
    let early = authorize(&app, &key, changed_mind(&supplier, "ORDER-0")).await;

    // Without a cursor the stream starts with the next event.
    let mut stream = watch(&mut c, pb::WatchEventsRequest::default()).await;
    assert_quiet(&mut stream).await;
    let r = authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;
    let decided = next_event(&mut stream).await;
    assert_eq!(decided.return_id, r.return_id);
    assert_eq!(decided.event_type, pb::ReturnEventType::Decided as i32);
    c.record_shipment(ship_request(&r.return_id, 1))
        .await
        .unwrap();
    let shipped = next_event(&mut stream).await;
    assert_eq!(shipped.event_type, pb::ReturnEventType::Shipped as i32);
    assert!(shipped.sequence > decided.sequence);
    drop(stream);

    // Changes made while disconnected come first after resuming, then live ones.
    c.record_receipt(receive_request(&r.return_id, 2))
        .await
        .unwrap();
    let mut stream = watch(
        &mut c,
        pb::WatchEventsRequest {
            after_cursor: shipped.cursor.clone(),
            ..Default::default()
        },
    )
    .await;
    let received = next_event(&mut stream).await;
    assert_eq!(received.event_type, pb::ReturnEventType::Received as i32);
    c.cancel_return(cancel_request(&early.return_id, 1))
        .await
        .unwrap();
    let cancelled = next_event(&mut stream).await;
    assert_eq!(cancelled.return_id, early.return_id);
    assert_eq!(cancelled.event_type, pb::ReturnEventType::Cancelled as i32);
    assert_quiet(&mut stream).await;
}

#[tokio::test]
async fn event_type_and_return_filters_keep_only_matching_events() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let all = history(&app, &key, &supplier).await;
    let mut c = app.returns(Auth::key(&key));

    let types = [
        pb::ReturnEventType::Shipped as i32,
        pb::ReturnEventType::Cancelled as i32,
    ];
    let mut stream = watch(
        &mut c,
        pb::WatchEventsRequest {
            from_beginning: true,
            event_types: types.to_vec(),
            ..Default::default()
        },
    )
    .await;
    let wanted: Vec<_> = all
        .iter()
        .filter(|e| types.contains(&e.event_type))
        .cloned()
        .collect();
    assert_eq!(wanted.len(), 2);
    assert_eq!(next_events(&mut stream, wanted.len()).await, wanted);
    assert_quiet(&mut stream).await;

    let one = all.last().unwrap().return_id.clone();
    let mut stream = watch(
        &mut c,
        pb::WatchEventsRequest {
            from_beginning: true,
            return_id: one.clone(),
            ..Default::default()
        },
    )
    .await;
    let wanted: Vec<_> = all.iter().filter(|e| e.return_id == one).cloned().collect();
    assert_eq!(next_events(&mut stream, wanted.len()).await, wanted);
    assert_quiet(&mut stream).await;

    // A supplier filter: all of this supplier's events; another supplier's: none.
    let mut stream = watch(
        &mut c,
        pb::WatchEventsRequest {
            from_beginning: true,
            supplier_id: supplier.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(next_events(&mut stream, all.len()).await, all);
    let mut stream = watch(
        &mut c,
        pb::WatchEventsRequest {
            from_beginning: true,
            supplier_id: uuid::Uuid::new_v4().to_string(),
            ..Default::default()
        },
    )
    .await;
    assert_quiet(&mut stream).await;
}

#[tokio::test]
async fn a_cursor_together_with_from_beginning_is_invalid() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;
    let mut c = app.returns(Auth::key(&key));
    let mut stream = watch(&mut c, from_beginning()).await;
    let first = next_event(&mut stream).await;
    let err = c
        .watch_events(pb::WatchEventsRequest {
            after_cursor: first.cursor,
            from_beginning: true,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["from_beginning"]);
}

#[tokio::test]
async fn a_garbage_cursor_or_filter_is_invalid_and_names_the_field() {
    let app = spawn_app().await;
    let (key, _) = seller_with_supplier(&app, "acme").await;
    let mut c = app.returns(Auth::key(&key));
    for cursor in ["garbage", "!!!", "ZTE6LTU", "cDE6MTI"] {
        // "ZTE6LTU" is a negative sequence, "cDE6MTI" a page token, not a cursor.
        let err = c
            .watch_events(pb::WatchEventsRequest {
                after_cursor: cursor.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{cursor}");
        assert_eq!(violated_fields(&err), ["after_cursor"], "{cursor}");
    }
    let bad_filters = [
        (
            pb::WatchEventsRequest {
                event_types: vec![0],
                ..Default::default()
            },
            "event_types[0]",
        ),
        (
            pb::WatchEventsRequest {
                return_id: "not-a-uuid".into(),
                ..Default::default()
            },
            "return_id",
        ),
        (
            pb::WatchEventsRequest {
                supplier_id: "not-a-uuid".into(),
                ..Default::default()
            },
            "supplier_id",
        ),
    ];
    for (req, field) in bad_filters {
        let err = c.watch_events(req).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{field}");
        assert_eq!(violated_fields(&err), [field]);
    }
}
