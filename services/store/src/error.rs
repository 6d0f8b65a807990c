use returnbridge_domain::DomainError;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data says no: not found, invalid reference, version conflict, idempotency key reuse.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The database cannot be reached or has no free connection: worth a retry later.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Migrations could not be applied or verified.
    #[error("database migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The store was set up wrongly (bad URL).
    #[error("{0}")]
    Config(String),
    /// Anything else: a bug or corrupt data. Logged in full, never shown to callers.
    #[error("database error")]
    Internal(#[source] sqlx::Error),
    /// A stored value does not parse back into the domain.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e),
            _ => StoreError::Internal(e),
        }
    }
}
