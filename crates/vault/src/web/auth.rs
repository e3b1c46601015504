//! Signing in and out: the OAuth client-credentials grant (`Auth/connect/token`), `SignAppIn`
//! (PS-Auth key or bearer token, which opens a session cookie), `Signout`, and the version.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde_json::json;
use web::cookies::CookiePolicy;
use zeroize::Zeroizing;

use super::extract::{q, Audit, Query};
use super::shapes::user_json;
use super::{ok, Answer, OverTls, COOKIE, VERSION};
use crate::error::{invalid, unauthorized, VaultError};
use crate::Vault;

/// `POST Auth/connect/token`: an access token for an OAuth client; refusals are OAuth error
/// objects (`invalid_client`, …), as OAuth clients expect.
pub(super) async fn token(State(vault): State<Vault>, audit: Audit, body: Body) -> Answer {
    let body = axum::body::to_bytes(body, 64 * 1024).await.map_err(|_| invalid("the body is too large"))?;
    let form = Query::parse(&body);
    let oauth_error = |status: StatusCode, error: &str, description: &str| -> Answer {
        Ok((status, Json(json!({ "error": error, "error_description": description }))).into_response())
    };
    if q(&form, "grant_type") != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "use grant_type=client_credentials",
        );
    }
    let (Some(id), Some(secret)) = (q(&form, "client_id"), q(&form, "client_secret")) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send client_id and client_secret in the form body",
        );
    };
    audit.actor(&format!("oauth:{id}"));
    let secret = Zeroizing::new(secret.to_string());
    match vault.issue_token(id, &secret).await {
        Ok(t) => ok(json!({
            "access_token": t.access_token.as_str(),
            "expires_in": t.expires_in,
            "token_type": "Bearer",
            "scope": "publicapi",
        })),
        Err(VaultError::Unauthorized(m)) => oauth_error(StatusCode::BAD_REQUEST, "invalid_client", &m),
        Err(e) => Err(e),
    }
}

/// `POST Auth/SignAppIn`: opens a session (the `ASP.NET_SessionId` cookie: HttpOnly,
/// SameSite=Strict, Secure over TLS) for the user the `Authorization` header names.
pub(super) async fn sign_app_in(
    State(vault): State<Vault>,
    audit: Audit,
    over_tls: Option<Extension<OverTls>>,
    headers: HeaderMap,
) -> Answer {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(|| {
        unauthorized("send Authorization: PS-Auth key=<API key>; runas=<user>; or Bearer <token>")
    })?;
    let (user, session) = vault.sign_in(auth, audit_source(&audit)).await.inspect_err(|_| {
        audit.actor(&runas_of(auth).unwrap_or_else(|| "-".into()));
    })?;
    audit.actor(&user.name);
    let cookie = CookiePolicy { secure: over_tls.is_some() }.strict(COOKIE, session.as_str(), None);
    let mut resp = (StatusCode::OK, Json(user_json(&user))).into_response();
    web::cookies::append(resp.headers_mut(), &cookie);
    Ok(resp)
}

/// `POST Auth/Signout`: ends the session of the cookie, if any.
pub(super) async fn sign_out(State(vault): State<Vault>, audit: Audit, headers: HeaderMap) -> Answer {
    if let Some(c) = web::cookies::read(&headers, COOKIE) {
        if let Ok(u) = vault.session_user(c).await {
            audit.actor(&u.name);
        }
        vault.sign_out(c).await?;
    }
    Ok(StatusCode::OK.into_response())
}

/// `GET Configuration/Version` (no session needed).
pub(super) async fn version() -> Answer {
    ok(json!({ "Version": VERSION }))
}

fn audit_source(audit: &Audit) -> std::net::IpAddr {
    audit.snapshot().2
}

/// The runas= of a PS-Auth header, for the audit row of a refused sign-in.
fn runas_of(auth: &str) -> Option<String> {
    crate::psauth::parse(auth).ok().and_then(|a| a.runas)
}
