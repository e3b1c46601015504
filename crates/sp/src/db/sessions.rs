//! The application's local sessions (the cookie holds the token; only its hash is kept).

use store::row::{id, int, opt_text, text, uuid};
use store::{classify, Result};
use uuid::Uuid;

use super::{touched, SpDb};

/// A local session of the application (only the hash of the cookie's token is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpSession {
    pub token_hash: String,
    pub saml_user_id: Uuid,
    pub session_index: Option<String>,
    pub expires_at: i64,
}

impl SpDb {
    pub async fn create_session(&self, s: &SpSession) -> Result<()> {
        sqlx::query(
            "INSERT INTO sp_sessions (token_hash, saml_user_id, session_index, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(s.token_hash.as_str())
        .bind(id(s.saml_user_id))
        .bind(s.session_index.as_deref())
        .bind(s.expires_at)
        .execute(self.store.pool())
        .await
        .map_err(|e| classify(e, || "session token reused".into(), || format!("SAML user {}", s.saml_user_id)))?;
        Ok(())
    }

    /// The session with this token hash, if it has not expired at `now`.
    pub async fn session(&self, token_hash: &str, now: i64) -> Result<Option<SpSession>> {
        let row = sqlx::query(
            "SELECT token_hash, saml_user_id, session_index, expires_at FROM sp_sessions \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.store.pool())
        .await?;
        row.map(|r| {
            Ok(SpSession {
                token_hash: text(&r, "token_hash")?,
                saml_user_id: uuid(&r, "saml_user_id")?,
                session_index: opt_text(&r, "session_index")?,
                expires_at: int(&r, "expires_at")?,
            })
        })
        .transpose()
    }

    /// Ends the sessions of a SAML user (only the one with `session_index` when given), as an
    /// IdP's LogoutRequest asks. Returns how many.
    pub async fn delete_sessions_of(&self, saml_user: Uuid, session_index: Option<&str>) -> Result<u64> {
        let r = sqlx::query(
            "DELETE FROM sp_sessions WHERE saml_user_id = $1 AND ($2 = '' OR session_index = $2)",
        )
        .bind(id(saml_user))
        .bind(session_index.unwrap_or(""))
        .execute(self.store.pool())
        .await?;
        Ok(r.rows_affected())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM sp_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.store.pool())
            .await?;
        Ok(touched(&r))
    }
}
