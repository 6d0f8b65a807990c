//! Conformance cases for authorizing and reading returns (`ReturnStore`), and the helpers the cases
//! on changes, units, the outbox and liability share.
//!
//! The plans below are the api crate's (`returns/authorize.rs`, `returns/change.rs`) cut down to
//! what the store sees: a small domain return whose status and version change, and events whose
//! detail is a few bytes naming the return, its version and its status.

use super::{at, create, webhook, with_tenant};
use chrono::{DateTime, TimeDelta, Utc};
use returnbridge_domain::currency::Currency;
use returnbridge_domain::decision::{Basis, Deadlines, Decision, FaultClass, Outcome};
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use returnbridge_domain::lifecycle::ReturnStatus::{self, *};
use returnbridge_domain::money::Money;
use returnbridge_domain::order::{
    Category, OrderFacts, OrderLine, OrderRef, ReturnItem, ReturnReason, ReturnRequest, Sku,
};
use returnbridge_domain::returns::{
    DecidedUnder, Return, SupplierDeadlines, SupplierRequest, SupplierRequestKind,
};
use returnbridge_domain::statute::Jurisdiction;
use returnbridge_domain::{DomainError, ErrorReason, Resource};
use returnbridge_store::{
    Applied, IdempotencyClaim, NewEvent, NewOutboxMessage, NewReturn, NewSettlement, ReturnFilter,
    ReturnUpdate, ReturnedSoFar, Store, StoreError,
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
            ret: self.a_return(id, status, self.ship_by.filter(|_| fits)),
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

impl Ask {
    /// The return the api would store for this ask: every line at 10.00 EUR, decided under contract
    /// version 1 and the NONE profile, with a notice to the supplier unless rejected (its ack
    /// deadline a day on).
    pub fn a_return(
        &self,
        id: ReturnId,
        status: ReturnStatus,
        ship_by: Option<DateTime<Utc>>,
    ) -> Return {
        let eur = |minor| Money::new(Currency::EUR, minor);
        let sku = |raw: &str| Sku::parse(raw).unwrap();
        let order = OrderFacts {
            order_id: OrderRef::parse(&self.order_id).unwrap(),
            supplier: self.supplier,
            ordered_at: self.now - TimeDelta::days(10),
            delivered_at: self.now - TimeDelta::days(5),
            jurisdiction: Jurisdiction::None,
            customer_time_zone: None,
            extended_cancellation_right: false,
            currency: Currency::EUR,
            outbound_shipping: eur(0),
            lines: self
                .lines
                .iter()
                .map(|(s, _, bought)| OrderLine {
                    sku: sku(s),
                    category: Category::parse("apparel").unwrap(),
                    quantity: u32::try_from(*bought).unwrap(),
                    unit_price: eur(1_000),
                    unit_cost: eur(600),
                })
                .collect(),
        };
        let rejected = status == Rejected;
        let decision = Decision {
            outcome: if rejected {
                Outcome::Rejected
            } else {
                Outcome::Authorized
            },
            fault: FaultClass::Supplier,
            basis: Basis::Contract,
            policy_gap: false,
            statutory_withdrawal: false,
            return_required: !rejected,
            returnless: false,
            reasons: vec![],
            deadlines: Deadlines {
                customer_ship_by: ship_by,
                supplier_ack_by: (!rejected).then(|| self.now + TimeDelta::days(1)),
                supplier_decide_by: None,
            },
            contract_version: 1,
            profile_version: "NONE-2026.1".into(),
        };
        let requests = if rejected {
            vec![]
        } else {
            let deadlines = SupplierDeadlines {
                ack_by: decision.deadlines.supplier_ack_by,
                ..SupplierDeadlines::default()
            };
            vec![SupplierRequest::new(
                SupplierRequestKind::Notice,
                self.supplier,
                deadlines,
                self.now,
            )]
        };
        Return {
            id,
            status,
            version: 1,
            request: ReturnRequest {
                order,
                items: self
                    .lines
                    .iter()
                    .map(|(s, n, _)| ReturnItem {
                        sku: sku(s),
                        quantity: u32::try_from(*n).unwrap(),
                    })
                    .collect(),
                reason: ReturnReason::parse(self.reason).unwrap(),
                evidence: vec![],
                label_cost_estimate: None,
                customer_comment: None,
            },
            external_reference: String::new(),
            decision,
            decided: DecidedUnder {
                settings_version: 0,
                decided_at: self.now,
            },
            supplier: self.supplier,
            label_cost: None,
            ship_by,
            evidence: vec![],
            supplier_requests: requests,
            supplier_decision: None,
            shipment: None,
            receipt: None,
            inspection: None,
            resolution: None,
            credit: None,
            cancellation: None,
            created_at: self.now,
            updated_at: self.now,
            closed_at: None,
        }
    }
}

/// An event's detail, and the idempotent answer the cases keep: the return, its version, its status.
pub(crate) fn document(id: ReturnId, version: i64, status: ReturnStatus) -> Vec<u8> {
    format!("{id} v{version} {}", status.as_str()).into_bytes()
}

pub(crate) fn event(
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
    claim: Option<IdempotencyClaim<'_, Return>>,
) -> Result<Applied<Return>, StoreError> {
    let id = ReturnId::generate();
    let plan = |so_far: &ReturnedSoFar| Ok(ask.plan(id, message_id, so_far));
    let skus = ask.skus();
    store
        .authorize_return(t, &ask.order_id, &skus, &plan, ask.now, claim)
        .await
}

pub(crate) async fn authorize(store: &Arc<dyn Store>, t: &TenantId, ask: &Ask) -> Return {
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
pub(crate) async fn returned(
    store: &Arc<dyn Store>,
    t: &TenantId,
    order_id: &str,
    sku: &str,
) -> i64 {
    let seen = Mutex::new(None);
    let peek = |so_far: &ReturnedSoFar| {
        *seen.lock().unwrap() = Some(so_far.get(sku).copied().unwrap_or(0));
        // Refused on purpose, so nothing is written: the plan only looks.
        Err(DomainError::FailedPrecondition {
            reason: ErrorReason::ReturnStatusConflict,
            message: "peek".into(),
        }
        .into())
    };
    let refused = store
        .authorize_return(t, order_id, &[sku.to_owned()], &peek, Utc::now(), None)
        .await;
    assert!(matches!(
        refused,
        Err(StoreError::Domain(DomainError::FailedPrecondition { ref message, .. })) if message == "peek"
    ));
    seen.into_inner().unwrap().expect("the plan ran")
}

/// Opens a pooled connection per concurrent task to come, so that the tasks overlap inside their
/// transactions rather than queueing for connections one by one.
pub(crate) async fn warm_pool(store: &Arc<dyn Store>, t: &TenantId) {
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

    fn plan(&self, row: &Return) -> Result<ReturnUpdate, StoreError> {
        if self.expected > 0 && self.expected != row.version {
            return Err(DomainError::VersionConflict {
                expected: self.expected,
                current: row.version,
            }
            .into());
        }
        let version = row.version + 1;
        let mut ret = row.clone();
        ret.status = self.to;
        ret.version = version;
        ret.updated_at = self.now;
        Ok(ReturnUpdate {
            ret,
            events: vec![event(row.id, version, row.status, self.to, self.now)],
            breaches: vec![],
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
    claim: Option<IdempotencyClaim<'_, Return>>,
) -> Result<Applied<Return>, StoreError> {
    let plan = |row: &Return| change.plan(row);
    store.update_return(t, id, &plan, change.now, claim).await
}

pub(crate) async fn change(
    store: &Arc<dyn Store>,
    t: &TenantId,
    id: ReturnId,
    change: &Change,
) -> Return {
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

fn encode_row(row: &Return) -> Result<Vec<u8>, StoreError> {
    Ok(document(row.id, row.version, row.status))
}

pub(crate) fn claim(key: &str, hash: u8) -> IdempotencyClaim<'_, Return> {
    IdempotencyClaim {
        key,
        request_hash: [hash; 32],
        encode: &encode_row,
    }
}

pub(crate) fn ids(rows: &[Return]) -> Vec<ReturnId> {
    rows.iter().map(|r| r.id).collect()
}

pub(crate) async fn seqs(store: &Arc<dyn Store>, t: &TenantId, after: i64) -> Vec<i64> {
    let events = store.events_after(t, after, 1000).await.unwrap();
    events.iter().map(|e| e.seq).collect()
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
    let plan = |r: &Return| {
        *planned.lock().unwrap() = true;
        Change::to(Cancelled, ask.now).plan(r)
    };
    let foreign = store
        .update_return(&globex, row.id, &plan, ask.now, None)
        .await;
    assert!(matches!(
        foreign,
        Err(StoreError::Domain(DomainError::NotFound {
            resource: Resource::Return,
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
    assert_eq!(
        again.unwrap(),
        Applied::Replayed(document(first.id, first.version, first.status))
    );
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
