//! Sign-in throttling in the database, so that every node of a scale-out deployment sees the
//! same failed attempts and locks, and a TOTP code used on one node is refused on the others.

use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::row::{id, int};
use crate::{touched, Result, Store};

/// When repeated failures lock a user name, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures allowed before the first lock.
    pub free_attempts: u32,
    /// The first lock, in seconds; each further failure doubles it…
    pub first_lock_seconds: i64,
    /// …up to this.
    pub max_lock_seconds: i64,
}

impl LockoutPolicy {
    /// The lock after `failures` failures (none before `free_attempts`).
    pub fn lock_seconds(&self, failures: u32) -> Option<i64> {
        let doublings = failures.checked_sub(self.free_attempts)?.min(20);
        Some(self.first_lock_seconds.saturating_mul(1i64 << doublings).min(self.max_lock_seconds))
    }
}

impl Store {
    /// The instant (unix seconds) until which `key` is locked, if it is locked at `now`.
    pub async fn locked_until(&self, key: &str, now: i64) -> Result<Option<i64>> {
        let row: Option<AnyRow> = sqlx::query("SELECT locked_until FROM sign_in_lockouts WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        let until: Option<i64> = match row {
            Some(r) => sqlx::Row::try_get(&r, "locked_until")?,
            None => None,
        };
        Ok(until.filter(|&u| u > now))
    }

    /// Counts a failed attempt for `key` and locks it as `policy` says; returns the lock's end
    /// when it is locked now. Atomic: concurrent failures on several nodes all count.
    pub async fn record_failed_sign_in(
        &self,
        key: &str,
        now: i64,
        policy: &LockoutPolicy,
    ) -> Result<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let row: Option<AnyRow> = sqlx::query("SELECT failures FROM sign_in_lockouts WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
        let failures = match &row {
            Some(r) => u32::try_from(int(r, "failures")?).unwrap_or(u32::MAX).saturating_add(1),
            None => 1,
        };
        let until = policy.lock_seconds(failures).map(|s| now + s);
        sqlx::query(
            "INSERT INTO sign_in_lockouts (key, failures, locked_until, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until, \
             updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(i64::from(failures))
        .bind(until)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(until)
    }

    /// Forgets the failures of `key` (after a successful sign-in).
    pub async fn clear_failed_sign_ins(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_lockouts WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    /// Forgets failures last seen before `before` whose lock (if any) has ended.
    pub async fn purge_lockouts(&self, before: i64) -> Result<u64> {
        let r = sqlx::query(
            "DELETE FROM sign_in_lockouts WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $1)",
        )
        .bind(before)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected())
    }

    /// Claims TOTP time step `step` for `user`: true only if no later or equal step was claimed
    /// before (so a code signs in once, on any node).
    pub async fn claim_totp_step(&self, user: Uuid, step: i64) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO totp_steps (user_id, step) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE \
             SET step = excluded.step WHERE totp_steps.step < excluded.step",
        )
        .bind(id(user))
        .bind(step)
        .execute(&self.pool)
        .await?;
        Ok(touched(&r))
    }
}
