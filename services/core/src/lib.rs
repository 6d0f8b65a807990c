//! Returnbridge's application layer: what the api and the gateway share, with no transport. The
//! return use cases (`returns`), the clock, API key authentication and scopes, the background jobs
//! with their shutdown, and the Prometheus metrics. The tonic services in `returnbridge-api` and `returnbridge-gateway` are
//! adapters over it.

// A failure is an error the caller sees, never a panic in the server.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod auth;
pub mod clock;
pub mod jobs;
pub mod metrics;
pub mod returns;
