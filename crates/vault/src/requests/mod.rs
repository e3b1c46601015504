//! Release requests: who may ask for which account, for how long, with what approval; one open
//! request per account and user (`ConflictOption` reuse/renew), approval, denial, check-in and
//! expiry as the transitions of [`lifecycle`], and reading the credential of an approved, active
//! request. Every transition writes its audit row in its own transaction.

mod lifecycle;

use sqlx::any::AnyRow;
use sqlx::Row;
use store::row::{boolean, fold, int, opt_int, text};
use zeroize::Zeroizing;

use crate::admin::{account_row, ACCOUNT_COLS};
use crate::audit::Event;
use crate::error::{conflict, forbidden, invalid, not_found, Result, VaultError};
use crate::model::*;
use crate::Vault;
use lifecycle::{hold, Current, Stored};

/// What to do when the caller already has an open request for the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictOption {
    /// Refuse (409).
    None,
    /// Return the open request (200).
    Reuse,
    /// Close the open request and create a new one (201).
    Renew,
}

impl ConflictOption {
    pub fn parse(s: Option<&str>) -> Result<ConflictOption> {
        match s.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") => Ok(ConflictOption::None),
            Some("reuse") => Ok(ConflictOption::Reuse),
            Some("renew") => Ok(ConflictOption::Renew),
            Some(other) => Err(invalid(format!("ConflictOption {other:?} is not reuse or renew"))),
        }
    }
}

/// A release request as the caller asks for it.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub system_id: Option<i64>,
    pub account_id: i64,
    pub duration_minutes: i64,
    pub reason: String,
    pub access_type: String,
    pub conflict: ConflictOption,
    pub rotate_on_checkin: Option<bool>,
}

/// The request created (201) or reused (200).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created(i64),
    Reused(i64),
}

const REQUEST_COLS: &str = "r.id, r.user_id, u.name AS user_name, r.system_id, s.name AS system_name, r.account_id, \
    a.name AS account_name, r.duration_minutes, r.reason, r.access_type, r.status, r.approvals, r.rotate_on_checkin, \
    r.created_at, r.expires_at, r.closed_at";
const REQUEST_FROM: &str = "vault_requests r JOIN vault_users u ON u.id = r.user_id \
    JOIN vault_systems s ON s.id = r.system_id JOIN vault_accounts a ON a.id = r.account_id";

fn request_row(r: &AnyRow, now: i64) -> Result<Request> {
    let expires_at = int(r, "expires_at")?;
    let status = match Stored::parse(&text(r, "status")?)? {
        Stored::Pending | Stored::Approved if expires_at <= now => RequestStatus::Expired,
        Stored::Pending => RequestStatus::Pending,
        Stored::Approved => RequestStatus::Approved,
        Stored::Denied => RequestStatus::Denied,
        Stored::CheckedIn => RequestStatus::CheckedIn,
        Stored::Expired => RequestStatus::Expired,
    };
    Ok(Request {
        id: int(r, "id")?,
        user_id: int(r, "user_id")?,
        user_name: text(r, "user_name")?,
        system_id: int(r, "system_id")?,
        system_name: text(r, "system_name")?,
        account_id: int(r, "account_id")?,
        account_name: text(r, "account_name")?,
        duration_minutes: int(r, "duration_minutes")?,
        reason: text(r, "reason")?,
        access_type: text(r, "access_type")?,
        status,
        approvals: int(r, "approvals")?,
        rotate_on_checkin: boolean(r, "rotate_on_checkin")?,
        created_at: int(r, "created_at")?,
        expires_at,
        closed_at: opt_int(r, "closed_at")?,
    })
}

/// Which requests a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// The caller's own requests.
    Requestor,
    /// Requests the caller may approve.
    Approver,
    /// Every request (administration).
    All,
}

impl Vault {
    /// The API-enabled accounts `user_id` may request.
    pub async fn requestable_accounts(&self, user_id: i64) -> Result<Vec<Account>> {
        let rows = sqlx::query(&format!(
            "SELECT DISTINCT {ACCOUNT_COLS} FROM vault_accounts a JOIN vault_systems s ON s.id = a.system_id \
             JOIN vault_group_roles gr ON (gr.scope_kind = 'all' OR (gr.scope_kind = 'system' AND gr.scope_id = a.system_id) \
               OR (gr.scope_kind = 'account' AND gr.scope_id = a.id)) \
             JOIN vault_group_members m ON m.group_id = gr.group_id \
             WHERE m.user_id = $1 AND a.api_enabled = $2 AND gr.role IN ($3, $4) ORDER BY a.id"
        ))
        .bind(user_id)
        .bind(true)
        .bind(Role::Requestor.as_str())
        .bind(Role::RequestorApprover.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(account_row).collect()
    }

    /// The account if it is API-enabled and `user_id` may request it. An account the caller holds
    /// no role on reads "not found", so that accounts a caller may not use stay invisible; one the
    /// caller could request but that is not API-enabled says so (PCV010).
    async fn visible_account(
        &self,
        user_id: i64,
        account_id: i64,
    ) -> Result<(Account, Vec<(Role, Option<i64>)>)> {
        let hidden = || not_found(format!("managed account {account_id} was not found"));
        let account = self.account(account_id).await.map_err(|_| hidden())?;
        let roles = self.roles_on_account(user_id, &account).await?;
        if !account.api_enabled {
            if roles.iter().any(|(r, _)| r.may_request()) {
                return Err(not_api_enabled(&account));
            }
            return Err(hidden());
        }
        Ok((account, roles))
    }

    /// Creates (or reuses) a release request for `user`.
    pub async fn create_request(&self, user: &User, new: NewRequest) -> Result<Outcome> {
        let (account, roles) = self.visible_account(user.id, new.account_id).await?;
        if new.system_id.is_some_and(|s| s != account.system_id) {
            return Err(not_found(format!(
                "managed account {} is not on managed system {}",
                account.id,
                new.system_id.unwrap_or_default()
            )));
        }
        let policy_ids: Vec<Option<i64>> =
            roles.iter().filter(|(r, _)| r.may_request()).map(|(_, p)| *p).collect();
        if policy_ids.is_empty() {
            return Err(forbidden(format!(
                "user {:?} may not request managed account {}: add the user to a group with the Requestor role on it",
                user.name, account.id
            )));
        }
        let mut policies = Vec::new();
        for id in policy_ids.into_iter().flatten() {
            policies.push(self.policy(&id.to_string()).await?);
        }
        let now = self.now();
        let policy = policies
            .iter()
            .filter(|p| p.open_at(now))
            .max_by_key(|p| (p.auto_approve, p.max_minutes))
            .cloned()
            .ok_or_else(|| {
                forbidden(format!(
                    "no access policy lets {:?} request managed account {} now: attach a policy to the group, or wait for its time window",
                    user.name, account.id
                ))
            })?;
        let max = account.max_release_minutes.min(policy.max_minutes);
        if !(1..=max).contains(&new.duration_minutes) {
            return Err(invalid(format!("DurationMinutes must be between 1 and {max} for this account")));
        }
        let mut tx = self.store().begin_write().await?;
        // Serializes request creation per account: a row lock on PostgreSQL, so two concurrent
        // requests cannot both see "no open request" (SQLite's write lock already excludes that).
        if self.store().backend() == store::Backend::Postgres {
            sqlx::query("UPDATE vault_accounts SET rotation_attempts = rotation_attempts WHERE id = $1")
                .bind(account.id)
                .execute(&mut *tx)
                .await?;
        }
        let open = sqlx::query(
            "SELECT id FROM vault_requests WHERE account_id = $1 AND user_id = $2 AND status IN ($3, $4) \
             AND expires_at > $5 ORDER BY id DESC LIMIT 1",
        )
        .bind(account.id)
        .bind(user.id)
        .bind(Stored::Pending.as_db())
        .bind(Stored::Approved.as_db())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(open) = open {
            let id = int(&open, "id")?;
            match new.conflict {
                ConflictOption::Reuse => {
                    tx.commit().await?;
                    return Ok(Outcome::Reused(id));
                }
                ConflictOption::Renew => {
                    let change = match hold(&mut tx, self.store().backend(), id, now).await?.ok_or_else(|| gone(id))? {
                        Current::Pending(h) => h.renew(now),
                        Current::Approved(h) => h.renew(now),
                        other => return Err(other.refuse("renewed")),
                    };
                    let detail = format!("{} (renewed by a new request)", change.describe());
                    change.write(&mut tx).await?;
                    self.record_transition(&mut tx, now, Actor::User(user), "request.close", account.id, &detail).await?;
                }
                ConflictOption::None => {
                    return Err(conflict(format!(
                        "user {:?} already has an open request ({id}) for managed account {}: check it in, or send ConflictOption reuse or renew",
                        user.name, account.id
                    )))
                }
            }
        }
        let status = if policy.auto_approve { Stored::Approved } else { Stored::Pending };
        let id: i64 = sqlx::query(
            "INSERT INTO vault_requests (user_id, system_id, account_id, policy_id, duration_minutes, reason, access_type, \
             status, approvals, rotate_on_checkin, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11) RETURNING id",
        )
        .bind(user.id)
        .bind(account.system_id)
        .bind(account.id)
        .bind(policy.id)
        .bind(new.duration_minutes)
        .bind(new.reason.chars().take(1000).collect::<String>())
        .bind(if new.access_type.is_empty() { "View".to_string() } else { new.access_type })
        .bind(status.as_db())
        .bind(new.rotate_on_checkin.unwrap_or(true))
        .bind(now)
        .bind(now + new.duration_minutes * 60)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let detail = format!(
            "request {id}: {} for {} minutes under policy {:?}",
            if status == Stored::Approved { "approved" } else { "pending" },
            new.duration_minutes,
            policy.name
        );
        self.record_transition(&mut tx, now, Actor::User(user), "request.create", account.id, &detail)
            .await?;
        tx.commit().await?;
        Ok(Outcome::Created(id))
    }

    pub async fn request(&self, id: i64) -> Result<Request> {
        let r = sqlx::query(&format!("SELECT {REQUEST_COLS} FROM {REQUEST_FROM} WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| not_found(format!("release request {id} was not found")))?;
        request_row(&r, self.now())
    }

    /// Requests in a queue, filtered by status (`all`, `active`, `pending`, `checked-in`, …).
    pub async fn list_requests(
        &self,
        user: Option<&User>,
        queue: Queue,
        status: Option<&str>,
    ) -> Result<Vec<Request>> {
        let rows = sqlx::query(&format!("SELECT {REQUEST_COLS} FROM {REQUEST_FROM} ORDER BY r.id"))
            .fetch_all(self.pool())
            .await?;
        let now = self.now();
        let mut out = Vec::new();
        for r in &rows {
            let req = request_row(r, now)?;
            let keep = match (queue, user) {
                (Queue::All, _) | (_, None) => true,
                (Queue::Requestor, Some(u)) => req.user_id == u.id,
                (Queue::Approver, Some(u)) => {
                    req.user_id != u.id && {
                        let account = self.account(req.account_id).await?;
                        self.roles_on_account(u.id, &account).await?.iter().any(|(r, _)| r.may_approve())
                    }
                }
            };
            let status_ok = match status.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
                None | Some("") | Some("all") => true,
                Some("active") => req.is_active(),
                Some(other) => req.status.matches(other),
            };
            if keep && status_ok {
                out.push(req);
            }
        }
        Ok(out)
    }

    /// The credential of an approved, active request of `user`.
    pub async fn credential(&self, user: &User, request_id: i64) -> Result<(Request, Zeroizing<String>)> {
        let req = self
            .request(request_id)
            .await
            .map_err(|_| forbidden("the request is not yours or is not active"))?;
        if req.user_id != user.id {
            return Err(forbidden("the request is not yours or is not active"));
        }
        if !req.is_active() {
            return Err(forbidden(format!(
                "request {request_id} is {}: its credential can no longer be read; create a new request",
                req.status.as_str().to_lowercase()
            )));
        }
        let pw = self.account_password(req.account_id).await?;
        Ok((req, pw))
    }

    /// Checks a request in: its owner, an approver of the account, or the operator. An approved
    /// request whose account changes its password after release (and whose request asks for
    /// it) then rotates, once no other request of the account is active. A pending request is
    /// withdrawn. Of concurrent check-ins exactly one wins; the others get PCV008. Returns the
    /// request's account.
    pub async fn check_in(&self, by: Actor<'_>, request_id: i64) -> Result<i64> {
        let now = self.now();
        let mut tx = self.store().begin_write().await?;
        let current =
            hold(&mut tx, self.store().backend(), request_id, now).await?.ok_or_else(|| gone(request_id))?;
        let facts = current.facts();
        if let Actor::User(u) = by {
            if facts.user_id != u.id && !self.may_approve(u, facts.account_id).await? {
                return Err(forbidden(format!("request {request_id} is not yours")));
            }
        }
        let (change, released) = match current {
            Current::Approved(h) => (h.check_in(now), true),
            Current::Pending(h) => (h.withdraw(now), false),
            other => return Err(other.refuse("checked in")),
        };
        let detail = change.describe();
        change.write(&mut tx).await?;
        self.record_transition(&mut tx, now, by, "request.checkin", facts.account_id, &detail).await?;
        tx.commit().await?;
        if released && facts.rotate_on_checkin {
            self.release_ended(facts.account_id).await?;
        }
        Ok(facts.account_id)
    }

    /// Approves a pending request: an approver of the account who is not its requester (one
    /// approval of those the policy needs), or the operator (outright). Returns whether the
    /// request is now approved. A request denied, approved or checked in meanwhile is PCV008.
    pub async fn approve(&self, by: Actor<'_>, request_id: i64) -> Result<bool> {
        let req = self.request(request_id).await?;
        match by {
            Actor::User(u) => {
                if u.id == req.user_id {
                    return Err(forbidden("a requester cannot approve their own request"));
                }
                if !self.may_approve(u, req.account_id).await? {
                    return Err(forbidden(format!(
                        "user {:?} may not approve requests for this account",
                        u.name
                    )));
                }
            }
            Actor::Operator => {}
            Actor::System => return Err(forbidden("the vault itself never approves a request")),
        }
        let required = match sqlx::query(
            "SELECT p.approvals_required FROM vault_requests r JOIN vault_policies p ON p.id = r.policy_id WHERE r.id = $1",
        )
        .bind(request_id)
        .fetch_optional(self.pool())
        .await?
        {
            Some(r) => int(&r, "approvals_required")?.max(1),
            None => 1,
        };
        let now = self.now();
        let mut tx = self.store().begin_write().await?;
        let current =
            hold(&mut tx, self.store().backend(), request_id, now).await?.ok_or_else(|| gone(request_id))?;
        let Current::Pending(held) = current else {
            return Err(current.refuse("approved"));
        };
        let account_id = held.facts.account_id;
        let given: i64 = match by {
            Actor::User(u) => {
                sqlx::query(
                    "INSERT INTO vault_request_approvals (request_id, approver_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(request_id)
                .bind(u.id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("SELECT COUNT(*) AS n FROM vault_request_approvals WHERE request_id = $1")
                    .bind(request_id)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("n")?
            }
            // The operator (an administrator on the host) approves outright.
            Actor::Operator | Actor::System => required,
        };
        let change = held.approve(given, required, now);
        let detail = format!("{} ({given} of {required} approvals)", change.describe());
        let to = change.write(&mut tx).await?;
        self.record_transition(&mut tx, now, by, "request.approve", account_id, &detail).await?;
        tx.commit().await?;
        Ok(to == Stored::Approved)
    }

    /// Denies a pending request (an approver of the account, or the operator). A request
    /// approved, denied or checked in meanwhile is PCV008.
    pub async fn deny(&self, by: Actor<'_>, request_id: i64) -> Result<()> {
        let req = self.request(request_id).await?;
        match by {
            Actor::User(u) => {
                if !self.may_approve(u, req.account_id).await? {
                    return Err(forbidden(format!(
                        "user {:?} may not deny requests for this account",
                        u.name
                    )));
                }
            }
            Actor::Operator => {}
            Actor::System => return Err(forbidden("the vault itself never denies a request")),
        }
        let now = self.now();
        let mut tx = self.store().begin_write().await?;
        let current =
            hold(&mut tx, self.store().backend(), request_id, now).await?.ok_or_else(|| gone(request_id))?;
        let Current::Pending(held) = current else {
            return Err(current.refuse("denied"));
        };
        let account_id = held.facts.account_id;
        let change = held.deny(now);
        let detail = change.describe();
        change.write(&mut tx).await?;
        self.record_transition(&mut tx, now, by, "request.deny", account_id, &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores approved requests whose time is over as expired (the background pass), and ends
    /// their releases (rotation when asked for). Returns how many rotations were attempted.
    pub(crate) async fn expire_overdue(&self) -> Result<usize> {
        let now = self.now();
        let overdue: Vec<i64> =
            sqlx::query("SELECT id FROM vault_requests WHERE status = $1 AND expires_at <= $2 ORDER BY id")
                .bind(Stored::Approved.as_db())
                .bind(now)
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| int(r, "id"))
                .collect::<Result<_, _>>()?;
        let mut rotated = 0;
        for id in overdue {
            let mut tx = self.store().begin_write().await?;
            // Checked in meanwhile: that check-in ended the release.
            let Some(Current::Overdue(held)) = hold(&mut tx, self.store().backend(), id, now).await? else {
                continue;
            };
            let facts = held.facts;
            let change = held.expire(now);
            let detail = change.describe();
            change.write(&mut tx).await?;
            self.record_transition(&mut tx, now, Actor::System, "request.expire", facts.account_id, &detail)
                .await?;
            tx.commit().await?;
            if facts.rotate_on_checkin && self.release_ended(facts.account_id).await? {
                rotated += 1;
            }
        }
        Ok(rotated)
    }

    /// Sets whether checking the request in rotates the password (its owner only).
    pub async fn set_rotate_on_checkin(&self, user: &User, request_id: i64, rotate: bool) -> Result<()> {
        let req = self.request(request_id).await?;
        if req.user_id != user.id {
            return Err(forbidden(format!("request {request_id} is not yours")));
        }
        sqlx::query("UPDATE vault_requests SET rotate_on_checkin = $1 WHERE id = $2")
            .bind(rotate)
            .bind(request_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Whether `user_id` may request `account_id` (AccessPolicies/Test).
    pub async fn may_request(&self, user_id: i64, account_id: i64) -> Result<bool> {
        let Ok((_, roles)) = self.visible_account(user_id, account_id).await else {
            return Ok(false);
        };
        let now = self.now();
        for (role, policy) in roles {
            if let (true, Some(p)) = (role.may_request(), policy) {
                if self.policy(&p.to_string()).await?.open_at(now) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Why `user_id` finds no requestable account `account_name` on `system_name`: PCV010 when
    /// it exists and the caller holds a role that could request it but it is not API-enabled;
    /// otherwise "not found", so that accounts a caller may not use stay invisible.
    pub async fn why_not_requestable(
        &self,
        user_id: i64,
        system_name: &str,
        account_name: &str,
    ) -> VaultError {
        let hidden =
            || not_found(format!("managed account {account_name:?} on system {system_name:?} was not found"));
        let found = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLS} FROM vault_accounts a JOIN vault_systems s ON s.id = a.system_id \
             WHERE s.name_key = $1 AND a.name_key = $2"
        ))
        .bind(fold(system_name))
        .bind(fold(account_name))
        .fetch_optional(self.pool())
        .await;
        let account = match found.map(|r| r.map(|r| account_row(&r))) {
            Ok(Some(Ok(a))) if !a.api_enabled => a,
            Ok(Some(Err(e))) => return e,
            Ok(_) => return hidden(),
            Err(e) => return e.into(),
        };
        match self.roles_on_account(user_id, &account).await {
            Ok(roles) if roles.iter().any(|(r, _)| r.may_request()) => not_api_enabled(&account),
            Ok(_) => hidden(),
            Err(e) => e,
        }
    }

    /// The audit row of a transition, in its transaction.
    async fn record_transition(
        &self,
        tx: &mut store::WriteTx,
        now: i64,
        by: Actor<'_>,
        action: &str,
        account_id: i64,
        detail: &str,
    ) -> Result<()> {
        let e = Event {
            actor: by.name(),
            action,
            account_id: Some(account_id),
            source: by.source(),
            result: "ok",
            detail,
        };
        self.record(tx, now, &e).await
    }

    /// Whether `user` may approve (and so deny, and check in) requests for the account.
    async fn may_approve(&self, user: &User, account_id: i64) -> Result<bool> {
        let account = self.account(account_id).await?;
        Ok(self.roles_on_account(user.id, &account).await?.iter().any(|(r, _)| r.may_approve()))
    }
}

fn gone(id: i64) -> VaultError {
    not_found(format!("release request {id} was not found"))
}

fn not_api_enabled(account: &Account) -> VaultError {
    VaultError::NotApiEnabled(format!(
        "managed account {} ({} on {}) is not API-enabled, so it cannot be requested through the API: \
         an administrator enables it with `vault account set {} --api-enabled true`",
        account.id, account.name, account.system_name, account.id
    ))
}
