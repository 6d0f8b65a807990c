//! Conformance cases for sales records (`record_sales`). No trait method reads them back, so these
//! look at the table itself.

use super::returns::{T0, arrange};
use super::{Backend, Pool, at, create, webhook, with_tenant};
use returnbridge_domain::ids::{SupplierId, TenantId};
use returnbridge_domain::{DomainError, Resource};
use returnbridge_store::{Applied, IdempotencyClaim, SalesRecord, StoreError};

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

fn encode_counts(counts: &(u32, u32)) -> Result<Vec<u8>, StoreError> {
    Ok(format!("{}/{}", counts.0, counts.1).into_bytes())
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
    // One report naming a period twice: the later record stands, as if sent in two reports.
    let twice = [sale(s, "SKU-C", 0, 1), sale(s, "SKU-C", 0, 5)];
    let third = store.record_sales(&t, &twice, now, None).await.unwrap();
    assert_eq!(third, Applied::New((1, 1)));
    let rows = sales_rows(&pool, &t).await;
    let expected = [
        ("SKU-A", "boots", 12),
        ("SKU-A", "shoes", 3),
        ("SKU-B", "shoes", 4),
        ("SKU-C", "shoes", 5),
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
            resource: Resource::Supplier,
            ..
        }))
    ));
    assert!(
        sales_rows(&pool, &t).await.is_empty(),
        "the whole report is refused"
    );
    assert!(sales_rows(&pool, &globex).await.is_empty());
}
