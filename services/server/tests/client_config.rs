//! Client commands find the server through the config file's `[client]` section when neither
//! `--server` nor `RETURNBRIDGE_SERVER` names one.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_returnbridge"));
    command
        .env_remove("RETURNBRIDGE_SERVER")
        .env_remove("RETURNBRIDGE_API_KEY");
    command
}

#[test]
fn a_client_command_calls_the_server_the_config_file_names() {
    let dir = std::env::temp_dir().join(format!("returnbridge-client-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("returnbridge.db").display());
    let created = binary()
        .args(["keys", "create", "--tenant", "acme", "--database-url", &url])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();

    let mut server = binary()
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &url])
        .env("RETURNBRIDGE_LOG__FORMAT", "json")
        .env("RETURNBRIDGE_TELEMETRY__METRICS_LISTEN", "")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("exited before listening").unwrap();
        if line.contains("returnbridge listening") {
            let start = line.find("\"addr\":\"").unwrap() + 8;
            break line[start..start + line[start..].find('"').unwrap()].to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));

    let config = dir.join("client.toml");
    std::fs::write(&config, format!("[client]\nserver = \"http://{addr}\"\n")).unwrap();
    let listed = binary()
        .args(["--config", config.to_str().unwrap()])
        .args(["suppliers", "list", "--api-key", &key])
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
}
