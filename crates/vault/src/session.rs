//! Signing API clients in: OAuth client credentials (`Auth/connect/token`), then `SignAppIn`
//! with `PS-Auth key=…; runas=…; pwd=[…]` or `Bearer <token>`, which opens a session identified
//! by a cookie. Sessions end at `Signout` or after 20 minutes without a request.

use std::net::IpAddr;

use sqlx::Row;
use zeroize::Zeroizing;

use crate::error::{unauthorized, Result};
use crate::model::User;
use crate::{crypto, ip, psauth, Vault};
use store::row::{int, text};

/// A session ends after this long without a request.
pub const IDLE_SECONDS: i64 = 20 * 60;
/// A session's idle timer is refreshed at most this often.
pub const REFRESH_SECONDS: i64 = 60;
/// Access tokens live this long unless the user's registration says otherwise.
pub const DEFAULT_TOKEN_SECONDS: i64 = 3600;

/// An access token issued to an OAuth client.
pub struct IssuedToken {
    pub access_token: Zeroizing<String>,
    pub expires_in: i64,
}

/// The signed-in caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub source: String,
}

impl Vault {
    /// The client-credentials grant: checks the client's secret (keyed hash, constant time) and
    /// issues a bearer token.
    pub async fn issue_token(&self, client_id: &str, secret: &str) -> Result<IssuedToken> {
        let bad = || unauthorized("invalid_client: the client ID or secret is wrong");
        let r = sqlx::query("SELECT user_id, secret_hash FROM vault_oauth_clients WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = r else {
            let _ = self.hasher().matches("oauth-secret", secret, "");
            return Err(bad());
        };
        if !self.hasher().matches("oauth-secret", secret, &text(&r, "secret_hash")?) {
            return Err(bad());
        }
        let user_id = int(&r, "user_id")?;
        let minutes = self
            .user_registrations(user_id)
            .await?
            .iter()
            .filter(|r| r.active)
            .map(|r| r.token_minutes)
            .min();
        let expires_in = minutes.map(|m| m * 60).unwrap_or(DEFAULT_TOKEN_SECONDS);
        let token = crypto::token()?;
        let now = self.now();
        sqlx::query("DELETE FROM vault_tokens WHERE expires_at <= $1").bind(now).execute(self.pool()).await?;
        sqlx::query("INSERT INTO vault_tokens (token_hash, client_id, expires_at) VALUES ($1, $2, $3)")
            .bind(self.hasher().hash("token", &token))
            .bind(client_id)
            .bind(now + expires_in)
            .execute(self.pool())
            .await?;
        Ok(IssuedToken { access_token: token, expires_in })
    }

    /// `SignAppIn`: authenticates the `Authorization` header from `peer` and opens a session.
    /// Returns the user and the session ID (the cookie's value).
    pub async fn sign_in(&self, authorization: &str, peer: IpAddr) -> Result<(User, Zeroizing<String>)> {
        let user = if let Some(token) = strip_bearer(authorization) {
            self.user_for_token(token, peer).await?
        } else {
            let auth = psauth::parse(authorization).map_err(|e| unauthorized(e.to_string()))?;
            self.user_for_key(&auth, peer).await?
        };
        let session = crypto::token()?;
        let now = self.now();
        sqlx::query("DELETE FROM vault_sessions WHERE last_seen_at <= $1")
            .bind(now - IDLE_SECONDS)
            .execute(self.pool())
            .await?;
        sqlx::query(
            "INSERT INTO vault_sessions (session_hash, user_id, source, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(self.hasher().hash("session", &session))
        .bind(user.id)
        .bind(peer.to_string())
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok((user, session))
    }

    async fn user_for_token(&self, token: &str, peer: IpAddr) -> Result<User> {
        let r = sqlx::query(
            "SELECT c.user_id, t.expires_at FROM vault_tokens t JOIN vault_oauth_clients c ON c.client_id = t.client_id \
             WHERE t.token_hash = $1",
        )
        .bind(self.hasher().hash("token", token))
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| unauthorized("the bearer token is not valid: get a new one from Auth/connect/token"))?;
        if int(&r, "expires_at")? <= self.now() {
            return Err(unauthorized("the bearer token has expired: get a new one from Auth/connect/token"));
        }
        let user = self.user(&int(&r, "user_id")?.to_string()).await?;
        // The IP rules of the registrations the user's groups use apply to OAuth sign-ins too.
        let regs: Vec<_> = self.user_registrations(user.id).await?.into_iter().filter(|r| r.active).collect();
        if !regs.is_empty() && !regs.iter().any(|r| ip::admitted(&r.ip_rules, peer)) {
            return Err(unauthorized(format!(
                "sign-in from {peer} is not allowed by the IP rules of the user's API registrations"
            )));
        }
        Ok(user)
    }

    async fn user_for_key(&self, auth: &psauth::PsAuth, peer: IpAddr) -> Result<User> {
        let refused =
            || unauthorized("the API key, run-as user or password is not valid for this registration");
        let Some(reg) = self.registration_by_key(&auth.key).await? else {
            return Err(refused());
        };
        if !reg.active {
            return Err(unauthorized(format!("API registration {:?} is not active", reg.name)));
        }
        if !ip::admitted(&reg.ip_rules, peer) {
            return Err(unauthorized(format!(
                "sign-in from {peer} is not allowed by the IP rules of API registration {:?}",
                reg.name
            )));
        }
        let runas = auth.runas.as_deref().ok_or_else(|| {
            unauthorized("the PS-Auth header has no runas=<user>: name the vault user to act as")
        })?;
        let user = match self.user(runas).await {
            Ok(u) => u,
            Err(_) => {
                web::password::verify_dummy(auth.pwd.as_deref().map(|s| s.as_str()).unwrap_or(""));
                return Err(refused());
            }
        };
        let allowed: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM vault_group_members m JOIN vault_groups g ON g.id = m.group_id \
             WHERE m.user_id = $1 AND g.registration_id = $2",
        )
        .bind(user.id)
        .bind(reg.id)
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        if allowed == 0 {
            return Err(refused());
        }
        if reg.user_password_required {
            let pwd = auth.pwd.as_deref().map(|s| s.as_str()).unwrap_or("");
            match self.user_password_hash(user.id).await? {
                Some(phc) if web::password::verify(pwd, &phc) => {}
                _ => return Err(refused()),
            }
        }
        Ok(user)
    }

    /// The user of a live session; refreshes its idle timer.
    pub async fn session_user(&self, session: &str) -> Result<User> {
        let h = self.hasher().hash("session", session);
        let r = sqlx::query("SELECT user_id, last_seen_at FROM vault_sessions WHERE session_hash = $1")
            .bind(&h)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| unauthorized("not signed in: call Auth/SignAppIn first"))?;
        let now = self.now();
        if int(&r, "last_seen_at")? + IDLE_SECONDS <= now {
            sqlx::query("DELETE FROM vault_sessions WHERE session_hash = $1")
                .bind(&h)
                .execute(self.pool())
                .await?;
            return Err(unauthorized(
                "the session expired after 20 minutes without a request: sign in again",
            ));
        }
        // Refreshed at most once a minute: one write per request would serialize every API call
        // on SQLite's writer for a timer that only needs minute precision.
        sqlx::query(
            "UPDATE vault_sessions SET last_seen_at = $1 WHERE session_hash = $2 AND last_seen_at <= $3",
        )
        .bind(now)
        .bind(&h)
        .bind(now - REFRESH_SECONDS)
        .execute(self.pool())
        .await?;
        self.user(&int(&r, "user_id")?.to_string()).await
    }

    /// Ends a session (the cookie then gets 401).
    pub async fn sign_out(&self, session: &str) -> Result<()> {
        sqlx::query("DELETE FROM vault_sessions WHERE session_hash = $1")
            .bind(self.hasher().hash("session", session))
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

fn strip_bearer(h: &str) -> Option<&str> {
    let h = h.trim();
    if h.len() > 7 && h.is_char_boundary(7) && h[..7].eq_ignore_ascii_case("bearer ") {
        Some(h[7..].trim())
    } else {
        None
    }
}
