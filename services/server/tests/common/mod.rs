//! What the real-binary tests share: the binary, a key, a server on a port the kernel chose, a
//! migrated scratch PostgreSQL database, replicas of one role, and a webhook supplier.
// Each test binary uses its own part of this module.
#![allow(dead_code)]

use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::contract_service_client::ContractServiceClient;
use returnbridge_proto::v1::return_service_client::ReturnServiceClient;
use returnbridge_store::ScratchDatabase;
use returnbridge_tests::Auth;
use returnbridge_tests::fixtures::ts;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use tonic::transport::Channel;

/// The `returnbridge` binary, with no client defaults from the environment the tests run in.
pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_returnbridge"));
    command
        .env_remove("RETURNBRIDGE_SERVER")
        .env_remove("RETURNBRIDGE_API_KEY");
    command
}

/// `keys create --tenant <tenant>` on the database at `url`: the new key.
pub fn create_key(url: &str, tenant: &str) -> String {
    let created = binary()
        .args(["keys", "create", "--tenant", tenant, "--database-url", url])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    String::from_utf8(created.stdout).unwrap().trim().to_owned()
}

/// `serve --listen 127.0.0.1:0` with `args` and `env`, JSON logs and the metrics and JSON callback
/// endpoints on free ports: the process, and the `host:port` it listens on, read from its log.
pub fn serve(args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut child = binary()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env("RETURNBRIDGE_LOG__FORMAT", "json")
        .env("RETURNBRIDGE_TELEMETRY__METRICS_LISTEN", "127.0.0.1:0")
        .env("RETURNBRIDGE_GATEWAY__CALLBACK_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The JSON log line announcing the listener carries the port the kernel chose.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if line.contains("returnbridge listening") {
            let start = line.find("\"addr\":\"").unwrap() + 8;
            break line[start..start + line[start..].find('"').unwrap()].to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}

/// A scratch database on the PostgreSQL server at `server`, migrated by `returnbridge migrate` (as
/// the chart's hook Job does, so the replicas start with `migrate_on_start` off).
pub async fn migrated_scratch(server: &str) -> ScratchDatabase {
    let scratch = ScratchDatabase::create(server).await.unwrap();
    let migrated = binary()
        .args(["migrate", "--database-url", scratch.url()])
        .output()
        .unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    scratch
}

/// The environment of a replica whose database was migrated beforehand.
pub const NO_MIGRATION: (&str, &str) = ("RETURNBRIDGE_DATABASE__MIGRATE_ON_START", "false");

/// One running `returnbridge serve --role <role>` process; killed when dropped.
pub struct Replica {
    child: Child,
    /// `http://host:port` of its gRPC listener.
    pub addr: String,
}

impl Replica {
    /// Starts one on the database at `url`, with `env` on top of the test defaults of [`serve`].
    pub fn start(url: &str, role: &str, env: &[(&str, &str)]) -> Self {
        let (child, addr) = serve(&["--role", role, "--database-url", url], env);
        Self {
            child,
            addr: format!("http://{addr}"),
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends it `signal` (`TERM`, `STOP`, ...) with kill(1).
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal} {}", self.pid());
    }

    /// SIGTERM, and the exit it must make: clean, well inside the grace period.
    pub fn stop(mut self) {
        self.signal("TERM");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "replica exited with {status}");
    }

    /// `kill -9`, and waits until it is gone.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// A lazily connected channel to it.
    pub fn channel(&self) -> Channel {
        Channel::from_shared(self.addr.clone())
            .unwrap()
            .connect_lazy()
    }

    /// A ReturnService client calling it with `auth`.
    pub fn returns(&self, auth: Auth) -> returnbridge_tests::ReturnClient {
        ReturnServiceClient::with_interceptor(self.channel(), auth)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A supplier delivered to by webhook at `url`, under `terms` effective a year back: its id.
pub async fn webhook_supplier(
    channel: &Channel,
    key: &str,
    url: &str,
    terms: pb::ContractTerms,
) -> String {
    let mut contracts = ContractServiceClient::with_interceptor(channel.clone(), Auth::key(key));
    let supplier = contracts
        .create_supplier(pb::CreateSupplierRequest {
            supplier: Some(pb::Supplier {
                display_name: "Mock Supply".into(),
                connector: Some(pb::supplier::Connector::Webhook(pb::WebhookConnector {
                    url: url.into(),
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
    contracts
        .publish_contract(pb::PublishContractRequest {
            supplier_id: supplier.clone(),
            effective_from: Some(ts(chrono::Utc::now() - chrono::Duration::days(365))),
            terms: Some(terms),
            description: "test terms".into(),
            expected_latest_version: 0,
        })
        .await
        .unwrap();
    supplier
}
