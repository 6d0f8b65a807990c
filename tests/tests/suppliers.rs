//! ContractService supplier RPCs end to end: CRUD, paging, tenant isolation, validation,
//! idempotency and optimistic concurrency.

use prost_types::FieldMask;
use returnbridge_proto::v1 as pb;
use returnbridge_tests::{Auth, ContractClient, TestApp, reason, spawn_app, violated_fields};
use tonic::Code;

fn webhook(name: &str, url: &str) -> pb::Supplier {
    pb::Supplier {
        display_name: name.into(),
        connector: Some(pb::supplier::Connector::Webhook(pb::WebhookConnector {
            url: url.into(),
        })),
        ..Default::default()
    }
}

fn create_request(s: pb::Supplier) -> pb::CreateSupplierRequest {
    pb::CreateSupplierRequest { supplier: Some(s) }
}

async fn seller(app: &TestApp, tenant: &str) -> ContractClient {
    app.contracts(Auth::key(&app.seller_key(tenant).await))
}

async fn create(client: &mut ContractClient, s: pb::Supplier) -> pb::Supplier {
    client
        .create_supplier(create_request(s))
        .await
        .unwrap()
        .into_inner()
        .supplier
        .unwrap()
}

fn update(
    id: &str,
    s: pb::Supplier,
    paths: &[&str],
    expected_version: i64,
) -> pb::UpdateSupplierRequest {
    pb::UpdateSupplierRequest {
        supplier: Some(pb::Supplier {
            supplier_id: id.into(),
            ..s
        }),
        update_mask: Some(FieldMask {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }),
        expected_version,
        rotate_webhook_secret: false,
    }
}

#[tokio::test]
async fn a_created_supplier_can_be_read_back_and_its_secret_is_shown_once() {
    let app = spawn_app().await;
    let mut c = seller(&app, "acme").await;
    let created = c
        .create_supplier(create_request(webhook(
            "  Acme Supply  ",
            "https://acme.example/hooks",
        )))
        .await
        .unwrap()
        .into_inner();
    assert!(created.webhook_signing_secret.starts_with("whsec_"));
    let s = created.supplier.unwrap();
    assert_eq!(s.display_name, "Acme Supply");
    assert_eq!(s.version, 1);
    assert!(s.create_time.is_some());

    let got = c
        .get_supplier(pb::GetSupplierRequest {
            supplier_id: s.supplier_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .supplier
        .unwrap();
    assert_eq!(got, s);
}

#[tokio::test]
async fn suppliers_list_in_pages_in_creation_order() {
    let app = spawn_app().await;
    let mut c = seller(&app, "acme").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            create(
                &mut c,
                webhook(&format!("Supplier {i}"), "https://s.example/h"),
            )
            .await
            .supplier_id,
        );
    }
    let mut seen = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let page = c
            .list_suppliers(pb::ListSuppliersRequest {
                page_size: 2,
                page_token,
            })
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        seen.extend(page.suppliers.into_iter().map(|s| s.supplier_id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen, ids);
    assert_eq!(pages, 3);

    let err = c
        .list_suppliers(pb::ListSuppliersRequest {
            page_size: -1,
            page_token: "garbage".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["page_size", "page_token"]);
}

#[tokio::test]
async fn another_tenants_supplier_is_not_found_and_cannot_be_changed() {
    let app = spawn_app().await;
    let mut acme = seller(&app, "acme").await;
    let mut globex = seller(&app, "globex").await;
    let s = create(&mut acme, webhook("Acme", "https://acme.example/h")).await;

    let err = globex
        .get_supplier(pb::GetSupplierRequest {
            supplier_id: s.supplier_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(reason(&err), "SUPPLIER_NOT_FOUND");
    assert!(
        !err.message().contains("Acme"),
        "must not leak contents: {}",
        err.message()
    );

    let err = globex
        .update_supplier(update(
            &s.supplier_id,
            webhook("Stolen", "https://x.example"),
            &["display_name"],
            0,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    assert!(
        globex
            .list_suppliers(pb::ListSuppliersRequest::default())
            .await
            .unwrap()
            .into_inner()
            .suppliers
            .is_empty()
    );

    let mut borrowing = webhook("Globex", "https://globex.example/h");
    borrowing.backup_supplier_id = s.supplier_id.clone();
    let err = globex
        .create_supplier(create_request(borrowing))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["supplier.backup_supplier_id"]);

    let unchanged = acme
        .get_supplier(pb::GetSupplierRequest {
            supplier_id: s.supplier_id,
        })
        .await
        .unwrap();
    assert_eq!(
        unchanged.into_inner().supplier.unwrap().display_name,
        "Acme"
    );
}

#[tokio::test]
async fn invalid_suppliers_are_refused_with_every_field_named_and_nothing_created() {
    let app = spawn_app().await;
    let mut c = seller(&app, "acme").await;
    let cases: Vec<(pb::CreateSupplierRequest, Vec<&str>)> = vec![
        (
            pb::CreateSupplierRequest { supplier: None },
            vec!["supplier"],
        ),
        (
            create_request(webhook("", "https://a.example")),
            vec!["supplier.display_name"],
        ),
        (
            create_request(webhook(&"x".repeat(201), "https://a.example")),
            vec!["supplier.display_name"],
        ),
        (
            create_request(webhook("Acme", "http://acme.example/hooks")),
            vec!["supplier.webhook.url"],
        ),
        (
            create_request(webhook("Acme", "not a url")),
            vec!["supplier.webhook.url"],
        ),
        (
            create_request(pb::Supplier {
                display_name: "Acme".into(),
                ..Default::default()
            }),
            vec!["supplier.connector"],
        ),
        (
            create_request(pb::Supplier {
                display_name: "Acme".into(),
                connector: Some(pb::supplier::Connector::Grpc(pb::GrpcConnector {
                    endpoint: "grpc://acme.example".into(),
                })),
                ..Default::default()
            }),
            vec!["supplier.grpc.endpoint"],
        ),
        (
            create_request(pb::Supplier {
                backup_supplier_id: "not-a-uuid".into(),
                ..webhook("", "ftp://x")
            }),
            vec![
                "supplier.display_name",
                "supplier.webhook.url",
                "supplier.backup_supplier_id",
            ],
        ),
        (
            create_request(pb::Supplier {
                backup_supplier_id: uuid::Uuid::now_v7().to_string(),
                ..webhook("Acme", "https://a.example")
            }),
            vec!["supplier.backup_supplier_id"],
        ),
    ];
    for (request, fields) in cases {
        let err = c.create_supplier(request.clone()).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{request:?}");
        assert_eq!(violated_fields(&err), fields, "{request:?}");
    }
    assert!(
        c.list_suppliers(pb::ListSuppliersRequest::default())
            .await
            .unwrap()
            .into_inner()
            .suppliers
            .is_empty()
    );
}

#[tokio::test]
async fn updates_change_only_the_masked_fields() {
    let app = spawn_app().await;
    let mut c = seller(&app, "acme").await;
    let backup = create(&mut c, webhook("Backup", "https://backup.example/h")).await;
    let s = create(&mut c, webhook("Main", "https://main.example/h")).await;

    let mut changes = pb::Supplier {
        display_name: "Ignored because unmasked".into(),
        connector: Some(pb::supplier::Connector::Grpc(pb::GrpcConnector {
            endpoint: "https://grpc.main.example:443".into(),
        })),
        backup_supplier_id: backup.supplier_id.clone(),
        ..Default::default()
    };
    let updated = c
        .update_supplier(update(
            &s.supplier_id,
            changes.clone(),
            &["grpc", "backup_supplier_id"],
            1,
        ))
        .await
        .unwrap()
        .into_inner()
        .supplier
        .unwrap();
    assert_eq!(updated.display_name, "Main");
    assert_eq!(updated.backup_supplier_id, backup.supplier_id);
    assert_eq!(updated.version, 2);
    assert!(matches!(
        updated.connector,
        Some(pb::supplier::Connector::Grpc(_))
    ));

    changes.backup_supplier_id = String::new();
    let cleared = c
        .update_supplier(update(&s.supplier_id, changes, &["backup_supplier_id"], 0))
        .await
        .unwrap()
        .into_inner()
        .supplier
        .unwrap();
    assert_eq!(cleared.backup_supplier_id, "");
    assert_eq!(cleared.version, 3);
}

#[tokio::test]
async fn invalid_updates_name_the_field_and_change_nothing() {
    let app = spawn_app().await;
    let mut c = seller(&app, "acme").await;
    let s = create(&mut c, webhook("Main", "https://main.example/h")).await;
    let own_backup = pb::Supplier {
        backup_supplier_id: s.supplier_id.clone(),
        ..Default::default()
    };
    let cases = vec![
        (
            update(&s.supplier_id, own_backup, &["backup_supplier_id"], 0),
            vec!["supplier.backup_supplier_id"],
        ),
        (
            update(&s.supplier_id, webhook("", ""), &["display_name"], 0),
            vec!["supplier.display_name"],
        ),
        (
            update(&s.supplier_id, webhook("X", ""), &["colour"], 0),
            vec!["update_mask.paths[0]"],
        ),
        (
            update(&s.supplier_id, webhook("X", ""), &[], 0),
            vec!["update_mask"],
        ),
        (
            update(
                &s.supplier_id,
                webhook("X", "https://x.example"),
                &["grpc"],
                0,
            ),
            vec!["supplier.grpc"],
        ),
        (
            update("nope", webhook("X", ""), &["display_name"], -1),
            vec!["supplier.supplier_id", "expected_version"],
        ),
    ];
    for (request, fields) in cases {
        let err = c.update_supplier(request.clone()).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{request:?}");
        assert_eq!(violated_fields(&err), fields, "{request:?}");
    }
    let unchanged = c
        .get_supplier(pb::GetSupplierRequest {
            supplier_id: s.supplier_id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(unchanged.into_inner().supplier.unwrap(), s);
}

#[tokio::test]
async fn a_stale_expected_version_is_aborted_with_the_current_version() {
    let app = spawn_app().await;
    let mut c = seller(&app, "acme").await;
    let s = create(&mut c, webhook("Main", "https://main.example/h")).await;
    c.update_supplier(update(
        &s.supplier_id,
        webhook("Renamed", ""),
        &["display_name"],
        1,
    ))
    .await
    .unwrap();
    let err = c
        .update_supplier(update(
            &s.supplier_id,
            webhook("Lost update", ""),
            &["display_name"],
            1,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    use tonic_types::StatusExt;
    let info = err.get_details_error_info().unwrap();
    assert_eq!(info.reason, "VERSION_CONFLICT");
    assert_eq!(
        info.metadata.get("current_version").map(String::as_str),
        Some("2")
    );
    let current = c
        .get_supplier(pb::GetSupplierRequest {
            supplier_id: s.supplier_id,
        })
        .await
        .unwrap();
    assert_eq!(
        current.into_inner().supplier.unwrap().display_name,
        "Renamed"
    );
}

#[tokio::test]
async fn a_retried_create_returns_the_identical_answer_and_creates_once() {
    let app = spawn_app().await;
    let key = app.seller_key("acme").await;
    let mut c = app.contracts(Auth::key(&key).idempotent("create-acme-7"));
    let request = create_request(webhook("Acme", "https://acme.example/h"));
    let first = c
        .create_supplier(request.clone())
        .await
        .unwrap()
        .into_inner();
    let second = c.create_supplier(request).await.unwrap().into_inner();
    assert_eq!(
        first, second,
        "the retry sees the same supplier and the same secret"
    );
    let all = app
        .contracts(Auth::key(&key))
        .list_suppliers(pb::ListSuppliersRequest::default())
        .await
        .unwrap();
    assert_eq!(all.into_inner().suppliers.len(), 1);

    let err = c
        .create_supplier(create_request(webhook(
            "Different",
            "https://acme.example/h",
        )))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(reason(&err), "IDEMPOTENCY_KEY_REUSED");
}

#[tokio::test]
async fn concurrent_retries_of_one_create_have_exactly_one_effect() {
    let app = spawn_app().await;
    let key = app.seller_key("acme").await;
    let request = create_request(webhook("Acme", "https://acme.example/h"));
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let mut c = app.contracts(Auth::key(&key).idempotent("race-1"));
            let request = request.clone();
            tokio::spawn(async move { c.create_supplier(request).await.map(|r| r.into_inner()) })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.unwrap().unwrap());
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every caller sees the one answer"
    );
    let all = app
        .contracts(Auth::key(&key))
        .list_suppliers(pb::ListSuppliersRequest::default())
        .await
        .unwrap();
    assert_eq!(all.into_inner().suppliers.len(), 1);
}

#[tokio::test]
async fn a_bad_idempotency_key_is_invalid() {
    let app = spawn_app().await;
    let key = app.seller_key("acme").await;
    let mut c = app.contracts(Auth::key(&key).idempotent(&"k".repeat(256)));
    let err = c
        .create_supplier(create_request(webhook("Acme", "https://a.example")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["idempotency-key"]);
}

#[tokio::test]
async fn a_delivery_policy_out_of_bounds_names_each_bad_field_and_changes_nothing() {
    let app = spawn_app().await;
    let mut acme = seller(&app, "acme").await;
    let secs = |seconds, nanos| prost_types::Duration { seconds, nanos };
    let mut bad = webhook("Acme", "https://acme.example/h");
    bad.delivery = Some(pb::DeliveryPolicy {
        retry_delays: vec![
            secs(30, 0),
            secs(0, 500_000_000),
            secs(25 * 3600, 0),
            secs(-5, 0),
        ],
        max_requests_per_second: 10_001,
    });
    let err = acme
        .create_supplier(pb::CreateSupplierRequest {
            supplier: Some(bad),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&err),
        [
            "supplier.delivery.retry_delays[1]",
            "supplier.delivery.retry_delays[2]",
            "supplier.delivery.retry_delays[3]",
            "supplier.delivery.max_requests_per_second"
        ]
    );
    let listed = acme
        .list_suppliers(pb::ListSuppliersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.suppliers.is_empty());

    let mut good = webhook("Acme", "https://acme.example/h");
    let policy = pb::DeliveryPolicy {
        retry_delays: vec![secs(30, 0), secs(3600, 0)],
        max_requests_per_second: 50,
    };
    good.delivery = Some(policy.clone());
    let created = create(&mut acme, good).await;
    assert_eq!(created.delivery, Some(policy));
}
