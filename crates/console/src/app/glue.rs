//! The broker channel's two traits over the console's tables: [`StoreAuth`] checks a broker's
//! bearer token against the API accounts ([`crate::ecm::BrokerAuth`]), [`StorePresence`] keeps
//! `console_brokers` ([`crate::ecm::Presence`]).

use std::collections::HashMap;
use std::sync::Mutex;

use store::row::int;

use crate::db::NewBroker;
use crate::ecm::{AuthFuture, BrokerAuth, BrokerInfo, EcmError, EcmPrincipal, Presence, PresenceFuture};
use crate::{ConsoleError, ConsoleStore};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while holding these locks; the maps stay whole.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Broker tokens checked against the console's API accounts.
pub struct StoreAuth {
    db: ConsoleStore,
    /// When each bearer (by its SHA-256) that opened a channel was issued: the keep-alive
    /// recheck compares it with the account's `secret_changed_at` even after the token's row
    /// has expired and been purged.
    issued: Mutex<HashMap<String, i64>>,
}

impl StoreAuth {
    pub fn new(db: ConsoleStore) -> StoreAuth {
        StoreAuth { db, issued: Mutex::new(HashMap::new()) }
    }

    /// When the token `hash` was issued, from its row (`None` once it is gone).
    async fn issued_at(&self, hash: &str) -> Result<Option<i64>, ConsoleError> {
        let row = sqlx::query("SELECT issued_at FROM console_access_tokens WHERE token_hash = $1")
            .bind(hash)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(match row {
            Some(r) => Some(int(&r, "issued_at")?),
            None => None,
        })
    }
}

fn unavailable(e: ConsoleError) -> EcmError {
    EcmError::AuthUnavailable { detail: e.to_string() }
}

fn principal(a: &crate::accounts::ApiAccount) -> EcmPrincipal {
    EcmPrincipal {
        account_id: a.id.clone(),
        name: a.name.clone(),
        ecm_api: a.permissions.ecm_api,
        ecm_group: a.permissions.ecm_group.clone(),
    }
}

impl BrokerAuth for StoreAuth {
    fn authorize<'a>(&'a self, bearer: &'a str) -> AuthFuture<'a, EcmPrincipal> {
        Box::pin(async move {
            let account = match self.db.token_account(bearer).await {
                Ok(a) => a,
                Err(ConsoleError::Unauthenticated { reason }) => {
                    return Err(EcmError::Unauthenticated { reason: reason.into() })
                }
                Err(e) => return Err(unavailable(e)),
            };
            let hash = web::token::sha256_hex(bearer.trim().as_bytes());
            if let Some(at) = self.issued_at(&hash).await.map_err(unavailable)? {
                lock(&self.issued).insert(hash, at);
            }
            Ok(principal(&account))
        })
    }

    fn recheck<'a>(&'a self, was: &'a EcmPrincipal, bearer: &'a str) -> AuthFuture<'a, Option<EcmPrincipal>> {
        Box::pin(async move {
            let account = match self.db.api_account(&was.account_id).await {
                Ok(a) => a,
                Err(ConsoleError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(unavailable(e)),
            };
            let hash = web::token::sha256_hex(bearer.trim().as_bytes());
            let known = lock(&self.issued).get(&hash).copied();
            let issued = match known {
                Some(at) => Some(at),
                None => self.issued_at(&hash).await.map_err(unavailable)?,
            };
            let now = principal(&account);
            let still = account.enabled
                && now.ecm_api
                && now.group() == was.group()
                && issued.is_some_and(|at| account.secret_changed_at <= at);
            if !still {
                lock(&self.issued).remove(&hash);
            }
            Ok(still.then_some(now))
        })
    }
}

/// The broker list in `console_brokers`, for the console node `node` (its host name).
pub struct StorePresence {
    db: ConsoleStore,
    node: String,
    /// The brokers this node holds, to write a row again that another node removed as stale.
    held: Mutex<HashMap<String, BrokerInfo>>,
}

impl StorePresence {
    pub fn new(db: ConsoleStore, node: String) -> StorePresence {
        StorePresence { db, node, held: Mutex::new(HashMap::new()) }
    }

    /// Removes the rows this node left behind (a crash or a restart: none of its channels
    /// survived it). Called once at start-up.
    pub async fn clear_stale(&self) -> Result<u64, ConsoleError> {
        let gone = sqlx::query("DELETE FROM console_brokers WHERE node = $1")
            .bind(&self.node)
            .execute(self.db.pool())
            .await?
            .rows_affected();
        if gone > 0 {
            tracing::info!(node = %self.node, brokers = gone, "stale broker rows of this console node removed");
        }
        Ok(gone)
    }

    async fn write(&self, info: &BrokerInfo) -> Result<(), EcmError> {
        let new = NewBroker {
            id: info.id.clone(),
            name: info.name.clone(),
            version: info.version.clone(),
            ecm_group: info.ecm_group.clone(),
            api_account_id: Some(info.account_id.clone()),
            node: self.node.clone(),
            connected_at: info.connected_at,
        };
        self.db.broker_connected(&new).await.map_err(store_failed)?;
        Ok(())
    }
}

fn store_failed(e: ConsoleError) -> EcmError {
    EcmError::PresenceStore { detail: e.to_string() }
}

impl Presence for StorePresence {
    fn connected<'a>(&'a self, info: &'a BrokerInfo) -> PresenceFuture<'a> {
        lock(&self.held).insert(info.id.clone(), info.clone());
        Box::pin(self.write(info))
    }

    fn seen<'a>(&'a self, id: &'a str, at: i64) -> PresenceFuture<'a> {
        Box::pin(async move {
            if self.db.broker_seen(id, at).await.map_err(store_failed)? {
                return Ok(());
            }
            // Another node removed the row as stale (this node was cut off from the database
            // for a while): write it again.
            let held = lock(&self.held).get(id).cloned();
            if let Some(info) = held {
                self.write(&info).await?;
                self.db.broker_seen(id, at).await.map_err(store_failed)?;
            }
            Ok(())
        })
    }

    fn disconnected<'a>(&'a self, id: &'a str) -> PresenceFuture<'a> {
        lock(&self.held).remove(id);
        Box::pin(async move { self.db.broker_disconnected(id).await.map_err(store_failed) })
    }
}

/// This machine's host name, the node name of its broker rows.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "console".to_owned())
}
