//! The admin REST API: JSON under `/api/v1/`, authenticated with `Authorization: Bearer pat_…`
//! (see [`crate::roles`]); the tenant is the token's. Every handler names the permission it
//! needs in its signature (`Admin<ManageApps>`), so the check cannot be forgotten; every input
//! is checked by the same `Idp` methods the CLI calls, so the rules live in one place. Errors
//! are `{"code": "PCS…", "message": "…"}` with the error's HTTP status; 401 answers carry
//! `WWW-Authenticate: Bearer`. The OpenAPI 3.1 document (`crates/idp/openapi.json`,
//! hand-written: no macro crate to compile, and a test keeps it in step with [`router`]) is
//! served without authentication at `/api/v1/openapi.json`.
//!
//! The handlers are grouped by aggregate: [`directory`] (users, groups, TOTP), [`roles`]
//! (directory roles, API tokens, the caller), [`apps`] (enterprise apps, their SAML
//! configuration, claims, assignments and certificates), [`ops`] (sign-in logs, the outbox,
//! the certificate-expiry check).

mod apps;
mod directory;
mod ops;
mod roles;

use apps::{
    activate_cert, app_metadata, assign, create_app, delete_app, download_cert, get_app, groups_claim,
    import_sp_metadata, list_apps, list_assignments, list_certs, new_cert, patch_app, put_saml, remove_claim,
    set_claim, templates, unassign,
};
use directory::{
    add_member, create_group, create_user, delete_group, delete_user, enroll_totp, get_user, list_groups,
    list_users, patch_user, remove_member, remove_totp, user_groups,
};
use ops::{notify, outbox, signins};
use roles::{create_token, grant_role, list_roles, list_tokens, me, revoke_role, revoke_token};

use crate::error::IdpError;
use crate::roles::{Permission, Principal};
use crate::service::Idp;
use axum::body::Bytes;
use axum::extract::Query;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post, put};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use store::model::PrincipalKind;
use web::auth::{Authority, Authorized};

pub use web::auth::Authenticated;

web::requirements!(Permission {
    /// Users and groups.
    ManageDirectory => Permission::ManageDirectory,
    /// Directory roles and other users' API tokens.
    ManageRoles => Permission::ManageRoles,
    /// Enterprise apps.
    ManageApps => Permission::ManageApps,
    /// The sign-in logs.
    ReadSignIns => Permission::ReadSignIns,
});

/// The caller, authorised for `R`.
pub type Admin<R> = Authorized<Principal, R>;

/// The OpenAPI 3.1 document of this API.
pub const OPENAPI_JSON: &str = include_str!("../../../openapi.json");

/// The admin API's routes (merged into the IdP's router).
pub fn router() -> Router<Idp> {
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
}

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

/// The principal behind the request's bearer token, if it holds the handler's permission.
impl Authority<Idp> for Principal {
    type Permission = Permission;
    type Rejection = ApiError;

    async fn authorize(
        parts: &mut Parts,
        idp: &Idp,
        needed: Option<Permission>,
    ) -> Result<Principal, ApiError> {
        let who = idp.authorize(bearer_token(&parts.headers)).await?;
        if let Some(p) = needed {
            who.require(p)?;
        }
        Ok(who)
    }
}

/// The token of an `Authorization: Bearer …` header ("" without one).
fn bearer_token(headers: &HeaderMap) -> &str {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .unwrap_or("")
}

fn no_store(status: StatusCode, mut r: Response) -> Response {
    *r.status_mut() = status;
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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

async fn openapi() -> Response {
    let mut r = OPENAPI_JSON.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// (METHOD, path) of every `.route(…)` in [`super::router`], read from this file's source.
    fn routes_in_router() -> BTreeSet<(String, String)> {
        let src = include_str!("mod.rs");
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
