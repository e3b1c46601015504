//! The lifecycle of a release request as a state machine.
//!
//! ```text
//!             approve (enough approvals)
//!   Pending ───────────────────────────► Approved ──check in / renew──► CheckedIn
//!     │  ▲ approve (more needed)            │
//!     │  └──────┘                           └──time over, then the background pass──► Expired
//!     ├──deny──► Denied
//!     └──check in (withdrawn) / renew──► CheckedIn
//! ```
//!
//! As in rustls's handshake, each state a change can start from is a type ([`Held<Pending>`],
//! [`Held<Approved>`], [`Held<Overdue>`]) and only the legal transitions are methods on it, so an
//! illegal one cannot be written. A request is held only inside a write transaction: [`hold`]
//! locks its row first (a row lock on PostgreSQL; SQLite's write lock is already held), so
//! concurrent changes of one request take turns and the loser reads the winner's result. Every
//! transition is then written as `UPDATE … WHERE id = ? AND status = ?expected` with the row
//! count checked ([`Change::write`]): a change that lost a race is [`VaultError::RequestState`]
//! (PCV008, 409), never an overwrite.

use std::marker::PhantomData;

use store::row::{boolean, int, text};
use store::{Backend, WriteTx};

use crate::error::{Result, VaultError};

/// The stored status (`vault_requests.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    Pending,
    Approved,
    Denied,
    CheckedIn,
    Expired,
}

impl Stored {
    pub(crate) fn as_db(self) -> &'static str {
        match self {
            Stored::Pending => "pending",
            Stored::Approved => "approved",
            Stored::Denied => "denied",
            Stored::CheckedIn => "checked_in",
            Stored::Expired => "expired",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Stored> {
        Ok(match s {
            "pending" => Stored::Pending,
            "approved" => Stored::Approved,
            "denied" => Stored::Denied,
            "checked_in" => Stored::CheckedIn,
            "expired" => Stored::Expired,
            other => {
                return Err(VaultError::Store(store::StoreError::Database(format!(
                    "vault_requests.status holds {other:?}, which is not a request status: the database is corrupted"
                ))))
            }
        })
    }

    /// For sentences: "request 5 is denied".
    fn word(self) -> &'static str {
        match self {
            Stored::Pending => "pending",
            Stored::Approved => "approved",
            Stored::Denied => "denied",
            Stored::CheckedIn => "checked in",
            Stored::Expired => "expired",
        }
    }
}

/// Pending approval, its time not over.
#[derive(Debug)]
pub(crate) struct Pending;
/// Approved, its time not over: the credential may be read.
#[derive(Debug)]
pub(crate) struct Approved;
/// Stored as approved but its time is over: it can only expire.
#[derive(Debug)]
pub(crate) struct Overdue;

/// The facts of a held request that transitions need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts {
    pub id: i64,
    pub user_id: i64,
    pub account_id: i64,
    pub duration_minutes: i64,
    pub rotate_on_checkin: bool,
}

/// A request held inside a write transaction, known to be in state `S`.
#[derive(Debug)]
pub(crate) struct Held<S> {
    pub facts: Facts,
    state: PhantomData<S>,
}

impl<S> Held<S> {
    fn new(facts: Facts) -> Held<S> {
        Held { facts, state: PhantomData }
    }
}

/// What [`hold`] found.
#[derive(Debug)]
pub(crate) enum Current {
    Pending(Held<Pending>),
    Approved(Held<Approved>),
    Overdue(Held<Overdue>),
    /// Over: denied, checked in, expired, or pending past its time (`Expired` then).
    Closed {
        facts: Facts,
        status: Stored,
    },
}

impl Current {
    pub(crate) fn facts(&self) -> Facts {
        match self {
            Current::Pending(h) => h.facts,
            Current::Approved(h) => h.facts,
            Current::Overdue(h) => h.facts,
            Current::Closed { facts, .. } => *facts,
        }
    }

    /// The refusal for an action that needs another state: the request was closed before, or
    /// another caller changed it first.
    pub(crate) fn refuse(&self, action: &str) -> VaultError {
        let (id, status) = match self {
            Current::Pending(h) => (h.facts.id, "pending"),
            Current::Approved(h) => (h.facts.id, "approved"),
            Current::Overdue(h) => (h.facts.id, "expired"),
            Current::Closed { facts, status } => (facts.id, status.word()),
        };
        VaultError::RequestState(format!(
            "request {id} is {status}, so it cannot be {action} (it was changed before this call, perhaps \
             by another caller a moment earlier): reload it and act on its current state"
        ))
    }
}

/// Locks request `id` for the rest of `tx` and reads its state at `now`. `None`: no such request.
pub(crate) async fn hold(tx: &mut WriteTx, backend: Backend, id: i64, now: i64) -> Result<Option<Current>> {
    // A row lock on PostgreSQL: concurrent changes of this request wait here for each other.
    // SQLite's write transaction already excludes every other writer.
    if backend == Backend::Postgres {
        sqlx::query("UPDATE vault_requests SET status = status WHERE id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    let Some(r) = sqlx::query(
        "SELECT id, user_id, account_id, duration_minutes, rotate_on_checkin, status, expires_at \
         FROM vault_requests WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let facts = Facts {
        id: int(&r, "id")?,
        user_id: int(&r, "user_id")?,
        account_id: int(&r, "account_id")?,
        duration_minutes: int(&r, "duration_minutes")?,
        rotate_on_checkin: boolean(&r, "rotate_on_checkin")?,
    };
    let over = int(&r, "expires_at")? <= now;
    Ok(Some(match (Stored::parse(&text(&r, "status")?)?, over) {
        (Stored::Pending, false) => Current::Pending(Held::new(facts)),
        (Stored::Pending, true) => Current::Closed { facts, status: Stored::Expired },
        (Stored::Approved, false) => Current::Approved(Held::new(facts)),
        (Stored::Approved, true) => Current::Overdue(Held::new(facts)),
        (status, _) => Current::Closed { facts, status },
    }))
}

/// One transition, ready to be written.
#[derive(Debug)]
#[must_use = "a transition does nothing until it is written"]
pub(crate) struct Change {
    id: i64,
    from: Stored,
    pub to: Stored,
    approvals: Option<i64>,
    expires_at: Option<i64>,
    closed_at: Option<i64>,
}

impl Change {
    fn new(id: i64, from: Stored, to: Stored) -> Change {
        Change { id, from, to, approvals: None, expires_at: None, closed_at: None }
    }

    fn closing(id: i64, from: Stored, to: Stored, now: i64) -> Change {
        Change { closed_at: Some(now), ..Change::new(id, from, to) }
    }

    /// `from → to` for the audit row.
    pub(crate) fn describe(&self) -> String {
        format!("request {}: {} -> {}", self.id, self.from.word(), self.to.word())
    }

    /// Writes the transition, guarded by the expected status; a request that is no longer in it
    /// (a lost race) is [`VaultError::RequestState`] and nothing is written.
    pub(crate) async fn write(self, tx: &mut WriteTx) -> Result<Stored> {
        let done = sqlx::query(
            "UPDATE vault_requests SET status = $1, approvals = COALESCE($2, approvals), \
             expires_at = COALESCE($3, expires_at), closed_at = COALESCE($4, closed_at) \
             WHERE id = $5 AND status = $6",
        )
        .bind(self.to.as_db())
        .bind(self.approvals)
        .bind(self.expires_at)
        .bind(self.closed_at)
        .bind(self.id)
        .bind(self.from.as_db())
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(VaultError::RequestState(format!(
                "request {} is no longer {}: another caller changed it first, and nothing was changed; \
                 reload it and act on its current state",
                self.id,
                self.from.word()
            )));
        }
        Ok(self.to)
    }
}

impl Held<Pending> {
    /// Records `given` of `required` approvals: approved (its time counted from `now`) once
    /// enough are given, still pending otherwise.
    pub(crate) fn approve(self, given: i64, required: i64, now: i64) -> Change {
        let id = self.facts.id;
        if given >= required {
            Change {
                approvals: Some(given),
                expires_at: Some(now + self.facts.duration_minutes * 60),
                ..Change::new(id, Stored::Pending, Stored::Approved)
            }
        } else {
            Change { approvals: Some(given), ..Change::new(id, Stored::Pending, Stored::Pending) }
        }
    }

    pub(crate) fn deny(self, now: i64) -> Change {
        Change::closing(self.facts.id, Stored::Pending, Stored::Denied, now)
    }

    /// Checked in before any approval: withdrawn.
    pub(crate) fn withdraw(self, now: i64) -> Change {
        Change::closing(self.facts.id, Stored::Pending, Stored::CheckedIn, now)
    }

    /// Closed because its requester asked for a new one (`ConflictOption: renew`).
    pub(crate) fn renew(self, now: i64) -> Change {
        Change::closing(self.facts.id, Stored::Pending, Stored::CheckedIn, now)
    }
}

impl Held<Approved> {
    pub(crate) fn check_in(self, now: i64) -> Change {
        Change::closing(self.facts.id, Stored::Approved, Stored::CheckedIn, now)
    }

    /// Closed because its requester asked for a new one (`ConflictOption: renew`).
    pub(crate) fn renew(self, now: i64) -> Change {
        Change::closing(self.facts.id, Stored::Approved, Stored::CheckedIn, now)
    }
}

impl Held<Overdue> {
    /// Its time is over without a check-in.
    pub(crate) fn expire(self, now: i64) -> Change {
        Change::closing(self.facts.id, Stored::Approved, Stored::Expired, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::{NewAccount, NewSystem};
    use crate::requests::{ConflictOption, NewRequest, Outcome};
    use crate::{ManualClock, Vault};

    /// A vault with one request of `alice`, pending (auto-approve off) or approved.
    async fn one_request(auto_approve: bool) -> (store::testkit::TestDb, Vault, i64) {
        let db = store::testkit::sqlite().await;
        let clock = std::sync::Arc::new(ManualClock::new(1_800_000_000));
        let v =
            Vault::open(db.store.clone(), &store::seal::MasterKey::from_bytes([1; 32]), clock).await.unwrap();
        v.create_system(NewSystem {
            name: "s".into(),
            host: "h".into(),
            platform: "generic".into(),
            ..Default::default()
        })
        .await
        .unwrap();
        let a = v
            .create_account(NewAccount {
                system: "s".into(),
                name: "a".into(),
                api_enabled: true,
                ..Default::default()
            })
            .await
            .unwrap();
        let alice = v.create_user("alice", None, None).await.unwrap();
        v.create_policy(crate::admin::NewPolicy {
            name: "p".into(),
            auto_approve,
            approvals_required: 1,
            all_day: true,
            window_start: 0,
            window_end: 1440,
            max_minutes: 60,
        })
        .await
        .unwrap();
        v.create_group("g").await.unwrap();
        v.set_group("g", Some(Some("p".into())), None).await.unwrap();
        v.grant_role("g", crate::model::Scope::All, crate::model::Role::Requestor).await.unwrap();
        v.add_member("g", "alice").await.unwrap();
        let new = NewRequest {
            system_id: None,
            account_id: a.id,
            duration_minutes: 10,
            reason: String::new(),
            access_type: String::new(),
            conflict: ConflictOption::None,
            rotate_on_checkin: None,
        };
        let Ok(Outcome::Created(id)) = v.create_request(&alice, new).await else { panic!("no request") };
        (db, v, id)
    }

    /// The guarded write is what stops a lost race: when the row is no longer in the state the
    /// change was made from (here another writer denied it after it was held), nothing is
    /// written and the caller gets PCV008.
    #[tokio::test]
    async fn a_change_from_a_state_the_row_left_is_refused_and_writes_nothing() {
        let (_db, v, id) = one_request(false).await;
        let now = v.now();
        let mut tx = v.store().begin_write().await.unwrap();
        let Some(Current::Pending(held)) = hold(&mut tx, Backend::Sqlite, id, now).await.unwrap() else {
            panic!("pending")
        };
        sqlx::query("UPDATE vault_requests SET status = 'denied' WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
        let err = held.approve(1, 1, now).write(&mut tx).await.unwrap_err();
        assert_eq!(err.code(), "PCV008", "{err}");
        tx.commit().await.unwrap();
        assert_eq!(v.request(id).await.unwrap().status, crate::model::RequestStatus::Denied);
    }

    /// Only the legal transitions exist for each held state, and a request whose time is over
    /// is held as overdue (it can only expire) or closed.
    #[tokio::test]
    async fn held_states_follow_the_status_and_the_clock() {
        let (_db, v, id) = one_request(true).await;
        let now = v.now();
        let mut tx = v.store().begin_write().await.unwrap();
        assert!(matches!(hold(&mut tx, Backend::Sqlite, id, now).await.unwrap(), Some(Current::Approved(_))));
        let Some(Current::Overdue(held)) = hold(&mut tx, Backend::Sqlite, id, now + 3600).await.unwrap()
        else {
            panic!("overdue")
        };
        assert_eq!(held.expire(now + 3600).write(&mut tx).await.unwrap(), Stored::Expired);
        let closed = hold(&mut tx, Backend::Sqlite, id, now).await.unwrap().unwrap();
        assert!(matches!(closed, Current::Closed { status: Stored::Expired, .. }));
        assert_eq!(closed.refuse("checked in").code(), "PCV008");
        assert!(hold(&mut tx, Backend::Sqlite, id + 1000, now).await.unwrap().is_none());
    }
}
