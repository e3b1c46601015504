//! The brokers connected to this console: at most [`MAX_BROKERS`], in registration order. A
//! request for an ECM group goes to the group's broker connected the longest; when it leaves, the
//! requests it had not answered fail once with [`EcmError::BrokerLost`] and the next one goes to
//! the next oldest.
//!
//! Each connection has an outbox (the channel task writes it to the WebSocket) and a table of
//! the requests it has not answered, by request number. The table is closed when the connection
//! leaves, under its own lock, so a request either gets in before and fails with the drop, or
//! sees the connection closed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use broker::protocol::{BrokerMessage, ConsoleMessage, SessionRef};
use tokio::sync::{mpsc, oneshot};

use super::{BrokerInfo, EcmError, Presence};
use crate::Clock;

/// The most brokers one console accepts (all groups together).
pub const MAX_BROKERS: usize = 5;

/// How many messages may wait for one broker's WebSocket.
const OUTBOX: usize = 64;

/// The channel's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcmSettings {
    /// The keep-alive interval brokers are expected to keep (their `keepalive_seconds` at most):
    /// a broker silent for three of them is dropped, and one that has not registered within
    /// three is closed.
    pub keepalive: Duration,
    /// How long a search, retrieval or check-in waits for the broker's answer.
    pub request_timeout: Duration,
}

impl Default for EcmSettings {
    fn default() -> Self {
        EcmSettings { keepalive: Duration::from_secs(30), request_timeout: Duration::from_secs(45) }
    }
}

impl EcmSettings {
    /// How long a broker may stay silent.
    pub fn silence_limit(&self) -> Duration {
        self.keepalive * 3
    }
}

/// The connected brokers (cheap to clone: every clone is the same registry).
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    settings: EcmSettings,
    presence: Arc<dyn Presence>,
    clock: Arc<dyn Clock>,
    /// Registered connections, oldest first.
    connected: Mutex<Vec<Arc<Connection>>>,
    next_request: AtomicU64,
    /// Broker IDs are `{start:x}-{n}`: this registry's start (Unix seconds) and a counter, so
    /// that an ID is not reused by the next console process either.
    started: i64,
    next_broker: AtomicU64,
}

/// One registered broker's connection.
pub(crate) struct Connection {
    info: BrokerInfo,
    last_seen: AtomicI64,
    outbox: mpsc::Sender<ConsoleMessage>,
    pending: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    closed: bool,
    waiting: HashMap<u64, Waiter>,
}

struct Waiter {
    reply: oneshot::Sender<BrokerMessage>,
    /// For a retrieval: the session, to check an abandoned release in.
    session: Option<SessionRef>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here panics while holding a lock; if something did, the data is still whole.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Registry {
    pub fn new(settings: EcmSettings, presence: Arc<dyn Presence>, clock: Arc<dyn Clock>) -> Registry {
        let started = clock.unix_seconds();
        Registry {
            inner: Arc::new(Inner {
                settings,
                presence,
                clock,
                connected: Mutex::new(Vec::new()),
                next_request: AtomicU64::new(1),
                started,
                next_broker: AtomicU64::new(1),
            }),
        }
    }

    pub fn settings(&self) -> EcmSettings {
        self.inner.settings
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        &*self.inner.clock
    }

    pub(crate) fn presence(&self) -> &dyn Presence {
        &*self.inner.presence
    }

    /// The live brokers, oldest first (for the status page).
    pub fn list(&self) -> Vec<BrokerInfo> {
        lock(&self.inner.connected).iter().map(|c| c.info()).collect()
    }

    /// Takes a broker in, unless [`MAX_BROKERS`] are connected. `info.id`, `connected_at` and
    /// `last_seen` are set here.
    pub(crate) fn admit(
        &self,
        mut info: BrokerInfo,
    ) -> Result<(Arc<Connection>, mpsc::Receiver<ConsoleMessage>), EcmError> {
        let now = self.inner.clock.unix_seconds();
        let n = self.inner.next_broker.fetch_add(1, Ordering::Relaxed);
        info.id = format!("{:x}-{n}", self.inner.started);
        info.connected_at = now;
        info.last_seen = now;
        let (outbox, rx) = mpsc::channel(OUTBOX);
        let mut connected = lock(&self.inner.connected);
        if connected.len() >= MAX_BROKERS {
            return Err(EcmError::TooManyBrokers { max: MAX_BROKERS });
        }
        let conn = Arc::new(Connection {
            info,
            last_seen: AtomicI64::new(now),
            outbox,
            pending: Mutex::new(Pending::default()),
        });
        connected.push(conn.clone());
        Ok((conn, rx))
    }

    /// Takes a broker out; every request it had not answered fails with
    /// [`EcmError::BrokerLost`] (its waiter's channel closes).
    pub(crate) fn remove(&self, conn: &Connection) {
        lock(&self.inner.connected).retain(|c| c.info.id != conn.info.id);
        let mut pending = lock(&conn.pending);
        pending.closed = true;
        pending.waiting.clear();
    }

    /// A new request number (unique in this console, so a late answer is never mistaken).
    pub(crate) fn request_number(&self) -> u64 {
        self.inner.next_request.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a request to the oldest broker of `group` and waits for its answer. `message` builds
    /// the request from its number; `session` is set for retrievals.
    pub(crate) async fn call(
        &self,
        group: &str,
        session: Option<&SessionRef>,
        message: impl FnOnce(u64) -> ConsoleMessage,
    ) -> Result<(String, BrokerMessage), EcmError> {
        let conn = lock(&self.inner.connected)
            .iter()
            .find(|c| c.info.ecm_group == group)
            .cloned()
            .ok_or_else(|| EcmError::NoBroker { group: group.to_string() })?;
        let broker = conn.info.name.clone();
        let lost = || EcmError::BrokerLost { group: group.to_string(), broker: broker.clone() };
        let request = self.request_number();
        let (reply, answer) = oneshot::channel();
        {
            let mut pending = lock(&conn.pending);
            if pending.closed {
                return Err(lost());
            }
            pending.waiting.insert(request, Waiter { reply, session: session.cloned() });
        }
        let timeout = self.inner.settings.request_timeout;
        let message = message(request);
        tracing::debug!(request, kind = kind(&message), ecm_group = group, broker = %broker, "request to a broker");
        let exchange = async {
            conn.outbox.send(message).await.map_err(|_| lost())?;
            answer.await.map_err(|_| lost())
        };
        // On a timeout the waiter stays: a late answer finds its receiver gone, and a late
        // release is checked in (see `Connection::answer`).
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(answer)) => Ok((broker, answer)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(EcmError::Timeout {
                group: group.to_string(),
                broker: broker.clone(),
                seconds: timeout.as_secs(),
            }),
        }
    }
}

/// A request's kind, for the log.
fn kind(message: &ConsoleMessage) -> &'static str {
    match message {
        ConsoleMessage::Search { .. } => "search",
        ConsoleMessage::Retrieve { .. } => "retrieve",
        ConsoleMessage::SessionEnded { .. } => "session-ended",
        ConsoleMessage::Registered { .. }
        | ConsoleMessage::Refused { .. }
        | ConsoleMessage::KeepAliveAck { .. } => "channel",
    }
}

impl Connection {
    pub(crate) fn id(&self) -> &str {
        &self.info.id
    }

    pub(crate) fn name(&self) -> &str {
        &self.info.name
    }

    pub(crate) fn group(&self) -> &str {
        &self.info.ecm_group
    }

    /// The broker as the list shows it now.
    pub(crate) fn info(&self) -> BrokerInfo {
        BrokerInfo { last_seen: self.last_seen.load(Ordering::Relaxed), ..self.info.clone() }
    }

    pub(crate) fn seen(&self, at: i64) {
        self.last_seen.store(at, Ordering::Relaxed);
    }

    /// Hands an answer to the request waiting for it. Returns the message to send when the
    /// answer is a release nobody waits for any more (the request timed out or its session went
    /// away): a `SessionEnded` that checks it in at once.
    pub(crate) fn answer(
        &self,
        registry: &Registry,
        request: u64,
        answer: BrokerMessage,
    ) -> Option<ConsoleMessage> {
        let waiter = lock(&self.pending).waiting.remove(&request);
        let Some(waiter) = waiter else {
            tracing::warn!(broker = %self.info.name, request, "a broker answered a request the console did not send; ignored");
            return None;
        };
        let session = waiter.session;
        match waiter.reply.send(answer) {
            Ok(()) => None,
            Err(BrokerMessage::Retrieved { release, .. }) => {
                let session = session?;
                tracing::info!(
                    broker = %self.info.name,
                    vault_request = release.request_id,
                    session = %session.id,
                    "a credential was released after its session stopped waiting; checking it in"
                );
                // Its answer finds no receiver and is dropped here.
                let request = registry.request_number();
                let (reply, _) = oneshot::channel();
                let mut pending = lock(&self.pending);
                if pending.closed {
                    return None;
                }
                pending.waiting.insert(request, Waiter { reply, session: None });
                Some(ConsoleMessage::SessionEnded { request, release, session })
            }
            Err(_) => None,
        }
    }
}
