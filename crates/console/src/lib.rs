//! The remote-access console: a representative's session into a jump item, authenticated with a
//! credential the representative never sees, recorded, and shown in a browser terminal.
//!
//! - [`ssh`]: connect to the jump item, check its host key against the pin ([`ssh::HostKeyPins`],
//!   trust on first use), authenticate with an injected [`Credential`] (password or private key,
//!   zeroized when dropped right after), open a PTY shell; a [`ssh::Shell`] runs only once it is
//!   given its [`recording::Recording`].
//! - [`recording`]: asciicast v2, written event by event; [`recording::Asciicast`] reads it back.
//! - [`web`]: the terminal page (xterm.js, vendored) and the WebSocket bridge to a session, over a
//!   [`web::Sessions`] lookup that sign-in, jump items and the broker fill in.
//!
//! - [`db`]: the console's tables ([`db::MIGRATIONS`], [`db::ConsoleStore`]): host-key pins, group
//!   policies, access sessions and their audit events, connected brokers; with [`accounts`] (API
//!   accounts), [`oauth`] (access tokens, [`ConsoleStore::authorize`]) and [`items`] (jump
//!   items and groups).
//! - [`api`]: `POST /oauth2/token` and the Command and Reporting APIs.
//!
//! - [`app`]: the application that ties these together ([`app::App`]): sign-in, the credential
//!   path, the pages, `console connect`, and the broker channel over the console's tables.
//!
//! Errors are [`ConsoleError`]s with stable `PCC…` codes (ERRORS.md).
#![forbid(unsafe_code)]

pub mod accounts;
pub mod api;
pub mod app;
pub mod clock;
pub mod credential;
pub mod db;
pub mod ecm;
pub mod error;
pub mod items;
pub mod oauth;
pub mod recording;
pub mod ssh;
pub mod terminal;
pub mod web;

pub use clock::{Clock, SystemClock};
pub use credential::Credential;
pub use db::{ConsoleStore, MIGRATIONS};
pub use error::ConsoleError;
pub use terminal::{PtyRequest, TermSize};
