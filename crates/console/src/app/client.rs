//! The terminal side of `portcullis console connect`: opens `/console/api/connect` on the
//! running server with a one-time ticket, lets the operator pick one of the offered
//! credentials (display names only), then carries the local terminal (raw mode, resizes) to the
//! session until the remote shell exits or the operator types Ctrl-].

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::AsyncReadExt as _;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::Message;
use zeroize::Zeroizing;

use super::ConnectMessage;
use crate::ecm::Offer;
use crate::terminal::TermSize;
use crate::ConsoleError;

/// Ctrl-]: ends the session from the local side (as telnet and `ssh -e` users expect).
const ESCAPE: u8 = 0x1d;

/// What to open.
pub struct ConnectRequest {
    /// The server's base URL (`http://host:port`).
    pub server: String,
    pub ticket: Zeroizing<String>,
    /// The jump item's name or ID.
    pub item: String,
    /// The credential's ID; `None` asks `choose`.
    pub credential: Option<String>,
}

/// How the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The remote shell exited with this status (or was killed by a signal: `None`).
    Exited(Option<u32>),
    /// The operator typed Ctrl-].
    Escaped,
    /// The console closed the session without saying why.
    Closed,
}

fn failed(server: &str, detail: impl std::fmt::Display) -> ConsoleError {
    ConsoleError::InvalidRequest { reason: format!("the console at {server} {detail}") }
}

/// The local terminal in raw mode until dropped (nothing when stdin is not a terminal).
struct RawMode(Option<rustix::termios::Termios>);

impl RawMode {
    fn enter() -> RawMode {
        let stdin = std::io::stdin();
        let Ok(saved) = rustix::termios::tcgetattr(&stdin) else { return RawMode(None) };
        let mut raw = saved.clone();
        raw.make_raw();
        match rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &raw) {
            Ok(()) => RawMode(Some(saved)),
            Err(_) => RawMode(None),
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ =
                rustix::termios::tcsetattr(std::io::stdin(), rustix::termios::OptionalActions::Now, saved);
        }
    }
}

/// The local terminal's size (80×24 when it has none).
pub fn local_size() -> TermSize {
    rustix::termios::tcgetwinsize(std::io::stdout())
        .ok()
        .and_then(|w| TermSize::new(w.ws_col, w.ws_row).ok())
        .unwrap_or_default()
}

/// Opens the session and runs it on this terminal (raw mode while it runs, resizes sent).
/// `choose` picks among the offers when no credential was given (it runs before raw mode, so
/// it may prompt).
pub async fn connect(
    request: ConnectRequest,
    choose: impl FnOnce(&str, &[Offer]) -> Result<String, ConsoleError>,
) -> Result<Ended, ConsoleError> {
    let server = request.server.clone();
    let socket = open(request, choose, local_size()).await?;
    let raw = RawMode::enter();
    let winch = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change()).ok();
    let ended = run(socket, &server, stdin(), &mut std::io::stdout(), winch).await;
    drop(raw);
    ended
}

/// [`connect`] on other streams than the terminal's (no raw mode, no resizes): what a test or
/// a non-interactive caller uses.
pub async fn connect_with(
    request: ConnectRequest,
    choose: impl FnOnce(&str, &[Offer]) -> Result<String, ConsoleError>,
    size: TermSize,
    input: impl tokio::io::AsyncRead + Unpin,
    output: &mut (dyn std::io::Write + Send),
) -> Result<Ended, ConsoleError> {
    let server = request.server.clone();
    let socket = open(request, choose, size).await?;
    run(socket, &server, input, output, None).await
}

/// The terminal's keystrokes as an async stream. Read on a thread of its own, not tokio's
/// `stdin()` (whose blocking read would keep the runtime from shutting down until a key is
/// pressed after the session ended); the thread ends with the process.
fn stdin() -> tokio::io::DuplexStream {
    use std::io::Read as _;
    use tokio::io::AsyncWriteExt as _;
    let (reader, mut writer) = tokio::io::duplex(4096);
    let handle = tokio::runtime::Handle::current();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut stdin = std::io::stdin();
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if handle.block_on(writer.write_all(&buf[..n])).is_err() {
                        break;
                    }
                }
            }
        }
    });
    reader
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the connect socket, takes the offers and sends the pick.
async fn open(
    request: ConnectRequest,
    choose: impl FnOnce(&str, &[Offer]) -> Result<String, ConsoleError>,
    size: TermSize,
) -> Result<Socket, ConsoleError> {
    let server = request.server.trim_end_matches('/').to_owned();
    let ws_base = if let Some(rest) = server.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if server.starts_with("https://") {
        return Err(ConsoleError::InvalidInput {
            reason: "console connect speaks to the server's plain-HTTP listener only (loopback); pass \
                     --server http://127.0.0.1:PORT"
                .into(),
        });
    } else {
        return Err(ConsoleError::InvalidInput {
            reason: format!("--server {server:?} is not an http:// URL"),
        });
    };
    let item = percent_encoding::utf8_percent_encode(&request.item, percent_encoding::NON_ALPHANUMERIC);
    let url = format!("{ws_base}/console/api/connect?item={item}&cols={}&rows={}", size.cols(), size.rows());
    let mut handshake = url.into_client_request().map_err(|e| failed(&server, e))?;
    let bearer = Zeroizing::new(format!("Bearer {}", request.ticket.as_str()));
    handshake.headers_mut().insert(
        "authorization",
        bearer
            .parse()
            .map_err(|_| ConsoleError::InvalidInput { reason: "the ticket is not a token".into() })?,
    );
    let (mut socket, _) = match tokio_tungstenite::connect_async(handshake).await {
        Ok(s) => s,
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            let body = r.body().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["message"].as_str().map(String::from))
                .unwrap_or_else(|| format!("answered HTTP {}", r.status()));
            return Err(failed(&server, format!("refused the session: {message}")));
        }
        Err(e) => {
            return Err(failed(&server, format!("cannot be reached: {e}; is `portcullis up` running?")))
        }
    };
    let offers = loop {
        match socket.next().await {
            Some(Ok(Message::Text(t))) => match serde_json::from_str::<ConnectMessage>(t.as_str()) {
                Ok(ConnectMessage::Offers { item, credentials }) => break (item, credentials),
                _ => return Err(server_error(&server, t.as_str())),
            },
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            _ => return Err(failed(&server, "closed the connection before offering credentials")),
        }
    };
    let (item_name, offered) = offers;
    let credential = match request.credential {
        Some(id) if offered.iter().any(|o| o.id == id) => id,
        Some(id) => {
            return Err(ConsoleError::NotFound {
                what: format!("credential {id:?} among those offered for {item_name:?}"),
            })
        }
        None => choose(&item_name, &offered)?,
    };
    let pick = serde_json::to_string(&ConnectMessage::Pick { credential }).unwrap_or_default();
    socket.send(Message::Text(pick.into())).await.map_err(|e| failed(&server, e))?;
    Ok(socket)
}

/// A coded error message of the console as an error.
fn server_error(server: &str, text: &str) -> ConsoleError {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    failed(server, format!("ended the session: {}", v["message"].as_str().unwrap_or(text)))
}

/// Carries `input` to the session and its output to `output` until either ends.
async fn run(
    socket: Socket,
    server: &str,
    mut stdin: impl tokio::io::AsyncRead + Unpin,
    out: &mut (dyn std::io::Write + Send),
    mut winch: Option<tokio::signal::unix::Signal>,
) -> Result<Ended, ConsoleError> {
    let (mut to_console, mut from_console) = socket.split();
    let mut buf = [0u8; 4096];
    let mut ended = Ended::Closed;
    let mut failure = None;
    let mut input_open = true;
    loop {
        let resized = async {
            match winch.as_mut() {
                Some(w) => w.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            read = stdin.read(&mut buf), if input_open => {
                // The end of the input is not the end of the session: the remote may still answer.
                let n = match read { Ok(0) | Err(_) => { input_open = false; continue } Ok(n) => n };
                let keys = &buf[..n];
                let (keys, escaped) = match keys.iter().position(|&b| b == ESCAPE) {
                    Some(at) => (&keys[..at], true),
                    None => (keys, false),
                };
                if !keys.is_empty() && to_console.send(Message::Binary(keys.to_vec().into())).await.is_err() {
                    break;
                }
                if escaped {
                    ended = Ended::Escaped;
                    let _ = to_console.send(Message::Close(None)).await;
                    break;
                }
            }
            Some(()) = resized => {
                let size = local_size();
                let text = format!(r#"{{"type":"resize","cols":{},"rows":{}}}"#, size.cols(), size.rows());
                let _ = to_console.send(Message::Text(text.into())).await;
            }
            frame = from_console.next() => match frame {
                Some(Ok(Message::Binary(bytes))) => {
                    let _ = out.write_all(&bytes).and_then(|()| out.flush());
                }
                Some(Ok(Message::Text(t))) => {
                    let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                    match v["type"].as_str() {
                        Some("exit") => ended = Ended::Exited(v["status"].as_u64().and_then(|s| u32::try_from(s).ok())),
                        Some("error") => failure = Some(server_error(server, t.as_str())),
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(ended),
    }
}
