//! The broker channel against a stand-in console (the console side is another crate's): the
//! broker fetches a token with its client credentials, opens the WebSocket with it, registers
//! (name, version, ECM group, protocol), answers a search, a retrieval (the real vault's
//! password) and a session end (the vault then lists the request checked in), and when the
//! console drops the connection it comes back and registers again. Shutdown stops it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use broker::protocol::{decode, encode, BrokerMessage, ConsoleMessage, ItemType, PROTOCOL_VERSION};
use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const TOKEN: &str = "console-token-81d2";

/// Serves `POST /oauth2/token` (checking the client credentials) and WebSocket upgrades that
/// carry the token; hands each accepted WebSocket to the test.
async fn stand_in_console(listener: TcpListener, sockets: mpsc::Sender<WebSocketStream<TcpStream>>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { return };
        let mut head = [0u8; 4];
        if stream.peek(&mut head).await.is_err() {
            continue;
        }
        if &head == b"POST" {
            let mut buf = vec![0u8; 4096];
            let mut n = 0;
            while !String::from_utf8_lossy(&buf[..n]).contains("client_secret") {
                match stream.read(&mut buf[n..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => n += k,
                }
            }
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let good = req.starts_with("POST /oauth2/token ")
                && req.contains("grant_type=client_credentials")
                && req.contains("client_id=ecm-client")
                && req.contains("client_secret=ecm-secret");
            let (status, body) = if good {
                (
                    "200 OK",
                    format!("{{\"access_token\":\"{TOKEN}\",\"token_type\":\"Bearer\",\"expires_in\":3600}}"),
                )
            } else {
                ("401 Unauthorized", "{\"error\":\"invalid_client\"}".to_string())
            };
            let resp = format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            let _ = stream.write_all(resp.as_bytes()).await;
            continue;
        }
        // tungstenite's handshake callback returns its ErrorResponse by value.
        #[allow(clippy::result_large_err)]
        let check = |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
            let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok());
            if req.uri().path() == "/console/api/ecm" && auth == Some(&format!("Bearer {TOKEN}")) {
                Ok(resp)
            } else {
                let mut refused = tokio_tungstenite::tungstenite::handshake::server::ErrorResponse::new(None);
                *refused.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::UNAUTHORIZED;
                Err(refused)
            }
        };
        if let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, check).await {
            if sockets.send(ws).await.is_err() {
                return;
            }
        }
    }
}

async fn recv(ws: &mut WebSocketStream<TcpStream>) -> BrokerMessage {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("the broker answers")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = frame {
            return decode(t.as_str()).unwrap();
        }
    }
}

async fn send(ws: &mut WebSocketStream<TcpStream>, m: &ConsoleMessage) {
    ws.send(Message::text(encode(m))).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_registers_serves_the_console_and_reconnects() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = make_pki(tmp.path());
    let served = Served::start(&tmp.path().join("data"), &pki).await;
    let s = seed(&served.vault).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, mut sockets) = mpsc::channel(4);
    tokio::spawn(stand_in_console(listener, tx));

    let console = format!(
        "[console]\nurl = \"http://127.0.0.1:{port}\"\nclient_id = \"ecm-client\"\nclient_secret = \"ecm-secret\"\nname = \"broker-a\"\necm_group = \"Helpdesk\"\nkeepalive_seconds = 5\n"
    );
    let config =
        broker::Config::parse(&config_text(&served.api_url(), &s.key, Some(&pki.ca), &console)).unwrap();
    let b = Arc::new(broker::Broker::new(&config).unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(broker::channel::run(b, config.console.clone().unwrap(), async {
        let _ = stopped.await;
    }));

    let mut ws = sockets.recv().await.unwrap();
    match recv(&mut ws).await {
        BrokerMessage::Register { name, ecm_group, protocol, version } => {
            assert_eq!(
                (name.as_str(), ecm_group.as_str(), protocol),
                ("broker-a", "Helpdesk", PROTOCOL_VERSION)
            );
            assert_eq!(version, env!("CARGO_PKG_VERSION"));
        }
        other => panic!("first message {other:?}"),
    }
    send(&mut ws, &ConsoleMessage::Registered { broker_id: "b-1".into() }).await;
    send(&mut ws, &ConsoleMessage::Search { request: 1, user: user(r"ACME\joe.user"), item: ssh("App01") })
        .await;
    let credentials = match recv(&mut ws).await {
        BrokerMessage::SearchResult { request: 1, credentials } => credentials,
        other => panic!("{other:?}"),
    };
    assert_eq!(credentials.len(), 2);
    assert_eq!(credentials[0].id, format!("joe.user\\{}\\App01\\helpdesk-01", s.helpdesk_01));
    let jump = broker::protocol::JumpItem {
        item_type: ItemType::Ssh,
        host: String::new(),
        additional_ips: vec![],
        application: None,
        url: None,
    };
    send(&mut ws, &ConsoleMessage::Search { request: 2, user: user("joe.user"), item: jump }).await;
    match recv(&mut ws).await {
        BrokerMessage::Failed { request: 2, error } => assert_eq!(error.code, "PCB061"),
        other => panic!("{other:?}"),
    }
    send(
        &mut ws,
        &ConsoleMessage::Retrieve {
            request: 3,
            user: user("joe.user"),
            credential: credentials[0].id.clone(),
            session: session("sess-9"),
        },
    )
    .await;
    let release = match recv(&mut ws).await {
        BrokerMessage::Retrieved { request: 3, release, username, secret, .. } => {
            assert_eq!((username.as_str(), secret.expose()), ("helpdesk-01", PLANTED));
            release
        }
        other => panic!("{other:?}"),
    };
    send(
        &mut ws,
        &ConsoleMessage::SessionEnded { request: 4, release: release.clone(), session: session("sess-9") },
    )
    .await;
    assert!(matches!(recv(&mut ws).await, BrokerMessage::CheckedIn { request: 4 }));
    let r = served.vault.request(release.request_id).await.unwrap();
    assert_eq!(r.status, vault::model::RequestStatus::CheckedIn);
    assert!(r.reason.contains("sess-9"), "{}", r.reason);

    // The console drops the connection: the broker comes back and registers again.
    ws.close(None).await.unwrap();
    drop(ws);
    let mut again = tokio::time::timeout(Duration::from_secs(20), sockets.recv())
        .await
        .expect("the broker reconnects")
        .unwrap();
    assert!(matches!(recv(&mut again).await, BrokerMessage::Register { .. }));
    send(&mut again, &ConsoleMessage::Refused { reason: "five brokers are already connected".into() }).await;
    // Refused: it keeps retrying; shutdown ends it.
    let _third = tokio::time::timeout(Duration::from_secs(20), sockets.recv())
        .await
        .expect("it retries after a refusal")
        .unwrap();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running).await.expect("run returns at shutdown").unwrap();
}
