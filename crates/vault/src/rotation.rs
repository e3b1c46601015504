//! Rotation after release (and on demand, and on schedule) through the pluggable rotators of
//! `portcullis-rotate`.
//!
//! Order of writes: (1) the generated password is sealed and stored as the account's *pending*
//! password; (2) the rotator sets it on the target and logs in with it; (3) on success pending
//! becomes current in one statement; on failure the current password stays, the failure is
//! recorded (audit + the account's rotation status) and retried with back-off. When the
//! failure says the change may have happened, the next attempt first tries to make the pending
//! password work (setting it again proves it) before generating another, so a password that
//! may be live on the target is never thrown away.

use std::time::Duration;

use sqlx::Row;
use zeroize::Zeroizing;

use crate::admin::{account_password_aad, account_pending_aad};
use crate::audit::Event;
use crate::error::{Result, VaultError};
use crate::Vault;
use store::row::{boolean, int, opt_bytes};

/// Back-off before retry `n` (1-based): 30 s doubling, at most an hour.
pub fn backoff_seconds(attempts: i64) -> i64 {
    let n = attempts.clamp(1, 8) as u32;
    (30i64 << (n - 1)).min(3600)
}

impl Vault {
    /// Marks the account due for rotation after a release, unless it does not change its
    /// password after release or another request of it is still active; then tries at once.
    pub(crate) async fn schedule_rotation_after_release(&self, account_id: i64) -> Result<()> {
        let account = self.account(account_id).await?;
        if !account.change_after_release {
            return Ok(());
        }
        let now = self.now();
        let others: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM vault_requests WHERE account_id = $1 AND status = 'approved' AND expires_at > $2",
        )
        .bind(account_id)
        .bind(now)
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        if others > 0 {
            return Ok(());
        }
        sqlx::query("UPDATE vault_accounts SET rotation_due_at = $1 WHERE id = $2 AND (rotation_due_at IS NULL OR rotation_due_at > $1)")
            .bind(now)
            .bind(account_id)
            .execute(self.pool())
            .await?;
        // Rotate before answering the check-in, so that a client that checks in and asks again
        // sees the new password; a failure is recorded and retried by the worker, and does not
        // fail the check-in (the release is over either way).
        if let Err(e) = self.rotate_account(account_id, None).await {
            tracing::warn!(account = account_id, code = e.code(), error = %e, "rotation after release failed; will retry");
        }
        Ok(())
    }

    /// Rotates the account now: a generated password (or `chosen`) is set on the target and
    /// becomes current only once the rotator proved it works.
    pub async fn rotate_account(&self, account_id: i64, chosen: Option<Zeroizing<String>>) -> Result<()> {
        let account = self.account(account_id).await?;
        let system = self.system(&account.system_id.to_string()).await?;
        let row = sqlx::query("SELECT password_sealed, pending_sealed, pending_maybe_set, rotation_attempts FROM vault_accounts WHERE id = $1")
            .bind(account_id)
            .fetch_one(self.pool())
            .await?;
        let current = match opt_bytes(&row, "password_sealed")? {
            Some(s) => self.open_string(&account_password_aad(account_id), &s)?,
            None => Zeroizing::new(String::new()),
        };
        let attempts = int(&row, "rotation_attempts")?;
        let maybe_pending = match (opt_bytes(&row, "pending_sealed")?, boolean(&row, "pending_maybe_set")?) {
            (Some(s), true) => Some(self.open_string(&account_pending_aad(account_id), &s)?),
            _ => None,
        };
        let functional = self.functional_login(system.id).await?;
        let target = rotate::Target {
            platform: system.platform.clone(),
            host: system.host.clone(),
            port: system.port.and_then(|p| u16::try_from(p).ok()),
        };
        // A pending password that may already be live on the target: prove it before anything else.
        if let Some(pending) = maybe_pending {
            let req = rotate::RotationRequest {
                target: target.clone(),
                account: account.name.clone(),
                current_password: pending.clone(),
                new_password: pending.clone(),
                functional: functional.clone(),
            };
            if self.rotators().rotate(&req).await.is_ok() {
                return self.promote_pending(account_id, "the pending password was live on the target").await;
            }
        }
        let new = match chosen {
            Some(p) => p,
            None => rotate::generate_password(&account.password_policy)
                .map_err(|e| VaultError::Rotation(e.to_string()))?,
        };
        // (1) pending first.
        sqlx::query("UPDATE vault_accounts SET pending_sealed = $1, pending_maybe_set = $2 WHERE id = $3")
            .bind(self.seal(&account_pending_aad(account_id), new.as_bytes())?)
            .bind(false)
            .bind(account_id)
            .execute(self.pool())
            .await?;
        // (2) the target.
        let req = rotate::RotationRequest {
            target,
            account: account.name.clone(),
            current_password: current,
            new_password: new,
            functional,
        };
        match self.rotators().rotate(&req).await {
            // (3) promote.
            Ok(()) => self.promote_pending(account_id, "rotated").await,
            Err(e) => {
                let attempts = attempts + 1;
                let why = e.to_string();
                sqlx::query(
                    "UPDATE vault_accounts SET rotation_attempts = $1, rotation_error = $2, rotation_due_at = $3, \
                     pending_maybe_set = $4, pending_sealed = CASE WHEN $4 THEN pending_sealed ELSE NULL END WHERE id = $5",
                )
                .bind(attempts)
                .bind(&why)
                .bind(self.now() + backoff_seconds(attempts))
                .bind(e.may_have_changed())
                .bind(account_id)
                .execute(self.pool())
                .await?;
                self.audit(Event {
                    actor: "vault",
                    action: "account.rotate",
                    account_id: Some(account_id),
                    source: "vault",
                    result: e.code(),
                    detail: &format!("attempt {attempts} failed; the stored password is unchanged ({why})"),
                })
                .await?;
                Err(VaultError::Rotation(format!(
                    "rotating managed account {account_id} failed ({why}); the stored password is unchanged and the vault retries"
                )))
            }
        }
    }

    async fn promote_pending(&self, account_id: i64, detail: &str) -> Result<()> {
        let r = sqlx::query("SELECT pending_sealed FROM vault_accounts WHERE id = $1")
            .bind(account_id)
            .fetch_one(self.pool())
            .await?;
        let Some(sealed) = opt_bytes(&r, "pending_sealed")? else {
            return Ok(());
        };
        let pending = self.open_string(&account_pending_aad(account_id), &sealed)?;
        let resealed = self.seal(&account_password_aad(account_id), pending.as_bytes())?;
        sqlx::query(
            "UPDATE vault_accounts SET password_sealed = $1, pending_sealed = NULL, pending_maybe_set = $2, \
             password_changed_at = $3, rotation_due_at = NULL, rotation_attempts = 0, rotation_error = NULL WHERE id = $4",
        )
        .bind(resealed)
        .bind(false)
        .bind(self.now())
        .bind(account_id)
        .execute(self.pool())
        .await?;
        self.audit(Event {
            actor: "vault",
            action: "account.rotate",
            account_id: Some(account_id),
            source: "vault",
            result: "ok",
            detail,
        })
        .await
    }

    /// One pass of the background work: requests that expired without check-in schedule their
    /// rotation, scheduled rotations fall due, and due rotations run. Returns how many
    /// rotations were attempted.
    pub async fn rotation_pass(&self) -> Result<usize> {
        let now = self.now();
        let expired = sqlx::query(
            "SELECT id, account_id, rotate_on_checkin FROM vault_requests WHERE status = 'approved' AND expires_at <= $1",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        for r in &expired {
            let id = int(r, "id")?;
            sqlx::query("UPDATE vault_requests SET status = 'expired', closed_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(self.pool())
                .await?;
            if boolean(r, "rotate_on_checkin")? {
                let account_id = int(r, "account_id")?;
                sqlx::query(
                    "UPDATE vault_accounts SET rotation_due_at = $1 WHERE id = $2 AND change_after_release = $3 \
                     AND rotation_due_at IS NULL",
                )
                .bind(now)
                .bind(account_id)
                .bind(true)
                .execute(self.pool())
                .await?;
            }
        }
        sqlx::query(
            "UPDATE vault_accounts SET rotation_due_at = $1 WHERE rotation_due_at IS NULL AND rotation_days IS NOT NULL \
             AND password_changed_at IS NOT NULL AND password_changed_at + rotation_days * 86400 <= $1",
        )
        .bind(now)
        .execute(self.pool())
        .await?;
        let due: Vec<i64> =
            sqlx::query("SELECT id FROM vault_accounts WHERE rotation_due_at <= $1 ORDER BY rotation_due_at")
                .bind(now)
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| int(r, "id"))
                .collect::<Result<_, _>>()?;
        for id in &due {
            if let Err(e) = self.rotate_account(*id, None).await {
                tracing::warn!(account = id, code = e.code(), error = %e, "rotation failed; will retry");
            }
        }
        Ok(due.len())
    }

    /// Runs [`Vault::rotation_pass`] every `every` until the task is dropped.
    pub async fn run_rotation_worker(self, every: Duration) {
        loop {
            if let Err(e) = self.rotation_pass().await {
                tracing::warn!(code = e.code(), error = %e, "rotation pass failed");
            }
            tokio::time::sleep(every).await;
        }
    }
}
