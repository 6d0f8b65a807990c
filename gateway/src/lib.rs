//! The supplier gateway: the endpoint suppliers answer on (SupplierCallbackService); the outbox
//! dispatcher, supplier connectors and the SLA clock land here with their issues. A thin adapter
//! over `returnbridge-core`, like the seller api beside it: authenticate, convert, call, convert.

// A failure is an error the caller sees, never a panic in the server.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod callbacks;
pub mod sla_clock;

pub use callbacks::SupplierCallbacks;
pub use sla_clock::SlaClock;
