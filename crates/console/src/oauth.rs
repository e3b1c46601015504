//! OAuth 2.0 access tokens for the console's APIs (client-credentials grant, RFC 6749 §4.4) and
//! the check every API call makes.
//!
//! [`ConsoleStore::issue_token`] authenticates an API account by client ID and secret (the
//! secret's SHA-256 compared in constant time; an unknown client ID is compared with a dummy
//! hash, so that both take the same work) and issues a random bearer token, stored as its
//! SHA-256 with an expiry. The insert is conditional on the account still being enabled with the
//! same secret, so a token cannot be issued across a concurrent rotation or disable.
//! [`ConsoleStore::authorize`] looks a presented token up by its hash (a hashed lookup: the
//! database never sees a usable token, and the lookup's timing says nothing about it), refuses
//! an expired one, re-reads the account on every call and checks the permission the call needs.

use std::time::Duration;

use store::row::{boolean, int, text};
use zeroize::Zeroizing;

use crate::accounts::{account_from, ApiAccount, CommandAccess};
use crate::db::ConsoleStore;
use crate::ConsoleError;

/// How long an access token lasts unless configured otherwise.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// What an API call needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The Command API, reading.
    CommandRead,
    /// The Command API, changing.
    CommandFull,
    /// The Reporting API.
    Reporting,
    /// The Endpoint Credential Manager API (registering a broker).
    Ecm,
}

impl Need {
    /// The permission's name, for the 403 sentence.
    pub fn describe(self) -> &'static str {
        match self {
            Need::CommandRead => "the Command API (read)",
            Need::CommandFull => "the Command API (full access)",
            Need::Reporting => "the Reporting API",
            Need::Ecm => "the Endpoint Credential Manager API",
        }
    }
}

/// The API account behind a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPrincipal {
    pub account_id: String,
    pub name: String,
    /// The ECM group its brokers serve (set when the account has the ECM permission).
    pub ecm_group: Option<String>,
}

/// A newly issued access token.
pub struct AccessToken {
    pub access_token: Zeroizing<String>,
    /// Seconds until it expires.
    pub expires_in: u64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl ConsoleStore {
    /// Issues an access token valid for `ttl` to the enabled account with these client
    /// credentials; any mismatch is `ConsoleError::ClientAuth`, whatever the reason.
    pub async fn issue_token(
        &self,
        client_id: &str,
        client_secret: &str,
        ttl: Duration,
    ) -> Result<AccessToken, ConsoleError> {
        let presented = web::token::sha256_hex(client_secret.as_bytes());
        let row = sqlx::query(
            "SELECT id, name, secret_hash, enabled FROM console_api_accounts WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(self.pool())
        .await?;
        let (account_id, name, stored, enabled) = match &row {
            Some(r) => (text(r, "id")?, text(r, "name")?, text(r, "secret_hash")?, boolean(r, "enabled")?),
            // The same comparison against a hash no secret has.
            None => (String::new(), String::new(), "0".repeat(64), false),
        };
        let matches = web::token::constant_time_eq(presented.as_bytes(), stored.as_bytes());
        if row.is_none() || !matches || !enabled {
            // An unknown client ID is not logged: it may be a secret pasted into the wrong field.
            let client_id = if row.is_some() { client_id } else { "(unknown)" };
            tracing::warn!(client_id, api_account = %name, enabled, "token request refused: client authentication failed");
            return Err(ConsoleError::ClientAuth);
        }
        let token =
            Zeroizing::new(web::token::random_token().map_err(|e| ConsoleError::Storage {
                detail: format!("no random numbers for a token: {e}"),
            })?);
        let now = self.now();
        let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM console_access_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO console_access_tokens (token_hash, account_id, issued_at, expires_at) \
             SELECT $1, id, $2, $3 FROM console_api_accounts WHERE id = $4 AND secret_hash = $5 AND enabled = $6",
        )
        .bind(web::token::sha256_hex(token.as_bytes()))
        .bind(now)
        .bind(now.saturating_add(ttl_secs))
        .bind(&account_id)
        .bind(&stored)
        .bind(true)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            // Rotated, disabled or deleted since the check above.
            return Err(ConsoleError::ClientAuth);
        }
        tx.commit().await?;
        tracing::info!(api_account = %name, expires_in = ttl.as_secs(), "access token issued");
        Ok(AccessToken { access_token: token, expires_in: ttl.as_secs() })
    }

    /// The account behind `bearer` if the token is valid now and the account may do `need`:
    /// `Unauthenticated` (401) for no, an unknown, a revoked or an expired token, `Forbidden`
    /// (403) for a valid token whose account lacks the permission.
    pub async fn authorize(&self, bearer: &str, need: Need) -> Result<ApiPrincipal, ConsoleError> {
        let account = self.token_account(bearer).await?;
        let p = &account.permissions;
        let allowed = match need {
            Need::CommandRead => p.command_api >= CommandAccess::Read,
            Need::CommandFull => p.command_api == CommandAccess::Full,
            Need::Reporting => p.reporting_api,
            Need::Ecm => p.ecm_api,
        };
        if !allowed {
            tracing::warn!(api_account = %account.name, needed = need.describe(), "API call refused: no permission");
            return Err(ConsoleError::Forbidden { account: account.name, needed: need.describe() });
        }
        Ok(ApiPrincipal {
            account_id: account.id,
            name: account.name,
            ecm_group: account.permissions.ecm_group,
        })
    }

    /// The account behind `bearer`, as it is now, whatever its permissions, if the token is
    /// valid now (`Unauthenticated` otherwise): for a caller that explains a missing
    /// permission itself (the ECM channel answers the broker with a `Refused`).
    pub async fn token_account(&self, bearer: &str) -> Result<ApiAccount, ConsoleError> {
        let bearer = bearer.trim();
        if bearer.is_empty() {
            return Err(ConsoleError::Unauthenticated { reason: "no access token was sent" });
        }
        let row = sqlx::query(
            "SELECT t.expires_at, a.id, a.name, a.client_id, a.enabled, a.command_api, a.reporting_api, a.ecm_api, \
             a.ecm_group, a.created_at, a.secret_changed_at FROM console_access_tokens t \
             JOIN console_api_accounts a ON a.id = t.account_id WHERE t.token_hash = $1",
        )
        .bind(web::token::sha256_hex(bearer.as_bytes()))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Err(ConsoleError::Unauthenticated {
                reason:
                    "the access token is not valid (unknown, or revoked when its API account was disabled, \
                         deleted or given a new secret)",
            });
        };
        let expires_at = int(&row, "expires_at")?;
        let account = account_from(&row)?;
        if !account.enabled {
            return Err(ConsoleError::Unauthenticated {
                reason: "the access token's API account is disabled",
            });
        }
        if self.now() >= expires_at {
            return Err(ConsoleError::Unauthenticated { reason: "the access token has expired" });
        }
        Ok(account)
    }
}
