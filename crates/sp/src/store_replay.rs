//! The replay cache in the store: assertion IDs are remembered in the database
//! until they expire, so a replay fails on every node and after a restart.

use crate::error::{Error, Result};
use crate::replay::ReplayCache;
use std::future::Future;
use store::Store;
use time::OffsetDateTime;

/// [`ReplayCache`] over `store::Store::sp_remember_assertion` (one atomic upsert).
#[derive(Debug, Clone)]
pub struct StoreReplayCache {
    store: Store,
}

impl StoreReplayCache {
    pub fn new(store: Store) -> Self {
        StoreReplayCache { store }
    }
}

impl ReplayCache for StoreReplayCache {
    fn check_and_remember(
        &self,
        id: &str,
        expires: OffsetDateTime,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<()>> + Send {
        let store = self.store.clone();
        let id = id.to_string();
        async move {
            // Rounded up, so an ID is never forgotten before its assertion expires.
            let until = expires.unix_timestamp() + i64::from(expires.nanosecond() > 0);
            match store.sp_remember_assertion(&id, until, now.unix_timestamp()).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(Error::Replay(id)),
                Err(e) => Err(Error::ReplayCache(format!("{} ({})", e, e.code()))),
            }
        }
    }
}
