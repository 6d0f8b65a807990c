//! Scratch databases: an empty database per test or benchmark run on a shared PostgreSQL server,
//! dropped when the run is done, so test runs leave nothing behind.

use crate::StoreError;
use sqlx::postgres::PgConnection;
use std::sync::Once;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const PREFIX: &str = "returnbridge_scratch_";
/// Scratch databases older than this are left over from a run that was killed, and are dropped by
/// the next run that starts.
const ABANDONED_AFTER: Duration = Duration::from_secs(24 * 3600);

/// An empty database named `returnbridge_scratch_<unix seconds>_<random>`, beside the one a server
/// URL names. Dropped, with any connections still open on it, by [`ScratchDatabase::remove`] or, if
/// that was not awaited, when this value is dropped.
pub struct ScratchDatabase {
    url: String,
    server_url: String,
    name: String,
    removed: bool,
}

impl ScratchDatabase {
    /// Creates one. The first call in a process also drops scratch databases older than a day
    /// (and those named before the name carried its creation time).
    pub async fn create(server_url: &str) -> Result<Self, StoreError> {
        let mut url = url::Url::parse(server_url)
            .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?;
        let mut conn = <PgConnection as sqlx::Connection>::connect(server_url).await?;
        static SWEEP: Once = Once::new();
        let mut sweep = false;
        SWEEP.call_once(|| sweep = true);
        if sweep {
            drop_abandoned(&mut conn).await?;
        }
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let name = format!("{PREFIX}{created}_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        url.set_path(&name);
        Ok(Self {
            url: url.to_string(),
            server_url: server_url.to_owned(),
            name,
            removed: false,
        })
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops it now, closing any connection still open on it.
    pub async fn remove(mut self) -> Result<(), StoreError> {
        self.removed = true;
        drop_database(&self.server_url, &self.name).await
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        // Drop cannot await, and may run inside a runtime that must not be blocked on itself: the
        // database is dropped from a thread with a runtime of its own.
        let (server_url, name) = (self.server_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime
                .block_on(drop_database(&server_url, &name))
                .map_err(std::io::Error::other)
        })
        .join();
        if let Ok(Err(e)) = dropped {
            tracing::warn!(database = %self.name, error = %e, "scratch database not dropped");
        }
    }
}

async fn drop_database(server_url: &str, name: &str) -> Result<(), StoreError> {
    let mut conn = <PgConnection as sqlx::Connection>::connect(server_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await?;
    Ok(())
}

/// Drops the scratch databases a killed run left behind.
async fn drop_abandoned(conn: &mut PgConnection) -> Result<(), StoreError> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind(PREFIX)
            .fetch_all(&mut *conn)
            .await?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    for name in names.into_iter().filter(|n| abandoned(n, now)) {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Whether a scratch database's name says it was created more than a day before `now` (or does not
/// say when, being named by an earlier version). Only plain names are ever passed to DROP.
fn abandoned(name: &str, now: u64) -> bool {
    let Some(rest) = name.strip_prefix(PREFIX) else {
        return false;
    };
    if !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return false;
    }
    match rest.split_once('_').map(|(secs, _)| secs.parse::<u64>()) {
        Some(Ok(created)) => now.saturating_sub(created) > ABANDONED_AFTER.as_secs(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_or_undated_plain_scratch_names_are_abandoned() {
        let now = 1_800_000_000;
        let day = 24 * 3600;
        assert!(abandoned(&format!("{PREFIX}{}_ab12", now - day - 1), now));
        assert!(!abandoned(&format!("{PREFIX}{}_ab12", now - day), now));
        assert!(!abandoned(&format!("{PREFIX}{now}_ab12"), now));
        assert!(abandoned(
            &format!("{PREFIX}0123456789abcdef0123456789abcdef"),
            now
        ));
        assert!(!abandoned("returnbridge", now));
        assert!(!abandoned(&format!("{PREFIX}1_x; DROP TABLE"), now));
    }
}
