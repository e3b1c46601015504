//! The axum router and the thin handlers that turn HTTP into flow steps.

use super::flow::{Ctx, Outcome, Pending, CSRF_COOKIE, SESSION_COOKIE};
use super::{pages, security};
use crate::error::IdpError;
use crate::password;
use crate::service::Idp;
use axum::extract::{ConnectInfo, Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use std::collections::HashMap;
use std::net::SocketAddr;
use uuid::Uuid;

/// The IdP's routes. Serve with `into_make_service_with_connect_info::<SocketAddr>()`
/// so that sign-in logs get the client address.
pub fn router(idp: Idp) -> Router {
    Router::new()
        .route("/myapps", get(my_apps_default))
        .route("/{tenant}/saml2", get(sso_redirect).post(sso_post))
        .route("/{tenant}/login", get(login_get).post(login_post))
        .route("/{tenant}/login/otp", axum::routing::post(otp_post))
        .route("/{tenant}/logout", get(logout))
        .route("/{tenant}/myapps", get(my_apps))
        .route("/{tenant}/myapps/launch/{app}", get(launch))
        .route("/{tenant}/federationmetadata/2007-06/federationmetadata.xml", get(metadata))
        .with_state(idp.clone())
        .merge(super::api::router(idp.clone()).merge(super::admin_pages::router(idp)))
}

pub(super) fn ctx(headers: &HeaderMap, addr: Option<SocketAddr>, idp: &Idp) -> Ctx {
    Ctx {
        cookie_header: headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).map(str::to_string),
        ip: addr.map(|a| a.ip().to_string()),
        secure: idp.base_url().starts_with("https://"),
    }
}

pub(super) fn render(o: Outcome) -> Response {
    let (status, mut resp, cookies) = match o {
        Outcome::Html { status, body, set_cookies } => {
            let mut r = axum::response::Html(body).into_response();
            // The POST form and the sign-in page must never be cached or framed.
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), r, set_cookies)
        }
        Outcome::Redirect { location, set_cookies } => {
            let mut r = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            (StatusCode::FOUND, r, set_cookies)
        }
    };
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_str(&format!(
            "default-src 'none'; style-src 'unsafe-inline'; form-action *; frame-ancestors 'none'; script-src '{}'",
            saml::bindings::post::POST_FORM_SCRIPT_HASH
        ))
        .unwrap_or(HeaderValue::from_static("default-src 'none'")),
    );
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

pub(super) async fn tenant_or_404(idp: &Idp, tenant: &str) -> Result<Uuid, Response> {
    let not_found = || (StatusCode::NOT_FOUND, "unknown tenant").into_response();
    let id = Uuid::parse_str(tenant).map_err(|_| not_found())?;
    match idp.tenant_exists(id).await {
        Ok(true) => Ok(id),
        _ => Err(not_found()),
    }
}

type Addr = ConnectInfo<SocketAddr>;

async fn sso_redirect(
    State(idp): State<Idp>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    addr: Addr,
) -> Response {
    let tenant = match tenant_or_404(&idp, &tenant).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let c = ctx(&headers, Some(addr.0), &idp);
    let query = query.unwrap_or_default();
    // Decoded and parsed once, then routed by message type.
    let decoded = crate::sso::Envelope::from_redirect(&query)
        .and_then(|envelope| envelope.message().map(|message| (envelope, message)));
    match decoded {
        Ok((envelope, saml::model::Message::LogoutRequest(_))) => {
            render(idp.handle_logout(tenant, envelope, &c).await)
        }
        Ok((envelope, message)) => {
            let pending = Pending::Redirect { query };
            match crate::sso::IncomingRequest::from_parts(envelope, message) {
                Ok(incoming) => render(idp.handle_incoming(tenant, &pending, incoming, &c, false).await),
                Err(e) => render(idp.fail(tenant, None, None, &c, e).await),
            }
        }
        Err(e) => render(idp.fail(tenant, None, None, &c, e).await),
    }
}

async fn sso_post(
    State(idp): State<Idp>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    addr: Addr,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let tenant = match tenant_or_404(&idp, &tenant).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let c = ctx(&headers, Some(addr.0), &idp);
    let Some(saml_request) = form.get("SAMLRequest") else {
        let e = IdpError::MalformedRequest("the form has no SAMLRequest".into());
        return render(idp.fail(tenant, None, None, &c, e).await);
    };
    let pending =
        Pending::Post { saml_request: saml_request.clone(), relay_state: form.get("RelayState").cloned() };
    render(idp.handle_authn_request(tenant, pending, &c, false).await)
}

async fn login_get(
    State(idp): State<Idp>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    addr: Addr,
) -> Response {
    let tenant = match tenant_or_404(&idp, &tenant).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let c = ctx(&headers, Some(addr.0), &idp);
    render(idp.login_page(tenant, &Pending::MyApps, None, None, "", &c))
}

/// What both sign-in steps start with: the tenant, the request context, the
/// pending SSO step carried by the form, and the CSRF check.
async fn sign_in_form(
    idp: &Idp,
    tenant: &str,
    headers: &HeaderMap,
    addr: Addr,
    form: &HashMap<String, String>,
) -> Result<(Uuid, Ctx, Pending), Response> {
    let tenant = tenant_or_404(idp, tenant).await?;
    let c = ctx(headers, Some(addr.0), idp);
    let pending = form.get("ctx").and_then(|s| Pending::decode(s)).unwrap_or(Pending::MyApps);
    if !security::csrf_ok(c.cookie(CSRF_COOKIE), form.get("csrf").map(String::as_str)) {
        return Err(render(idp.fail(tenant, None, None, &c, IdpError::Csrf).await));
    }
    Ok((tenant, c, pending))
}

/// The lockout counter's key: per tenant and case-insensitive user name.
fn lock_key(tenant: Uuid, username: &str) -> String {
    format!("{tenant}/{}", username.to_lowercase())
}

async fn login_post(
    State(idp): State<Idp>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    addr: Addr,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (tenant, c, pending) = match sign_in_form(&idp, &tenant, &headers, addr, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let username = form.get("username").map(|s| s.trim().to_string()).unwrap_or_default();
    let password = zeroize::Zeroizing::new(form.get("password").cloned().unwrap_or_default());
    let lock = lock_key(tenant, &username);
    if let Some(secs) = idp.locked_for(&lock).await {
        let e = IdpError::LockedOut(secs);
        let correlation = Uuid::new_v4();
        idp.log_sign_in(tenant, None, Some(&username), None, &c, Err(&e), correlation).await;
        return render(idp.login_page(tenant, &pending, None, Some(&e.to_string()), &username, &c));
    }
    let user = idp.store.find_user_by_upn(tenant, &username).await.ok().flatten();
    let ok = match (&user, user.as_ref().and_then(|u| u.password_hash.as_deref())) {
        (Some(_), Some(hash)) => password::verify(&password, hash),
        _ => {
            password::verify_dummy(&password);
            false
        }
    };
    let user = match (ok, user) {
        (true, Some(u)) => u,
        _ => {
            idp.sign_in_failed(&lock).await;
            let e = IdpError::BadCredentials;
            idp.log_sign_in(tenant, None, Some(&username), None, &c, Err(&e), Uuid::new_v4()).await;
            return render(idp.login_page(tenant, &pending, None, Some(&e.to_string()), &username, &c));
        }
    };
    if !user.enabled {
        let e = IdpError::UserDisabled(user.upn.clone());
        return render(idp.fail(tenant, Some(&user), None, &c, e).await);
    }
    match idp.totp_secret(&user) {
        Ok(Some(_)) => {
            // Second step: the password was right; the code decides. The lock
            // counter is only cleared once the code is right too.
            let token = match idp.mfa_token(tenant, user.id).await {
                Ok(t) => t,
                Err(e) => return render(idp.fail(tenant, Some(&user), None, &c, e).await),
            };
            return render(otp_page(&idp, tenant, &c, &pending, &token, None));
        }
        Ok(None) => {}
        Err(e) => return render(idp.fail(tenant, Some(&user), None, &c, e).await),
    }
    idp.sign_in_succeeded(&lock).await;
    finish_sign_in(&idp, tenant, &c, user, false, pending).await
}

fn otp_page(
    idp: &Idp,
    tenant: Uuid,
    c: &Ctx,
    pending: &Pending,
    token: &str,
    error: Option<&str>,
) -> Outcome {
    let csrf = c.cookie(CSRF_COOKIE).unwrap_or_default().to_string();
    Outcome::Html {
        status: if error.is_some() { 401 } else { 200 },
        body: pages::otp(
            &format!("{}/otp", idp.endpoints(tenant).login_url()),
            &csrf,
            &pending.encode(),
            token,
            error,
        ),
        set_cookies: vec![],
    }
}

async fn otp_post(
    State(idp): State<Idp>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    addr: Addr,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (tenant, c, pending) = match sign_in_form(&idp, &tenant, &headers, addr, &form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let token = form.get("pending").cloned().unwrap_or_default();
    let Some(user_id) = idp.check_mfa_token(tenant, &token).await else {
        return render(idp.login_page(
            tenant,
            &pending,
            None,
            Some("The sign-in took too long; sign in again."),
            "",
            &c,
        ));
    };
    let user = match idp.store.get_user(tenant, user_id).await {
        Ok(Some(u)) if u.enabled => u,
        _ => return render(idp.login_page(tenant, &pending, None, None, "", &c)),
    };
    let lock = lock_key(tenant, &user.upn);
    if let Some(secs) = idp.locked_for(&lock).await {
        return render(otp_page(
            &idp,
            tenant,
            &c,
            &pending,
            &token,
            Some(&IdpError::LockedOut(secs).to_string()),
        ));
    }
    let code = form.get("otp").map(String::as_str).unwrap_or("");
    if !idp.check_otp(&user, code).await {
        idp.sign_in_failed(&lock).await;
        let e = IdpError::BadOtp;
        idp.log_sign_in(tenant, Some(&user), None, None, &c, Err(&e), Uuid::new_v4()).await;
        return render(otp_page(&idp, tenant, &c, &pending, &token, Some(&e.to_string())));
    }
    idp.sign_in_succeeded(&lock).await;
    finish_sign_in(&idp, tenant, &c, user, true, pending).await
}

/// Starts the session and continues what the browser was doing.
async fn finish_sign_in(
    idp: &Idp,
    tenant: Uuid,
    c: &Ctx,
    user: store::model::User,
    mfa: bool,
    pending: Pending,
) -> Response {
    let (_session, cookie) = match idp.start_session(&user, mfa, c.secure).await {
        Ok(x) => x,
        Err(e) => return render(idp.fail(tenant, Some(&user), None, c, e).await),
    };
    // One sign-in, one log line: when the browser goes on to an app, that step records the
    // outcome with the app (OK, or why the app refused the user); only a sign-in to My Apps
    // itself is recorded here.
    if matches!(pending, Pending::MyApps) {
        idp.log_sign_in(tenant, Some(&user), None, None, c, Ok(()), Uuid::new_v4()).await;
    }
    // Continue what the browser was doing, with the new session.
    let mut c2 = c.clone();
    let token = cookie.split(';').next().unwrap_or("").to_string();
    c2.cookie_header = Some(token);
    let outcome = match pending {
        Pending::Redirect { .. } | Pending::Post { .. } => {
            idp.handle_authn_request(tenant, pending, &c2, true).await
        }
        Pending::MyApps => Outcome::Redirect { location: format!("/{tenant}/myapps"), set_cookies: vec![] },
        Pending::Test { app } => {
            Outcome::Redirect { location: format!("/{tenant}/myapps/test/{app}"), set_cookies: vec![] }
        }
        Pending::Launch { app } => {
            Outcome::Redirect { location: format!("/{tenant}/myapps/launch/{app}"), set_cookies: vec![] }
        }
    };
    render(with_cookie(outcome, cookie))
}

fn with_cookie(o: Outcome, cookie: String) -> Outcome {
    match o {
        Outcome::Html { status, body, mut set_cookies } => {
            set_cookies.push(cookie);
            Outcome::Html { status, body, set_cookies }
        }
        Outcome::Redirect { location, mut set_cookies } => {
            set_cookies.push(cookie);
            Outcome::Redirect { location, set_cookies }
        }
    }
}

async fn logout(
    State(idp): State<Idp>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    addr: Addr,
) -> Response {
    let c = ctx(&headers, Some(addr.0), &idp);
    if let Some(cookie) = c.cookie(SESSION_COOKIE) {
        let _ = idp.store.delete_session(&security::session_hash(cookie)).await;
    }
    let clear = security::cookie(SESSION_COOKIE, "", c.secure, Some(0));
    render(Outcome::Html {
        status: 200,
        body: pages::page(
            "Signed out",
            &format!(
                "<h1>You signed out</h1><p><a href=\"/{}/myapps\">Sign in again</a></p>",
                pages::esc(&tenant)
            ),
            false,
        ),
        set_cookies: vec![clear],
    })
}

async fn my_apps_default(State(idp): State<Idp>) -> Response {
    match idp.store.default_tenant().await {
        Ok(Some(t)) => {
            render(Outcome::Redirect { location: format!("/{}/myapps", t.id), set_cookies: vec![] })
        }
        _ => (StatusCode::NOT_FOUND, "no tenant yet: run portcullis up").into_response(),
    }
}

async fn my_apps(
    State(idp): State<Idp>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    addr: Addr,
) -> Response {
    let tenant = match tenant_or_404(&idp, &tenant).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let c = ctx(&headers, Some(addr.0), &idp);
    let Ok(Some((_, user))) = idp.session_user(tenant, &c).await else {
        return render(idp.login_page(tenant, &Pending::MyApps, None, None, "", &c));
    };
    let apps = match idp.store.apps_assigned_to(tenant, user.id).await {
        Ok(a) => a,
        Err(e) => return render(idp.fail(tenant, Some(&user), None, &c, e.into()).await),
    };
    let mut tiles = Vec::new();
    for app in apps {
        if let Ok((app, config)) = idp.app(tenant, &app.id.to_string()).await {
            if config.visible && config.enabled {
                tiles.push(pages::Tile {
                    name: app.name.clone(),
                    href: format!("/{tenant}/myapps/launch/{}", app.id),
                });
            }
        }
    }
    tiles.sort_by_key(|t| t.name.to_lowercase());
    render(Outcome::Html {
        status: 200,
        body: pages::my_apps(&user.display_name, &tiles, &format!("/{tenant}/logout")),
        set_cookies: vec![],
    })
}

/// A My Apps tile: IdP-initiated SSO for apps that support it (an unsolicited
/// Response with the app's Relay State to its default reply URL), else the
/// app's Sign-on URL.
async fn launch(
    State(idp): State<Idp>,
    Path((tenant, app_id)): Path<(String, String)>,
    headers: HeaderMap,
    addr: Addr,
) -> Response {
    let tenant = match tenant_or_404(&idp, &tenant).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let c = ctx(&headers, Some(addr.0), &idp);
    let Ok(app_uuid) = Uuid::parse_str(&app_id) else {
        return (StatusCode::NOT_FOUND, "unknown app").into_response();
    };
    let (app, config) = match idp.app(tenant, &app_id).await {
        Ok(x) => x,
        Err(e) => return render(idp.fail(tenant, None, None, &c, e).await),
    };
    let Ok(Some((session, user))) = idp.session_user(tenant, &c).await else {
        return render(idp.login_page(
            tenant,
            &Pending::Launch { app: app_uuid },
            Some(&app.name),
            None,
            "",
            &c,
        ));
    };
    if !config.sso_modes.idp_initiated {
        return match &config.sign_on_url {
            Some(url) => render(Outcome::Redirect { location: url.clone(), set_cookies: vec![] }),
            None => render(
                idp.fail(
                    tenant,
                    Some(&user),
                    Some(&app),
                    &c,
                    IdpError::IdpInitiatedNotSupported(app.name.clone()),
                )
                .await,
            ),
        };
    }
    let acs = match crate::sso::default_reply_url(&app.name, &config) {
        Ok(a) => a,
        Err(e) => return render(idp.fail(tenant, Some(&user), Some(&app), &c, e).await),
    };
    let relay = config.relay_state.clone();
    let answer = super::flow::Answer {
        acs: &acs,
        in_response_to: None,
        relay_state: relay.as_deref(),
        requested: None,
        audience: None,
    };
    let view = match idp.view().await {
        Ok(v) => v,
        Err(e) => return render(idp.fail(tenant, Some(&user), Some(&app), &c, e).await),
    };
    render(idp.respond(&view, &app, &config, &user, &session, &answer, &c).await)
}

async fn metadata(
    State(idp): State<Idp>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let tenant = match tenant_or_404(&idp, &tenant).await {
        Ok(t) => t,
        Err(r) => return r,
    };
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
