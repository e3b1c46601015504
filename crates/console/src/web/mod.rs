//! The console's web side: the terminal page, the WebSocket that bridges it to a session, and the
//! front-end files they use. Routes are absolute under `/console/`; the host application merges
//! [`router`] into its own, together with `web::page::assets()` (the shared stylesheet the page
//! layout links) and its `SecurityHeadersLayer`.
//!
//! Which sessions exist and how they are opened (sign-in, jump items, the broker's credential) is
//! not this module's business: it asks a [`Sessions`] implementation.

mod assets;
mod bridge;
mod page;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;

use crate::ssh::Session;
use crate::terminal::TermSize;
use crate::ConsoleError;

pub use bridge::{bridge, ClientMessage, MAX_MESSAGE_BYTES};

/// The future a [`Sessions`] method returns.
pub type SessionsFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ConsoleError>> + Send + 'a>>;

/// What the terminal routes know about a session before it is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// Shown as the page's heading (the jump item's name).
    pub title: String,
}

/// The sessions the terminal routes serve, by ID. `caller` is the request's headers (the
/// representative's session cookie): a session is only described to and opened for its owner.
pub trait Sessions: Send + Sync + 'static {
    /// What the page shows for session `id`; `ConsoleError::UnknownSession` when there is none
    /// (or it is not the caller's).
    fn describe<'a>(&'a self, id: &'a str, caller: &'a HeaderMap) -> SessionsFuture<'a, SessionInfo>;

    /// Opens session `id` on a terminal of `size`: connect, inject the credential, start the
    /// recording. Called once per WebSocket.
    fn open<'a>(&'a self, id: &'a str, size: TermSize, caller: &'a HeaderMap) -> SessionsFuture<'a, Session>;

    /// Session `id`, opened by [`Sessions::open`], is over: the shell or the browser ended it
    /// (`Ok`), or it failed (`Err`, already told to the browser). Called once, after the SSH
    /// side is closed and the recording finished, so that the owner can check the credential in
    /// and close the session's record. Nothing to do by default.
    fn closed<'a>(&'a self, id: &'a str, outcome: Result<(), &'a ConsoleError>) -> SessionsFuture<'a, ()> {
        let _ = (id, outcome);
        Box::pin(async { Ok(()) })
    }
}

/// The state of the console's routes.
#[derive(Clone)]
pub(crate) struct Console {
    sessions: Arc<dyn Sessions>,
    /// The origin (`scheme://host[:port]`) the console's pages are served from.
    origin: String,
}

/// The console's routes: `GET /console/sessions/{id}` (the terminal page),
/// `GET /console/sessions/{id}/ws` (its WebSocket) and `/console/assets/…`. `base_url` is the
/// console's public URL; a WebSocket opened from a page of any other origin is refused.
pub fn router<S: Clone + Send + Sync + 'static>(
    sessions: Arc<dyn Sessions>,
    base_url: &str,
) -> Result<Router<S>, ConsoleError> {
    let origin = origin_of(base_url)?;
    let state = Console { sessions, origin };
    Ok(Router::new()
        .route("/console/sessions/{id}", get(page::terminal))
        .route("/console/sessions/{id}/ws", get(bridge::upgrade))
        .with_state(state)
        .merge(assets::router()))
}

/// The ASCII origin of `base_url`.
fn origin_of(base_url: &str) -> Result<String, ConsoleError> {
    let invalid = || ConsoleError::InvalidRequest {
        reason: format!("the console's base URL {base_url:?} is not an absolute http(s) URL"),
    };
    let url = url::Url::parse(base_url).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid());
    }
    Ok(url.origin().ascii_serialization())
}

/// Session IDs the routes accept: what the console's own token generator makes (letters,
/// digits, `-`, `_`; at most 64), so nothing else reaches a `Sessions` implementation or a log.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_is_that_of_the_base_url() {
        assert_eq!(
            origin_of("https://Console.Example.com:443/portcullis/").unwrap(),
            "https://console.example.com"
        );
        assert_eq!(origin_of("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        for bad in ["", "/console", "ftp://x", "console.example.com"] {
            assert_eq!(origin_of(bad).unwrap_err().code(), "PCC001", "{bad:?}");
        }
    }

    #[test]
    fn session_ids_are_tokens() {
        assert!(valid_id("a1-B_2"));
        assert!(!valid_id("") && !valid_id("a/b") && !valid_id("a b") && !valid_id(&"a".repeat(65)));
    }
}
