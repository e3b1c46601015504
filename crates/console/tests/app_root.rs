//! The credential path end to end, as root: a real OpenSSH server and throw-away Linux users
//! (testkit), the real vault over https, the real broker (`broker::channel::run`) connected to
//! the console application with an ECM API account of the console's own tables. A local
//! representative picks the credential the vault allows, the browser terminal runs `whoami` as
//! the vault's account, the session ends, the broker checks the request in, the vault rotates
//! the password (change after release, over SSH with the system's functional account): the old
//! password no longer logs in and a second injected session still works. The planted password
//! is in no response, recording, log line or console database file.

mod app_support;
#[path = "common/mod.rs"]
mod common;
#[path = "ecm_support/mod.rs"]
mod ecm_support;

use std::path::Path;
use std::time::Duration;

use app_support::{hidden, hidden_all, Browser, Served};
use console::ecm::EcmSettings;
use console::items::NewJumpItem;
use console::recording::Asciicast;
use testkit::ssh::{ssh_login_works, LinuxUser, Sshd};

const PLANTED: &str = "Planted-App-Pw-93d1c7";
const FUNCTIONAL: &str = "Functional-App-Pw-2b7e";

/// The vault over https with system `target` (linux-ssh at 127.0.0.1:`port`, its functional
/// account set) and `account` (the planted password, API-enabled, changed after release),
/// requestable by vault user `joe.user` through the SRA group. Returns it with its API URL,
/// registration key and CA file, served until the stop sender drops.
async fn vault(
    dir: &Path,
    port: u16,
    functional: &str,
    account: &str,
) -> (vault::Vault, String, String, std::path::PathBuf, tokio::sync::oneshot::Sender<()>) {
    use vault::admin::{NewAccount, NewSystem, SraKey, SraSettings};
    let pki = testkit::pki::make_pki(dir);
    let v = vault::Vault::open_data_dir(&dir.join("vault"), None).await.unwrap();
    let sys = v
        .create_system(NewSystem {
            name: "target".into(),
            host: "127.0.0.1".into(),
            platform: "linux-ssh".into(),
            port: Some(port),
            workgroup: None,
        })
        .await
        .unwrap();
    v.set_functional_account(sys.id, functional, FUNCTIONAL).await.unwrap();
    v.create_account(NewAccount {
        system: "target".into(),
        name: account.into(),
        password: Some(zeroize::Zeroizing::new(PLANTED.into())),
        api_enabled: true,
        change_after_release: true,
        ..Default::default()
    })
    .await
    .unwrap();
    v.create_user("joe.user", None, None).await.unwrap();
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
    let SraKey::Created(key) = key else { panic!("a first connect-sra creates the key") };
    v.add_member(vault::admin::SRA_GROUP, "joe.user").await.unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api =
        format!("https://127.0.0.1:{}/BeyondTrust/api/public/v3", listener.local_addr().unwrap().port());
    let tls = vault::serve::tls_config(&pki.cert, &pki.key).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = vault::web::router(v.clone());
    tokio::spawn(async move {
        let _ = vault::serve::serve(listener, app, Some(tls), async {
            let _ = stopped.await;
        })
        .await;
    });
    (v, api, key.to_string(), pki.ca, stop)
}

/// One session in the browser: the item's page, the pick, the terminal, `whoami`, `exit`.
/// Returns the session ID, with every body and terminal byte the browser received.
async fn session(
    served: &Served,
    joe: &Browser,
    item: &str,
    account: &str,
    seen: &mut Vec<String>,
) -> String {
    let (status, _, page) = joe.get(&served.url(&format!("/console/items/{item}"))).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{page}");
    let offers = hidden_all(&page, "credential");
    assert_eq!(offers.len(), 1, "exactly the credential the vault allows: {page}");
    assert!(
        offers[0].starts_with(r"joe.user\") && offers[0].ends_with(&format!(r"\target\{account}")),
        "{offers:?}"
    );
    assert!(page.contains(&format!(r"Log in as target\{account}")), "{page}");
    let csrf = hidden(&page, "csrf").unwrap();
    let (status, location, body) = joe
        .post(
            &served.url(&format!("/console/items/{item}/sessions")),
            &[("csrf", &csrf), ("credential", &offers[0])],
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::SEE_OTHER, "{body}");
    let location = location.unwrap();
    let id = location.trim_start_matches("/console/sessions/").to_owned();
    let (_, _, terminal_page) = joe.get(&served.url(&location)).await;
    seen.extend([page, body, terminal_page]);

    let mut socket = joe.terminal(served, &format!("{location}/ws?cols=90&rows=20")).await;
    let mut screen = common::Seen::default();
    common::read_until(&mut socket, &mut screen, |s| s.text().contains("$ ")).await;
    common::type_in(&mut socket, "whoami\n").await;
    let line = format!("\n{account}\r\n");
    common::read_until(&mut socket, &mut screen, |s| s.text().contains(&line)).await;
    common::type_in(&mut socket, "exit\n").await;
    common::read_until(&mut socket, &mut screen, |s| s.closed).await;
    assert_eq!(screen.close_code, Some(1000), "{screen:?}");
    seen.push(screen.text());
    seen.extend(screen.messages.iter().map(|m| m.to_string()));

    // The end reaches the session's record: checked in, then ended.
    let ended = async {
        loop {
            let s = served.db.session(&id).await.unwrap();
            if s.ended_at.is_some() {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), ended).await.expect("the session ends");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root"]
async fn a_picked_credential_logs_in_unseen_is_checked_in_rotated_and_a_second_session_works() {
    let logs = ecm_support::capture_logs();
    let sshd = Sshd::start();
    let mut functional = LinuxUser::create("pcaf", FUNCTIONAL);
    functional.allow_sudo(false);
    let user = LinuxUser::create("pcaa", PLANTED);
    assert!(
        ssh_login_works(sshd.port, &user.name, PLANTED).await,
        "the account starts with the planted password"
    );
    let tmp = tempfile::tempdir().unwrap();
    let (vault, api, key, ca, _stop_vault) = vault(tmp.path(), sshd.port, &functional.name, &user.name).await;

    let console_dir = tmp.path().join("console");
    let served = Served::start(&console_dir, EcmSettings::default()).await;
    let item = served
        .db
        .create_jump_item(&NewJumpItem {
            port: Some(sshd.port),
            jump_group: Some("Linux".into()),
            ..NewJumpItem::ssh("target-01", "127.0.0.1")
        })
        .await
        .unwrap();
    served.db.set_policy("Helpdesk", &["Linux".into()]).await.unwrap();
    served.representative("joe.user", "Joe-local-pw-2026", &["Helpdesk"]).await;
    let (_, client_id, client_secret) = served.ecm_token("ecm-default", None, true).await;

    let config = broker::Config::parse(&format!(
        "[vault]\nurl = {api:?}\napi_key = {key:?}\nca_file = {:?}\ntimeout_seconds = 10\n",
        ca.to_str().unwrap()
    ))
    .unwrap();
    let settings = broker::config::ConsoleSettings {
        url: served.base.clone(),
        client_id,
        client_secret: Some(broker::Secret::new(&client_secret)),
        ca_file: None,
        name: Some("broker-a".into()),
        ecm_group: "Default".into(),
        keepalive_seconds: 1,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(broker::channel::run(
        std::sync::Arc::new(broker::Broker::new(&config).unwrap()),
        settings,
        async {
            let _ = stopped.await;
        },
    ));
    served.wait_for_brokers(1).await;

    let joe = Browser::new();
    assert_eq!(joe.sign_in(&served, "joe.user", "Joe-local-pw-2026").await.0, reqwest::StatusCode::SEE_OTHER);
    let mut seen = Vec::new();
    let first = session(&served, &joe, &item.id, &user.name, &mut seen).await;

    let record = served.db.session(&first).await.unwrap();
    assert_eq!(record.credential_display_name.as_deref(), Some(format!(r"target\{}", user.name).as_str()));
    let request = record.vault_request_id.expect("the vault request ID is recorded");
    let events: Vec<String> =
        served.db.session_events(&first).await.unwrap().into_iter().map(|e| e.code).collect();
    for code in [
        "session.started",
        "credential.selected",
        "credential.released",
        "host_key.pinned",
        "credential.injected",
        "credential.checked_in",
        "session.ended",
    ] {
        assert!(events.iter().any(|e| e == code), "{code} in {events:?}");
    }
    assert_eq!(vault.request(request).await.unwrap().status, vault::model::RequestStatus::CheckedIn);
    // Checked in, the vault rotated the password on the endpoint.
    assert!(!ssh_login_works(sshd.port, &user.name, PLANTED).await, "the old password no longer logs in");
    let cast = Asciicast::parse(&std::fs::read_to_string(record.recording_path.as_deref().unwrap()).unwrap())
        .unwrap();
    assert!(cast.output().contains(&format!("\n{}\r\n", user.name)), "the recording replays whoami");

    // A second injected session works with the rotated password, the representative never
    // seeing either.
    let second = session(&served, &joe, &item.id, &user.name, &mut seen).await;
    assert_ne!(first, second);
    let events: Vec<String> =
        served.db.session_events(&second).await.unwrap().into_iter().map(|e| e.code).collect();
    assert!(!events.iter().any(|e| e == "host_key.pinned"), "pinned once, then compared: {events:?}");
    let (_, _, report) = joe.get(&served.url(&format!("/console/reports/{second}"))).await;
    let second_request = served.db.session(&second).await.unwrap().vault_request_id.unwrap();
    assert_ne!(second_request, request, "one release request per session");
    assert!(report.contains("credential.checked_in"), "{report}");
    assert!(report.contains(&format!("<td>{second_request}</td>")), "{report}");
    let (_, _, cast_body) = joe.get(&served.url(&format!("/console/reports/{first}/recording"))).await;
    seen.extend([report, cast_body]);

    // The same path as `portcullis console connect` takes: a ticket, the offers, the pick.
    let third = connect_session(&served, &item.name, &user.name, &mut seen).await;
    assert!(served.db.session(&third).await.unwrap().ended_at.is_some());
    // The CLI's client on streams (the terminal's raw mode aside): it picks the only offer and
    // carries the keystrokes and the output until the remote shell exits.
    let ticket = served.db.issue_connect_ticket("joe.user").await.unwrap();
    let request = console::app::client::ConnectRequest {
        server: served.base.clone(),
        ticket,
        item: item.name.clone(),
        credential: None,
    };
    let mut output = Vec::new();
    let offered = std::sync::Mutex::new(Vec::new());
    let choose = |_: &str, offers: &[console::ecm::Offer]| {
        offered.lock().unwrap().extend(offers.iter().map(|o| o.display_name.clone()));
        Ok(offers[0].id.clone())
    };
    let keys = std::io::Cursor::new(b"whoami\nexit 4\n".to_vec());
    let size = console::TermSize::new(100, 30).unwrap();
    let ended = console::app::client::connect_with(request, choose, size, keys, &mut output).await.unwrap();
    assert_eq!(ended, console::app::client::Ended::Exited(Some(4)));
    assert_eq!(*offered.lock().unwrap(), [format!(r"target\{}", user.name)]);
    let shown = String::from_utf8_lossy(&output).into_owned();
    // Typed ahead, the keys echo before the prompt; whoami's answer is the account's name.
    assert!(shown.contains(&format!("{}\r\n", user.name)), "{shown}");
    seen.push(shown);

    // A ticket works once.
    let ticket = served.db.issue_connect_ticket("joe.user").await.unwrap();
    assert!(connect_socket(&served, &item.name, &ticket).await.is_ok());
    match connect_socket(&served, &item.name, &ticket).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("a used ticket opened a session: {:?}", other.map(|_| ())),
    }

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running).await.unwrap().unwrap();

    // The planted password (and its hex) is nowhere the console wrote or answered.
    let hex = web::token::hex(PLANTED.as_bytes());
    let planted = |text: &str| text.contains(PLANTED) || text.to_lowercase().contains(&hex);
    for body in &seen {
        assert!(!planted(body), "a response holds the password: {body}");
    }
    assert!(!planted(&logs.text()), "a log line holds the password");
    for dir in [console_dir.clone(), served.recordings.clone()] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                let text = String::from_utf8_lossy(&bytes);
                assert!(!planted(&text), "{} holds the password", path.display());
            }
        }
    }
}

async fn connect_socket(
    served: &Served,
    item: &str,
    ticket: &str,
) -> Result<app_support::Socket, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("ws://{}/console/api/connect?item={item}&cols=80&rows=24", served.addr);
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {ticket}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.map(|(s, _)| s)
}

/// A session as `console connect` runs it: the offers, the pick, `whoami`, `exit`.
async fn connect_session(served: &Served, item: &str, account: &str, seen: &mut Vec<String>) -> String {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let before: Vec<String> =
        served.db.sessions(0, i64::MAX, 100).await.unwrap().into_iter().map(|s| s.id).collect();
    let ticket = served.db.issue_connect_ticket("joe.user").await.unwrap();
    let mut socket = connect_socket(served, item, &ticket).await.expect("the connect socket opens");
    let Some(Ok(Message::Text(offers))) = socket.next().await else { panic!("no offers") };
    seen.push(offers.to_string());
    let offers: console::app::ConnectMessage = serde_json::from_str(offers.as_str()).unwrap();
    let console::app::ConnectMessage::Offers { credentials, .. } = offers else { panic!("not offers") };
    assert_eq!(credentials.len(), 1, "{credentials:?}");
    let pick = console::app::ConnectMessage::Pick { credential: credentials[0].id.clone() };
    socket.send(Message::Text(serde_json::to_string(&pick).unwrap().into())).await.unwrap();
    let mut screen = common::Seen::default();
    common::read_until(&mut socket, &mut screen, |s| s.text().contains("$ ")).await;
    common::type_in(&mut socket, "whoami\n").await;
    let line = format!("\n{account}\r\n");
    common::read_until(&mut socket, &mut screen, |s| s.text().contains(&line)).await;
    common::type_in(&mut socket, "exit 3\n").await;
    common::read_until(&mut socket, &mut screen, |s| s.closed).await;
    assert_eq!(screen.messages, [serde_json::json!({"type": "exit", "status": 3})]);
    seen.push(screen.text());
    let new =
        served.db.sessions(0, i64::MAX, 100).await.unwrap().into_iter().find(|s| !before.contains(&s.id));
    let id = new.expect("the connect session has its row").id;
    let ended = async {
        while served.db.session(&id).await.unwrap().ended_at.is_none() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), ended).await.expect("the session ends");
    id
}
