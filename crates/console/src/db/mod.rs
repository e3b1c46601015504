//! The console's persistence: its own tables (`console_*`) in the Portcullis store, on SQLite or
//! PostgreSQL, through one [`ConsoleStore`] handle. The tables come from [`MIGRATIONS`], the
//! console's migration set (versions 20,000–29,999), which [`ConsoleStore::open`] applies with
//! `Store::migrate_set`.
//!
//! The handle's methods live beside their rules: API accounts in [`crate::accounts`], access
//! tokens in [`crate::oauth`], jump items and groups in [`crate::items`]; here the host-key pins
//! ([`pins`]), group policies ([`policies`]), access sessions and their events ([`sessions`]) and
//! the connected brokers ([`brokers`]).

pub mod brokers;
pub mod pins;
pub mod policies;
pub mod sessions;

use std::sync::Arc;

use sqlx::AnyPool;
use store::{MigrationSet, Store, WriteTx};

use crate::{Clock, ConsoleError, SystemClock};

pub use brokers::{BrokerRow, NewBroker, BROKER_KEEPALIVE};
pub use policies::PolicyGrant;
pub use sessions::{EventKind, NewSession, SessionEvent, SessionRecord};

/// The console's migrations, applied by [`ConsoleStore::open`].
pub static MIGRATIONS: MigrationSet = MigrationSet {
    name: "console",
    versions: 20_000..=29_999,
    retired: &[],
    sqlite: store::embed_migrations!(
        "sqlite": (20_001, "console", "20001_console.sql"),
        (20_002, "representatives", "20002_representatives.sql"),
    ),
    postgres: store::embed_migrations!(
        "postgres": (20_001, "console", "20001_console.sql"),
        (20_002, "representatives", "20002_representatives.sql"),
    ),
};

/// The console's tables. Cheap to clone (the store's pool inside).
#[derive(Clone)]
pub struct ConsoleStore {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ConsoleStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleStore").field("store", &self.store).finish_non_exhaustive()
    }
}

impl ConsoleStore {
    /// The console's tables in `store`, migrated to this build's schema, on the system clock.
    pub async fn open(store: Store) -> Result<ConsoleStore, ConsoleError> {
        store.migrate_set(&MIGRATIONS).await?;
        Ok(ConsoleStore { store, clock: Arc::new(SystemClock) })
    }

    /// The same tables, reading the time from `clock` (tests age tokens and brokers with it).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> ConsoleStore {
        self.clock = clock;
        self
    }

    /// The store underneath.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Unix seconds now.
    pub(crate) fn now(&self) -> i64 {
        self.clock.unix_seconds()
    }

    /// The pool for the console's own tables. (The store names its door for crates that keep
    /// their own tables after the vault, its first user.)
    pub(crate) fn pool(&self) -> &AnyPool {
        self.store.pool()
    }

    /// A write transaction that behaves like the store's own (`BEGIN IMMEDIATE` on SQLite).
    pub(crate) async fn begin_write(&self) -> Result<WriteTx, ConsoleError> {
        Ok(self.store.begin_write().await?)
    }
}

/// A new random ID (UUID v4, lowercase hyphenated as the store writes UUIDs).
pub(crate) fn new_id() -> String {
    store::row::id(uuid::Uuid::new_v4())
}

/// A unique-constraint violation as `Conflict(what())`, a foreign-key one as `NotFound(missing())`;
/// anything else is a storage failure.
pub(crate) fn classify(
    e: sqlx::Error,
    what: impl FnOnce() -> String,
    missing: impl FnOnce() -> String,
) -> ConsoleError {
    if let sqlx::Error::Database(db) = &e {
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => return ConsoleError::Conflict { what: what() },
            sqlx::error::ErrorKind::ForeignKeyViolation => return ConsoleError::NotFound { what: missing() },
            _ => {}
        }
    }
    e.into()
}

/// Checks a name given by an administrator: 1 to 128 characters after trimming, no control
/// characters. Returns it trimmed.
pub(crate) fn check_name<'a>(what: &str, name: &'a str) -> Result<&'a str, ConsoleError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
        return Err(ConsoleError::InvalidInput {
            reason: format!("a {what} name must be 1 to 128 characters without control characters"),
        });
    }
    Ok(name)
}

/// Unix seconds as RFC 3339 UTC, for the APIs' and the CLI's output.
pub fn rfc3339(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| at.to_string())
}
