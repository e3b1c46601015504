//! Access sessions and their coded audit events: who opened which jump item when, with which
//! credential (its display name only), under which vault release request and approver, until
//! when, and where the recording is. The report is these rows; the jump item's name is copied
//! into the session so that a report outlives its jump item.

use sqlx::any::AnyRow;
use sqlx::Row;
use store::row::{int, opt_int, opt_text, text};
use store::Backend;

use super::{new_id, ConsoleStore};
use crate::ConsoleError;

/// What happened in a session, by stable code (the `code` column and the reports' `code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The representative started the session on a jump item.
    SessionStarted,
    /// The broker offered credentials (the detail lists their display names).
    CredentialsOffered,
    /// The representative picked a credential (its display name).
    CredentialSelected,
    /// The vault released the credential (the release request's ID and approver).
    CredentialReleased,
    /// The endpoint accepted the injected credential.
    CredentialInjected,
    /// The endpoint's host key was pinned on first use.
    HostKeyPinned,
    /// The endpoint's host key did not match the pin; nothing was sent.
    HostKeyRefused,
    /// A step failed (the detail carries the error's code and sentence, never a secret).
    Failed,
    /// The session ended.
    SessionEnded,
    /// The broker checked the released credential back in.
    CheckedIn,
}

impl EventKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            EventKind::SessionStarted => "session.started",
            EventKind::CredentialsOffered => "credential.offered",
            EventKind::CredentialSelected => "credential.selected",
            EventKind::CredentialReleased => "credential.released",
            EventKind::CredentialInjected => "credential.injected",
            EventKind::HostKeyPinned => "host_key.pinned",
            EventKind::HostKeyRefused => "host_key.refused",
            EventKind::Failed => "session.failed",
            EventKind::SessionEnded => "session.ended",
            EventKind::CheckedIn => "credential.checked_in",
        }
    }
}

/// A session to record as started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub representative: String,
    /// The jump item's ID (its name is copied from the item).
    pub jump_item: String,
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: String,
    pub representative: String,
    /// `None` once the jump item is deleted.
    pub jump_item_id: Option<String>,
    pub jump_item_name: String,
    pub credential_display_name: Option<String>,
    pub vault_request_id: Option<i64>,
    pub approver: Option<String>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub recording_path: Option<String>,
}

/// One audit event of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEvent {
    pub seq: i64,
    pub at: i64,
    pub code: String,
    pub detail: String,
}

const SESSION_COLUMNS: &str = "id, representative, jump_item_id, jump_item_name, credential_display_name, \
     vault_request_id, approver, started_at, ended_at, recording_path";

fn session_from(r: &AnyRow) -> Result<SessionRecord, ConsoleError> {
    Ok(SessionRecord {
        id: text(r, "id")?,
        representative: text(r, "representative")?,
        jump_item_id: opt_text(r, "jump_item_id")?,
        jump_item_name: text(r, "jump_item_name")?,
        credential_display_name: opt_text(r, "credential_display_name")?,
        vault_request_id: opt_int(r, "vault_request_id")?,
        approver: opt_text(r, "approver")?,
        started_at: int(r, "started_at")?,
        ended_at: opt_int(r, "ended_at")?,
        recording_path: opt_text(r, "recording_path")?,
    })
}

impl ConsoleStore {
    /// Records a session as started now, with its `session.started` event, and returns it.
    pub async fn start_session(&self, new: &NewSession) -> Result<SessionRecord, ConsoleError> {
        let item = self.jump_item(&new.jump_item).await?;
        let representative = super::check_name("representative", &new.representative)?;
        let id = new_id();
        let now = self.now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO console_sessions (id, representative, jump_item_id, jump_item_name, started_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(representative)
        .bind(&item.id)
        .bind(&item.name)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| super::classify(e, String::new, || format!("jump item {:?}", item.name)))?;
        append_event(
            &mut tx,
            self.store().backend(),
            &id,
            now,
            EventKind::SessionStarted,
            &format!("jump item {:?}", item.name),
        )
        .await?;
        tx.commit().await?;
        self.session(&id).await
    }

    /// Records the credential a session uses: its display name, the vault's release request and
    /// approver, with a `credential.released` event.
    pub async fn session_credential(
        &self,
        id: &str,
        display_name: &str,
        vault_request_id: Option<i64>,
        approver: Option<&str>,
    ) -> Result<(), ConsoleError> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE console_sessions SET credential_display_name = $2, vault_request_id = $3, approver = $4 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(display_name)
        .bind(vault_request_id)
        .bind(approver)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(ConsoleError::UnknownSession { id: id.to_owned() });
        }
        let detail = format!(
            "credential {display_name:?}, vault request {}, approver {}",
            vault_request_id.map_or_else(|| "none".into(), |r| r.to_string()),
            approver.unwrap_or("none")
        );
        append_event(&mut tx, self.store().backend(), id, now, EventKind::CredentialReleased, &detail)
            .await?;
        Ok(tx.commit().await?)
    }

    /// Records where the session's recording is.
    pub async fn session_recording(&self, id: &str, path: &str) -> Result<(), ConsoleError> {
        let changed = sqlx::query("UPDATE console_sessions SET recording_path = $2 WHERE id = $1")
            .bind(id)
            .bind(path)
            .execute(self.pool())
            .await?;
        if changed.rows_affected() == 0 {
            return Err(ConsoleError::UnknownSession { id: id.to_owned() });
        }
        Ok(())
    }

    /// Records the session as ended now (once: a second call changes nothing), with its
    /// `session.ended` event.
    pub async fn end_session(&self, id: &str, detail: &str) -> Result<(), ConsoleError> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let changed =
            sqlx::query("UPDATE console_sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        if changed.rows_affected() > 0 {
            append_event(&mut tx, self.store().backend(), id, now, EventKind::SessionEnded, detail).await?;
        }
        tx.commit().await?;
        // An unknown ID is an error; an ended session is not.
        self.session(id).await.map(drop)
    }

    /// Appends an audit event to session `id`. The detail must name no secret.
    pub async fn session_event(&self, id: &str, kind: EventKind, detail: &str) -> Result<(), ConsoleError> {
        let mut tx = self.begin_write().await?;
        append_event(&mut tx, self.store().backend(), id, self.now(), kind, detail).await?;
        Ok(tx.commit().await?)
    }

    /// The session with this ID.
    pub async fn session(&self, id: &str) -> Result<SessionRecord, ConsoleError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM console_sessions WHERE id = $1");
        match sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await? {
            Some(r) => session_from(&r),
            None => Err(ConsoleError::UnknownSession { id: id.to_owned() }),
        }
    }

    /// Sessions started in `[since, until)`, newest first, at most `limit`.
    pub async fn sessions(
        &self,
        since: i64,
        until: i64,
        limit: u32,
    ) -> Result<Vec<SessionRecord>, ConsoleError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM console_sessions WHERE started_at >= $1 AND started_at < $2 \
             ORDER BY started_at DESC, id LIMIT $3"
        );
        let rows =
            sqlx::query(&sql).bind(since).bind(until).bind(i64::from(limit)).fetch_all(self.pool()).await?;
        rows.iter().map(session_from).collect()
    }

    /// The session's events, in order.
    pub async fn session_events(&self, id: &str) -> Result<Vec<SessionEvent>, ConsoleError> {
        let rows = sqlx::query(
            "SELECT seq, at, code, detail FROM console_session_events WHERE session_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SessionEvent {
                    seq: int(r, "seq")?,
                    at: int(r, "at")?,
                    code: text(r, "code")?,
                    detail: text(r, "detail")?,
                })
            })
            .collect()
    }
}

/// Appends an event inside a write transaction, which orders the sequence numbers: SQLite's
/// write transaction excludes other writers; on PostgreSQL the session's row is locked first.
async fn append_event(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    session: &str,
    at: i64,
    kind: EventKind,
    detail: &str,
) -> Result<(), ConsoleError> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM console_sessions WHERE id = $1 FOR UPDATE")
            .bind(session)
            .execute(&mut *tx)
            .await?;
    }
    let next: i64 = sqlx::query(
        "SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM console_session_events WHERE session_id = $1",
    )
    .bind(session)
    .fetch_one(&mut *tx)
    .await?
    .try_get("next")?;
    sqlx::query(
        "INSERT INTO console_session_events (session_id, seq, at, code, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(session)
    .bind(next)
    .bind(at)
    .bind(kind.code())
    .bind(detail)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        super::classify(
            e,
            || format!("session {session:?} got two events at once; retry"),
            || format!("session {session:?}"),
        )
    })
    .map_err(|e| match e {
        ConsoleError::NotFound { .. } => ConsoleError::UnknownSession { id: session.to_owned() },
        other => other,
    })?;
    Ok(())
}
