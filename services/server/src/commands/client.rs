//! What every client command shares: the channel, the credentials, and errors people can read.

use crate::cli::ClientArgs;
use crate::config::{ClientSettings, Settings};
use anyhow::Context;
use std::sync::OnceLock;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::{Request, Status};
use tonic_types::StatusExt;

/// Adds the API key (and an idempotency key, when given) to every call.
#[derive(Clone)]
pub struct Credentials {
    authorization: MetadataValue<Ascii>,
    idempotency_key: Option<MetadataValue<Ascii>>,
}

impl Interceptor for Credentials {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        req.metadata_mut()
            .insert("authorization", self.authorization.clone());
        if let Some(key) = &self.idempotency_key {
            req.metadata_mut().insert("idempotency-key", key.clone());
        }
        Ok(req)
    }
}

/// A connected channel that sends the credentials with every call.
pub type Authenticated = InterceptedService<Channel, Credentials>;

/// Connects to the server the flags name.
pub async fn connect(
    args: &ClientArgs,
    idempotency_key: Option<&str>,
) -> anyhow::Result<Authenticated> {
    let api_key = args.api_key.as_deref().filter(|k| !k.is_empty()).context(
        "no API key: set RETURNBRIDGE_API_KEY or pass --api-key \
         (`returnbridge keys create --tenant <your-shop>` makes one)",
    )?;
    let channel = channel(args).await?;
    let credentials = Credentials {
        authorization: format!("Bearer {api_key}")
            .parse()
            .context("the API key holds characters that cannot be sent")?,
        idempotency_key: idempotency_key
            .map(|k| {
                k.parse()
                    .context("the idempotency key holds characters that cannot be sent")
            })
            .transpose()?,
    };
    Ok(InterceptedService::new(channel, credentials))
}

/// The config file's `[client]` section, set once by the dispatcher before a client command runs:
/// the defaults behind `--server` and `--ca-cert` (flags and their environment variables win).
static DEFAULTS: OnceLock<ClientSettings> = OnceLock::new();

/// Makes `settings` the client commands' defaults.
pub fn set_defaults(settings: ClientSettings) {
    let _ = DEFAULTS.set(settings);
}

/// A channel to `--server`: TLS for `https://` (never a silent fall back to plaintext), with the
/// system's roots or `--ca-cert`; an unreachable server says what to check.
async fn channel(args: &ClientArgs) -> anyhow::Result<Channel> {
    let defaults = DEFAULTS.get_or_init(|| Settings::default().client);
    let server = &args
        .server
        .clone()
        .unwrap_or_else(|| defaults.server.clone());
    let ca_cert = args.ca_cert.clone().or_else(|| {
        (!defaults.ca_cert.is_empty()).then(|| std::path::PathBuf::from(&defaults.ca_cert))
    });
    let mut endpoint = Channel::from_shared(server.clone()).with_context(|| {
        format!("bad server address {server:?}: use http://HOST:PORT or https://HOST:PORT")
    })?;
    match endpoint.uri().scheme_str() {
        Some("https") => {
            let mut tls = ClientTlsConfig::new().with_native_roots();
            if let Some(path) = &ca_cert {
                let pem = std::fs::read(path)
                    .with_context(|| format!("reading --ca-cert {}", path.display()))?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint
                .tls_config(tls)
                .context("setting up TLS for the server")?;
        }
        Some("http") => {}
        _ => anyhow::bail!(
            "bad server address {server:?}: use http://HOST:PORT or https://HOST:PORT"
        ),
    }
    endpoint.connect().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot reach the server at {server} ({}): is `returnbridge serve` running there? \
             Set RETURNBRIDGE_SERVER or --server to its address",
            root_cause(&e)
        )
    })
}

/// The innermost cause of an error (`Connection refused`), which says the most.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A failed call as people read it: code, message (or each field violation, once), and the stable
/// reason when the server gave one.
pub fn explain(status: Status) -> anyhow::Error {
    let reason = status
        .get_details_error_info()
        .map(|i| format!(" [{}]", i.reason))
        .filter(|r| r != " [INVALID_ARGUMENT]" && r != " []")
        .unwrap_or_default();
    let violations = status
        .get_details_bad_request()
        .map(|b| b.field_violations)
        .unwrap_or_default();
    if violations.is_empty() {
        return anyhow::anyhow!("{:?}{reason}: {}", status.code(), status.message());
    }
    // The message repeats the first violations; the details list them all, so print only those.
    let mut text = format!("{:?}{reason}: invalid request", status.code());
    for v in violations {
        text.push_str(&format!("\n  {}: {}", v.field, v.description));
    }
    anyhow::anyhow!(text)
}
