//! The replay cache in the database: assertion IDs are remembered in the database
//! until they expire, so a replay fails on every node and after a restart.

use crate::db::SpDb;
use crate::error::{Error, Result};
use crate::replay::ReplayCache;
use std::future::Future;
use time::OffsetDateTime;

/// [`ReplayCache`] over [`SpDb::remember_assertion`] (one atomic upsert).
#[derive(Debug, Clone)]
pub struct StoreReplayCache {
    db: SpDb,
}

impl StoreReplayCache {
    pub fn new(db: SpDb) -> Self {
        StoreReplayCache { db }
    }
}

impl ReplayCache for StoreReplayCache {
    fn check_and_remember(
        &self,
        id: &str,
        expires: OffsetDateTime,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<()>> + Send {
        let db = self.db.clone();
        let id = id.to_string();
        async move {
            // Rounded up, so an ID is never forgotten before its assertion expires.
            let until = expires.unix_timestamp() + i64::from(expires.nanosecond() > 0);
            match db.remember_assertion(&id, until, now.unix_timestamp()).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(Error::Replay(id)),
                Err(e) => Err(Error::ReplayCache(format!("{} ({})", e, e.code()))),
            }
        }
    }
}
