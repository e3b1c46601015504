//! The web layer shared by the identity provider, the SP toolkit, the vault and the console.
//!
//! Each primitive lives here once: [`token`] (random tokens, SHA-256 fingerprints, constant-time
//! comparison), [`password`] (argon2id), [`cookies`] (one attribute policy over axum-extra's
//! `CookieJar`), [`csrf`], [`headers`] (a tower layer for the security headers), [`auth`] (an
//! extractor for an authorised principal with a permission), [`tenant`] (an extractor for a
//! known tenant) and [`page`] (the askama base layout and the stylesheet).
#![forbid(unsafe_code)]

pub mod auth;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod headers;
pub mod page;
pub mod password;
pub mod tenant;
pub mod token;

pub use error::WebError;
