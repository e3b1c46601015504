//! Directory roles, admin API tokens, and the caller itself.

use super::directory::user_json;
use super::{body, created, no_content, ok, Admin, ApiError, ApiResult, Authenticated, ManageRoles};
use crate::error::IdpError;
use crate::roles::DirectoryRole;
use crate::service::Idp;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

pub(super) async fn me(who: Admin<Authenticated>) -> ApiResult {
    ok(json!({"tenant_id": who.tenant, "user": user_json(&who.user), "roles": who.roles,
        "token_id": who.token_id}))
}

pub(super) async fn list_roles(State(idp): State<Idp>, who: Admin<ManageRoles>) -> ApiResult {
    let v: Vec<Value> = idp
        .role_assignments(who.tenant)
        .await?
        .iter()
        .map(|(u, r)| json!({"user_id": u.id, "upn": u.upn, "role": r}))
        .collect();
    ok(Value::Array(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantRole {
    user: String,
    role: String,
}

pub(super) async fn grant_role(State(idp): State<Idp>, who: Admin<ManageRoles>, raw: Bytes) -> ApiResult {
    let b: GrantRole = body(&raw)?;
    let role: DirectoryRole = b.role.parse()?;
    let u = idp.grant_role(who.tenant, &b.user, role).await?;
    ok(json!({"user_id": u.id, "upn": u.upn, "role": role}))
}

pub(super) async fn revoke_role(
    State(idp): State<Idp>,
    who: Admin<ManageRoles>,
    Path((role, user)): Path<(String, String)>,
) -> ApiResult {
    idp.revoke_role(who.tenant, &user, role.parse()?).await?;
    no_content()
}

pub(super) fn token_json(t: &store::admin::ApiToken, upn: Option<&str>) -> Value {
    json!({"id": t.id, "name": t.name, "user_id": t.user_id, "upn": upn, "created_at": t.created_at,
        "expires_at": t.expires_at, "last_used_at": t.last_used_at, "revoked": t.revoked_at.is_some(),
        "revoked_at": t.revoked_at})
}

pub(super) async fn list_tokens(State(idp): State<Idp>, who: Admin<ManageRoles>) -> ApiResult {
    let owners: BTreeMap<Uuid, String> =
        idp.store.list_users(who.tenant).await?.into_iter().map(|u| (u.id, u.upn)).collect();
    let v: Vec<Value> = idp
        .list_api_tokens(who.tenant)
        .await?
        .iter()
        .map(|t| token_json(t, owners.get(&t.user_id).map(String::as_str)))
        .collect();
    ok(Value::Array(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    /// The owner (UPN or object ID); the caller when absent.
    user: Option<String>,
    name: Option<String>,
    days: Option<u32>,
}

pub(super) async fn create_token(State(idp): State<Idp>, who: Admin<ManageRoles>, raw: Bytes) -> ApiResult {
    let b: CreateToken = body(&raw)?;
    let owner = b.user.unwrap_or_else(|| who.user.id.to_string());
    let t = idp.create_api_token(who.tenant, &owner, b.name.as_deref(), b.days).await?;
    let upn = idp.find_user(who.tenant, &t.record.user_id.to_string()).await?.upn;
    let mut v = token_json(&t.record, Some(&upn));
    // Shown once: only its SHA-256 is kept.
    v["token"] = json!(t.secret.as_str());
    created(format!("/api/v1/tokens/{}", t.record.id), v)
}

pub(super) async fn revoke_token(
    State(idp): State<Idp>,
    who: Admin<ManageRoles>,
    Path(id): Path<String>,
) -> ApiResult {
    let wanted = Uuid::parse_str(id.trim()).ok();
    let tokens = idp.list_api_tokens(who.tenant).await?;
    if !tokens.iter().any(|t| Some(t.id) == wanted) {
        return Err(ApiError(IdpError::NotFound {
            what: format!("API token {id:?} (see GET /api/v1/tokens)"),
        }));
    }
    idp.revoke_api_token(who.tenant, &id).await?;
    no_content()
}
