//! The webhook connector: one signed HTTP POST per attempt, per the Standard Webhooks spec, so a
//! supplier verifies it with any stock library (`standardwebhooks` on PyPI, `svix`, ...).
//!
//! The client is hyper's HTTP/1.1 connection over a socket to an address the destination guard
//! checked: no redirects are followed (a 3xx is a failed attempt) and no proxy settings apply.

use crate::connector::{Answer, Attempt, Payload, cut, traceparent};
use crate::destination::{DestinationError, DestinationGuard};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use returnbridge_domain::supplier::Connector;
use returnbridge_proto::v1 as pb;
use returnbridge_store::{AttemptOutcome, RESPONSE_EXCERPT_MAX};
use sha2::Sha256;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use url::{Position, Url};

/// Delivers attempts as signed JSON POSTs.
#[derive(Clone)]
pub struct WebhookConnector {
    guard: DestinationGuard,
    tls: Option<TlsConnector>,
}

impl WebhookConnector {
    /// A connector trusting the system's root certificates.
    pub fn new(guard: DestinationGuard) -> Self {
        let tls = tls_config()
            .map_err(
                |e| tracing::error!(error = %e, "no TLS for webhooks: https deliveries will fail"),
            )
            .ok()
            .map(|c| TlsConnector::from(Arc::new(c)));
        Self { guard, tls }
    }

    /// Sends one attempt and reads the answer.
    pub async fn send(&self, attempt: &Attempt) -> Answer {
        let url = match &attempt.target.connector {
            Connector::Webhook { url } => url.as_str(),
            Connector::Grpc { .. } => {
                return Answer::failed(AttemptOutcome::ConnectError, "not a webhook supplier");
            }
        };
        let Ok(url) = Url::parse(url) else {
            return Answer::failed(
                AttemptOutcome::ConnectError,
                "the webhook URL does not parse",
            );
        };
        let body = match body(attempt) {
            Ok(body) => body,
            Err(e) => return Answer::failed(AttemptOutcome::ConnectError, e),
        };
        // The transport's freshness stamp: receivers compare it with their own wall clock (five
        // minutes' tolerance), so it is the system's time even when the server runs on a test clock.
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let id = attempt.message_id.to_string();
        let signature = match signatures(attempt, &id, timestamp, &body) {
            Ok(s) => s,
            Err(e) => return Answer::failed(AttemptOutcome::ConnectError, e),
        };
        let request = hyper::Request::post(&url[Position::BeforePath..Position::AfterQuery])
            .header(
                hyper::header::HOST,
                &url[Position::BeforeHost..Position::AfterPort],
            )
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::USER_AGENT,
                concat!("returnbridge-gateway/", env!("CARGO_PKG_VERSION")),
            )
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header("traceparent", traceparent(attempt.message_id))
            .body(Full::new(Bytes::from(body)));
        let request = match request {
            Ok(r) => r,
            Err(e) => {
                return Answer::failed(
                    AttemptOutcome::ConnectError,
                    format!("building the request: {e}"),
                );
            }
        };
        self.post(&url, request).await
    }

    async fn post(&self, url: &Url, request: hyper::Request<Full<Bytes>>) -> Answer {
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs = match self.guard.resolve(host, port).await {
            Ok(addrs) => addrs,
            Err(e @ DestinationError::Refused { .. }) => {
                return Answer::failed(AttemptOutcome::DestinationRefused, e.to_string());
            }
            Err(e) => return Answer::failed(AttemptOutcome::ConnectError, e.to_string()),
        };
        let stream = match TcpStream::connect(&addrs[..]).await {
            Ok(s) => s,
            Err(e) => {
                return Answer::failed(
                    AttemptOutcome::ConnectError,
                    format!("connecting to {host}:{port}: {e}"),
                );
            }
        };
        let _ = stream.set_nodelay(true);
        if url.scheme() != "https" {
            return exchange(stream, request).await;
        }
        let Some(tls) = &self.tls else {
            return Answer::failed(AttemptOutcome::ConnectError, "TLS is not available");
        };
        let name = match ServerName::try_from(
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        ) {
            Ok(n) => n,
            Err(e) => {
                return Answer::failed(
                    AttemptOutcome::ConnectError,
                    format!("TLS name {host}: {e}"),
                );
            }
        };
        match tls.connect(name, stream).await {
            Ok(stream) => exchange(stream, request).await,
            Err(e) => Answer::failed(
                AttemptOutcome::ConnectError,
                format!("TLS with {host}: {e}"),
            ),
        }
    }
}

/// One request and its answer on a fresh HTTP/1.1 connection.
async fn exchange<IO>(io: IO, request: hyper::Request<Full<Bytes>>) -> Answer
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = match hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
    {
        Ok(pair) => pair,
        Err(e) => {
            return Answer::failed(AttemptOutcome::ConnectError, format!("HTTP handshake: {e}"));
        }
    };
    let driver = tokio::spawn(connection);
    let answer = match sender.send_request(request).await {
        Ok(response) => {
            let status = response.status();
            let retry_after = response
                .headers()
                .get(hyper::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| crate::retry::parse_retry_after(v, chrono::Utc::now()));
            let excerpt = read_excerpt(response.into_body()).await;
            Answer {
                outcome: AttemptOutcome::HttpStatus(status.as_u16()),
                delivered: status.is_success(),
                excerpt,
                retry_after,
            }
        }
        Err(e) => Answer::failed(AttemptOutcome::ConnectError, format!("sending: {e}")),
    };
    // The connection is not reused: end it rather than keep it open for nothing.
    driver.abort();
    answer
}

/// The start of a response body, up to the excerpt limit; the rest is not read.
async fn read_excerpt(mut body: hyper::body::Incoming) -> String {
    let mut kept = Vec::new();
    while kept.len() < RESPONSE_EXCERPT_MAX {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    kept.extend_from_slice(data);
                }
            }
            Some(Err(_)) | None => break,
        }
    }
    cut(String::from_utf8_lossy(&kept).into_owned())
}

/// The JSON body: `{"type", "timestamp", "data"}`, with the request (or the seller's event) as
/// proto3 JSON in `data`.
pub fn body(attempt: &Attempt) -> Result<Vec<u8>, String> {
    let (kind, data) = match &attempt.payload {
        Payload::SupplierRequest(request) => (
            event_type(&attempt.kind),
            proto_json(
                "returnbridge.v1.ReceiveReturnRequestRequest",
                request.as_ref(),
            )?,
        ),
        Payload::SellerEvent(event) => (
            seller_event_type(event.as_ref()),
            proto_json("returnbridge.v1.ReturnEvent", event.as_ref())?,
        ),
    };
    let envelope = serde_json::json!({
        "type": kind,
        "timestamp": attempt.sent_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    });
    serde_json::to_vec(&envelope).map_err(|e| format!("writing the JSON body: {e}"))
}

/// `supplier_request.authorization_request`, `supplier_request.notice`, ...
pub fn event_type(kind: &str) -> String {
    format!("supplier_request.{}", kind.to_ascii_lowercase())
}

/// `return.authorized`, `return.supplier_sla_breached`, ...: the event type's name without its
/// enum prefix.
pub fn seller_event_type(event: &pb::ReturnEvent) -> String {
    let name = pb::ReturnEventType::try_from(event.event_type)
        .map(|t| t.as_str_name())
        .unwrap_or("RETURN_EVENT_TYPE_UNSPECIFIED");
    format!(
        "return.{}",
        name.trim_start_matches("RETURN_EVENT_TYPE_")
            .to_ascii_lowercase()
    )
}

fn proto_json(name: &str, message: &impl Message) -> Result<serde_json::Value, String> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    let pool = POOL
        .get_or_init(|| {
            DescriptorPool::decode(returnbridge_proto::FILE_DESCRIPTOR_SET)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| format!("the API descriptors do not decode: {e}"))?;
    let descriptor = pool
        .get_message_by_name(name)
        .ok_or_else(|| format!("no {name} in the API descriptors"))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .map_err(|e| format!("re-reading the {name}: {e}"))?;
    dynamic
        .serialize_with_options(serde_json::value::Serializer, &SerializeOptions::new())
        .map_err(|e| format!("the {name} as JSON: {e}"))
}

/// The `webhook-signature` value: the current secret's signature and, while a rotated-out secret
/// still signs (by the server's clock), its signature too, space-separated.
fn signatures(attempt: &Attempt, id: &str, timestamp: u64, body: &[u8]) -> Result<String, String> {
    let current = sign(&attempt.target.webhook_secret, id, timestamp, body)?;
    match &attempt.target.retiring_secret {
        Some((old, until)) if attempt.sent_at < *until => {
            Ok(format!("{current} {}", sign(old, id, timestamp, body)?))
        }
        _ => Ok(current),
    }
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the base64 part of a `whsec_` secret.
pub fn sign(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> Result<String, String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| "the supplier's signing secret is not whsec_ + base64".to_owned())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| format!("signing key: {e}"))?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

fn tls_config() -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())
    .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification (and of its reference libraries' tests).
    #[test]
    fn the_signature_matches_the_standard_webhooks_reference_example() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_secret_that_is_not_base64_is_an_error() {
        assert!(sign("whsec_not base64!", "id", 1, b"{}").is_err());
    }

    #[test]
    fn the_body_carries_the_type_the_timestamp_and_the_request_as_proto3_json() {
        let id = uuid::Uuid::new_v4();
        let attempt = Attempt {
            message_id: id,
            kind: "AUTHORIZATION_REQUEST".into(),
            payload: Payload::SupplierRequest(Box::new(pb::ReceiveReturnRequestRequest {
                request_id: id.to_string(),
                attempt: 2,
                seller_id: "acme".into(),
                ..Default::default()
            })),
            target: returnbridge_store::DeliveryTarget {
                connector: Connector::Webhook {
                    url: returnbridge_domain::supplier::EndpointUrl::parse("https://s.example/h")
                        .unwrap(),
                },
                webhook_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
                retiring_secret: None,
                policy: Default::default(),
            },
            sent_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        let json: serde_json::Value = serde_json::from_slice(&body(&attempt).unwrap()).unwrap();
        assert_eq!(json["type"], "supplier_request.authorization_request");
        assert_eq!(json["timestamp"], "2027-01-15T08:00:00.000Z");
        assert_eq!(json["data"]["requestId"], id.to_string());
        assert_eq!(json["data"]["attempt"], 2);
        assert_eq!(json["data"]["sellerId"], "acme");
    }
}
