//! The server under load: started in-process over a fresh store, seeded through its own API, and
//! torn down (scratch database dropped, SQLite file removed) when the measurements are done.

use crate::drive::{Seller, Target};
use crate::{Args, Backend};
use anyhow::Context;
use chrono::Utc;
use returnbridge_core::auth::generate_api_key;
use returnbridge_core::clock::SystemClock;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::{ApiKeyId, SupplierId, TenantId};
use returnbridge_domain::returns::Return;
use returnbridge_proto::v1::contract_service_client::ContractServiceClient;
use returnbridge_proto::v1::return_service_client::ReturnServiceClient;
use returnbridge_server::Settings;
use returnbridge_store::{NewApiKey, ReturnFilter, ScratchDatabase, Store};
use returnbridge_tests::{Auth, fixtures};
use sqlx::Connection;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// A seller as seeded: what the store-level baseline needs to call the store as the API does.
pub struct Seed {
    pub tenant: TenantId,
    pub key_hash: [u8; 32],
    pub supplier: SupplierId,
}

/// What one stored authorization looks like, read back after the warm-up: the baselines write
/// these exact bytes, so row sizes (and their compressibility, which decides TOAST) match.
#[derive(Clone)]
pub struct Sample {
    /// A stored authorization, as the store reads it back.
    pub ret: Return,
    pub document: Vec<u8>,
    pub payload: Vec<u8>,
    pub detail: Vec<u8>,
    pub response: Vec<u8>,
    pub request_hash: Vec<u8>,
    pub actor: String,
}

impl Sample {
    pub fn describe(&self) -> String {
        format!(
            "document {} B, outbox payload {} B, event detail {} B, idempotent response {} B",
            self.document.len(),
            self.payload.len(),
            self.detail.len(),
            self.response.len()
        )
    }
}

/// A fresh store: a SQLite file in its own temp directory, or a scratch database on `pg_url`.
pub struct FreshStore {
    pub url: String,
    backend: Backend,
    scratch: Option<ScratchDatabase>,
    dir: Option<PathBuf>,
}

impl FreshStore {
    pub async fn create(backend: Backend, pg_url: &str) -> anyhow::Result<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!(
                    "returnbridge-load-{}",
                    uuid::Uuid::new_v4().simple()
                ));
                std::fs::create_dir_all(&dir).context("creating a temp dir")?;
                Ok(Self {
                    url: format!("sqlite:{}", dir.join("returnbridge.db").display()),
                    backend,
                    scratch: None,
                    dir: Some(dir),
                })
            }
            Backend::Postgres => {
                let scratch = ScratchDatabase::create(pg_url)
                    .await
                    .context("creating a scratch database")?;
                Ok(Self {
                    url: scratch.url().to_owned(),
                    backend,
                    scratch: Some(scratch),
                    dir: None,
                })
            }
        }
    }

    /// Removes the database; call once every pool on it is closed or dropped.
    pub async fn remove(self) -> anyhow::Result<()> {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(scratch) = self.scratch {
            scratch.remove().await?;
        }
        Ok(())
    }
}

/// The running server and its clients.
pub struct App {
    pub target: Arc<Target>,
    pub store: Arc<dyn Store>,
    pub seeds: Vec<Seed>,
    fresh: FreshStore,
    stop: oneshot::Sender<()>,
    server: JoinHandle<anyhow::Result<()>>,
}

impl App {
    pub async fn start(args: &Args, tenants: usize) -> anyhow::Result<Self> {
        let fresh = FreshStore::create(args.database, &args.pg_url).await?;
        let mut settings = Settings::default();
        settings.database.url = fresh.url.clone();
        settings.database.max_connections = args.pool_size;
        settings.server.listen = "127.0.0.1:0".parse()?;
        // Off: several benchmark servers may run at once, and nothing scrapes or calls them.
        settings.telemetry.metrics_listen = String::new();
        settings.gateway.callback_listen = String::new();
        let store = returnbridge_server::open_migrated_store(&settings).await?;
        let listener = tokio::net::TcpListener::bind(settings.server.listen).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn({
            let store = store.clone();
            async move {
                returnbridge_server::run(&settings, store, Arc::new(SystemClock), listener, async {
                    let _ = stopped.await;
                })
                .await
            }
        });
        // One Endpoint::connect per channel: each is its own TCP connection and HTTP/2 session.
        let mut channels = Vec::new();
        for _ in 0..args.channels.max(1) {
            channels.push(
                Channel::from_shared(format!("http://{addr}"))?
                    .tcp_nodelay(true)
                    .connect()
                    .await
                    .context("connecting to the server")?,
            );
        }
        let mut sellers = Vec::new();
        let mut seeds = Vec::new();
        for t in 0..tenants {
            let tenant =
                TenantId::parse(&crate::baseline::tenant_name(t)).map_err(anyhow::Error::msg)?;
            let key = generate_api_key();
            store
                .create_api_key(NewApiKey {
                    id: ApiKeyId::generate(),
                    tenant: tenant.clone(),
                    supplier: None,
                    name: "authorize-load".into(),
                    scopes: Scope::SELLER_DEFAULT.to_vec(),
                    secret_hash: key.hash,
                    created_at: Utc::now(),
                })
                .await?;
            let mut contracts = ContractServiceClient::with_interceptor(
                channels[0].clone(),
                Auth::key(&key.secret),
            );
            let supplier =
                fixtures::supplier_with_contract(&mut contracts, fixtures::terms()).await;
            sellers.push(Seller {
                authorization: format!("Bearer {}", key.secret).parse()?,
                template: fixtures::changed_mind(&supplier, "placeholder"),
            });
            seeds.push(Seed {
                tenant,
                key_hash: key.hash,
                supplier: SupplierId::parse(&supplier).map_err(anyhow::Error::msg)?,
            });
        }
        let clients = channels.into_iter().map(ReturnServiceClient::new).collect();
        Ok(Self {
            target: Arc::new(Target::new(clients, sellers)),
            store,
            seeds,
            fresh,
            stop,
            server,
        })
    }

    /// One stored authorization's bytes, read straight from the tables.
    pub async fn sample(&self) -> anyhow::Result<Sample> {
        const DOC: &str = "SELECT document FROM returns WHERE status = 'AUTHORIZED' LIMIT 1";
        const PAYLOAD: &str = "SELECT payload FROM outbox LIMIT 1";
        const DETAIL: &str = "SELECT detail FROM return_events LIMIT 1";
        const ACTOR: &str = "SELECT actor FROM return_events LIMIT 1";
        const RESPONSE: &str = "SELECT response, request_hash FROM idempotency_records WHERE length(response) > 0 LIMIT 1";
        let seed = self.seeds.first().context("no seller")?;
        let ret = self
            .store
            .list_returns(&seed.tenant, &ReturnFilter::default(), None, 1)
            .await?
            .pop()
            .context("no stored return")?;
        macro_rules! read {
            ($conn:expr) => {{
                let mut conn = $conn;
                let (response, request_hash): (Vec<u8>, Vec<u8>) =
                    sqlx::query_as(RESPONSE).fetch_one(&mut conn).await?;
                Sample {
                    ret: ret.clone(),
                    document: sqlx::query_scalar(DOC).fetch_one(&mut conn).await?,
                    payload: sqlx::query_scalar(PAYLOAD).fetch_one(&mut conn).await?,
                    detail: sqlx::query_scalar(DETAIL).fetch_one(&mut conn).await?,
                    actor: sqlx::query_scalar(ACTOR).fetch_one(&mut conn).await?,
                    response,
                    request_hash,
                }
            }};
        }
        Ok(match self.fresh.backend {
            Backend::Sqlite => read!(sqlx::SqliteConnection::connect(&self.fresh.url).await?),
            Backend::Postgres => read!(sqlx::PgConnection::connect(&self.fresh.url).await?),
        })
    }

    /// Stops the server as SIGTERM would, then removes its database.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.server.await??;
        drop(self.target);
        drop(self.store);
        self.fresh.remove().await
    }
}
