//! The store's one error type. Every variant has a stable code and a message that says what to do.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record asked for (or one it refers to) does not exist in this tenant.
    #[error("{what} was not found: check the ID and that it belongs to this tenant")]
    NotFound { what: String },
    /// The change would break a rule of the directory: a duplicate unique value (UPN, group
    /// name, app identifier, …), a membership cycle, removing the active certificate, ….
    #[error("{what}")]
    Conflict { what: String },
    /// The database failed or could not be reached. The text says what to check.
    #[error("{0}")]
    Database(String),
    /// Sealing or unsealing a secret failed, or the master/data key could not be loaded.
    #[error("{0}")]
    Sealed(String),
}

impl StoreError {
    /// The stable code of this error, for logs and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotFound { .. } => "STORE_NOT_FOUND",
            StoreError::Conflict { .. } => "STORE_CONFLICT",
            StoreError::Database(_) => "STORE_DATABASE",
            StoreError::Sealed(_) => "STORE_SEAL",
        }
    }

    /// A [`StoreError::NotFound`] for `what`.
    pub fn not_found(what: impl Into<String>) -> Self {
        StoreError::NotFound { what: what.into() }
    }

    /// A [`StoreError::Conflict`] saying `what`.
    pub fn conflict(what: impl Into<String>) -> Self {
        StoreError::Conflict { what: what.into() }
    }
}

/// Result with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let detail = match e {
            sqlx::Error::Database(db) => db.message().to_owned(),
            other => other.to_string(),
        };
        StoreError::Database(format!(
            "database error ({detail}): check that the database is reachable, writable and not \
             corrupted (for SQLite: the data directory's permissions and free space)"
        ))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(format!(
            "migrating the schema failed ({e}); a database written by a newer Portcullis cannot be \
             opened by an older one"
        ))
    }
}

/// Maps a unique violation to `Conflict(conflict())` and a foreign-key violation to
/// `NotFound(missing())`; anything else is a database error. Works for both backends: sqlx
/// classifies SQLite's extended codes and PostgreSQL's SQLSTATEs into the same kinds. Public for
/// the crates that keep their own tables.
pub fn classify(
    e: sqlx::Error,
    conflict: impl FnOnce() -> String,
    missing: impl FnOnce() -> String,
) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => return StoreError::conflict(conflict()),
            sqlx::error::ErrorKind::ForeignKeyViolation => return StoreError::not_found(missing()),
            _ => {}
        }
    }
    e.into()
}
