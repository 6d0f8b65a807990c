//! ContractService seller-settings RPCs end to end: defaults, masked updates, optimistic
//! concurrency, validation by field, the event webhook secret, tenant isolation; and the read
//! AuthorizeReturn makes through `returnbridge_api::contracts::seller_settings`.

use prost_types::{Duration, FieldMask};
use returnbridge_api::ApiContext;
use returnbridge_core::clock::SystemClock;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::TenantId;
use returnbridge_proto::v1 as pb;
use returnbridge_tests::{Auth, ContractClient, TestApp, reason, spawn_app, violated_fields};
use std::sync::Arc;
use tonic::Code;

fn hours(h: i64) -> Option<Duration> {
    Some(Duration {
        seconds: h * 3600,
        nanos: 0,
    })
}

async fn seller(app: &TestApp, tenant: &str) -> ContractClient {
    app.contracts(Auth::key(&app.seller_key(tenant).await))
}

#[tokio::test]
async fn one_sellers_settings_are_invisible_to_another() {
    let app = spawn_app().await;
    let mut acme = seller(&app, "acme").await;
    let mut globex = seller(&app, "globex").await;

    acme.update_seller_settings(settings_update(
        pb::SellerSettings {
            customer_restocking_fee_bps: 500,
            ..Default::default()
        },
        &["customer_restocking_fee_bps"],
        0,
    ))
    .await
    .unwrap();
    let theirs = get_settings(&mut globex).await;
    assert_eq!((theirs.version, theirs.customer_restocking_fee_bps), (0, 0));
}

#[tokio::test]
async fn reading_needs_contracts_read_and_writing_contracts_write() {
    let app = spawn_app().await;
    let (_, read_only) = app.key_with("acme", None, &[Scope::ContractsRead]).await;
    let mut c = app.contracts(Auth::key(&read_only));
    let err = c
        .publish_contract(pb::PublishContractRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = c
        .update_seller_settings(settings_update(Default::default(), &["ship_by_period"], 0))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(get_settings(&mut c).await.version, 0);
}

fn settings_update(
    s: pb::SellerSettings,
    paths: &[&str],
    expected_version: i64,
) -> pb::UpdateSellerSettingsRequest {
    pb::UpdateSellerSettingsRequest {
        settings: Some(s),
        update_mask: Some(FieldMask {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }),
        expected_version,
        rotate_event_webhook_secret: false,
    }
}

async fn get_settings(c: &mut ContractClient) -> pb::SellerSettings {
    c.get_seller_settings(pb::GetSellerSettingsRequest {})
        .await
        .unwrap()
        .into_inner()
        .settings
        .unwrap()
}

#[tokio::test]
async fn seller_settings_default_then_change_only_the_masked_fields_under_a_version_check() {
    let app = spawn_app().await;
    let mut c = seller(&app, "acme").await;
    let defaults = get_settings(&mut c).await;
    assert_eq!(defaults.version, 0);
    assert_eq!(defaults.ship_by_period, hours(24 * 14));
    assert!(defaults.update_time.is_none());

    let sent = pb::SellerSettings {
        customer_restocking_fee_bps: 1_500,
        return_window_days: 60,
        ship_by_period: hours(1),
        event_webhook_url: "https://seller.example/events".into(),
        ..Default::default()
    };
    let updated = c
        .update_seller_settings(settings_update(
            sent.clone(),
            &["customer_restocking_fee_bps", "event_webhook_url"],
            0,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(updated.event_webhook_signing_secret.starts_with("whsec_"));
    let s = updated.settings.unwrap();
    assert_eq!((s.version, s.customer_restocking_fee_bps), (1, 1_500));
    assert_eq!(s.return_window_days, 0, "not in the mask");
    assert_eq!(s.ship_by_period, hours(24 * 14), "not in the mask");
    assert_eq!(get_settings(&mut c).await, s);

    let err = c
        .update_seller_settings(settings_update(sent.clone(), &["return_window_days"], 7))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "the stored version is 1");
    assert_eq!(reason(&err), "VERSION_CONFLICT");
    let second = c
        .update_seller_settings(settings_update(sent, &["return_window_days"], 1))
        .await
        .unwrap()
        .into_inner();
    assert!(
        second.event_webhook_signing_secret.is_empty(),
        "issued once"
    );
    let s = second.settings.unwrap();
    assert_eq!((s.version, s.return_window_days), (2, 60));
    assert_eq!(s.customer_restocking_fee_bps, 1_500);

    let mut rotate = settings_update(Default::default(), &[], 0);
    rotate.rotate_event_webhook_secret = true;
    let rotated = c.update_seller_settings(rotate).await.unwrap().into_inner();
    assert!(rotated.event_webhook_signing_secret.starts_with("whsec_"));
    assert_ne!(
        rotated.event_webhook_signing_secret,
        updated.event_webhook_signing_secret
    );

    let ctx = ApiContext::new(app.store.clone(), Arc::new(SystemClock));
    let (domain, version) =
        returnbridge_api::contracts::seller_settings(&ctx, &TenantId::parse("acme").unwrap())
            .await
            .unwrap();
    assert_eq!((version, domain.return_window_days), (3, Some(60)));
    assert_eq!(domain.customer_restocking_fee_bps.value(), 1_500);
}

#[tokio::test]
async fn invalid_settings_name_the_field_and_change_nothing() {
    let app = spawn_app().await;
    let key = app.seller_key("acme").await;
    let mut c = app.contracts(Auth::key(&key).idempotent("settings-1"));
    let bad = pb::SellerSettings {
        customer_restocking_fee_bps: 10_001,
        ship_by_period: hours(24 * 91),
        return_window_days: -1,
        event_webhook_url: "ftp://seller.example".into(),
        ..Default::default()
    };
    let all = [
        "customer_restocking_fee_bps",
        "ship_by_period",
        "return_window_days",
        "event_webhook_url",
    ];
    let every_field: Vec<String> = all.iter().map(|f| format!("settings.{f}")).collect();
    let cases: Vec<(pb::UpdateSellerSettingsRequest, Vec<String>)> = vec![
        (settings_update(bad.clone(), &all, 0), every_field),
        (
            settings_update(bad.clone(), &[], 0),
            vec!["update_mask".into()],
        ),
        (
            settings_update(bad.clone(), &["version"], 0),
            vec!["update_mask.paths[0]".into()],
        ),
        (
            settings_update(Default::default(), &["ship_by_period"], -1),
            vec!["expected_version".into()],
        ),
    ];
    for (i, (req, fields)) in cases.into_iter().enumerate() {
        let mut c = app.contracts(Auth::key(&key).idempotent(&format!("bad-{i}")));
        let err = c.update_seller_settings(req.clone()).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{req:?}");
        assert_eq!(violated_fields(&err), fields, "{req:?}");
    }
    // Unset in an update that names it: the default period.
    let reset = c
        .update_seller_settings(settings_update(Default::default(), &["ship_by_period"], 0))
        .await
        .unwrap()
        .into_inner();
    let s = reset.settings.unwrap();
    assert_eq!((s.version, s.ship_by_period), (1, hours(24 * 14)));
}
