//! Conformance cases for contract versions and seller settings (`ContractStore`).

use super::{create, webhook, with_tenant};
use chrono::{DateTime, TimeDelta, Utc};
use returnbridge_domain::ids::{SupplierId, TenantId};
use returnbridge_domain::{DomainError, Resource};
use returnbridge_store::{
    Applied, IdempotencyClaim, NewContractVersion, SettingsWrite, Store, StoreError,
    StoredContract, StoredSettings,
};
use std::collections::BTreeSet;
use std::sync::Arc;

fn version(supplier: SupplierId, from: DateTime<Utc>, terms: &[u8]) -> NewContractVersion {
    NewContractVersion {
        supplier,
        effective_from: from,
        terms: terms.to_vec(),
        description: format!("terms {}", String::from_utf8_lossy(terms)),
        expected_latest_version: None,
        requires_backup: false,
    }
}

async fn publish(
    store: &Arc<dyn Store>,
    t: &TenantId,
    new: NewContractVersion,
    now: DateTime<Utc>,
) -> Result<StoredContract, StoreError> {
    match store.publish_contract(t, new, now, None).await? {
        Applied::New(c) => Ok(c),
        Applied::Replayed(_) => panic!("no key, no replay"),
    }
}

fn invalid_fields(e: StoreError) -> Vec<String> {
    match e {
        StoreError::Domain(DomainError::InvalidArgument(v)) => {
            v.as_slice().iter().map(|f| f.field.clone()).collect()
        }
        other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
    }
}

fn is_supplier_not_found(e: StoreError) -> bool {
    matches!(
        e,
        StoreError::Domain(DomainError::NotFound {
            resource: Resource::Supplier,
            ..
        })
    )
}

/// A tenant with one supplier, and an instant with whole microseconds.
async fn arrange(store: &Arc<dyn Store>) -> (TenantId, SupplierId, DateTime<Utc>) {
    let t = with_tenant(store, "acme").await;
    let s = create(store, &t, webhook("Acme Supply")).await;
    let now = DateTime::from_timestamp(1_800_000_000, 123_456_000).unwrap();
    (t, s.id, now)
}

pub(crate) async fn contract_versions_number_from_one_and_never_change(store: Arc<dyn Store>) {
    let (t, s, now) = arrange(&store).await;
    let v1 = publish(
        &store,
        &t,
        version(s, now - TimeDelta::days(30), b"one"),
        now,
    )
    .await
    .unwrap();
    assert_eq!((v1.version, v1.effective_until), (1, None));
    assert_eq!(v1.published_at, now);
    let later = now + TimeDelta::days(10);
    let v2 = publish(&store, &t, version(s, later, b"two"), now)
        .await
        .unwrap();
    assert_eq!(v2.version, 2);

    let listed = store.list_contract_versions(&t, s, None, 10).await.unwrap();
    let numbers: Vec<_> = listed.iter().map(|c| c.version).collect();
    assert_eq!(numbers, [2, 1], "newest first");
    assert_eq!(listed[0], v2);
    // v1 is unchanged, except that it now knows when it ends.
    let read = store.contract_version(&t, s, 1).await.unwrap().unwrap();
    assert_eq!(
        read,
        StoredContract {
            effective_until: Some(later),
            ..v1
        }
    );
    assert_eq!(store.contract_version(&t, s, 3).await.unwrap(), None);
    let page = store
        .list_contract_versions(&t, s, Some(2), 10)
        .await
        .unwrap();
    assert_eq!(page.iter().map(|c| c.version).collect::<Vec<_>>(), [1]);
}

pub(crate) async fn the_contract_in_effect_is_the_latest_started_version(store: Arc<dyn Store>) {
    let (t, s, now) = arrange(&store).await;
    assert_eq!(store.contract_in_effect(&t, s, now).await.unwrap(), None);
    let start = now - TimeDelta::days(30);
    let later = now + TimeDelta::days(10);
    publish(&store, &t, version(s, start, b"one"), now)
        .await
        .unwrap();
    publish(&store, &t, version(s, later, b"two"), now)
        .await
        .unwrap();
    let in_effect = |at| {
        let store = store.clone();
        let t = t.clone();
        async move {
            store
                .contract_in_effect(&t, s, at)
                .await
                .unwrap()
                .map(|c| c.version)
        }
    };
    assert_eq!(in_effect(start - TimeDelta::microseconds(1)).await, None);
    assert_eq!(in_effect(start).await, Some(1));
    assert_eq!(in_effect(later - TimeDelta::microseconds(1)).await, Some(1));
    assert_eq!(in_effect(later).await, Some(2));
    assert_eq!(in_effect(later + TimeDelta::days(400)).await, Some(2));
}

pub(crate) async fn a_stale_expected_latest_version_is_a_conflict(store: Arc<dyn Store>) {
    let (t, s, now) = arrange(&store).await;
    let mut first = version(s, now, b"one");
    first.expected_latest_version = Some(0);
    publish(&store, &t, first, now).await.unwrap();
    let mut stale = version(s, now + TimeDelta::days(1), b"two");
    stale.expected_latest_version = Some(0);
    match publish(&store, &t, stale, now).await {
        Err(StoreError::Domain(DomainError::VersionConflict { expected, current })) => {
            assert_eq!((expected, current), (0, 1))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let mut fresh = version(s, now + TimeDelta::days(1), b"two");
    fresh.expected_latest_version = Some(1);
    assert_eq!(publish(&store, &t, fresh, now).await.unwrap().version, 2);
}

pub(crate) async fn a_correction_governs_every_order_from_its_start(store: Arc<dyn Store>) {
    let (t, s, now) = arrange(&store).await;
    // Version 1 dated a month ahead by mistake; version 2 corrects it from 400 days back (no
    // return was decided under the supplier, so nothing it changes was decided).
    let one = publish(
        &store,
        &t,
        version(s, now + TimeDelta::days(30), b"one"),
        now,
    )
    .await
    .unwrap();
    publish(
        &store,
        &t,
        version(s, now - TimeDelta::days(400), b"two"),
        now,
    )
    .await
    .unwrap();
    let listed = store.list_contract_versions(&t, s, None, 10).await.unwrap();
    let until: Vec<_> = listed
        .iter()
        .map(|c| (c.version, c.effective_until))
        .collect();
    assert!(
        until.contains(&(1, Some(one.effective_from))),
        "never in effect: {until:?}"
    );
    assert!(until.contains(&(2, None)), "{until:?}");
    for at in [now, now + TimeDelta::days(31)] {
        let in_effect = store.contract_in_effect(&t, s, at).await.unwrap().unwrap();
        assert_eq!(in_effect.version, 2, "at {at}");
    }
}

pub(crate) async fn failover_terms_need_a_supplier_with_a_backup(store: Arc<dyn Store>) {
    let (t, s, now) = arrange(&store).await;
    let mut failover = version(s, now, b"one");
    failover.requires_backup = true;
    let e = publish(&store, &t, failover.clone(), now)
        .await
        .unwrap_err();
    assert_eq!(invalid_fields(e), ["terms.sla.breach_action"]);
    let backup = create(&store, &t, webhook("Backup")).await;
    let mut with_backup = webhook("Primary");
    with_backup.backup = Some(backup.id);
    let primary = create(&store, &t, with_backup).await;
    failover.supplier = primary.id;
    assert_eq!(publish(&store, &t, failover, now).await.unwrap().version, 1);
}

pub(crate) async fn contracts_of_another_tenants_supplier_are_not_found(store: Arc<dyn Store>) {
    let (t, s, now) = arrange(&store).await;
    publish(&store, &t, version(s, now, b"one"), now)
        .await
        .unwrap();
    let other = with_tenant(&store, "globex").await;
    let e = publish(
        &store,
        &other,
        version(s, now + TimeDelta::days(1), b"x"),
        now,
    )
    .await;
    assert!(is_supplier_not_found(e.unwrap_err()));
    let e = store.list_contract_versions(&other, s, None, 10).await;
    assert!(is_supplier_not_found(e.unwrap_err()));
    let e = store.contract_in_effect(&other, s, now).await;
    assert!(is_supplier_not_found(e.unwrap_err()));
    let e = store.contract_version(&other, s, 1).await;
    assert!(is_supplier_not_found(e.unwrap_err()));
    let unknown = SupplierId::generate();
    let e = store.contract_in_effect(&t, unknown, now).await;
    assert!(is_supplier_not_found(e.unwrap_err()));
    assert_eq!(
        store
            .list_contract_versions(&t, s, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

fn encode_version(c: &StoredContract) -> Result<Vec<u8>, StoreError> {
    Ok(c.version.to_be_bytes().to_vec())
}

pub(crate) async fn a_replayed_publish_returns_the_stored_answer_and_publishes_once(
    store: Arc<dyn Store>,
) {
    let (t, s, now) = arrange(&store).await;
    let claim = || IdempotencyClaim {
        key: "publish-1",
        request_hash: [1; 32],
        encode: &encode_version,
    };
    let first = store
        .publish_contract(&t, version(s, now, b"one"), now, Some(claim()))
        .await
        .unwrap();
    assert!(matches!(first, Applied::New(ref c) if c.version == 1));
    let again = store
        .publish_contract(&t, version(s, now, b"one"), now, Some(claim()))
        .await
        .unwrap();
    assert_eq!(again, Applied::Replayed(1i64.to_be_bytes().to_vec()));
    let other_request = IdempotencyClaim {
        request_hash: [2; 32],
        ..claim()
    };
    let e = store
        .publish_contract(&t, version(s, now, b"two"), now, Some(other_request))
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        StoreError::Domain(DomainError::IdempotencyKeyReused)
    ));
    assert_eq!(
        store
            .list_contract_versions(&t, s, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub(crate) async fn concurrent_publishes_get_consecutive_versions(store: Arc<dyn Store>) {
    let (t, s, _) = arrange(&store).await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let t = t.clone();
            tokio::spawn(async move {
                // Each publisher starts its version "now"; one that loses the race to a later start
                // is refused by the domain and tries again, as a client would.
                loop {
                    let now = Utc::now();
                    let terms = format!("task {i}").into_bytes();
                    match publish(&store, &t, version(s, now, &terms), now).await {
                        Ok(c) => return c.version,
                        Err(StoreError::Domain(DomainError::InvalidArgument(_))) => continue,
                        Err(e) => panic!("publish failed: {e:?}"),
                    }
                }
            })
        })
        .collect();
    let mut versions = BTreeSet::new();
    for task in tasks {
        assert!(versions.insert(task.await.unwrap()), "duplicate version");
    }
    assert_eq!(versions, (1..=8).collect());
    assert_eq!(
        store
            .list_contract_versions(&t, s, None, 100)
            .await
            .unwrap()
            .len(),
        8
    );
}

fn write(doc: &[u8], secret: Option<&str>) -> SettingsWrite {
    SettingsWrite {
        document: doc.to_vec(),
        event_webhook_secret: secret.map(str::to_owned),
    }
}

pub(crate) async fn seller_settings_start_unset_and_count_their_writes(store: Arc<dyn Store>) {
    let t = with_tenant(&store, "acme").await;
    let other = with_tenant(&store, "globex").await;
    let now = DateTime::from_timestamp(1_800_000_000, 5_000).unwrap();
    assert_eq!(store.seller_settings(&t).await.unwrap(), None);
    let first = |current: Option<&StoredSettings>| -> Result<SettingsWrite, StoreError> {
        assert!(current.is_none(), "never written yet");
        Ok(write(b"v1", Some("whsec_a")))
    };
    let stored = store
        .update_seller_settings(&t, Some(0), &first, now, None)
        .await
        .unwrap();
    let expected = StoredSettings {
        document: b"v1".to_vec(),
        version: 1,
        updated_at: now,
        event_webhook_secret: Some("whsec_a".into()),
    };
    assert_eq!(stored, Applied::New(expected.clone()));
    assert_eq!(store.seller_settings(&t).await.unwrap(), Some(expected));
    assert_eq!(store.seller_settings(&other).await.unwrap(), None);

    let second = |current: Option<&StoredSettings>| -> Result<SettingsWrite, StoreError> {
        let c = current.expect("written once");
        Ok(write(b"v2", c.event_webhook_secret.as_deref()))
    };
    let e = store
        .update_seller_settings(&t, Some(0), &second, now, None)
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        StoreError::Domain(DomainError::VersionConflict {
            expected: 0,
            current: 1
        })
    ));
    store
        .update_seller_settings(&t, None, &second, now, None)
        .await
        .unwrap();
    let read = store.seller_settings(&t).await.unwrap().unwrap();
    assert_eq!((read.document.as_slice(), read.version), (&b"v2"[..], 2));
    assert_eq!(read.event_webhook_secret.as_deref(), Some("whsec_a"));
    // Every version stays readable as it was written, for the returns decided under it.
    let first = store.seller_settings_version(&t, 1).await.unwrap().unwrap();
    assert_eq!((first.document.as_slice(), first.version), (&b"v1"[..], 1));
    assert_eq!(first.event_webhook_secret, None);
    let second = store.seller_settings_version(&t, 2).await.unwrap().unwrap();
    assert_eq!(second.document, b"v2");
    assert_eq!(store.seller_settings_version(&t, 3).await.unwrap(), None);
    assert_eq!(
        store.seller_settings_version(&other, 1).await.unwrap(),
        None
    );
}

fn encode_settings(s: &StoredSettings) -> Result<Vec<u8>, StoreError> {
    Ok(s.version.to_be_bytes().to_vec())
}

pub(crate) async fn a_replayed_settings_update_has_one_effect(store: Arc<dyn Store>) {
    let t = with_tenant(&store, "acme").await;
    let change = |current: Option<&StoredSettings>| -> Result<SettingsWrite, StoreError> {
        let n = current.map_or(0, |c| c.version);
        Ok(write(format!("after {n}").as_bytes(), None))
    };
    let claim = || IdempotencyClaim {
        key: "settings-1",
        request_hash: [3; 32],
        encode: &encode_settings,
    };
    let now = Utc::now();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            let t = t.clone();
            tokio::spawn(async move {
                store
                    .update_seller_settings(&t, None, &change, now, Some(claim()))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut new = 0;
    for task in tasks {
        match task.await.unwrap() {
            Applied::New(s) => {
                new += 1;
                assert_eq!(s.version, 1);
            }
            Applied::Replayed(bytes) => assert_eq!(bytes, 1i64.to_be_bytes()),
        }
    }
    assert_eq!(new, 1, "exactly one effect");
    assert_eq!(store.seller_settings(&t).await.unwrap().unwrap().version, 1);
}

pub(crate) async fn idempotency_records_past_the_retention_are_purged_and_their_keys_are_new_again(
    store: Arc<dyn Store>,
) {
    let t = with_tenant(&store, "acme").await;
    let change = |current: Option<&StoredSettings>| -> Result<SettingsWrite, StoreError> {
        let n = current.map_or(0, |c| c.version);
        Ok(write(format!("after {n}").as_bytes(), None))
    };
    let claim = |key| IdempotencyClaim {
        key,
        request_hash: [4; 32],
        encode: &encode_settings,
    };
    let now = Utc::now();
    let old = now - chrono::Duration::hours(100);
    for (key, at) in [("old", old), ("recent", now)] {
        let applied = store
            .update_seller_settings(&t, None, &change, at, Some(claim(key)))
            .await
            .unwrap();
        assert!(matches!(applied, Applied::New(_)));
    }
    let retention = now - chrono::Duration::hours(72);
    assert_eq!(
        store
            .purge_idempotency_records(retention, 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .purge_idempotency_records(retention, 100)
            .await
            .unwrap(),
        0
    );
    let again = |key| store.update_seller_settings(&t, None, &change, now, Some(claim(key)));
    assert!(
        matches!(again("old").await.unwrap(), Applied::New(_)),
        "old key is new again"
    );
    assert!(matches!(
        again("recent").await.unwrap(),
        Applied::Replayed(_)
    ));
}
