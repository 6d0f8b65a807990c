//! What every client command shares: the channel, the credentials, and errors people can read.

use crate::cli::ClientArgs;
use anyhow::Context;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
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
    let channel = Channel::from_shared(args.server.clone())
        .with_context(|| format!("bad --server {:?}", args.server))?
        .connect()
        .await
        .with_context(|| format!("connecting to {}", args.server))?;
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
