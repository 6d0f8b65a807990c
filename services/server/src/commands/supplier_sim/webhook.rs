//! The simulator as a Standard Webhooks receiver: HTTP/1.1 POSTs (any path), each signature checked
//! with the supplier's secret the way a stock verifier checks it, by the gateway's own signing
//! function, before anything in the body is believed.

use super::supplier::{Reception, Supplier};
use crate::commands::protojson::from_foreign_json;
use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use returnbridge_gateway::webhook::sign;
use returnbridge_proto::v1 as pb;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

/// How far a `webhook-timestamp` may be from now: the stock libraries' five minutes, which keeps a
/// captured request from being replayed later.
const TOLERANCE_SECS: u64 = 5 * 60;
/// Largest body read; a forwarded request is a few KiB.
const MAX_BODY: usize = 1024 * 1024;

/// Refuses a secret the gateway could not have signed with, before listening.
pub fn check_secret(secret: &str) -> anyhow::Result<()> {
    sign(secret, "", 0, b"")
        .map(drop)
        .map_err(|e| anyhow::anyhow!("--webhook-secret: {e}"))
}

/// Receives webhooks on `listener` until the process stops.
pub async fn serve(
    listener: TcpListener,
    secret: String,
    supplier: Arc<Supplier>,
) -> anyhow::Result<()> {
    let receiver = Arc::new(Receiver { secret, supplier });
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: wait and carry on rather than stop receiving.
            Err(e) => {
                eprintln!("supplier-sim: accepting a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let receiver = receiver.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let receiver = receiver.clone();
                async move { Ok::<_, Infallible>(receiver.handle(request).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

struct Receiver {
    secret: String,
    supplier: Arc<Supplier>,
}

impl Receiver {
    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        match self.take(request).await {
            Ok(Reception::Taken | Reception::Repeat) => answer(StatusCode::NO_CONTENT, ""),
            Ok(Reception::Fail) => answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "supplier-sim failed this delivery on purpose (--fail-rate)",
            ),
            Ok(Reception::Hang) => std::future::pending().await,
            Err((status, why)) => {
                self.supplier.journal().refused(status.as_u16(), &why);
                answer(status, &why)
            }
        }
    }

    /// Verifies the delivery and hands its request to the supplier.
    async fn take(&self, request: Request<Incoming>) -> Result<Reception, (StatusCode, String)> {
        if request.method() != Method::POST {
            return Err((StatusCode::METHOD_NOT_ALLOWED, "webhooks are POSTed".into()));
        }
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .ok_or_else(|| (StatusCode::UNAUTHORIZED, format!("no {name} header")))
        };
        let id = header("webhook-id")?;
        let timestamp = header("webhook-timestamp")?;
        let signatures = header("webhook-signature")?;
        let body = Limited::new(request.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("reading the body: {e}")))?
            .to_bytes();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        verify(&self.secret, &id, &timestamp, &signatures, &body, now)
            .map_err(|why| (StatusCode::UNAUTHORIZED, why.to_owned()))?;
        let forwarded =
            forwarded_request(&body).map_err(|e| (StatusCode::BAD_REQUEST, format!("{e:#}")))?;
        if forwarded.request_id != id {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("data.requestId is not the webhook-id {id}"),
            ));
        }
        Ok(self.supplier.receive(forwarded))
    }
}

fn answer(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    response
}

/// Checks a delivery the way the Standard Webhooks libraries do: a fresh timestamp, and one of the
/// space-separated signatures (two during a secret rotation) equal to the one the secret makes.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: u64,
) -> Result<(), &'static str> {
    let sent: u64 = timestamp
        .parse()
        .map_err(|_| "webhook-timestamp is not Unix seconds")?;
    if sent.abs_diff(now) > TOLERANCE_SECS {
        return Err("webhook-timestamp is more than five minutes from now");
    }
    let expected = sign(secret, id, sent, body).map_err(|_| "the secret cannot sign")?;
    if signatures
        .split(' ')
        .any(|s| same(s.as_bytes(), expected.as_bytes()))
    {
        Ok(())
    } else {
        Err("the signature does not verify")
    }
}

/// Equal, in a time that does not depend on where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |d, (x, y)| d | (x ^ y)) == 0
}

/// The request in the body's `data`.
fn forwarded_request(body: &[u8]) -> anyhow::Result<pb::ReceiveReturnRequestRequest> {
    let envelope: serde_json::Value =
        serde_json::from_slice(body).context("the body is not JSON")?;
    let data = envelope
        .get("data")
        .context("the body has no \"data\" object")?;
    from_foreign_json("ReceiveReturnRequestRequest", data)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NOW: u64 = 1_800_000_000;

    fn signed(body: &[u8]) -> String {
        sign(SECRET, "msg_1", NOW, body).unwrap()
    }

    #[test]
    fn a_signature_the_secret_made_verifies() {
        let body = br#"{"data":{}}"#;
        assert_eq!(
            verify(SECRET, "msg_1", "1800000000", &signed(body), body, NOW),
            Ok(())
        );
    }

    #[test]
    fn one_matching_signature_of_several_is_enough() {
        let body = b"{}";
        let both = format!("v1,bm90IGl0 {}", signed(body));
        assert_eq!(
            verify(SECRET, "msg_1", "1800000000", &both, body, NOW),
            Ok(())
        );
    }

    #[test]
    fn another_body_id_or_secret_does_not_verify() {
        let body = b"{}";
        let signature = signed(body);
        assert!(verify(SECRET, "msg_1", "1800000000", &signature, b"{ }", NOW).is_err());
        assert!(verify(SECRET, "msg_2", "1800000000", &signature, body, NOW).is_err());
        let other = "whsec_dGhlIG90aGVyIHN1cHBsaWVyJ3Mgc2VjcmV0";
        assert!(verify(other, "msg_1", "1800000000", &signature, body, NOW).is_err());
    }

    #[test]
    fn a_timestamp_more_than_five_minutes_away_is_refused() {
        let body = b"{}";
        let signature = signed(body);
        assert!(verify(SECRET, "msg_1", "1800000000", &signature, body, NOW + 300).is_ok());
        assert!(verify(SECRET, "msg_1", "1800000000", &signature, body, NOW + 301).is_err());
        assert!(verify(SECRET, "msg_1", "1800000000", &signature, body, NOW - 301).is_err());
        assert!(verify(SECRET, "msg_1", "soon", &signature, body, NOW).is_err());
    }

    #[test]
    fn the_request_is_read_from_data_and_unknown_fields_are_skipped() {
        let body = br#"{"type":"supplier_request.notice","data":{"requestId":"r-1","attempt":2,"kind":"SUPPLIER_REQUEST_KIND_NOTICE","newerField":true}}"#;
        let request = forwarded_request(body).unwrap();
        assert_eq!(request.request_id, "r-1");
        assert_eq!(request.attempt, 2);
        assert_eq!(request.kind, pb::SupplierRequestKind::Notice as i32);
        assert!(forwarded_request(b"{}").is_err());
    }
}
