//! The gRPC connector: calls the supplier's `SupplierInbox.ReceiveReturnRequest`, plaintext for an
//! `http://` endpoint and TLS (system roots) for `https://`. The connection goes to the address the
//! destination guard checked, as for webhooks.

use crate::connector::{Answer, Attempt, Payload, cut};
use crate::destination::{DestinationError, DestinationGuard};
use hyper_util::rt::TokioIo;
use returnbridge_domain::supplier::Connector;
use returnbridge_proto::v1::supplier_inbox_client::SupplierInboxClient;
use returnbridge_store::AttemptOutcome;
use std::time::Duration;
use tonic::transport::{ClientTlsConfig, Endpoint};
use url::Url;

/// Delivers attempts as `ReceiveReturnRequest` calls.
#[derive(Clone)]
pub struct GrpcConnector {
    guard: DestinationGuard,
    deadline: Duration,
}

impl GrpcConnector {
    /// A connector whose calls carry `deadline` as their `grpc-timeout`.
    pub fn new(guard: DestinationGuard, deadline: Duration) -> Self {
        Self { guard, deadline }
    }

    /// Sends one attempt and reads the answer.
    pub async fn send(&self, attempt: &Attempt) -> Answer {
        // Sellers take their events by webhook only: SupplierInbox carries supplier requests.
        let Payload::SupplierRequest(inbox_request) = &attempt.payload else {
            return Answer::failed(AttemptOutcome::ConnectError, "not a supplier request");
        };
        let endpoint = match &attempt.target.connector {
            Connector::Grpc { endpoint } => endpoint.as_str(),
            Connector::Webhook { .. } => {
                return Answer::failed(AttemptOutcome::ConnectError, "not a gRPC supplier");
            }
        };
        let Ok(url) = Url::parse(endpoint) else {
            return Answer::failed(
                AttemptOutcome::ConnectError,
                "the gRPC endpoint does not parse",
            );
        };
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs = match self.guard.resolve(&host, port).await {
            Ok(addrs) => addrs,
            Err(e @ DestinationError::Refused { .. }) => {
                return Answer::failed(AttemptOutcome::DestinationRefused, e.to_string());
            }
            Err(e) => return Answer::failed(AttemptOutcome::ConnectError, e.to_string()),
        };
        let mut channel = match Endpoint::from_shared(endpoint.to_owned()) {
            Ok(e) => e.connect_timeout(self.deadline).timeout(self.deadline),
            Err(e) => return Answer::failed(AttemptOutcome::ConnectError, e.to_string()),
        };
        if url.scheme() == "https" {
            channel = match channel.tls_config(ClientTlsConfig::new().with_native_roots()) {
                Ok(c) => c,
                Err(e) => return Answer::failed(AttemptOutcome::ConnectError, e.to_string()),
            };
        }
        // tonic layers TLS (with the URL's host as the server name) over this checked socket.
        let connect = tower::service_fn(move |_: http::Uri| {
            let addrs = addrs.clone();
            async move {
                let stream = tokio::net::TcpStream::connect(&addrs[..]).await?;
                stream.set_nodelay(true)?;
                Ok::<_, std::io::Error>(TokioIo::new(stream))
            }
        });
        let channel = match channel.connect_with_connector(connect).await {
            Ok(c) => c,
            Err(e) => {
                return Answer::failed(
                    AttemptOutcome::ConnectError,
                    format!("connecting to {host}:{port}: {e:?}"),
                );
            }
        };
        let mut request = tonic::Request::new(inbox_request.as_ref().clone());
        request.set_timeout(self.deadline);
        if let Ok(tp) = crate::connector::traceparent(attempt.message_id).parse() {
            request.metadata_mut().insert("traceparent", tp);
        }
        match SupplierInboxClient::new(channel)
            .receive_return_request(request)
            .await
        {
            Ok(response) => Answer {
                outcome: AttemptOutcome::GrpcCode(tonic::Code::Ok as i32),
                delivered: true,
                excerpt: cut(format!("{:?}", response.into_inner())),
                retry_after: None,
            },
            Err(status) => {
                let outcome = if status.code() == tonic::Code::DeadlineExceeded {
                    AttemptOutcome::Timeout
                } else {
                    AttemptOutcome::GrpcCode(status.code() as i32)
                };
                Answer::failed(
                    outcome,
                    format!("{:?}: {}", status.code(), status.message()),
                )
            }
        }
    }
}
