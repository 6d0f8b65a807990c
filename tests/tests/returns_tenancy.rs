//! Tenant isolation on every ReturnService RPC: another tenant's returns and suppliers answer
//! NOT_FOUND (exactly as an id that never existed does), never appear in lists or streams, and are
//! never changed.

use chrono::{Duration, Utc};
use returnbridge_proto::v1 as pb;
use returnbridge_tests::fixtures::{
    authorize, cancel_request, changed_mind, evidence_request, get_return, inspect_request,
    list_returns, partial_refund_request, receive_request, return_events, seller_with_supplier,
    ship_request, ts,
};
use returnbridge_tests::{Auth, ReturnClient, reason, spawn_app};
use std::time::Duration as StdDuration;
use tonic::{Code, Status};

/// Every ReturnService RPC that takes a return id, called on `id`.
async fn every_return_rpc(c: &mut ReturnClient, id: &str) -> Vec<(&'static str, Status)> {
    let id = id.to_owned();
    let mut out = Vec::new();
    let mut record = |name, r: Result<(), Status>| match r {
        Ok(()) => panic!("{name} succeeded on another tenant's return"),
        Err(e) => out.push((name, e)),
    };
    record(
        "GetReturn",
        c.get_return(pb::GetReturnRequest {
            return_id: id.clone(),
        })
        .await
        .map(drop),
    );
    record(
        "RecordShipment",
        c.record_shipment(ship_request(&id, 0)).await.map(drop),
    );
    record(
        "RecordReceipt",
        c.record_receipt(receive_request(&id, 0)).await.map(drop),
    );
    record(
        "RecordInspection",
        c.record_inspection(inspect_request(&id, 0)).await.map(drop),
    );
    record(
        "ResolveReturn",
        c.resolve_return(partial_refund_request(&id, 0))
            .await
            .map(drop),
    );
    record(
        "CancelReturn",
        c.cancel_return(cancel_request(&id, 0)).await.map(drop),
    );
    record(
        "AddEvidence",
        c.add_evidence(evidence_request(&id, 0)).await.map(drop),
    );
    record(
        "ListReturnEvents",
        c.list_return_events(pb::ListReturnEventsRequest {
            return_id: id.clone(),
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .map(drop),
    );
    out
}

#[tokio::test]
async fn every_rpc_on_another_tenants_return_is_not_found_and_changes_nothing() {
    let app = spawn_app().await;
    let (acme, acme_supplier) = seller_with_supplier(&app, "acme").await;
    let (globex, _) = seller_with_supplier(&app, "globex").await;
    let theirs = authorize(&app, &acme, changed_mind(&acme_supplier, "ORDER-1")).await;
    let trail = return_events(&app, &acme, &theirs.return_id).await;

    let mut c = app.returns(Auth::key(&globex));
    let foreign = every_return_rpc(&mut c, &theirs.return_id).await;
    let never = every_return_rpc(&mut c, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(foreign.len(), 8);
    for ((name, e), (_, unknown)) in foreign.iter().zip(&never) {
        assert_eq!(e.code(), Code::NotFound, "{name}: {e:?}");
        assert_eq!(reason(e), "RETURN_NOT_FOUND", "{name}");
        assert_eq!(
            (e.code(), reason(e)),
            (unknown.code(), reason(unknown)),
            "{name}: another tenant's return looks exactly like one that does not exist"
        );
    }
    // Idempotent retries of the same calls are just as blind.
    let mut keyed = app.returns(Auth::key(&globex).idempotent("globex-ship"));
    let err = keyed
        .record_shipment(ship_request(&theirs.return_id, 1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    assert_eq!(get_return(&app, &acme, &theirs.return_id).await, theirs);
    assert_eq!(return_events(&app, &acme, &theirs.return_id).await, trail);
}

#[tokio::test]
async fn authorizing_against_another_tenants_supplier_is_not_found_and_stores_nothing() {
    let app = spawn_app().await;
    let (acme, acme_supplier) = seller_with_supplier(&app, "acme").await;
    let (globex, _) = seller_with_supplier(&app, "globex").await;
    let err = app
        .returns(Auth::key(&globex).idempotent("k1"))
        .authorize_return(changed_mind(&acme_supplier, "ORDER-1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(reason(&err), "SUPPLIER_NOT_FOUND");
    assert!(list_returns(&app, &globex).await.is_empty());
    assert!(list_returns(&app, &acme).await.is_empty());
}

#[tokio::test]
async fn recording_sales_for_another_tenants_supplier_is_not_found() {
    let app = spawn_app().await;
    let (_, acme_supplier) = seller_with_supplier(&app, "acme").await;
    let (globex, globex_supplier) = seller_with_supplier(&app, "globex").await;
    let record = |supplier: &str| pb::SalesRecord {
        supplier_id: supplier.into(),
        sku: "TEE-M".into(),
        category: "apparel/tops".into(),
        period: Some(pb::TimeRange {
            start_time: Some(ts(Utc::now() - Duration::days(30))),
            end_time: Some(ts(Utc::now() - Duration::days(1))),
        }),
        units_sold: 100,
    };
    let mut c = app.returns(Auth::key(&globex));
    let err = c
        .record_sales(pb::RecordSalesRequest {
            records: vec![record(&globex_supplier), record(&acme_supplier)],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(reason(&err), "SUPPLIER_NOT_FOUND");
    // Nothing of the refused batch was kept: its own record is new on the retry.
    let ok = c
        .record_sales(pb::RecordSalesRequest {
            records: vec![record(&globex_supplier)],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((ok.inserted_count, ok.replaced_count), (1, 0));
}

#[tokio::test]
async fn list_returns_shows_only_the_callers_own_returns() {
    let app = spawn_app().await;
    let (acme, acme_supplier) = seller_with_supplier(&app, "acme").await;
    let (globex, globex_supplier) = seller_with_supplier(&app, "globex").await;
    for i in 0..3 {
        authorize(&app, &acme, changed_mind(&acme_supplier, &format!("A-{i}"))).await;
    }
    let own = authorize(&app, &globex, changed_mind(&globex_supplier, "G-1")).await;
    let listed = list_returns(&app, &globex).await;
    assert_eq!(listed, [own]);
    assert_eq!(list_returns(&app, &acme).await.len(), 3);

    // Filtering on the other tenant's supplier or order finds nothing either.
    let mut c = app.returns(Auth::key(&globex));
    for req in [
        pb::ListReturnsRequest {
            supplier_id: acme_supplier.clone(),
            ..Default::default()
        },
        pb::ListReturnsRequest {
            order_id: "A-1".into(),
            ..Default::default()
        },
    ] {
        let page = c.list_returns(req).await.unwrap().into_inner();
        assert!(page.returns.is_empty());
        assert!(page.next_page_token.is_empty());
    }
}

#[tokio::test]
async fn watch_events_never_streams_another_tenants_events() {
    let app = spawn_app().await;
    let (acme, acme_supplier) = seller_with_supplier(&app, "acme").await;
    let (globex, globex_supplier) = seller_with_supplier(&app, "globex").await;
    let theirs = authorize(&app, &acme, changed_mind(&acme_supplier, "ORDER-1")).await;

    let mut c = app.returns(Auth::key(&globex));
    let mut everything = c
        .watch_events(pb::WatchEventsRequest {
            from_beginning: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut aimed = c
        .watch_events(pb::WatchEventsRequest {
            from_beginning: true,
            return_id: theirs.return_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // The other tenant keeps working while globex watches.
    app.returns(Auth::key(&acme))
        .record_shipment(ship_request(&theirs.return_id, 1))
        .await
        .unwrap();
    let own = authorize(&app, &globex, changed_mind(&globex_supplier, "ORDER-1")).await;

    let first = next_event(&mut everything).await;
    assert_eq!(
        first.return_id, own.return_id,
        "globex sees only its own return"
    );
    assert_quiet(&mut everything).await;
    assert_quiet(&mut aimed).await;
}

async fn next_event(s: &mut tonic::Streaming<pb::WatchEventsResponse>) -> pb::ReturnEvent {
    loop {
        let m = tokio::time::timeout(StdDuration::from_secs(10), s.message())
            .await
            .expect("the stream stalled")
            .expect("the stream failed")
            .expect("the stream ended");
        if let Some(pb::watch_events_response::Item::Event(e)) = m.item {
            return e;
        }
    }
}

async fn assert_quiet(s: &mut tonic::Streaming<pb::WatchEventsResponse>) {
    let deadline = tokio::time::Instant::now() + StdDuration::from_millis(800);
    loop {
        match tokio::time::timeout_at(deadline, s.message()).await {
            Err(_) => return,
            Ok(Ok(Some(pb::WatchEventsResponse {
                item: Some(pb::watch_events_response::Item::Event(e)),
            }))) => panic!("streamed another tenant's event {e:#?}"),
            Ok(Ok(Some(_))) => continue,
            Ok(other) => panic!("the stream broke: {other:?}"),
        }
    }
}
