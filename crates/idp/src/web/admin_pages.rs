//! Pages for administrators signed in with a browser session. "Test this application": a Global
//! or Application Administrator can run IdP-initiated SSO to any app (or be sent to its Sign-on
//! URL) without being assigned to it. Everything else (enabled app, enabled user, signing) is
//! checked exactly as for a normal launch, by `Idp::respond`.

use super::flow::{Outcome, Pending};
use super::routes::{ctx, render, tenant_or_404};
use crate::error::IdpError;
use crate::roles::Permission;
use crate::service::Idp;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use uuid::Uuid;

/// The admin page routes (merged into the IdP's router).
pub fn router(idp: Idp) -> Router {
    Router::new().route("/{tenant}/myapps/test/{app}", get(test_app)).with_state(idp)
}

async fn test_app(
    State(idp): State<Idp>,
    Path((tenant, app_ref)): Path<(String, String)>,
    headers: HeaderMap,
    addr: ConnectInfo<SocketAddr>,
) -> Response {
    let tenant = match tenant_or_404(&idp, &tenant).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let Ok(app_id) = Uuid::parse_str(&app_ref) else {
        return (StatusCode::NOT_FOUND, "unknown app").into_response();
    };
    let c = ctx(&headers, Some(addr.0), &idp);
    let (app, config) = match idp.app(tenant, &app_id.to_string()).await {
        Ok(x) => x,
        Err(e) => return render(idp.fail(tenant, None, None, &c, e).await),
    };
    let Ok(Some((session, user))) = idp.session_user(tenant, &c).await else {
        // After signing in the administrator comes back to this test.
        return render(idp.login_page(tenant, &Pending::Test { app: app_id }, Some(&app.name), None, "", &c));
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
    let view = match idp.view().await {
        Ok(v) => v,
        Err(e) => return render(idp.fail(tenant, Some(&user), Some(&app), &c, e).await),
    };
    render(
        idp.respond(
            &view,
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
