//! Returnbridge's rules, free of I/O: every rule lives here once, and everything outside converts to
//! and from these types at its edge.

// A failure is an error the caller sees, never a panic in the server.
#![deny(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod named;

pub mod auth;
pub mod contract;
pub mod contract_input;
pub mod currency;
pub mod decision;
pub mod eligibility;
pub mod error;
pub mod ids;
pub mod liability;
pub mod lifecycle;
pub mod money;
pub mod order;
pub mod order_input;
pub mod period;
pub mod returns;
pub mod statute;
pub mod supplier;

pub use currency::Currency;
pub use decision::{Basis, Decision, FaultClass, Outcome, ReasonCode};
pub use eligibility::decide;
pub use error::{DomainError, ErrorReason, FieldViolation, Resource, Violations};
pub use money::{BasisPoints, Money, MoneyError, allocate, apply_bps};
pub use statute::{Jurisdiction, StatutoryProfile};
