//! The broker's side of the broker channel ([`crate::protocol`]): connect out to the console,
//! register, keep the connection alive, serve its requests, and when the connection cannot be
//! made or drops, log the classified failure and try again after a back-off (1 s doubling to
//! 60 s, with ±20% jitter so that brokers do not reconnect in step; back to 1 s after a
//! registration succeeds). [`run`] returns only when its shutdown future completes.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::config::ConsoleSettings;
use crate::error::{config, BrokerError, Result};
use crate::protocol::{decode, encode, BrokerMessage, ConsoleMessage, WireError, PROTOCOL_VERSION};
use crate::secret::Secret;
use crate::Broker;

/// How long the console has to answer the registration.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(15);

/// Reconnection delays: 1 s doubling to 60 s, with jitter.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: Backoff::FIRST }
    }
}

impl Backoff {
    pub const FIRST: Duration = Duration::from_secs(1);
    pub const MAX: Duration = Duration::from_secs(60);

    /// The next delay (and doubles the one after).
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(Backoff::MAX);
        // ±20% from the clock's sub-second digits: enough to spread brokers apart.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let factor = 0.8 + 0.4 * (f64::from(nanos % 1000) / 1000.0);
        base.mul_f64(factor)
    }

    pub fn reset(&mut self) {
        self.next = Backoff::FIRST;
    }
}

/// Runs the broker channel until `shutdown` completes.
pub async fn run(broker: Arc<Broker>, console: ConsoleSettings, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    let mut backoff = Backoff::default();
    loop {
        let mut registered = false;
        let outcome = tokio::select! {
            r = connect_once(&broker, &console, &mut registered) => r,
            () = &mut shutdown => {
                tracing::info!("the broker stops");
                return;
            }
        };
        if registered {
            backoff.reset();
        }
        match outcome {
            Ok(()) => tracing::info!("the console closed the broker channel"),
            Err(e) => e.log("broker channel"),
        }
        let delay = backoff.next_delay();
        tracing::info!(retry_in_ms = delay.as_millis() as u64, "reconnecting to the console after a pause");
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = &mut shutdown => {
                tracing::info!("the broker stops");
                return;
            }
        }
    }
}

/// The console's HTTP client (token endpoint), with the console's TLS settings.
fn console_http(console: &ConsoleSettings, tls: rustls::ClientConfig) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(|e| config(format!("the console's HTTP client cannot be built for {} ({e})", console.url)))
}

/// An OAuth token from the console (client-credentials grant, credentials in the form body).
async fn token(console: &ConsoleSettings, http: &reqwest::Client) -> Result<Secret> {
    let url = console.token_url()?;
    let secret =
        console.client_secret.as_ref().ok_or_else(|| config("[console] client_secret is not set"))?;
    let form = Secret::new(
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &console.client_id)
            .append_pair("client_secret", secret.expose())
            .finish(),
    );
    let unreachable = |e: reqwest::Error| BrokerError::ConsoleUnreachable {
        url: url.to_string(),
        detail: e.without_url().to_string(),
    };
    let resp = http
        .post(url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form.expose().to_string())
        .send()
        .await
        .map_err(unreachable)?;
    let status = resp.status();
    let body = zeroize::Zeroizing::new(resp.bytes().await.map_err(unreachable)?.to_vec());
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    if !status.is_success() {
        let why = v.get("error").and_then(|e| e.as_str()).unwrap_or("no OAuth error code");
        return Err(BrokerError::ConsoleRefused {
            detail: format!("the token endpoint answered HTTP {} ({why})", status.as_u16()),
        });
    }
    v.get("access_token")
        .and_then(|t| t.as_str())
        .map(Secret::new)
        .ok_or_else(|| BrokerError::ConsoleProtocol { detail: "the token answer has no access_token".into() })
}

async fn connect_once(broker: &Arc<Broker>, console: &ConsoleSettings, registered: &mut bool) -> Result<()> {
    let tls = crate::tls::client_config(console.ca_file.as_deref(), "[console] ca_file")?;
    let http = console_http(console, tls.clone())?;
    let url = console.channel_url()?;
    let bearer = token(console, &http).await?;
    let mut request =
        url.as_str().into_client_request().map_err(|e| config(format!("[console] url: {e}")))?;
    let mut auth = HeaderValue::from_str(&format!("Bearer {}", bearer.expose())).map_err(|_| {
        BrokerError::ConsoleProtocol { detail: "the access token is not a valid header value".into() }
    })?;
    auth.set_sensitive(true);
    request.headers_mut().insert("authorization", auth);
    let connector = tokio_tungstenite::Connector::Rustls(Arc::new(tls));
    let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(request, None, true, Some(connector))
        .await
        .map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(resp) => BrokerError::ConsoleRefused {
                detail: refusal(resp.status().as_u16(), resp.body().as_deref()),
            },
            other => BrokerError::ConsoleUnreachable { url: url.to_string(), detail: other.to_string() },
        })?;
    let (mut sink, mut stream) = ws.split();
    let name = console.name.clone().unwrap_or_else(host_name);
    let register = BrokerMessage::Register {
        name: name.clone(),
        version: env!("CARGO_PKG_VERSION").into(),
        ecm_group: console.ecm_group.clone(),
        protocol: PROTOCOL_VERSION,
    };
    let lost = |e: tokio_tungstenite::tungstenite::Error| BrokerError::ConsoleUnreachable {
        url: url.to_string(),
        detail: e.to_string(),
    };
    sink.send(Message::text(encode(&register))).await.map_err(lost)?;
    let first = tokio::time::timeout(REGISTER_TIMEOUT, next_message(&mut stream))
        .await
        .map_err(|_| BrokerError::ConsoleProtocol { detail: "no answer to the registration".into() })??;
    match first {
        Some(ConsoleMessage::Registered { broker_id }) => {
            *registered = true;
            tracing::info!(broker_id, name, ecm_group = %console.ecm_group, "registered with the console");
        }
        Some(ConsoleMessage::Refused { reason }) => {
            return Err(BrokerError::ConsoleRefused { detail: reason })
        }
        Some(_) => {
            return Err(BrokerError::ConsoleProtocol {
                detail: "the console answered the registration with another message".into(),
            })
        }
        None => return Ok(()),
    }

    let interval = Duration::from_secs(console.keepalive_seconds);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    let (tx, mut rx) = mpsc::channel::<BrokerMessage>(64);
    let mut last_heard = Instant::now();
    let mut seq = 0u64;
    loop {
        tokio::select! {
            incoming = next_frame(&mut stream) => {
                let Some(frame) = incoming? else { return Ok(()) };
                last_heard = Instant::now();
                let Some(text) = frame else { continue };
                let message: ConsoleMessage = decode(&text).map_err(|detail| BrokerError::ConsoleProtocol { detail })?;
                if let ConsoleMessage::Refused { reason } = message {
                    return Err(BrokerError::ConsoleRefused { detail: reason });
                }
                let (broker, tx) = (broker.clone(), tx.clone());
                tokio::spawn(async move {
                    if let Some(answer) = serve(&broker, message).await {
                        let _ = tx.send(answer).await;
                    }
                });
            }
            Some(out) = rx.recv() => {
                sink.send(Message::text(encode(&out))).await.map_err(lost)?;
            }
            _ = ticker.tick() => {
                if last_heard.elapsed() > interval * 3 {
                    return Err(BrokerError::ConsoleUnreachable { url: url.to_string(), detail: format!("nothing heard for {} s", last_heard.elapsed().as_secs()) });
                }
                seq += 1;
                sink.send(Message::text(encode(&BrokerMessage::KeepAlive { seq }))).await.map_err(lost)?;
            }
        }
    }
}

/// Why the console refused the upgrade: the status, and the coded sentence of its JSON answer
/// (`{"code","message"}`) when there is one — at most 512 characters, control characters
/// dropped, since it goes to the log.
fn refusal(status: u16, body: Option<&[u8]>) -> String {
    let message = body
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(String::from))
        .map(|m| m.chars().filter(|c| !c.is_control()).take(512).collect::<String>())
        .filter(|m| !m.is_empty());
    match message {
        Some(m) => format!("the channel endpoint answered HTTP {status}: {m}"),
        None => format!("the channel endpoint answered HTTP {status}"),
    }
}

/// The next frame: `Some(Some(text))`, `Some(None)` for a ping/pong, `None` when closed.
async fn next_frame<S>(stream: &mut S) -> Result<Option<Option<String>>>
where
    S: futures_util::Stream<Item = std::result::Result<Message, tokio_tungstenite::tungstenite::Error>>
        + Unpin,
{
    match stream.next().await {
        None | Some(Ok(Message::Close(_))) => Ok(None),
        Some(Ok(Message::Text(t))) => Ok(Some(Some(t.as_str().to_string()))),
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Ok(Some(None)),
        Some(Ok(Message::Binary(_))) => Err(BrokerError::ConsoleProtocol { detail: "a binary frame".into() }),
        Some(Err(e)) => {
            Err(BrokerError::ConsoleUnreachable { url: String::from("the console"), detail: e.to_string() })
        }
    }
}

async fn next_message<S>(stream: &mut S) -> Result<Option<ConsoleMessage>>
where
    S: futures_util::Stream<Item = std::result::Result<Message, tokio_tungstenite::tungstenite::Error>>
        + Unpin,
{
    loop {
        match next_frame(stream).await? {
            None => return Ok(None),
            Some(None) => continue,
            Some(Some(text)) => {
                return decode(&text).map(Some).map_err(|detail| BrokerError::ConsoleProtocol { detail })
            }
        }
    }
}

/// Answers one console request; `None` for messages that need no answer.
pub async fn serve(broker: &Broker, message: ConsoleMessage) -> Option<BrokerMessage> {
    let failed = |request: u64, e: BrokerError, during: &str| {
        e.log(during);
        BrokerMessage::Failed { request, error: WireError::from(&e) }
    };
    Some(match message {
        ConsoleMessage::Search { request, user, item } => match broker.search(&user, &item).await {
            Ok(credentials) => BrokerMessage::SearchResult { request, credentials },
            Err(e) => failed(request, e, "search"),
        },
        ConsoleMessage::Retrieve { request, user, credential, session } => {
            match broker.retrieve(&user, &credential, &session).await {
                Ok(r) => BrokerMessage::Retrieved {
                    request,
                    release: r.handle,
                    username: r.username,
                    domain: r.domain,
                    secret: r.secret,
                },
                Err(e) => failed(request, e, "retrieve"),
            }
        }
        ConsoleMessage::SessionEnded { request, release, session } => {
            match broker.check_in(&release, &session).await {
                Ok(()) => BrokerMessage::CheckedIn { request },
                Err(e) => failed(request, e, "check-in"),
            }
        }
        ConsoleMessage::Registered { .. }
        | ConsoleMessage::KeepAliveAck { .. }
        | ConsoleMessage::Refused { .. } => return None,
    })
}

/// This host's name, the broker's default name.
fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "broker".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_carries_the_consoles_sentence() {
        let body = br#"{"code":"PCE002","message":"PCE002: API account \"x\" may not serve\u001b[2J"}"#;
        assert_eq!(
            refusal(403, Some(body)),
            "the channel endpoint answered HTTP 403: PCE002: API account \"x\" may not serve[2J"
        );
        assert_eq!(refusal(401, None), "the channel endpoint answered HTTP 401");
        assert_eq!(refusal(502, Some(b"<html>bad gateway</html>")), "the channel endpoint answered HTTP 502");
    }

    #[test]
    fn backoff_doubles_to_a_minute_with_jitter_and_resets() {
        let mut b = Backoff::default();
        let delays: Vec<Duration> = (0..10).map(|_| b.next_delay()).collect();
        for (i, d) in delays.iter().enumerate() {
            let base = (Backoff::FIRST * 2u32.pow(i as u32)).min(Backoff::MAX);
            assert!(*d >= base.mul_f64(0.8) && *d <= base.mul_f64(1.2), "{i}: {d:?} around {base:?}");
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(1200));
    }
}
