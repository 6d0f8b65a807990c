//! Returnbridge's rules, free of I/O: every rule lives here once, and everything outside converts to
//! and from these types at its edge.

pub mod auth;
pub mod error;
pub mod ids;
pub mod supplier;

pub use error::{DomainError, FieldViolation, Violations};
