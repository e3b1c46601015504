//! The console's HTTP APIs for API accounts: `POST /oauth2/token` (OAuth 2.0 client credentials,
//! `token`), the Command API under `/console/api/command/` (jump items, jump groups, sessions;
//! `command`) and the Reporting API under `/console/api/reporting/` (access session reports and
//! recordings; `reporting`). JSON in and out; errors are `{"code": "PCC…", "message": "…"}` with
//! the error's HTTP status (the token endpoint answers RFC 6749 §5.2 errors instead). Every
//! handler names the permission it needs in its signature (`Caller<ReadCommands>`), checked
//! through [`ConsoleStore::authorize`] on every call: no token or a bad one is 401 with
//! `WWW-Authenticate: Bearer`, a valid token without the permission 403.

mod command;
mod reporting;
mod token;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use serde_json::json;
use web::auth::{Authority, Authorized};

use crate::db::ConsoleStore;
use crate::oauth::{ApiPrincipal, Need, DEFAULT_TOKEN_TTL};
use crate::ConsoleError;

web::requirements!(Need {
    /// The Command API, reading.
    ReadCommands => Need::CommandRead,
    /// The Command API, changing.
    ChangeCommands => Need::CommandFull,
    /// The Reporting API.
    Reports => Need::Reporting,
});

/// The calling API account, authorised for `R`.
pub(crate) type Caller<R> = Authorized<ApiPrincipal, R>;

/// How the APIs behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiSettings {
    /// How long an access token lasts (1 minute to 24 hours).
    pub token_ttl: Duration,
}

impl Default for ApiSettings {
    fn default() -> ApiSettings {
        ApiSettings { token_ttl: DEFAULT_TOKEN_TTL }
    }
}

/// The APIs' state.
#[derive(Clone, Debug)]
pub(crate) struct Api {
    db: ConsoleStore,
    settings: ApiSettings,
}

/// The largest token request body read (a form of three short fields).
const TOKEN_BODY_LIMIT: usize = 16 * 1024;

/// The largest Command API body read.
const JSON_BODY_LIMIT: usize = 64 * 1024;

/// `POST /oauth2/token` and the Command and Reporting APIs, for the host application to merge
/// (with its `SecurityHeadersLayer`). An out-of-range token lifetime is refused.
pub fn router<S: Clone + Send + Sync + 'static>(
    db: ConsoleStore,
    settings: ApiSettings,
) -> Result<Router<S>, ConsoleError> {
    if !(60..=86_400).contains(&settings.token_ttl.as_secs()) {
        return Err(ConsoleError::InvalidInput {
            reason: format!(
                "an access token lifetime of {} s is out of range; use 60 to 86400 seconds",
                settings.token_ttl.as_secs()
            ),
        });
    }
    let api = Api { db, settings };
    let token = Router::new()
        .route("/oauth2/token", post(token::token))
        .layer(DefaultBodyLimit::max(TOKEN_BODY_LIMIT));
    let apis = Router::new()
        .route("/console/api/command/jump-items", get(command::list_items).post(command::create_item))
        .route(
            "/console/api/command/jump-items/{id}",
            get(command::get_item).patch(command::update_item).delete(command::delete_item),
        )
        .route("/console/api/command/jump-groups", get(command::list_groups))
        .route("/console/api/command/sessions", get(command::list_sessions))
        .route("/console/api/command/{*rest}", any(unknown))
        .route("/console/api/reporting/sessions", get(reporting::list_reports))
        .route("/console/api/reporting/sessions/{id}", get(reporting::report))
        .route("/console/api/reporting/sessions/{id}/recording", get(reporting::recording))
        .route("/console/api/reporting/{*rest}", any(unknown))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT));
    Ok(token.merge(apis).with_state(api))
}

/// An error answer of the Command and Reporting APIs.
#[derive(Debug)]
pub(crate) struct ApiError(pub ConsoleError);

impl From<ConsoleError> for ApiError {
    fn from(e: ConsoleError) -> ApiError {
        ApiError(e)
    }
}

/// The HTTP status of an error in an API answer.
pub(crate) fn status_of(e: &ConsoleError) -> StatusCode {
    match e {
        ConsoleError::InvalidInput { .. }
        | ConsoleError::InvalidRequest { .. }
        | ConsoleError::TokenRequest { .. }
        | ConsoleError::UnsupportedGrant { .. }
        | ConsoleError::InvalidScope => StatusCode::BAD_REQUEST,
        ConsoleError::ClientAuth | ConsoleError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
        ConsoleError::Forbidden { .. } => StatusCode::FORBIDDEN,
        ConsoleError::NotFound { .. } | ConsoleError::UnknownSession { .. } => StatusCode::NOT_FOUND,
        ConsoleError::Conflict { .. } => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        if status.is_server_error() {
            tracing::error!(code = self.0.code(), error = %self.0, "console API request failed");
        }
        let mut r = (status, axum::Json(json!({"code": self.0.code(), "message": self.0.to_string()})))
            .into_response();
        let h = r.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"portcullis-console\""),
            );
        }
        r
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

impl Authority<Api> for ApiPrincipal {
    type Permission = Need;
    type Rejection = ApiError;

    async fn authorize(parts: &mut Parts, api: &Api, needed: Option<Need>) -> Result<ApiPrincipal, ApiError> {
        // Every handler names its permission; a bare `Authenticated` would mean the weakest.
        let need = needed.unwrap_or(Need::CommandRead);
        Ok(api.db.authorize(bearer_token(&parts.headers), need).await?)
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

/// A JSON answer that no cache keeps.
pub(crate) fn json_answer(status: StatusCode, v: serde_json::Value) -> ApiResult {
    let mut r = (status, axum::Json(v)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

async fn unknown() -> Response {
    ApiError(ConsoleError::NotFound { what: "this console API path".into() }).into_response()
}
