//! Release requests: create (with `ConflictOption`), list by queue, check-in, approve, deny,
//! RotateOnCheckin; the credential of an approved request; access policies and their test.

use axum::body::Body;
use axum::extract::{Path, State};
use serde_json::Value;
use web::auth::{Authenticated, Authorized};

use super::extract::{id, q, read_json, ApiUser, Audit, Query};
use super::shapes::{policy_json, request_json};
use super::{created, no_content, ok, Answer};
use crate::error::{forbidden, invalid, not_found};
use crate::model::Actor;
use crate::requests::{ConflictOption, NewRequest, Outcome, Queue};
use crate::Vault;

type SignedIn = Authorized<ApiUser, Authenticated>;

/// `POST Requests`: 201 with the new request's ID, or 200 with the reused one.
pub(super) async fn create(user: SignedIn, audit: Audit, State(vault): State<Vault>, body: Body) -> Answer {
    let body = read_json(body).await?;
    let account_id = body.int("accountid")?.ok_or_else(|| invalid("AccountID is required"))?;
    audit.account(account_id);
    let duration = body.int("durationminutes")?.ok_or_else(|| invalid("DurationMinutes is required"))?;
    let new = NewRequest {
        system_id: body.int("systemid")?,
        account_id,
        duration_minutes: duration,
        reason: body.str("reason").unwrap_or_default(),
        access_type: body.str("accesstype").unwrap_or_else(|| "View".into()),
        conflict: ConflictOption::parse(body.str("conflictoption").as_deref())?,
        rotate_on_checkin: body.boolean("rotateoncheckin")?,
    };
    match vault.create_request(&user.0, new).await? {
        Outcome::Created(id) => created(id),
        Outcome::Reused(id) => ok(id),
    }
}

/// `GET Requests?queue=req|app&status=…`.
pub(super) async fn list(user: SignedIn, State(vault): State<Vault>, qs: Query) -> Answer {
    let queue = match q(&qs, "queue").map(str::to_ascii_lowercase).as_deref() {
        Some("app") | Some("approver") => Queue::Approver,
        _ => Queue::Requestor,
    };
    let list = vault.list_requests(Some(&user.0), queue, q(&qs, "status")).await?;
    ok(list.iter().map(request_json).collect::<Vec<_>>())
}

/// The request of a `Requests/{id}/…` path; its account goes into the audit row.
async fn request_of(vault: &Vault, audit: &Audit, rid: &str) -> Result<i64, crate::VaultError> {
    let rid = id(rid, "release request")?;
    if let Ok(r) = vault.request(rid).await {
        audit.account(r.account_id);
    }
    Ok(rid)
}

/// `PUT Requests/{id}/Checkin` (the request's account is read for the audit row only when the
/// check-in fails, since a successful one names it).
pub(super) async fn check_in(
    user: SignedIn,
    audit: Audit,
    State(vault): State<Vault>,
    Path(rid): Path<String>,
) -> Answer {
    let rid = id(&rid, "release request")?;
    match vault.check_in(Actor::User(&user.0), rid).await {
        Ok(account_id) => {
            audit.account(account_id);
            no_content()
        }
        Err(e) => {
            if let Ok(r) = vault.request(rid).await {
                audit.account(r.account_id);
            }
            Err(e)
        }
    }
}

/// `PUT Requests/{id}/Approve`.
pub(super) async fn approve(
    user: SignedIn,
    audit: Audit,
    State(vault): State<Vault>,
    Path(rid): Path<String>,
) -> Answer {
    let rid = request_of(&vault, &audit, &rid).await?;
    vault.approve(Actor::User(&user.0), rid).await?;
    no_content()
}

/// `PUT Requests/{id}/Deny`.
pub(super) async fn deny(
    user: SignedIn,
    audit: Audit,
    State(vault): State<Vault>,
    Path(rid): Path<String>,
) -> Answer {
    let rid = request_of(&vault, &audit, &rid).await?;
    vault.deny(Actor::User(&user.0), rid).await?;
    no_content()
}

/// `PUT Requests/{id}/RotateOnCheckin`.
pub(super) async fn rotate_on_check_in(
    user: SignedIn,
    audit: Audit,
    State(vault): State<Vault>,
    Path(rid): Path<String>,
) -> Answer {
    let rid = request_of(&vault, &audit, &rid).await?;
    vault.set_rotate_on_checkin(&user.0, rid, true).await?;
    no_content()
}

/// `GET Credentials/{id}?type=password`: the password of the caller's approved, active request
/// (the audit row names its account when the request is the caller's).
pub(super) async fn credential(
    user: SignedIn,
    audit: Audit,
    State(vault): State<Vault>,
    Path(rid): Path<String>,
    qs: Query,
) -> Answer {
    let rid = id(&rid, "release request")?;
    let answer = match q(&qs, "type").map(str::to_ascii_lowercase).as_deref() {
        None | Some("password") => vault.credential(&user.0, rid).await,
        Some("dsskey") => Err(not_found("this account has no DSS key; ask for type=password")),
        Some(other) => Err(invalid(format!("type {other:?} is not password or dsskey"))),
    };
    match answer {
        Ok((req, pw)) => {
            audit.account(req.account_id);
            ok(Value::String(pw.to_string()))
        }
        Err(e) => {
            if let Ok(r) = vault.request(rid).await {
                if r.user_id == user.0.id {
                    audit.account(r.account_id);
                }
            }
            Err(e)
        }
    }
}

/// `GET AccessPolicies`.
pub(super) async fn policies(_user: SignedIn, State(vault): State<Vault>) -> Answer {
    let list = vault.list_policies().await?;
    ok(list.iter().map(policy_json).collect::<Vec<_>>())
}

/// `POST AccessPolicies/Test`: the policies, when the caller may request the account now.
pub(super) async fn test_policy(
    user: SignedIn,
    audit: Audit,
    State(vault): State<Vault>,
    body: Body,
) -> Answer {
    let body = read_json(body).await?;
    let account_id = body.int("accountid")?.ok_or_else(|| invalid("AccountId is required"))?;
    audit.account(account_id);
    if !vault.may_request(user.0.id, account_id).await? {
        return Err(forbidden(format!(
            "user {:?} may not request managed account {account_id} now",
            user.0.name
        )));
    }
    let list = vault.list_policies().await?;
    ok(list.iter().map(policy_json).collect::<Vec<_>>())
}
