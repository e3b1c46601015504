//! How the flow's steps reach the browser: pages, the auto-posting form, redirects, cookies.

use super::pages::{ErrorPage, OtpPage, SignInPage, AREA};
use super::{CSRF_COOKIE, SESSION_COOKIE};
use crate::flow::{Failure, Pending, SsoStep};
use crate::service::Idp;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use saml::bindings::{post, MessageParam};
use uuid::Uuid;
use web::cookies::{self, CookiePolicy};
use web::page::{render, Layout};

/// The policy of the auto-posting form, the one page that posts to another origin: its one
/// script by hash, and a form to wherever the app's reply URL is.
fn post_form_csp() -> String {
    format!(
        "default-src 'none'; script-src '{}'; form-action *; frame-ancestors 'none'; base-uri 'none'",
        post::POST_FORM_SCRIPT_HASH
    )
}

/// The cookie policy of the IdP (Secure when its base URL is https).
pub(super) fn cookie_policy(idp: &Idp) -> CookiePolicy {
    CookiePolicy::for_base_url(idp.base_url())
}

/// The value of the browser's session cookie.
pub(super) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookies::read(headers, SESSION_COOKIE)
}

/// The page layout of a tenant's pages.
pub(super) fn layout(tenant: Uuid, title: &str) -> Layout {
    Layout::new(title, AREA, format!("/{tenant}/myapps"))
}

/// A flow step as the browser's answer.
pub(super) fn step(idp: &Idp, tenant: Uuid, headers: &HeaderMap, step: SsoStep) -> Response {
    match step {
        SsoStep::NeedSignIn { pending, app } => {
            sign_in_page(idp, tenant, headers, &pending, app.as_deref(), None, "")
        }
        SsoStep::Post { acs, response_xml, relay_state } => {
            post_form(&acs, &response_xml, relay_state.as_deref())
        }
        SsoStep::Redirect(location) => redirect(&location),
        SsoStep::SignedOut { location } => {
            let mut r = redirect(&location);
            cookies::append(r.headers_mut(), &cookie_policy(idp).removal(SESSION_COOKIE));
            r
        }
        SsoStep::Fail(failure) => error_page(tenant, &failure),
    }
}

/// The sign-in form carrying `pending`, with a double-submit CSRF token (the browser's, or a
/// new one). 401 when it shows an error.
pub(super) fn sign_in_page(
    idp: &Idp,
    tenant: Uuid,
    headers: &HeaderMap,
    pending: &Pending,
    app: Option<&str>,
    error: Option<&str>,
    username: &str,
) -> Response {
    let csrf = match cookies::read(headers, CSRF_COOKIE) {
        Some(c) => c.to_string(),
        None => match web::token::random_token() {
            Ok(t) => t,
            Err(e) => return internal_error(&e),
        },
    };
    let page = SignInPage {
        layout: layout(tenant, "Sign in"),
        action: &idp.endpoints(tenant).login_url(),
        csrf: &csrf,
        ctx: &pending.encode(),
        username,
        error,
        app,
    };
    let status = if error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    let mut r = render(status, &page);
    cookies::append(r.headers_mut(), &cookie_policy(idp).lax(CSRF_COOKIE, &csrf, None));
    r
}

/// The TOTP form for the first step's `token`. 401 when it shows an error.
pub(super) fn otp_page(
    idp: &Idp,
    tenant: Uuid,
    headers: &HeaderMap,
    pending: &Pending,
    token: &str,
    error: Option<&str>,
) -> Response {
    let page = OtpPage {
        layout: layout(tenant, "Verify your identity"),
        action: &idp.endpoints(tenant).otp_url(),
        csrf: cookies::read(headers, CSRF_COOKIE).unwrap_or_default(),
        ctx: &pending.encode(),
        pending: token,
        error,
    };
    render(if error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK }, &page)
}

/// The error page of a refused step, with the error's status.
pub(super) fn error_page(tenant: Uuid, f: &Failure) -> Response {
    let page = ErrorPage {
        layout: layout(tenant, "Sign-in error"),
        code: f.error.code(),
        message: &f.error.to_string(),
        app: f.app.as_deref(),
        correlation_id: &f.correlation_id.to_string(),
    };
    let status = StatusCode::from_u16(f.error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    render(status, &page)
}

/// The auto-posting form that carries a Response to an app (never cached: it holds a bearer
/// assertion), under its own Content-Security-Policy.
fn post_form(acs: &str, response_xml: &str, relay_state: Option<&str>) -> Response {
    match post::post_form(acs, MessageParam::Response, response_xml, relay_state) {
        Ok(body) => {
            let mut r = Html(body).into_response();
            let h = r.headers_mut();
            h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(csp) = HeaderValue::from_str(&post_form_csp()) {
                h.insert(CONTENT_SECURITY_POLICY, csp);
            }
            r
        }
        // The flow checked the address before it signed (see flow::assertion).
        Err(e) => internal_error(&e),
    }
}

/// A 302 to `location`.
pub(super) fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::FOUND, [(LOCATION, v)]).into_response(),
        Err(_) => {
            tracing::error!(location, "a redirect target is not a valid header value");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A failure that is not the user's (no randomness, a page that cannot be built): logged,
/// and a plain 500.
fn internal_error(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "cannot answer the browser");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error; see the server log").into_response()
}
