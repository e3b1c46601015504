//! Users, security groups and their members, and users' TOTP.

use super::{
    body, created, no_content, ok, query, Admin, ApiError, ApiResult, KindQuery, ManageDirectory,
    PrincipalRef,
};
use crate::directory::{NewUser, UserChanges};
use crate::error::IdpError;
use crate::service::Idp;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use serde::Deserialize;
use serde_json::{json, Value};
use store::model::{Group, User};
use zeroize::Zeroizing;

/// A user as the API shows it: never a password hash or TOTP secret, only whether there is one.
pub(super) fn user_json(u: &User) -> Value {
    json!({
        "id": u.id, "upn": u.upn, "display_name": u.display_name, "given_name": u.given_name,
        "surname": u.surname, "mail": u.mail, "department": u.department, "job_title": u.job_title,
        "employee_id": u.employee_id, "enabled": u.enabled, "has_password": u.password_hash.is_some(),
        "mfa_enabled": u.totp_secret_sealed.is_some(), "created_at": u.created_at, "updated_at": u.updated_at,
    })
}

pub(super) fn group_json(g: &Group) -> Value {
    json!({"id": g.id, "name": g.name, "description": g.description, "security_enabled": g.security_enabled,
        "created_at": g.created_at})
}

pub(super) async fn list_users(State(idp): State<Idp>, who: Admin<ManageDirectory>) -> ApiResult {
    let users = idp.store.list_users(who.tenant).await?;
    ok(Value::Array(users.iter().map(user_json).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUser {
    upn: String,
    given_name: Option<String>,
    surname: Option<String>,
    mail: Option<String>,
    display_name: Option<String>,
    department: Option<String>,
    job_title: Option<String>,
    employee_id: Option<String>,
    password: Option<String>,
}

pub(super) async fn create_user(
    State(idp): State<Idp>,
    who: Admin<ManageDirectory>,
    raw: Bytes,
) -> ApiResult {
    let b: CreateUser = body(&raw)?;
    let new = NewUser {
        upn: b.upn,
        given_name: b.given_name,
        surname: b.surname,
        mail: b.mail,
        display_name: b.display_name,
        department: b.department,
        job_title: b.job_title,
        employee_id: b.employee_id,
    };
    let u = idp.create_user(who.tenant, new, b.password.map(Zeroizing::new)).await?;
    created(format!("/api/v1/users/{}", u.id), user_json(&u))
}

pub(super) async fn get_user(
    State(idp): State<Idp>,
    who: Admin<ManageDirectory>,
    Path(id): Path<String>,
) -> ApiResult {
    let u = idp.find_user(who.tenant, &id).await?;
    let mut v = user_json(&u);
    v["roles"] = json!(idp.roles_of(who.tenant, u.id).await?);
    ok(v)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchUser {
    upn: Option<String>,
    given_name: Option<String>,
    surname: Option<String>,
    mail: Option<String>,
    display_name: Option<String>,
    department: Option<String>,
    job_title: Option<String>,
    employee_id: Option<String>,
    enabled: Option<bool>,
    password: Option<String>,
}

pub(super) async fn patch_user(
    State(idp): State<Idp>,
    who: Admin<ManageDirectory>,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let b: PatchUser = body(&raw)?;
    let changes = UserChanges {
        upn: b.upn,
        given_name: b.given_name,
        surname: b.surname,
        mail: b.mail,
        display_name: b.display_name,
        department: b.department,
        job_title: b.job_title,
        employee_id: b.employee_id,
        enabled: b.enabled,
    };
    let mut u = idp.set_user(who.tenant, &id, changes).await?;
    if let Some(p) = b.password {
        idp.set_password(who.tenant, &u.id.to_string(), Some(Zeroizing::new(p))).await?;
        u = idp.find_user(who.tenant, &u.id.to_string()).await?;
    }
    ok(user_json(&u))
}

#[derive(Deserialize)]
struct GroupsQuery {
    transitive: Option<bool>,
}

pub(super) async fn user_groups(
    State(idp): State<Idp>,
    who: Admin<ManageDirectory>,
    Path(id): Path<String>,
    uri: Uri,
) -> ApiResult {
    let q: GroupsQuery = query(&uri)?;
    let u = idp.find_user(who.tenant, &id).await?;
    let groups = idp.store.groups_of_user(who.tenant, u.id, q.transitive.unwrap_or(true)).await?;
    ok(Value::Array(groups.iter().map(group_json).collect()))
}

pub(super) async fn list_groups(State(idp): State<Idp>, who: Admin<ManageDirectory>) -> ApiResult {
    ok(Value::Array(idp.store.list_groups(who.tenant).await?.iter().map(group_json).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateGroup {
    name: String,
    description: Option<String>,
}

pub(super) async fn create_group(
    State(idp): State<Idp>,
    who: Admin<ManageDirectory>,
    raw: Bytes,
) -> ApiResult {
    let b: CreateGroup = body(&raw)?;
    let g = idp.create_group(who.tenant, &b.name, b.description).await?;
    created(format!("/api/v1/groups/{}", g.id), group_json(&g))
}

pub(super) async fn add_member(
    State(idp): State<Idp>,
    who: Admin<ManageDirectory>,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let b: PrincipalRef = body(&raw)?;
    if b.role.is_some() {
        return Err(ApiError(IdpError::Invalid("a group membership has no role".into())));
    }
    let (member, kind) = b.target()?;
    idp.add_group_member(who.tenant, &id, member, kind).await?;
    no_content()
}

pub(super) async fn delete_user(
    State(idp): State<Idp>,
    who: Admin<ManageDirectory>,
    Path(id): Path<String>,
) -> ApiResult {
    idp.delete_user(who.tenant, &id).await?;
    no_content()
}

pub(super) async fn delete_group(
    State(idp): State<Idp>,
    who: Admin<ManageDirectory>,
    Path(id): Path<String>,
) -> ApiResult {
    idp.delete_group(who.tenant, &id).await?;
    no_content()
}

pub(super) async fn remove_member(
    State(idp): State<Idp>,
    who: Admin<ManageDirectory>,
    Path((id, member)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let kind = query::<KindQuery>(&uri)?.kind()?;
    idp.remove_group_member(who.tenant, &id, &member, kind).await?;
    no_content()
}

pub(super) async fn enroll_totp(
    State(idp): State<Idp>,
    who: Admin<ManageDirectory>,
    Path(id): Path<String>,
) -> ApiResult {
    let u = idp.find_user(who.tenant, &id).await?;
    let uri = idp.enroll_totp(who.tenant, &u.id.to_string()).await?;
    // The secret is in this answer once (no-store); it cannot be read back.
    ok(json!({"user_id": u.id, "upn": u.upn, "otpauth_uri": uri.as_str()}))
}

pub(super) async fn remove_totp(
    State(idp): State<Idp>,
    who: Admin<ManageDirectory>,
    Path(id): Path<String>,
) -> ApiResult {
    idp.remove_totp(who.tenant, &id).await?;
    no_content()
}
