//! What a stock gRPC client sees: health, reflection, and UNIMPLEMENTED for RPCs not built yet.

use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::sla_service_client::SlaServiceClient;
use returnbridge_tests::fixtures::watch_from_beginning;
use returnbridge_tests::{Auth, spawn_app};
use tokio_stream::StreamExt;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const V1_SERVICES: [&str; 6] = [
    "returnbridge.v1.ContractService",
    "returnbridge.v1.ReturnService",
    "returnbridge.v1.LiabilityService",
    "returnbridge.v1.SlaService",
    "returnbridge.v1.DeliveryService",
    "returnbridge.v1.SupplierCallbackService",
];

#[tokio::test]
async fn health_reports_serving_for_the_server_and_every_service_without_a_key() {
    let app = spawn_app().await;
    let mut health = HealthClient::new(app.channel.clone());
    for service in std::iter::once("").chain(V1_SERVICES) {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("health of {service:?}: {e}"))
            .into_inner()
            .status;
        assert_eq!(
            status,
            ServingStatus::Serving as i32,
            "{service:?} on {}",
            app.backend
        );
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "returnbridge.v1.Nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn reflection_v1_lists_every_v1_service_and_health() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let app = spawn_app().await;
    let mut client = ServerReflectionClient::new(app.channel.clone());
    // One request, its one answer.
    let mut ask = async |request: MessageRequest| {
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(request),
        };
        let mut responses = client
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        responses.next().await.unwrap().unwrap().message_response
    };
    let answer = ask(MessageRequest::ListServices(String::new())).await;
    let Some(MessageResponse::ListServicesResponse(list)) = answer else {
        panic!("expected a service list, got {answer:?}");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    for expected in V1_SERVICES.iter().chain(&[
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
    ]) {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    // Suppliers implement SupplierInbox; this server does not serve it.
    assert!(!names.iter().any(|n| n == "returnbridge.v1.SupplierInbox"));

    // Error details resolve, so grpcurl prints BadRequest and ErrorInfo instead of base64.
    for symbol in [
        "google.rpc.BadRequest",
        "google.rpc.ErrorInfo",
        "google.rpc.RetryInfo",
    ] {
        let answer = ask(MessageRequest::FileContainingSymbol(symbol.into())).await;
        assert!(
            matches!(answer, Some(MessageResponse::FileDescriptorResponse(_))),
            "{symbol}: {answer:?}"
        );
    }
}

#[tokio::test]
async fn reflection_v1alpha_answers_for_older_clients() {
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;

    let app = spawn_app().await;
    let mut client = ServerReflectionClient::new(app.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(
            "returnbridge.v1.ContractService".into(),
        )),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    assert!(
        matches!(response.message_response, Some(MessageResponse::FileDescriptorResponse(ref f)) if !f.file_descriptor_proto.is_empty()),
        "{:?}",
        response.message_response
    );
}

#[tokio::test]
async fn rpcs_not_built_yet_answer_unimplemented_to_an_authenticated_caller() {
    let app = spawn_app().await;
    let key = app.seller_key("acme").await;
    let mut sla = SlaServiceClient::with_interceptor(app.channel.clone(), Auth::key(&key));
    let err = sla
        .get_supplier_sla(pb::GetSupplierSlaRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);
}

#[tokio::test]
async fn stopping_the_server_finishes_cleanly() {
    let app = spawn_app().await;
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_server_ends_open_event_streams_and_exits_well_inside_the_grace_period() {
    let app = spawn_app().await;
    let key = app.seller_key("acme").await;
    let mut stream = watch_from_beginning(&app, &key).await;
    let started = std::time::Instant::now();
    let (stopped, ended) = tokio::join!(app.stop(), stream.next());
    stopped.unwrap();
    // The default grace period is 30 s; an open stream used to hold the server for all of it.
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(5),
        "stopped after {took:?}"
    );
    let err = ended.expect("an answer, not a silent end").unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable, "{err:?}");
}
