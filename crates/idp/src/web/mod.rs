//! The IdP over HTTP: thin handlers that map requests to the flow's calls ([`crate::flow`])
//! and its steps to pages, redirects and cookies; the admin API; the security headers, cookies,
//! CSRF tokens and page layout all come from the shared `web` crate.

pub mod account;
pub mod admin_pages;
mod answer;
pub mod api;
pub mod pages;
pub mod routes;

pub use routes::router;

/// The cookie that carries the IdP session's secret.
pub const SESSION_COOKIE: &str = "pcs_session";
/// The cookie of the sign-in form's double-submit CSRF token.
pub const CSRF_COOKIE: &str = "pcs_csrf";
