//! Managed accounts: the requestable list (and lookup by system and account name), a system's
//! accounts, and the administrators' password change and set.

use axum::body::Body;
use axum::extract::{Path, State};
use serde_json::Value;
use web::auth::{Authenticated, Authorized};
use zeroize::Zeroizing;

use super::extract::{id, q, read_json, require_admin, ApiUser, Audit, Query};
use super::shapes::account_json;
use super::{no_content, ok, Answer};
use crate::error::invalid;
use crate::model::{Account, Actor};
use crate::Vault;

/// `GET ManagedAccounts`: the API-enabled accounts the caller may request, filtered as the
/// client asks; with `systemName` and `accountName`, that one account (an account the caller
/// could request but that is not API-enabled says so, PCV010).
pub(super) async fn list(
    user: Authorized<ApiUser, Authenticated>,
    State(vault): State<Vault>,
    qs: Query,
) -> Answer {
    let (vault, user, qs) = (&vault, &user.0, &qs);
    let accounts = vault.requestable_accounts(user.id).await?;
    let systems = vault.list_systems().await?;
    let sys_of = |id: i64| systems.iter().find(|s| s.id == id);
    let shape = |a: &Account| {
        let s = sys_of(a.system_id);
        account_json(
            a,
            s.map(|s| s.host.as_str()).unwrap_or(""),
            s.map(|s| s.platform.as_str()).unwrap_or(""),
        )
    };
    let system_name = q(qs, "systemname");
    let account_name = q(qs, "accountname");
    if let (Some(sn), Some(an)) = (system_name, account_name) {
        return match accounts.iter().find(|a| {
            a.system_name.to_lowercase() == sn.to_lowercase() && a.name.to_lowercase() == an.to_lowercase()
        }) {
            Some(a) => ok(shape(a)),
            None => Err(vault.why_not_requestable(user.id, sn, an).await),
        };
    }
    let system_id = q(qs, "systemid")
        .map(|v| v.parse::<i64>().map_err(|_| invalid("systemId must be an integer")))
        .transpose()?;
    let limit = q(qs, "limit")
        .map(|v| v.parse::<usize>().map_err(|_| invalid("limit must be a positive integer")))
        .transpose()?
        .unwrap_or(1000);
    let offset = q(qs, "offset")
        .map(|v| v.parse::<usize>().map_err(|_| invalid("offset must be an integer")))
        .transpose()?
        .unwrap_or(0);
    let workgroup = q(qs, "workgroupname");
    let ip = q(qs, "ipaddress");
    let app = q(qs, "applicationdisplayname");
    let kind = q(qs, "type").map(str::to_ascii_lowercase);
    let list: Vec<Value> = accounts
        .iter()
        .filter(|a| system_name.is_none_or(|sn| a.system_name.eq_ignore_ascii_case(sn)))
        .filter(|a| account_name.is_none_or(|an| a.name.eq_ignore_ascii_case(an)))
        .filter(|a| system_id.is_none_or(|id| a.system_id == id))
        .filter(|a| {
            workgroup.is_none_or(|w| {
                sys_of(a.system_id)
                    .and_then(|s| s.workgroup.as_deref())
                    .is_some_and(|x| x.eq_ignore_ascii_case(w))
            })
        })
        .filter(|a| ip.is_none_or(|ip| sys_of(a.system_id).is_some_and(|s| s.host == ip)))
        .filter(|_| app.is_none())
        .filter(|a| match kind.as_deref() {
            None | Some("system") | Some("recent") => true,
            Some("database") => sys_of(a.system_id).is_some_and(|s| s.platform == "postgresql"),
            Some(_) => false,
        })
        .skip(offset)
        .take(limit)
        .map(shape)
        .collect();
    ok(list)
}

/// `GET ManagedSystems/{id}/ManagedAccounts`: the requestable accounts of one system.
pub(super) async fn of_system(
    user: Authorized<ApiUser, Authenticated>,
    State(vault): State<Vault>,
    Path(sys): Path<String>,
) -> Answer {
    let sys = id(&sys, "managed system")?;
    let list: Vec<Value> = vault
        .requestable_accounts(user.0.id)
        .await?
        .into_iter()
        .filter(|a| a.system_id == sys)
        .map(|a| account_json(&a, "", ""))
        .collect();
    ok(list)
}

/// `POST ManagedAccounts/{id}/Credentials/Change` (administrators): rotates the password on the
/// target now. The account is recorded before the check, so a refused attempt names it.
pub(super) async fn change_credentials(
    user: Authorized<ApiUser, Authenticated>,
    audit: Audit,
    State(vault): State<Vault>,
    Path(aid): Path<String>,
) -> Answer {
    let aid = id(&aid, "managed account")?;
    audit.account(aid);
    require_admin(&vault, &user.0).await?;
    vault.account(aid).await?;
    vault.rotate_account(Actor::User(&user.0), aid, None).await?;
    no_content()
}

/// `PUT ManagedAccounts/{id}/Credentials` (administrators): stores a password, or with
/// `UpdateSystem` sets it on the target first.
pub(super) async fn set_credentials(
    user: Authorized<ApiUser, Authenticated>,
    audit: Audit,
    State(vault): State<Vault>,
    Path(aid): Path<String>,
    body: Body,
) -> Answer {
    let aid = id(&aid, "managed account")?;
    audit.account(aid);
    require_admin(&vault, &user.0).await?;
    let body = read_json(body).await?;
    let pw = Zeroizing::new(body.str("password").ok_or_else(|| invalid("Password is required"))?);
    if body.boolean("updatesystem")?.unwrap_or(false) {
        vault.rotate_account(Actor::User(&user.0), aid, Some(pw)).await?;
    } else {
        vault.set_account_password(aid, &pw).await?;
    }
    no_content()
}
