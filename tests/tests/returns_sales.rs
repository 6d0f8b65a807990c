//! RecordSales: units sold per supplier, SKU and period; a record for the same supplier, SKU and
//! period replaces the stored one; bad records name their field and store nothing.

use chrono::{DateTime, Duration, Utc};
use returnbridge_proto::v1 as pb;
use returnbridge_tests::fixtures::{seller_with_supplier, ts};
use returnbridge_tests::{Auth, ReturnClient, reason, spawn_app, violated_fields};
use tonic::Code;

fn period(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<pb::TimeRange> {
    Some(pb::TimeRange {
        start_time: Some(ts(start)),
        end_time: Some(ts(end)),
    })
}

/// Sales of `sku` in the 30 days up to 2025-06-01: a fixed period, so calls can repeat it.
fn record(supplier: &str, sku: &str, units_sold: i64) -> pb::SalesRecord {
    let end = DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    pb::SalesRecord {
        supplier_id: supplier.into(),
        sku: sku.into(),
        category: "apparel/tops".into(),
        period: period(end - Duration::days(30), end),
        units_sold,
    }
}

async fn send(
    c: &mut ReturnClient,
    records: Vec<pb::SalesRecord>,
) -> Result<(i32, i32), tonic::Status> {
    c.record_sales(pb::RecordSalesRequest { records })
        .await
        .map(|r| r.into_inner())
        .map(|r| (r.inserted_count, r.replaced_count))
}

#[tokio::test]
async fn sales_are_inserted_then_replaced_for_the_same_supplier_sku_and_period() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let mut c = app.returns(Auth::key(&key));
    let first = send(
        &mut c,
        vec![
            record(&supplier, "TEE-M", 100),
            record(&supplier, "SWIM-1", 40),
        ],
    )
    .await
    .unwrap();
    assert_eq!(first, (2, 0));
    let corrected = send(
        &mut c,
        vec![
            record(&supplier, "TEE-M", 120),
            record(&supplier, "TEE-L", 10),
        ],
    )
    .await
    .unwrap();
    assert_eq!(corrected, (1, 1));
    // A retry of the same correction replaces again and inserts nothing.
    let retried = send(
        &mut c,
        vec![
            record(&supplier, "TEE-M", 120),
            record(&supplier, "TEE-L", 10),
        ],
    )
    .await
    .unwrap();
    assert_eq!(retried, (0, 2));
    // Another period of the same SKU is a record of its own.
    let mut next_month = record(&supplier, "TEE-M", 90);
    let end = DateTime::parse_from_rfc3339("2025-07-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    next_month.period = period(end - Duration::days(30), end);
    assert_eq!(send(&mut c, vec![next_month]).await.unwrap(), (1, 0));
}

#[tokio::test]
async fn an_invalid_period_is_invalid_and_names_it() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let mut c = app.returns(Auth::key(&key));
    let now = Utc::now();
    let with_period = |p: Option<pb::TimeRange>| pb::SalesRecord {
        period: p,
        ..record(&supplier, "TEE-M", 5)
    };
    let cases = [
        (with_period(None), "records[0].period"),
        (
            with_period(period(now - Duration::days(1), now - Duration::days(2))),
            "records[0].period",
        ),
        (
            with_period(period(now - Duration::days(1), now - Duration::days(1))),
            "records[0].period",
        ),
        (
            with_period(Some(pb::TimeRange {
                start_time: Some(ts(now - Duration::days(1))),
                end_time: None,
            })),
            "records[0].period",
        ),
        // At most 366 days long.
        (
            with_period(period(now - Duration::days(400), now - Duration::days(1))),
            "records[0].period",
        ),
        // Not ending in the future.
        (
            with_period(period(now - Duration::days(1), now + Duration::days(1))),
            "records[0].period.end_time",
        ),
    ];
    for (bad, field) in cases {
        let err = send(&mut c, vec![record(&supplier, "SWIM-1", 1), bad.clone()])
            .await
            .expect_err(&format!("{bad:?}"));
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}");
        let field = field.replace("records[0]", "records[1]");
        assert_eq!(violated_fields(&err), [field.as_str()], "{bad:?}");
    }
    // Nothing of the refused batches was stored.
    assert_eq!(
        send(&mut c, vec![record(&supplier, "SWIM-1", 1)])
            .await
            .unwrap(),
        (1, 0)
    );
    // A whole leap year is fine.
    let end = now - Duration::days(1);
    let year = pb::SalesRecord {
        period: period(end - Duration::days(366), end),
        ..record(&supplier, "TEE-M", 5)
    };
    assert_eq!(send(&mut c, vec![year]).await.unwrap(), (1, 0));
}

#[tokio::test]
async fn bad_records_name_their_fields() {
    let app = spawn_app().await;
    let (key, supplier) = seller_with_supplier(&app, "acme").await;
    let mut c = app.returns(Auth::key(&key));
    let err = send(&mut c, vec![]).await.unwrap_err();
    assert_eq!(violated_fields(&err), ["records"]);
    let cases = [
        (record(&supplier, "TEE-M", -1), "records[0].units_sold"),
        (
            record(&supplier, "TEE-M", 1_000_000_000_001),
            "records[0].units_sold",
        ),
        (record(&supplier, "", 1), "records[0].sku"),
        (
            pb::SalesRecord {
                category: "Not A Slug".into(),
                ..record(&supplier, "TEE-M", 1)
            },
            "records[0].category",
        ),
        (record("not-a-uuid", "TEE-M", 1), "records[0].supplier_id"),
    ];
    for (bad, field) in cases {
        let err = send(&mut c, vec![bad.clone()]).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}");
        assert_eq!(violated_fields(&err), [field], "{bad:?}");
    }
    // Two records for the same supplier, SKU and period in one call.
    let err = send(
        &mut c,
        vec![record(&supplier, "TEE-M", 1), record(&supplier, "TEE-M", 2)],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["records[1]"]);

    let err = send(
        &mut c,
        vec![record(&uuid::Uuid::new_v4().to_string(), "TEE-M", 1)],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(reason(&err), "SUPPLIER_NOT_FOUND");
    // None of it was stored.
    assert_eq!(
        send(&mut c, vec![record(&supplier, "TEE-M", 1)])
            .await
            .unwrap(),
        (1, 0)
    );
}
