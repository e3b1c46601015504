//! Host-key pins in the database: [`HostKeyPins`] over `console_host_key_pins`, one row per jump
//! item. Check-and-pin is one `INSERT … ON CONFLICT DO NOTHING` followed, when a pin was already
//! there, by reading it: of two first connections at once, the database lets one insert, and the
//! other compares with what that one pinned.

use sqlx::Row;

use super::ConsoleStore;
use crate::ssh::{HostKey, HostKeyPins, PinCheck, PinFuture};
use crate::ConsoleError;

impl ConsoleStore {
    /// The key pinned for `jump_item` (its ID), if any.
    pub async fn pinned(&self, jump_item: &str) -> Result<Option<HostKey>, ConsoleError> {
        let row =
            sqlx::query("SELECT algorithm, fingerprint FROM console_host_key_pins WHERE jump_item_id = $1")
                .bind(jump_item)
                .fetch_optional(self.pool())
                .await?;
        row.map(|r| {
            Ok(HostKey { algorithm: r.try_get("algorithm")?, fingerprint: r.try_get("fingerprint")? })
        })
        .transpose()
        .map_err(|e: sqlx::Error| e.into())
    }

    async fn check_pin(&self, jump_item: &str, offered: &HostKey) -> Result<PinCheck, ConsoleError> {
        // A pin removed between the insert and the read (the jump item's address changed) makes
        // the second round pin the offered key.
        for _ in 0..2 {
            let inserted = sqlx::query(
                "INSERT INTO console_host_key_pins (jump_item_id, algorithm, fingerprint, pinned_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (jump_item_id) DO NOTHING",
            )
            .bind(jump_item)
            .bind(&offered.algorithm)
            .bind(&offered.fingerprint)
            .bind(self.now())
            .execute(self.pool())
            .await
            .map_err(|e| super::classify(e, String::new, || format!("jump item {jump_item:?}")))?;
            if inserted.rows_affected() > 0 {
                return Ok(PinCheck::PinnedNow);
            }
            match self.pinned(jump_item).await? {
                Some(pinned) if &pinned == offered => return Ok(PinCheck::Matches),
                Some(pinned) => return Ok(PinCheck::Changed { pinned }),
                None => continue,
            }
        }
        Err(ConsoleError::HostKeyStore {
            detail: format!("the pin of jump item {jump_item:?} keeps changing"),
        })
    }
}

impl HostKeyPins for ConsoleStore {
    fn check<'a>(&'a self, jump_item: &'a str, offered: &'a HostKey) -> PinFuture<'a> {
        Box::pin(async move {
            self.check_pin(jump_item, offered).await.map_err(|e| match e {
                e @ ConsoleError::HostKeyStore { .. } => e,
                other => ConsoleError::HostKeyStore { detail: other.to_string() },
            })
        })
    }
}
