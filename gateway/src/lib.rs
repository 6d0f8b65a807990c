//! The supplier gateway: the dispatcher that delivers the outbox to suppliers (`dispatcher.rs`)
//! through each supplier's tower stack (`stack/`) and its connector (`webhook.rs`,
//! `grpc_connector.rs`), retried on a schedule (`retry.rs`) to public addresses only
//! (`destination.rs`); DeliveryService, where sellers read the attempts and redeliver
//! (`deliveries.rs`); and the endpoint suppliers answer on (SupplierCallbackService,
//! `callbacks.rs`), a thin adapter over `returnbridge-core` like the seller api beside it:
//! authenticate, convert, call, convert; the same five operations over HTTP/1.1 + JSON
//! (`json_callbacks/`), calling those handlers; the SLA clock (`sla_clock.rs`); and the relay that
//! puts each seller's return events in the outbox for its event webhook (`seller_events.rs`).

// A failure is an error the caller sees, never a panic in the server.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod callbacks;
pub mod connector;
pub mod deliveries;
pub mod destination;
pub mod dispatcher;
pub mod grpc_connector;
pub mod json_callbacks;
pub mod retry;
pub mod seller_events;
pub mod sla_clock;
pub mod stack;
pub mod webhook;

pub use callbacks::SupplierCallbacks;
pub use seller_events::SellerEventRelay;
pub use sla_clock::SlaClock;
