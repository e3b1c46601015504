//! Managed accounts: their settings, password policy and rotation settings, and their sealed
//! current password.

use sqlx::any::AnyRow;
use sqlx::Row;
use store::row::{boolean, fold, int, opt_bytes, opt_int, opt_text, text};
use zeroize::Zeroizing;

use super::{account_password_aad, check_name, id_of, DEFAULT_MAX_RELEASE_MINUTES};
use crate::error::{invalid, not_found, unique, Result, VaultError};
use crate::model::{check_policy, parse_policy, policy_classes, Account, PasswordPolicy, System};
use crate::Vault;

/// A new managed account.
#[derive(Debug, Default)]
pub struct NewAccount {
    pub system: String,
    pub name: String,
    pub password: Option<Zeroizing<String>>,
    pub domain: Option<String>,
    pub description: Option<String>,
    pub api_enabled: bool,
    pub change_after_release: bool,
    pub max_release_minutes: Option<i64>,
    pub policy: Option<PasswordPolicy>,
    pub rotation_days: Option<i64>,
}

/// Changes to an account; `None` keeps the current value.
#[derive(Debug, Default, Clone)]
pub struct AccountChanges {
    pub api_enabled: Option<bool>,
    pub change_after_release: Option<bool>,
    pub max_release_minutes: Option<i64>,
    pub description: Option<String>,
    pub domain: Option<String>,
    pub policy: Option<PasswordPolicy>,
    pub rotation_days: Option<Option<i64>>,
}

pub(crate) const ACCOUNT_COLS: &str =
    "a.id, a.system_id, s.name AS system_name, a.name, a.domain, a.description, \
    a.api_enabled, a.change_after_release, a.max_release_minutes, a.policy_length, a.policy_classes, \
    a.rotation_days, a.password_sealed IS NOT NULL AS has_pw, a.pending_sealed IS NOT NULL AS has_pending, \
    a.password_changed_at, a.rotation_due_at, a.rotation_attempts, a.rotation_error, a.created_at";

pub(crate) fn account_row(r: &AnyRow) -> Result<Account> {
    Ok(Account {
        id: int(r, "id")?,
        system_id: int(r, "system_id")?,
        system_name: text(r, "system_name")?,
        name: text(r, "name")?,
        domain: opt_text(r, "domain")?,
        description: opt_text(r, "description")?,
        api_enabled: boolean(r, "api_enabled")?,
        change_after_release: boolean(r, "change_after_release")?,
        max_release_minutes: int(r, "max_release_minutes")?,
        password_policy: parse_policy(int(r, "policy_length")?, &text(r, "policy_classes")?)
            .unwrap_or_default(),
        rotation_days: opt_int(r, "rotation_days")?,
        has_password: boolean(r, "has_pw")?,
        rotation_pending: boolean(r, "has_pending")?,
        password_changed_at: opt_int(r, "password_changed_at")?,
        rotation_due_at: opt_int(r, "rotation_due_at")?,
        rotation_attempts: int(r, "rotation_attempts")?,
        rotation_error: opt_text(r, "rotation_error")?,
        created_at: int(r, "created_at")?,
    })
}

impl Vault {
    pub async fn create_account(&self, new: NewAccount) -> Result<Account> {
        check_name("account", &new.name)?;
        let system = self.system(&new.system).await?;
        if new.change_after_release || new.rotation_days.is_some() {
            self.check_rotatable(&system)?;
        }
        let policy = new.policy.unwrap_or_default();
        check_policy(&policy)?;
        let max = new.max_release_minutes.unwrap_or(DEFAULT_MAX_RELEASE_MINUTES);
        if !(1..=525_600).contains(&max) {
            return Err(invalid("the maximum release duration must be 1 to 525600 minutes"));
        }
        let mut tx = self.store().begin_write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO vault_accounts (system_id, name, name_key, domain, description, api_enabled, \
             change_after_release, max_release_minutes, policy_length, policy_classes, rotation_days, \
             pending_maybe_set, rotation_attempts, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13) RETURNING id",
        )
        .bind(system.id)
        .bind(new.name.trim())
        .bind(fold(new.name.trim()))
        .bind(new.domain)
        .bind(new.description)
        .bind(new.api_enabled)
        .bind(new.change_after_release)
        .bind(max)
        .bind(i64::from(policy.length))
        .bind(policy_classes(&policy))
        .bind(new.rotation_days)
        .bind(false)
        .bind(self.now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| unique(e, || format!("system {:?} already has an account {:?}", system.name, new.name)))?
        .try_get("id")?;
        if let Some(pw) = &new.password {
            let sealed = self.seal(&account_password_aad(id), pw.as_bytes())?;
            sqlx::query(
                "UPDATE vault_accounts SET password_sealed = $1, password_changed_at = $2 WHERE id = $3",
            )
            .bind(sealed)
            .bind(self.now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.account(id).await
    }

    /// Refuses rotation settings on a system whose platform has no rotator: the vault would store
    /// passwords it cannot set there, and hand out one the system does not have (PCV009).
    fn check_rotatable(&self, system: &System) -> Result<()> {
        if self.rotatable(system) {
            return Ok(());
        }
        Err(VaultError::NotRotatable(format!(
            "managed system {:?} is a {} system: the vault cannot change passwords there, so it refuses \
             change-after-release and rotation days for its accounts; rotate on a postgresql or linux-ssh \
             system, or keep the password current yourself (`vault account set … --password-stdin`)",
            system.name, system.platform
        )))
    }

    pub async fn account(&self, id: i64) -> Result<Account> {
        let r = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLS} FROM vault_accounts a JOIN vault_systems s ON s.id = a.system_id WHERE a.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| not_found(format!("no managed account with ID {id}: see `vault account list`")))?;
        account_row(&r)
    }

    /// An account by system (name or ID) and account name, or by account ID alone.
    pub async fn find_account(&self, system: Option<&str>, name_or_id: &str) -> Result<Account> {
        match system {
            None => {
                let id = id_of(name_or_id).ok_or_else(|| {
                    invalid(format!(
                        "{name_or_id:?} is not an account ID: pass --system with an account name"
                    ))
                })?;
                self.account(id).await
            }
            Some(sys) => {
                let s = self.system(sys).await?;
                let r = sqlx::query(&format!(
                    "SELECT {ACCOUNT_COLS} FROM vault_accounts a JOIN vault_systems s ON s.id = a.system_id \
                     WHERE a.system_id = $1 AND (a.name_key = $2 OR CAST(a.id AS TEXT) = $3)"
                ))
                .bind(s.id)
                .bind(fold(name_or_id.trim()))
                .bind(name_or_id.trim())
                .fetch_optional(self.pool())
                .await?
                .ok_or_else(|| not_found(format!("system {:?} has no account {name_or_id:?}", s.name)))?;
                account_row(&r)
            }
        }
    }

    pub async fn list_accounts(&self, system_id: Option<i64>) -> Result<Vec<Account>> {
        let rows = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLS} FROM vault_accounts a JOIN vault_systems s ON s.id = a.system_id \
             WHERE ($1 IS NULL OR a.system_id = $1) ORDER BY a.id"
        ))
        .bind(system_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(account_row).collect()
    }

    pub async fn update_account(&self, id: i64, c: AccountChanges) -> Result<Account> {
        let a = self.account(id).await?;
        if c.change_after_release == Some(true) || matches!(c.rotation_days, Some(Some(_))) {
            self.check_rotatable(&self.system(&a.system_id.to_string()).await?)?;
        }
        let policy = c.policy.unwrap_or(a.password_policy);
        check_policy(&policy)?;
        let max = c.max_release_minutes.unwrap_or(a.max_release_minutes);
        if !(1..=525_600).contains(&max) {
            return Err(invalid("the maximum release duration must be 1 to 525600 minutes"));
        }
        sqlx::query(
            "UPDATE vault_accounts SET api_enabled = $1, change_after_release = $2, max_release_minutes = $3, \
             description = $4, domain = $5, policy_length = $6, policy_classes = $7, rotation_days = $8 WHERE id = $9",
        )
        .bind(c.api_enabled.unwrap_or(a.api_enabled))
        .bind(c.change_after_release.unwrap_or(a.change_after_release))
        .bind(max)
        .bind(c.description.or(a.description))
        .bind(c.domain.or(a.domain))
        .bind(i64::from(policy.length))
        .bind(policy_classes(&policy))
        .bind(c.rotation_days.unwrap_or(a.rotation_days))
        .bind(id)
        .execute(self.pool())
        .await?;
        self.account(id).await
    }

    pub async fn delete_account(&self, id: i64) -> Result<()> {
        self.account(id).await?;
        sqlx::query("DELETE FROM vault_accounts WHERE id = $1").bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// Stores `password` as the account's current password (sealed), without touching the target.
    pub async fn set_account_password(&self, id: i64, password: &str) -> Result<()> {
        self.account(id).await?;
        let sealed = self.seal(&account_password_aad(id), password.as_bytes())?;
        sqlx::query(
            "UPDATE vault_accounts SET password_sealed = $1, password_changed_at = $2, pending_sealed = NULL, \
             pending_maybe_set = $3 WHERE id = $4",
        )
        .bind(sealed)
        .bind(self.now())
        .bind(false)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The account's current password (opened from its sealed form).
    pub(crate) async fn account_password(&self, id: i64) -> Result<Zeroizing<String>> {
        let r = sqlx::query("SELECT password_sealed FROM vault_accounts WHERE id = $1")
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        let sealed = opt_bytes(&r, "password_sealed")?.ok_or_else(|| {
            not_found(format!("managed account {id} has no password stored yet: set one first"))
        })?;
        self.open_string(&account_password_aad(id), &sealed)
    }
}
