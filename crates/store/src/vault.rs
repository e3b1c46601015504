//! The door the vault crate (`crates/vault`) uses for its own tables (`vault_*`, migration 0004).
//!
//! The vault keeps its SQL beside its rules (requests, rotation, the audit chain) instead of
//! growing this crate by another aggregate API that only it would call; it needs the pool and a
//! write transaction that behaves like the store's own (`BEGIN IMMEDIATE` on SQLite), nothing else.

use sqlx::AnyPool;

use crate::{Result, Store, WriteTx};

impl Store {
    /// The pool, for the vault's queries on its own `vault_*` tables.
    pub fn vault_pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A write transaction for the vault's tables, like the store's own: on SQLite it takes the
    /// write lock up front (`BEGIN IMMEDIATE`).
    pub async fn vault_begin_write(&self) -> Result<WriteTx> {
        self.begin_write().await
    }
}
