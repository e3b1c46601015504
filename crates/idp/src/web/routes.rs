//! The axum router and the browser's handlers: each reads the request (tenant, cookies, form),
//! calls one step of the flow ([`crate::flow`]) and answers what the step says.

use super::answer::{self, cookie_policy, error_page, otp_page, redirect, session_cookie, sign_in_page};
use super::{CSRF_COOKIE, SESSION_COOKIE};
use crate::error::IdpError;
use crate::flow::{Client, NewSession, OtpStep, Pending, Portal, SignIn, SESSION_SECONDS};
use crate::service::Idp;
use axum::extract::{ConnectInfo, Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use uuid::Uuid;
use web::cookies;
use web::headers::SecurityHeadersLayer;
use web::page::{render, Message};
use web::tenant::{Tenant, TenantDirectory};

/// The IdP's routes, with the security headers on every answer. Serve with
/// `into_make_service_with_connect_info::<SocketAddr>()` so that sign-in logs get the client
/// address.
pub fn router(idp: Idp) -> Router {
    let security_headers = SecurityHeadersLayer::for_base_url(idp.base_url());
    Router::new()
        .route("/myapps", get(my_apps_default))
        .route("/{tenant}/saml2", get(sso_redirect).post(sso_post))
        .route("/{tenant}/login", get(login_get).post(login_post))
        .route("/{tenant}/login/otp", post(otp_post))
        .route("/{tenant}/logout", get(logout))
        .route("/{tenant}/myapps", get(my_apps))
        .route("/{tenant}/myapps/launch/{app}", get(launch))
        .route("/{tenant}/federationmetadata/2007-06/federationmetadata.xml", get(metadata))
        .merge(super::admin_pages::router())
        .merge(super::account::router())
        .merge(super::api::router())
        .merge(web::page::assets())
        .with_state(idp)
        .layer(security_headers)
}

impl TenantDirectory for Idp {
    async fn tenant_exists(&self, id: Uuid) -> bool {
        match self.has_tenant(id).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(tenant = %id, error = %e, "cannot look the tenant up");
                false
            }
        }
    }
}

pub(super) type Addr = ConnectInfo<SocketAddr>;

/// What the flow records about the browser.
pub(super) fn client(addr: &Addr) -> Client {
    Client { ip: Some(addr.0.ip().to_string()) }
}

/// The `{app}` segment of the My Apps routes.
#[derive(Deserialize)]
pub(super) struct AppPath {
    app: String,
}

impl AppPath {
    /// The app's object ID; a segment that is not one names no app.
    pub(super) fn id(&self) -> Option<Uuid> {
        Uuid::parse_str(&self.app).ok()
    }
}

/// The answer for an `{app}` segment that is not an object ID.
pub(super) fn unknown_app() -> Response {
    (StatusCode::NOT_FOUND, "unknown app").into_response()
}

async fn sso_redirect(
    State(idp): State<Idp>,
    Tenant(tenant): Tenant,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    addr: Addr,
) -> Response {
    let query = query.unwrap_or_default();
    let step = idp.saml_redirect(tenant, query, session_cookie(&headers), &client(&addr)).await;
    answer::step(&idp, tenant, &headers, step)
}

async fn sso_post(
    State(idp): State<Idp>,
    Tenant(tenant): Tenant,
    headers: HeaderMap,
    addr: Addr,
    Form(mut form): Form<HashMap<String, String>>,
) -> Response {
    let (request, relay_state) = (form.remove("SAMLRequest"), form.remove("RelayState"));
    let step = idp.saml_post(tenant, request, relay_state, session_cookie(&headers), &client(&addr)).await;
    answer::step(&idp, tenant, &headers, step)
}

async fn login_get(State(idp): State<Idp>, Tenant(tenant): Tenant, headers: HeaderMap) -> Response {
    sign_in_page(&idp, tenant, &headers, &Pending::MyApps, None, None, "")
}

/// What both sign-in steps start with: the pending step the form carries, and the CSRF check
/// (a failure is logged and shown as an error page).
async fn sign_in_form(
    idp: &Idp,
    tenant: Uuid,
    headers: &HeaderMap,
    client: &Client,
    form: &HashMap<String, String>,
) -> Result<Pending, Response> {
    let pending = form.get("ctx").and_then(|s| Pending::decode(s)).unwrap_or(Pending::MyApps);
    let cookie = cookies::read(headers, CSRF_COOKIE);
    if !web::csrf::double_submit_ok(cookie, form.get(web::csrf::FIELD).map(String::as_str)) {
        return Err(error_page(tenant, &idp.failure(tenant, None, None, client, IdpError::Csrf).await));
    }
    Ok(pending)
}

async fn login_post(
    State(idp): State<Idp>,
    Tenant(tenant): Tenant,
    headers: HeaderMap,
    addr: Addr,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let c = client(&addr);
    let pending = match sign_in_form(&idp, tenant, &headers, &c, &form).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let username = form.get("username").map(|s| s.trim()).unwrap_or_default();
    let password = zeroize::Zeroizing::new(form.get("password").cloned().unwrap_or_default());
    match idp.authenticate(tenant, username, &password, &c).await {
        SignIn::Done(session) => signed_in(&idp, tenant, &headers, &c, pending, session).await,
        SignIn::NeedOtp(token) => otp_page(&idp, tenant, &headers, &pending, token.as_str(), None),
        SignIn::Retry(e) => {
            sign_in_page(&idp, tenant, &headers, &pending, None, Some(&e.to_string()), username)
        }
        SignIn::Refused(f) => error_page(tenant, &f),
    }
}

async fn otp_post(
    State(idp): State<Idp>,
    Tenant(tenant): Tenant,
    headers: HeaderMap,
    addr: Addr,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let c = client(&addr);
    let pending = match sign_in_form(&idp, tenant, &headers, &c, &form).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let token = form.get("pending").map(String::as_str).unwrap_or_default();
    let code = form.get("otp").map(String::as_str).unwrap_or_default();
    match idp.verify_otp(tenant, token, code, &c).await {
        OtpStep::Done(session) => signed_in(&idp, tenant, &headers, &c, pending, session).await,
        OtpStep::Retry(e) => otp_page(&idp, tenant, &headers, &pending, token, Some(&e.to_string())),
        OtpStep::Restart { expired } => {
            let why = expired.then_some("the sign-in took too long; sign in again");
            sign_in_page(&idp, tenant, &headers, &pending, None, why, "")
        }
        OtpStep::Refused(f) => error_page(tenant, &f),
    }
}

/// Gives the browser its new session and goes on with what it was doing.
async fn signed_in(
    idp: &Idp,
    tenant: Uuid,
    headers: &HeaderMap,
    client: &Client,
    pending: Pending,
    session: Box<NewSession>,
) -> Response {
    let step = idp.continue_after_sign_in(tenant, pending, &session, client).await;
    let mut r = answer::step(idp, tenant, headers, step);
    let cookie = cookie_policy(idp).lax(SESSION_COOKIE, session.secret(), Some(SESSION_SECONDS));
    cookies::append(r.headers_mut(), &cookie);
    r
}

async fn logout(State(idp): State<Idp>, Tenant(tenant): Tenant, headers: HeaderMap) -> Response {
    if let Some(secret) = session_cookie(&headers) {
        if let Err(e) = idp.end_session(secret).await {
            tracing::warn!(%tenant, error = %e, "could not end a session at sign-out");
        }
    }
    let page = Message::new(answer::layout(tenant, "Signed out"), "You signed out")
        .paragraph("This browser is signed out of My Apps. Apps you opened may keep their own sessions until you sign out there too.")
        .link("Sign in again", idp.endpoints(tenant).my_apps_path());
    let mut r = render(StatusCode::OK, &page);
    cookies::append(r.headers_mut(), &cookie_policy(&idp).removal(SESSION_COOKIE));
    r
}

async fn my_apps_default(State(idp): State<Idp>) -> Response {
    match idp.store.default_tenant().await {
        Ok(Some(t)) => redirect(&idp.endpoints(t.id).my_apps_path()),
        _ => (StatusCode::NOT_FOUND, "no tenant yet: run portcullis up").into_response(),
    }
}

async fn my_apps(State(idp): State<Idp>, Tenant(tenant): Tenant, headers: HeaderMap, addr: Addr) -> Response {
    match idp.my_apps(tenant, session_cookie(&headers), &client(&addr)).await {
        Portal::NeedSignIn => sign_in_page(&idp, tenant, &headers, &Pending::MyApps, None, None, ""),
        Portal::Apps { user, tiles } => {
            let endpoints = idp.endpoints(tenant);
            let tiles = tiles
                .into_iter()
                .map(|t| super::pages::TileLink::new(t.name, endpoints.launch_path(t.app_id)))
                .collect();
            let layout = answer::layout(tenant, "My Apps")
                .wide()
                .link("My Apps", endpoints.my_apps_path(), true)
                .link("Account", endpoints.account_path(), false)
                .signed_in(user.display_name, Some(endpoints.logout_path()));
            render(StatusCode::OK, &super::pages::MyAppsPage { layout, tiles })
        }
        Portal::Fail(f) => error_page(tenant, &f),
    }
}

/// A My Apps tile (see [`Idp::launch`]).
async fn launch(
    State(idp): State<Idp>,
    Tenant(tenant): Tenant,
    Path(path): Path<AppPath>,
    headers: HeaderMap,
    addr: Addr,
) -> Response {
    let Some(app) = path.id() else { return unknown_app() };
    let step = idp.launch(tenant, app, session_cookie(&headers), &client(&addr)).await;
    answer::step(&idp, tenant, &headers, step)
}

async fn metadata(
    State(idp): State<Idp>,
    Tenant(tenant): Tenant,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(app) = q.get("appid") else {
        return (StatusCode::BAD_REQUEST, "add ?appid=APP_ID").into_response();
    };
    match idp.app_metadata(tenant, app).await {
        Ok(xml) => ([(header::CONTENT_TYPE, "application/samlmetadata+xml")], xml).into_response(),
        Err(e) => (
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            format!("{}: {e}", e.code()),
        )
            .into_response(),
    }
}
