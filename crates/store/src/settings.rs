//! A small global key/value table (for example the wrapped data key). Values are stored as given:
//! seal anything secret before putting it here.

use sqlx::any::AnyRow;

use crate::row::{bytes, int};
use crate::{touched, Result, Store};

impl Store {
    pub async fn get_setting(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<AnyRow> = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| bytes(r, "value")).transpose()
    }

    /// Sets a value, replacing any previous one.
    pub async fn put_setting(&self, key: &str, value: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sets a value only if the key has none; returns whether it did. Two processes racing to
    /// initialise a setting both end up reading the one that won.
    pub async fn put_setting_if_absent(&self, key: &str, value: &[u8]) -> Result<bool> {
        let r = sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(touched(&r))
    }
}

impl Store {
    /// The directory's change counter (see migration 0005): it moves on every committed write
    /// to a table the SSO path reads, whichever process or node made it. Caches keyed on it
    /// are never stale by more than the read that fetched it.
    pub async fn generation(&self) -> Result<i64> {
        let row: AnyRow =
            sqlx::query("SELECT generation FROM change_counter WHERE id = 1").fetch_one(&self.pool).await?;
        int(&row, "generation")
    }
}
