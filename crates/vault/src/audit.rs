//! The append-only audit log, hash-chained: each row's hash is SHA-256 over the previous row's
//! hash and the row's canonical form (a JSON array of its fields in a fixed order), and a head
//! record holds the last sequence number and hash. [`Vault::verify_audit`] recomputes the chain
//! and names the first row that was modified, removed or moved; removing rows at the end is seen
//! through the head. Rows are written in the same transaction that moves the head (and with it
//! takes the chain's lock), so concurrent writers cannot fork the chain. Two ways in: the API's
//! access rows through one writer task that commits whatever is waiting together
//! ([`Vault::audit`]), and the domain's change rows inside the change's own transaction
//! ([`Vault::record`]).

use serde::Serialize;
use sqlx::any::AnyRow;
use std::sync::{Arc, Mutex, PoisonError};
use store::{Store, WriteTx};

use tokio::sync::{mpsc, oneshot};

use crate::error::{Result, VaultError};
use crate::Vault;
use store::row::{int, opt_int, text};
use web::token::sha256_hex;

/// One event to record. `detail` must never hold a secret.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    /// Who: a vault user name, `cli` (the operator), `vault` (the vault itself), or `-` when
    /// unknown.
    pub actor: &'a str,
    /// What: `Requests.Create`, `Credentials.Get`, `Auth.SignAppIn`, `account.rotate`, ….
    pub action: &'a str,
    /// Which managed account, if any.
    pub account_id: Option<i64>,
    /// From where: the peer IP address, or `cli`.
    pub source: &'a str,
    /// `ok`, or the error code.
    pub result: &'a str,
    /// A short sentence (IDs, durations), never a secret.
    pub detail: &'a str,
}

/// A stored row.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub account_id: Option<i64>,
    pub source: String,
    pub result: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    fn canonical(&self) -> String {
        serde_json::json!([
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.account_id,
            self.source,
            self.result,
            self.detail
        ])
        .to_string()
    }

    fn expected_hash(&self, prev: &str) -> String {
        sha256_hex(format!("{prev}\n{}", self.canonical()).as_bytes())
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The chain is whole: `rows` rows.
    Intact { rows: i64 },
    /// The first bad row (or the head) and what is wrong there.
    Broken { seq: i64, why: String },
}

fn row(r: &AnyRow) -> Result<AuditRow> {
    Ok(AuditRow {
        seq: int(r, "seq")?,
        at: int(r, "at")?,
        actor: text(r, "actor")?,
        action: text(r, "action")?,
        account_id: opt_int(r, "account_id")?,
        source: text(r, "source")?,
        result: text(r, "result")?,
        detail: text(r, "detail")?,
        prev_hash: text(r, "prev_hash")?,
        hash: text(r, "hash")?,
    })
}

impl Vault {
    /// Appends one event to the chain and returns once it is committed. Concurrent callers are
    /// written together (group commit: one transaction for all events waiting at that moment),
    /// each still returning only after its row is committed.
    pub async fn audit(&self, e: Event<'_>) -> Result<()> {
        let row = Pending::of(self.now(), &e);
        let (done, wait) = oneshot::channel();
        let queue = self.audit_queue();
        if queue.send((row, done)).is_err() {
            return Err(lost());
        }
        wait.await.map_err(|_| lost())?
    }

    /// The last `limit` rows (newest last).
    pub async fn audit_rows(&self, limit: i64) -> Result<Vec<AuditRow>> {
        let rows = sqlx::query("SELECT * FROM vault_audit ORDER BY seq DESC LIMIT $1")
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        let mut out = rows.iter().map(row).collect::<Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    /// Recomputes the chain from the first row and compares with the head.
    pub async fn verify_audit(&self) -> Result<Verdict> {
        let rows = sqlx::query("SELECT * FROM vault_audit ORDER BY seq").fetch_all(self.pool()).await?;
        let head =
            sqlx::query("SELECT seq, hash FROM vault_audit_head WHERE id = 1").fetch_one(self.pool()).await?;
        let mut prev = String::new();
        let mut expected_seq = 1;
        for r in &rows {
            let r = row(r)?;
            if r.seq != expected_seq {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    why: format!("row {expected_seq} is missing (the next row is {})", r.seq),
                });
            }
            if r.prev_hash != prev {
                return Ok(Verdict::Broken {
                    seq: r.seq,
                    why: "its link to the previous row does not match (a row before it was removed, changed or moved)"
                        .into(),
                });
            }
            if r.expected_hash(&prev) != r.hash {
                return Ok(Verdict::Broken {
                    seq: r.seq,
                    why: "its content does not match its hash (the row was changed)".into(),
                });
            }
            prev = r.hash;
            expected_seq += 1;
        }
        let (head_seq, head_hash) = (int(&head, "seq")?, text(&head, "hash")?);
        if head_seq != expected_seq - 1 || head_hash != prev {
            return Ok(Verdict::Broken {
                seq: expected_seq,
                why: format!(
                    "the log ends at row {} but the head records row {head_seq} (rows at the end were removed or the head was changed)",
                    expected_seq - 1
                ),
            });
        }
        Ok(Verdict::Intact { rows: expected_seq - 1 })
    }
}

/// An event waiting for the writer.
pub(crate) struct Pending {
    at: i64,
    actor: String,
    action: String,
    account_id: Option<i64>,
    source: String,
    result: String,
    detail: String,
}

impl Pending {
    fn of(at: i64, e: &Event<'_>) -> Pending {
        Pending {
            at,
            actor: e.actor.into(),
            action: e.action.into(),
            account_id: e.account_id,
            source: e.source.into(),
            result: e.result.into(),
            detail: e.detail.into(),
        }
    }
}

pub(crate) type Queue = mpsc::UnboundedSender<(Pending, oneshot::Sender<Result<()>>)>;

fn lost() -> VaultError {
    VaultError::Store(store::StoreError::Database(
        "the audit writer stopped (the server is shutting down): nothing was recorded".into(),
    ))
}

/// The head of the chain (last sequence number and hash) as this process last wrote it, so that
/// an append needs no read first: it moves the head with a write guarded by this value
/// (`UPDATE … WHERE seq = ? AND hash = ?`) and only when another writer moved it meanwhile (the
/// guard matched nothing) reads the head as it is. A stale value is never trusted: the guard
/// checks it in the same transaction.
#[derive(Debug, Default)]
pub(crate) struct Head(Mutex<Option<(i64, String)>>);

impl Head {
    fn get(&self) -> Option<(i64, String)> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set(&self, seq: i64, hash: String) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some((seq, hash));
    }
}

/// Starts the writer of a vault's audit log; it ends when the vault (the queue) is dropped.
pub(crate) fn start_writer(store: Store, head: Arc<Head>) -> Queue {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Pending, oneshot::Sender<Result<()>>)>();
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < 512 {
                match rx.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let rows: Vec<&Pending> = batch.iter().map(|(p, _)| p).collect();
            let outcome = write_batch(&store, &head, &rows).await;
            for (_, done) in batch {
                let _ = done.send(match &outcome {
                    Ok(()) => Ok(()),
                    Err(e) => Err(VaultError::Store(store::StoreError::Database(e.to_string()))),
                });
            }
        }
    });
    tx
}

/// Appends `rows` to the chain in one transaction.
async fn write_batch(store: &Store, head: &Head, rows: &[&Pending]) -> Result<()> {
    let mut tx = store.begin_write().await?;
    append(&mut tx, head, rows).await?;
    tx.commit().await?;
    Ok(())
}

impl Vault {
    /// Appends one event to the chain inside `tx`, the caller's write transaction, so that a
    /// change and its audit row commit together or not at all (the domain's state changes use
    /// this; never [`Vault::audit`] while holding a write transaction, whose writer would wait
    /// for it).
    pub(crate) async fn record(&self, tx: &mut WriteTx, at: i64, e: &Event<'_>) -> Result<()> {
        append(tx, self.audit_head(), &[&Pending::of(at, e)]).await
    }
}

/// `rows` chained after (`seq`, `hash`).
fn chain(seq: i64, hash: &str, rows: &[&Pending]) -> Vec<AuditRow> {
    let (mut last, mut prev) = (seq, hash.to_string());
    let mut out = Vec::with_capacity(rows.len());
    for p in rows {
        let mut r = AuditRow {
            seq: last + 1,
            at: p.at,
            actor: p.actor.clone(),
            action: p.action.clone(),
            account_id: p.account_id,
            source: p.source.clone(),
            result: p.result.clone(),
            detail: p.detail.clone(),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        r.hash = r.expected_hash(&prev);
        last = r.seq;
        prev.clone_from(&r.hash);
        out.push(r);
    }
    out
}

/// Appends `rows` to the chain inside `tx`. Moving the head takes the chain's lock (a row lock on
/// PostgreSQL; SQLite's write lock is already held), so concurrent writers cannot fork it.
async fn append(tx: &mut WriteTx, head: &Head, rows: &[&Pending]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut chained = None;
    if let Some((seq, hash)) = head.get() {
        let rows = chain(seq, &hash, rows);
        if let Some(end) = rows.last() {
            let moved = sqlx::query(
                "UPDATE vault_audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4",
            )
            .bind(end.seq)
            .bind(&end.hash)
            .bind(seq)
            .bind(&hash)
            .execute(&mut **tx)
            .await?;
            if moved.rows_affected() == 1 {
                chained = Some(rows);
            }
        }
    }
    let rows = match chained {
        Some(rows) => rows,
        None => {
            // Another writer (process) moved the head: read it as it is, and lock it.
            let now = sqlx::query("UPDATE vault_audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut **tx)
                .await?;
            let rows = chain(int(&now, "seq")?, &text(&now, "hash")?, rows);
            if let Some(end) = rows.last() {
                sqlx::query("UPDATE vault_audit_head SET seq = $1, hash = $2 WHERE id = 1")
                    .bind(end.seq)
                    .bind(&end.hash)
                    .execute(&mut **tx)
                    .await?;
            }
            rows
        }
    };
    for r in &rows {
        sqlx::query(
            "INSERT INTO vault_audit (seq, at, actor, action, account_id, source, result, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(r.seq)
        .bind(r.at)
        .bind(&r.actor)
        .bind(&r.action)
        .bind(r.account_id)
        .bind(&r.source)
        .bind(&r.result)
        .bind(&r.detail)
        .bind(&r.prev_hash)
        .bind(&r.hash)
        .execute(&mut **tx)
        .await?;
    }
    // If `tx` rolls back, this value is stale and the next append's guard finds that out.
    if let Some(end) = rows.last() {
        head.set(end.seq, end.hash.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: &str) -> Event<'_> {
        Event { actor: "t", action, source: "test", result: "ok", ..Default::default() }
    }

    /// The cached head goes stale when a transaction that appended rolls back, even when another
    /// writer then reaches the same sequence number; the next append's guard sees that and the
    /// chain stays whole.
    #[tokio::test]
    async fn a_rolled_back_append_does_not_fork_the_chain() {
        let db = store::testkit::sqlite().await;
        let clock = Arc::new(crate::ManualClock::new(1_800_000_000));
        let v =
            Vault::open(db.store.clone(), &store::seal::MasterKey::from_bytes([2; 32]), clock).await.unwrap();
        v.audit(event("first")).await.unwrap();
        let mut tx = v.store().begin_write().await.unwrap();
        v.record(&mut tx, v.now(), &event("rolled back")).await.unwrap();
        drop(tx);
        // Another vault on the store takes the sequence number the rolled-back row had: only
        // the hash tells the stale head from the real one.
        let clock = Arc::new(crate::ManualClock::new(1_800_000_000));
        let w =
            Vault::open(db.store.clone(), &store::seal::MasterKey::from_bytes([2; 32]), clock).await.unwrap();
        w.audit(event("other")).await.unwrap();
        v.audit(event("second")).await.unwrap();
        let mut tx = v.store().begin_write().await.unwrap();
        v.record(&mut tx, v.now(), &event("third")).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(v.verify_audit().await.unwrap(), Verdict::Intact { rows: 4 });
        let actions: Vec<String> = v.audit_rows(10).await.unwrap().into_iter().map(|r| r.action).collect();
        assert_eq!(actions, ["first", "other", "second", "third"]);
    }
}
