//! The readiness probe's own connection: a pool busy with calls must never read as a database that
//! is down, so readiness checks do not queue for a pooled connection.

use crate::StoreError;
use sqlx::{ConnectOptions, Connection};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::Mutex;

/// One connection outside the pool, opened on first use and again after any failure.
pub(crate) struct ProbeConnection<C: Connection> {
    options: C::Options,
    connection: Mutex<Option<C>>,
}

/// A query run on the probe connection.
pub(crate) type ProbeQuery<'c, T> =
    Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'c>>;

impl<C: Connection> ProbeConnection<C> {
    pub(crate) fn new(options: C::Options) -> Self {
        Self {
            options,
            connection: Mutex::new(None),
        }
    }

    /// Runs `query` on the probe connection. Any failure, including the caller giving up half way
    /// (a timeout drops this future), leaves no connection behind, so the next probe starts clean.
    /// A failure to connect at all is [`StoreError::Unavailable`], whatever its cause.
    pub(crate) async fn run<T>(
        &self,
        query: impl for<'c> FnOnce(&'c mut C) -> ProbeQuery<'c, T>,
    ) -> Result<T, StoreError> {
        let mut slot = self.connection.lock().await;
        let mut connection = match slot.take() {
            Some(connection) => connection,
            None => self
                .options
                .connect()
                .await
                .map_err(StoreError::Unavailable)?,
        };
        let answer = query(&mut connection).await?;
        *slot = Some(connection);
        Ok(answer)
    }
}

/// Ready when every migration this build embeds is applied.
pub(crate) fn schema_current(applied: Option<i64>, latest: i64) -> Result<(), StoreError> {
    let applied = applied.unwrap_or(0);
    if applied < latest {
        return Err(StoreError::Config(format!(
            "database schema at version {applied} but this build needs {latest}: run `returnbridge migrate`"
        )));
    }
    Ok(())
}
