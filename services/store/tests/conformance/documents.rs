//! Conformance cases for how a return is stored: the document and the format it is in, and the
//! deadline columns the SLA clock scans.

use super::returns::{Ask, T0, arrange, authorize, event};
use super::{Backend, Pool, at, with_tenant};
use chrono::TimeDelta;
use returnbridge_domain::lifecycle::ReturnStatus::*;
use returnbridge_domain::returns::{Return, SupplierRequestState};
use returnbridge_store::{LEGACY_RETURN_FORMAT, ReturnUpdate, Store, StoreError};
use std::sync::Arc;

pub(crate) async fn supplier_deadlines_due_are_running_ones_listed_once_earliest_first(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let globex = with_tenant(&store, "globex").await;
    let theirs = super::create(&store, &globex, super::webhook("Globex Supply"))
        .await
        .id;
    // Each authorized ask's notice must be acknowledged a day after it was made.
    let first = authorize(&store, &t, &Ask::new(s, "O-1", at(T0, 0))).await;
    let second = authorize(&store, &globex, &Ask::new(theirs, "O-2", at(T0 + 10, 0))).await;
    let mut too_many = Ask::new(s, "O-1", at(T0, 0));
    too_many.lines = vec![("SKU-1".into(), 1, 1)];
    let rejected = authorize(&store, &t, &too_many).await;
    assert_eq!(rejected.status, Rejected);
    let day = TimeDelta::days(1);
    let due = |now| {
        let store = store.clone();
        async move {
            let listed = store.supplier_deadlines_due(now, 10).await.unwrap();
            listed.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        due(at(T0, 0) + day - TimeDelta::microseconds(1)).await,
        vec![]
    );
    assert_eq!(due(at(T0, 0) + day).await, vec![first.id]);
    assert_eq!(due(at(T0 + 20, 0) + day).await, vec![first.id, second.id]);
    // Acknowledged: the clock of that request stops, so the return drops out.
    let acknowledge = |r: &Return| -> Result<ReturnUpdate, StoreError> {
        let mut ret = r.clone();
        ret.version += 1;
        ret.supplier_requests[0].acknowledged_at = Some(at(T0 + 30, 0));
        ret.supplier_requests[0].state = SupplierRequestState::Acknowledged;
        Ok(ReturnUpdate {
            events: vec![event(
                ret.id,
                ret.version,
                ret.status,
                ret.status,
                at(T0 + 30, 0),
            )],
            breaches: vec![],
            ret,
            outbox: None,
            release: vec![],
            settlement: None,
        })
    };
    store
        .update_return(&t, first.id, &acknowledge, at(T0 + 30, 0), None)
        .await
        .unwrap();
    assert_eq!(due(at(T0 + 20, 0) + day).await, vec![second.id]);
}

pub(crate) async fn returns_in_an_older_format_are_listed_and_upgraded_once(backend: Backend) {
    let Backend { store, pool } = backend;
    let (t, s) = arrange(&store).await;
    let kept = authorize(&store, &t, &Ask::new(s, "O-1", at(T0, 0))).await;
    let old = authorize(&store, &t, &Ask::new(s, "O-2", at(T0, 0))).await;
    assert!(store.legacy_returns(10).await.unwrap().is_empty());
    const SQL: &str = "UPDATE returns SET document_format = $1, document = $2 \
                       WHERE tenant_id = $3 AND return_id = $4";
    let legacy_bytes = b"a v1 Return message".to_vec();
    match &pool {
        Pool::Sqlite(p) => {
            let q = sqlx::query(SQL)
                .bind(LEGACY_RETURN_FORMAT)
                .bind(&legacy_bytes)
                .bind(t.as_str())
                .bind(old.id.to_string());
            q.execute(p).await.unwrap();
        }
        Pool::Postgres(p) => {
            let q = sqlx::query(SQL)
                .bind(LEGACY_RETURN_FORMAT)
                .bind(&legacy_bytes)
                .bind(t.as_str())
                .bind(old.id.as_uuid());
            q.execute(p).await.unwrap();
        }
    }
    // Unreadable until upgraded, and said so; the other return is untouched.
    assert!(matches!(
        store.get_return(&t, old.id).await,
        Err(StoreError::Corrupt(_))
    ));
    assert_eq!(store.get_return(&t, kept.id).await.unwrap(), Some(kept));
    let listed = store.legacy_returns(10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (&listed[0].tenant, listed[0].id, listed[0].format.as_str()),
        (&t, old.id, LEGACY_RETURN_FORMAT)
    );
    assert_eq!(listed[0].document, legacy_bytes);
    assert!(store.upgrade_return(&t, &old).await.unwrap());
    assert!(!store.upgrade_return(&t, &old).await.unwrap(), "once only");
    assert_eq!(store.get_return(&t, old.id).await.unwrap(), Some(old));
    assert!(store.legacy_returns(10).await.unwrap().is_empty());
}
