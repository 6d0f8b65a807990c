//! Conformance cases for the units an order has returned: the store reserves them per (tenant,
//! order, SKU) under a lock, so concurrent returns can never take more than were bought.

use super::at;
use super::returns::{
    Ask, Change, T0, arrange, authorize, change, returned, try_authorize, warm_pool,
};
use returnbridge_domain::lifecycle::ReturnStatus::*;
use returnbridge_store::{Applied, ReturnFilter, Store};
use std::sync::Arc;
use uuid::Uuid;

pub(crate) async fn concurrent_returns_of_one_order_never_take_more_units_than_were_bought(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    // Four bought, one already back: its counter exists, so nothing but the store's lock on it
    // keeps two attempts apart. Every attempt wants two: any two together exceed the order.
    let first = Ask::new(s, "ORDER-RACE", at(T0, 0)).lines(&[("SKU-1", 1, 4)]);
    assert_eq!(authorize(&store, &t, &first).await.status, Authorized);
    warm_pool(&store, &t).await;
    let ask = Ask::new(s, "ORDER-RACE", at(T0, 1)).lines(&[("SKU-1", 2, 4)]);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, t, ask) = (store.clone(), t.clone(), ask.clone());
            tokio::spawn(async move { authorize(&store, &t, &ask).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == Authorized).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == Rejected).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(returned(&store, &t, "ORDER-RACE", "SKU-1").await, 3);
    let authorized = ReturnFilter {
        statuses: vec![Authorized],
        ..Default::default()
    };
    assert_eq!(
        store
            .list_returns(&t, &authorized, None, 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

pub(crate) async fn returns_naming_an_orders_skus_in_any_order_all_get_their_units(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    // Enough units for everyone: each attempt must succeed, whichever order it names the lines in.
    // Many lines, so that two attempts meet part-way through taking an order's fresh counters, and
    // several orders, since whether they meet is up to the scheduler.
    let skus: Vec<String> = (0..40).map(|n| format!("SKU-{n:02}")).collect();
    warm_pool(&store, &t).await;
    for round in 0..5 {
        let order = format!("ORDER-MIX-{round}");
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let mut ask = Ask::new(s, &order, at(T0, 0));
                ask.lines = skus.iter().map(|sku| (sku.clone(), 1, 8)).collect();
                if i % 2 == 1 {
                    ask.lines.reverse();
                }
                let (store, t) = (store.clone(), t.clone());
                tokio::spawn(async move {
                    match try_authorize(&store, &t, &ask, Uuid::new_v4(), None).await {
                        Ok(Applied::New(row)) => Ok(row.status),
                        other => Err(format!("{other:?}")),
                    }
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(Authorized), "{order}");
        }
        for sku in [&skus[0], &skus[39]] {
            assert_eq!(returned(&store, &t, &order, sku).await, 8);
        }
    }
}

pub(crate) async fn released_units_can_be_returned_again_and_never_go_below_zero(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let ask = Ask::new(s, "ORDER-1", at(T0, 0)).lines(&[("SKU-1", 2, 2)]);
    let first = authorize(&store, &t, &ask).await;
    assert_eq!(authorize(&store, &t, &ask).await.status, Rejected);
    let mut cancel = Change::to(Cancelled, at(T0 + 1, 0));
    cancel.release = vec![("SKU-1".into(), 2)];
    change(&store, &t, first.id, &cancel).await;
    assert_eq!(returned(&store, &t, "ORDER-1", "SKU-1").await, 0);
    let second = authorize(&store, &t, &ask).await;
    assert_eq!(second.status, Authorized);
    // Releasing more than is held leaves zero, never a negative count that would over-admit.
    cancel.release = vec![("SKU-1".into(), 5)];
    change(&store, &t, second.id, &cancel).await;
    assert_eq!(returned(&store, &t, "ORDER-1", "SKU-1").await, 0);
    assert_eq!(authorize(&store, &t, &ask).await.status, Authorized);
    assert_eq!(returned(&store, &t, "ORDER-1", "SKU-1").await, 2);
}
