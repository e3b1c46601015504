//! One-time use: an assertion ID is remembered until the assertion expires, and
//! a second use inside that window is a replay. The trait is async so that a
//! store-backed cache (shared by every node, surviving restarts) fits behind it.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use time::OffsetDateTime;

/// Check-and-remember of assertion IDs.
pub trait ReplayCache: Send + Sync {
    /// Records `id` as used until `expires`; fails with `SP_REPLAY` when it is
    /// already recorded and not yet expired. Must be atomic: of two concurrent
    /// calls with one ID, exactly one succeeds.
    fn check_and_remember(
        &self,
        id: &str,
        expires: OffsetDateTime,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// A replay cache in this process's memory (one node; forgotten on restart).
#[derive(Debug, Default)]
pub struct InMemoryReplayCache {
    seen: Mutex<HashMap<String, OffsetDateTime>>,
}

impl InMemoryReplayCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many IDs are remembered (expired ones are dropped on each insert).
    pub fn len(&self) -> usize {
        self.seen.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn check_now(&self, id: &str, expires: OffsetDateTime, now: OffsetDateTime) -> Result<()> {
        let mut seen = self.seen.lock().map_err(|_| Error::ReplayCache("lock poisoned".into()))?;
        seen.retain(|_, until| *until > now);
        if seen.contains_key(id) {
            return Err(Error::Replay(id.to_string()));
        }
        seen.insert(id.to_string(), expires);
        Ok(())
    }
}

impl ReplayCache for InMemoryReplayCache {
    fn check_and_remember(
        &self,
        id: &str,
        expires: OffsetDateTime,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<()>> + Send {
        std::future::ready(self.check_now(id, expires, now))
    }
}
