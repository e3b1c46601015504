//! Outstanding AuthnRequests (found by their RelayState reference) and the replay cache of
//! assertion IDs, both shared by every node of the application.

use store::row::{id, int, text, uuid};
use store::{classify, Result};
use uuid::Uuid;

use super::{touched, SpDb};

/// An outstanding AuthnRequest, found by its opaque RelayState reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    pub relay: String,
    pub request_id: String,
    pub provider_id: Uuid,
    /// A hash of the cookie of the browser that started the login.
    pub browser: String,
    pub return_url: String,
    pub expires_at: i64,
}

impl SpDb {
    /// Records an outstanding AuthnRequest.
    pub async fn put_request(&self, r: &PendingRequest) -> Result<()> {
        sqlx::query(
            "INSERT INTO sp_requests (relay, request_id, provider_id, browser, return_url, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(r.relay.as_str())
        .bind(r.request_id.as_str())
        .bind(id(r.provider_id))
        .bind(r.browser.as_str())
        .bind(r.return_url.as_str())
        .bind(r.expires_at)
        .execute(self.store.pool())
        .await
        .map_err(|e| {
            classify(e, || "request reference reused".into(), || format!("provider {}", r.provider_id))
        })?;
        Ok(())
    }

    /// Removes and returns the outstanding request `relay` if it has not expired at `now`: each
    /// request is answered once (of two concurrent takes, one gets it).
    pub async fn take_request(&self, relay: &str, now: i64) -> Result<Option<PendingRequest>> {
        let row = sqlx::query(
            "SELECT relay, request_id, provider_id, browser, return_url, expires_at FROM sp_requests \
             WHERE relay = $1",
        )
        .bind(relay)
        .fetch_optional(self.store.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let deleted = sqlx::query("DELETE FROM sp_requests WHERE relay = $1")
            .bind(relay)
            .execute(self.store.pool())
            .await?;
        let req = PendingRequest {
            relay: text(&row, "relay")?,
            request_id: text(&row, "request_id")?,
            provider_id: uuid(&row, "provider_id")?,
            browser: text(&row, "browser")?,
            return_url: text(&row, "return_url")?,
            expires_at: int(&row, "expires_at")?,
        };
        Ok((touched(&deleted) && req.expires_at > now).then_some(req))
    }

    /// Deletes requests that expired at or before `now`. Returns how many.
    pub async fn purge_requests(&self, now: i64) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sp_requests WHERE expires_at <= $1")
            .bind(now)
            .execute(self.store.pool())
            .await?;
        Ok(r.rows_affected())
    }

    /// One-time use of an assertion ID: records it until `expires_at` and returns true, or returns
    /// false when it is recorded and not expired at `now` (a replay). Atomic: of two concurrent
    /// calls with one ID, exactly one gets true.
    pub async fn remember_assertion(&self, assertion_id: &str, expires_at: i64, now: i64) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO sp_replay (assertion_id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (assertion_id) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE sp_replay.expires_at <= $3",
        )
        .bind(assertion_id)
        .bind(expires_at)
        .bind(now)
        .execute(self.store.pool())
        .await?;
        Ok(touched(&r))
    }

    /// Forgets assertion IDs that expired at or before `now`. Returns how many.
    pub async fn purge_replay(&self, now: i64) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sp_replay WHERE expires_at <= $1")
            .bind(now)
            .execute(self.store.pool())
            .await?;
        Ok(r.rows_affected())
    }
}
