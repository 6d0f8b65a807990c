//! The black-box harness: [`spawn_app`] starts the real server on `127.0.0.1:0` over a fresh store
//! (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set) and hands out generated clients;
//! [`fixtures`] builds suppliers, contracts and orders; [`http_json`] is a plain HTTP client for the
//! JSON callback endpoint.

pub mod fixtures;
pub mod http_json;
pub mod supplier_mock;
pub mod supplier_world;
pub mod webhooks;

use chrono::Utc;
use returnbridge_core::auth::generate_api_key;
use returnbridge_core::clock::{Clock, SystemClock};
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::{ApiKeyId, SupplierId, TenantId};
use returnbridge_proto::v1::contract_service_client::ContractServiceClient;
use returnbridge_proto::v1::return_service_client::ReturnServiceClient;
use returnbridge_server::Settings;
use returnbridge_store::{NewApiKey, ScratchDatabase, Store, StoreOptions};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where it serves `GET /metrics` (`telemetry.metrics_listen` is port 0 in tests).
    pub metrics_addr: SocketAddr,
    /// Where it serves suppliers' JSON callbacks (`gateway.callback_listen` is port 0 in tests).
    pub callbacks_addr: SocketAddr,
    /// A connected channel.
    pub channel: Channel,
    /// The store underneath, for arranging state the API cannot (keys) and for checking effects.
    pub store: Arc<dyn Store>,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The clock the server tells time by.
    pub clock: Arc<dyn Clock>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    // Last, so the store is gone by the time its database is.
    _fresh: FreshStore,
}

/// Sends an API key (and optionally an idempotency key) with every call.
#[derive(Clone)]
pub struct Auth {
    authorization: Option<MetadataValue<Ascii>>,
    idempotency_key: Option<MetadataValue<Ascii>>,
}

impl Auth {
    /// Calls with this API key.
    pub fn key(key: &str) -> Self {
        Self {
            authorization: Some(format!("Bearer {key}").parse().expect("ascii key")),
            idempotency_key: None,
        }
    }

    /// Calls with no credentials at all.
    pub fn none() -> Self {
        Self {
            authorization: None,
            idempotency_key: None,
        }
    }

    /// Calls with this raw `authorization` value.
    pub fn raw(value: &str) -> Self {
        Self {
            authorization: Some(value.parse().expect("ascii value")),
            idempotency_key: None,
        }
    }

    /// Adds `idempotency-key` metadata.
    pub fn idempotent(mut self, key: &str) -> Self {
        self.idempotency_key = Some(key.parse().expect("ascii key"));
        self
    }
}

impl Interceptor for Auth {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(v) = &self.authorization {
            req.metadata_mut().insert("authorization", v.clone());
        }
        if let Some(v) = &self.idempotency_key {
            req.metadata_mut().insert("idempotency-key", v.clone());
        }
        Ok(req)
    }
}

/// A ContractService client that authenticates with `auth`.
pub type ContractClient = ContractServiceClient<InterceptedService<Channel, Auth>>;

/// A ReturnService client that authenticates with `auth`.
pub type ReturnClient = ReturnServiceClient<InterceptedService<Channel, Auth>>;

/// An empty store for one test: a scratch PostgreSQL database when `TEST_DATABASE_URL` (or
/// `DATABASE_URL`) names a server, otherwise a SQLite file in a temp folder of its own. Both are
/// removed when this is dropped.
pub struct FreshStore {
    /// Where it is.
    pub url: String,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    _scratch: Option<ScratchDatabase>,
    dir: Option<std::path::PathBuf>,
}

impl FreshStore {
    /// Creates one.
    pub async fn create() -> Self {
        match postgres_server() {
            Some(server) => {
                let scratch = ScratchDatabase::create(&server)
                    .await
                    .expect("scratch PostgreSQL database");
                Self {
                    url: scratch.url().to_owned(),
                    backend: "postgres",
                    _scratch: Some(scratch),
                    dir: None,
                }
            }
            None => {
                let dir = std::env::temp_dir()
                    .join(format!("returnbridge-test-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&dir).expect("temp dir");
                Self {
                    url: format!("sqlite:{}", dir.join("returnbridge.db").display()),
                    backend: "sqlite",
                    _scratch: None,
                    dir: Some(dir),
                }
            }
        }
    }
}

impl Drop for FreshStore {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The PostgreSQL server tests run on: `TEST_DATABASE_URL`, else `DATABASE_URL`, else none.
pub fn postgres_server() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .ok()
}

/// Says on the terminal, past the test harness's output capture, that a test did not run and why.
pub fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{test}: skipped, {why}");
}

/// Starts the real server (all roles) on a free loopback port.
pub async fn spawn_app() -> TestApp {
    spawn_app_with_clock(Arc::new(SystemClock)).await
}

/// Starts the real server telling time by `clock` (a `ManualClock` drives deadlines in tests).
pub async fn spawn_app_with_clock(clock: Arc<dyn Clock>) -> TestApp {
    spawn_app_on(FreshStore::create().await, clock).await
}

/// Starts the real server on `fresh` (which it keeps until it is dropped).
pub async fn spawn_app_on(fresh: FreshStore, clock: Arc<dyn Clock>) -> TestApp {
    spawn_app_configured(fresh, clock, |_| {}).await
}

/// Starts the real server on `fresh` with the test settings changed by `configure`.
pub async fn spawn_app_configured(
    fresh: FreshStore,
    clock: Arc<dyn Clock>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = Settings::default();
    settings.database.url = fresh.url.clone();
    settings.server.listen = "127.0.0.1:0".parse().expect("addr");
    // Tests run the expiry sweep themselves (`expire_overdue`), so the server's own round must not
    // race them once a manual clock has been moved past a deadline.
    settings.server.expiry_sweep_secs = 24 * 3600;
    settings.telemetry.metrics_listen = "127.0.0.1:0".into();
    settings.gateway.callback_listen = "127.0.0.1:0".into();
    // Mock suppliers listen on loopback; a test of the guard turns this off again.
    settings.gateway.allow_private_destinations = true;
    settings.gateway.poll_interval_ms = 100;
    configure(&mut settings);
    let store = returnbridge_server::open_migrated_store(&settings)
        .await
        .expect("store");
    let listener = tokio::net::TcpListener::bind(settings.server.listen)
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let metrics_listener = tokio::net::TcpListener::bind(
        settings
            .telemetry
            .metrics_addr()
            .expect("metrics address")
            .expect("metrics on"),
    )
    .await
    .expect("bind metrics");
    let metrics_addr = metrics_listener.local_addr().expect("metrics addr");
    let callbacks_listener = tokio::net::TcpListener::bind(
        settings
            .gateway
            .callback_addr()
            .expect("callback address")
            .expect("callbacks on"),
    )
    .await
    .expect("bind callbacks");
    let callbacks_addr = callbacks_listener.local_addr().expect("callbacks addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let server_store = store.clone();
    let server_clock = clock.clone();
    let server = tokio::spawn(async move {
        let listeners = returnbridge_server::Listeners {
            grpc: listener,
            metrics: Some(metrics_listener),
            callbacks: Some(callbacks_listener),
        };
        returnbridge_server::run_with(&settings, server_store, server_clock, listeners, async {
            let _ = stopped.await;
        })
        .await
    });
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    TestApp {
        addr,
        metrics_addr,
        callbacks_addr,
        channel,
        clock,
        store,
        backend: fresh.backend,
        stop: Some(stop),
        server: Some(server),
        _fresh: fresh,
    }
}

impl TestApp {
    /// Creates an API key for `tenant` with `scopes` (as `returnbridge keys create` does).
    pub async fn key_with(
        &self,
        tenant: &str,
        supplier: Option<SupplierId>,
        scopes: &[Scope],
    ) -> (ApiKeyId, String) {
        let generated = generate_api_key();
        let record = self
            .store
            .create_api_key(NewApiKey {
                id: ApiKeyId::generate(),
                tenant: TenantId::parse(tenant).expect("tenant"),
                supplier,
                name: "test".into(),
                scopes: scopes.to_vec(),
                secret_hash: generated.hash,
                created_at: Utc::now(),
            })
            .await
            .expect("create key");
        (record.id, generated.secret)
    }

    /// `GET path` on the metrics listener: the status line and the body.
    pub async fn scrape(&self, path: &str) -> (String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.metrics_addr)
            .await
            .expect("connect to the metrics listener");
        let request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.metrics_addr);
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).await.expect("read");
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP answer");
        assert!(
            head.to_ascii_lowercase().contains("content-length"),
            "{head}"
        );
        (
            head.lines().next().unwrap_or_default().to_owned(),
            body.to_owned(),
        )
    }

    /// The database the server runs on.
    pub fn database_url(&self) -> &str {
        &self._fresh.url
    }

    /// A seller key with every seller scope.
    pub async fn seller_key(&self, tenant: &str) -> String {
        self.key_with(tenant, None, &Scope::SELLER_DEFAULT).await.1
    }

    /// A ReturnService client calling with `auth`.
    pub fn returns(&self, auth: Auth) -> ReturnClient {
        ReturnServiceClient::with_interceptor(self.channel.clone(), auth)
    }

    /// Runs the expiry sweep now, as the server's periodic task does.
    pub async fn expire_overdue(&self) -> usize {
        let ctx = returnbridge_api::ApiContext::new(self.store.clone(), self.clock.clone());
        returnbridge_api::returns::expire_overdue(&ctx)
            .await
            .expect("sweep")
    }

    /// A ContractService client calling with `auth`.
    pub fn contracts(&self, auth: Auth) -> ContractClient {
        ContractServiceClient::with_interceptor(self.channel.clone(), auth)
    }

    /// Stops the server as SIGTERM would and waits for it to finish.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.server.take() {
            Some(server) => server.await?,
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The value of the sample named exactly `series` in a metrics exposition, if it is there.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

/// Opens a store with default options (for tests that look underneath).
pub async fn open_store(url: &str) -> Arc<dyn Store> {
    returnbridge_store::connect(url, &StoreOptions::default())
        .await
        .expect("store")
}

/// The `ErrorInfo.reason` of a failed call, or "" when it has none.
pub fn reason(status: &Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default()
}

/// The fields named by a failed call's `BadRequest` details, in order.
pub fn violated_fields(status: &Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}
