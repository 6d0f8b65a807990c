//! One suite, every backend: SQLite always, PostgreSQL when `TEST_DATABASE_URL` (or `DATABASE_URL`)
//! names a server.

use chrono::{DateTime, TimeZone, Utc};
use returnbridge_domain::DomainError;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::{ApiKeyId, SupplierId, TenantId};
use returnbridge_domain::supplier::{
    BACKUP_FIELD, Connector, DeliveryPolicy, DisplayName, EndpointUrl, NewSupplier, Supplier,
    SupplierChanges,
};
use returnbridge_store::{
    Applied, IdempotencyClaim, NewApiKey, PgStore, ScratchDatabase, SqliteStore, Store, StoreError,
    StoreOptions,
};
use std::sync::Arc;

/// A store and the pool underneath it. Cases take either: most only the store, the few that check
/// rows no trait method reads back (the outbox, sales records) the whole backend.
pub(crate) struct Backend {
    store: Arc<dyn Store>,
    pool: Pool,
}

/// The backend's own pool, for queries the conformance cases write once per dialect.
pub(crate) enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl From<Backend> for Arc<dyn Store> {
    fn from(backend: Backend) -> Self {
        backend.store
    }
}

/// A SQLite file's folder, removed when the case ends.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A migrated SQLite store in a folder of its own, kept while the returned guard lives.
async fn sqlite_store() -> (Backend, TempDir) {
    let dir = TempDir(
        std::env::temp_dir().join(format!("returnbridge-conformance-{}", uuid::Uuid::new_v4())),
    );
    std::fs::create_dir_all(&dir.0).unwrap();
    let url = format!("sqlite:{}", dir.0.join("store.db").display());
    let store = SqliteStore::connect(&url, &StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let backend = Backend {
        pool: Pool::Sqlite(store.pool().clone()),
        store: Arc::new(store),
    };
    (backend, dir)
}

/// A migrated store on a scratch database, kept while the returned guard lives.
async fn postgres_store() -> Option<(Backend, ScratchDatabase)> {
    let server = std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .ok()?;
    let scratch = ScratchDatabase::create(&server).await.unwrap();
    let store = PgStore::connect(scratch.url(), &StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let backend = Backend {
        pool: Pool::Postgres(store.pool().clone()),
        store: Arc::new(store),
    };
    Some((backend, scratch))
}

/// Says on the terminal (past the test harness's capture) that a test did not run.
fn skipped(test: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "{test}: skipped, TEST_DATABASE_URL is not set (PostgreSQL)"
    );
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (backend, _dir) = super::sqlite_store().await;
                super::$case(backend.into()).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                match super::postgres_store().await {
                    Some((backend, _scratch)) => super::$case(backend.into()).await,
                    None => super::skipped(concat!("postgres::", stringify!($case))),
                }
            })*
        }
    };
}

conformance!(
    migrations_are_idempotent_and_leave_the_store_ready,
    api_keys_are_found_by_hash_listed_per_tenant_and_revoked_once,
    a_supplier_key_must_name_an_existing_supplier,
    suppliers_round_trip_with_microsecond_instants,
    suppliers_list_in_creation_order_across_pages,
    another_tenants_supplier_is_not_found,
    an_unknown_backup_is_invalid_and_creates_nothing,
    updates_apply_changes_and_bump_the_version,
    a_stale_expected_version_is_a_conflict_and_changes_nothing,
    a_replayed_idempotency_key_returns_the_stored_answer_without_a_second_effect,
    an_idempotency_key_reused_for_another_request_is_refused,
    concurrent_duplicates_of_one_key_have_exactly_one_effect,
    // contracts and seller settings (conformance/contracts.rs)
    contract_versions_number_from_one_and_never_change,
    the_contract_in_effect_is_the_latest_started_version,
    a_stale_expected_latest_version_is_a_conflict,
    a_correction_governs_every_order_from_its_start,
    failover_terms_need_a_supplier_with_a_backup,
    contracts_of_another_tenants_supplier_are_not_found,
    a_replayed_publish_returns_the_stored_answer_and_publishes_once,
    concurrent_publishes_get_consecutive_versions,
    seller_settings_start_unset_and_count_their_writes,
    a_replayed_settings_update_has_one_effect,
    idempotency_records_past_the_retention_are_purged_and_their_keys_are_new_again,
    // authorizing and reading returns (conformance/returns.rs)
    an_authorized_return_reads_back_as_written_and_only_by_its_tenant,
    returns_list_newest_first_and_resume_after_the_last_row_served,
    list_filters_match_status_supplier_order_reason_and_creation_range,
    a_replayed_authorization_returns_the_stored_answer_and_reserves_once,
    an_authorization_key_reused_for_another_request_is_refused,
    // units returned per order line (conformance/units.rs)
    concurrent_returns_of_one_order_never_take_more_units_than_were_bought,
    returns_naming_an_orders_skus_in_any_order_all_get_their_units,
    released_units_can_be_returned_again_and_never_go_below_zero,
    // changes, events and the expiry query (conformance/changes.rs)
    a_stale_expected_version_is_a_conflict_and_changes_nothing_on_a_return,
    each_change_bumps_the_version_and_appends_one_event_in_tenant_sequence,
    concurrent_changes_on_one_expected_version_apply_exactly_once,
    the_event_stream_has_no_gaps_under_concurrent_writers,
    a_replayed_change_returns_the_stored_answer_without_a_second_event,
    overdue_returns_are_authorized_ones_past_ship_by_oldest_deadline_first,
    // the stored document and the SLA clock's columns (conformance/documents.rs)
    supplier_deadlines_due_are_running_ones_listed_once_earliest_first,
    returns_in_an_older_format_are_listed_and_upgraded_once,
    // outbox rows (conformance/outbox.rs)
    a_change_writes_its_outbox_row_once_and_a_refusal_writes_none,
    a_change_whose_outbox_row_cannot_be_written_leaves_nothing_behind,
    // delivering the outbox (conformance/delivery.rs)
    due_rows_are_claimed_oldest_first_once_and_not_before_they_are_due,
    two_claimers_never_get_the_same_row,
    an_expired_lease_is_reclaimed_and_the_old_claim_can_no_longer_fail_the_row,
    failed_attempts_are_recorded_and_the_row_waits_for_its_next_attempt,
    a_held_back_row_waits_without_counting_an_attempt,
    an_exhausted_row_is_failed_until_an_operator_redelivers_it,
    a_suppliers_delivery_target_carries_its_connector_and_secret,
    a_commit_that_adds_outbox_rows_wakes_the_signal,
    // sales records (conformance/sales.rs)
    recording_a_period_again_replaces_it_and_counts_the_replacement,
    a_replayed_sales_report_returns_its_stored_answer_and_records_once,
    sales_of_another_tenants_supplier_record_nothing,
    // liability splits and settlement statements (conformance/liability.rs)
    a_resolved_returns_split_and_postings_are_stored_with_the_resolution,
    a_returns_split_is_written_once_and_a_second_resolution_changes_nothing,
    a_statement_lists_one_suppliers_lines_of_one_period_and_currency_in_order,
    another_tenant_sees_no_split_and_no_statement_lines,
);

#[path = "conformance/contracts.rs"]
mod contracts;
use contracts::*;
#[path = "conformance/returns.rs"]
mod returns;
use returns::*;
#[path = "conformance/units.rs"]
mod units;
use units::*;
#[path = "conformance/changes.rs"]
mod changes;
use changes::*;
#[path = "conformance/documents.rs"]
mod documents;
use documents::*;
#[path = "conformance/outbox.rs"]
mod outbox;
use outbox::*;
#[path = "conformance/delivery.rs"]
mod delivery;
use delivery::*;
#[path = "conformance/sales.rs"]
mod sales;
use sales::*;
#[path = "conformance/liability.rs"]
mod liability;
use liability::*;

fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).unwrap()
}

fn at(secs: i64, micros: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, micros * 1000).unwrap()
}

/// Tenants exist once they hold a key; the suite makes one per tenant it uses.
async fn with_tenant(store: &Arc<dyn Store>, name: &str) -> TenantId {
    let t = tenant(name);
    store
        .create_api_key(new_key(&t, None, [name.len() as u8; 32]))
        .await
        .unwrap();
    t
}

fn new_key(t: &TenantId, supplier: Option<SupplierId>, hash: [u8; 32]) -> NewApiKey {
    NewApiKey {
        id: ApiKeyId::generate(),
        tenant: t.clone(),
        supplier,
        name: "test key".into(),
        scopes: Scope::SELLER_DEFAULT.to_vec(),
        secret_hash: hash,
        created_at: at(1_700_000_000, 0),
    }
}

fn webhook(name: &str) -> NewSupplier {
    NewSupplier {
        display_name: DisplayName::parse(name).unwrap(),
        connector: Connector::Webhook {
            url: EndpointUrl::parse("https://supplier.example/hooks").unwrap(),
        },
        backup: None,
        delivery: DeliveryPolicy::default(),
    }
}

async fn create(store: &Arc<dyn Store>, t: &TenantId, s: NewSupplier) -> Supplier {
    match store
        .create_supplier(t, s, "whsec_test", Utc::now(), None)
        .await
        .unwrap()
    {
        Applied::New(s) => s,
        Applied::Replayed(_) => panic!("no key, no replay"),
    }
}

fn encode_name(s: &Supplier) -> Result<Vec<u8>, StoreError> {
    Ok(s.id.to_string().into_bytes())
}

async fn migrations_are_idempotent_and_leave_the_store_ready(store: Arc<dyn Store>) {
    store.migrate().await.unwrap();
    store.check_ready().await.unwrap();
}

async fn api_keys_are_found_by_hash_listed_per_tenant_and_revoked_once(store: Arc<dyn Store>) {
    let acme = tenant("acme");
    let key = new_key(&acme, None, [7; 32]);
    let created = store.create_api_key(key.clone()).await.unwrap();
    assert_eq!(created.scopes, Scope::SELLER_DEFAULT.to_vec());
    assert_eq!(
        store.find_api_key(&[7; 32]).await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(store.find_api_key(&[8; 32]).await.unwrap(), None);

    store
        .create_api_key(new_key(&tenant("other"), None, [9; 32]))
        .await
        .unwrap();
    assert_eq!(
        store.list_api_keys(Some(&acme)).await.unwrap(),
        vec![created.clone()]
    );
    assert_eq!(store.list_api_keys(None).await.unwrap().len(), 2);

    let first = at(1_700_000_100, 0);
    assert!(store.revoke_api_key(created.id, first).await.unwrap());
    assert!(
        store
            .revoke_api_key(created.id, at(1_700_000_200, 0))
            .await
            .unwrap()
    );
    let revoked = store.find_api_key(&[7; 32]).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(first));
    assert!(
        !store
            .revoke_api_key(ApiKeyId::generate(), first)
            .await
            .unwrap()
    );
}

async fn a_supplier_key_must_name_an_existing_supplier(store: Arc<dyn Store>) {
    let acme = with_tenant(&store, "acme").await;
    let missing = store
        .create_api_key(new_key(&acme, Some(SupplierId::generate()), [1; 32]))
        .await;
    assert!(matches!(
        missing,
        Err(StoreError::Domain(DomainError::NotFound { .. }))
    ));
    let s = create(&store, &acme, webhook("Acme Supply")).await;
    let key = store
        .create_api_key(new_key(&acme, Some(s.id), [2; 32]))
        .await
        .unwrap();
    assert_eq!(key.supplier, Some(s.id));
}

async fn suppliers_round_trip_with_microsecond_instants(store: Arc<dyn Store>) {
    let acme = with_tenant(&store, "acme").await;
    let now = at(1_750_000_000, 123_456);
    let created = match store
        .create_supplier(&acme, webhook("Acme"), "whsec_x", now, None)
        .await
        .unwrap()
    {
        Applied::New(s) => s,
        Applied::Replayed(_) => unreachable!(),
    };
    assert_eq!(created.created_at, now);
    assert_eq!(created.version, 1);
    assert_eq!(
        store.get_supplier(&acme, created.id).await.unwrap(),
        Some(created)
    );
}

async fn suppliers_list_in_creation_order_across_pages(store: Arc<dyn Store>) {
    let acme = with_tenant(&store, "acme").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            create(&store, &acme, webhook(&format!("Supplier {i}")))
                .await
                .id,
        );
    }
    let first = store.list_suppliers(&acme, None, 2).await.unwrap();
    let second = store
        .list_suppliers(&acme, Some(first[1].id), 2)
        .await
        .unwrap();
    let third = store
        .list_suppliers(&acme, Some(second[1].id), 2)
        .await
        .unwrap();
    let seen: Vec<_> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|s| s.id)
        .collect();
    assert_eq!(seen, ids);
    assert!(
        store
            .list_suppliers(&acme, Some(ids[4]), 2)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn another_tenants_supplier_is_not_found(store: Arc<dyn Store>) {
    let acme = with_tenant(&store, "acme").await;
    let globex = with_tenant(&store, "globex").await;
    let s = create(&store, &acme, webhook("Acme")).await;
    assert_eq!(store.get_supplier(&globex, s.id).await.unwrap(), None);
    assert!(
        store
            .list_suppliers(&globex, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let update = store
        .update_supplier(
            &globex,
            s.id,
            SupplierChanges::default(),
            None,
            Utc::now(),
            None,
        )
        .await;
    assert!(matches!(
        update,
        Err(StoreError::Domain(DomainError::NotFound { .. }))
    ));
    // Nor can another tenant's supplier be named as a backup.
    let mut borrowing = webhook("Globex");
    borrowing.backup = Some(s.id);
    let err = store
        .create_supplier(&globex, borrowing, "whsec", Utc::now(), None)
        .await;
    assert_invalid_backup(err);
}

fn assert_invalid_backup<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::Domain(DomainError::InvalidArgument(v))) => {
            assert_eq!(v.as_slice()[0].field, BACKUP_FIELD)
        }
        other => panic!("expected an invalid backup, got {other:?}"),
    }
}

async fn an_unknown_backup_is_invalid_and_creates_nothing(store: Arc<dyn Store>) {
    let acme = with_tenant(&store, "acme").await;
    let mut s = webhook("Acme");
    s.backup = Some(SupplierId::generate());
    assert_invalid_backup(
        store
            .create_supplier(&acme, s, "whsec", Utc::now(), None)
            .await,
    );
    assert!(
        store
            .list_suppliers(&acme, None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let existing = create(&store, &acme, webhook("Acme")).await;
    let changes = SupplierChanges {
        backup: Some(Some(SupplierId::generate())),
        ..Default::default()
    };
    assert_invalid_backup(
        store
            .update_supplier(&acme, existing.id, changes, None, Utc::now(), None)
            .await,
    );
    assert_eq!(
        store.get_supplier(&acme, existing.id).await.unwrap(),
        Some(existing)
    );
}

async fn updates_apply_changes_and_bump_the_version(store: Arc<dyn Store>) {
    let acme = with_tenant(&store, "acme").await;
    let backup = create(&store, &acme, webhook("Backup")).await;
    let main = create(&store, &acme, webhook("Main")).await;
    let changes = SupplierChanges {
        display_name: Some(DisplayName::parse("Main Supply").unwrap()),
        connector: Some(Connector::Grpc {
            endpoint: EndpointUrl::parse("https://grpc.supplier.example:443").unwrap(),
        }),
        backup: Some(Some(backup.id)),
        delivery: Some(DeliveryPolicy {
            retry_delays: Some(vec![
                std::time::Duration::from_secs(30),
                std::time::Duration::from_secs(600),
            ]),
            max_per_second: Some(5),
        }),
        expected_version: Some(1),
    };
    let Applied::New(updated) = store
        .update_supplier(&acme, main.id, changes, None, Utc::now(), None)
        .await
        .unwrap()
    else {
        panic!("no key, no replay")
    };
    assert_eq!(updated.version, 2);
    assert_eq!(updated.backup, Some(backup.id));
    assert_eq!(updated.delivery.max_per_second, Some(5));
    assert_eq!(
        store.get_supplier(&acme, main.id).await.unwrap(),
        Some(updated)
    );

    let clear = SupplierChanges {
        backup: Some(None),
        ..Default::default()
    };
    let Applied::New(cleared) = store
        .update_supplier(&acme, main.id, clear, None, Utc::now(), None)
        .await
        .unwrap()
    else {
        panic!("no key, no replay")
    };
    assert_eq!((cleared.backup, cleared.version), (None, 3));
}

async fn a_stale_expected_version_is_a_conflict_and_changes_nothing(store: Arc<dyn Store>) {
    let acme = with_tenant(&store, "acme").await;
    let s = create(&store, &acme, webhook("Acme")).await;
    let changes = SupplierChanges {
        display_name: Some(DisplayName::parse("Renamed").unwrap()),
        expected_version: Some(7),
        ..Default::default()
    };
    let err = store
        .update_supplier(&acme, s.id, changes, None, Utc::now(), None)
        .await;
    assert!(matches!(
        err,
        Err(StoreError::Domain(DomainError::VersionConflict {
            expected: 7,
            current: 1
        }))
    ));
    assert_eq!(store.get_supplier(&acme, s.id).await.unwrap(), Some(s));
}

async fn a_replayed_idempotency_key_returns_the_stored_answer_without_a_second_effect(
    store: Arc<dyn Store>,
) {
    let acme = with_tenant(&store, "acme").await;
    let claim = || IdempotencyClaim {
        key: "create-acme-1",
        request_hash: [3; 32],
        encode: &encode_name,
    };
    let first = store
        .create_supplier(&acme, webhook("Acme"), "whsec", Utc::now(), Some(claim()))
        .await
        .unwrap();
    let Applied::New(created) = first else {
        panic!("first call applies")
    };
    let again = store
        .create_supplier(&acme, webhook("Acme"), "whsec", Utc::now(), Some(claim()))
        .await
        .unwrap();
    assert_eq!(again, Applied::Replayed(encode_name(&created).unwrap()));
    assert_eq!(
        store.list_suppliers(&acme, None, 10).await.unwrap().len(),
        1
    );
}

async fn an_idempotency_key_reused_for_another_request_is_refused(store: Arc<dyn Store>) {
    let acme = with_tenant(&store, "acme").await;
    let claim = |hash| IdempotencyClaim {
        key: "k",
        request_hash: hash,
        encode: &encode_name,
    };
    store
        .create_supplier(
            &acme,
            webhook("Acme"),
            "whsec",
            Utc::now(),
            Some(claim([1; 32])),
        )
        .await
        .unwrap();
    let err = store
        .create_supplier(
            &acme,
            webhook("Other"),
            "whsec",
            Utc::now(),
            Some(claim([2; 32])),
        )
        .await;
    assert!(matches!(
        err,
        Err(StoreError::Domain(DomainError::IdempotencyKeyReused))
    ));
    // Keys are per tenant: another seller may use the same key freely.
    let globex = with_tenant(&store, "globex").await;
    let other = store
        .create_supplier(
            &globex,
            webhook("Globex"),
            "whsec",
            Utc::now(),
            Some(claim([2; 32])),
        )
        .await;
    assert!(matches!(other, Ok(Applied::New(_))));
    assert_eq!(
        store.list_suppliers(&acme, None, 10).await.unwrap().len(),
        1
    );
}

async fn concurrent_duplicates_of_one_key_have_exactly_one_effect(store: Arc<dyn Store>) {
    let acme = with_tenant(&store, "acme").await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let acme = acme.clone();
            tokio::spawn(async move {
                let claim = IdempotencyClaim {
                    key: "race",
                    request_hash: [5; 32],
                    encode: &encode_name,
                };
                store
                    .create_supplier(&acme, webhook("Acme"), "whsec", Utc::now(), Some(claim))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut new = Vec::new();
    let mut replayed = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Applied::New(s) => new.push(s),
            Applied::Replayed(bytes) => replayed.push(bytes),
        }
    }
    assert_eq!(new.len(), 1, "exactly one call applies the effect");
    assert!(replayed.iter().all(|b| *b == encode_name(&new[0]).unwrap()));
    assert_eq!(
        store.list_suppliers(&acme, None, 10).await.unwrap().len(),
        1
    );
}
