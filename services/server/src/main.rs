//! `returnbridge`: a thin shim; [`returnbridge_server::dispatch`] parses the command line and runs it.

// A failure is an error the caller sees, never a panic in the server.
#![deny(clippy::unwrap_used, clippy::expect_used)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    returnbridge_server::dispatch::main().await
}
