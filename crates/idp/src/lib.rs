//! The Portcullis identity provider: directory, enterprise applications from a
//! gallery, claims, signing certificates, federation metadata and SAML SSO.
#![forbid(unsafe_code)]

pub mod apps;
pub mod cache;
pub mod claims;
pub mod directory;
pub mod endpoints;
pub mod error;
pub mod flow;
pub mod gallery;
pub mod guide;
pub mod issue;
pub mod metadata;
pub mod model;
pub mod nameid;
pub mod notify;
pub mod roles;
pub mod service;
mod signin_log;
pub mod sso;
pub mod totp;
pub mod urls;
pub mod web;
