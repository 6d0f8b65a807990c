//! Client commands find the server through the config file's `[client]` section when neither
//! `--server` nor `RETURNBRIDGE_SERVER` names one.

mod common;
use common::binary;

#[test]
fn a_client_command_calls_the_server_the_config_file_names() {
    let dir = std::env::temp_dir().join(format!("returnbridge-client-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("returnbridge.db").display());
    let key = common::create_key(&url, "acme");
    let (mut server, addr) = common::serve(&["--database-url", &url], &[]);

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
