//! `serve`: one gRPC server running the roles it is given, on a listener it is handed, until the
//! shutdown future resolves.

use crate::call_log::CallLogLayer;
use crate::config::Settings;
use crate::readiness::{DatabaseGate, Readiness, set_status};
use anyhow::Context;
use chrono::TimeDelta;
use returnbridge_api::{ApiContext, ContractApi, LiabilityApi, ReturnApi, SlaApi};
use returnbridge_core::clock::Clock;
use returnbridge_core::jobs::purge_idempotency_records;
use returnbridge_gateway::deliveries::DeliveryApi;
use returnbridge_gateway::json_callbacks::JsonCallbacks;
use returnbridge_gateway::{SellerEventRelay, SlaClock, SupplierCallbacks};
use returnbridge_proto::v1::contract_service_server::ContractServiceServer;
use returnbridge_proto::v1::delivery_service_server::DeliveryServiceServer;
use returnbridge_proto::v1::liability_service_server::LiabilityServiceServer;
use returnbridge_proto::v1::return_service_server::ReturnServiceServer;
use returnbridge_proto::v1::sla_service_server::SlaServiceServer;
use returnbridge_proto::v1::supplier_callback_service_server::SupplierCallbackServiceServer;
use returnbridge_store::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

/// What a server listens on.
pub struct Listeners {
    /// gRPC.
    pub grpc: TcpListener,
    /// The admin listener serving `GET /metrics`; `None` turns the endpoint off.
    pub metrics: Option<TcpListener>,
    /// Suppliers' JSON callbacks (the gateway role); `None` turns the endpoint off.
    pub callbacks: Option<TcpListener>,
}

/// Runs the server on `listener`, with the metrics endpoint on `telemetry.metrics_listen` and, for
/// the gateway role, the JSON callbacks on `gateway.callback_listen` (both bound here), until
/// `shutdown` resolves; see [`run_with`].
pub async fn run(
    settings: &Settings,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let metrics = match settings
        .telemetry
        .metrics_addr()
        .map_err(anyhow::Error::msg)?
    {
        Some(addr) => Some(TcpListener::bind(addr).await.with_context(|| {
            format!(
                "listening for metrics on {addr} (telemetry.metrics_listen; empty turns it off)"
            )
        })?),
        None => None,
    };
    let callbacks = match settings.gateway.callback_addr().map_err(anyhow::Error::msg)? {
        Some(addr) if settings.server.role.runs_gateway() => {
            Some(TcpListener::bind(addr).await.with_context(|| {
                format!(
                    "listening for JSON callbacks on {addr} (gateway.callback_listen; empty turns it off)"
                )
            })?)
        }
        _ => None,
    };
    let listeners = Listeners {
        grpc: listener,
        metrics,
        callbacks,
    };
    run_with(settings, store, clock, listeners, shutdown).await
}

/// Runs the server until `shutdown` resolves, then stops taking calls, lets calls in flight finish
/// (up to the grace period) and returns.
pub async fn run_with(
    settings: &Settings,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = listeners.grpc;
    let role = settings.server.role;
    let services = served_services(settings);
    let (health, health_service) = tonic_health::server::health_reporter();
    set_status(&health, &services, ServingStatus::NotServing).await;
    // Alive as long as it answers at all, database or not: what a liveness probe asks, so an
    // outage takes replicas out of service without restarting them.
    health
        .set_service_status(LIVENESS, ServingStatus::Serving)
        .await;

    let reflection_v1 = reflection(&services)
        .build_v1()
        .context("building the reflection service")?;
    // grpcio's reflection client (Python) still speaks only v1alpha.
    let reflection_v1alpha = reflection(&services)
        .build_v1alpha()
        .context("building the reflection service")?;

    let ctx = ApiContext::new(store.clone(), clock);
    let gate = DatabaseGate::default();
    let api = role.runs_api();
    let gateway = role.runs_gateway();
    // One set of handlers for both of the suppliers' transports: gRPC here, JSON below.
    let callbacks = gateway.then(|| {
        SupplierCallbacks::new(
            ctx.auth.clone(),
            ctx.returns.clone(),
            ctx.store.clone(),
            ctx.clock.clone(),
            ctx.events.clone(),
        )
    });
    let router = Server::builder()
        // A call that runs longer than this is cut off; clients' own grpc-timeout applies when shorter.
        .timeout(Duration::from_secs(settings.server.request_timeout_secs))
        // Past this many calls in flight on one connection, shed new ones (RESOURCE_EXHAUSTED) rather
        // than queue them without bound.
        .concurrency_limit_per_connection(settings.server.concurrency_limit_per_connection)
        .load_shed(true)
        // `tenant` is recorded by the api once the caller's key is resolved.
        .trace_fn(|req| {
            tracing::info_span!("grpc", method = %req.uri().path(), tenant = tracing::field::Empty)
        })
        // Inside the span above, so the call's log line carries the method and tenant; inside
        // tonic's timeout, which it sees as a call dropped unanswered (see call_log.rs).
        .layer(CallLogLayer::new(ctx.metrics.clone()))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_optional_service(api.then(|| {
            ContractServiceServer::with_interceptor(ContractApi::new(ctx.clone()), gate.clone())
        }))
        .add_optional_service(api.then(|| {
            ReturnServiceServer::with_interceptor(ReturnApi::new(ctx.clone()), gate.clone())
        }))
        .add_optional_service(api.then(|| {
            LiabilityServiceServer::with_interceptor(LiabilityApi::new(ctx.clone()), gate.clone())
        }))
        .add_optional_service(
            api.then(|| SlaServiceServer::with_interceptor(SlaApi::new(ctx.clone()), gate.clone())),
        )
        // Seller-facing, so served with the api; its handlers live with the dispatcher they report on.
        .add_optional_service(api.then(|| {
            let deliveries = DeliveryApi::new(ctx.auth.clone(), store.clone(), ctx.clock.clone());
            DeliveryServiceServer::with_interceptor(deliveries, gate.clone())
        }))
        .add_optional_service(
            callbacks
                .clone()
                .map(|c| SupplierCallbackServiceServer::with_interceptor(c, gate.clone())),
        );

    let background = ctx.background.clone();
    let json_callbacks = callbacks.map(|c| {
        let timeout = Duration::from_secs(settings.server.request_timeout_secs);
        JsonCallbacks::new(c, gate.clone(), timeout)
    });
    let readiness = Arc::new(Readiness::new(
        store.clone(),
        health.clone(),
        services.clone(),
        gate,
    ));
    // The first probe runs before the listener accepts calls, so a ready store is SERVING at once.
    readiness.probe().await;
    background.every(
        Duration::from_millis(settings.server.readiness_interval_ms),
        move || {
            let readiness = readiness.clone();
            async move {
                readiness.probe().await;
            }
        },
    );
    if api {
        let ctx = ctx.clone();
        background.every(
            Duration::from_secs(settings.server.expiry_sweep_secs),
            move || {
                let ctx = ctx.clone();
                async move { expire_overdue_returns(&ctx).await }
            },
        );
    }
    if gateway {
        // Delivers the outbox to suppliers; stops with the other background work.
        returnbridge_gateway::dispatcher::spawn(
            store.clone(),
            ctx.clock.clone(),
            ctx.returns.clone(),
            settings.gateway.dispatcher(),
            ctx.metrics.clone(),
            &background,
        );
        let sla = SlaClock::new(
            ctx.returns.clone(),
            store.clone(),
            ctx.clock.clone(),
            ctx.metrics.clone(),
        );
        let events = ctx.events.clone();
        background.every(returnbridge_gateway::sla_clock::TICK, move || {
            let (sla, events) = (sla.clone(), events.clone());
            async move {
                match sla.tick().await {
                    Ok(0) => {}
                    Ok(_) => events.notify_waiters(),
                    Err(e) => tracing::warn!(error = %e, "SLA clock tick failed; retrying"),
                }
            }
        });
        // The outbox gauges, for dashboards and alerts on a backlog.
        let (backlog_store, clock, metrics) =
            (store.clone(), ctx.clock.clone(), ctx.metrics.clone());
        background.every(Duration::from_secs(5), move || {
            let (store, clock, metrics) = (backlog_store.clone(), clock.clone(), metrics.clone());
            async move {
                match store.outbox_backlog().await {
                    Ok((pending, oldest)) => {
                        let age = oldest
                            .and_then(|t| (clock.now() - t).to_std().ok())
                            .unwrap_or_default();
                        metrics.set_outbox(pending, age);
                    }
                    Err(e) => tracing::debug!(error = %e, "reading the outbox backlog failed"),
                }
            }
        });
        let relay = SellerEventRelay::new(store.clone(), ctx.clock.clone());
        background.every(returnbridge_gateway::seller_events::TICK, move || {
            let relay = relay.clone();
            async move {
                if let Err(e) = relay.tick().await {
                    tracing::warn!(error = %e, "seller event relay tick failed; retrying");
                }
            }
        });
    }
    let retention = TimeDelta::hours(
        i64::try_from(settings.database.idempotency_retention_hours).unwrap_or(i64::MAX),
    );
    background.every(PURGE_INTERVAL, {
        let (store, clock, jobs) = (store.clone(), ctx.clock.clone(), background.clone());
        move || {
            let (store, clock, jobs) = (store.clone(), clock.clone(), jobs.clone());
            async move {
                purge_idempotency_records(store.as_ref(), clock.as_ref(), retention, &jobs).await;
            }
        }
    });
    tokio::spawn({
        let background = background.clone();
        async move {
            shutdown.await;
            background.stop();
        }
    });

    if let Some(metrics) = listeners.metrics {
        let addr = metrics
            .local_addr()
            .context("reading the metrics listener's address")?;
        tracing::info!(%addr, "metrics at http://{addr}/metrics");
        crate::metrics_endpoint::spawn(metrics, ctx.metrics.clone(), &background);
    }
    if let (Some(endpoint), Some(json_listener)) = (json_callbacks, listeners.callbacks) {
        let addr = json_listener
            .local_addr()
            .context("reading the JSON callback listener's address")?;
        tracing::info!(%addr, "JSON callbacks at http://{addr}/v1/supplier/");
        endpoint.spawn(json_listener, &background);
    }
    let addr = listener
        .local_addr()
        .context("reading the listener's address")?;
    tracing::info!(%addr, ?role, "returnbridge listening");
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let draining = {
        let background = background.clone();
        let health = health.clone();
        let services = services.clone();
        async move {
            background.stopping().await;
            tracing::info!(
                "shutting down: no new calls, ending event streams, draining calls in flight"
            );
            set_status(&health, &services, ServingStatus::NotServing).await;
        }
    };
    let serve = router.serve_with_incoming_shutdown(incoming, draining);
    let grace_period = Duration::from_secs(settings.server.shutdown_grace_secs);
    let grace_ends = async {
        background.stopping().await;
        tokio::time::sleep(grace_period).await;
    };
    tokio::pin!(grace_ends);
    tokio::select! {
        served = serve => served.context("serving gRPC")?,
        () = &mut grace_ends => tracing::warn!(?grace_period, "calls still in flight after the grace period; exiting anyway"),
    }
    // Event streams ended when shutdown began; jobs finish the round they are in.
    tokio::select! {
        () = background.finished() => {}
        () = &mut grace_ends => tracing::warn!(?grace_period, "background jobs still running after the grace period; exiting anyway"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// One round of the expiry sweep: AUTHORIZED returns past their ship-by deadline expire. Every api
/// replica runs it; the store's row locks make the replicas' sweeps safe to overlap.
async fn expire_overdue_returns(ctx: &ApiContext) {
    match returnbridge_api::returns::expire_overdue(ctx).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(expired = n, "expired returns not shipped by their deadline"),
        Err(e) => tracing::warn!(error = %e, "expiry sweep failed; retrying next round"),
    }
}

/// How often idempotency records past the retention are looked for.
const PURGE_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// The health name that reports the process alive (the other names report it ready).
pub const LIVENESS: &str = "liveness";

/// Both reflection versions are served (grpcio's Python client speaks only v1alpha).
const REFLECTION_SERVICES: [&str; 2] = [
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// Reflection over what this process serves: the services of its role and health (not
/// `SupplierInbox`, which suppliers implement), with the `google.rpc` error details, so grpcurl and
/// `buf curl` print `BadRequest` and `ErrorInfo` instead of base64.
fn reflection(services: &[&'static str]) -> tonic_reflection::server::Builder<'static> {
    let builder = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(returnbridge_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .with_service_name(<tonic_health::pb::health_server::HealthServer<
            tonic_health::server::HealthService,
        > as NamedService>::NAME);
    services
        .iter()
        .filter(|name| !name.is_empty())
        .chain(&REFLECTION_SERVICES)
        .fold(builder, |builder, name| builder.with_service_name(*name))
}

/// Names the health service reports on: the whole server ("") and each service this role runs.
fn served_services(settings: &Settings) -> Vec<&'static str> {
    let role = settings.server.role;
    let mut names = vec![""];
    if role.runs_api() {
        names.extend([
            <ContractServiceServer<ContractApi> as NamedService>::NAME,
            <ReturnServiceServer<ReturnApi> as NamedService>::NAME,
            <LiabilityServiceServer<LiabilityApi> as NamedService>::NAME,
            <SlaServiceServer<SlaApi> as NamedService>::NAME,
            <DeliveryServiceServer<DeliveryApi> as NamedService>::NAME,
        ]);
    }
    if role.runs_gateway() {
        names.push(<SupplierCallbackServiceServer<SupplierCallbacks> as NamedService>::NAME);
    }
    names
}
