//! What the real-binary tests share: the binary, a key, and a server on a port the kernel chose.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The `returnbridge` binary, with no client defaults from the environment the tests run in.
pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_returnbridge"));
    command
        .env_remove("RETURNBRIDGE_SERVER")
        .env_remove("RETURNBRIDGE_API_KEY");
    command
}

/// `keys create --tenant <tenant>` on the database at `url`: the new key.
pub fn create_key(url: &str, tenant: &str) -> String {
    let created = binary()
        .args(["keys", "create", "--tenant", tenant, "--database-url", url])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    String::from_utf8(created.stdout).unwrap().trim().to_owned()
}

/// `serve --listen 127.0.0.1:0` with `args` and `env`, JSON logs and the metrics and JSON callback
/// endpoints on free ports: the process, and the `host:port` it listens on, read from its log.
pub fn serve(args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut child = binary()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env("RETURNBRIDGE_LOG__FORMAT", "json")
        .env("RETURNBRIDGE_TELEMETRY__METRICS_LISTEN", "127.0.0.1:0")
        .env("RETURNBRIDGE_GATEWAY__CALLBACK_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The JSON log line announcing the listener carries the port the kernel chose.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if line.contains("returnbridge listening") {
            let start = line.find("\"addr\":\"").unwrap() + 8;
            break line[start..start + line[start..].find('"').unwrap()].to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}
