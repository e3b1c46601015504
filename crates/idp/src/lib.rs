//! The Portcullis identity provider: directory, enterprise applications from a
//! gallery, claims, signing certificates, federation metadata and SAML SSO.
#![forbid(unsafe_code)]

pub mod endpoints;
pub mod error;
pub mod issue;
pub mod metadata;
pub mod model;
pub mod password;
pub mod sso;
pub mod totp;
pub mod web;
