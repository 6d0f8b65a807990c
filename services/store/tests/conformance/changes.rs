//! Conformance cases for changes to returns (`update_return`): versions, one event per change in
//! per-tenant sequence, the event stream's cursors, and the expiry sweep's query.

use super::returns::{
    Ask, Change, T0, arrange, authorize, change, claim, document, seqs, try_change, warm_pool,
};
use super::{at, create, webhook, with_tenant};
use chrono::{DateTime, TimeDelta, Utc};
use returnbridge_domain::DomainError;
use returnbridge_domain::lifecycle::ReturnStatus::*;
use returnbridge_store::{Applied, ReturnFilter, Store, StoreError};
use std::sync::Arc;
use uuid::Uuid;

pub(crate) async fn a_stale_expected_version_is_a_conflict_and_changes_nothing_on_a_return(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let row = authorize(&store, &t, &Ask::new(s, "ORDER-1", at(T0, 0))).await;
    let mut stale = Change::to(InTransit, at(T0 + 1, 0));
    stale.expected = 5;
    stale.outbox = Some(Uuid::new_v4());
    let err = try_change(&store, &t, row.id, &stale, None).await;
    assert!(matches!(
        err,
        Err(StoreError::Domain(DomainError::VersionConflict {
            expected: 5,
            current: 1
        }))
    ));
    assert_eq!(
        store.get_return(&t, row.id).await.unwrap(),
        Some(row.clone())
    );
    assert_eq!(store.last_event_seq(&t).await.unwrap(), 1);
    stale.expected = 1;
    assert_eq!(change(&store, &t, row.id, &stale).await.version, 2);
}

pub(crate) async fn each_change_bumps_the_version_and_appends_one_event_in_tenant_sequence(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let globex = with_tenant(&store, "globex").await;
    let theirs = create(&store, &globex, webhook("Globex Supply")).await.id;
    let a = authorize(&store, &t, &Ask::new(s, "ORDER-A", at(T0, 0))).await;
    let b = authorize(&store, &t, &Ask::new(s, "ORDER-B", at(T0, 1))).await;
    let g = authorize(&store, &globex, &Ask::new(theirs, "ORDER-G", at(T0, 2))).await;
    let mut versions = vec![a.version];
    for (i, to) in [InTransit, Received, Inspected].into_iter().enumerate() {
        let mut step = Change::to(to, at(T0 + 1 + i as i64, 0));
        step.expected = i as i64 + 1;
        versions.push(change(&store, &t, a.id, &step).await.version);
        if i == 0 {
            change(&store, &t, b.id, &Change::to(Cancelled, at(T0 + 1, 0))).await;
        }
    }
    assert_eq!(versions, vec![1, 2, 3, 4]);
    let stored = store.get_return(&t, a.id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.version), (Inspected, 4));
    assert_eq!((stored.version, stored.status), (4, Inspected));

    // Acme: a1 b1 a2 b2 a3 a4; Globex counts on its own.
    let events = store.list_return_events(&t, a.id, 0, 10).await.unwrap();
    let seen: Vec<_> = events.iter().map(|e| (e.seq, e.detail.clone())).collect();
    let statuses = [Authorized, InTransit, Received, Inspected];
    let expected: Vec<_> = [1, 3, 5, 6]
        .into_iter()
        .zip(statuses.into_iter().enumerate())
        .map(|(seq, (i, st))| (seq, document(a.id, i as i64 + 1, st)))
        .collect();
    assert_eq!(seen, expected);
    assert!(events.iter().all(|e| e.return_id == a.id));
    let later = store.list_return_events(&t, a.id, 3, 1).await.unwrap();
    assert_eq!(later.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![5]);
    assert_eq!(seqs(&store, &t, 0).await, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(seqs(&store, &t, 4).await, vec![5, 6]);
    assert_eq!(store.last_event_seq(&t).await.unwrap(), 6);
    assert_eq!(seqs(&store, &globex, 0).await, vec![1]);
    assert_eq!(
        store.events_after(&globex, 0, 10).await.unwrap()[0].return_id,
        g.id
    );
}

pub(crate) async fn concurrent_changes_on_one_expected_version_apply_exactly_once(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let row = authorize(&store, &t, &Ask::new(s, "ORDER-1", at(T0, 0))).await;
    warm_pool(&store, &t).await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (store, t) = (store.clone(), t.clone());
            let mut step = Change::to(InTransit, at(T0 + 1, i));
            step.expected = 1;
            tokio::spawn(async move { try_change(&store, &t, row.id, &step, None).await })
        })
        .collect();
    let (mut won, mut conflicts) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(Applied::New(r)) => {
                assert_eq!(r.version, 2);
                won += 1
            }
            Err(StoreError::Domain(DomainError::VersionConflict {
                expected: 1,
                current: 2,
            })) => conflicts += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((won, conflicts), (1, 7));
    assert_eq!(
        store.get_return(&t, row.id).await.unwrap().unwrap().version,
        2
    );
    assert_eq!(seqs(&store, &t, 0).await, vec![1, 2]);
}

pub(crate) async fn the_event_stream_has_no_gaps_under_concurrent_writers(store: Arc<dyn Store>) {
    let (t, s) = arrange(&store).await;
    warm_pool(&store, &t).await;
    // A reader following the stream while the writers run: every page it gets continues exactly
    // where its cursor stood, so no event becomes visible before an earlier one.
    let follower = {
        let (store, t) = (store.clone(), t.clone());
        tokio::spawn(async move {
            let mut cursor = 0;
            while cursor < 24 {
                let page = store.events_after(&t, cursor, 100).await.unwrap();
                let got: Vec<_> = page.iter().map(|e| e.seq).collect();
                let next = cursor + got.len() as i64;
                assert_eq!(
                    got,
                    (cursor + 1..=next).collect::<Vec<_>>(),
                    "after {cursor}"
                );
                cursor = next;
                tokio::task::yield_now().await;
            }
        })
    };
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (store, t) = (store.clone(), t.clone());
            tokio::spawn(async move {
                let row =
                    authorize(&store, &t, &Ask::new(s, &format!("ORDER-{i}"), at(T0, i))).await;
                for (n, to) in [InTransit, Received].into_iter().enumerate() {
                    change(
                        &store,
                        &t,
                        row.id,
                        &Change::to(to, at(T0 + 1 + n as i64, i)),
                    )
                    .await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    follower.await.unwrap();
    assert_eq!(seqs(&store, &t, 0).await, (1..=24).collect::<Vec<_>>());
    assert_eq!(store.last_event_seq(&t).await.unwrap(), 24);
    // A reader resuming from each page's last sequence sees every event once.
    let (mut cursor, mut read) = (0, Vec::new());
    loop {
        let page = store.events_after(&t, cursor, 5).await.unwrap();
        let Some(last) = page.last() else { break };
        cursor = last.seq;
        read.extend(page.iter().map(|e| e.seq));
    }
    assert_eq!(read, (1..=24).collect::<Vec<_>>());
    // Each return's own trail is oldest first.
    for row in store
        .list_returns(&t, &ReturnFilter::default(), None, 10)
        .await
        .unwrap()
    {
        let trail = store.list_return_events(&t, row.id, 0, 10).await.unwrap();
        let details: Vec<_> = trail.iter().map(|e| e.detail.clone()).collect();
        let expected: Vec<_> = [(1, Authorized), (2, InTransit), (3, Received)]
            .into_iter()
            .map(|(v, st)| document(row.id, v, st))
            .collect();
        assert_eq!(details, expected);
        assert!(trail.windows(2).all(|w| w[0].seq < w[1].seq));
    }
}

pub(crate) async fn a_replayed_change_returns_the_stored_answer_without_a_second_event(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let row = authorize(&store, &t, &Ask::new(s, "ORDER-1", at(T0, 0))).await;
    let ship = Change::to(InTransit, at(T0 + 1, 0));
    let first = try_change(&store, &t, row.id, &ship, Some(claim("ship", 1)))
        .await
        .unwrap();
    let Applied::New(shipped) = first else {
        panic!("the first call applies")
    };
    let again = try_change(&store, &t, row.id, &ship, Some(claim("ship", 1)))
        .await
        .unwrap();
    assert_eq!(
        again,
        Applied::Replayed(document(shipped.id, shipped.version, shipped.status))
    );
    let reused = try_change(&store, &t, row.id, &ship, Some(claim("ship", 2))).await;
    assert!(matches!(
        reused,
        Err(StoreError::Domain(DomainError::IdempotencyKeyReused))
    ));
    assert_eq!(store.get_return(&t, row.id).await.unwrap(), Some(shipped));
    assert_eq!(seqs(&store, &t, 0).await, vec![1, 2]);
}

pub(crate) async fn overdue_returns_are_authorized_ones_past_ship_by_oldest_deadline_first(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let globex = with_tenant(&store, "globex").await;
    let theirs = create(&store, &globex, webhook("Globex Supply")).await.id;
    let now = at(T0 + 1000, 0);
    let due = |supplier, order: &str, by: DateTime<Utc>| {
        let mut ask = Ask::new(supplier, order, at(T0, 0));
        ask.ship_by = Some(by);
        ask
    };
    let late = authorize(&store, &t, &due(s, "O-1", now - TimeDelta::seconds(10))).await;
    let theirs_late = authorize(
        &store,
        &globex,
        &due(theirs, "O-2", now - TimeDelta::seconds(5)),
    )
    .await;
    let on_the_dot = authorize(&store, &t, &due(s, "O-3", now)).await;
    authorize(&store, &t, &due(s, "O-4", now + TimeDelta::microseconds(1))).await;
    let mut no_deadline = Ask::new(s, "O-5", at(T0, 0));
    no_deadline.ship_by = None;
    authorize(&store, &t, &no_deadline).await;
    // Past its deadline but no longer AUTHORIZED: shipped, or cancelled.
    let shipped = authorize(&store, &t, &due(s, "O-6", now - TimeDelta::seconds(20))).await;
    change(
        &store,
        &t,
        shipped.id,
        &Change::to(InTransit, at(T0 + 1, 0)),
    )
    .await;
    let cancelled = authorize(
        &store,
        &globex,
        &due(theirs, "O-7", now - TimeDelta::seconds(30)),
    )
    .await;
    change(
        &store,
        &globex,
        cancelled.id,
        &Change::to(Cancelled, at(T0 + 1, 0)),
    )
    .await;

    let expected = vec![
        (t.clone(), late.id),
        (globex.clone(), theirs_late.id),
        (t.clone(), on_the_dot.id),
    ];
    assert_eq!(store.overdue_returns(now, 10).await.unwrap(), expected);
    assert_eq!(store.overdue_returns(now, 2).await.unwrap(), expected[..2]);
    assert!(
        store
            .overdue_returns(now - TimeDelta::seconds(11), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
