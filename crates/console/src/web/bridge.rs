//! The WebSocket between a browser terminal and a session.
//!
//! Browser to console: binary frames are keystrokes (bytes for the shell); text frames are JSON
//! messages, `{"type":"resize","cols":C,"rows":R}` or `{"type":"input","data":"…"}` (text for
//! the shell, for clients that send text frames). Console to browser: binary frames are the
//! shell's output; text frames are `{"type":"exit","status":N}` (or `"signal":"TERM"`) when the
//! shell ends and `{"type":"error","code":"PCC…","message":"…"}` when the session fails, before
//! the console closes the socket.

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::header::ORIGIN;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt as _, StreamExt as _};
use serde::{Deserialize, Serialize};

use super::{valid_id, Console};
use crate::ssh::{Output, SessionInput, SessionOutput};
use crate::terminal::TermSize;
use crate::ConsoleError;

/// The largest WebSocket message the console accepts from a browser (a big paste).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// A text message from the browser.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    Resize { cols: u16, rows: u16 },
    Input { data: String },
}

impl ClientMessage {
    /// Parses a text frame.
    pub fn parse(text: &str) -> Result<ClientMessage, ConsoleError> {
        serde_json::from_str(text).map_err(|e| ConsoleError::BadMessage { reason: e.to_string() })
    }
}

/// A text message to the browser.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMessage<'a> {
    Exit {
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        signal: Option<&'a str>,
    },
    Error {
        code: &'a str,
        message: String,
    },
}

impl ServerMessage<'_> {
    fn frame(&self) -> Message {
        // Serialising these enums cannot fail (strings and numbers only).
        Message::Text(serde_json::to_string(self).unwrap_or_default().into())
    }
}

/// The terminal's size at the start, from the page (`?cols=&rows=`).
#[derive(Debug, Deserialize)]
pub(super) struct Size {
    cols: Option<u16>,
    rows: Option<u16>,
}

fn refuse(status: StatusCode, e: &ConsoleError) -> Response {
    tracing::info!(code = e.code(), error = %e, "terminal WebSocket refused");
    (status, e.to_string()).into_response()
}

/// `GET /console/sessions/{id}/ws`: checks the origin, the ID and the size, then upgrades.
pub(super) async fn upgrade(
    State(console): State<Console>,
    Path(id): Path<String>,
    Query(size): Query<Size>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // Browsers always send Origin on a WebSocket handshake and cookies ride along, so a page of
    // another site must not be able to open a representative's session (cross-site WebSocket
    // hijacking). Clients without an Origin are not browsers.
    if let Some(origin) = headers.get(ORIGIN) {
        if origin.as_bytes() != console.origin.as_bytes() {
            let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
            return refuse(StatusCode::FORBIDDEN, &ConsoleError::OriginRefused { origin });
        }
    }
    if !valid_id(&id) {
        return refuse(StatusCode::NOT_FOUND, &ConsoleError::UnknownSession { id });
    }
    let default = TermSize::default();
    let size = match TermSize::new(size.cols.unwrap_or(default.cols()), size.rows.unwrap_or(default.rows())) {
        Ok(size) => size,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    ws.max_message_size(MAX_MESSAGE_BYTES).max_frame_size(MAX_MESSAGE_BYTES).on_upgrade(
        move |socket| async move {
            let opened = console.sessions.open(&id, size, &headers).await;
            bridge(socket, &*console.sessions, &id, opened).await
        },
    )
}

/// Runs one terminal over `socket` (the browser's, or `portcullis console connect`'s): the
/// session `opened` gave, bytes carried both ways until either side ends, then both ends closed
/// and `sessions` told ([`super::Sessions::closed`]). A session that could not be opened is
/// told to the client and the socket closed.
pub async fn bridge(
    mut socket: WebSocket,
    sessions: &dyn super::Sessions,
    id: &str,
    opened: Result<crate::ssh::Session, ConsoleError>,
) {
    let session = match opened {
        Ok(session) => session,
        Err(e) => {
            tracing::warn!(session = %id, code = e.code(), error = %e, "terminal session could not be opened");
            fail(&mut socket, &e).await;
            return;
        }
    };
    tracing::info!(session = %id, "terminal connected");
    let (mut output, input) = session.split();
    let ended = carry(&mut socket, &mut output, &input).await;
    let closed = input.close().await;
    // Drain what the endpoint still sent (and record it) until the channel ends.
    let drained = async { while let Ok(Some(_)) = output.recv().await {} };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), drained).await;
    let outcome = ended.and(closed);
    match &outcome {
        Ok(()) => {
            tracing::info!(session = %id, "terminal session ended");
            let _ = socket
                .send(Message::Close(Some(CloseFrame { code: 1000, reason: Utf8Bytes::from_static("") })))
                .await;
        }
        Err(e) => {
            tracing::warn!(session = %id, code = e.code(), error = %e, "terminal session failed");
            fail(&mut socket, e).await;
        }
    }
    if let Err(e) = sessions.closed(id, outcome.as_ref().map(|_| ())).await {
        tracing::warn!(session = %id, code = e.code(), error = %e, "the end of the session was not recorded");
    }
}

/// Tells the browser why the session failed and closes the socket.
async fn fail(socket: &mut WebSocket, e: &ConsoleError) {
    let _ = socket.send(ServerMessage::Error { code: e.code(), message: e.to_string() }.frame()).await;
    let close = CloseFrame { code: 1011, reason: Utf8Bytes::from(e.code()) };
    let _ = socket.send(Message::Close(Some(close))).await;
}

/// Carries bytes until the shell or the browser ends; `Err` when the session failed. The two
/// directions run concurrently, so a shell that is slow to take a large paste never stops its
/// output from reaching the browser (and the recording).
async fn carry(
    socket: &mut WebSocket,
    output: &mut SessionOutput,
    input: &SessionInput,
) -> Result<(), ConsoleError> {
    let (mut to_browser, mut from_browser) = socket.split();
    let keystrokes = async {
        loop {
            match from_browser.next().await {
                // The browser went away or closed the socket.
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Ok(Message::Binary(bytes))) => input.send(&bytes).await?,
                Some(Ok(Message::Text(text))) => match ClientMessage::parse(text.as_str())? {
                    ClientMessage::Input { data } => input.send(data.as_bytes()).await?,
                    ClientMessage::Resize { cols, rows } => input.resize(TermSize::new(cols, rows)?).await?,
                },
                // Pings are answered by the WebSocket layer itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            }
        }
    };
    let screen = async {
        loop {
            let frame = match output.recv().await? {
                Some(Output::Data(bytes)) => Message::Binary(bytes),
                Some(Output::Exited(status)) => {
                    ServerMessage::Exit { status: Some(status), signal: None }.frame()
                }
                Some(Output::Killed(signal)) => {
                    ServerMessage::Exit { status: None, signal: Some(&signal) }.frame()
                }
                None => return Ok(()),
            };
            if to_browser.send(frame).await.is_err() {
                return Ok(()); // the browser went away
            }
        }
    };
    tokio::select! {
        ended = keystrokes => ended,
        ended = screen => ended,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages_parse_strictly() {
        assert_eq!(
            ClientMessage::parse(r#"{"type":"resize","cols":120,"rows":40}"#).unwrap(),
            ClientMessage::Resize { cols: 120, rows: 40 }
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"input","data":"ls\r"}"#).unwrap(),
            ClientMessage::Input { data: "ls\r".into() }
        );
        for bad in [
            "whoami",
            r#"{"type":"resize","cols":-1,"rows":40}"#,
            r#"{"type":"resize","cols":80}"#,
            r#"{"type":"resize","cols":80,"rows":24,"extra":1}"#,
            r#"{"type":"exec","command":"id"}"#,
        ] {
            assert_eq!(ClientMessage::parse(bad).unwrap_err().code(), "PCC031", "{bad}");
        }
    }

    #[test]
    fn server_messages_are_small_json() {
        let exit = ServerMessage::Exit { status: Some(0), signal: None }.frame();
        assert_eq!(exit, Message::Text(r#"{"type":"exit","status":0}"#.into()));
        let e = ConsoleError::UnknownSession { id: "x".into() };
        let Message::Text(text) = (ServerMessage::Error { code: e.code(), message: e.to_string() }).frame()
        else {
            panic!("a text frame")
        };
        assert!(
            text.as_str().starts_with(r#"{"type":"error","code":"PCC030","message":"PCC030: "#),
            "{text}"
        );
    }
}
