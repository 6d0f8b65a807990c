//! A database that cannot be used is one line that says why and what to do, at once.

use returnbridge_server::{Settings, open_migrated_store};
use returnbridge_tests::{postgres_server, skipped};
use std::time::{Duration, Instant};

async fn error_for(url: &str) -> String {
    let mut settings = Settings::default();
    settings.database.url = url.into();
    match open_migrated_store(&settings).await {
        Ok(_) => panic!("{url} opened"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn a_sqlite_folder_that_does_not_exist_is_named() {
    let folder =
        std::env::temp_dir().join(format!("returnbridge-missing-{}", uuid::Uuid::new_v4()));
    let message = error_for(&format!("sqlite:{}/r.db", folder.display())).await;
    assert!(message.contains("does not exist"), "{message}");
    assert!(message.contains(&folder.display().to_string()), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[tokio::test]
async fn a_refused_connection_says_so_at_once() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let message = error_for(&format!("postgres://postgres@127.0.0.1:{port}/x")).await;
    assert!(message.contains("connection refused"), "{message}");
    // Not the pool's 5 s acquire timeout.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_missing_database_and_an_unknown_role_each_say_what_to_do() {
    let Some(server) = postgres_server() else {
        return skipped(
            "database_errors::a_missing_database_and_an_unknown_role_each_say_what_to_do",
            "TEST_DATABASE_URL is not set (needs PostgreSQL)",
        );
    };
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path("returnbridge_no_such_database");
    let message = error_for(url.as_str()).await;
    assert!(message.contains("createdb"), "{message}");
    assert!(!message.contains("at line"), "{message}");
    assert_eq!(message.matches("does not exist").count(), 0, "{message}");

    let mut url = url::Url::parse(&server).unwrap();
    url.set_username("returnbridge_no_such_role").unwrap();
    let message = error_for(url.as_str()).await;
    assert!(message.contains("returnbridge_no_such_role"), "{message}");
    assert_eq!(message.matches("does not exist").count(), 1, "{message}");
}
