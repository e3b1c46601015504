//! The signed-in user's own account pages: change the password, enrol or remove a TOTP
//! authenticator ([`crate::flow::account`]). Every form carries the session's CSRF token
//! ([`web::csrf::session_token`]); without a session the browser signs in first and comes back.

use super::answer::{self, cookie_policy, session_cookie, sign_in_page};
use super::pages::{AccountPage, TotpEnrolPage};
use super::SESSION_COOKIE;
use crate::error::IdpError;
use crate::flow::account::PASSWORD_POLICY;
use crate::flow::{Pending, SESSION_SECONDS};
use crate::service::Idp;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use std::collections::HashMap;
use store::model::{Session, User};
use uuid::Uuid;
use web::cookies;
use web::page::render;
use web::tenant::Tenant;
use zeroize::Zeroizing;

/// The account routes (merged into the IdP's router).
pub fn router() -> Router<Idp> {
    Router::new()
        .route("/{tenant}/account", get(account))
        .route("/{tenant}/account/password", post(change_password))
        .route("/{tenant}/account/totp", get(enrol).post(confirm_enrolment))
        .route("/{tenant}/account/totp/remove", post(remove_totp))
}

/// The browser's session and user with its secret, or the sign-in page that comes back here.
async fn signed_in(
    idp: &Idp,
    tenant: Uuid,
    headers: &HeaderMap,
) -> Result<(String, Session, User), Response> {
    let secret = session_cookie(headers);
    match idp.signed_in_user(tenant, secret).await {
        Ok(Some((session, user))) => Ok((secret.unwrap_or_default().to_string(), session, user)),
        Ok(None) => Err(sign_in_page(idp, tenant, headers, &Pending::Account, None, None, "")),
        Err(e) => {
            tracing::error!(%tenant, error = %e, "cannot read the session for the account page");
            Err(sign_in_page(idp, tenant, headers, &Pending::Account, None, None, ""))
        }
    }
}

/// The error page when the form's CSRF field is not the session's token; `None` when it is.
fn csrf_refusal(tenant: Uuid, secret: &str, form: &HashMap<String, String>) -> Option<Response> {
    if web::csrf::session_token_ok(secret, form.get(web::csrf::FIELD).map(String::as_str)) {
        return None;
    }
    tracing::warn!(%tenant, "account form without this session's CSRF token");
    let e = IdpError::Csrf;
    let page = web::page::Message::new(answer::layout(tenant, "Form expired"), "The form expired")
        .paragraph(e.to_string())
        .code(e.code(), None)
        .link("Back to your account", format!("/{tenant}/account"));
    Some(render(StatusCode::FORBIDDEN, &page))
}

fn layout(idp: &Idp, tenant: Uuid, title: &str, user: &User) -> web::page::Layout {
    let e = idp.endpoints(tenant);
    answer::layout(tenant, title)
        .link("My Apps", e.my_apps_path(), false)
        .link("Account", e.account_path(), true)
        .signed_in(user.display_name.clone(), Some(e.logout_path()))
}

/// The user as saved now (after a change), or as they were when it cannot be read.
async fn reread(idp: &Idp, user: User) -> User {
    match idp.store.get_user(user.tenant_id, user.id).await {
        Ok(Some(u)) => u,
        _ => user,
    }
}

/// What the account page shows besides the user.
#[derive(Default)]
struct Shown<'a> {
    done: Option<&'a str>,
    password_error: Option<&'a str>,
    totp_error: Option<&'a str>,
}

fn account_page(
    idp: &Idp,
    tenant: Uuid,
    secret: &str,
    user: &User,
    status: StatusCode,
    shown: Shown<'_>,
) -> Response {
    let e = idp.endpoints(tenant);
    let base = e.account_path();
    let page = AccountPage {
        layout: layout(idp, tenant, "Your account", user),
        upn: &user.upn,
        csrf: &web::csrf::session_token(secret),
        password_action: &format!("{base}/password"),
        remove_action: &format!("{base}/totp/remove"),
        enrol_href: &format!("{base}/totp"),
        my_apps: &e.my_apps_path(),
        has_totp: idp.has_totp(user),
        min_chars: PASSWORD_POLICY.min_chars,
        max_chars: PASSWORD_POLICY.max_chars,
        done: shown.done,
        password_error: shown.password_error,
        totp_error: shown.totp_error,
    };
    render(status, &page)
}

/// The sentence and status of a refused account change.
fn refusal(e: &IdpError) -> (String, StatusCode) {
    match e {
        IdpError::BadCredentials => ("the current password is incorrect".into(), StatusCode::UNAUTHORIZED),
        IdpError::BadOtp => (
            "the code is incorrect or was used already; enter the code your app shows now".into(),
            StatusCode::UNAUTHORIZED,
        ),
        IdpError::LockedOut(_) => (e.to_string(), StatusCode::TOO_MANY_REQUESTS),
        IdpError::Invalid(why) => (why.clone(), StatusCode::BAD_REQUEST),
        other => {
            tracing::error!(error = %other, "an account change failed");
            ("the change could not be saved; try again later".into(), StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

async fn account(State(idp): State<Idp>, Tenant(tenant): Tenant, headers: HeaderMap) -> Response {
    match signed_in(&idp, tenant, &headers).await {
        Ok((secret, _, user)) => account_page(&idp, tenant, &secret, &user, StatusCode::OK, Shown::default()),
        Err(r) => r,
    }
}

async fn change_password(
    State(idp): State<Idp>,
    Tenant(tenant): Tenant,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (secret, session, user) = match signed_in(&idp, tenant, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Some(r) = csrf_refusal(tenant, &secret, &form) {
        return r;
    }
    let field = |name: &str| Zeroizing::new(form.get(name).cloned().unwrap_or_default());
    let (current, new, confirm) = (field("current"), field("new"), field("confirm"));
    match idp.change_own_password(&session, &user, &current, &new, &confirm).await {
        Ok(fresh) => {
            let done = "Your password was changed, and every other browser and device was signed out.";
            let shown = Shown { done: Some(done), ..Shown::default() };
            let mut r = account_page(&idp, tenant, fresh.secret(), &fresh.user, StatusCode::OK, shown);
            let cookie = cookie_policy(&idp).lax(SESSION_COOKIE, fresh.secret(), Some(SESSION_SECONDS));
            cookies::append(r.headers_mut(), &cookie);
            r
        }
        Err(e) => {
            let (why, status) = refusal(&e);
            let shown = Shown { password_error: Some(&why), ..Shown::default() };
            account_page(&idp, tenant, &secret, &user, status, shown)
        }
    }
}

/// The enrolment page: a new key, or the pending one again (after a wrong code).
fn enrol_page(
    idp: &Idp,
    tenant: Uuid,
    secret: &str,
    user: &User,
    pending: Option<&str>,
    error: Option<(&str, StatusCode)>,
) -> Response {
    let enrolment = match pending.map(|p| idp.resume_totp_enrolment(user, p)) {
        Some(Ok(e)) => Ok(e),
        Some(Err(e)) => {
            let (why, status) = refusal(&e);
            let shown = Shown { totp_error: Some(&why), ..Shown::default() };
            return account_page(idp, tenant, secret, user, status, shown);
        }
        None => idp.begin_totp_enrolment(user),
    };
    let enrolment = match enrolment {
        Ok(e) => e,
        Err(e) => return account_page(idp, tenant, secret, user, refusal(&e).1, Shown::default()),
    };
    let base = idp.endpoints(tenant).account_path();
    let page = TotpEnrolPage {
        layout: layout(idp, tenant, "Set up an authenticator app", user),
        uri: &enrolment.uri,
        secret: &enrolment.secret_base32,
        csrf: &web::csrf::session_token(secret),
        action: &format!("{base}/totp"),
        pending: &enrolment.pending,
        back: &base,
        error: error.map(|(e, _)| e),
    };
    render(error.map_or(StatusCode::OK, |(_, s)| s), &page)
}

async fn enrol(State(idp): State<Idp>, Tenant(tenant): Tenant, headers: HeaderMap) -> Response {
    let (secret, _, user) = match signed_in(&idp, tenant, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if idp.has_totp(&user) {
        let shown = Shown {
            totp_error: Some("an authenticator app is set up already: turn it off first"),
            ..Shown::default()
        };
        return account_page(&idp, tenant, &secret, &user, StatusCode::CONFLICT, shown);
    }
    enrol_page(&idp, tenant, &secret, &user, None, None)
}

async fn confirm_enrolment(
    State(idp): State<Idp>,
    Tenant(tenant): Tenant,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (secret, _, user) = match signed_in(&idp, tenant, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Some(r) = csrf_refusal(tenant, &secret, &form) {
        return r;
    }
    if idp.has_totp(&user) {
        let shown = Shown {
            totp_error: Some("an authenticator app is set up already: turn it off first"),
            ..Shown::default()
        };
        return account_page(&idp, tenant, &secret, &user, StatusCode::CONFLICT, shown);
    }
    let pending = form.get("pending").map(String::as_str).unwrap_or_default();
    let code = form.get("otp").map(String::as_str).unwrap_or_default();
    match idp.confirm_totp_enrolment(&user, pending, code).await {
        Ok(()) => {
            let done = "Your authenticator app is set up: signing in now asks for its code.";
            let user = reread(&idp, user).await;
            account_page(
                &idp,
                tenant,
                &secret,
                &user,
                StatusCode::OK,
                Shown { done: Some(done), ..Shown::default() },
            )
        }
        Err(e) => {
            let (why, status) = refusal(&e);
            enrol_page(&idp, tenant, &secret, &user, Some(pending), Some((&why, status)))
        }
    }
}

async fn remove_totp(
    State(idp): State<Idp>,
    Tenant(tenant): Tenant,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (secret, _, user) = match signed_in(&idp, tenant, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Some(r) = csrf_refusal(tenant, &secret, &form) {
        return r;
    }
    let code = form.get("otp").map(String::as_str).unwrap_or_default();
    match idp.remove_own_totp(&user, code).await {
        Ok(()) => {
            let done = "Your authenticator app was removed: signing in asks for your password only.";
            let user = reread(&idp, user).await;
            account_page(
                &idp,
                tenant,
                &secret,
                &user,
                StatusCode::OK,
                Shown { done: Some(done), ..Shown::default() },
            )
        }
        Err(e) => {
            let (why, status) = refusal(&e);
            account_page(
                &idp,
                tenant,
                &secret,
                &user,
                status,
                Shown { totp_error: Some(&why), ..Shown::default() },
            )
        }
    }
}
