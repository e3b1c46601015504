//! Persistence for Portcullis. One API per aggregate over SQLite (the embedded
//! default) and PostgreSQL (scale-out), with migrations for both.
//!
//! There is one code path for both backends: an [`sqlx::AnyPool`] and portable SQL with `$1, $2…`
//! placeholders (SQLite reads `$N` as parameter N). Values are limited to what sqlx's Any driver
//! carries on both: TEXT (UUIDs as lowercase hyphenated text, JSON), BIGINT (unix seconds),
//! BOOLEAN (INTEGER 0/1 on SQLite), BLOB/BYTEA. The schemas differ only in those types
//! (`migrations/sqlite`, `migrations/postgres`).
#![forbid(unsafe_code)]

pub mod admin;
mod apps;
mod error;
mod groups;
mod migrations;
pub mod model;
mod outbox;
pub mod row;
pub mod seal;
mod sessions;
mod settings;
mod signins;
mod tenants;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod throttle;
mod users;

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyQueryResult};
use sqlx::{Any, AnyPool, Executor, Transaction};

pub use error::{classify, Result, StoreError};
pub use migrations::{EmbeddedMigration, MigrationSet};
pub use signins::SignInFilter;

/// The name of the SQLite file that [`Store::open_data_dir`] keeps in the data directory.
pub const DATA_DIR_DB_FILE: &str = "portcullis.db";

/// How long a SQLite writer waits for another one (the CLI and a running server share the file).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The handle to the database. Cheap to clone (a pool inside); all clones share the pool.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite: this process's writers take turns here (see [`Store::begin_write`]).
    write_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens `sqlite://PATH` (the file is created if missing unless the URL sets `mode=`),
    /// `sqlite::memory:` (a private database that lives as long as this store and its clones: for
    /// tests) or `postgres://…` / `postgresql://…`, and brings the store's schema up to date.
    pub async fn open(url: &str) -> Result<Store> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the database like [`Store::open`] without applying the store's own migrations: for
    /// an application that embeds only a toolkit owning its tables (the SP toolkit) and applies
    /// that toolkit's [`MigrationSet`] alone.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Database(
                "unsupported database URL: use sqlite://PATH or postgres://USER@HOST/DB".into(),
            ));
        };
        let pool = match backend {
            Backend::Sqlite => {
                let url = match url.split_once('?') {
                    Some((_, query)) if query.split('&').any(|p| p.starts_with("mode=")) => url.to_owned(),
                    Some(_) => format!("{url}&mode=rwc"),
                    None => format!("{url}?mode=rwc"),
                };
                // Through the Any driver every new connection re-reads the URL, and sqlx gives each
                // `:memory:` connection its own database; so an in-memory store keeps exactly one
                // connection, for its whole life.
                let in_memory = url.contains(":memory:") || url.contains("mode=memory");
                let options = if in_memory {
                    AnyPoolOptions::new()
                        .max_connections(1)
                        .min_connections(1)
                        .idle_timeout(None)
                        .max_lifetime(None)
                } else {
                    AnyPoolOptions::new()
                };
                options
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL: readers do not block the writer, so the CLI and a running
                            // server can share the file. The journal mode is persistent; the other
                            // two are per connection (sqlx sets them by default too; we do not rely
                            // on that).
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            // In WAL mode NORMAL never corrupts the database; a power cut may
                            // lose the last commits (a sign-in log line, a session), not
                            // consistency. FULL would fsync on every sign-in.
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            let busy = format!("PRAGMA busy_timeout = {}", SQLITE_BUSY_TIMEOUT.as_millis());
                            conn.execute(busy.as_str()).await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await
            }
            Backend::Postgres => AnyPoolOptions::new().connect(url).await,
        }
        .map_err(|e| {
            StoreError::Database(format!(
                "cannot open the database ({e}); check the URL, that the server is running and the \
                 credentials"
            ))
        })?;
        Ok(Store { pool, backend, write_turn: Default::default() })
    }

    /// Opens (creating if missing) the SQLite database `DIR/portcullis.db` of a data directory.
    /// The directory itself must exist.
    pub async fn open_data_dir(dir: &Path) -> Result<Store> {
        let path = dir.join(DATA_DIR_DB_FILE);
        if !dir.is_dir() {
            return Err(StoreError::Database(format!(
                "the data directory {} does not exist: create it first",
                dir.display()
            )));
        }
        Store::open(&sqlite_url(&path)).await
    }

    /// Brings the store's own schema up to date. Idempotent; [`Store::open`] runs it. Crates
    /// that own tables (the SP toolkit, the console) apply their [`MigrationSet`] with
    /// [`Store::migrate_set`].
    pub async fn migrate(&self) -> Result<()> {
        self.migrate_set(&STORE_MIGRATIONS).await
    }

    /// The backend this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection of the pool (all clones of this store stop working).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool, for the crates that keep their own tables (`sp::db`, the vault, the console) and
    /// query them with the [`row`] helpers.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool, for tests that look under the API (PRAGMAs, raw rows). Not a stable API.
    #[doc(hidden)]
    pub fn raw_pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so that a transaction that reads before it writes waits for a
    /// concurrent writer (busy timeout) instead of failing with SQLITE_BUSY when it upgrades.
    /// Before that, the writers of this process take turns on an async mutex held until commit
    /// or rollback: SQLite's busy handler sleeps between retries (milliseconds each) instead of
    /// queueing, which under load cost more than the writes (measured by the vault). Other
    /// processes still meet at SQLite's lock. PostgreSQL queues writers itself.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.write_turn.clone().lock_owned().await;
                WriteTx { tx: self.pool.begin_with("BEGIN IMMEDIATE").await?, _turn: Some(turn) }
            }
            Backend::Postgres => WriteTx { tx: self.pool.begin().await?, _turn: None },
        })
    }
}

/// A write transaction (see [`Store::begin_write`]): use it as the connection (`&mut *tx`),
/// then [`WriteTx::commit`]; dropped, it rolls back. It holds the process's write turn.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}


/// `sqlite://` URL of a file, every byte but unreserved ones and `/` percent-encoded (sqlx
/// decodes the path; its own `to_url_lossy` leaves `%` as is, so `a%20b` would open `a b`).
fn sqlite_url(path: &Path) -> String {
    let mut url = String::from("sqlite://");
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// The store's own migrations: the directory, admin, vault and shared tables (outbox, throttle).
pub static STORE_MIGRATIONS: MigrationSet = MigrationSet {
    name: "store",
    versions: 1..=9_999,
    // 3: the SP toolkit's tables, now the SP's own set (`sp::db::MIGRATIONS`, version 10,001,
    // which creates them only where they are missing, so databases of older builds keep theirs).
    retired: &[3],
    sqlite: crate::embed_migrations!(
        "sqlite": (1, "directory", "0001_directory.sql"),
        (2, "admin", "0002_admin.sql"),
        (4, "vault", "0004_vault.sql"),
        (5, "change_counter", "0005_change_counter.sql"),
        (6, "outbox", "0006_outbox.sql"),
        (7, "throttle", "0007_throttle.sql"),
    ),
    postgres: crate::embed_migrations!(
        "postgres": (1, "directory", "0001_directory.sql"),
        (2, "admin", "0002_admin.sql"),
        (4, "vault", "0004_vault.sql"),
        (5, "change_counter", "0005_change_counter.sql"),
        (6, "outbox", "0006_outbox.sql"),
        (7, "throttle", "0007_throttle.sql"),
    ),
};

/// `rows_affected() > 0`.
pub(crate) fn touched(r: &AnyQueryResult) -> bool {
    r.rows_affected() > 0
}
