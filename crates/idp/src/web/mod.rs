//! The IdP over HTTP: SSO endpoint, sign-in, My Apps, metadata.

pub mod admin_pages;
pub mod api;
pub mod flow;
pub mod pages;
pub mod routes;
pub mod security;

pub use routes::router;
