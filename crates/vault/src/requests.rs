//! Release requests: who may ask for which account, for how long, with what approval; one open
//! request per account and user (`ConflictOption` reuse/renew), check-in, and reading the
//! credential of an approved, active request.

use sqlx::any::AnyRow;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::admin::{account_row, ACCOUNT_COLS};
use crate::error::{conflict, forbidden, invalid, not_found, Result};
use crate::model::*;
use crate::Vault;
use store::row::{boolean, int, opt_int, text};

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
    let stored = text(r, "status")?;
    let expires_at = int(r, "expires_at")?;
    let status = match stored.as_str() {
        "pending" | "approved" if expires_at <= now => RequestStatus::Expired,
        "pending" => RequestStatus::Pending,
        "approved" => RequestStatus::Approved,
        "denied" => RequestStatus::Denied,
        "expired" => RequestStatus::Expired,
        _ => RequestStatus::CheckedIn,
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

    /// The account if it is API-enabled and `user_id` may request it; otherwise "not found", so
    /// that accounts a caller may not use stay invisible.
    async fn visible_account(
        &self,
        user_id: i64,
        account_id: i64,
    ) -> Result<(Account, Vec<(Role, Option<i64>)>)> {
        let hidden = || not_found(format!("managed account {account_id} was not found"));
        let account = self.account(account_id).await.map_err(|_| hidden())?;
        if !account.api_enabled {
            return Err(hidden());
        }
        let roles = self.roles_on_account(user_id, &account).await?;
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
        let mut tx = self.store().vault_begin_write().await?;
        // Serializes request creation per account: a row lock on PostgreSQL (SQLite's write lock
        // is already held), so two concurrent requests cannot both see "no open request".
        sqlx::query("UPDATE vault_accounts SET rotation_attempts = rotation_attempts WHERE id = $1")
            .bind(account.id)
            .execute(&mut *tx)
            .await?;
        let open = sqlx::query(
            "SELECT id FROM vault_requests WHERE account_id = $1 AND user_id = $2 AND status IN ('pending', 'approved') \
             AND expires_at > $3 ORDER BY id DESC LIMIT 1",
        )
        .bind(account.id)
        .bind(user.id)
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
                    sqlx::query("UPDATE vault_requests SET status = 'checked_in', closed_at = $1 WHERE id = $2")
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                ConflictOption::None => {
                    return Err(conflict(format!(
                        "user {:?} already has an open request ({id}) for managed account {}: check it in, or send ConflictOption reuse or renew",
                        user.name, account.id
                    )))
                }
            }
        }
        let status = if policy.auto_approve { "approved" } else { "pending" };
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
        .bind(status)
        .bind(new.rotate_on_checkin.unwrap_or(true))
        .bind(now)
        .bind(now + new.duration_minutes * 60)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
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

    /// Requests in a queue, filtered by status (`all`, `active`, `pending`, …).
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
            let status_ok = match status.map(|s| s.to_ascii_lowercase()).as_deref() {
                None | Some("") | Some("all") => true,
                Some("active") => req.is_active(),
                Some("pending") => req.status == RequestStatus::Pending,
                Some(other) => req.status.as_str().eq_ignore_ascii_case(other),
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

    /// Checks a request in (its owner, or an approver of the account). When the account changes
    /// its password after release and the request asks for it, the account is scheduled for
    /// rotation (once no other request of it is active) and a rotation starts at once.
    pub async fn check_in(&self, user: Option<&User>, request_id: i64) -> Result<Request> {
        let req = self.request(request_id).await?;
        if let Some(u) = user {
            if req.user_id != u.id {
                let account = self.account(req.account_id).await?;
                if !self.roles_on_account(u.id, &account).await?.iter().any(|(r, _)| r.may_approve()) {
                    return Err(forbidden(format!("request {request_id} is not yours")));
                }
            }
        }
        if !matches!(req.status, RequestStatus::Approved | RequestStatus::Pending) {
            return Err(forbidden(format!(
                "request {request_id} is {} and cannot be checked in",
                req.status.as_str().to_lowercase()
            )));
        }
        let now = self.now();
        {
            // A write transaction, so that it takes this process's write turn (store::begin_write).
            let mut tx = self.store().vault_begin_write().await?;
            sqlx::query("UPDATE vault_requests SET status = 'checked_in', closed_at = $1 WHERE id = $2")
                .bind(now)
                .bind(request_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        if req.rotate_on_checkin && req.status == RequestStatus::Approved {
            self.schedule_rotation_after_release(req.account_id).await?;
        }
        Ok(req)
    }

    /// Approves a pending request (an approver of the account, not its requester). Returns
    /// whether the request is now approved.
    pub async fn approve(&self, approver: Option<&User>, request_id: i64) -> Result<bool> {
        let req = self.request(request_id).await?;
        if req.status != RequestStatus::Pending {
            return Err(conflict(format!("request {request_id} is not pending")));
        }
        let required = match sqlx::query("SELECT p.approvals_required FROM vault_requests r JOIN vault_policies p ON p.id = r.policy_id WHERE r.id = $1")
            .bind(request_id)
            .fetch_optional(self.pool())
            .await?
        {
            Some(r) => int(&r, "approvals_required")?.max(1),
            None => 1,
        };
        let now = self.now();
        if let Some(u) = approver {
            if u.id == req.user_id {
                return Err(forbidden("a requester cannot approve their own request"));
            }
            let account = self.account(req.account_id).await?;
            if !self.roles_on_account(u.id, &account).await?.iter().any(|(r, _)| r.may_approve()) {
                return Err(forbidden(format!(
                    "user {:?} may not approve requests for this account",
                    u.name
                )));
            }
        }
        let mut tx = self.store().vault_begin_write().await?;
        if let Some(u) = approver {
            sqlx::query("INSERT INTO vault_request_approvals (request_id, approver_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(request_id)
                .bind(u.id)
                .execute(&mut *tx)
                .await?;
        }
        let given: i64 = if approver.is_some() {
            sqlx::query("SELECT COUNT(*) AS n FROM vault_request_approvals WHERE request_id = $1")
                .bind(request_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?
        } else {
            required // the CLI (an administrator on the host) approves outright
        };
        let approved = given >= required;
        sqlx::query(
            "UPDATE vault_requests SET approvals = $1, status = $2, expires_at = CASE WHEN $3 THEN $4 ELSE expires_at END WHERE id = $5",
        )
        .bind(given)
        .bind(if approved { "approved" } else { "pending" })
        .bind(approved)
        .bind(now + req.duration_minutes * 60)
        .bind(request_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(approved)
    }

    /// Denies a pending request.
    pub async fn deny(&self, approver: Option<&User>, request_id: i64) -> Result<()> {
        let req = self.request(request_id).await?;
        if req.status != RequestStatus::Pending {
            return Err(conflict(format!("request {request_id} is not pending")));
        }
        if let Some(u) = approver {
            let account = self.account(req.account_id).await?;
            if !self.roles_on_account(u.id, &account).await?.iter().any(|(r, _)| r.may_approve()) {
                return Err(forbidden(format!("user {:?} may not deny requests for this account", u.name)));
            }
        }
        sqlx::query("UPDATE vault_requests SET status = 'denied', closed_at = $1 WHERE id = $2")
            .bind(self.now())
            .bind(request_id)
            .execute(self.pool())
            .await?;
        Ok(())
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
}
