//! The Password Safe public API v3 (`/BeyondTrust/api/public/v3/…`) as an axum router.
//!
//! Paths are case-insensitive, the prefix included (`/beyondtrust/API/…`): a layer in front of
//! the router ([`ApiPaths`]) lower-cases the path of every request under the prefix (in any
//! spelling), drops empty segments and the prefix, and answers every other path 404, so the
//! routes are written once in lower case. JSON keys are matched case-insensitively, unknown query
//! parameters (such as `version`) are ignored, and errors are short JSON strings that start with
//! their code (`crates/vault/ERRORS.md`). Each request is written to the audit log before its
//! response is sent; if that write fails the caller gets a 500 instead of an unaudited answer.

mod accounts;
mod auth;
mod extract;
mod registrations;
mod requests;
mod secrets;
mod shapes;

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde_json::Value;
use tower::ServiceExt as _;
use web::auth::{Authenticated, Authorized};

use crate::audit::Event;
use crate::error::{not_found, VaultError};
use crate::Vault;
use extract::{ApiUser, Audit};

/// The API's path prefix.
pub const BASE: &str = "/BeyondTrust/api/public/v3";
/// The session cookie (the name Password Safe uses).
pub const COOKIE: &str = "ASP.NET_SessionId";
/// The version `Configuration/Version` reports.
pub const VERSION: &str = "24.3.0.0";

/// Marks requests that arrived over TLS (set by [`crate::serve::serve`]), so that the session
/// cookie is `Secure` there.
#[derive(Clone, Copy, Debug)]
pub struct OverTls;

/// The API's router, to serve alone or merge into `portcullis up` (where it is the whole app's
/// fallback: everything outside the API's prefix stays a 404).
pub fn router(vault: Vault) -> Router {
    let api = Router::new()
        .route("/auth/connect/token", post(auth::token))
        .route("/auth/signappin", post(auth::sign_app_in))
        .route("/auth/signout", post(auth::sign_out))
        .route("/configuration/version", get(auth::version))
        .route("/managedaccounts", get(accounts::list))
        .route("/managedsystems/{id}/managedaccounts", get(accounts::of_system))
        .route("/managedaccounts/{id}/credentials/change", post(accounts::change_credentials))
        .route("/managedaccounts/{id}/credentials", put(accounts::set_credentials))
        .route("/requests", post(requests::create).get(requests::list))
        .route("/requests/{id}/checkin", put(requests::check_in))
        .route("/requests/{id}/approve", put(requests::approve))
        .route("/requests/{id}/deny", put(requests::deny))
        .route("/requests/{id}/rotateoncheckin", put(requests::rotate_on_check_in))
        .route("/credentials/{id}", get(requests::credential))
        .route("/accesspolicies", get(requests::policies))
        .route("/accesspolicies/test", post(requests::test_policy))
        .route("/apiregistrations", get(registrations::list).post(registrations::create))
        .route("/apiregistrations/{id}", get(registrations::one))
        .route("/apiregistrations/{id}/key", get(registrations::key))
        .route("/apiregistrations/{id}/rotate", post(registrations::rotate_key))
        .route("/secrets-safe/folders", get(secrets::folders).post(secrets::create_folder))
        .route("/secrets-safe/folders/{id}/secrets", post(secrets::create_credential))
        .route("/secrets-safe/folders/{id}/secrets/{kind}", post(secrets::create_of_kind))
        .route("/secrets-safe/secrets", get(secrets::find))
        .route("/secrets-safe/secrets/{id}", get(secrets::one))
        .route("/secrets-safe/secrets/{id}/file/download", get(secrets::download))
        .fallback(unknown)
        .method_not_allowed_fallback(unknown)
        .layer(middleware::from_fn_with_state(vault.clone(), audited))
        .with_state(vault);
    Router::new().fallback_service(ApiPaths(api)).layer(web::headers::SecurityHeadersLayer::http())
}

/// The path of a request as the caller spelled it, after the prefix, without the slashes around
/// it (`Requests/5/Checkin`): for the audit row and error sentences.
#[derive(Clone, Debug)]
struct SpelledPath(String);

/// The layer in front of the API's routes: a path under [`BASE`] in any spelling goes on
/// lower-cased, without the prefix and empty segments (`/requests/5/checkin`), its spelling kept
/// as [`SpelledPath`]; any other path is 404.
#[derive(Clone)]
struct ApiPaths(Router);

/// The part after the prefix, when `path` is under it (case-insensitively).
fn under_prefix(path: &str) -> Option<&str> {
    let ours = path.len() > BASE.len()
        && path.is_char_boundary(BASE.len())
        && path[..BASE.len()].eq_ignore_ascii_case(BASE)
        && path[BASE.len()..].starts_with('/');
    ours.then(|| &path[BASE.len()..])
}

impl tower::Service<Request> for ApiPaths {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let Some(rest) = under_prefix(req.uri().path()) else {
            return Box::pin(async { Ok(StatusCode::NOT_FOUND.into_response()) });
        };
        let spelled = SpelledPath(rest.trim_matches('/').to_string());
        let mut path = String::new();
        for seg in rest.split('/').filter(|s| !s.is_empty()) {
            path.push('/');
            path.push_str(&seg.to_ascii_lowercase());
        }
        if path.is_empty() {
            path.push('/');
        }
        if let Some(q) = req.uri().query() {
            path.push('?');
            path.push_str(q);
        }
        match path.parse::<Uri>() {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => return Box::pin(async { Ok(StatusCode::NOT_FOUND.into_response()) }),
        }
        req.extensions_mut().insert(spelled);
        let api = self.0.clone();
        Box::pin(api.oneshot(req))
    }
}

/// The code of an error answer, for the audit row (and the server log for storage errors).
#[derive(Clone, Debug)]
struct Answered {
    code: &'static str,
    internal: Option<String>,
}

impl IntoResponse for VaultError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (msg, internal) = match &self {
            // Storage details go to the log, not to the caller.
            VaultError::Store(inner) => (
                format!(
                    "{}: the vault could not complete the request; the server log has the details",
                    self.code()
                ),
                Some(inner.to_string()),
            ),
            other => (other.to_string(), None),
        };
        let mut response = (status, Json(Value::String(msg))).into_response();
        response.extensions_mut().insert(Answered { code: self.code(), internal });
        response
    }
}

/// What a handler answers.
type Answer = Result<Response, VaultError>;

fn no_content() -> Answer {
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn ok<T: serde::Serialize>(v: T) -> Answer {
    Ok((StatusCode::OK, Json(v)).into_response())
}

fn created<T: serde::Serialize>(v: T) -> Answer {
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// Any other path under the prefix, or another method on a known one: for a signed-in caller
/// it is not an endpoint (404); others are told to sign in first, as for every endpoint.
async fn unknown(
    _user: Authorized<ApiUser, Authenticated>,
    method: Method,
    spelled: Option<Extension<SpelledPath>>,
) -> Answer {
    let rest = spelled.map(|Extension(p)| p.0).unwrap_or_default();
    Err(not_found(format!("{method} {rest} is not an endpoint of this API")))
}

/// Writes the audit row of every API request before its response goes out.
async fn audited(State(vault): State<Vault>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let spelled = req.extensions().get::<SpelledPath>().map(|p| p.0.clone()).unwrap_or_default();
    let action = format!(
        "{} {}",
        req.method(),
        spelled
            .split('/')
            .map(|s| if s.parse::<i64>().is_ok() || s.len() == 36 { "{id}" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    );
    let audit = Audit::new(peer);
    req.extensions_mut().insert(audit.clone());
    let response = next.run(req).await;
    let status = response.status();
    let result = match response.extensions().get::<Answered>() {
        Some(a) => {
            if let Some(inner) = &a.internal {
                tracing::error!(code = a.code, error = %inner, action = %action, "vault API request failed");
            }
            format!("{} {}", status.as_u16(), a.code)
        }
        None if status.is_success() => "ok".to_string(),
        None => status.as_u16().to_string(),
    };
    let (actor, account_id, source) = audit.snapshot();
    let written = vault
        .audit(Event {
            actor: &actor,
            action: &action,
            account_id,
            source: &source.to_string(),
            result: &result,
            detail: "",
        })
        .await;
    match written {
        Ok(()) => response,
        Err(e) => {
            tracing::error!(code = e.code(), error = %e, "writing the audit log failed; the response is withheld");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(Value::String("the audit log could not be written; nothing was returned".into())),
            )
                .into_response()
        }
    }
}
