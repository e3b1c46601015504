//! What the console's integration tests share: serving the console's routes on a loopback port
//! the way the product will (with the shared stylesheet and security headers), and the
//! WebSocket client a browser terminal would be.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use console::web::Sessions;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// The console's routes on 127.0.0.1, stopped when the guard drops.
pub struct Server {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub async fn start(sessions: Arc<dyn Sessions>) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app: axum::Router = console::web::router(sessions, &format!("http://{addr}/"))
            .expect("router")
            .merge(web::page::assets())
            .layer(web::headers::SecurityHeadersLayer::http());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Server { addr, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// Opens the terminal WebSocket of `session` as the page would (same Origin).
    pub async fn terminal(&self, session: &str, cols: u16, rows: u16) -> Socket {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = self.ws_url(&format!("/console/sessions/{session}/ws?cols={cols}&rows={rows}"));
        let mut request = url.into_client_request().expect("request");
        request.headers_mut().insert("origin", format!("http://{}", self.addr).parse().expect("origin"));
        let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("WebSocket handshake");
        socket
    }
}

/// What the browser saw: output bytes, control messages, and how the socket closed.
#[derive(Debug, Default)]
pub struct Seen {
    pub output: Vec<u8>,
    pub messages: Vec<serde_json::Value>,
    pub close_code: Option<u16>,
    pub closed: bool,
}

impl Seen {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }
}

/// Reads frames until `done(seen)` holds or the socket ends; panics after 20 s.
pub async fn read_until(socket: &mut Socket, seen: &mut Seen, done: impl Fn(&Seen) -> bool) {
    let run = async {
        while !done(seen) {
            match socket.next().await {
                Some(Ok(Message::Binary(bytes))) => seen.output.extend_from_slice(&bytes),
                Some(Ok(Message::Text(text))) => {
                    seen.messages.push(serde_json::from_str(text.as_str()).expect("a JSON control message"))
                }
                Some(Ok(Message::Close(frame))) => {
                    seen.close_code = frame.map(|f| u16::from(f.code));
                    seen.closed = true;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    seen.closed = true;
                    return;
                }
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(20), run).await.is_err() {
        panic!("the terminal did not get there in 20 s; it saw {seen:?} ({:?})", seen.text());
    }
}

/// Sends keystrokes as the page does (a binary frame).
pub async fn type_in(socket: &mut Socket, keys: &str) {
    socket.send(Message::Binary(keys.as_bytes().to_vec().into())).await.expect("send");
}

/// Sends a text frame (a control message).
pub async fn send_text(socket: &mut Socket, text: &str) {
    socket.send(Message::Text(text.into())).await.expect("send");
}
