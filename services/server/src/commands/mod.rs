//! What each subcommand does.

pub mod keys;
pub mod suppliers;
