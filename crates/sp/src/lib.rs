//! The service-provider side of SAML SSO for Portcullis: the strict ACS validation
//! ([`validate_response`]), decryption of EncryptedAssertion ([`xmlenc`]), one-time use
//! ([`ReplayCache`]), the input decoding of the HTTP-POST binding ([`decode_response_input`]),
//! and on top of them a whole SP site for one application ([`web`]): logins, JIT provisioning,
//! group policies, the waiting room, discovery, single logout and the admin pages, over the
//! SP's own tables and migrations ([`db`]).
//!
//! The validation is a pure function of its inputs plus an injected [`saml::Clock`]; the
//! signature and XML work is the `saml` crate's (verify first, read claims only from signed
//! elements).
#![forbid(unsafe_code)]

pub mod config;
pub mod db;
pub mod error;
pub mod input;
pub mod login;
pub mod metadata;
pub mod policy;
pub mod providers;
pub mod provision;
pub mod read;
pub mod replay;
pub mod store_replay;
pub mod validate;
pub mod web;
pub mod xmlenc;

pub use config::{IdpTrust, SpConfig};
pub use error::{Error, Result};
pub use input::decode_response_input;
pub use replay::{InMemoryReplayCache, ReplayCache};
pub use saml::signed::Want;
pub use validate::{accept_response, validate_response, Login};
pub use xmlenc::DecryptionKey;
