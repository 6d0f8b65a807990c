//! `supplier-sim`: a supplier on this machine, for trying Returnbridge and for testing an
//! integration. It receives forwarded requests as a Standard Webhooks receiver (`webhook.rs`) or as a
//! `SupplierInbox` gRPC server (`inbox.rs`), decides what happens to each delivery (`supplier.rs`),
//! answers through SupplierCallbackService with its supplier key (`answer.rs`), and says what it did
//! one line at a time (`journal.rs`).

mod answer;
mod inbox;
mod journal;
mod supplier;
mod webhook;

use crate::cli::ClientArgs;
use answer::Answerer;
use anyhow::Context;
use clap::{Args, ValueEnum};
use journal::Journal;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use supplier::{Fate, Supplier};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Flags of `supplier-sim`.
#[derive(Debug, Args)]
#[command(
    mut_arg("api_key", |a| a.help(
        "The supplier's callback key (`returnbridge keys create --tenant SELLER --supplier ID` makes one)"
    )),
    mut_arg("json", |a| a.help("One JSON object per log line (after the URL line)")),
)]
pub struct SupplierSimArgs {
    /// The server to answer on, with the supplier's key.
    #[command(flatten)]
    pub client: ClientArgs,
    /// Where to listen; port 0 lets the system choose. The first line printed is the URL to give the
    /// supplier (`suppliers update ID --webhook-url URL`, or --grpc-endpoint with --grpc).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Serve `SupplierInbox` over gRPC instead of receiving webhooks.
    #[arg(long)]
    pub grpc: bool,
    /// The supplier's webhook signing secret (`whsec_...`, shown once when the supplier was
    /// created); every webhook's signature is checked with it. Required unless --grpc.
    #[arg(
        long,
        env = "RETURNBRIDGE_SIM_WEBHOOK_SECRET",
        hide_env_values = true,
        required_unless_present = "grpc"
    )]
    pub webhook_secret: Option<String>,
    /// How long to wait before answering a request: 1s, 250ms, 2m.
    #[arg(long, default_value = "1s", value_parser = parse_delay)]
    pub delay: Duration,
    /// The decision on authorization requests.
    #[arg(long, value_enum, default_value_t = Verdict::Approve)]
    pub verdict: Verdict,
    /// The fraction of deliveries (0 to 1) refused with HTTP 500 (gRPC UNAVAILABLE) and not
    /// answered, so the gateway retries them.
    #[arg(long, default_value = "0", value_parser = parse_rate)]
    pub fail_rate: f64,
    /// The fraction of deliveries (0 to 1) held open and never answered, so the gateway times out.
    #[arg(long, default_value = "0", value_parser = parse_rate)]
    pub hang_rate: f64,
    /// Exit after answering one request (--count 1).
    #[arg(long, conflicts_with = "count")]
    pub once: bool,
    /// Exit after answering this many requests (default: run until Ctrl-C or SIGTERM).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
}

/// How the simulated supplier decides authorization requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Verdict {
    /// Approve: the return is authorized.
    Approve,
    /// Reject with a reason (a customer's statutory right still stands).
    Reject,
}

/// Why the simulator stops before a signal.
pub(crate) enum Finish {
    /// It answered as many requests as it was asked to.
    Counted(u64),
    /// Nothing it does can work (its key was refused).
    Fatal(anyhow::Error),
}

/// Runs the simulator until Ctrl-C, SIGTERM, --once / --count, or a refused key.
pub async fn run(args: SupplierSimArgs) -> anyhow::Result<()> {
    if args.fail_rate + args.hang_rate > 1.0 {
        anyhow::bail!("--fail-rate and --hang-rate add up to more than 1");
    }
    let secret = match (&args.webhook_secret, args.grpc) {
        (Some(secret), false) => {
            webhook::check_secret(secret)?;
            Some(secret.clone())
        }
        _ => None,
    };
    let journal = Journal::new(args.client.json);
    let answerer = Answerer::connect(&args.client, args.delay, args.verdict).await?;
    answerer.check_key().await?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr().context("the address listened on")?;
    // The first line, whatever the format: a script reads the URL from it.
    let url = url(addr, args.grpc);
    println!("{url}");
    hint(addr);
    let (finish, mut finished) = mpsc::channel(4);
    let count = if args.once { Some(1) } else { args.count };
    let supplier = Arc::new(Supplier::new(
        Fate::new(args.fail_rate, args.hang_rate),
        answerer,
        journal.clone(),
        count,
        finish,
    ));
    let serving = async {
        match secret {
            Some(secret) => webhook::serve(listener, secret, supplier).await,
            None => inbox::serve(listener, supplier).await,
        }
    };
    tokio::select! {
        served = serving => served,
        finish = finished.recv() => match finish {
            Some(Finish::Counted(n)) => {
                journal.done(n);
                Ok(())
            }
            Some(Finish::Fatal(e)) => Err(e),
            None => Ok(()),
        },
        () = crate::dispatch::shutdown_signal() => {
            journal.stopping();
            Ok(())
        }
    }
}

/// The URL to register: loopback for an address that listens everywhere.
fn url(addr: SocketAddr, grpc: bool) -> String {
    let mut shown = addr;
    if shown.ip().is_unspecified() {
        shown.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    if grpc {
        format!("http://{shown}")
    } else {
        format!("http://{shown}/webhooks")
    }
}

/// A server delivers to loopback and private addresses only when told to: say so on stderr, since
/// a simulator nobody calls looks just like one that works.
fn hint(addr: SocketAddr) {
    let private = match addr.ip() {
        std::net::IpAddr::V4(ip) => ip.is_loopback() || ip.is_private() || ip.is_unspecified(),
        std::net::IpAddr::V6(ip) => ip.is_loopback() || ip.is_unspecified(),
    };
    if private {
        eprintln!(
            "supplier-sim: the server delivers to {} only with \
             RETURNBRIDGE_GATEWAY__ALLOW_PRIVATE_DESTINATIONS=true",
            addr.ip()
        );
    }
}

/// `250ms`, `1s`, `2m` or `0`.
fn parse_delay(raw: &str) -> Result<Duration, String> {
    let bad = || format!("{raw:?} is not a delay; write a whole number and a unit: 250ms, 1s, 2m");
    let raw = raw.trim();
    if raw == "0" {
        return Ok(Duration::ZERO);
    }
    let (number, unit) = raw
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| raw.split_at(i))
        .ok_or_else(bad)?;
    let n: u64 = number.parse().map_err(|_| bad())?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// A fraction from 0 to 1.
fn parse_rate(raw: &str) -> Result<f64, String> {
    match raw.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "{raw:?} is not a fraction from 0 to 1 (0.2 is one in five)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_take_milliseconds_seconds_and_minutes() {
        assert_eq!(parse_delay("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_delay("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_delay("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_delay("0"), Ok(Duration::ZERO));
        for bad in ["", "1", "1h", "-1s", "1.5s", "ms"] {
            assert!(parse_delay(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_are_fractions_from_zero_to_one() {
        assert_eq!(parse_rate("0.2"), Ok(0.2));
        assert_eq!(parse_rate("1"), Ok(1.0));
        for bad in ["-0.1", "1.5", "NaN", "half"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_address_that_listens_everywhere_is_registered_as_loopback() {
        assert_eq!(
            url("0.0.0.0:8080".parse().unwrap(), false),
            "http://127.0.0.1:8080/webhooks"
        );
        assert_eq!(
            url("127.0.0.1:9".parse().unwrap(), true),
            "http://127.0.0.1:9"
        );
    }
}
