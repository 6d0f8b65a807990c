//! Database errors said once, in one line, with the fix: what a person starting the service needs
//! when the database is missing, refuses, or cannot be found.

use crate::{StoreError, redact_url};
use sqlx::migrate::MigrateError;
use std::io::ErrorKind;

impl StoreError {
    /// One line for a person: what is wrong with the database at `url` and how to fix it.
    pub fn explain(&self, url: &str) -> String {
        let shown = redact_url(url);
        let cause = match self {
            StoreError::Unavailable(e) | StoreError::Internal(e) => e,
            StoreError::Migration(MigrateError::Execute(e)) => e,
            other => return format!("{shown}: {other}"),
        };
        explain_sqlx(cause, url).unwrap_or_else(|| format!("{shown}: {}", plain(cause)))
    }
}

/// The cause alone: a database's own message without its source line, an I/O error's text.
fn plain(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

fn explain_sqlx(e: &sqlx::Error, url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if parsed.scheme() == "sqlite" {
        return explain_sqlite(e, url);
    }
    let host = parsed.host_str().unwrap_or("localhost").to_owned();
    let port = parsed.port().unwrap_or(5432);
    let user = match parsed.username() {
        "" => "postgres",
        user => user,
    };
    let database = parsed.path().trim_start_matches('/');
    match e {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // invalid_catalog_name
            Some("3D000") => Some(format!(
                "PostgreSQL at {host}:{port} has no database \"{database}\": create it with \
                 `createdb -h {host} -p {port} -U {user} {database}`, or name an existing one in the URL"
            )),
            // invalid_authorization_specification, invalid_password
            Some("28000") | Some("28P01") => Some(format!(
                "PostgreSQL at {host}:{port} refused user \"{user}\": {}; check the user and \
                 password in the URL",
                db.message()
            )),
            _ => None,
        },
        sqlx::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => Some(format!(
            "connection refused at {host}:{port}: is PostgreSQL running and listening there?"
        )),
        sqlx::Error::Io(io) if io.to_string().contains("lookup address") => Some(format!(
            "cannot resolve the host \"{host}\": check the host name in the URL"
        )),
        sqlx::Error::PoolTimedOut => Some(format!(
            "no answer from PostgreSQL at {host}:{port} in time: is it reachable from here?"
        )),
        _ => None,
    }
}

fn explain_sqlite(e: &sqlx::Error, url: &str) -> Option<String> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    // SQLITE_CANTOPEN
    if db.code().as_deref() != Some("14") {
        return None;
    }
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    let folder = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty());
    Some(match folder {
        Some(folder) if !folder.exists() => format!(
            "cannot create the SQLite database {path}: the folder {} does not exist",
            folder.display()
        ),
        _ => {
            format!("cannot open the SQLite database {path}: check that it is a file you may write")
        }
    })
}
