//! The credential broker (the Endpoint Credential Manager's part of the remote-access
//! integration): it answers a console's "which credentials may this user use on this
//! endpoint?" and releases the one picked, talking to the vault only through its Password Safe
//! v3 API over https.
//!
//! - [`Broker`]: [`Broker::search`], [`Broker::retrieve`], [`Broker::check_in`].
//! - [`config`]: the TOML settings (vault URL, registration key, CA file, run-as user, global
//!   approver, release duration, mapping and matching rules, the console).
//! - [`mapping`], [`names`], [`dn`]: console user → vault user.
//! - [`matching`]: jump item → managed accounts.
//! - [`protocol`]: the broker channel's messages, shared with the console; [`channel`]: the
//!   broker's side of it (connect, register, keep alive, serve, reconnect with back-off).
//! - [`error`]: the classified, coded failures (ERRORS.md).
#![forbid(unsafe_code)]

mod broker;
pub mod channel;
pub mod config;
pub mod dn;
pub mod error;
pub mod mapping;
pub mod matching;
pub mod names;
pub mod protocol;
pub mod psapi;
pub mod secret;
mod tls;

pub use broker::{credential_id, display_name, parse_credential_id, Broker, Release};
pub use config::Config;
pub use error::{BrokerError, Class, Result};
pub use secret::Secret;
