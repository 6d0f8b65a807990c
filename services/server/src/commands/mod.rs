//! What each subcommand does.

pub mod client;
pub mod keys;
pub mod returns;
pub mod suppliers;
