//! SAML 2.0 protocol for Portcullis: messages, metadata, bindings, XML signatures.
//!
//! This crate has no HTTP server and no database. Everything is a pure function of
//! its inputs plus an injected [`Clock`]. Untrusted input goes through
//! [`xml::parse`], which bounds size and depth and refuses DTDs; signatures are
//! checked by [`dsig::verify`], which returns the elements the signatures cover so
//! that callers read claims only from those elements.
// Unsafe code is denied everywhere but in the one binding module, `legacy_sha1`.
#![deny(unsafe_code)]

pub mod bindings;
pub mod c14n;
pub mod clock;
pub mod crypto;
pub mod dsig;
pub mod error;
mod legacy_sha1;
pub mod model;
pub mod signed;
pub mod xml;

pub use clock::{Clock, FixedClock, SystemClock, DEFAULT_SKEW};
pub use error::{Error, Result};
