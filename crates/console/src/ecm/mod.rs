//! The Endpoint Credential Manager connection: the console's side of the broker channel
//! ([`broker::protocol`]).
//!
//! - [`router`]: `GET /console/api/ecm`, the WebSocket brokers open, authenticated with the bearer
//!   token of an API account that has the ECM permission ([`BrokerAuth`]).
//! - [`Registry`]: the connected brokers (at most [`MAX_BROKERS`]), oldest first; each ECM group's
//!   requests go to its broker connected the longest. [`Presence`] is told who comes and goes
//!   (the console's broker list); [`MemoryPresence`] keeps it in memory.
//! - [`Brokers`]: what sessions ask — search, retrieve (a [`crate::Credential`], zeroized, never
//!   shown), session ended.
//! - [`loggable`]: the global log filter the binary adds, so that the WebSocket libraries never
//!   log a frame (a `retrieved` frame holds a password).
//!
//! Errors are [`EcmError`]s with stable `PCE…` codes (ERRORS.md, "Broker channel").

/// Whether an event may be logged at all, whatever the operator's filter says: the binary adds
/// it as a global filter (`subscriber.with(tracing_subscriber::filter::filter_fn(loggable))`).
/// At TRACE, tungstenite logs every WebSocket frame with its payload, and a broker's `retrieved`
/// frame holds a password; so tungstenite and tokio-tungstenite log at DEBUG at most. (This
/// holds for the broker's side of the channel as much as for the console's.)
pub fn loggable(meta: &tracing::Metadata<'_>) -> bool {
    let websocket = ["tungstenite", "tokio_tungstenite"]
        .iter()
        .any(|t| meta.target().strip_prefix(t).is_some_and(|rest| rest.is_empty() || rest.starts_with("::")));
    !(websocket && *meta.level() > tracing::Level::DEBUG)
}

mod auth;
mod brokers;
mod channel;
mod error;
mod presence;
mod registry;

pub use auth::{AuthFuture, BrokerAuth, EcmPrincipal, DEFAULT_GROUP};
pub use broker::protocol::{ConsoleUser, ItemType, JumpItem, ReleaseHandle, SessionRef};
pub use brokers::{Brokers, Offer};
pub use channel::router;
pub use error::EcmError;
pub use presence::{BrokerInfo, MemoryPresence, Presence, PresenceFuture};
pub use registry::{EcmSettings, Registry, MAX_BROKERS};
