//! What each subcommand does.

pub mod client;
pub mod contracts;
pub mod deliveries;
pub mod keys;
pub mod liability;
pub mod lifecycle;
pub mod output;
pub mod protojson;
pub mod returns;
pub mod supplier_sim;
pub mod suppliers;
