//! Conformance cases for final liability splits, their ledger postings and settlement statements
//! (`LiabilityStore`). A split is written by the change that resolves a return (`ReturnUpdate`).

use super::returns::{Ask, Change, T0, arrange, authorize, change, try_change};
use super::{Backend, Pool, at, create, webhook, with_tenant};
use chrono::{DateTime, TimeDelta, Utc};
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use returnbridge_domain::lifecycle::ReturnStatus::{Cancelled, Resolved};
use returnbridge_store::{
    LedgerEntry, NewSettlement, SettlementScope, SettlementSums, Store, StoredSettlement,
};
use std::sync::Arc;

/// A split that owes one side an amount, with a posting per side.
fn settlement(
    supplier: SupplierId,
    currency: &str,
    resolved_at: DateTime<Utc>,
    (owed_to_seller, owed_to_supplier): (i64, i64),
    tag: &str,
) -> NewSettlement {
    NewSettlement {
        supplier,
        currency: currency.into(),
        resolved_at,
        contract_version: 3,
        profile_version: "EU-2024.1".into(),
        supplier_owes_seller: owed_to_seller,
        seller_owes_supplier: owed_to_supplier,
        split: format!("split {tag}").into_bytes(),
        line: format!("line {tag}").into_bytes(),
        entries: vec![
            LedgerEntry {
                party: "SUPPLIER".into(),
                component: "ITEM_PRICE".into(),
                amount: owed_to_seller,
                rule: "DEFECT_SUPPLIER_PAYS".into(),
            },
            LedgerEntry {
                party: "SELLER".into(),
                component: "RETURN_SHIPPING".into(),
                amount: owed_to_supplier,
                rule: "SELLER_PAYS_LABEL".into(),
            },
        ],
    }
}

/// A return of its own order, authorized and then resolved with `split`.
async fn resolved(store: &Arc<dyn Store>, t: &TenantId, split: NewSettlement) -> ReturnId {
    let order = format!("ORDER-{}", uuid::Uuid::new_v4());
    let row = authorize(store, t, &Ask::new(split.supplier, &order, at(T0, 0))).await;
    let mut resolve = Change::to(Resolved, split.resolved_at);
    resolve.settlement = Some(split);
    change(store, t, row.id, &resolve).await;
    row.id
}

/// A return's ledger postings, in entry order: (party, component, amount, currency, rule).
async fn postings(
    pool: &Pool,
    t: &TenantId,
    id: ReturnId,
) -> Vec<(String, String, i64, String, String)> {
    const SQL: &str = "SELECT party, component, amount, currency, rule FROM ledger_entries \
                       WHERE tenant_id = $1 AND return_id = $2 ORDER BY entry_no";
    match pool {
        Pool::Sqlite(p) => {
            sqlx::query_as(SQL)
                .bind(t.as_str())
                .bind(id.to_string())
                .fetch_all(p)
                .await
        }
        Pool::Postgres(p) => {
            sqlx::query_as(SQL)
                .bind(t.as_str())
                .bind(id.as_uuid())
                .fetch_all(p)
                .await
        }
    }
    .unwrap()
}

fn scope(supplier: SupplierId, currency: &str, from: DateTime<Utc>, days: i64) -> SettlementScope {
    SettlementScope {
        supplier,
        currency: currency.into(),
        from,
        to: from + TimeDelta::days(days),
    }
}

pub(crate) async fn a_resolved_returns_split_and_postings_are_stored_with_the_resolution(
    backend: Backend,
) {
    let Backend { store, pool } = backend;
    let (t, s) = arrange(&store).await;
    let row = authorize(&store, &t, &Ask::new(s, "ORDER-1", at(T0, 0))).await;
    assert_eq!(store.liability_split(&t, row.id).await.unwrap(), None);
    let split = settlement(s, "EUR", at(T0 + 60, 250), (1999, 350), "one");
    let mut resolve = Change::to(Resolved, at(T0 + 60, 250));
    resolve.settlement = Some(split.clone());
    let after = change(&store, &t, row.id, &resolve).await;
    assert_eq!(after.status, Resolved);
    assert_eq!(
        store.liability_split(&t, row.id).await.unwrap(),
        Some(split.split.clone())
    );
    let expected: Vec<_> = split
        .entries
        .iter()
        .map(|e| {
            (
                e.party.clone(),
                e.component.clone(),
                e.amount,
                "EUR".to_owned(),
                e.rule.clone(),
            )
        })
        .collect();
    assert_eq!(postings(&pool, &t, row.id).await, expected);
    let lines = store
        .settlement_lines(&t, &scope(s, "EUR", at(T0, 0), 1), None, 10)
        .await
        .unwrap();
    let line = StoredSettlement {
        return_id: row.id,
        resolved_at: at(T0 + 60, 250),
        line: split.line.clone(),
    };
    assert_eq!(lines, vec![line]);
    // A change that settles nothing writes no split.
    let other = authorize(&store, &t, &Ask::new(s, "ORDER-2", at(T0, 0))).await;
    change(&store, &t, other.id, &Change::to(Cancelled, at(T0 + 1, 0))).await;
    assert_eq!(store.liability_split(&t, other.id).await.unwrap(), None);
    assert!(postings(&pool, &t, other.id).await.is_empty());
}

pub(crate) async fn a_returns_split_is_written_once_and_a_second_resolution_changes_nothing(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let first = settlement(s, "EUR", at(T0 + 60, 0), (500, 0), "first");
    let id = resolved(&store, &t, first.clone()).await;
    let before = store.get_return(&t, id).await.unwrap().unwrap();
    let last_seq = store.last_event_seq(&t).await.unwrap();

    let mut again = Change::to(Resolved, at(T0 + 120, 0));
    again.settlement = Some(settlement(s, "EUR", at(T0 + 120, 0), (9000, 0), "second"));
    let refused = try_change(&store, &t, id, &again, None).await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(
        store.liability_split(&t, id).await.unwrap(),
        Some(first.split)
    );
    assert_eq!(store.get_return(&t, id).await.unwrap(), Some(before));
    assert_eq!(store.last_event_seq(&t).await.unwrap(), last_seq);
    let sums = store
        .settlement_sums(&t, &scope(s, "EUR", at(T0, 0), 1))
        .await
        .unwrap();
    assert_eq!(
        sums,
        SettlementSums {
            supplier_owes_seller: 500,
            seller_owes_supplier: 0,
            lines: 1
        }
    );
}

pub(crate) async fn a_statement_lists_one_suppliers_lines_of_one_period_and_currency_in_order(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let other = create(&store, &t, webhook("Other Supply")).await.id;
    let from = at(T0 + 86_400, 0);
    let day = |d: i64| from + TimeDelta::days(d);
    let r1 = resolved(&store, &t, settlement(s, "EUR", from, (100, 0), "r1")).await;
    let r2 = resolved(&store, &t, settlement(s, "EUR", day(1), (0, 40), "r2")).await;
    // Two resolved in the same microsecond: ordered by return id.
    let r3 = resolved(&store, &t, settlement(s, "EUR", day(2), (10, 0), "r3")).await;
    let r4 = resolved(&store, &t, settlement(s, "EUR", day(2), (20, 0), "r4")).await;
    let mut tied = [r3, r4];
    tied.sort();
    // Outside the statement: before it, at its (exclusive) end, another currency, another supplier.
    let before = from - TimeDelta::microseconds(1);
    resolved(&store, &t, settlement(s, "EUR", before, (1000, 0), "early")).await;
    resolved(&store, &t, settlement(s, "EUR", day(30), (1000, 0), "late")).await;
    resolved(&store, &t, settlement(s, "USD", day(1), (1000, 0), "usd")).await;
    resolved(
        &store,
        &t,
        settlement(other, "EUR", day(1), (1000, 0), "other"),
    )
    .await;

    let month = scope(s, "EUR", from, 30);
    let expected = vec![r1, r2, tied[0], tied[1]];
    let all = store.settlement_lines(&t, &month, None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|l| l.return_id).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(all[1].line, b"line r2".to_vec());
    assert_eq!(all[1].resolved_at, day(1));
    // Pages resume after the last line served, even between two lines of one instant.
    let first = store.settlement_lines(&t, &month, None, 3).await.unwrap();
    let last = first.last().unwrap();
    let rest = store
        .settlement_lines(&t, &month, Some((last.resolved_at, last.return_id)), 3)
        .await
        .unwrap();
    let paged: Vec<_> = first.iter().chain(&rest).map(|l| l.return_id).collect();
    assert_eq!(paged, expected);
    // Totals cover the whole period, not a page.
    let sums = store.settlement_sums(&t, &month).await.unwrap();
    assert_eq!(
        sums,
        SettlementSums {
            supplier_owes_seller: 130,
            seller_owes_supplier: 40,
            lines: 4
        }
    );
    let usd = store
        .settlement_sums(&t, &scope(s, "USD", from, 30))
        .await
        .unwrap();
    assert_eq!(
        usd,
        SettlementSums {
            supplier_owes_seller: 1000,
            seller_owes_supplier: 0,
            lines: 1
        }
    );
    let empty = store
        .settlement_sums(&t, &scope(s, "GBP", from, 30))
        .await
        .unwrap();
    assert_eq!(empty, SettlementSums::default());
    assert!(
        store
            .settlement_lines(&t, &scope(s, "GBP", from, 30), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn another_tenant_sees_no_split_and_no_statement_lines(store: Arc<dyn Store>) {
    let (t, s) = arrange(&store).await;
    let globex = with_tenant(&store, "globex").await;
    let theirs = create(&store, &globex, webhook("Globex Supply")).await.id;
    let ours = resolved(
        &store,
        &t,
        settlement(s, "EUR", at(T0 + 60, 0), (700, 0), "ours"),
    )
    .await;
    resolved(
        &store,
        &globex,
        settlement(theirs, "EUR", at(T0 + 60, 0), (300, 0), "theirs"),
    )
    .await;

    assert_eq!(store.liability_split(&globex, ours).await.unwrap(), None);
    let our_scope = scope(s, "EUR", at(T0, 0), 1);
    assert!(
        store
            .settlement_lines(&globex, &our_scope, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.settlement_sums(&globex, &our_scope).await.unwrap(),
        SettlementSums::default()
    );
    let our_lines = store
        .settlement_lines(&t, &our_scope, None, 10)
        .await
        .unwrap();
    assert_eq!(
        our_lines.iter().map(|l| l.return_id).collect::<Vec<_>>(),
        vec![ours]
    );
    let their_sums = store
        .settlement_sums(&globex, &scope(theirs, "EUR", at(T0, 0), 1))
        .await
        .unwrap();
    assert_eq!(
        their_sums,
        SettlementSums {
            supplier_owes_seller: 300,
            seller_owes_supplier: 0,
            lines: 1
        }
    );
}
