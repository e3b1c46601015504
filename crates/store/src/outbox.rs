//! The e-mail outbox: messages are queued with the event that causes them and delivered later
//! by a mail worker (SMTP), so that a slow or absent mail server never blocks a request, and
//! nothing is lost when it is down.

use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::error::classify;
use crate::model::Mail;
use crate::row::{id, int, opt_text, text, uuid};
use crate::{touched, Result, Store};

const COLS: &str = "id, created_at, recipient, subject, body, dedup_key, sent_at, attempts, last_error";

fn mail_from(row: &AnyRow) -> Result<Mail> {
    let sent_at: Option<i64> = sqlx::Row::try_get(row, "sent_at")?;
    Ok(Mail {
        id: uuid(row, "id")?,
        created_at: int(row, "created_at")?,
        recipient: text(row, "recipient")?,
        subject: text(row, "subject")?,
        body: text(row, "body")?,
        dedup_key: opt_text(row, "dedup_key")?,
        sent_at,
        attempts: int(row, "attempts")?,
        last_error: opt_text(row, "last_error")?,
    })
}

impl Store {
    /// Queues a message; returns false (and queues nothing) when one with the same
    /// `dedup_key` is already queued or sent.
    pub async fn enqueue_mail(&self, m: &Mail) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO outbox (id, created_at, recipient, subject, body, dedup_key, attempts) \
             VALUES ($1, $2, $3, $4, $5, $6, 0) ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(id(m.id))
        .bind(m.created_at)
        .bind(m.recipient.as_str())
        .bind(m.subject.as_str())
        .bind(m.body.as_str())
        .bind(m.dedup_key.as_deref())
        .execute(&self.pool)
        .await
        .map_err(|e| classify(e, || format!("message {} is already queued", m.id), || "outbox".into()))?;
        Ok(touched(&r))
    }

    /// Messages not sent yet, oldest first.
    pub async fn unsent_mail(&self, limit: u32) -> Result<Vec<Mail>> {
        let sql = format!("SELECT {COLS} FROM outbox WHERE sent_at IS NULL ORDER BY created_at, id LIMIT $1");
        let rows = sqlx::query(&sql).bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.iter().map(mail_from).collect()
    }

    /// Every message, newest first (at most `limit`).
    pub async fn list_mail(&self, limit: u32) -> Result<Vec<Mail>> {
        let sql = format!("SELECT {COLS} FROM outbox ORDER BY created_at DESC, id LIMIT $1");
        let rows = sqlx::query(&sql).bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.iter().map(mail_from).collect()
    }

    /// Records a delivery.
    pub async fn mark_mail_sent(&self, mail: Uuid, at: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE outbox SET sent_at = $2, attempts = attempts + 1, last_error = NULL \
             WHERE id = $1 AND sent_at IS NULL",
        )
        .bind(id(mail))
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(touched(&r))
    }

    /// Records a failed delivery attempt (the message stays queued).
    pub async fn mark_mail_failed(&self, mail: Uuid, error: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
            .bind(id(mail))
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
