//! `GET /console/api/ecm`: the console's side of the broker channel ([`broker::protocol`]).
//!
//! Before the upgrade the bearer token is checked ([`BrokerAuth`]): no token or a bad one is 401,
//! an account without the ECM permission 403, each with a coded JSON error. After it, the broker's
//! first frame must be a `Register` for its account's ECM group, in this protocol version, while
//! fewer than [`super::MAX_BROKERS`] are connected; otherwise the console answers `Refused` with
//! the coded reason and closes. A registered broker is dropped when it is silent for three
//! keep-alive intervals, sends a binary or unreadable frame, registers again, or its account may
//! no longer serve.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use broker::protocol::{decode, encode, BrokerMessage, ConsoleMessage, PROTOCOL_VERSION};
use zeroize::{Zeroize as _, Zeroizing};

use super::registry::Connection;
use super::{BrokerAuth, BrokerInfo, EcmError, EcmPrincipal, Registry};

/// The largest frame a broker may send (a search result with many credentials).
const MAX_FRAME_BYTES: usize = 1024 * 1024;
/// The longest bearer token the console reads.
const MAX_TOKEN_BYTES: usize = 4096;

/// WebSocket close codes (RFC 6455 §7.4.1).
const CLOSE_NORMAL: u16 = 1000;
const CLOSE_PROTOCOL: u16 = 1002;
const CLOSE_UNSUPPORTED: u16 = 1003;
const CLOSE_POLICY: u16 = 1008;

/// Who opened a channel: the account, and the token it is rechecked with.
struct Caller {
    principal: EcmPrincipal,
    token: Zeroizing<String>,
}

#[derive(Clone)]
struct Channel {
    registry: Registry,
    auth: Arc<dyn BrokerAuth>,
}

/// The broker channel's route, `GET /console/api/ecm`.
pub fn router<S: Clone + Send + Sync + 'static>(registry: Registry, auth: Arc<dyn BrokerAuth>) -> Router<S> {
    Router::new().route("/console/api/ecm", get(upgrade)).with_state(Channel { registry, auth })
}

/// A refusal before the upgrade: the status, `{"code","message"}`, and for 401 the challenge.
fn refuse(e: &EcmError) -> Response {
    tracing::info!(code = e.code(), error = %e, "broker channel refused");
    let body = serde_json::json!({ "code": e.code(), "message": e.to_string() });
    let mut r = (e.status(), axum::Json(body)).into_response();
    if e.status() == axum::http::StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"portcullis-console\""));
    }
    r
}

/// The token of `Authorization: Bearer TOKEN`.
fn bearer(headers: &HeaderMap) -> Result<&str, EcmError> {
    let missing = |reason: &str| EcmError::Unauthenticated { reason: reason.into() };
    let value =
        headers.get(AUTHORIZATION).ok_or_else(|| missing("the request has no Authorization header"))?;
    let value = value.to_str().map_err(|_| missing("the Authorization header is not text"))?;
    let (scheme, token) =
        value.split_once(' ').ok_or_else(|| missing("the Authorization header is not Bearer"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(missing("the Authorization header is not Bearer"));
    }
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err(missing("the bearer token is empty or too long"));
    }
    Ok(token)
}

async fn upgrade(
    State(channel): State<Channel>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let token = match bearer(&headers) {
        Ok(token) => Zeroizing::new(token.to_string()),
        Err(e) => return refuse(&e),
    };
    let principal = channel.auth.authorize(&token).await;
    let principal = match principal {
        Ok(p) if p.ecm_api => p,
        Ok(p) => return refuse(&EcmError::NotPermitted { account: p.name }),
        Err(e) => return refuse(&e),
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| serve(socket, channel, Caller { principal, token }))
}

/// A frame read from the broker, after the transport's own frames.
enum Incoming {
    Text(Utf8Bytes),
    Closed,
    Binary,
}

async fn next(socket: &mut WebSocket) -> Incoming {
    loop {
        match socket.recv().await {
            Some(Ok(Message::Text(text))) => return Incoming::Text(text),
            Some(Ok(Message::Binary(_))) => return Incoming::Binary,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_)) | Err(_)) | None => return Incoming::Closed,
        }
    }
}

/// Reads a frame as a broker message, then wipes the frame (a `Retrieved` holds a password).
fn read(text: Utf8Bytes) -> Result<BrokerMessage, String> {
    let message = decode::<BrokerMessage>(text.as_str());
    wipe(text);
    message
}

/// Zeroes a frame's buffer when this is its only reference (tungstenite's own read buffer is
/// out of reach).
fn wipe(text: Utf8Bytes) {
    if let Ok(mut buf) = bytes::Bytes::from(text).try_into_mut() {
        buf[..].zeroize();
    }
}

/// What any version's registration is expected to keep: its type and protocol number.
#[derive(serde::Deserialize)]
struct Probe {
    #[serde(rename = "type")]
    kind: String,
    protocol: u32,
}

/// The first frame: a registration (`Ok(Ok(_))`), a refused one (`Ok(Err(_))`), or a protocol
/// violation (`Err(_)`). A registration of another protocol version that this version cannot
/// read is still told apart by its `protocol` field.
fn first_frame(text: Utf8Bytes, principal: &EcmPrincipal) -> Result<Result<BrokerInfo, EcmError>, String> {
    let answer = match decode::<BrokerMessage>(text.as_str()) {
        Ok(message) => registration(message, principal),
        Err(reason) => match serde_json::from_str::<Probe>(text.as_str()) {
            Ok(p) if p.kind == "register" && p.protocol != PROTOCOL_VERSION => {
                Ok(Err(EcmError::ProtocolVersion { theirs: p.protocol, ours: PROTOCOL_VERSION }))
            }
            _ => Err(reason),
        },
    };
    wipe(text);
    answer
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let _ =
        socket.send(Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))).await;
}

async fn send(socket: &mut WebSocket, message: &ConsoleMessage) -> bool {
    socket.send(Message::Text(encode(message).into())).await.is_ok()
}

/// Refuses a registration: `Refused` with the coded reason, then the close.
async fn refuse_registration(socket: &mut WebSocket, principal: &EcmPrincipal, e: &EcmError) {
    tracing::warn!(account = %principal.name, code = e.code(), error = %e, "broker registration refused");
    send(socket, &ConsoleMessage::Refused { reason: e.to_string() }).await;
    close(socket, CLOSE_POLICY, e.code()).await;
}

/// Runs one broker's channel, from its registration until it leaves.
async fn serve(mut socket: WebSocket, channel: Channel, caller: Caller) {
    let principal = &caller.principal;
    let registry = &channel.registry;
    let settings = registry.settings();
    let first = match tokio::time::timeout(settings.silence_limit(), next(&mut socket)).await {
        Ok(Incoming::Text(text)) => first_frame(text, principal),
        Ok(Incoming::Binary) => Err("a binary frame".into()),
        Ok(Incoming::Closed) => return,
        Err(_) => Err(format!("no registration within {} s", settings.silence_limit().as_secs())),
    };
    let info = match first {
        Ok(Ok(info)) => info,
        Ok(Err(e)) => return refuse_registration(&mut socket, principal, &e).await,
        Err(reason) => {
            let broker = format!("(unregistered) of API account {}", principal.name);
            let e = EcmError::ProtocolViolation { broker, reason };
            return refuse_registration(&mut socket, principal, &e).await;
        }
    };
    let (conn, outbox) = match registry.admit(info) {
        Ok(admitted) => admitted,
        Err(e) => return refuse_registration(&mut socket, principal, &e).await,
    };
    let info = conn.info();
    if let Err(e) = registry.presence().connected(&info).await {
        tracing::warn!(code = e.code(), error = %e, "the broker list was not updated");
    }
    tracing::info!(
        broker_id = %info.id,
        broker = %info.name,
        version = %info.version,
        ecm_group = %info.ecm_group,
        account = %info.account_name,
        "broker registered"
    );
    let ended = if send(&mut socket, &ConsoleMessage::Registered { broker_id: info.id.clone() }).await {
        converse(&mut socket, &channel, &caller, &conn, outbox).await
    } else {
        Ok(())
    };
    registry.remove(&conn);
    match ended {
        Ok(()) => tracing::info!(broker_id = %conn.id(), broker = %conn.name(), "broker disconnected"),
        Err((e, code)) => {
            tracing::warn!(broker_id = %conn.id(), broker = %conn.name(), code = e.code(), error = %e, "broker dropped");
            close(&mut socket, code, e.code()).await;
        }
    }
    if let Err(e) = registry.presence().disconnected(conn.id()).await {
        tracing::warn!(code = e.code(), error = %e, "the broker list was not updated");
    }
}

/// Checks a first message: `Ok(Err(_))` is a refusal, `Err(_)` a protocol violation.
fn registration(
    message: BrokerMessage,
    principal: &EcmPrincipal,
) -> Result<Result<BrokerInfo, EcmError>, String> {
    let BrokerMessage::Register { name, version, ecm_group, protocol } = message else {
        return Err("its first message is not a registration".into());
    };
    Ok(check_registration(principal, name, version, ecm_group, protocol))
}

fn check_registration(
    principal: &EcmPrincipal,
    name: String,
    version: String,
    ecm_group: String,
    protocol: u32,
) -> Result<BrokerInfo, EcmError> {
    if protocol != PROTOCOL_VERSION {
        return Err(EcmError::ProtocolVersion { theirs: protocol, ours: PROTOCOL_VERSION });
    }
    if ecm_group != principal.group() {
        return Err(EcmError::WrongGroup {
            account: principal.name.clone(),
            asked: ecm_group,
            allowed: principal.group().to_string(),
        });
    }
    let printable = |s: &str, max: usize| {
        !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
    };
    if !printable(&name, 128) {
        return Err(EcmError::BadRegistration {
            reason: "the name must be 1 to 128 printable characters".into(),
        });
    }
    if !printable(&version, 64) {
        return Err(EcmError::BadRegistration {
            reason: "the version must be 1 to 64 printable characters".into(),
        });
    }
    Ok(BrokerInfo {
        id: String::new(),
        name,
        version,
        ecm_group,
        account_id: principal.account_id.clone(),
        account_name: principal.name.clone(),
        connected_at: 0,
        last_seen: 0,
    })
}

type Dropped = (EcmError, u16);

/// The registered conversation: keep-alives, requests out, answers in. `Ok` when the broker
/// closed the channel.
async fn converse(
    socket: &mut WebSocket,
    channel: &Channel,
    caller: &Caller,
    conn: &Arc<Connection>,
    mut outbox: tokio::sync::mpsc::Receiver<ConsoleMessage>,
) -> Result<(), Dropped> {
    let registry = &channel.registry;
    let settings = registry.settings();
    let clock = registry.clock();
    let violation = |reason: String| {
        (EcmError::ProtocolViolation { broker: conn.name().to_string(), reason }, CLOSE_PROTOCOL)
    };
    let mut last_heard = clock.monotonic();
    let mut check =
        tokio::time::interval(settings.keepalive.min(Duration::from_secs(5)).max(Duration::from_millis(10)));
    loop {
        tokio::select! {
            incoming = next(socket) => {
                let text = match incoming {
                    Incoming::Text(text) => text,
                    Incoming::Closed => return Ok(()),
                    Incoming::Binary => {
                        return Err((EcmError::ProtocolViolation { broker: conn.name().to_string(), reason: "a binary frame".into() }, CLOSE_UNSUPPORTED));
                    }
                };
                last_heard = clock.monotonic();
                match read(text).map_err(violation)? {
                    BrokerMessage::KeepAlive { seq } => {
                        if !send(socket, &ConsoleMessage::KeepAliveAck { seq }).await {
                            return Ok(());
                        }
                        let at = clock.unix_seconds();
                        conn.seen(at);
                        if let Err(e) = registry.presence().seen(conn.id(), at).await {
                            tracing::warn!(code = e.code(), error = %e, "the broker list was not updated");
                        }
                        still_allowed(channel, caller, conn).await?;
                    }
                    BrokerMessage::Register { .. } => return Err(violation("it registered twice".into())),
                    answer @ (BrokerMessage::SearchResult { request, .. }
                    | BrokerMessage::Retrieved { request, .. }
                    | BrokerMessage::CheckedIn { request }
                    | BrokerMessage::Failed { request, .. }) => {
                        if let Some(check_in) = conn.answer(registry, request, answer) {
                            if !send(socket, &check_in).await {
                                return Ok(());
                            }
                        }
                    }
                }
            }
            Some(out) = outbox.recv() => {
                if !send(socket, &out).await {
                    return Ok(());
                }
            }
            _ = check.tick() => {
                let silent = clock.monotonic().saturating_sub(last_heard);
                if silent > settings.silence_limit() {
                    return Err((EcmError::Silent { broker: conn.name().to_string(), seconds: silent.as_secs() }, CLOSE_NORMAL));
                }
            }
        }
    }
}

/// Asks whether the broker's account may still serve its group; `Err` drops it.
async fn still_allowed(channel: &Channel, caller: &Caller, conn: &Connection) -> Result<(), Dropped> {
    let revoked = |reason: &str| {
        Err((EcmError::Revoked { broker: conn.name().to_string(), reason: reason.to_string() }, CLOSE_POLICY))
    };
    match channel.auth.recheck(&caller.principal, &caller.token).await {
        Ok(Some(now)) if !now.ecm_api => revoked("the account lost the ECM permission"),
        Ok(Some(now)) if now.group() != conn.group() => revoked("the account now serves another ECM group"),
        Ok(Some(_)) => Ok(()),
        Ok(None) => revoked("the account was disabled or deleted, or its secret rotated"),
        Err(e) => {
            tracing::warn!(code = e.code(), error = %e, "a broker's account could not be checked; it stays connected");
            Ok(())
        }
    }
}
