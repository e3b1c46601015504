//! Browser sessions at the IdP (only a hash of the cookie value is stored).

use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::error::classify;
use crate::model::Session;
use crate::row::{boolean, id, int, text, uuid};
use crate::{touched, Result, Store};

const COLS: &str = "id_hash, tenant_id, user_id, authn_instant, expires_at, mfa";

fn session_from(row: &AnyRow) -> Result<Session> {
    Ok(Session {
        id_hash: text(row, "id_hash")?,
        tenant_id: uuid(row, "tenant_id")?,
        user_id: uuid(row, "user_id")?,
        authn_instant: int(row, "authn_instant")?,
        expires_at: int(row, "expires_at")?,
        mfa: boolean(row, "mfa")?,
    })
}

impl Store {
    /// Stores a session. Its user must exist in its tenant (NotFound otherwise); the session goes
    /// when the user is deleted.
    pub async fn create_session(&self, s: &Session) -> Result<()> {
        let r = sqlx::query(
            "INSERT INTO sessions (id_hash, tenant_id, user_id, authn_instant, expires_at, mfa) \
             SELECT $1, tenant_id, id, $4, $5, $6 FROM users WHERE tenant_id = $2 AND id = $3",
        )
        .bind(s.id_hash.as_str())
        .bind(id(s.tenant_id))
        .bind(id(s.user_id))
        .bind(s.authn_instant)
        .bind(s.expires_at)
        .bind(s.mfa)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            classify(
                e,
                || "a session with this ID already exists: generate a new session ID".into(),
                || format!("user {}", s.user_id),
            )
        })?;
        if !touched(&r) {
            return Err(crate::StoreError::not_found(format!("user {}", s.user_id)));
        }
        Ok(())
    }

    /// The change counter (see [`Store::generation`]) and the session with this ID hash, in one
    /// statement: what every SSO request reads (one round trip to the database instead of two).
    pub async fn generation_and_session(&self, id_hash: &str) -> Result<(i64, Option<Session>)> {
        let sql = "SELECT c.generation, s.id_hash, s.tenant_id, s.user_id, s.authn_instant, s.expires_at, \
                   s.mfa FROM change_counter c LEFT JOIN sessions s ON s.id_hash = $1 WHERE c.id = 1";
        let row = sqlx::query(sql).bind(id_hash).fetch_one(&self.pool).await?;
        let generation = int(&row, "generation")?;
        let found: Option<String> = sqlx::Row::try_get(&row, "id_hash")?;
        let session = match found {
            Some(_) => Some(session_from(&row)?),
            None => None,
        };
        Ok((generation, session))
    }

    /// The session with this ID hash, expired or not: the caller compares `expires_at` with
    /// its clock.
    pub async fn get_session(&self, id_hash: &str) -> Result<Option<Session>> {
        let sql = format!("SELECT {COLS} FROM sessions WHERE id_hash = $1");
        let row = sqlx::query(&sql).bind(id_hash).fetch_optional(&self.pool).await?;
        row.as_ref().map(session_from).transpose()
    }

    /// Ends a session. Returns false when there was none.
    pub async fn delete_session(&self, id_hash: &str) -> Result<bool> {
        let r =
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&self.pool).await?;
        Ok(touched(&r))
    }

    /// Ends every session of a user (sign-out everywhere, disabled user). Returns how many.
    pub async fn delete_sessions_of_user(&self, tenant: Uuid, user: Uuid) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2")
            .bind(id(tenant))
            .bind(id(user))
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    /// Deletes the sessions that expired at or before `now` (unix seconds). Returns how many.
    pub async fn purge_expired_sessions(&self, now: i64) -> Result<u64> {
        let r =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        Ok(r.rows_affected())
    }
}
