//! Administration of the vault's records: managed systems and accounts, users, groups with roles
//! per scope, access policies, API registrations, OAuth clients, and "Connect to Secure Remote
//! Access". The CLI and the API's admin endpoints both call these.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use zeroize::Zeroizing;

use store::row::{boolean, fold, int, opt_bytes, opt_int, opt_text, text};
use crate::error::{conflict, invalid, not_found, unique, Result};
use crate::ip::IpRule;
use crate::model::*;
use crate::{crypto, Vault};

/// A new managed system.
#[derive(Debug, Clone, Default)]
pub struct NewSystem {
    pub name: String,
    pub host: String,
    pub platform: String,
    pub port: Option<u16>,
    pub workgroup: Option<String>,
}

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

/// A new access policy.
#[derive(Debug, Clone)]
pub struct NewPolicy {
    pub name: String,
    pub auto_approve: bool,
    pub approvals_required: i64,
    pub all_day: bool,
    pub window_start: i64,
    pub window_end: i64,
    pub max_minutes: i64,
}

/// A new API registration.
#[derive(Debug, Clone)]
pub struct NewRegistration {
    pub name: String,
    pub ip_rules: Vec<IpRule>,
    pub token_minutes: i64,
    pub user_password_required: bool,
}

/// "Connect to Secure Remote Access": the console's address and API account, and the release
/// duration the broker asks for.
pub struct SraSettings {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    pub client_secret: Zeroizing<String>,
    pub release_minutes: i64,
}

/// The broker's configuration, as `connect-sra` writes it (sealed in the vault's settings).
#[derive(Serialize, Deserialize)]
pub struct BrokerConfig {
    pub console_host: String,
    pub console_port: u16,
    pub console_client_id: String,
    pub console_client_secret: String,
    pub registration_id: i64,
    pub api_key: String,
    pub release_minutes: i64,
    pub requesters_group: String,
}

impl std::fmt::Debug for BrokerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerConfig")
            .field("console_host", &self.console_host)
            .field("console_port", &self.console_port)
            .field("console_client_id", &self.console_client_id)
            .field("registration_id", &self.registration_id)
            .field("release_minutes", &self.release_minutes)
            .finish_non_exhaustive()
    }
}

pub const SRA_POLICY: &str = "Secure Remote Access Approval Policy";
pub const SRA_REGISTRATION: &str = "Secure Remote Access Integration";
pub const SRA_GROUP: &str = "Secure Remote Access Requesters";
const BROKER_SETTING: &str = "broker_config";

/// The longest release any account allows by default (7 days), as Password Safe's default.
pub const DEFAULT_MAX_RELEASE_MINUTES: i64 = 10_080;

pub(crate) fn account_password_aad(id: i64) -> String {
    format!("vault/account/{id}/password")
}
pub(crate) fn account_pending_aad(id: i64) -> String {
    format!("vault/account/{id}/pending")
}
pub(crate) fn functional_aad(system_id: i64) -> String {
    format!("vault/system/{system_id}/functional_password")
}

fn check_name(what: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() || name.len() > 256 || name.chars().any(char::is_control) {
        return Err(invalid(format!("the {what} name must be 1 to 256 printable characters")));
    }
    Ok(())
}

const SYSTEM_COLS: &str = "id, name, host, platform, port, workgroup, functional_user, \
    functional_password_sealed IS NOT NULL AS has_fp, created_at";

fn system_row(r: &AnyRow) -> Result<System> {
    Ok(System {
        id: int(r, "id")?,
        name: text(r, "name")?,
        host: text(r, "host")?,
        platform: text(r, "platform")?,
        port: opt_int(r, "port")?,
        workgroup: opt_text(r, "workgroup")?,
        functional_user: opt_text(r, "functional_user")?,
        has_functional_password: boolean(r, "has_fp")?,
        created_at: int(r, "created_at")?,
    })
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

fn policy_row(r: &AnyRow) -> Result<Policy> {
    Ok(Policy {
        id: int(r, "id")?,
        name: text(r, "name")?,
        auto_approve: boolean(r, "auto_approve")?,
        approvals_required: int(r, "approvals_required")?,
        all_day: boolean(r, "all_day")?,
        window_start: int(r, "window_start")?,
        window_end: int(r, "window_end")?,
        max_minutes: int(r, "max_minutes")?,
    })
}

fn registration_row(r: &AnyRow) -> Result<Registration> {
    let rules = text(r, "ip_rules")?;
    Ok(Registration {
        id: int(r, "id")?,
        name: text(r, "name")?,
        ip_rules: serde_json::from_str(&rules).unwrap_or_default(),
        token_minutes: int(r, "token_minutes")?,
        user_password_required: boolean(r, "user_password_required")?,
        active: boolean(r, "active")?,
        created_at: int(r, "created_at")?,
    })
}

/// `NAME_OR_ID`: a number is tried as an ID first.
fn id_of(name_or_id: &str) -> Option<i64> {
    name_or_id.trim().parse().ok()
}

impl Vault {
    // ------------------------------------------------------------------ systems

    pub async fn create_system(&self, new: NewSystem) -> Result<System> {
        check_name("system", &new.name)?;
        if new.host.trim().is_empty() {
            return Err(invalid("the host name or IP address is empty: pass --host"));
        }
        if !PLATFORMS.contains(&new.platform.as_str()) {
            return Err(invalid(format!(
                "platform {:?} is not one of {}",
                new.platform,
                PLATFORMS.join(", ")
            )));
        }
        let row = sqlx::query(&format!(
            "INSERT INTO vault_systems (name, name_key, host, platform, port, workgroup, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {SYSTEM_COLS}"
        ))
        .bind(new.name.trim())
        .bind(fold(new.name.trim()))
        .bind(new.host.trim())
        .bind(&new.platform)
        .bind(new.port.map(i64::from))
        .bind(new.workgroup)
        .bind(self.now())
        .fetch_one(self.pool())
        .await
        .map_err(|e| unique(e, || format!("a managed system named {:?} already exists", new.name)))?;
        system_row(&row)
    }

    pub async fn list_systems(&self) -> Result<Vec<System>> {
        let rows = sqlx::query(&format!("SELECT {SYSTEM_COLS} FROM vault_systems ORDER BY id"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(system_row).collect()
    }

    /// A system by ID or (case-insensitive) name.
    pub async fn system(&self, name_or_id: &str) -> Result<System> {
        if let Some(id) = id_of(name_or_id) {
            if let Some(r) = sqlx::query(&format!("SELECT {SYSTEM_COLS} FROM vault_systems WHERE id = $1"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?
            {
                return system_row(&r);
            }
        }
        let r = sqlx::query(&format!("SELECT {SYSTEM_COLS} FROM vault_systems WHERE name_key = $1"))
            .bind(fold(name_or_id.trim()))
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| not_found(format!("no managed system {name_or_id:?}: see `vault system list`")))?;
        system_row(&r)
    }

    pub async fn update_system(
        &self,
        id: i64,
        host: Option<String>,
        port: Option<u16>,
        workgroup: Option<String>,
    ) -> Result<System> {
        let s = self.system(&id.to_string()).await?;
        sqlx::query("UPDATE vault_systems SET host = $1, port = $2, workgroup = $3 WHERE id = $4")
            .bind(host.unwrap_or(s.host))
            .bind(port.map(i64::from).or(s.port))
            .bind(workgroup.or(s.workgroup))
            .bind(id)
            .execute(self.pool())
            .await?;
        self.system(&id.to_string()).await
    }

    /// Sets the functional (admin) account the rotators use on this system; the password is sealed.
    pub async fn set_functional_account(&self, id: i64, user: &str, password: &str) -> Result<()> {
        let sealed = self.seal(&functional_aad(id), password.as_bytes())?;
        sqlx::query(
            "UPDATE vault_systems SET functional_user = $1, functional_password_sealed = $2 WHERE id = $3",
        )
        .bind(user)
        .bind(sealed)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub(crate) async fn functional_login(&self, system_id: i64) -> Result<Option<rotate::Login>> {
        let r = sqlx::query(
            "SELECT functional_user, functional_password_sealed FROM vault_systems WHERE id = $1",
        )
        .bind(system_id)
        .fetch_one(self.pool())
        .await?;
        match (opt_text(&r, "functional_user")?, opt_bytes(&r, "functional_password_sealed")?) {
            (Some(user), Some(sealed)) => {
                let password = self.open_string(&functional_aad(system_id), &sealed)?;
                Ok(Some(rotate::Login { user, password }))
            }
            _ => Ok(None),
        }
    }

    pub async fn delete_system(&self, name_or_id: &str) -> Result<()> {
        let s = self.system(name_or_id).await?;
        sqlx::query("DELETE FROM vault_systems WHERE id = $1").bind(s.id).execute(self.pool()).await?;
        Ok(())
    }

    // ------------------------------------------------------------------ accounts

    pub async fn create_account(&self, new: NewAccount) -> Result<Account> {
        check_name("account", &new.name)?;
        let system = self.system(&new.system).await?;
        let policy = new.policy.unwrap_or_default();
        check_policy(&policy)?;
        let max = new.max_release_minutes.unwrap_or(DEFAULT_MAX_RELEASE_MINUTES);
        if !(1..=525_600).contains(&max) {
            return Err(invalid("the maximum release duration must be 1 to 525600 minutes"));
        }
        let mut tx = self.store().vault_begin_write().await?;
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

    // ------------------------------------------------------------------ users

    pub async fn create_user(&self, name: &str, password: Option<&str>, email: Option<&str>) -> Result<User> {
        check_name("user", name)?;
        let hash = password.map(web::password::hash).transpose()?;
        let r = sqlx::query(
            "INSERT INTO vault_users (name, name_key, email, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, name, email, password_hash IS NOT NULL AS has_pw, created_at",
        )
        .bind(name.trim())
        .bind(fold(name.trim()))
        .bind(email)
        .bind(hash)
        .bind(self.now())
        .fetch_one(self.pool())
        .await
        .map_err(|e| unique(e, || format!("a vault user named {name:?} already exists")))?;
        user_row(&r)
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(
            "SELECT id, name, email, password_hash IS NOT NULL AS has_pw, created_at FROM vault_users ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(user_row).collect()
    }

    pub async fn user(&self, name_or_id: &str) -> Result<User> {
        let r = sqlx::query(
            "SELECT id, name, email, password_hash IS NOT NULL AS has_pw, created_at FROM vault_users \
             WHERE name_key = $1 OR CAST(id AS TEXT) = $2 ORDER BY name_key = $1 DESC LIMIT 1",
        )
        .bind(fold(name_or_id.trim()))
        .bind(name_or_id.trim())
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| not_found(format!("no vault user {name_or_id:?}: see `vault user list`")))?;
        user_row(&r)
    }

    pub(crate) async fn user_password_hash(&self, id: i64) -> Result<Option<String>> {
        let r = sqlx::query("SELECT password_hash FROM vault_users WHERE id = $1")
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        Ok(opt_text(&r, "password_hash")?)
    }

    pub async fn set_user(&self, name: &str, password: Option<&str>, email: Option<&str>) -> Result<User> {
        let u = self.user(name).await?;
        if let Some(pw) = password {
            sqlx::query("UPDATE vault_users SET password_hash = $1 WHERE id = $2")
                .bind(web::password::hash(pw)?)
                .bind(u.id)
                .execute(self.pool())
                .await?;
        }
        if let Some(e) = email {
            sqlx::query("UPDATE vault_users SET email = $1 WHERE id = $2")
                .bind(e)
                .bind(u.id)
                .execute(self.pool())
                .await?;
        }
        self.user(&u.id.to_string()).await
    }

    pub async fn delete_user(&self, name: &str) -> Result<()> {
        let u = self.user(name).await?;
        sqlx::query("DELETE FROM vault_users WHERE id = $1").bind(u.id).execute(self.pool()).await?;
        Ok(())
    }

    // ------------------------------------------------------------------ policies

    pub async fn create_policy(&self, p: NewPolicy) -> Result<Policy> {
        check_name("policy", &p.name)?;
        if !(1..=525_600).contains(&p.max_minutes) {
            return Err(invalid("the policy's maximum duration must be 1 to 525600 minutes"));
        }
        if !p.auto_approve && p.approvals_required < 1 {
            return Err(invalid("a policy that does not auto-approve needs at least 1 approval"));
        }
        for m in [p.window_start, p.window_end] {
            if !(0..=1440).contains(&m) {
                return Err(invalid("window times are minutes after midnight UTC, 0 to 1440"));
            }
        }
        let r = sqlx::query(
            "INSERT INTO vault_policies (name, name_key, auto_approve, approvals_required, all_day, window_start, \
             window_end, max_minutes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
        )
        .bind(p.name.trim())
        .bind(fold(p.name.trim()))
        .bind(p.auto_approve)
        .bind(p.approvals_required.max(0))
        .bind(p.all_day)
        .bind(p.window_start)
        .bind(p.window_end)
        .bind(p.max_minutes)
        .bind(self.now())
        .fetch_one(self.pool())
        .await
        .map_err(|e| unique(e, || format!("an access policy named {:?} already exists", p.name)))?;
        policy_row(&r)
    }

    pub async fn list_policies(&self) -> Result<Vec<Policy>> {
        let rows = sqlx::query("SELECT * FROM vault_policies ORDER BY id").fetch_all(self.pool()).await?;
        rows.iter().map(policy_row).collect()
    }

    pub async fn policy(&self, name_or_id: &str) -> Result<Policy> {
        let r = sqlx::query(
            "SELECT * FROM vault_policies WHERE name_key = $1 OR CAST(id AS TEXT) = $2 ORDER BY name_key = $1 DESC LIMIT 1",
        )
        .bind(fold(name_or_id.trim()))
        .bind(name_or_id.trim())
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| not_found(format!("no access policy {name_or_id:?}: see `vault policy list`")))?;
        policy_row(&r)
    }

    pub async fn set_policy(
        &self,
        name: &str,
        auto_approve: Option<bool>,
        approvals_required: Option<i64>,
        max_minutes: Option<i64>,
    ) -> Result<Policy> {
        let p = self.policy(name).await?;
        let max = max_minutes.unwrap_or(p.max_minutes);
        if !(1..=525_600).contains(&max) {
            return Err(invalid("the policy's maximum duration must be 1 to 525600 minutes"));
        }
        sqlx::query(
            "UPDATE vault_policies SET auto_approve = $1, approvals_required = $2, max_minutes = $3 WHERE id = $4",
        )
        .bind(auto_approve.unwrap_or(p.auto_approve))
        .bind(approvals_required.unwrap_or(p.approvals_required).max(0))
        .bind(max)
        .bind(p.id)
        .execute(self.pool())
        .await?;
        self.policy(&p.id.to_string()).await
    }

    pub async fn delete_policy(&self, name: &str) -> Result<()> {
        let p = self.policy(name).await?;
        sqlx::query("DELETE FROM vault_policies WHERE id = $1").bind(p.id).execute(self.pool()).await?;
        Ok(())
    }

    // ------------------------------------------------------------------ registrations

    /// Creates a registration; returns it with its 128-character key (shown once: only its keyed
    /// hash is stored).
    pub async fn create_registration(&self, r: NewRegistration) -> Result<(Registration, Zeroizing<String>)> {
        check_name("registration", &r.name)?;
        if !(1..=525_600).contains(&r.token_minutes) {
            return Err(invalid("the access token duration must be 1 to 525600 minutes"));
        }
        let key = crypto::api_key()?;
        let rules = serde_json::to_string(&r.ip_rules).map_err(|e| invalid(e.to_string()))?;
        let row = sqlx::query(
            "INSERT INTO vault_registrations (name, name_key, key_hash, ip_rules, token_minutes, \
             user_password_required, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        )
        .bind(r.name.trim())
        .bind(fold(r.name.trim()))
        .bind(self.hasher().hash("apikey", &key))
        .bind(rules)
        .bind(r.token_minutes)
        .bind(r.user_password_required)
        .bind(true)
        .bind(self.now())
        .fetch_one(self.pool())
        .await
        .map_err(|e| unique(e, || format!("an API registration named {:?} already exists", r.name)))?;
        Ok((registration_row(&row)?, key))
    }

    pub async fn list_registrations(&self) -> Result<Vec<Registration>> {
        let rows =
            sqlx::query("SELECT * FROM vault_registrations ORDER BY id").fetch_all(self.pool()).await?;
        rows.iter().map(registration_row).collect()
    }

    pub async fn registration(&self, name_or_id: &str) -> Result<Registration> {
        let r = sqlx::query(
            "SELECT * FROM vault_registrations WHERE name_key = $1 OR CAST(id AS TEXT) = $2 \
             ORDER BY name_key = $1 DESC LIMIT 1",
        )
        .bind(fold(name_or_id.trim()))
        .bind(name_or_id.trim())
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| {
            not_found(format!("no API registration {name_or_id:?}: see `vault registration list`"))
        })?;
        registration_row(&r)
    }

    /// The registration whose key this is (keyed hash lookup; the index compares hashes, and
    /// the match is re-checked in constant time).
    pub(crate) async fn registration_by_key(&self, key: &str) -> Result<Option<Registration>> {
        let h = self.hasher().hash("apikey", key);
        let r = sqlx::query("SELECT * FROM vault_registrations WHERE key_hash = $1")
            .bind(&h)
            .fetch_optional(self.pool())
            .await?;
        match r {
            Some(r) if web::token::constant_time_eq(text(&r, "key_hash")?.as_bytes(), h.as_bytes()) => {
                Ok(Some(registration_row(&r)?))
            }
            _ => Ok(None),
        }
    }

    pub async fn set_registration(
        &self,
        name: &str,
        active: Option<bool>,
        ip_rules: Option<Vec<IpRule>>,
        token_minutes: Option<i64>,
        user_password_required: Option<bool>,
    ) -> Result<Registration> {
        let r = self.registration(name).await?;
        let rules =
            serde_json::to_string(&ip_rules.unwrap_or(r.ip_rules)).map_err(|e| invalid(e.to_string()))?;
        sqlx::query(
            "UPDATE vault_registrations SET active = $1, ip_rules = $2, token_minutes = $3, \
             user_password_required = $4 WHERE id = $5",
        )
        .bind(active.unwrap_or(r.active))
        .bind(rules)
        .bind(token_minutes.unwrap_or(r.token_minutes))
        .bind(user_password_required.unwrap_or(r.user_password_required))
        .bind(r.id)
        .execute(self.pool())
        .await?;
        self.registration(&r.id.to_string()).await
    }

    /// Replaces the registration's key; returns the new one (shown once).
    pub async fn rotate_registration_key(&self, name_or_id: &str) -> Result<Zeroizing<String>> {
        let r = self.registration(name_or_id).await?;
        let key = crypto::api_key()?;
        sqlx::query("UPDATE vault_registrations SET key_hash = $1 WHERE id = $2")
            .bind(self.hasher().hash("apikey", &key))
            .bind(r.id)
            .execute(self.pool())
            .await?;
        Ok(key)
    }

    pub async fn delete_registration(&self, name: &str) -> Result<()> {
        let r = self.registration(name).await?;
        sqlx::query("DELETE FROM vault_registrations WHERE id = $1").bind(r.id).execute(self.pool()).await?;
        Ok(())
    }

    // ------------------------------------------------------------------ groups

    pub async fn create_group(&self, name: &str) -> Result<Group> {
        check_name("group", name)?;
        let id: i64 = sqlx::query(
            "INSERT INTO vault_groups (name, name_key, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name.trim())
        .bind(fold(name.trim()))
        .bind(self.now())
        .fetch_one(self.pool())
        .await
        .map_err(|e| unique(e, || format!("a vault group named {name:?} already exists")))?
        .try_get("id")?;
        self.group(&id.to_string()).await
    }

    pub async fn group(&self, name_or_id: &str) -> Result<Group> {
        let r = sqlx::query(
            "SELECT id, name, policy_id, registration_id FROM vault_groups WHERE name_key = $1 OR CAST(id AS TEXT) = $2 \
             ORDER BY name_key = $1 DESC LIMIT 1",
        )
        .bind(fold(name_or_id.trim()))
        .bind(name_or_id.trim())
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| not_found(format!("no vault group {name_or_id:?}: see `vault group list`")))?;
        let id = int(&r, "id")?;
        let members = sqlx::query(
            "SELECT u.name FROM vault_group_members m JOIN vault_users u ON u.id = m.user_id WHERE m.group_id = $1 ORDER BY u.name_key",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| text(r, "name"))
        .collect::<Result<Vec<_>, _>>()?;
        let roles = sqlx::query("SELECT scope_kind, scope_id, role FROM vault_group_roles WHERE group_id = $1 ORDER BY scope_kind, scope_id")
            .bind(id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(GroupRole {
                    scope: Scope::from_parts(&text(r, "scope_kind")?, int(r, "scope_id")?),
                    role: Role::parse(&text(r, "role")?)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Group {
            id,
            name: text(&r, "name")?,
            policy_id: opt_int(&r, "policy_id")?,
            registration_id: opt_int(&r, "registration_id")?,
            members,
            roles,
        })
    }

    pub async fn list_groups(&self) -> Result<Vec<Group>> {
        let ids: Vec<i64> = sqlx::query("SELECT id FROM vault_groups ORDER BY id")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| int(r, "id"))
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for id in ids {
            out.push(self.group(&id.to_string()).await?);
        }
        Ok(out)
    }

    /// Attaches an access policy and/or an API registration to a group (`Some(None)` detaches).
    pub async fn set_group(
        &self,
        name: &str,
        policy: Option<Option<String>>,
        registration: Option<Option<String>>,
    ) -> Result<Group> {
        let g = self.group(name).await?;
        let policy_id = match policy {
            Some(Some(p)) => Some(self.policy(&p).await?.id),
            Some(None) => None,
            None => g.policy_id,
        };
        let reg_id = match registration {
            Some(Some(r)) => Some(self.registration(&r).await?.id),
            Some(None) => None,
            None => g.registration_id,
        };
        sqlx::query("UPDATE vault_groups SET policy_id = $1, registration_id = $2 WHERE id = $3")
            .bind(policy_id)
            .bind(reg_id)
            .bind(g.id)
            .execute(self.pool())
            .await?;
        self.group(&g.id.to_string()).await
    }

    pub async fn add_member(&self, group: &str, user: &str) -> Result<()> {
        let g = self.group(group).await?;
        let u = self.user(user).await?;
        sqlx::query(
            "INSERT INTO vault_group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(g.id)
        .bind(u.id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn remove_member(&self, group: &str, user: &str) -> Result<()> {
        let g = self.group(group).await?;
        let u = self.user(user).await?;
        sqlx::query("DELETE FROM vault_group_members WHERE group_id = $1 AND user_id = $2")
            .bind(g.id)
            .bind(u.id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn grant_role(&self, group: &str, scope: Scope, role: Role) -> Result<()> {
        let g = self.group(group).await?;
        let (kind, id) = scope.parts();
        sqlx::query(
            "INSERT INTO vault_group_roles (group_id, scope_kind, scope_id, role) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(g.id)
        .bind(kind)
        .bind(id)
        .bind(role.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn revoke_role(&self, group: &str, scope: Scope, role: Role) -> Result<()> {
        let g = self.group(group).await?;
        let (kind, id) = scope.parts();
        sqlx::query("DELETE FROM vault_group_roles WHERE group_id = $1 AND scope_kind = $2 AND scope_id = $3 AND role = $4")
            .bind(g.id)
            .bind(kind)
            .bind(id)
            .bind(role.as_str())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn delete_group(&self, name: &str) -> Result<()> {
        let g = self.group(name).await?;
        sqlx::query("DELETE FROM vault_groups WHERE id = $1").bind(g.id).execute(self.pool()).await?;
        Ok(())
    }

    /// The roles `user_id` holds on `account` through its groups, with each group's policy.
    pub(crate) async fn roles_on_account(
        &self,
        user_id: i64,
        account: &Account,
    ) -> Result<Vec<(Role, Option<i64>)>> {
        let rows = sqlx::query(
            "SELECT r.role, g.policy_id FROM vault_group_members m JOIN vault_groups g ON g.id = m.group_id \
             JOIN vault_group_roles r ON r.group_id = g.id WHERE m.user_id = $1 AND \
             (r.scope_kind = 'all' OR (r.scope_kind = 'system' AND r.scope_id = $2) OR (r.scope_kind = 'account' AND r.scope_id = $3))",
        )
        .bind(user_id)
        .bind(account.system_id)
        .bind(account.id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok((Role::parse(&text(r, "role")?)?, opt_int(r, "policy_id")?))).collect()
    }

    /// Whether `user_id` is an Administrator on everything.
    pub(crate) async fn is_admin(&self, user_id: i64) -> Result<bool> {
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM vault_group_members m JOIN vault_group_roles r ON r.group_id = m.group_id \
             WHERE m.user_id = $1 AND r.scope_kind = 'all' AND r.role = $2",
        )
        .bind(user_id)
        .bind(Role::Administrator.as_str())
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        Ok(n > 0)
    }

    /// The registrations attached to the user's groups.
    pub(crate) async fn user_registrations(&self, user_id: i64) -> Result<Vec<Registration>> {
        let rows = sqlx::query(
            "SELECT DISTINCT r.* FROM vault_group_members m JOIN vault_groups g ON g.id = m.group_id \
             JOIN vault_registrations r ON r.id = g.registration_id WHERE m.user_id = $1",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(registration_row).collect()
    }

    // ------------------------------------------------------------------ OAuth clients

    /// Creates an OAuth client (client-credentials flow) acting as `user`; returns the client
    /// ID (36 characters) and its secret (48 characters, shown once).
    pub async fn create_oauth_client(&self, user: &str) -> Result<(String, Zeroizing<String>)> {
        let u = self.user(user).await?;
        let client_id = uuid::Uuid::new_v4().hyphenated().to_string();
        let secret = crypto::random_string(crypto::ALNUM, 48)?;
        sqlx::query("INSERT INTO vault_oauth_clients (client_id, user_id, secret_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&client_id)
            .bind(u.id)
            .bind(self.hasher().hash("oauth-secret", &secret))
            .bind(self.now())
            .execute(self.pool())
            .await?;
        Ok((client_id, secret))
    }

    pub async fn list_oauth_clients(&self) -> Result<Vec<OAuthClient>> {
        let rows = sqlx::query(
            "SELECT c.client_id, u.name, c.created_at FROM vault_oauth_clients c JOIN vault_users u ON u.id = c.user_id ORDER BY c.created_at",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OAuthClient {
                    client_id: text(r, "client_id")?,
                    user: text(r, "name")?,
                    created_at: int(r, "created_at")?,
                })
            })
            .collect()
    }

    pub async fn delete_oauth_client(&self, client_id: &str) -> Result<()> {
        let n = sqlx::query("DELETE FROM vault_oauth_clients WHERE client_id = $1")
            .bind(client_id)
            .execute(self.pool())
            .await?;
        if n.rows_affected() == 0 {
            return Err(not_found(format!("no OAuth client {client_id:?}")));
        }
        Ok(())
    }

    // ------------------------------------------------------------------ Secure Remote Access

    /// "Connect to Secure Remote Access": creates (or reuses) the all-day auto-approve policy, the
    /// registration (with a fresh key) and the requesters group — which uses both and holds
    /// Requestor on every API-enabled account — and stores the broker's configuration, sealed.
    /// Returns the registration's key.
    pub async fn connect_sra(&self, s: SraSettings) -> Result<Zeroizing<String>> {
        if s.host.trim().is_empty() {
            return Err(invalid("the Secure Remote Access host is empty: pass --host"));
        }
        if s.client_id.trim().is_empty() {
            return Err(invalid("the OAuth client ID is empty: pass --client-id"));
        }
        if s.client_secret.is_empty() {
            return Err(invalid("the OAuth client secret is empty: give it on standard input"));
        }
        if !(1..=1440).contains(&s.release_minutes) {
            return Err(invalid("the release duration must be 1 to 1440 minutes (1 day)"));
        }
        let policy = match self.policy(SRA_POLICY).await {
            Ok(p) => {
                self.set_policy(SRA_POLICY, Some(true), Some(0), Some(s.release_minutes.max(p.max_minutes)))
                    .await?
            }
            Err(crate::VaultError::NotFound(_)) => {
                self.create_policy(NewPolicy {
                    name: SRA_POLICY.into(),
                    auto_approve: true,
                    approvals_required: 0,
                    all_day: true,
                    window_start: 0,
                    window_end: 1440,
                    max_minutes: s.release_minutes.max(1440),
                })
                .await?
            }
            Err(e) => return Err(e),
        };
        let key = match self.registration(SRA_REGISTRATION).await {
            Ok(r) => self.rotate_registration_key(&r.id.to_string()).await?,
            Err(crate::VaultError::NotFound(_)) => {
                self.create_registration(NewRegistration {
                    name: SRA_REGISTRATION.into(),
                    ip_rules: Vec::new(),
                    token_minutes: 60,
                    user_password_required: false,
                })
                .await?
                .1
            }
            Err(e) => return Err(e),
        };
        let reg = self.registration(SRA_REGISTRATION).await?;
        match self.group(SRA_GROUP).await {
            Ok(_) => {}
            Err(crate::VaultError::NotFound(_)) => {
                self.create_group(SRA_GROUP).await?;
            }
            Err(e) => return Err(e),
        }
        self.set_group(SRA_GROUP, Some(Some(policy.id.to_string())), Some(Some(reg.id.to_string()))).await?;
        for a in self.list_accounts(None).await?.into_iter().filter(|a| a.api_enabled) {
            self.grant_role(SRA_GROUP, Scope::Account(a.id), Role::Requestor).await?;
        }
        let config = BrokerConfig {
            console_host: s.host.trim().into(),
            console_port: s.port,
            console_client_id: s.client_id.clone(),
            console_client_secret: s.client_secret.to_string(),
            registration_id: reg.id,
            api_key: key.to_string(),
            release_minutes: s.release_minutes,
            requesters_group: SRA_GROUP.into(),
        };
        let json = Zeroizing::new(serde_json::to_vec(&config).map_err(|e| invalid(e.to_string()))?);
        drop(config);
        let sealed = self.seal(&format!("vault/settings/{BROKER_SETTING}"), &json)?;
        sqlx::query(
            "INSERT INTO vault_settings (name, value_sealed) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value_sealed = EXCLUDED.value_sealed",
        )
        .bind(BROKER_SETTING)
        .bind(sealed)
        .execute(self.pool())
        .await?;
        Ok(key)
    }

    /// The broker's configuration written by [`Vault::connect_sra`], if any.
    pub async fn broker_config(&self) -> Result<Option<BrokerConfig>> {
        let Some(sealed) = crate::get_setting(self.store(), BROKER_SETTING).await? else {
            return Ok(None);
        };
        let json = self.open_sealed(&format!("vault/settings/{BROKER_SETTING}"), &sealed)?;
        serde_json::from_slice(&json).map(Some).map_err(|_| {
            conflict("the stored broker configuration is damaged: run `vault connect-sra` again")
        })
    }
}

fn user_row(r: &AnyRow) -> Result<User> {
    Ok(User {
        id: int(r, "id")?,
        name: text(r, "name")?,
        email: opt_text(r, "email")?,
        has_password: boolean(r, "has_pw")?,
        created_at: int(r, "created_at")?,
    })
}
