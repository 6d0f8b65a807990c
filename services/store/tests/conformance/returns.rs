//! Conformance cases for returns, their events, the expiry sweep's query, the outbox rows changes
//! write, and sales records (`ReturnStore`).
//!
//! The plans below are the api crate's (`returns/authorize.rs`, `returns/change.rs`) cut down to
//! what the store sees: a document is a few bytes naming the return, its version and its status.

use super::{Backend, Pool, at, create, webhook, with_tenant};
use chrono::{DateTime, TimeDelta, Utc};
use returnbridge_domain::DomainError;
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use returnbridge_domain::lifecycle::ReturnStatus::{self, *};
use returnbridge_store::{
    Applied, IdempotencyClaim, NewEvent, NewOutboxMessage, NewReturn, NewSettlement, ReturnFilter,
    ReturnRow, ReturnUpdate, ReturnedSoFar, SalesRecord, Store, StoreError,
};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Seconds of a fixed instant the cases count from.
pub(crate) const T0: i64 = 1_800_000_000;

/// What a case asks to return: units of an order's SKUs, each line with the units bought.
#[derive(Clone)]
pub(crate) struct Ask {
    pub supplier: SupplierId,
    pub order_id: String,
    pub reason: &'static str,
    /// (SKU, units to return, units bought)
    pub lines: Vec<(String, i64, i64)>,
    pub ship_by: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

impl Ask {
    /// One unit of one SKU bought and returned, shipped back within a week.
    pub fn new(supplier: SupplierId, order_id: &str, now: DateTime<Utc>) -> Self {
        Self {
            supplier,
            order_id: order_id.into(),
            reason: "DEFECTIVE",
            lines: vec![("SKU-1".into(), 1, 1)],
            ship_by: Some(now + TimeDelta::days(7)),
            now,
        }
    }

    pub fn lines(mut self, lines: &[(&str, i64, i64)]) -> Self {
        self.lines = lines
            .iter()
            .map(|(s, n, b)| (s.to_string(), *n, *b))
            .collect();
        self
    }

    fn skus(&self) -> Vec<String> {
        self.lines.iter().map(|l| l.0.clone()).collect()
    }

    /// AUTHORIZED with its units reserved and a notice for the supplier, or REJECTED (nothing
    /// reserved, no message) when a line would take more units than were bought.
    fn plan(&self, id: ReturnId, message_id: Uuid, so_far: &ReturnedSoFar) -> NewReturn {
        let fits = self
            .lines
            .iter()
            .all(|(sku, n, bought)| so_far.get(sku).copied().unwrap_or(0) + n <= *bought);
        let status = if fits { Authorized } else { Rejected };
        NewReturn {
            row: ReturnRow {
                id,
                supplier: self.supplier,
                order_id: self.order_id.clone(),
                reason: self.reason.into(),
                status,
                version: 1,
                ship_by: self.ship_by.filter(|_| fits),
                created_at: self.now,
                updated_at: self.now,
                document: document(id, 1, status),
            },
            event: event(id, 1, Requested, status, self.now),
            outbox: fits.then(|| notice(message_id, self.supplier, self.now)),
            reserve: if fits {
                self.lines.iter().map(|l| (l.0.clone(), l.1)).collect()
            } else {
                Vec::new()
            },
        }
    }
}

pub(crate) fn document(id: ReturnId, version: i64, status: ReturnStatus) -> Vec<u8> {
    format!("{id} v{version} {}", status.as_str()).into_bytes()
}

fn event(
    id: ReturnId,
    version: i64,
    from: ReturnStatus,
    to: ReturnStatus,
    at: DateTime<Utc>,
) -> NewEvent {
    NewEvent {
        event_type: if version == 1 { "DECIDED" } else { "CHANGED" }.into(),
        actor: "system".into(),
        from_status: Some(from),
        to_status: Some(to),
        occurred_at: at,
        detail: document(id, version, to),
    }
}

fn notice(message_id: Uuid, supplier: SupplierId, now: DateTime<Utc>) -> NewOutboxMessage {
    NewOutboxMessage {
        message_id,
        supplier,
        kind: "NOTICE".into(),
        payload: format!("notice {message_id}").into_bytes(),
        available_at: now,
    }
}

pub(crate) async fn try_authorize(
    store: &Arc<dyn Store>,
    t: &TenantId,
    ask: &Ask,
    message_id: Uuid,
    claim: Option<IdempotencyClaim<'_, ReturnRow>>,
) -> Result<Applied<ReturnRow>, StoreError> {
    let id = ReturnId::generate();
    let plan = |so_far: &ReturnedSoFar| Ok(ask.plan(id, message_id, so_far));
    let skus = ask.skus();
    store
        .authorize_return(t, &ask.order_id, &skus, &plan, ask.now, claim)
        .await
}

pub(crate) async fn authorize(store: &Arc<dyn Store>, t: &TenantId, ask: &Ask) -> ReturnRow {
    match try_authorize(store, t, ask, Uuid::new_v4(), None)
        .await
        .unwrap()
    {
        Applied::New(row) => row,
        Applied::Replayed(_) => panic!("no key, no replay"),
    }
}

/// The units of an order's SKU the store counts as returned, read the way an authorization reads
/// them (under its lock) by a plan that then refuses, so nothing is written.
async fn returned(store: &Arc<dyn Store>, t: &TenantId, order_id: &str, sku: &str) -> i64 {
    let seen = Mutex::new(None);
    let peek = |so_far: &ReturnedSoFar| {
        *seen.lock().unwrap() = Some(so_far.get(sku).copied().unwrap_or(0));
        Err(DomainError::FailedPrecondition {
            reason: "PEEK",
            message: String::new(),
        }
        .into())
    };
    let refused = store
        .authorize_return(t, order_id, &[sku.to_owned()], &peek, Utc::now(), None)
        .await;
    assert!(matches!(
        refused,
        Err(StoreError::Domain(DomainError::FailedPrecondition {
            reason: "PEEK",
            ..
        }))
    ));
    seen.into_inner().unwrap().expect("the plan ran")
}

/// Opens a pooled connection per concurrent task to come, so that the tasks overlap inside their
/// transactions rather than queueing for connections one by one.
async fn warm_pool(store: &Arc<dyn Store>, t: &TenantId) {
    let reads: Vec<_> = (0..8)
        .map(|_| {
            let (store, t) = (store.clone(), t.clone());
            tokio::spawn(async move { store.last_event_seq(&t).await.unwrap() })
        })
        .collect();
    for read in reads {
        read.await.unwrap();
    }
}

/// A change as the api's `change::apply` makes one: the expected version (0: any) checked against
/// the locked row, the version bumped, one event. The ship-by deadline is kept whatever the status,
/// so that the expiry query's own status check is what the cases test.
#[derive(Clone)]
pub(crate) struct Change {
    pub expected: i64,
    pub to: ReturnStatus,
    pub now: DateTime<Utc>,
    pub outbox: Option<Uuid>,
    pub release: Vec<(String, i64)>,
    pub settlement: Option<NewSettlement>,
}

impl Change {
    pub fn to(to: ReturnStatus, now: DateTime<Utc>) -> Self {
        Self {
            expected: 0,
            to,
            now,
            outbox: None,
            release: Vec::new(),
            settlement: None,
        }
    }

    fn plan(&self, row: &ReturnRow) -> Result<ReturnUpdate, StoreError> {
        if self.expected > 0 && self.expected != row.version {
            return Err(DomainError::VersionConflict {
                expected: self.expected,
                current: row.version,
            }
            .into());
        }
        let version = row.version + 1;
        Ok(ReturnUpdate {
            row: ReturnRow {
                status: self.to,
                version,
                updated_at: self.now,
                document: document(row.id, version, self.to),
                ..row.clone()
            },
            event: event(row.id, version, row.status, self.to, self.now),
            outbox: self.outbox.map(|m| notice(m, row.supplier, self.now)),
            release: self.release.clone(),
            settlement: self.settlement.clone(),
        })
    }
}

pub(crate) async fn try_change(
    store: &Arc<dyn Store>,
    t: &TenantId,
    id: ReturnId,
    change: &Change,
    claim: Option<IdempotencyClaim<'_, ReturnRow>>,
) -> Result<Applied<ReturnRow>, StoreError> {
    let plan = |row: &ReturnRow| change.plan(row);
    store.update_return(t, id, &plan, change.now, claim).await
}

pub(crate) async fn change(
    store: &Arc<dyn Store>,
    t: &TenantId,
    id: ReturnId,
    change: &Change,
) -> ReturnRow {
    match try_change(store, t, id, change, None).await.unwrap() {
        Applied::New(row) => row,
        Applied::Replayed(_) => panic!("no key, no replay"),
    }
}

/// A tenant with one supplier.
pub(crate) async fn arrange(store: &Arc<dyn Store>) -> (TenantId, SupplierId) {
    let t = with_tenant(store, "acme").await;
    let s = create(store, &t, webhook("Acme Supply")).await;
    (t, s.id)
}

fn encode_row(row: &ReturnRow) -> Vec<u8> {
    row.document.clone()
}

fn claim(key: &str, hash: u8) -> IdempotencyClaim<'_, ReturnRow> {
    IdempotencyClaim {
        key,
        request_hash: [hash; 32],
        encode: &encode_row,
    }
}

fn ids(rows: &[ReturnRow]) -> Vec<ReturnId> {
    rows.iter().map(|r| r.id).collect()
}

async fn seqs(store: &Arc<dyn Store>, t: &TenantId, after: i64) -> Vec<i64> {
    let events = store.events_after(t, after, 1000).await.unwrap();
    events.iter().map(|e| e.seq).collect()
}

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

/// A tenant's sales records: (SKU, category, units sold), by SKU and period.
async fn sales_rows(pool: &Pool, t: &TenantId) -> Vec<(String, String, i64)> {
    const SQL: &str = "SELECT sku, category, units_sold FROM sales_records WHERE tenant_id = $1 \
                       ORDER BY sku, period_start";
    match pool {
        Pool::Sqlite(p) => sqlx::query_as(SQL).bind(t.as_str()).fetch_all(p).await,
        Pool::Postgres(p) => sqlx::query_as(SQL).bind(t.as_str()).fetch_all(p).await,
    }
    .unwrap()
}

pub(crate) async fn an_authorized_return_reads_back_as_written_and_only_by_its_tenant(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let globex = with_tenant(&store, "globex").await;
    let ask = Ask::new(s, "ORDER-1", at(T0, 123_456));
    let row = authorize(&store, &t, &ask).await;
    assert_eq!((row.status, row.version), (Authorized, 1));
    assert_eq!(row.created_at, at(T0, 123_456));
    assert_eq!(
        store.get_return(&t, row.id).await.unwrap(),
        Some(row.clone())
    );

    assert_eq!(store.get_return(&globex, row.id).await.unwrap(), None);
    let all = ReturnFilter::default();
    assert!(
        store
            .list_returns(&globex, &all, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_return_events(&globex, row.id, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.events_after(&globex, 0, 10).await.unwrap().is_empty());
    assert_eq!(store.last_event_seq(&globex).await.unwrap(), 0);
    let planned = Mutex::new(false);
    let plan = |r: &ReturnRow| {
        *planned.lock().unwrap() = true;
        Change::to(Cancelled, ask.now).plan(r)
    };
    let foreign = store
        .update_return(&globex, row.id, &plan, ask.now, None)
        .await;
    assert!(matches!(
        foreign,
        Err(StoreError::Domain(DomainError::NotFound {
            resource: "RETURN",
            ..
        }))
    ));
    assert!(!*planned.lock().unwrap(), "no plan runs without a row");
    assert_eq!(store.get_return(&t, row.id).await.unwrap(), Some(row));
}

pub(crate) async fn returns_list_newest_first_and_resume_after_the_last_row_served(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(
            authorize(
                &store,
                &t,
                &Ask::new(s, &format!("ORDER-{i}"), at(T0 + i, 0)),
            )
            .await,
        );
    }
    // Two created in the same microsecond are ordered by id, still newest (greatest) first.
    made.push(authorize(&store, &t, &Ask::new(s, "ORDER-5", at(T0 + 4, 0))).await);
    let mut expected = ids(&made);
    expected.sort_by_key(|id| {
        let row = made.iter().find(|r| r.id == *id).unwrap();
        std::cmp::Reverse((row.created_at, *id))
    });
    let all = ReturnFilter::default();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_returns(&t, &all, after, 4).await.unwrap();
        seen.extend(ids(&page));
        match page.last() {
            Some(last) if page.len() == 4 => after = Some(last.id),
            _ => break,
        }
    }
    assert_eq!(seen, expected);
    assert!(
        store
            .list_returns(&t, &all, Some(expected[5]), 4)
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn list_filters_match_status_supplier_order_reason_and_creation_range(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let other = create(&store, &t, webhook("Other Supply")).await.id;
    let a = authorize(&store, &t, &Ask::new(s, "ORDER-A", at(T0, 0))).await;
    let mut ask = Ask::new(other, "ORDER-B", at(T0 + 10, 0));
    ask.reason = "CHANGED_MIND";
    let b = authorize(&store, &t, &ask).await;
    let c = authorize(
        &store,
        &t,
        &Ask::new(s, "ORDER-A", at(T0 + 20, 0)).lines(&[("SKU-1", 1, 2)]),
    )
    .await;
    change(&store, &t, c.id, &Change::to(Cancelled, at(T0 + 30, 0))).await;

    let list = |filter: ReturnFilter| {
        let store = store.clone();
        let t = t.clone();
        async move { ids(&store.list_returns(&t, &filter, None, 10).await.unwrap()) }
    };
    let by_status = ReturnFilter {
        statuses: vec![Cancelled, Rejected],
        ..Default::default()
    };
    assert_eq!(list(by_status).await, vec![c.id]);
    let by_status = ReturnFilter {
        statuses: vec![Authorized],
        ..Default::default()
    };
    assert_eq!(list(by_status).await, vec![b.id, a.id]);
    let by_supplier = ReturnFilter {
        supplier: Some(other),
        ..Default::default()
    };
    assert_eq!(list(by_supplier).await, vec![b.id]);
    let by_order = ReturnFilter {
        order_id: Some("ORDER-A".into()),
        ..Default::default()
    };
    assert_eq!(list(by_order).await, vec![c.id, a.id]);
    let by_reason = ReturnFilter {
        reason: Some("CHANGED_MIND".into()),
        ..Default::default()
    };
    assert_eq!(list(by_reason).await, vec![b.id]);
    // From is inclusive, before exclusive.
    let by_range = ReturnFilter {
        created_from: Some(at(T0 + 10, 0)),
        created_before: Some(at(T0 + 20, 0)),
        ..Default::default()
    };
    assert_eq!(list(by_range).await, vec![b.id]);
    let combined = ReturnFilter {
        supplier: Some(s),
        statuses: vec![Authorized],
        created_from: Some(at(T0, 0)),
        ..Default::default()
    };
    assert_eq!(list(combined).await, vec![a.id]);
}

pub(crate) async fn a_replayed_authorization_returns_the_stored_answer_and_reserves_once(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let ask = Ask::new(s, "ORDER-1", at(T0, 0)).lines(&[("SKU-1", 1, 5)]);
    let Applied::New(first) = try_authorize(&store, &t, &ask, Uuid::new_v4(), Some(claim("k", 1)))
        .await
        .unwrap()
    else {
        panic!("the first call applies")
    };
    let again = try_authorize(&store, &t, &ask, Uuid::new_v4(), Some(claim("k", 1))).await;
    assert_eq!(again.unwrap(), Applied::Replayed(first.document.clone()));
    assert_eq!(returned(&store, &t, "ORDER-1", "SKU-1").await, 1);
    let all = ReturnFilter::default();
    assert_eq!(
        ids(&store.list_returns(&t, &all, None, 10).await.unwrap()),
        vec![first.id]
    );
    assert_eq!(seqs(&store, &t, 0).await, vec![1]);
}

pub(crate) async fn an_authorization_key_reused_for_another_request_is_refused(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let ask = Ask::new(s, "ORDER-1", at(T0, 0)).lines(&[("SKU-1", 1, 5)]);
    try_authorize(&store, &t, &ask, Uuid::new_v4(), Some(claim("k", 1)))
        .await
        .unwrap();
    let other = Ask::new(s, "ORDER-2", at(T0, 0));
    let reused = try_authorize(&store, &t, &other, Uuid::new_v4(), Some(claim("k", 2))).await;
    assert!(matches!(
        reused,
        Err(StoreError::Domain(DomainError::IdempotencyKeyReused))
    ));
    assert_eq!(returned(&store, &t, "ORDER-2", "SKU-1").await, 0);
    let all = ReturnFilter::default();
    assert_eq!(
        store.list_returns(&t, &all, None, 10).await.unwrap().len(),
        1
    );
    assert_eq!(store.last_event_seq(&t).await.unwrap(), 1);
}

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
    assert_eq!(stored.document, document(a.id, 4, Inspected));

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
    assert_eq!(again, Applied::Replayed(shipped.document.clone()));
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

fn sale(supplier: SupplierId, sku: &str, day: i64, units: i64) -> SalesRecord {
    SalesRecord {
        supplier,
        sku: sku.into(),
        category: "shoes".into(),
        period_start: at(T0 + day * 86_400, 0),
        period_end: at(T0 + (day + 1) * 86_400, 0),
        units_sold: units,
    }
}

fn encode_counts(counts: &(u32, u32)) -> Vec<u8> {
    format!("{}/{}", counts.0, counts.1).into_bytes()
}

fn sales_claim(hash: u8) -> IdempotencyClaim<'static, (u32, u32)> {
    IdempotencyClaim {
        key: "sales-1",
        request_hash: [hash; 32],
        encode: &encode_counts,
    }
}

pub(crate) async fn recording_a_period_again_replaces_it_and_counts_the_replacement(
    backend: Backend,
) {
    let Backend { store, pool } = backend;
    let (t, s) = arrange(&store).await;
    let now = at(T0, 0);
    let first = [sale(s, "SKU-A", 0, 10), sale(s, "SKU-B", 0, 4)];
    assert_eq!(
        store.record_sales(&t, &first, now, None).await.unwrap(),
        Applied::New((2, 0))
    );
    let mut again = sale(s, "SKU-A", 0, 12);
    again.category = "boots".into();
    let next_day = sale(s, "SKU-A", 1, 3);
    let second = store
        .record_sales(&t, &[again, next_day], now, None)
        .await
        .unwrap();
    assert_eq!(second, Applied::New((1, 1)));
    let rows = sales_rows(&pool, &t).await;
    let expected = [
        ("SKU-A", "boots", 12),
        ("SKU-A", "shoes", 3),
        ("SKU-B", "shoes", 4),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(s, c, n)| (s.to_string(), c.to_string(), *n))
        .collect();
    assert_eq!(rows, expected);
}

pub(crate) async fn a_replayed_sales_report_returns_its_stored_answer_and_records_once(
    backend: Backend,
) {
    let Backend { store, pool } = backend;
    let (t, s) = arrange(&store).await;
    let now = at(T0, 0);
    let report = [sale(s, "SKU-A", 0, 10)];
    let first = store
        .record_sales(&t, &report, now, Some(sales_claim(1)))
        .await
        .unwrap();
    assert_eq!(first, Applied::New((1, 0)));
    // The same key and request: the stored answer, and the record is not written again.
    let again = store
        .record_sales(&t, &[sale(s, "SKU-A", 0, 99)], now, Some(sales_claim(1)))
        .await;
    assert_eq!(again.unwrap(), Applied::Replayed(b"1/0".to_vec()));
    let reused = store
        .record_sales(&t, &report, now, Some(sales_claim(2)))
        .await;
    assert!(matches!(
        reused,
        Err(StoreError::Domain(DomainError::IdempotencyKeyReused))
    ));
    let rows = sales_rows(&pool, &t).await;
    assert_eq!(rows, vec![("SKU-A".to_owned(), "shoes".to_owned(), 10)]);
}

pub(crate) async fn sales_of_another_tenants_supplier_record_nothing(backend: Backend) {
    let Backend { store, pool } = backend;
    let (t, s) = arrange(&store).await;
    let globex = with_tenant(&store, "globex").await;
    let theirs = create(&store, &globex, webhook("Globex Supply")).await.id;
    let report = [sale(s, "SKU-A", 0, 10), sale(theirs, "SKU-B", 0, 4)];
    let err = store.record_sales(&t, &report, at(T0, 0), None).await;
    assert!(matches!(
        err,
        Err(StoreError::Domain(DomainError::NotFound {
            resource: "SUPPLIER",
            ..
        }))
    ));
    assert!(
        sales_rows(&pool, &t).await.is_empty(),
        "the whole report is refused"
    );
    assert!(sales_rows(&pool, &globex).await.is_empty());
}
