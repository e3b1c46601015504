//! The admin REST API: JSON under `/api/v1/`, authenticated with `Authorization: Bearer pat_…`
//! (see [`crate::roles`]); the tenant is the token's. Every input is checked by the same `Idp`
//! methods the CLI calls, so the rules live in one place. Errors are
//! `{"code": "PCS…", "message": "…"}` with the error's HTTP status; 401 answers carry
//! `WWW-Authenticate: Bearer`. The OpenAPI 3.1 document (`crates/idp/openapi.json`, hand-written:
//! no macro crate to compile, and a test keeps it in step with [`router`]) is served without
//! authentication at `/api/v1/openapi.json`.

use crate::apps::{CertFormat, PropertyChanges, SamlChanges};
use crate::directory::{NewUser, UserChanges};
use crate::error::IdpError;
use crate::model::{AppConfig, GroupsClaim, NameIdFormat, SigningAlgorithm, SigningOption, SourceAttribute};
use crate::roles::{DirectoryRole, Permission, Principal};
use crate::service::Idp;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post, put};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use store::model::{App, Assignment, Group, PrincipalKind, SignIn, User};
use uuid::Uuid;
use zeroize::Zeroizing;

/// The OpenAPI 3.1 document of this API.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

/// The admin API's routes (merged into the IdP's router).
pub fn router(idp: Idp) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/me", get(me))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}", get(get_user).patch(patch_user).delete(delete_user))
        .route("/api/v1/users/{id}/groups", get(user_groups))
        .route("/api/v1/users/{id}/totp", post(enroll_totp).delete(remove_totp))
        .route("/api/v1/groups", get(list_groups).post(create_group))
        .route("/api/v1/groups/{id}", delete(delete_group))
        .route("/api/v1/groups/{id}/members", post(add_member))
        .route("/api/v1/groups/{id}/members/{member}", delete(remove_member))
        .route("/api/v1/roles", get(list_roles).post(grant_role))
        .route("/api/v1/roles/{role}/users/{user}", delete(revoke_role))
        .route("/api/v1/apps", get(list_apps).post(create_app))
        .route("/api/v1/apps/templates", get(templates))
        .route("/api/v1/apps/{id}", get(get_app).patch(patch_app).delete(delete_app))
        .route("/api/v1/apps/{id}/saml", put(put_saml))
        .route("/api/v1/apps/{id}/sp-metadata", post(import_sp_metadata))
        .route("/api/v1/apps/{id}/claims/{name}", put(set_claim).delete(remove_claim))
        .route("/api/v1/apps/{id}/groups-claim", put(groups_claim))
        .route("/api/v1/apps/{id}/assignments", get(list_assignments).post(assign))
        .route("/api/v1/apps/{id}/assignments/{principal}", delete(unassign))
        .route("/api/v1/apps/{id}/metadata", get(app_metadata))
        .route("/api/v1/apps/{id}/certs", get(list_certs).post(new_cert))
        .route("/api/v1/apps/{id}/certs/{cert}", get(download_cert))
        .route("/api/v1/apps/{id}/certs/{cert}/activate", post(activate_cert))
        .route("/api/v1/signins", get(signins))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/outbox", get(outbox))
        .route("/api/v1/notify", post(notify))
        .route("/api/v1/{*rest}", any(unknown))
        .with_state(idp)
}

// ---------------------------------------------------------------------------- plumbing

/// An error answer: the IdP error's code, sentence and HTTP status.
#[derive(Debug)]
pub struct ApiError(pub IdpError);

impl From<IdpError> for ApiError {
    fn from(e: IdpError) -> Self {
        ApiError(e)
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(code = self.0.code(), error = %self.0, "admin API request failed");
        }
        let mut r = no_store(
            status,
            axum::Json(json!({"code": self.0.code(), "message": self.0.to_string()})).into_response(),
        );
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"portcullis-admin-api\""),
            );
        }
        r
    }
}

type ApiResult = Result<Response, ApiError>;

fn no_store(status: StatusCode, mut r: Response) -> Response {
    *r.status_mut() = status;
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    r
}

fn ok(v: Value) -> ApiResult {
    Ok(no_store(StatusCode::OK, axum::Json(v).into_response()))
}

fn created(location: String, v: Value) -> ApiResult {
    let mut r = no_store(StatusCode::CREATED, axum::Json(v).into_response());
    if let Ok(l) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, l);
    }
    Ok(r)
}

fn no_content() -> ApiResult {
    Ok(no_store(StatusCode::NO_CONTENT, StatusCode::NO_CONTENT.into_response()))
}

fn bytes(content_type: &'static str, body: Vec<u8>) -> ApiResult {
    let mut r = no_store(StatusCode::OK, body.into_response());
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(r)
}

/// The principal behind the request's bearer token, if it may do `p` (`None` = any valid token).
async fn principal(idp: &Idp, headers: &HeaderMap, p: Option<Permission>) -> Result<Principal, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .unwrap_or("");
    let who = idp.authorize(token).await?;
    if let Some(p) = p {
        who.require(p)?;
    }
    Ok(who)
}

/// Parses a JSON body (an empty body is `{}`); unknown fields are refused.
fn body<T: DeserializeOwned>(raw: &Bytes) -> Result<T, ApiError> {
    // Only a missing body is `{}`; whitespace alone is not JSON (schemathesis sent a lone tab).
    let raw: &[u8] = if raw.is_empty() { b"{}" } else { raw };
    serde_json::from_slice(raw).map_err(|e| {
        ApiError(IdpError::Invalid(format!(
            "the request body is not valid JSON for this endpoint ({e}); see /api/v1/openapi.json"
        )))
    })
}

fn parse<T: std::str::FromStr<Err = String>>(v: Option<String>) -> Result<Option<T>, ApiError> {
    v.map(|s| s.parse::<T>().map_err(|e| ApiError(IdpError::Invalid(e)))).transpose()
}

/// A list's `limit`: 1 to 1000, 100 when absent (out of range is refused, not clamped).
fn limit(v: Option<u32>) -> Result<u32, ApiError> {
    match v.unwrap_or(100) {
        n @ 1..=1000 => Ok(n),
        n => Err(ApiError(IdpError::Invalid(format!("limit {n} is out of range; use 1 to 1000")))),
    }
}

async fn unknown() -> Response {
    ApiError(IdpError::NotFound { what: "this API path (see /api/v1/openapi.json)".into() }).into_response()
}

// ---------------------------------------------------------------------------- views

/// A user as the API shows it: never a password hash or TOTP secret, only whether there is one.
fn user_json(u: &User) -> Value {
    json!({
        "id": u.id, "upn": u.upn, "display_name": u.display_name, "given_name": u.given_name,
        "surname": u.surname, "mail": u.mail, "department": u.department, "job_title": u.job_title,
        "employee_id": u.employee_id, "enabled": u.enabled, "has_password": u.password_hash.is_some(),
        "mfa_enabled": u.totp_secret_sealed.is_some(), "created_at": u.created_at, "updated_at": u.updated_at,
    })
}

fn group_json(g: &Group) -> Value {
    json!({"id": g.id, "name": g.name, "description": g.description, "security_enabled": g.security_enabled,
        "created_at": g.created_at})
}

fn app_json(a: &App, config: &AppConfig) -> Value {
    json!({"id": a.id, "name": a.name, "template": a.template, "created_at": a.created_at,
        "updated_at": a.updated_at, "config": config})
}

fn assignment_json(a: &Assignment) -> Value {
    json!({"app_id": a.app_id, "principal_id": a.principal_id, "principal_type": a.principal_kind,
        "role": a.role, "created_at": a.created_at})
}

fn sign_in_json(s: &SignIn) -> Value {
    json!({"id": s.id, "at": s.at, "user_id": s.user_id, "upn": s.upn, "app_id": s.app_id, "ip": s.ip,
        "result": s.result_code, "correlation_id": s.correlation_id, "detail": s.detail})
}

// ---------------------------------------------------------------------------- handlers

async fn openapi() -> Response {
    let mut r = OPENAPI_JSON.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

async fn me(State(idp): State<Idp>, headers: HeaderMap) -> ApiResult {
    let who = principal(&idp, &headers, None).await?;
    ok(json!({"tenant_id": who.tenant, "user": user_json(&who.user), "roles": who.roles,
        "token_id": who.token_id}))
}

async fn list_users(State(idp): State<Idp>, headers: HeaderMap) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageDirectory)).await?;
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

async fn create_user(State(idp): State<Idp>, headers: HeaderMap, raw: Bytes) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageDirectory)).await?;
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

async fn get_user(State(idp): State<Idp>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageDirectory)).await?;
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

async fn patch_user(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageDirectory)).await?;
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

async fn user_groups(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path(id): Path<String>,
    uri: Uri,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageDirectory)).await?;
    let q: GroupsQuery = query(&uri)?;
    let u = idp.find_user(who.tenant, &id).await?;
    let groups = idp.store.groups_of_user(who.tenant, u.id, q.transitive.unwrap_or(true)).await?;
    ok(Value::Array(groups.iter().map(group_json).collect()))
}

async fn list_groups(State(idp): State<Idp>, headers: HeaderMap) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageDirectory)).await?;
    ok(Value::Array(idp.store.list_groups(who.tenant).await?.iter().map(group_json).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateGroup {
    name: String,
    description: Option<String>,
}

async fn create_group(State(idp): State<Idp>, headers: HeaderMap, raw: Bytes) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageDirectory)).await?;
    let b: CreateGroup = body(&raw)?;
    let g = idp.create_group(who.tenant, &b.name, b.description).await?;
    created(format!("/api/v1/groups/{}", g.id), group_json(&g))
}

/// A user (UPN or ID) or a group (ID or name): exactly one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalRef {
    user: Option<String>,
    group: Option<String>,
    role: Option<String>,
}

impl PrincipalRef {
    fn target(&self) -> Result<(&str, PrincipalKind), ApiError> {
        match (&self.user, &self.group) {
            (Some(u), None) => Ok((u, PrincipalKind::User)),
            (None, Some(g)) => Ok((g, PrincipalKind::Group)),
            _ => Err(ApiError(IdpError::Invalid("give exactly one of \"user\" and \"group\"".into()))),
        }
    }
}

async fn add_member(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageDirectory)).await?;
    let b: PrincipalRef = body(&raw)?;
    if b.role.is_some() {
        return Err(ApiError(IdpError::Invalid("a group membership has no role".into())));
    }
    let (member, kind) = b.target()?;
    idp.add_group_member(who.tenant, &id, member, kind).await?;
    no_content()
}

async fn list_roles(State(idp): State<Idp>, headers: HeaderMap) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageRoles)).await?;
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

async fn grant_role(State(idp): State<Idp>, headers: HeaderMap, raw: Bytes) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageRoles)).await?;
    let b: GrantRole = body(&raw)?;
    let role: DirectoryRole = b.role.parse()?;
    let u = idp.grant_role(who.tenant, &b.user, role).await?;
    ok(json!({"user_id": u.id, "upn": u.upn, "role": role}))
}

async fn revoke_role(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path((role, user)): Path<(String, String)>,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageRoles)).await?;
    idp.revoke_role(who.tenant, &user, role.parse()?).await?;
    no_content()
}

async fn list_apps(State(idp): State<Idp>, headers: HeaderMap) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let v: Vec<Value> = idp
        .store
        .list_apps(who.tenant)
        .await?
        .iter()
        .map(|a| {
            json!({"id": a.id, "name": a.name, "template": a.template, "created_at": a.created_at,
            "updated_at": a.updated_at})
        })
        .collect();
    ok(Value::Array(v))
}

async fn templates(State(idp): State<Idp>, headers: HeaderMap) -> ApiResult {
    principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let v: Vec<Value> = crate::gallery::all()
        .iter()
        .map(|t| {
            let params: Vec<Value> = t
                .parameters
                .iter()
                .map(|p| json!({"name": p.name, "description": p.description, "required": p.required}))
                .collect();
            json!({"name": t.name, "display_name": t.display_name, "description": t.description,
                "parameters": params})
        })
        .collect();
    ok(Value::Array(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateApp {
    template: String,
    name: Option<String>,
    #[serde(default)]
    params: BTreeMap<String, String>,
}

async fn create_app(State(idp): State<Idp>, headers: HeaderMap, raw: Bytes) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let b: CreateApp = body(&raw)?;
    let app = idp.create_app(who.tenant, &b.template, b.name.as_deref(), &b.params).await?;
    let (app, config) = idp.app(who.tenant, &app.id.to_string()).await?;
    created(format!("/api/v1/apps/{}", app.id), app_json(&app, &config))
}

async fn get_app(State(idp): State<Idp>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let (app, config) = idp.app(who.tenant, &id).await?;
    ok(app_json(&app, &config))
}

/// The app as saved, re-read (the answer to every change).
async fn app_answer(idp: &Idp, tenant: Uuid, app: &App) -> ApiResult {
    let (app, config) = idp.app(tenant, &app.id.to_string()).await?;
    ok(app_json(&app, &config))
}

async fn patch_app(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let c: PropertyChanges = body(&raw)?;
    let app = idp.set_properties(who.tenant, &id, c).await?;
    app_answer(&idp, who.tenant, &app).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutSaml {
    identifier: Option<String>,
    #[serde(default)]
    reply_urls: Vec<String>,
    sign_on_url: Option<String>,
    relay_state: Option<String>,
    logout_url: Option<String>,
    nameid_format: Option<String>,
    nameid_source: Option<String>,
    signing: Option<String>,
    signing_algorithm: Option<String>,
    notification_email: Option<String>,
}

async fn put_saml(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let b: PutSaml = body(&raw)?;
    let changes = SamlChanges {
        identifier: b.identifier,
        reply_urls: b.reply_urls,
        sign_on_url: b.sign_on_url,
        relay_state: b.relay_state,
        logout_url: b.logout_url,
        name_id_format: parse::<NameIdFormat>(b.nameid_format)?,
        name_id_source: parse::<SourceAttribute>(b.nameid_source)?,
        signing: parse::<SigningOption>(b.signing)?,
        signing_algorithm: parse::<SigningAlgorithm>(b.signing_algorithm)?,
        notification_email: b.notification_email,
    };
    let app = idp.set_saml(who.tenant, &id, changes).await?;
    app_answer(&idp, who.tenant, &app).await
}

async fn import_sp_metadata(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let xml = std::str::from_utf8(&raw)
        .map_err(|_| ApiError(IdpError::Invalid("the SP metadata must be UTF-8 XML".into())))?;
    let app = idp.import_sp_metadata(who.tenant, &id, xml).await?;
    app_answer(&idp, who.tenant, &app).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetClaim {
    /// A user attribute (`user.mail`), or…
    source: Option<String>,
    /// …a constant value.
    constant: Option<String>,
    namespace: Option<String>,
    transform: Option<crate::model::Transform>,
}

async fn set_claim(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let b: SetClaim = body(&raw)?;
    let source = match (b.source, b.constant) {
        (Some(_), Some(_)) => {
            return Err(ApiError(IdpError::Invalid("give either source or constant, not both".into())))
        }
        (None, Some(c)) => crate::model::ClaimSource::Constant(c),
        (s, None) => crate::model::ClaimSource::Attribute(
            parse::<SourceAttribute>(s)?
                .ok_or_else(|| ApiError(IdpError::Invalid("a claim needs a source or a constant".into())))?,
        ),
    };
    let app = idp.set_claim(who.tenant, &id, &name, source, b.namespace, b.transform).await?;
    app_answer(&idp, who.tenant, &app).await
}

async fn remove_claim(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    idp.remove_claim(who.tenant, &id, &name).await?;
    no_content()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetGroupsClaim {
    setting: String,
}

async fn groups_claim(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let b: SetGroupsClaim = body(&raw)?;
    let setting = match b.setting.trim().to_ascii_lowercase().as_str() {
        "none" => GroupsClaim::None,
        "security" | "security_groups" => GroupsClaim::SecurityGroups,
        "all" | "all_groups" => GroupsClaim::AllGroups,
        "assigned" | "assigned_groups" => GroupsClaim::AssignedGroups,
        other => {
            return Err(ApiError(IdpError::Invalid(format!(
                "unknown groups claim setting {other:?}; use none, security, all or assigned"
            ))))
        }
    };
    let app = idp.set_groups_claim(who.tenant, &id, setting).await?;
    app_answer(&idp, who.tenant, &app).await
}

async fn list_assignments(State(idp): State<Idp>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let (app, _) = idp.app(who.tenant, &id).await?;
    ok(Value::Array(idp.store.assignments(app.id).await?.iter().map(assignment_json).collect()))
}

async fn assign(State(idp): State<Idp>, headers: HeaderMap, Path(id): Path<String>, raw: Bytes) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let b: PrincipalRef = body(&raw)?;
    let (target, kind) = b.target()?;
    let a = idp.assign(who.tenant, &id, target, kind, b.role.as_deref()).await?;
    created(format!("/api/v1/apps/{}/assignments", a.app_id), assignment_json(&a))
}

async fn app_metadata(State(idp): State<Idp>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    bytes("application/samlmetadata+xml", idp.app_metadata(who.tenant, &id).await?.into_bytes())
}

async fn list_certs(State(idp): State<Idp>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let v: Vec<Value> = idp
        .list_certs(who.tenant, &id)
        .await?
        .iter()
        .map(|c| {
            json!({"id": c.id, "active": c.active, "thumbprint": c.thumbprint,
                "sha256_thumbprint": c.sha256_thumbprint, "subject": c.subject,
                "not_before": c.not_before.unix_timestamp(), "not_after": c.not_after.unix_timestamp(),
                "warning": c.warning})
        })
        .collect();
    ok(Value::Array(v))
}

async fn new_cert(State(idp): State<Idp>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let (app, _) = idp.app(who.tenant, &id).await?;
    let cert = idp.create_cert(who.tenant, &id).await?;
    created(format!("/api/v1/apps/{}/certs/{cert}", app.id), json!({"id": cert, "active": false}))
}

#[derive(Deserialize)]
struct CertQuery {
    format: Option<String>,
}

async fn download_cert(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path((id, cert)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let q: CertQuery = query(&uri)?;
    let (format, content_type) = match q.format.as_deref().unwrap_or("pem") {
        "pem" => (CertFormat::Pem, "application/x-pem-file"),
        "base64" => (CertFormat::Base64, "text/plain; charset=utf-8"),
        "der" => (CertFormat::Der, "application/pkix-cert"),
        other => {
            return Err(ApiError(IdpError::Invalid(format!(
                "unknown certificate format {other:?}; use pem, base64 or der"
            ))))
        }
    };
    let cert_ref = (cert != "active").then_some(cert.as_str());
    bytes(content_type, idp.download_cert(who.tenant, &id, cert_ref, format).await?)
}

async fn activate_cert(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path((id, cert)): Path<(String, String)>,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    idp.activate_cert(who.tenant, &id, &cert).await?;
    no_content()
}

#[derive(Deserialize)]
struct SignInQuery {
    app: Option<String>,
    user: Option<String>,
    result: Option<String>,
    since: Option<i64>,
    limit: Option<u32>,
}

async fn signins(State(idp): State<Idp>, headers: HeaderMap, uri: Uri) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ReadSignIns)).await?;
    let q: SignInQuery = query(&uri)?;
    let mut filter = store::SignInFilter::tenant(who.tenant);
    if let Some(app) = &q.app {
        filter.app_id = Some(idp.app(who.tenant, app).await?.0.id);
    }
    if let Some(u) = q.user.as_deref().map(str::trim) {
        match Uuid::parse_str(u) {
            Ok(id) => filter.user_id = Some(id),
            Err(_) => filter.upn = Some(u.to_string()),
        }
    }
    filter.result_code = q.result;
    filter.since = q.since;
    filter.limit = Some(limit(q.limit)?);
    idp.flush_sign_ins().await;
    ok(Value::Array(idp.store.list_sign_ins(&filter).await?.iter().map(sign_in_json).collect()))
}

// ---------------------------------------------------------------------------- deletions

async fn delete_user(State(idp): State<Idp>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageDirectory)).await?;
    idp.delete_user(who.tenant, &id).await?;
    no_content()
}

async fn delete_group(State(idp): State<Idp>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageDirectory)).await?;
    idp.delete_group(who.tenant, &id).await?;
    no_content()
}

/// `?type=user|group` for the paths that name a user or a group (default: user).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
}

impl KindQuery {
    fn kind(&self) -> Result<PrincipalKind, ApiError> {
        match self.kind.as_deref().map(str::trim) {
            None | Some("user") => Ok(PrincipalKind::User),
            Some("group") => Ok(PrincipalKind::Group),
            Some(other) => Err(ApiError(IdpError::Invalid(format!(
                "unknown type {other:?}; use type=user or type=group"
            )))),
        }
    }
}

/// Query strings are checked like bodies: a malformed one is a 400 with our error shape.
fn query<T: DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    Query::<T>::try_from_uri(uri).map(|q| q.0).map_err(|e| {
        ApiError(IdpError::Invalid(format!(
            "the query string is not valid for this endpoint ({e}); see /api/v1/openapi.json"
        )))
    })
}

async fn remove_member(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path((id, member)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageDirectory)).await?;
    let kind = query::<KindQuery>(&uri)?.kind()?;
    idp.remove_group_member(who.tenant, &id, &member, kind).await?;
    no_content()
}

async fn delete_app(State(idp): State<Idp>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    idp.delete_app(who.tenant, &id).await?;
    no_content()
}

async fn unassign(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Path((id, target)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageApps)).await?;
    let kind = query::<KindQuery>(&uri)?.kind()?;
    idp.unassign(who.tenant, &id, &target, kind).await?;
    no_content()
}

// ---------------------------------------------------------------------------- TOTP, tokens, mail

async fn enroll_totp(State(idp): State<Idp>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageDirectory)).await?;
    let u = idp.find_user(who.tenant, &id).await?;
    let uri = idp.enroll_totp(who.tenant, &u.id.to_string()).await?;
    // The secret is in this answer once (no-store); it cannot be read back.
    ok(json!({"user_id": u.id, "upn": u.upn, "otpauth_uri": uri.as_str()}))
}

async fn remove_totp(State(idp): State<Idp>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageDirectory)).await?;
    idp.remove_totp(who.tenant, &id).await?;
    no_content()
}

/// Only a Global Administrator may read the outbox or run the expiry check (there is no finer
/// permission for the server's own housekeeping).
fn require_global(who: &Principal, what: &str) -> Result<(), ApiError> {
    if who.roles.contains(&DirectoryRole::GlobalAdministrator) {
        return Ok(());
    }
    Err(ApiError(IdpError::Forbidden(format!(
        "{} may not {what} (Global Administrator); a Global Administrator can grant the role with \
         `portcullis idp role grant`",
        who.user.upn
    ))))
}

fn token_json(t: &store::admin::ApiToken, upn: Option<&str>) -> Value {
    json!({"id": t.id, "name": t.name, "user_id": t.user_id, "upn": upn, "created_at": t.created_at,
        "expires_at": t.expires_at, "last_used_at": t.last_used_at, "revoked": t.revoked_at.is_some(),
        "revoked_at": t.revoked_at})
}

async fn list_tokens(State(idp): State<Idp>, headers: HeaderMap) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageRoles)).await?;
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

async fn create_token(State(idp): State<Idp>, headers: HeaderMap, raw: Bytes) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageRoles)).await?;
    let b: CreateToken = body(&raw)?;
    let owner = b.user.unwrap_or_else(|| who.user.id.to_string());
    let t = idp.create_api_token(who.tenant, &owner, b.name.as_deref(), b.days).await?;
    let upn = idp.find_user(who.tenant, &t.record.user_id.to_string()).await?.upn;
    let mut v = token_json(&t.record, Some(&upn));
    // Shown once: only its SHA-256 is kept.
    v["token"] = json!(t.secret.as_str());
    created(format!("/api/v1/tokens/{}", t.record.id), v)
}

async fn revoke_token(State(idp): State<Idp>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let who = principal(&idp, &headers, Some(Permission::ManageRoles)).await?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxQuery {
    limit: Option<u32>,
}

async fn outbox(State(idp): State<Idp>, headers: HeaderMap, uri: Uri) -> ApiResult {
    let who = principal(&idp, &headers, None).await?;
    require_global(&who, "read the e-mail outbox")?;
    let q: OutboxQuery = query(&uri)?;
    let v: Vec<Value> = idp
        .store
        .list_mail(limit(q.limit)?)
        .await?
        .iter()
        .map(|m| {
            json!({"id": m.id, "created_at": m.created_at, "recipient": m.recipient, "subject": m.subject,
                "body": m.body, "status": if m.sent_at.is_some() { "sent" } else { "queued" },
                "sent_at": m.sent_at, "attempts": m.attempts, "last_error": m.last_error})
        })
        .collect();
    ok(Value::Array(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyBody {
    /// Check as of this instant (RFC 3339) instead of now, as `idp notify --now` does.
    now: Option<String>,
}

async fn notify(State(idp): State<Idp>, headers: HeaderMap, raw: Bytes) -> ApiResult {
    let who = principal(&idp, &headers, None).await?;
    require_global(&who, "run the certificate-expiry check")?;
    let b: NotifyBody = body(&raw)?;
    let at = match b.now.as_deref() {
        Some(t) => saml::clock::parse_time("now", t).map_err(|e| {
            ApiError(IdpError::Invalid(format!(
                "\"now\" {t:?}: {e} (use RFC 3339 in UTC, e.g. 2029-01-01T00:00:00Z)"
            )))
        })?,
        None => time::OffsetDateTime::now_utc(),
    };
    let queued = idp.queue_certificate_notices(at).await?;
    // The check runs for every tenant (as the hourly one does); the answer shows this tenant's.
    let mine: std::collections::BTreeSet<Uuid> =
        idp.store.list_apps(who.tenant).await?.iter().map(|a| a.id).collect();
    let v: Vec<Value> = queued
        .iter()
        .filter(|q| mine.contains(&q.app_id))
        .map(|q| {
            json!({"app_id": q.app_id, "cert_id": q.cert_id, "recipient": q.recipient,
                "days_left": q.days_left})
        })
        .collect();
    ok(Value::Array(v))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// (METHOD, path) of every `.route(…)` in [`super::router`], read from this file's source.
    fn routes_in_router() -> BTreeSet<(String, String)> {
        let src = include_str!("api.rs");
        let start = src.find("pub fn router(").expect("router()");
        let end = start + src[start..].find("\n}\n").expect("end of router()");
        let mut out = BTreeSet::new();
        for line in src[start..end].lines() {
            let Some(rest) = line.trim().strip_prefix(".route(\"") else { continue };
            let (path, handlers) = rest.split_once('"').expect("route path");
            for m in ["get", "post", "put", "patch", "delete"] {
                if handlers.contains(&format!(" {m}(")) || handlers.contains(&format!(".{m}(")) {
                    out.insert((m.to_uppercase(), path.to_string()));
                }
            }
        }
        out
    }

    #[test]
    fn the_openapi_document_describes_exactly_the_routes_of_the_router() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI_JSON).expect("openapi.json is JSON");
        assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.1")), Some(true));
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    assert!(op["responses"].is_object(), "{method} {path} has no responses");
                    assert!(op["operationId"].is_string(), "{method} {path} has no operationId");
                    documented.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        let routed = routes_in_router();
        assert!(routed.len() >= 30, "found only {} routes", routed.len());
        assert_eq!(routed, documented, "router() and openapi.json disagree");
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI_JSON).unwrap();
        let text = super::OPENAPI_JSON;
        for piece in text.split("\"$ref\": \"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(doc["components"]["schemas"][name].is_object(), "missing schema {name}");
        }
    }
}
