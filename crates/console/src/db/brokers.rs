//! Brokers connected to the console (`console_brokers`), for `portcullis console brokers`, the
//! status page and every console node to see who serves. The ECM server keeps the rows (through
//! its `Presence` trait): it calls [`ConsoleStore::broker_connected`] when a broker registers,
//! [`ConsoleStore::broker_seen`] at least every [`BROKER_KEEPALIVE`] while the channel is open (on
//! each keep-alive it receives, or on its own timer when a broker's interval is longer), and
//! [`ConsoleStore::broker_disconnected`] when the channel closes. Times are the ECM server's
//! (Unix seconds of the console's clock). A row whose `last_seen` is older than three intervals (its node
//! crashed or lost the database) is not listed as connected, and is removed an hour later by the
//! next registration.

use std::time::Duration;

use sqlx::any::AnyRow;
use store::row::{int, opt_text, text};

use super::ConsoleStore;
use crate::ConsoleError;

/// How often the ECM server vouches for a connected broker; three missed make it stale.
pub const BROKER_KEEPALIVE: Duration = Duration::from_secs(30);

/// Rows not seen for this long are deleted when another broker registers.
const FORGET_AFTER_SECONDS: i64 = 3600;

/// A broker that has just registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBroker {
    /// The ECM server's ID for this connection (what `Registered { broker_id }` carries).
    pub id: String,
    pub name: String,
    pub version: String,
    pub ecm_group: String,
    /// The API account whose token opened the channel.
    pub api_account_id: Option<String>,
    /// The console node holding the channel (host name or node ID).
    pub node: String,
    /// When it registered.
    pub connected_at: i64,
}

/// A broker as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerRow {
    /// The console's ID for this connection (what `Registered { broker_id }` carries).
    pub id: String,
    pub name: String,
    pub version: String,
    pub ecm_group: String,
    pub api_account_id: Option<String>,
    /// The API account's name, while it exists.
    pub api_account: Option<String>,
    pub connected_at: i64,
    pub last_seen: i64,
    pub node: String,
}

fn broker_from(r: &AnyRow) -> Result<BrokerRow, ConsoleError> {
    Ok(BrokerRow {
        id: text(r, "id")?,
        name: text(r, "name")?,
        version: text(r, "version")?,
        ecm_group: text(r, "ecm_group")?,
        api_account_id: opt_text(r, "api_account_id")?,
        api_account: opt_text(r, "account_name")?,
        connected_at: int(r, "connected_at")?,
        last_seen: int(r, "last_seen")?,
        node: text(r, "node")?,
    })
}

impl ConsoleStore {
    /// Records a broker as connected (a row under the same ID is replaced) and returns its row.
    pub async fn broker_connected(&self, new: &NewBroker) -> Result<BrokerRow, ConsoleError> {
        let id = &new.id;
        let now = new.connected_at;
        // PostgreSQL may let two registrations pick the same `seq`; the unique index refuses
        // the second, which tries again.
        let mut attempts = 0;
        loop {
            let mut tx = self.begin_write().await?;
            sqlx::query("DELETE FROM console_brokers WHERE last_seen < $1 OR id = $2")
                .bind(now - FORGET_AFTER_SECONDS)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO console_brokers (id, seq, name, version, ecm_group, api_account_id, connected_at, \
                 last_seen, node) SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $6, $7 FROM console_brokers",
            )
            .bind(id)
            .bind(&new.name)
            .bind(&new.version)
            .bind(&new.ecm_group)
            .bind(&new.api_account_id)
            .bind(now)
            .bind(&new.node)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                super::classify(e, || "two brokers registered at once".into(), || "the broker's API account".into())
            });
            match inserted {
                Err(ConsoleError::Conflict { .. }) if attempts < 3 => attempts += 1,
                Err(e) => return Err(e),
                Ok(_) => {
                    tx.commit().await?;
                    break;
                }
            }
        }
        tracing::info!(broker = %new.name, id = %id, ecm_group = %new.ecm_group, node = %new.node, "broker connected");
        self.broker(id).await
    }

    /// Records that broker connection `id` was heard from at `at`; `false` when its row is gone
    /// (removed as stale): the ECM server should then close the channel so that the broker
    /// registers again.
    pub async fn broker_seen(&self, id: &str, at: i64) -> Result<bool, ConsoleError> {
        let changed = sqlx::query("UPDATE console_brokers SET last_seen = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(self.pool())
            .await?;
        Ok(changed.rows_affected() > 0)
    }

    /// Removes broker connection `id` (its channel closed). Removing a gone row is no error.
    pub async fn broker_disconnected(&self, id: &str) -> Result<(), ConsoleError> {
        sqlx::query("DELETE FROM console_brokers WHERE id = $1").bind(id).execute(self.pool()).await?;
        tracing::info!(id, "broker disconnected");
        Ok(())
    }

    /// The connected brokers, the one connected longest first: those seen within three
    /// `keepalive` intervals (normally [`BROKER_KEEPALIVE`]).
    pub async fn connected_brokers(&self, keepalive: Duration) -> Result<Vec<BrokerRow>, ConsoleError> {
        let window = i64::try_from(keepalive.as_secs().saturating_mul(3)).unwrap_or(i64::MAX);
        let rows = sqlx::query(&format!(
            "SELECT {BROKER_COLUMNS} FROM console_brokers b LEFT JOIN console_api_accounts a ON a.id = b.api_account_id \
             WHERE b.last_seen >= $1 ORDER BY b.connected_at, b.seq"
        ))
        .bind(self.now().saturating_sub(window))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(broker_from).collect()
    }

    async fn broker(&self, id: &str) -> Result<BrokerRow, ConsoleError> {
        let row = sqlx::query(&format!(
            "SELECT {BROKER_COLUMNS} FROM console_brokers b LEFT JOIN console_api_accounts a ON a.id = b.api_account_id \
             WHERE b.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(r) => broker_from(&r),
            None => Err(ConsoleError::NotFound { what: format!("broker connection {id:?}") }),
        }
    }
}

const BROKER_COLUMNS: &str =
    "b.id, b.name, b.version, b.ecm_group, b.api_account_id, a.name AS account_name, \
     b.connected_at, b.last_seen, b.node";
