//! Where the console keeps the list of connected brokers beyond this process's memory (the
//! `console_brokers` table, so that `portcullis console brokers` can list them): the registry
//! tells a [`Presence`] when a broker registers, each time it is heard from, and when it leaves.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use serde::Serialize;

use super::EcmError;

/// The future a [`Presence`] method returns.
pub type PresenceFuture<'a> = Pin<Box<dyn Future<Output = Result<(), EcmError>> + Send + 'a>>;

/// One registered broker, as the broker list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokerInfo {
    /// The console's ID for this connection (sent to the broker in `Registered`).
    pub id: String,
    /// The name the broker registered with.
    pub name: String,
    /// The broker's version.
    pub version: String,
    /// The ECM group it serves.
    pub ecm_group: String,
    /// Its API account's ID and name.
    pub account_id: String,
    pub account_name: String,
    /// When it registered and when it was last heard from (Unix seconds, from the console's
    /// [`crate::Clock`]).
    pub connected_at: i64,
    pub last_seen: i64,
}

/// The store of the broker list.
pub trait Presence: Send + Sync + 'static {
    /// A broker registered.
    fn connected<'a>(&'a self, info: &'a BrokerInfo) -> PresenceFuture<'a>;
    /// Broker `id` was heard from at `at` (Unix seconds): a keep-alive or an answer.
    fn seen<'a>(&'a self, id: &'a str, at: i64) -> PresenceFuture<'a>;
    /// Broker `id` left (closed, dropped, refused after the fact).
    fn disconnected<'a>(&'a self, id: &'a str) -> PresenceFuture<'a>;
}

/// A [`Presence`] in memory (tests, and a console without storage).
#[derive(Debug, Default)]
pub struct MemoryPresence {
    brokers: Mutex<Vec<BrokerInfo>>,
}

impl MemoryPresence {
    /// The brokers it holds, in registration order.
    pub fn list(&self) -> Vec<BrokerInfo> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<BrokerInfo>> {
        // A panic while holding this lock cannot leave the Vec half-changed.
        self.brokers.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Presence for MemoryPresence {
    fn connected<'a>(&'a self, info: &'a BrokerInfo) -> PresenceFuture<'a> {
        let mut brokers = self.lock();
        brokers.retain(|b| b.id != info.id);
        brokers.push(info.clone());
        Box::pin(async { Ok(()) })
    }

    fn seen<'a>(&'a self, id: &'a str, at: i64) -> PresenceFuture<'a> {
        if let Some(b) = self.lock().iter_mut().find(|b| b.id == id) {
            b.last_seen = at;
        }
        Box::pin(async { Ok(()) })
    }

    fn disconnected<'a>(&'a self, id: &'a str) -> PresenceFuture<'a> {
        self.lock().retain(|b| b.id != id);
        Box::pin(async { Ok(()) })
    }
}
