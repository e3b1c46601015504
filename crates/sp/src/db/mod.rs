//! The SP toolkit's records: applications, their SAML providers, outstanding AuthnRequests, the
//! replay cache, local and SAML users, group policies, the waiting room's access requests and
//! local sessions, one module per aggregate. Only storage: the SP logic (validation,
//! provisioning, policy evaluation) is the rest of this crate. In the database, so every node
//! of a scaled-out application sees the same state.
//!
//! The tables are this crate's own migration set ([`MIGRATIONS`], versions 10,000–19,999,
//! `crates/sp/migrations`), applied by [`SpDb::open`] on any [`Store`]: one opened with
//! [`Store::open`] (the directory's tables too, as `portcullis sp-demo` does) or with
//! [`Store::connect`] by an application that embeds only the SP toolkit. Nothing here refers to
//! the store's own tables. Two features of the web site do use them: sealed SP keys (the data
//! key lives in the store's settings) and the e-mail sent when an access request is decided
//! (the store's outbox); an application that wants those opens the store with [`Store::open`].

mod access;
mod apps;
mod policies;
mod providers;
mod requests;
mod sessions;
mod users;

pub use access::{AccessRequest, RequestStatus};
pub use apps::{SpApp, GENERAL_MEMBERS, GENERAL_MEMBERS_PERMISSIONS};
pub use policies::Policy;
pub use providers::{AttributeNames, Provider, SsoBinding, WantSigned};
pub use requests::PendingRequest;
pub use sessions::SpSession;
pub use users::{LocalUser, SamlUser};

use sqlx::any::AnyQueryResult;
use store::{MigrationSet, Result, Store, StoreError};

/// The SP toolkit's migrations, for both backends. Version 10,001 holds the tables that builds
/// before this set created as the store's migration 3 (see the file's header).
pub static MIGRATIONS: MigrationSet = MigrationSet {
    name: "sp",
    versions: 10_000..=19_999,
    retired: &[],
    sqlite: store::embed_migrations!("sqlite": (10_001, "sp", "10001_sp.sql")),
    postgres: store::embed_migrations!("postgres": (10_001, "sp", "10001_sp.sql")),
};

/// The SP's tables on a store. Cheap to clone (the store's pool inside).
#[derive(Debug, Clone)]
pub struct SpDb {
    store: Store,
}

impl SpDb {
    /// Brings the SP's tables on `store` up to date ([`MIGRATIONS`]; idempotent) and returns
    /// them.
    pub async fn open(store: Store) -> Result<SpDb> {
        store.migrate_set(&MIGRATIONS).await?;
        Ok(SpDb { store })
    }

    /// The store underneath (the outbox, the sealer's data key).
    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// `rows_affected() > 0`.
fn touched(r: &AnyQueryResult) -> bool {
    r.rows_affected() > 0
}

fn corrupt(col: &str, value: &str) -> StoreError {
    StoreError::Database(format!(
        "column {col} holds {value:?}, which is not valid: the database is corrupted"
    ))
}

/// The newline-separated text of a list column.
fn join(list: &[String]) -> String {
    list.join("\n")
}

fn split(s: &str) -> Vec<String> {
    s.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// Refuses list values the newline-separated columns cannot hold.
fn check_list(what: &str, list: &[String]) -> Result<()> {
    match list.iter().find(|v| v.is_empty() || v.contains(['\n', '\r'])) {
        Some(v) => Err(StoreError::conflict(format!(
            "{what} value {v:?} is empty or contains a line break: remove it"
        ))),
        None => Ok(()),
    }
}
