//! API accounts: the OAuth 2.0 clients of the console's APIs. An account has a name, an enabled
//! flag, an OAuth client ID and secret, and permissions — the Command API (none, read or full),
//! the Reporting API, the Endpoint Credential Manager API and the ECM group its brokers serve.
//!
//! The secret is 256 random bits (`web::token::random_token`), shown once when the account is
//! created or its secret rotated, and stored as its SHA-256. A plain hash is enough for a secret
//! of that strength: argon2's cost protects guessable human passwords against offline guessing,
//! but nobody can enumerate 2^256 candidates however fast the hash, so a slow hash would only
//! make every token request cost CPU (an easy denial of service). Disabling, deleting or rotating
//! an account removes its access tokens in the same transaction, and `authorize` checks the
//! account on every call, so they stop working at once.

use std::fmt;
use std::str::FromStr;

use sqlx::any::AnyRow;
use store::row::{boolean, fold, int, opt_text, text};
use zeroize::Zeroizing;

use crate::db::{check_name, classify, new_id, ConsoleStore};
use crate::ConsoleError;

/// The ECM group an account serves when its ECM permission names none.
pub const DEFAULT_ECM_GROUP: &str = "Default";

/// What an account may do with the Command API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CommandAccess {
    None,
    Read,
    Full,
}

impl CommandAccess {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandAccess::None => "none",
            CommandAccess::Read => "read",
            CommandAccess::Full => "full",
        }
    }
}

impl fmt::Display for CommandAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CommandAccess {
    type Err = ConsoleError;
    fn from_str(s: &str) -> Result<CommandAccess, ConsoleError> {
        match s {
            "none" => Ok(CommandAccess::None),
            "read" => Ok(CommandAccess::Read),
            "full" => Ok(CommandAccess::Full),
            other => Err(ConsoleError::InvalidInput {
                reason: format!("unknown Command API access {other:?}; use none, read or full"),
            }),
        }
    }
}

/// An account's permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    pub command_api: CommandAccess,
    /// Access session reports and recordings.
    pub reporting_api: bool,
    /// Register brokers (the Endpoint Credential Manager API).
    pub ecm_api: bool,
    /// The ECM group its brokers serve ([`DEFAULT_ECM_GROUP`] when `ecm_api` and none given).
    pub ecm_group: Option<String>,
}

impl Default for Permissions {
    fn default() -> Permissions {
        Permissions {
            command_api: CommandAccess::None,
            reporting_api: false,
            ecm_api: false,
            ecm_group: None,
        }
    }
}

/// An API account (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAccount {
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub enabled: bool,
    pub permissions: Permissions,
    pub created_at: i64,
    pub secret_changed_at: i64,
}

/// An account with its new secret, which is shown once and kept nowhere.
pub struct IssuedSecret {
    pub account: ApiAccount,
    pub client_secret: Zeroizing<String>,
}

impl fmt::Debug for IssuedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedSecret")
            .field("account", &self.account)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

const ACCOUNT_COLUMNS: &str =
    "id, name, client_id, enabled, command_api, reporting_api, ecm_api, ecm_group, \
     created_at, secret_changed_at";

pub(crate) fn account_from(r: &AnyRow) -> Result<ApiAccount, ConsoleError> {
    Ok(ApiAccount {
        id: text(r, "id")?,
        name: text(r, "name")?,
        client_id: text(r, "client_id")?,
        enabled: boolean(r, "enabled")?,
        permissions: Permissions {
            command_api: text(r, "command_api")?.parse()?,
            reporting_api: boolean(r, "reporting_api")?,
            ecm_api: boolean(r, "ecm_api")?,
            ecm_group: opt_text(r, "ecm_group")?,
        },
        created_at: int(r, "created_at")?,
        secret_changed_at: int(r, "secret_changed_at")?,
    })
}

/// A new client secret and the hash that is stored.
fn new_secret() -> Result<(Zeroizing<String>, String), ConsoleError> {
    let secret = Zeroizing::new(web::token::random_token().map_err(randomness)?);
    let hash = web::token::sha256_hex(secret.as_bytes());
    Ok((secret, hash))
}

fn randomness(e: web::WebError) -> ConsoleError {
    ConsoleError::Storage { detail: format!("no random numbers for a secret: {e}") }
}

/// The permissions as stored: an ECM permission without a group serves the default group, and a
/// group without the ECM permission is refused (it would grant nothing and mislead).
fn check_permissions(p: &Permissions) -> Result<Permissions, ConsoleError> {
    let ecm_group =
        match (&p.ecm_group, p.ecm_api) {
            (Some(g), true) => Some(check_name("ECM group", g)?.to_owned()),
            (None, true) => Some(DEFAULT_ECM_GROUP.to_owned()),
            (Some(_), false) => return Err(ConsoleError::InvalidInput {
                reason:
                    "an ECM group is given without the ECM API permission; add --ecm-api (\"ecm_api\": true)"
                        .into(),
            }),
            (None, false) => None,
        };
    Ok(Permissions { ecm_group, ..p.clone() })
}

impl ConsoleStore {
    /// Creates an enabled API account with a new client ID and secret.
    pub async fn create_api_account(
        &self,
        name: &str,
        permissions: &Permissions,
    ) -> Result<IssuedSecret, ConsoleError> {
        let name = check_name("API account", name)?;
        let permissions = check_permissions(permissions)?;
        let (client_secret, hash) = new_secret()?;
        let client_id = web::token::hex(&web::token::random_bytes::<16>().map_err(randomness)?[..]);
        let account = ApiAccount {
            id: new_id(),
            name: name.to_owned(),
            client_id,
            enabled: true,
            permissions,
            created_at: self.now(),
            secret_changed_at: self.now(),
        };
        let p = &account.permissions;
        sqlx::query(
            "INSERT INTO console_api_accounts (id, name, name_key, client_id, secret_hash, enabled, command_api, \
             reporting_api, ecm_api, ecm_group, created_at, secret_changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(&account.id)
        .bind(&account.name)
        .bind(fold(name))
        .bind(&account.client_id)
        .bind(&hash)
        .bind(true)
        .bind(p.command_api.as_str())
        .bind(p.reporting_api)
        .bind(p.ecm_api)
        .bind(&p.ecm_group)
        .bind(account.created_at)
        .execute(self.pool())
        .await
        .map_err(|e| classify(e, || format!("an API account named {name:?} exists already"), String::new))?;
        tracing::info!(api_account = %account.name, client_id = %account.client_id, command_api = %p.command_api,
            reporting_api = p.reporting_api, ecm_api = p.ecm_api, ecm_group = ?p.ecm_group, "API account created");
        Ok(IssuedSecret { account, client_secret })
    }

    /// Every API account, by name.
    pub async fn api_accounts(&self) -> Result<Vec<ApiAccount>, ConsoleError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM console_api_accounts ORDER BY name_key");
        sqlx::query(&sql).fetch_all(self.pool()).await?.iter().map(account_from).collect()
    }

    /// The API account with this ID, client ID or name.
    pub async fn api_account(&self, key: &str) -> Result<ApiAccount, ConsoleError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM console_api_accounts WHERE id = $1 OR client_id = $1 OR name_key = $2 \
             ORDER BY CASE WHEN id = $1 THEN 0 WHEN client_id = $1 THEN 1 ELSE 2 END LIMIT 1"
        );
        match sqlx::query(&sql).bind(key).bind(fold(key.trim())).fetch_optional(self.pool()).await? {
            Some(r) => account_from(&r),
            None => Err(ConsoleError::NotFound { what: format!("API account {key:?}") }),
        }
    }

    /// Enables or disables an account; disabling removes its access tokens at once.
    pub async fn set_api_account_enabled(
        &self,
        key: &str,
        enabled: bool,
    ) -> Result<ApiAccount, ConsoleError> {
        let account = self.api_account(key).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE console_api_accounts SET enabled = $2 WHERE id = $1")
            .bind(&account.id)
            .bind(enabled)
            .execute(&mut *tx)
            .await?;
        if !enabled {
            sqlx::query("DELETE FROM console_access_tokens WHERE account_id = $1")
                .bind(&account.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        tracing::info!(api_account = %account.name, enabled, "API account {}", if enabled { "enabled" } else { "disabled" });
        self.api_account(&account.id).await
    }

    /// Changes an account's permissions (its tokens keep working with the new permissions:
    /// they are checked on every call).
    pub async fn set_api_account_permissions(
        &self,
        key: &str,
        permissions: &Permissions,
    ) -> Result<ApiAccount, ConsoleError> {
        let account = self.api_account(key).await?;
        let p = check_permissions(permissions)?;
        sqlx::query(
            "UPDATE console_api_accounts SET command_api = $2, reporting_api = $3, ecm_api = $4, ecm_group = $5 \
             WHERE id = $1",
        )
        .bind(&account.id)
        .bind(p.command_api.as_str())
        .bind(p.reporting_api)
        .bind(p.ecm_api)
        .bind(&p.ecm_group)
        .execute(self.pool())
        .await?;
        tracing::info!(api_account = %account.name, command_api = %p.command_api, reporting_api = p.reporting_api,
            ecm_api = p.ecm_api, ecm_group = ?p.ecm_group, "API account's permissions changed");
        self.api_account(&account.id).await
    }

    /// Replaces an account's client secret; the old secret and every token issued with it stop
    /// working at once.
    pub async fn rotate_api_account_secret(&self, key: &str) -> Result<IssuedSecret, ConsoleError> {
        let account = self.api_account(key).await?;
        let (client_secret, hash) = new_secret()?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE console_api_accounts SET secret_hash = $2, secret_changed_at = $3 WHERE id = $1")
            .bind(&account.id)
            .bind(&hash)
            .bind(self.now())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM console_access_tokens WHERE account_id = $1")
            .bind(&account.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(api_account = %account.name, "API account's client secret rotated; its tokens are revoked");
        Ok(IssuedSecret { account: self.api_account(&account.id).await?, client_secret })
    }

    /// Deletes an account with its tokens (its brokers' rows keep their other columns).
    pub async fn delete_api_account(&self, key: &str) -> Result<ApiAccount, ConsoleError> {
        let account = self.api_account(key).await?;
        sqlx::query("DELETE FROM console_api_accounts WHERE id = $1")
            .bind(&account.id)
            .execute(self.pool())
            .await?;
        tracing::info!(api_account = %account.name, "API account deleted");
        Ok(account)
    }
}
