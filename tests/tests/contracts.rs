//! ContractService contract and seller-settings RPCs end to end: versions in effect over time,
//! immutability, validation by field, tenant isolation, idempotency, races and optimistic
//! concurrency; and the reads AuthorizeReturn makes through `returnbridge_api::contracts`.

use chrono::{DateTime, TimeDelta, Utc};
use prost_types::{Duration, Timestamp};
use returnbridge_api::ApiContext;
use returnbridge_core::clock::SystemClock;
use returnbridge_domain::ids::{SupplierId, TenantId};
use returnbridge_proto::v1 as pb;
use returnbridge_tests::{Auth, ContractClient, TestApp, reason, spawn_app, violated_fields};
use std::sync::Arc;
use tonic::Code;

fn ts(t: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

fn hours(h: i64) -> Option<Duration> {
    Some(Duration {
        seconds: h * 3600,
        nanos: 0,
    })
}

fn terms() -> pb::ContractTerms {
    pb::ContractTerms {
        return_window_days: 30,
        defect_window_days: 365,
        non_returnable_categories: vec!["swimwear".into(), "food/perishable".into()],
        evidence_required_reasons: vec![pb::ReturnReason::Defective as i32],
        requires_original_packaging: true,
        accepts_no_fault_returns: true,
        supplier_restocking_fee_bps: 1_000,
        defect_coverage: pb::DefectCoverage::FullRetail as i32,
        transit_damage_party: pb::Party::Carrier as i32,
        listing_data_owner: pb::Party::Seller as i32,
        no_fault_return_shipping_payer: pb::Party::Customer as i32,
        returnless_threshold: Some(pb::Money {
            currency_code: "EUR".into(),
            amount_minor: 1_000,
        }),
        auto_authorize: true,
        sla: Some(pb::SlaTerms {
            ack_within: hours(24),
            decision_within: hours(72),
            credit_within: hours(24 * 14),
            breach_action: pb::SlaBreachAction::Notify as i32,
        }),
    }
}

fn publish_req(supplier: &str, from: Option<DateTime<Utc>>) -> pb::PublishContractRequest {
    pb::PublishContractRequest {
        supplier_id: supplier.into(),
        effective_from: from.map(ts),
        terms: Some(terms()),
        description: "signed 2026-03-01".into(),
        expected_latest_version: 0,
    }
}

async fn seller(app: &TestApp, tenant: &str) -> ContractClient {
    app.contracts(Auth::key(&app.seller_key(tenant).await))
}

async fn supplier(c: &mut ContractClient, backup: &str) -> String {
    let s = pb::Supplier {
        display_name: "Acme Supply".into(),
        connector: Some(pb::supplier::Connector::Webhook(pb::WebhookConnector {
            url: "https://acme.example/hooks".into(),
        })),
        backup_supplier_id: backup.into(),
        ..Default::default()
    };
    let req = pb::CreateSupplierRequest { supplier: Some(s) };
    c.create_supplier(req)
        .await
        .unwrap()
        .into_inner()
        .supplier
        .unwrap()
        .supplier_id
}

async fn publish(c: &mut ContractClient, req: pb::PublishContractRequest) -> pb::Contract {
    c.publish_contract(req)
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap()
}

fn at(supplier: &str, t: DateTime<Utc>) -> pb::GetContractRequest {
    pb::GetContractRequest {
        supplier_id: supplier.into(),
        selector: Some(pb::get_contract_request::Selector::EffectiveAt(ts(t))),
    }
}

#[tokio::test]
async fn the_version_in_effect_follows_effective_from_and_old_versions_never_change() {
    let app = spawn_app().await;
    let mut c = seller(&app, "acme").await;
    let s = supplier(&mut c, "").await;
    let now = Utc::now();
    let v1 = publish(&mut c, publish_req(&s, Some(now - TimeDelta::days(30)))).await;
    assert_eq!((v1.version, v1.effective_until), (1, None));
    let mut later = publish_req(&s, Some(now + TimeDelta::days(10)));
    later.terms.as_mut().unwrap().return_window_days = 14;
    let v2 = publish(&mut c, later).await;
    assert_eq!(v2.version, 2);
    // Stored in normal form: categories sorted.
    assert_eq!(
        v2.terms.as_ref().unwrap().non_returnable_categories,
        ["food/perishable", "swimwear"]
    );

    let err = c
        .get_contract(at(&s, now - TimeDelta::days(31)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(reason(&err), "CONTRACT_NOT_FOUND");
    let get = |req| {
        let mut c = c.clone();
        async move {
            c.get_contract(req)
                .await
                .unwrap()
                .into_inner()
                .contract
                .unwrap()
        }
    };
    let between = get(at(&s, now)).await;
    assert_eq!(between.version, 1);
    assert_eq!(between.terms, v1.terms, "v1 is unchanged by v2");
    assert_eq!(between.effective_until, v2.effective_from);
    let default_now = pb::GetContractRequest {
        supplier_id: s.clone(),
        selector: None,
    };
    assert_eq!(get(default_now).await, between);
    assert_eq!(get(at(&s, now + TimeDelta::days(11))).await, v2);
    let by_number = pb::GetContractRequest {
        supplier_id: s.clone(),
        selector: Some(pb::get_contract_request::Selector::Version(1)),
    };
    assert_eq!(get(by_number).await, between);

    let listed = c
        .list_contract_versions(pb::ListContractVersionsRequest {
            supplier_id: s.clone(),
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.contracts, [v2], "newest first");
    let rest = c
        .list_contract_versions(pb::ListContractVersionsRequest {
            supplier_id: s.clone(),
            page_size: 1,
            page_token: listed.next_page_token,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.contracts, [between]);
    assert!(rest.next_page_token.is_empty());

    // The reads AuthorizeReturn makes, decoded into the domain.
    let ctx = ApiContext::new(app.store.clone(), Arc::new(SystemClock));
    let tenant = TenantId::parse("acme").unwrap();
    let id = SupplierId::parse(&s).unwrap();
    let in_effect = returnbridge_api::contracts::contract_in_effect(&ctx, &tenant, id, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (in_effect.version, in_effect.terms.return_window_days),
        (1, 30)
    );
    let none = returnbridge_api::contracts::contract_in_effect(
        &ctx,
        &tenant,
        id,
        now - TimeDelta::days(31),
    )
    .await
    .unwrap();
    assert!(none.is_none());
}

#[tokio::test]
async fn invalid_contracts_name_the_field_and_publish_nothing() {
    let app = spawn_app().await;
    let mut c = seller(&app, "acme").await;
    let s = supplier(&mut c, "").await;
    let with = |f: fn(&mut pb::ContractTerms)| {
        let mut req = publish_req(&s, None);
        f(req.terms.as_mut().unwrap());
        req
    };
    let cases: Vec<(pb::PublishContractRequest, &[&str])> = vec![
        (
            with(|t| t.return_window_days = -1),
            &["terms.return_window_days"],
        ),
        (
            with(|t| t.defect_window_days = 3_651),
            &["terms.defect_window_days"],
        ),
        (
            with(|t| t.supplier_restocking_fee_bps = 10_001),
            &["terms.supplier_restocking_fee_bps"],
        ),
        (
            with(|t| t.sla.as_mut().unwrap().ack_within = hours(0)),
            &["terms.sla.ack_within"],
        ),
        (
            with(|t| t.sla.as_mut().unwrap().credit_within = hours(-1)),
            &["terms.sla.credit_within"],
        ),
        (
            with(|t| t.sla.as_mut().unwrap().decision_within = None),
            &["terms.sla.decision_within"],
        ),
        (
            with(|t| t.non_returnable_categories.push("Food & Drink".into())),
            &["terms.non_returnable_categories[2]"],
        ),
        (
            with(|t| t.evidence_required_reasons.push(0)),
            &["terms.evidence_required_reasons[1]"],
        ),
        (
            with(|t| t.transit_damage_party = pb::Party::Customer as i32),
            &["terms.transit_damage_party"],
        ),
        (
            with(|t| t.returnless_threshold.as_mut().unwrap().amount_minor = -1),
            &["terms.returnless_threshold.amount_minor"],
        ),
        (
            with(|t| t.returnless_threshold.as_mut().unwrap().currency_code = "XXY".into()),
            &["terms.returnless_threshold.currency_code"],
        ),
        (
            with(|t| t.sla.as_mut().unwrap().breach_action = pb::SlaBreachAction::Failover as i32),
            &["terms.sla.breach_action"],
        ),
        (
            pb::PublishContractRequest {
                terms: None,
                ..publish_req(&s, None)
            },
            &["terms"],
        ),
        (
            pb::PublishContractRequest {
                description: "x".repeat(2_001),
                ..publish_req(&s, None)
            },
            &["description"],
        ),
        (publish_req("not-a-uuid", None), &["supplier_id"]),
        (publish_req("", None), &["supplier_id"]),
    ];
    for (req, fields) in cases {
        let err = c.publish_contract(req.clone()).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{req:?}");
        assert_eq!(violated_fields(&err), fields, "{req:?}");
    }
    let listed = c
        .list_contract_versions(pb::ListContractVersionsRequest {
            supplier_id: s.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.contracts.is_empty());
}

#[tokio::test]
async fn a_mis_dated_version_is_corrected_by_an_earlier_one_until_a_return_is_decided() {
    let app = spawn_app().await;
    let key = app.seller_key("acme").await;
    let mut c = app.contracts(Auth::key(&key));
    let s = supplier(&mut c, "").await;
    // Version 1 dated a month ahead by mistake: no order today has a contract.
    let v1 = publish(
        &mut c,
        publish_req(&s, Some(Utc::now() + TimeDelta::days(30))),
    )
    .await;
    // The correction starts a year back and governs every order from then on.
    let v2 = publish(
        &mut c,
        publish_req(&s, Some(Utc::now() - TimeDelta::days(365))),
    )
    .await;
    assert_eq!(v2.version, 2);
    let listed = c
        .list_contract_versions(pb::ListContractVersionsRequest {
            supplier_id: s.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .contracts;
    let until: Vec<_> = listed
        .iter()
        .map(|v| (v.version, v.effective_until))
        .collect();
    assert!(
        until.contains(&(1, v1.effective_from)),
        "version 1 is never in effect: {until:?}"
    );
    assert!(until.contains(&(2, None)), "{until:?}");
    let decided = returnbridge_tests::fixtures::authorize(
        &app,
        &key,
        returnbridge_tests::fixtures::changed_mind(&s, "ORDER-1"),
    )
    .await;
    assert_eq!(decided.decision.unwrap().contract_version, 2);

    // Once a return is decided, a correction may not reach back over it, and says why.
    let err = c
        .publish_contract(publish_req(&s, Some(Utc::now() - TimeDelta::days(1))))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["effective_from"]);
    assert!(
        err.message().contains("already decided"),
        "{}",
        err.message()
    );
    // Dating forward still works.
    let v3 = publish(
        &mut c,
        publish_req(&s, Some(Utc::now() + TimeDelta::days(1))),
    )
    .await;
    assert_eq!(v3.version, 3);
}

#[tokio::test]
async fn failover_needs_a_backup_supplier_and_an_unknown_backup_is_invalid() {
    let app = spawn_app().await;
    let mut c = seller(&app, "acme").await;
    let unknown = SupplierId::generate().to_string();
    let req = pb::CreateSupplierRequest {
        supplier: Some(pb::Supplier {
            display_name: "Primary".into(),
            connector: Some(pb::supplier::Connector::Webhook(pb::WebhookConnector {
                url: "https://p.example/h".into(),
            })),
            backup_supplier_id: unknown,
            ..Default::default()
        }),
    };
    let err = c.create_supplier(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["supplier.backup_supplier_id"]);

    let backup = supplier(&mut c, "").await;
    let primary = supplier(&mut c, &backup).await;
    let mut req = publish_req(&primary, None);
    req.terms
        .as_mut()
        .unwrap()
        .sla
        .as_mut()
        .unwrap()
        .breach_action = pb::SlaBreachAction::Failover as i32;
    assert_eq!(publish(&mut c, req).await.version, 1);
}

#[tokio::test]
async fn another_tenants_contracts_are_not_found() {
    let app = spawn_app().await;
    let mut acme = seller(&app, "acme").await;
    let s = supplier(&mut acme, "").await;
    publish(&mut acme, publish_req(&s, None)).await;
    let mut globex = seller(&app, "globex").await;

    let err = globex
        .publish_contract(publish_req(&s, None))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), reason(&err)),
        (Code::NotFound, "SUPPLIER_NOT_FOUND".into())
    );
    let err = globex.get_contract(at(&s, Utc::now())).await.unwrap_err();
    assert_eq!(
        (err.code(), reason(&err)),
        (Code::NotFound, "SUPPLIER_NOT_FOUND".into())
    );
    let err = globex
        .list_contract_versions(pb::ListContractVersionsRequest {
            supplier_id: s.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), reason(&err)),
        (Code::NotFound, "SUPPLIER_NOT_FOUND".into())
    );
    let unknown = SupplierId::generate().to_string();
    let err = acme
        .get_contract(at(&unknown, Utc::now()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn a_retried_publish_returns_the_identical_answer_and_publishes_once() {
    let app = spawn_app().await;
    let key = app.seller_key("acme").await;
    let mut c = app.contracts(Auth::key(&key));
    let s = supplier(&mut c, "").await;
    let mut keyed = app.contracts(Auth::key(&key).idempotent("publish-1"));
    let req = publish_req(&s, None);
    let first = keyed
        .publish_contract(req.clone())
        .await
        .unwrap()
        .into_inner();
    let again = keyed
        .publish_contract(req.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    let mut other = req;
    other.description = "another request".into();
    let err = keyed.publish_contract(other).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(reason(&err), "IDEMPOTENCY_KEY_REUSED");
    let listed = c
        .list_contract_versions(pb::ListContractVersionsRequest {
            supplier_id: s,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.contracts.len(), 1);
}

#[tokio::test]
async fn raced_publishes_get_one_version_each_and_a_stale_expectation_is_aborted() {
    let app = spawn_app().await;
    let mut c = seller(&app, "acme").await;
    let s = supplier(&mut c, "").await;
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let mut c = c.clone();
            let s = s.clone();
            tokio::spawn(async move {
                // "Now" is taken when the server handles the call; a publisher that loses the race
                // to a later start is refused and retries, as a client would.
                loop {
                    match c.publish_contract(publish_req(&s, None)).await {
                        Ok(r) => return r.into_inner().contract.unwrap().version,
                        Err(e) if e.code() == Code::InvalidArgument => continue,
                        Err(e) => panic!("{e:?}"),
                    }
                }
            })
        })
        .collect();
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap());
    }
    versions.sort();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6]);

    let mut stale = publish_req(&s, None);
    stale.expected_latest_version = 5;
    let err = c.publish_contract(stale).await.unwrap_err();
    assert_eq!(
        (err.code(), reason(&err)),
        (Code::Aborted, "VERSION_CONFLICT".into())
    );
    let mut fresh = publish_req(&s, None);
    fresh.expected_latest_version = 6;
    assert_eq!(publish(&mut c, fresh).await.version, 7);
}
