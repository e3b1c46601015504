//! `GET /console/api/connect`: the terminal of `portcullis console connect`. The CLI has the
//! data directory, not a browser session: it writes a one-time ticket for a local
//! representative into the console's tables ([`ConsoleStore::issue_connect_ticket`], valid for a
//! minute, kept as its SHA-256) and opens this WebSocket with `Authorization: Bearer TICKET`,
//! `?item=ITEM&cols=C&rows=R`. The ticket is taken before the upgrade (401 when unknown, used or
//! expired; 404 when the item is not one the representative may open).
//!
//! After the upgrade the console sends `{"type":"offers","credentials":[{"id","display_name"}]}`
//! (what the brokers offer, display names only); the client answers
//! `{"type":"pick","credential":"ID"}`, and the session runs exactly as a browser's: the same
//! pick, release, injection, recording and check-in, then the terminal bridge's messages
//! ([`crate::web::ClientMessage`], binary frames both ways, `exit`/`error`).
//!
//! [`ConsoleStore::issue_connect_ticket`]: crate::ConsoleStore::issue_connect_ticket

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::header::{AUTHORIZATION, ORIGIN};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};

use super::identity::Representative;
use super::live::AppSessions;
use super::Inner;
use crate::ecm::Offer;
use crate::terminal::TermSize;
use crate::web::MAX_MESSAGE_BYTES;
use crate::ConsoleError;

/// The first message the console sends on a connect socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConnectMessage {
    /// The credentials the brokers offer (console → client).
    Offers { item: String, credentials: Vec<Offer> },
    /// The one picked (client → console).
    Pick { credential: String },
}

#[derive(Debug, Deserialize)]
pub(super) struct ConnectQuery {
    item: String,
    cols: Option<u16>,
    rows: Option<u16>,
}

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new().route("/console/api/connect", get(upgrade)).with_state(inner)
}

fn refuse(status: StatusCode, e: &ConsoleError) -> Response {
    tracing::info!(code = e.code(), error = %e, "console connect refused");
    (status, axum::Json(serde_json::json!({"code": e.code(), "message": e.to_string()}))).into_response()
}

async fn upgrade(
    State(inner): State<Arc<Inner>>,
    Query(q): Query<ConnectQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // Not for pages: a browser always sends an Origin (the CLI sends none).
    if headers.contains_key(ORIGIN) {
        let e = ConsoleError::OriginRefused { origin: "a web page".into() };
        return refuse(StatusCode::FORBIDDEN, &e);
    }
    let ticket = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    let unauthenticated = ConsoleError::Unauthenticated {
        reason: "the connect ticket is unknown, used or expired (tickets work once, for a minute)",
    };
    if ticket.is_empty() || ticket.len() > 256 {
        return refuse(StatusCode::UNAUTHORIZED, &unauthenticated);
    }
    let rep = match inner.db.take_connect_ticket(ticket).await {
        Ok(Some(rep)) => Representative::local(&rep, String::new()),
        Ok(None) => return refuse(StatusCode::UNAUTHORIZED, &unauthenticated),
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    let item = match inner.db.jump_item(&q.item).await {
        Ok(item) => item,
        Err(e) => return refuse(StatusCode::NOT_FOUND, &e),
    };
    let allowed = match super::pages::allowed_item(&inner, &rep, &item.id).await {
        Ok(item) => item,
        Err(e) => return refuse(StatusCode::NOT_FOUND, &e),
    };
    let default = TermSize::default();
    let size = match TermSize::new(q.cols.unwrap_or(default.cols()), q.rows.unwrap_or(default.rows())) {
        Ok(size) => size,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    tracing::info!(representative = %rep.username, jump_item = %allowed.name, "console connect");
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| run(socket, inner, rep, allowed, size))
}

async fn run(
    mut socket: WebSocket,
    inner: Arc<Inner>,
    rep: Representative,
    item: crate::items::JumpItem,
    size: TermSize,
) {
    let offered = inner
        .brokers
        .search(&inner.settings.ecm_group, &rep.console_user(), &super::pages::ecm_item(&item))
        .await;
    let sessions = AppSessions(inner.clone());
    let credentials = match offered {
        Ok(c) => c,
        Err(e) => return crate::web::bridge(socket, &sessions, "-", Err(e.into())).await,
    };
    let offers = ConnectMessage::Offers { item: item.name.clone(), credentials };
    let text = serde_json::to_string(&offers).unwrap_or_default();
    if socket.send(Message::Text(text.into())).await.is_err() {
        return;
    }
    let picked = loop {
        match socket.next().await {
            Some(Ok(Message::Text(t))) => match serde_json::from_str::<ConnectMessage>(t.as_str()) {
                Ok(ConnectMessage::Pick { credential }) => break credential,
                _ => {
                    let e = ConsoleError::BadMessage {
                        reason: "expected {\"type\":\"pick\",\"credential\":ID}".into(),
                    };
                    return crate::web::bridge(socket, &sessions, "-", Err(e)).await;
                }
            },
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            _ => return,
        }
    };
    let id = match super::pages::start(&inner, &rep, &item.id, &picked).await {
        Ok(id) => id,
        Err(e) => return crate::web::bridge(socket, &sessions, "-", Err(e)).await,
    };
    let opened = inner.open_session(&id, size, &rep.owner).await;
    crate::web::bridge(socket, &sessions, &id, opened).await;
}
