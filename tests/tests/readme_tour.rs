//! The README's five-minute tour, run exactly as written: its first shell block is taken from
//! README.md, `cargo run --release -q --` becomes this very executable acting as the `returnbridge`
//! CLI, and bash runs it with `-euo pipefail` against a real server on a free port. A tour that stops
//! working fails this test. The server runs the gateway role and may deliver to loopback, as the
//! README tells people to start it, so the tour's supplier round trip goes through the dispatcher to
//! `supplier-sim` and back through SupplierCallbackService; a round trip that does not complete
//! fails the test too.
//!
//! Why this binary plays the CLI: the tests crate cannot name the `returnbridge` binary
//! (`CARGO_BIN_EXE_*` is only set for a package's own binaries), and `target/debug/returnbridge`
//! may be missing or older than the code under test. This test has no libtest harness
//! (`harness = false` in Cargo.toml), so its `main` can run the CLI when asked to, from the same
//! compiled code.

use returnbridge_core::clock::SystemClock;
use returnbridge_server::config::Role;
use returnbridge_tests::{FreshStore, spawn_app_configured};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Set on the tour's commands: run as the `returnbridge` CLI instead of as the test.
const AS_CLI: &str = "RETURNBRIDGE_TOUR_AS_CLI";
const CARGO_RUN: &str = "cargo run --release -q --";

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if std::env::var_os(AS_CLI).is_some() {
        return runtime.block_on(returnbridge_server::dispatch::main());
    }
    // `cargo test -- --list` and filters reach every test binary; answer the way libtest would.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("readme_tour: test");
        return ExitCode::SUCCESS;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "readme_tour".contains(f.as_str())) {
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    runtime.block_on(tour(args.iter().any(|a| a == "--nocapture")));
    println!("readme_tour ... ok ({:.1?})", started.elapsed());
    ExitCode::SUCCESS
}

/// The first ```sh block after the tour's heading.
fn tour_block(readme: &str) -> String {
    let section = readme
        .split_once("## A five-minute tour")
        .expect("README.md has a \"## A five-minute tour\" section")
        .1;
    let block = section
        .split_once("```sh\n")
        .expect("the tour section has a ```sh block")
        .1;
    block
        .split_once("\n```")
        .expect("the tour's shell block is closed")
        .0
        .to_owned()
}

/// Runs the tour; `show` prints what it printed (`cargo test --test readme_tour -- --nocapture`).
async fn tour(show: bool) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let block = tour_block(&readme);
    assert!(
        block.matches(CARGO_RUN).count() >= 10,
        "the tour should run the CLI as `{CARGO_RUN} ...`:\n{block}"
    );
    let exe = std::env::current_exe().expect("this test's executable");
    let exe = exe.to_str().expect("a UTF-8 executable path");
    assert!(
        !exe.contains('\''),
        "the executable path holds a quote: {exe}"
    );
    let script = block.replace(CARGO_RUN, &format!("'{exe}'"));
    assert!(
        !script.contains("cargo ") && !script.contains("grpcurl"),
        "the tour must run with the CLI alone:\n{script}"
    );

    let fresh = FreshStore::create().await;
    let database_url = fresh.url.clone();
    // As the README starts it: every role, loopback deliveries allowed (RETURNBRIDGE_GATEWAY__...).
    let app = spawn_app_configured(fresh, Arc::new(SystemClock), |settings| {
        settings.server.role = Role::All;
        settings.gateway.allow_private_destinations = true;
    })
    .await;
    let workdir = std::env::temp_dir().join(format!("returnbridge-tour-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&workdir).expect("work dir");

    let bash = tokio::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(&workdir)
        .env(AS_CLI, "1")
        .env("RETURNBRIDGE_SERVER", format!("http://{}", app.addr))
        // `keys create` works on the database directly: the one the server runs on.
        .env("RETURNBRIDGE_DATABASE__URL", &database_url)
        .env("RETURNBRIDGE_LOG__FILTER", "warn")
        .env_remove("RETURNBRIDGE_API_KEY")
        .env_remove("RETURNBRIDGE_SIM_WEBHOOK_SECRET")
        .env_remove("RETURNBRIDGE_CONFIG")
        // A group of its own, so the simulator the tour starts in the background goes with it
        // whatever happens.
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("bash runs");
    let group = bash.id().expect("bash's process id");
    let output = tokio::time::timeout(Duration::from_secs(60), bash.wait_with_output()).await;
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stderr(std::process::Stdio::null())
        .status();
    let output = output
        .expect("the tour finishes within a minute")
        .expect("bash runs");
    let _ = std::fs::remove_dir_all(&workdir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if show {
        println!("--- stdout\n{stdout}\n--- stderr\n{stderr}");
    }
    assert!(
        output.status.success(),
        "the README tour failed ({}).\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    // The supplier keeps 10% of the 2 x 30.00 unit cost and owes the seller the rest.
    let total = stdout
        .lines()
        .find(|l| l.starts_with("TOTAL ("))
        .unwrap_or_else(|| panic!("no settlement totals in the tour's output:\n{stdout}"));
    assert!(
        total.starts_with("TOTAL (1 return)") && total.contains("54.00 EUR"),
        "settlement totals: {total}\n--- stdout\n{stdout}"
    );
    assert!(
        !stdout.contains("5400 EUR"),
        "money printed in minor units:\n{stdout}"
    );
    supplier_round_trip(&stdout);
    app.stop().await.expect("the server stops cleanly");
}

/// The tour's last steps: supplier-sim received the request and approved it, and the seller sees the
/// return AUTHORIZED with the supplier's events in its trail.
fn supplier_round_trip(stdout: &str) {
    // The tour reads the simulator's URL and points the supplier at it.
    assert!(
        stdout.lines().any(|l| l.starts_with("connector:")
            && l.contains("webhook http://127.0.0.1:")
            && l.ends_with("/webhooks")),
        "the supplier was not pointed at supplier-sim:\n{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("received request ") && l.contains("authorization request")),
        "supplier-sim received no authorization request:\n{stdout}"
    );
    let answered = stdout
        .lines()
        .find(|l| l.starts_with("answered request "))
        .unwrap_or_else(|| panic!("supplier-sim answered nothing:\n{stdout}"));
    assert!(
        answered.ends_with("acknowledged, approved; the return is AUTHORIZED"),
        "{answered}\n{stdout}"
    );
    // What follows the simulator's log is `returns get` and `returns events` of that return.
    let after = stdout
        .split_once(answered)
        .map(|(_, t)| t)
        .unwrap_or_default();
    let status = after
        .lines()
        .find(|l| l.starts_with("status:"))
        .unwrap_or_else(|| panic!("no `returns get` after the round trip:\n{stdout}"));
    assert!(status.contains("AUTHORIZED"), "{status}\n{stdout}");
    let trail = after.split_once(status).map(|(_, t)| t).unwrap_or_default();
    for event in [
        "SUPPLIER_REQUEST_DELIVERED",
        "SUPPLIER_ACKNOWLEDGED",
        "SUPPLIER_DECIDED",
    ] {
        assert!(
            trail.lines().any(|l| l.contains(event)),
            "no {event} in the trail:\n{stdout}"
        );
    }
}
