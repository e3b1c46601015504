//! Pages for administrators signed in with a browser session. "Test this application": a Global
//! or Application Administrator can run IdP-initiated SSO to any app (or be sent to its Sign-on
//! URL) without being assigned to it. Everything else (enabled app, enabled user, signing) is
//! checked exactly as for a normal launch, by `Idp::respond`.

use super::flow::{Ctx, Outcome, Pending};
use crate::error::IdpError;
use crate::roles::Permission;
use crate::service::Idp;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use uuid::Uuid;

/// The admin page routes (merged into the IdP's router).
pub fn router(idp: Idp) -> Router {
    Router::new().route("/{tenant}/myapps/test/{app}", get(test_app)).with_state(idp)
}

fn render(o: Outcome) -> Response {
    let (status, mut resp, cookies) = match o {
        Outcome::Html { status, body, set_cookies } => {
            let r = axum::response::Html(body).into_response();
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
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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

async fn test_app(
    State(idp): State<Idp>,
    Path((tenant, app_ref)): Path<(String, String)>,
    headers: HeaderMap,
    addr: ConnectInfo<SocketAddr>,
) -> Response {
    let not_found = |what: &str| (StatusCode::NOT_FOUND, what.to_string()).into_response();
    let Ok(tenant) = Uuid::parse_str(&tenant) else { return not_found("unknown tenant") };
    if !matches!(idp.store.get_tenant(tenant).await, Ok(Some(_))) {
        return not_found("unknown tenant");
    }
    let Ok(app_id) = Uuid::parse_str(&app_ref) else { return not_found("unknown app") };
    let c = Ctx {
        cookie_header: headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).map(str::to_string),
        ip: Some(addr.0.ip().to_string()),
        secure: idp.base_url().starts_with("https://"),
    };
    let (app, config) = match idp.app(tenant, &app_id.to_string()).await {
        Ok(x) => x,
        Err(e) => return render(idp.fail(tenant, None, None, &c, e).await),
    };
    let Ok(Some((session, user))) = idp.session_user(tenant, &c).await else {
        // After signing in the administrator lands on My Apps and opens the test again.
        return render(idp.login_page(tenant, &Pending::MyApps, Some(&app.name), None, "", &c));
    };
    let roles = match idp.roles_of(tenant, user.id).await {
        Ok(r) => r,
        Err(e) => return render(idp.fail(tenant, Some(&user), Some(&app), &c, e).await),
    };
    let who = crate::roles::Principal { tenant, user: user.clone(), roles, token_id: None };
    if let Err(e) = who.require(Permission::ManageApps) {
        return render(idp.fail(tenant, Some(&user), Some(&app), &c, e).await);
    }
    if !config.sso_modes.idp_initiated {
        return match &config.sign_on_url {
            Some(url) => render(Outcome::Redirect { location: url.clone(), set_cookies: vec![] }),
            None => {
                let e = IdpError::IdpInitiatedNotSupported(app.name.clone());
                render(idp.fail(tenant, Some(&user), Some(&app), &c, e).await)
            }
        };
    }
    let acs = match crate::sso::default_reply_url(&app.name, &config) {
        Ok(a) => a,
        Err(e) => return render(idp.fail(tenant, Some(&user), Some(&app), &c, e).await),
    };
    // The test runs for an unassigned administrator too; nothing else is relaxed.
    let mut test_config = config.clone();
    test_config.assignment_required = false;
    let relay = config.relay_state.clone();
    tracing::info!(tenant = %tenant, app = %app.id, admin = %user.id, "admin tested an application");
    render(
        idp.respond(
            &app,
            &test_config,
            &user,
            &session,
            &super::flow::Answer {
                acs: &acs,
                in_response_to: None,
                relay_state: relay.as_deref(),
                requested: None,
                audience: None,
            },
            &c,
        )
        .await,
    )
}
