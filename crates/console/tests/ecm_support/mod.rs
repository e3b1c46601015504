//! What tests/ecm.rs shares: the console's broker channel served on a loopback port (with a
//! stand-in `/oauth2/token` and API accounts behind [`TestAuth`]), a scripted broker speaking
//! `broker::protocol` over a real WebSocket, a capture of every log line, and the real vault
//! for the real broker.
#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::routing::post;
use broker::protocol::{decode, encode, BrokerMessage, ConsoleMessage, PROTOCOL_VERSION};
use console::ecm::{AuthFuture, BrokerAuth, EcmError, EcmPrincipal, EcmSettings, MemoryPresence, Registry};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// The token of the Helpdesk group's ECM account.
pub const HELPDESK: &str = "tok-helpdesk-5b1e";
/// The token of an account without the ECM permission.
pub const NO_ECM: &str = "tok-command-only-77aa";
/// The token of an ECM account with no group set (it serves "Default").
pub const DEFAULT: &str = "tok-default-90c3";
/// The client credentials that `/oauth2/token` exchanges for [`HELPDESK`].
pub const CLIENT_ID: &str = "ecm-client";
pub const CLIENT_SECRET: &str = "ecm-secret-3f0b";
/// The client credentials that `/oauth2/token` exchanges for [`NO_ECM`].
pub const COMMAND_CLIENT_ID: &str = "command-client";
pub const COMMAND_CLIENT_SECRET: &str = "command-secret-0d9e";

/// API accounts by token; `revoke` disables one (its brokers are dropped at their next
/// keep-alive).
#[derive(Default)]
pub struct TestAuth {
    revoked: Mutex<Vec<String>>,
}

impl TestAuth {
    fn principal(token: &str) -> Option<EcmPrincipal> {
        let p = |id: &str, name: &str, ecm_api, group: Option<&str>| EcmPrincipal {
            account_id: id.into(),
            name: name.into(),
            ecm_api,
            ecm_group: group.map(String::from),
        };
        match token {
            HELPDESK => Some(p("acc-1", "ecm-helpdesk", true, Some("Helpdesk"))),
            NO_ECM => Some(p("acc-2", "command-only", false, Some("Helpdesk"))),
            DEFAULT => Some(p("acc-3", "ecm-default", true, None)),
            _ => None,
        }
    }

    pub fn revoke(&self, account_id: &str) {
        self.revoked.lock().unwrap().push(account_id.into());
    }
}

impl BrokerAuth for TestAuth {
    fn authorize<'a>(&'a self, bearer: &'a str) -> AuthFuture<'a, EcmPrincipal> {
        let found = TestAuth::principal(bearer)
            .filter(|p| !self.revoked.lock().unwrap().contains(&p.account_id))
            .ok_or_else(|| EcmError::Unauthenticated { reason: "the token is unknown or expired".into() });
        Box::pin(async move { found })
    }

    fn recheck<'a>(
        &'a self,
        principal: &'a EcmPrincipal,
        bearer: &'a str,
    ) -> AuthFuture<'a, Option<EcmPrincipal>> {
        let now = TestAuth::principal(bearer)
            .filter(|p| p == principal && !self.revoked.lock().unwrap().contains(&p.account_id));
        Box::pin(async move { Ok(now) })
    }
}

/// The console's broker channel on 127.0.0.1, stopped when dropped.
pub struct Console {
    pub addr: SocketAddr,
    pub registry: Registry,
    pub presence: Arc<MemoryPresence>,
    pub auth: Arc<TestAuth>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Console {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(serde::Deserialize)]
struct TokenForm {
    grant_type: String,
    client_id: String,
    client_secret: String,
}

/// The stand-in token endpoint the real broker asks (the console's OAuth endpoint is another
/// module's): client credentials → [`HELPDESK`] or [`NO_ECM`].
async fn token(axum::Form(f): axum::Form<TokenForm>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let issued = match (f.client_id.as_str(), f.client_secret.as_str()) {
        (CLIENT_ID, CLIENT_SECRET) => Some(HELPDESK),
        (COMMAND_CLIENT_ID, COMMAND_CLIENT_SECRET) => Some(NO_ECM),
        _ => None,
    };
    if let Some(token) = issued.filter(|_| f.grant_type == "client_credentials") {
        axum::Json(serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}))
            .into_response()
    } else {
        (axum::http::StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({"error": "invalid_client"})))
            .into_response()
    }
}

impl Console {
    pub async fn start(settings: EcmSettings) -> Console {
        let presence = Arc::new(MemoryPresence::default());
        let auth = Arc::new(TestAuth::default());
        let registry = Registry::new(settings, presence.clone(), Arc::new(console::SystemClock));
        let app: axum::Router =
            console::ecm::router(registry.clone(), auth.clone()).route("/oauth2/token", post(token));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Console { addr, registry, presence, auth, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Opens the channel with `token` (none: no Authorization header).
    pub async fn connect(
        &self,
        token: Option<&str>,
    ) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
        let mut request = format!("ws://{}/console/api/ecm", self.addr).into_client_request().unwrap();
        if let Some(t) = token {
            request.headers_mut().insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        tokio_tungstenite::connect_async(request).await.map(|(s, _)| s)
    }

    /// A scripted broker: connects with `token`, registers as `name` for `group`, and returns
    /// the socket with the console's answer.
    pub async fn register(&self, token: &str, name: &str, group: &str) -> (Socket, ConsoleMessage) {
        let mut ws = self.connect(Some(token)).await.expect("the channel opens");
        send(&mut ws, &register(name, group)).await;
        let answer = recv(&mut ws).await.expect("the console answers the registration");
        (ws, answer)
    }

    /// A scripted broker the console registered.
    pub async fn registered(&self, name: &str) -> Socket {
        match self.register(HELPDESK, name, "Helpdesk").await {
            (ws, ConsoleMessage::Registered { .. }) => ws,
            (_, other) => panic!("{name} was not registered: {other:?}"),
        }
    }

    /// Waits (at most 20 s) until the registry lists exactly `names`, oldest first.
    pub async fn wait_for_brokers(&self, names: &[&str]) {
        let listed = || self.registry.list().into_iter().map(|b| b.name).collect::<Vec<_>>();
        let wait = async {
            while listed() != names {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(20), wait).await.is_err() {
            panic!("the registry lists {:?}, not {names:?}", listed());
        }
    }
}

pub fn register(name: &str, group: &str) -> BrokerMessage {
    BrokerMessage::Register {
        name: name.into(),
        version: "0.1.0".into(),
        ecm_group: group.into(),
        protocol: PROTOCOL_VERSION,
    }
}

pub async fn send(ws: &mut Socket, m: &BrokerMessage) {
    ws.send(Message::text(encode(m))).await.expect("send to the console");
}

/// The console's next message; `None` once it closed the channel. Panics after 20 s.
pub async fn recv(ws: &mut Socket) -> Option<ConsoleMessage> {
    loop {
        let frame =
            tokio::time::timeout(Duration::from_secs(20), ws.next()).await.expect("the console answers");
        match frame {
            Some(Ok(Message::Text(t))) => return Some(decode(t.as_str()).expect("a protocol message")),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

/// Reads until the console closes; its close frame. Panics after 20 s or on another message.
pub async fn closed(ws: &mut Socket) -> Option<CloseFrame> {
    loop {
        let frame =
            tokio::time::timeout(Duration::from_secs(20), ws.next()).await.expect("the console closes");
        match frame {
            Some(Ok(Message::Close(frame))) => return frame,
            None | Some(Err(_)) => return None,
            Some(Ok(Message::Text(t))) => panic!("a message instead of the close: {t}"),
            Some(Ok(_)) => continue,
        }
    }
}

/// Every log line of this process (one subscriber per process, installed once).
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Captures at TRACE, behind the filter the binary adds ([`console::ecm::loggable`]).
pub fn capture_logs() -> Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            tracing_subscriber::util::SubscriberInitExt::init(subscriber("trace", &captured));
            captured
        })
        .clone()
}

/// A subscriber writing to `captured`, filtered by the operator's `filter` and the console's
/// [`console::ecm::loggable`], as the binary's is.
pub fn subscriber(filter: &str, captured: &Captured) -> impl tracing::Subscriber + Send + Sync {
    use tracing_subscriber::layer::SubscriberExt;
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish()
        .with(tracing_subscriber::filter::filter_fn(console::ecm::loggable))
}

/// The password planted on `App01\helpdesk-01` in the vault, and sent by scripted brokers.
pub const PLANTED: &str = "Planted-Ecm-Pw-4e81c2";

/// The real vault over https (the broker talks to it only so), seeded with `App01` (host
/// 10.0.0.5) and its API-enabled `helpdesk-01` (the planted password), requestable by vault users
/// `joe.user` and `joe.user.b` through the SRA requesters group; served until dropped.
pub struct Vault {
    pub vault: vault::Vault,
    pub api_url: String,
    pub key: String,
    pub ca: std::path::PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Vault {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl Vault {
    pub async fn start(dir: &Path) -> Vault {
        use vault::admin::{NewAccount, NewSystem, SraSettings};
        let pki = testkit::pki::make_pki(dir);
        let data = dir.join("vault");
        std::fs::create_dir_all(&data).unwrap();
        let v = vault::Vault::open_data_dir(&data, None).await.unwrap();
        v.create_system(NewSystem {
            name: "App01".into(),
            host: "10.0.0.5".into(),
            platform: "generic".into(),
            ..Default::default()
        })
        .await
        .unwrap();
        v.create_account(NewAccount {
            system: "App01".into(),
            name: "helpdesk-01".into(),
            password: Some(zeroize::Zeroizing::new(PLANTED.into())),
            api_enabled: true,
            ..Default::default()
        })
        .await
        .unwrap();
        for user in ["joe.user", "joe.user.b"] {
            v.create_user(user, None, None).await.unwrap();
        }
        let key = v
            .connect_sra(SraSettings {
                host: "127.0.0.1".into(),
                port: 9,
                client_id: "console-client".into(),
                client_secret: Some(zeroize::Zeroizing::new("console-secret".into())),
                release_minutes: 60,
                rotate_key: false,
            })
            .await
            .unwrap();
        let vault::admin::SraKey::Created(key) = key else { panic!("a first connect-sra creates the key") };
        for user in ["joe.user", "joe.user.b"] {
            v.add_member(vault::admin::SRA_GROUP, user).await.unwrap();
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tls = vault::serve::tls_config(&pki.cert, &pki.key).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = vault::web::router(v.clone());
        tokio::spawn(async move {
            let _ = vault::serve::serve(listener, app, Some(tls), async {
                let _ = stopped.await;
            })
            .await;
        });
        Vault {
            vault: v,
            api_url: format!("https://127.0.0.1:{port}/BeyondTrust/api/public/v3"),
            key: key.to_string(),
            ca: pki.ca,
            stop: Some(stop),
        }
    }

    /// A real broker for this vault, registering with `console` as `name` for Helpdesk and
    /// keeping alive every second; with `run_as`, every request runs as that vault user (so the
    /// IDs it offers tell which broker answered).
    pub fn broker(
        &self,
        console: &Console,
        name: &str,
        run_as: Option<&str>,
    ) -> (Arc<broker::Broker>, broker::config::ConsoleSettings) {
        let run_as = run_as.map(|u| format!("run_as = {u:?}\n")).unwrap_or_default();
        let text = format!(
            "[vault]\nurl = {:?}\napi_key = {:?}\nca_file = {:?}\ntimeout_seconds = 10\n{run_as}",
            self.api_url,
            self.key,
            self.ca.to_str().unwrap()
        );
        let config = broker::Config::parse(&text).unwrap();
        let settings = broker::config::ConsoleSettings {
            url: console.url(),
            client_id: CLIENT_ID.into(),
            client_secret: Some(broker::Secret::new(CLIENT_SECRET)),
            ca_file: None,
            name: Some(name.into()),
            ecm_group: "Helpdesk".into(),
            keepalive_seconds: 1,
        };
        (Arc::new(broker::Broker::new(&config).unwrap()), settings)
    }
}

/// A real broker whose vault is never asked (nothing listens there), for channel tests that
/// end before any request.
pub fn idle_broker(
    console: &Console,
    client_id: &str,
    secret: &str,
) -> (Arc<broker::Broker>, broker::config::ConsoleSettings) {
    let config = broker::Config::parse(
        "[vault]\nurl = \"https://127.0.0.1:9/BeyondTrust/api/public/v3\"\napi_key = \"k\"\n",
    )
    .unwrap();
    let settings = broker::config::ConsoleSettings {
        url: console.url(),
        client_id: client_id.into(),
        client_secret: Some(broker::Secret::new(secret)),
        ca_file: None,
        name: Some("idle".into()),
        ecm_group: "Helpdesk".into(),
        keepalive_seconds: 1,
    };
    (Arc::new(broker::Broker::new(&config).unwrap()), settings)
}

/// Waits (at most 20 s) until a captured log line contains `needle`.
pub async fn wait_for_log(logs: &Captured, needle: &str) {
    let wait = async {
        while !logs.text().contains(needle) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(20), wait).await.is_err() {
        panic!("no log line contains {needle:?}:\n{}", logs.text());
    }
}

pub fn settings(keepalive_ms: u64, timeout_ms: u64) -> EcmSettings {
    EcmSettings {
        keepalive: Duration::from_millis(keepalive_ms),
        request_timeout: Duration::from_millis(timeout_ms),
    }
}
