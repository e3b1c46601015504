//! Pages for administrators signed in with a browser session: "Test this application" (see
//! [`Idp::test_app`]).

use super::answer::{self, session_cookie};
use super::routes::{client, unknown_app, Addr, AppPath};
use crate::service::Idp;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use web::tenant::Tenant;

/// The admin page routes (merged into the IdP's router).
pub fn router() -> Router<Idp> {
    Router::new().route("/{tenant}/myapps/test/{app}", get(test_app))
}

async fn test_app(
    State(idp): State<Idp>,
    Tenant(tenant): Tenant,
    Path(path): Path<AppPath>,
    headers: HeaderMap,
    addr: Addr,
) -> Response {
    let Some(app) = path.id() else { return unknown_app() };
    let step = idp.test_app(tenant, app, session_cookie(&headers), &client(&addr)).await;
    answer::step(&idp, tenant, &headers, step)
}
