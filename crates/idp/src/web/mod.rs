//! The IdP over HTTP: SSO endpoint, sign-in, My Apps, metadata, admin API.

pub mod pages;
pub mod security;
