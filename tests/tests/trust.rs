//! What a hostile or careless caller cannot do: a supplier's key never reaches the seller's surface,
//! instants outside protobuf's range never reach the store, a revoked key's stream ends, a bad
//! inspection cannot strand a return, and answers stay small enough for stock clients.

use chrono::{Duration, Utc};
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::{ApiKeyId, SupplierId};
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::delivery_service_client::DeliveryServiceClient;
use returnbridge_proto::v1::liability_service_client::LiabilityServiceClient;
use returnbridge_proto::v1::list_delivery_attempts_request::Subject;
use returnbridge_proto::v1::sla_service_client::SlaServiceClient;
use returnbridge_proto::v1::supplier_callback_service_client::SupplierCallbackServiceClient;
use returnbridge_tests::fixtures::{
    authorize, cancel_request, changed_mind, eur, get_return, inspect_request, receive_request,
    refund_request, seller_with_supplier, ship_request, supplier_with_contract, terms, ts,
    watch_from_beginning,
};
use returnbridge_tests::{Auth, TestApp, reason, spawn_app, violated_fields};
use tokio_stream::StreamExt;
use tonic::{Code, Status};

/// Every seller-side RPC a supplier key might try, aimed at `return_id` and `supplier_id`.
async fn seller_rpcs(
    app: &TestApp,
    key: &str,
    return_id: &str,
    supplier_id: &str,
) -> Vec<(&'static str, Status)> {
    let mut r = app.returns(Auth::key(key).idempotent("supplier-key-try"));
    let mut c = app.contracts(Auth::key(key));
    let mut l = LiabilityServiceClient::with_interceptor(app.channel.clone(), Auth::key(key));
    let mut sla = SlaServiceClient::with_interceptor(app.channel.clone(), Auth::key(key));
    let id = || return_id.to_owned();
    let mut out = Vec::new();
    let mut record = |name, result: Result<(), Status>| match result {
        Ok(()) => panic!("{name} succeeded with a supplier's key"),
        Err(e) => out.push((name, e)),
    };
    let get = pb::GetReturnRequest { return_id: id() };
    record("GetReturn", r.get_return(get).await.map(drop));
    let list = pb::ListReturnsRequest::default();
    record("ListReturns", r.list_returns(list).await.map(drop));
    let events = pb::ListReturnEventsRequest {
        return_id: id(),
        ..Default::default()
    };
    record(
        "ListReturnEvents",
        r.list_return_events(events).await.map(drop),
    );
    let watch = pb::WatchEventsRequest {
        from_beginning: true,
        ..Default::default()
    };
    record("WatchEvents", r.watch_events(watch).await.map(drop));
    record(
        "CancelReturn",
        r.cancel_return(cancel_request(return_id, 0))
            .await
            .map(drop),
    );
    record(
        "RecordShipment",
        r.record_shipment(ship_request(return_id, 0))
            .await
            .map(drop),
    );
    record(
        "AuthorizeReturn",
        r.authorize_return(changed_mind(supplier_id, "ORDER-S"))
            .await
            .map(drop),
    );
    let sales = pb::RecordSalesRequest::default();
    record("RecordSales", r.record_sales(sales).await.map(drop));
    let supplier = pb::GetSupplierRequest {
        supplier_id: supplier_id.to_owned(),
    };
    record("GetSupplier", c.get_supplier(supplier).await.map(drop));
    let suppliers = pb::ListSuppliersRequest::default();
    record("ListSuppliers", c.list_suppliers(suppliers).await.map(drop));
    let settings = pb::GetSellerSettingsRequest::default();
    record(
        "GetSellerSettings",
        c.get_seller_settings(settings).await.map(drop),
    );
    let quote = pb::QuoteLiabilityRequest {
        subject: Some(pb::quote_liability_request::Subject::ReturnId(id())),
        ..Default::default()
    };
    record("QuoteLiability", l.quote_liability(quote).await.map(drop));
    let split = pb::GetLiabilitySplitRequest { return_id: id() };
    record(
        "GetLiabilitySplit",
        l.get_liability_split(split).await.map(drop),
    );
    let statement = pb::GetSettlementStatementRequest {
        supplier_id: supplier_id.to_owned(),
        currency_code: "EUR".into(),
        ..Default::default()
    };
    record(
        "GetSettlementStatement",
        l.get_settlement_statement(statement).await.map(drop),
    );
    let report = pb::GetSupplierSlaRequest::default();
    record(
        "GetSupplierSla",
        sla.get_supplier_sla(report).await.map(drop),
    );
    let mut d = DeliveryServiceClient::with_interceptor(app.channel.clone(), Auth::key(key));
    let attempts = pb::ListDeliveryAttemptsRequest {
        subject: Some(Subject::ReturnId(id())),
        ..Default::default()
    };
    record(
        "ListDeliveryAttempts",
        d.list_delivery_attempts(attempts).await.map(drop),
    );
    let redeliver = pb::RedeliverRequestRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
    };
    record(
        "RedeliverRequest",
        d.redeliver_request(redeliver).await.map(drop),
    );
    out
}

#[tokio::test]
async fn a_supplier_key_cannot_use_any_seller_rpc_even_with_seller_scopes_stored() {
    let app = spawn_app().await;
    let (seller, first) = seller_with_supplier(&app, "acme").await;
    let second = supplier_with_contract(&mut app.contracts(Auth::key(&seller)), terms()).await;
    let theirs = authorize(&app, &seller, changed_mind(&second, "ORDER-1")).await;
    let first_id = SupplierId::parse(&first).unwrap();
    // A key row as an older release let it be made: bound to one supplier, holding every scope.
    let (_, broad) = app.key_with("acme", Some(first_id), &Scope::ALL).await;
    let (_, narrow) = app
        .key_with("acme", Some(first_id), &[Scope::SupplierCallbacks])
        .await;
    for key in [&broad, &narrow] {
        let refused = seller_rpcs(&app, key, &theirs.return_id, &second).await;
        assert_eq!(refused.len(), 17);
        for (name, e) in &refused {
            assert_eq!(e.code(), Code::PermissionDenied, "{name}: {e:?}");
            assert_eq!(reason(e), "SUPPLIER_KEY_NOT_ALLOWED", "{name}");
        }
    }
    assert_eq!(get_return(&app, &seller, &theirs.return_id).await, theirs);
}

#[tokio::test]
async fn the_supplier_surface_takes_a_supplier_key_and_refuses_callers_without_one() {
    let app = spawn_app().await;
    let (seller, supplier) = seller_with_supplier(&app, "acme").await;
    let supplier = SupplierId::parse(&supplier).unwrap();
    let (_, key) = app
        .key_with("acme", Some(supplier), &[Scope::SupplierCallbacks])
        .await;
    let call = |auth: Auth| {
        let channel = app.channel.clone();
        async move {
            SupplierCallbackServiceClient::with_interceptor(channel, auth)
                .acknowledge_request(pb::AcknowledgeRequestRequest::default())
                .await
                .unwrap_err()
        }
    };
    assert_eq!(call(Auth::none()).await.code(), Code::Unauthenticated);
    assert_eq!(
        call(Auth::key("rbk_nope")).await.code(),
        Code::Unauthenticated
    );
    assert_eq!(
        call(Auth::key(&seller)).await.code(),
        Code::PermissionDenied
    );
    // Past the key check, the request itself is looked at.
    assert_eq!(call(Auth::key(&key)).await.code(), Code::InvalidArgument);
    let mut sla = SlaServiceClient::with_interceptor(app.channel.clone(), Auth::none());
    let err = sla
        .get_supplier_sla(pb::GetSupplierSlaRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
}

fn publish_at(
    supplier_id: &str,
    effective_from: prost_types::Timestamp,
) -> pb::PublishContractRequest {
    pb::PublishContractRequest {
        supplier_id: supplier_id.into(),
        effective_from: Some(effective_from),
        terms: Some(terms()),
        description: String::new(),
        expected_latest_version: 0,
    }
}

#[tokio::test]
async fn instants_outside_years_1_to_9999_are_refused_and_leave_the_contract_readable() {
    let app = spawn_app().await;
    let (seller, supplier) = seller_with_supplier(&app, "acme").await;
    let mut c = app.contracts(Auth::key(&seller));
    for (seconds, nanos) in [
        (253_402_300_800, 0),  // 10000-01-01
        (-62_135_596_801, 0),  // before 0001-01-01
        (-300_000_000_000, 0), // before 4713 BC
        (0, -1),
        (0, 1_000_000_000),
    ] {
        let err = c
            .publish_contract(publish_at(
                &supplier,
                prost_types::Timestamp { seconds, nanos },
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{seconds}/{nanos}");
        assert_eq!(violated_fields(&err), ["effective_from"]);
    }
    // The last second protobuf admits is kept, and every read still works after it.
    c.publish_contract(publish_at(
        &supplier,
        prost_types::Timestamp {
            seconds: 253_402_300_799,
            nanos: 999_999_999,
        },
    ))
    .await
    .unwrap();
    let versions = c
        .list_contract_versions(pb::ListContractVersionsRequest {
            supplier_id: supplier.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(versions.contracts.len(), 2);
    // So is the first, for a supplier with no contract yet.
    let fresh = c
        .create_supplier(pb::CreateSupplierRequest {
            supplier: Some(pb::Supplier {
                display_name: "Old Supply".into(),
                connector: Some(pb::supplier::Connector::Webhook(pb::WebhookConnector {
                    url: "https://old.example/returns".into(),
                })),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .supplier
        .unwrap()
        .supplier_id;
    let first_second = prost_types::Timestamp {
        seconds: -62_135_596_800,
        nanos: 0,
    };
    c.publish_contract(publish_at(&fresh, first_second))
        .await
        .unwrap();
    let read = c
        .get_contract(pb::GetContractRequest {
            supplier_id: fresh,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        read.contract.and_then(|c| c.effective_from),
        Some(first_second)
    );
    authorize(&app, &seller, changed_mind(&supplier, "ORDER-1")).await;

    let mut sla = terms().sla.unwrap();
    sla.ack_within = Some(prost_types::Duration {
        seconds: 3600,
        nanos: -5,
    });
    let mut mixed = publish_at(&supplier, ts(Utc::now()));
    mixed.terms.as_mut().unwrap().sla = Some(sla);
    let err = c.publish_contract(mixed).await.unwrap_err();
    assert_eq!(violated_fields(&err), ["terms.sla.ack_within"]);

    let mut r = app.returns(Auth::key(&seller));
    let range = |seconds| pb::ListReturnsRequest {
        create_time_range: Some(pb::TimeRange {
            start_time: Some(ts(Utc::now() - Duration::days(1))),
            end_time: Some(prost_types::Timestamp { seconds, nanos: 0 }),
        }),
        ..Default::default()
    };
    let err = r.list_returns(range(253_402_300_800)).await.unwrap_err();
    assert_eq!(violated_fields(&err), ["create_time_range.end_time"]);
    let listed = r.list_returns(range(253_402_300_799)).await.unwrap();
    assert_eq!(listed.into_inner().returns.len(), 1);
}

#[tokio::test]
async fn list_returns_answers_newest_first_across_pages() {
    let app = spawn_app().await;
    let (seller, supplier) = seller_with_supplier(&app, "acme").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let r = authorize(
            &app,
            &seller,
            changed_mind(&supplier, &format!("ORDER-{i}")),
        )
        .await;
        ids.push(r.return_id);
    }
    ids.reverse();
    let mut r = app.returns(Auth::key(&seller));
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = r
            .list_returns(pb::ListReturnsRequest {
                page_size: 2,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.returns.into_iter().map(|r| r.return_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn nul_bytes_in_strings_are_invalid_arguments_on_every_store() {
    let app = spawn_app().await;
    let (seller, supplier) = seller_with_supplier(&app, "acme").await;
    let mut r = app.returns(Auth::key(&seller));
    let err = r
        .list_returns(pb::ListReturnsRequest {
            order_id: "ORDER\0-1".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["order_id"]);

    let mut c = app.contracts(Auth::key(&seller));
    let mut publish = publish_at(&supplier, ts(Utc::now()));
    publish.description = "net\u{0}30".into();
    let err = c.publish_contract(publish).await.unwrap_err();
    assert_eq!(violated_fields(&err), ["description"]);

    let mut request = changed_mind(&supplier, "ORDER-1");
    request.external_reference = "ref\0".into();
    request.customer_comment = "too\0small".into();
    let err = app
        .returns(Auth::key(&seller).idempotent("nul"))
        .authorize_return(request)
        .await
        .unwrap_err();
    let mut fields = violated_fields(&err);
    fields.sort();
    assert_eq!(fields, ["customer_comment", "external_reference"]);
    let a = authorize(&app, &seller, changed_mind(&supplier, "ORDER-2")).await;
    let mut cancel = cancel_request(&a.return_id, 0);
    cancel.reason = "oops\0".into();
    let err = r.cancel_return(cancel).await.unwrap_err();
    assert_eq!(violated_fields(&err), ["reason"]);
}

#[tokio::test]
async fn a_settlement_statement_covers_at_most_366_days() {
    let app = spawn_app().await;
    let (seller, supplier) = seller_with_supplier(&app, "acme").await;
    let mut l = LiabilityServiceClient::with_interceptor(app.channel.clone(), Auth::key(&seller));
    let now = Utc::now();
    let statement = |days| pb::GetSettlementStatementRequest {
        supplier_id: supplier.clone(),
        period: Some(pb::TimeRange {
            start_time: Some(ts(now - Duration::days(days))),
            end_time: Some(ts(now)),
        }),
        currency_code: "EUR".into(),
        ..Default::default()
    };
    let err = l
        .get_settlement_statement(statement(100 * 365))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["period"]);
    l.get_settlement_statement(statement(366)).await.unwrap();
}

#[tokio::test]
async fn an_inspection_cannot_deduct_more_than_the_goods_cost_and_a_wrong_one_can_be_redone() {
    let app = spawn_app().await;
    let (seller, supplier) = seller_with_supplier(&app, "acme").await;
    let mut r = app.returns(Auth::key(&seller));
    // Both tees: 2 x 50.00 EUR.
    let a = authorize(&app, &seller, changed_mind(&supplier, "ORDER-1")).await;
    r.record_shipment(ship_request(&a.return_id, 0))
        .await
        .unwrap();
    r.record_receipt(receive_request(&a.return_id, 0))
        .await
        .unwrap();
    let damaged = |deduction: i64| {
        let mut req = inspect_request(&a.return_id, 0);
        let inspection = req.inspection.as_mut().unwrap();
        inspection.outcome = pb::InspectionOutcome::DamagedByCustomer as i32;
        inspection.damage_deduction = Some(eur(deduction));
        req
    };
    let err = r.record_inspection(damaged(10_001)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&err),
        ["inspection.damage_deduction.amount_minor"]
    );
    assert_eq!(
        get_return(&app, &seller, &a.return_id).await.status,
        pb::ReturnStatus::Received as i32
    );
    // The whole price is allowed; then a corrected report replaces it before resolution.
    r.record_inspection(damaged(10_000)).await.unwrap();
    let redone = r
        .record_inspection(damaged(2_500))
        .await
        .unwrap()
        .into_inner()
        .return_case
        .unwrap();
    assert_eq!(redone.status, pb::ReturnStatus::Inspected as i32);
    let deduction = redone.inspection.and_then(|i| i.damage_deduction);
    assert_eq!(deduction, Some(eur(2_500)));
    // The return that such a deduction would have stranded now resolves.
    let resolved = r
        .resolve_return(refund_request(&a.return_id, 0))
        .await
        .unwrap()
        .into_inner();
    let status = resolved.return_case.map(|r| r.status);
    assert_eq!(status, Some(pb::ReturnStatus::Resolved as i32));
}

#[tokio::test]
async fn revoking_a_key_ends_its_open_event_stream_within_a_second() {
    let app = spawn_app().await;
    let (_, supplier) = seller_with_supplier(&app, "acme").await;
    let (key_id, key): (ApiKeyId, String) =
        app.key_with("acme", None, &Scope::SELLER_DEFAULT).await;
    let mut stream = watch_from_beginning(&app, &key).await;
    authorize(&app, &key, changed_mind(&supplier, "ORDER-1")).await;
    let first = stream.next().await.unwrap().unwrap();
    assert!(matches!(
        first.item,
        Some(pb::watch_events_response::Item::Event(_))
    ));
    app.store.revoke_api_key(key_id, Utc::now()).await.unwrap();
    let revoked_at = std::time::Instant::now();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(3), async {
        loop {
            match stream.next().await {
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Some(e),
                None => return None,
            }
        }
    })
    .await
    .expect("the stream ends once its key is revoked");
    let e = ended.expect("an error tells the client why");
    assert_eq!(e.code(), Code::Unauthenticated);
    assert_eq!(reason(&e), "API_KEY_REVOKED");
    // Checked every 500 ms; a second is the promise, with room for a loaded test machine.
    assert!(revoked_at.elapsed() < std::time::Duration::from_millis(1500));
}

#[tokio::test]
async fn record_sales_replays_a_retried_key_and_refuses_it_for_other_records() {
    let app = spawn_app().await;
    let (seller, supplier) = seller_with_supplier(&app, "acme").await;
    let sales = |units| pb::RecordSalesRequest {
        records: vec![pb::SalesRecord {
            supplier_id: supplier.clone(),
            sku: "TEE-M".into(),
            category: String::new(),
            period: Some(pb::TimeRange {
                start_time: Some(ts(Utc::now() - Duration::days(30))),
                end_time: Some(ts(Utc::now() - Duration::days(1))),
            }),
            units_sold: units,
        }],
    };
    let first_request = sales(40);
    let mut keyed = app.returns(Auth::key(&seller).idempotent("sales-1"));
    let first = keyed.record_sales(first_request.clone()).await.unwrap();
    let again = keyed.record_sales(first_request).await.unwrap();
    assert_eq!(first.into_inner(), again.into_inner());
    let err = keyed.record_sales(sales(41)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(reason(&err), "IDEMPOTENCY_KEY_REUSED");
}

#[tokio::test]
async fn twenty_bad_order_lines_answer_invalid_argument_with_small_trailers() {
    let app = spawn_app().await;
    let (seller, supplier) = seller_with_supplier(&app, "acme").await;
    let mut request = changed_mind(&supplier, "ORDER-1");
    let order = request.order.as_mut().unwrap();
    for i in 0..200 {
        order.lines.push(pb::OrderLine {
            sku: format!("{}\u{7}", "x".repeat(60 + i % 3)),
            category: "NOT A CATEGORY".repeat(8),
            quantity: -1,
            unit_price: Some(eur(-1)),
            unit_cost: Some(eur(-1)),
        });
    }
    let err = app
        .returns(Auth::key(&seller).idempotent("bad-lines"))
        .authorize_return(request)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let fields = violated_fields(&err);
    assert!((1..=50).contains(&fields.len()), "{}", fields.len());
    assert!(err.message().len() < 2048);
}
