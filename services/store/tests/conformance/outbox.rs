//! Conformance cases for the outbox: a change's supplier message is written in the change's own
//! transaction, exactly once. No trait method reads the outbox, so these look at the table itself.

use super::returns::{
    Ask, Change, T0, arrange, authorize, change, claim, returned, try_authorize, try_change,
};
use super::{Backend, Pool, at};
use returnbridge_domain::ids::{ReturnId, TenantId};
use returnbridge_domain::lifecycle::ReturnStatus::*;
use returnbridge_store::{Applied, ReturnFilter};
use uuid::Uuid;

/// The outbox rows of one return, oldest first: (message id, kind, payload).
async fn outbox_rows(pool: &Pool, t: &TenantId, id: ReturnId) -> Vec<(Uuid, String, Vec<u8>)> {
    const SQL: &str = "SELECT message_id, kind, payload FROM outbox \
                       WHERE tenant_id = $1 AND return_id = $2 ORDER BY outbox_id";
    match pool {
        Pool::Sqlite(p) => sqlx::query_as::<_, (String, String, Vec<u8>)>(SQL)
            .bind(t.as_str())
            .bind(id.to_string())
            .fetch_all(p)
            .await
            .unwrap()
            .into_iter()
            .map(|(m, k, p)| (Uuid::parse_str(&m).unwrap(), k, p))
            .collect(),
        Pool::Postgres(p) => sqlx::query_as(SQL)
            .bind(t.as_str())
            .bind(id.as_uuid())
            .fetch_all(p)
            .await
            .unwrap(),
    }
}

/// How many outbox rows the tenant has.
async fn outbox_count(pool: &Pool, t: &TenantId) -> i64 {
    const SQL: &str = "SELECT COUNT(*) FROM outbox WHERE tenant_id = $1";
    match pool {
        Pool::Sqlite(p) => sqlx::query_scalar(SQL).bind(t.as_str()).fetch_one(p).await,
        Pool::Postgres(p) => sqlx::query_scalar(SQL).bind(t.as_str()).fetch_one(p).await,
    }
    .unwrap()
}

pub(crate) async fn a_change_writes_its_outbox_row_once_and_a_refusal_writes_none(
    backend: Backend,
) {
    let Backend { store, pool } = backend;
    let (t, s) = arrange(&store).await;
    let ask = Ask::new(s, "ORDER-1", at(T0, 0));
    let message = Uuid::new_v4();
    let Applied::New(row) = try_authorize(&store, &t, &ask, message, None)
        .await
        .unwrap()
    else {
        panic!("no key, no replay")
    };
    let notice = (
        message,
        "NOTICE".to_owned(),
        format!("notice {message}").into_bytes(),
    );
    assert_eq!(outbox_rows(&pool, &t, row.id).await, vec![notice.clone()]);
    let refused = authorize(&store, &t, &ask).await;
    assert_eq!(refused.status, Rejected);
    assert!(outbox_rows(&pool, &t, refused.id).await.is_empty());
    // A replayed authorization sends nothing again.
    let keyed = Ask::new(s, "ORDER-2", at(T0, 0));
    for _ in 0..2 {
        try_authorize(&store, &t, &keyed, Uuid::new_v4(), Some(claim("k", 1)))
            .await
            .unwrap();
    }
    assert_eq!(outbox_count(&pool, &t).await, 2);

    change(&store, &t, row.id, &Change::to(InTransit, at(T0 + 1, 0))).await;
    assert_eq!(
        outbox_rows(&pool, &t, row.id).await.len(),
        1,
        "no message, no row"
    );
    let mut cancel = Change::to(Cancelled, at(T0 + 2, 0));
    let second = Uuid::new_v4();
    cancel.outbox = Some(second);
    change(&store, &t, row.id, &cancel).await;
    let rows = outbox_rows(&pool, &t, row.id).await;
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![message, second]
    );
}

pub(crate) async fn a_change_whose_outbox_row_cannot_be_written_leaves_nothing_behind(
    backend: Backend,
) {
    let Backend { store, pool } = backend;
    let (t, s) = arrange(&store).await;
    let message = Uuid::new_v4();
    let first = try_authorize(
        &store,
        &t,
        &Ask::new(s, "ORDER-1", at(T0, 0)),
        message,
        None,
    )
    .await;
    let Ok(Applied::New(first)) = first else {
        panic!("{first:?}")
    };

    // A message id already used: the outbox insert fails after the return, units and event.
    let ask = Ask::new(s, "ORDER-2", at(T0, 1));
    let failed = try_authorize(&store, &t, &ask, message, Some(claim("k", 1))).await;
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(
        store
            .list_returns(&t, &ReturnFilter::default(), None, 10)
            .await
            .unwrap(),
        vec![first.clone()]
    );
    assert_eq!(returned(&store, &t, "ORDER-2", "SKU-1").await, 0);
    assert_eq!(store.last_event_seq(&t).await.unwrap(), 1);
    // Nor was the idempotency key spent: the retry applies.
    let retry = try_authorize(&store, &t, &ask, Uuid::new_v4(), Some(claim("k", 1))).await;
    assert!(matches!(retry, Ok(Applied::New(_))), "{retry:?}");

    let mut ship = Change::to(InTransit, at(T0 + 1, 0));
    ship.outbox = Some(message);
    ship.release = vec![("SKU-1".into(), 1)];
    assert!(try_change(&store, &t, first.id, &ship, None).await.is_err());
    assert_eq!(
        store.get_return(&t, first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(returned(&store, &t, "ORDER-1", "SKU-1").await, 1);
    assert_eq!(store.last_event_seq(&t).await.unwrap(), 2);
    assert_eq!(outbox_rows(&pool, &t, first.id).await.len(), 1);
}
