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
//!
//! A platform without a rotator (`generic`) is never rotated: the vault cannot change the
//! password there, so it refuses rotation settings and rotations for it (PCV009) instead of
//! storing a password the system does not have.
//!
//! One rotation of an account at a time: rotations of one account take turns in this process
//! ([`Vault::rotation_turn`]), and a due rotation runs only for the caller that claims it
//! (`rotation_due_at` moved forward by a lease in a guarded write), so the check-in that ended a
//! release and the background pass never both rotate for it, in one process or several.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sqlx::Row;
use store::row::{boolean, int, opt_bytes};
use zeroize::Zeroizing;

use crate::admin::{account_password_aad, account_pending_aad};
use crate::audit::Event;
use crate::error::{Result, VaultError};
use crate::model::{Actor, System};
use crate::Vault;

/// Back-off before retry `n` (1-based): 30 s doubling, at most an hour.
pub fn backoff_seconds(attempts: i64) -> i64 {
    let n = attempts.clamp(1, 8) as u32;
    (30i64 << (n - 1)).min(3600)
}

/// How long a claimed rotation keeps others from claiming it; a process that stops in the middle
/// leaves it to be retried after this (the rotators' own timeouts are far shorter).
const LEASE_SECONDS: i64 = 15 * 60;

/// The per-account turns of this process's rotations.
#[derive(Debug, Default)]
pub(crate) struct Turns(Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>);

/// This process's turn to rotate one account; the next waiter goes when it is dropped.
pub(crate) struct Turn<'a> {
    turns: &'a Turns,
    account_id: i64,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut map = self.turns.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Nobody else holds or waits for this account's turn (the map and this guard only).
        if map.get(&self.account_id).is_some_and(|m| Arc::strong_count(m) <= 2) {
            map.remove(&self.account_id);
        }
    }
}

impl Vault {
    /// Waits for this process's turn to rotate `account_id`.
    pub(crate) async fn rotation_turn(&self, account_id: i64) -> Turn<'_> {
        let turns = self.turns();
        let m = turns.0.lock().unwrap_or_else(PoisonError::into_inner).entry(account_id).or_default().clone();
        Turn { turns, account_id, _guard: m.lock_owned().await }
    }

    /// Whether the vault can change passwords on this system.
    pub(crate) fn rotatable(&self, system: &System) -> bool {
        self.rotators().get(&system.platform).is_some()
    }

    /// A release of the account ended (check-in, expiry) with rotation asked for: unless the
    /// account does not change its password after release, or another request of it is still
    /// active, its rotation falls due and runs at once. Returns whether a rotation was attempted.
    /// A failure is recorded and retried by the background pass; it does not fail the caller
    /// (the release is over either way).
    pub(crate) async fn release_ended(&self, account_id: i64) -> Result<bool> {
        let account = self.account(account_id).await?;
        if !account.change_after_release {
            return Ok(false);
        }
        let system = self.system(&account.system_id.to_string()).await?;
        if !self.rotatable(&system) {
            // Stored before rotation settings were refused on such platforms: say so, change nothing.
            let detail = format!(
                "not rotated: platform {} has no rotator, so the vault cannot change the password on {}; \
                 the stored password is unchanged (turn change-after-release off for this account)",
                system.platform, system.name
            );
            tracing::warn!(account = account_id, platform = %system.platform, "{detail}");
            self.audit(Event {
                actor: "vault",
                action: "account.rotate",
                account_id: Some(account_id),
                source: "vault",
                result: "PCV009",
                detail: &detail,
            })
            .await?;
            return Ok(false);
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
            return Ok(false);
        }
        sqlx::query("UPDATE vault_accounts SET rotation_due_at = $1 WHERE id = $2 AND (rotation_due_at IS NULL OR rotation_due_at > $1)")
            .bind(now)
            .bind(account_id)
            .execute(self.pool())
            .await?;
        // Rotate before answering the check-in, so that a client that checks in and asks again
        // sees the new password.
        match self.rotate_if_due(account_id).await {
            Ok(attempted) => Ok(attempted),
            Err(e) => {
                tracing::warn!(account = account_id, code = e.code(), error = %e, "rotation after release failed; will retry");
                Ok(true)
            }
        }
    }

    /// Runs the account's due rotation if this caller claims it; `false` when it is not due or
    /// another caller took it.
    async fn rotate_if_due(&self, account_id: i64) -> Result<bool> {
        let _turn = self.rotation_turn(account_id).await;
        let now = self.now();
        let claimed = sqlx::query(
            "UPDATE vault_accounts SET rotation_due_at = $1 WHERE id = $2 AND rotation_due_at IS NOT NULL \
             AND rotation_due_at <= $3",
        )
        .bind(now + LEASE_SECONDS)
        .bind(account_id)
        .bind(now)
        .execute(self.pool())
        .await?;
        if claimed.rows_affected() != 1 {
            return Ok(false);
        }
        self.rotate_in_turn(Actor::System, account_id, None).await?;
        Ok(true)
    }

    /// Rotates the account now: a generated password (or `chosen`) is set on the target and
    /// becomes current only once the rotator proved it works. An account whose platform has no
    /// rotator is refused (PCV009) and nothing is stored.
    pub async fn rotate_account(
        &self,
        by: Actor<'_>,
        account_id: i64,
        chosen: Option<Zeroizing<String>>,
    ) -> Result<()> {
        let _turn = self.rotation_turn(account_id).await;
        self.rotate_in_turn(by, account_id, chosen).await
    }

    async fn rotate_in_turn(
        &self,
        by: Actor<'_>,
        account_id: i64,
        chosen: Option<Zeroizing<String>>,
    ) -> Result<()> {
        let account = self.account(account_id).await?;
        let system = self.system(&account.system_id.to_string()).await?;
        if !self.rotatable(&system) {
            return Err(VaultError::NotRotatable(format!(
                "managed account {account_id} is on {}, a {} system: the vault cannot change passwords there, \
                 so it does not rotate it; set the password on the system yourself, then store it with \
                 `vault account set {account_id} --password-stdin`",
                system.name, system.platform
            )));
        }
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
                return self
                    .promote_pending(by, account_id, "the pending password was live on the target")
                    .await;
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
            Ok(()) => self.promote_pending(by, account_id, "rotated").await,
            Err(e) => {
                let attempts = attempts + 1;
                let why = e.to_string();
                let now = self.now();
                let mut tx = self.store().begin_write().await?;
                sqlx::query(
                    "UPDATE vault_accounts SET rotation_attempts = $1, rotation_error = $2, rotation_due_at = $3, \
                     pending_maybe_set = $4, pending_sealed = CASE WHEN $4 THEN pending_sealed ELSE NULL END WHERE id = $5",
                )
                .bind(attempts)
                .bind(&why)
                .bind(now + backoff_seconds(attempts))
                .bind(e.may_have_changed())
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
                let detail = format!("attempt {attempts} failed; the stored password is unchanged ({why})");
                let event = Event {
                    actor: by.name(),
                    action: "account.rotate",
                    account_id: Some(account_id),
                    source: by.source(),
                    result: e.code(),
                    detail: &detail,
                };
                self.record(&mut tx, now, &event).await?;
                tx.commit().await?;
                Err(VaultError::Rotation(format!(
                    "rotating managed account {account_id} failed ({why}); the stored password is unchanged and the vault retries"
                )))
            }
        }
    }

    /// Makes the pending password current, with its audit row in the same transaction.
    async fn promote_pending(&self, by: Actor<'_>, account_id: i64, detail: &str) -> Result<()> {
        let now = self.now();
        let mut tx = self.store().begin_write().await?;
        let r = sqlx::query("SELECT pending_sealed FROM vault_accounts WHERE id = $1")
            .bind(account_id)
            .fetch_one(&mut *tx)
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
        .bind(now)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        let event = Event {
            actor: by.name(),
            action: "account.rotate",
            account_id: Some(account_id),
            source: by.source(),
            result: "ok",
            detail,
        };
        self.record(&mut tx, now, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One pass of the background work: requests that expired without check-in end their
    /// releases, scheduled rotations fall due, and due rotations run (each for whoever claims
    /// it). Returns how many rotations were attempted.
    pub async fn rotation_pass(&self) -> Result<usize> {
        let mut attempted = self.expire_overdue().await?;
        let platforms = self.rotators().platforms();
        if platforms.is_empty() {
            return Ok(attempted);
        }
        // Only accounts on platforms the vault can rotate ($2, $3, … name them).
        let on_rotatable = format!(
            "system_id IN (SELECT id FROM vault_systems WHERE platform IN ({}))",
            (2..platforms.len() + 2).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
        );
        let now = self.now();
        let schedule = format!(
            "UPDATE vault_accounts SET rotation_due_at = $1 WHERE rotation_due_at IS NULL AND rotation_days IS NOT NULL \
             AND password_changed_at IS NOT NULL AND password_changed_at + rotation_days * 86400 <= $1 AND {on_rotatable}"
        );
        let mut q = sqlx::query(&schedule).bind(now);
        for p in &platforms {
            q = q.bind(*p);
        }
        q.execute(self.pool()).await?;
        let due_sql = format!(
            "SELECT id FROM vault_accounts WHERE rotation_due_at <= $1 AND {on_rotatable} ORDER BY rotation_due_at"
        );
        let mut q = sqlx::query(&due_sql).bind(now);
        for p in &platforms {
            q = q.bind(*p);
        }
        let due: Vec<i64> =
            q.fetch_all(self.pool()).await?.iter().map(|r| int(r, "id")).collect::<Result<_, _>>()?;
        for id in due {
            match self.rotate_if_due(id).await {
                Ok(true) => attempted += 1,
                Ok(false) => {}
                Err(e) => {
                    attempted += 1;
                    tracing::warn!(account = id, code = e.code(), error = %e, "rotation failed; will retry");
                }
            }
        }
        Ok(attempted)
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
