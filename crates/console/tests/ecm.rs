//! The console's side of the broker channel over real WebSockets on loopback: the real broker
//! (`broker::channel::run`, with the real vault behind it) registers, keeps alive and serves a
//! search, a release and a check-in; scripted brokers speaking `broker::protocol` prove the
//! rest — the oldest broker of a group serves and the next takes over with one failed in-flight
//! request, a sixth broker is refused, refusals before and after the upgrade, silent and
//! misbehaving brokers dropped, timeouts, late releases checked in, and a planted password in
//! no log line and no `Debug` output.

mod ecm_support;

use std::collections::BTreeSet;
use std::time::Duration;

use broker::protocol::{BrokerMessage, ConsoleMessage, Credential as Wire, ReleaseHandle, WireError};
use console::ecm::{ConsoleUser, EcmError, ItemType, JumpItem, SessionRef};
use ecm_support::*;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

fn joe() -> ConsoleUser {
    ConsoleUser { username: r"ACME\joe.user".into(), dn: None }
}

fn app01() -> JumpItem {
    JumpItem {
        item_type: ItemType::Ssh,
        host: "10.0.0.5".into(),
        additional_ips: vec![],
        application: None,
        url: None,
    }
}

fn session(id: &str) -> SessionRef {
    SessionRef { id: id.into(), jump_item: Some("App01".into()) }
}

fn offer(id: &str) -> Wire {
    Wire { id: id.into(), display_name: r"App01\helpdesk-01".into() }
}

fn release() -> ReleaseHandle {
    ReleaseHandle { request_id: 42, vault_user: "joe.user".into() }
}

/// The planted password is in no log line, as text or as the hex of a frame's payload.
fn assert_no_planted(logs: &str) {
    let hex: String = PLANTED.bytes().map(|b| format!("{b:02x}")).collect();
    for (i, line) in logs.lines().enumerate() {
        assert!(
            !line.contains(PLANTED) && !line.to_lowercase().contains(&hex),
            "log line {i} holds the planted password: {line}"
        );
    }
}

/// The request number of a console request.
fn number(m: &ConsoleMessage) -> u64 {
    match m {
        ConsoleMessage::Search { request, .. }
        | ConsoleMessage::Retrieve { request, .. }
        | ConsoleMessage::SessionEnded { request, .. } => *request,
        other => panic!("not a request: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_broker_registers_keeps_alive_and_serves_through_the_vault() {
    let logs = capture_logs();
    let tmp = tempfile::tempdir().unwrap();
    let vault = Vault::start(tmp.path()).await;
    let console = Console::start(settings(1000, 20_000)).await;
    let (b, channel) = vault.broker(&console, "broker-a", None);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(broker::channel::run(b, channel, async {
        let _ = stopped.await;
    }));
    console.wait_for_brokers(&["broker-a"]).await;
    let listed = console.registry.list();
    assert_eq!((listed[0].ecm_group.as_str(), listed[0].account_name.as_str()), ("Helpdesk", "ecm-helpdesk"));
    assert_eq!(listed[0].version, env!("CARGO_PKG_VERSION"));
    assert_eq!(console.presence.list(), listed, "the presence store holds what the registry lists");

    let brokers = console.registry.brokers();
    let offers = brokers.search("Helpdesk", &joe(), &app01()).await.unwrap();
    assert_eq!(offers.len(), 1, "{offers:?}");
    assert_eq!(offers[0].display_name, r"App01\helpdesk-01");
    assert!(offers[0].id.starts_with(r"joe.user\"), "{}", offers[0].id);
    let (credential, release) =
        brokers.retrieve("Helpdesk", &joe(), &offers[0].id, &session("sess-1")).await.unwrap();
    assert_eq!((credential.username(), credential.method()), ("helpdesk-01", "password"));
    let shown = format!("{credential:?} {release:?}");
    assert!(!shown.contains(PLANTED), "{shown}");
    brokers.session_ended("Helpdesk", &release, &session("sess-1")).await.unwrap();
    let request = vault.vault.request(release.request_id).await.unwrap();
    assert_eq!(request.status, vault::model::RequestStatus::CheckedIn);
    assert!(request.reason.contains("sess-1"), "{}", request.reason);

    // Keep-alives are answered: the same connection is still there after more than three
    // intervals, and the presence store saw it since.
    let first = console.registry.list()[0].clone();
    let kept = async {
        loop {
            let now = console.registry.list();
            assert_eq!(now.len(), 1, "the broker stays connected");
            assert_eq!(now[0].id, first.id, "the broker was not dropped and re-registered");
            if now[0].last_seen >= first.connected_at + 4 {
                return now[0].clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let later = tokio::time::timeout(Duration::from_secs(30), kept).await.expect("keep-alives arrive");
    assert_eq!(console.presence.list()[0].id, later.id);
    assert!(console.presence.list()[0].last_seen > first.connected_at);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running).await.unwrap().unwrap();
    console.wait_for_brokers(&[]).await;
    assert!(console.presence.list().is_empty());
    let e = brokers.search("Helpdesk", &joe(), &app01()).await.unwrap_err();
    assert_eq!(e.code(), "PCE030", "{e}");
    assert_no_planted(&logs.text());
    assert!(logs.text().contains("broker registered"), "the capture works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_real_brokers_the_older_serves_and_when_it_stops_the_other_does() {
    let tmp = tempfile::tempdir().unwrap();
    let vault = Vault::start(tmp.path()).await;
    let console = Console::start(settings(1000, 20_000)).await;
    // broker-b runs every request as vault user joe.user.b: the IDs it offers say who answered.
    let start = |name: &str, run_as: Option<&str>| {
        let (b, channel) = vault.broker(&console, name, run_as);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(broker::channel::run(b, channel, async {
            let _ = stopped.await;
        }));
        (stop, running)
    };
    let (stop_a, a) = start("broker-a", None);
    console.wait_for_brokers(&["broker-a"]).await;
    let (stop_b, b) = start("broker-b", Some("joe.user.b"));
    console.wait_for_brokers(&["broker-a", "broker-b"]).await;
    let brokers = console.registry.brokers();
    for _ in 0..3 {
        let offers = brokers.search("Helpdesk", &joe(), &app01()).await.unwrap();
        assert_eq!(offers.len(), 1);
        assert!(offers[0].id.starts_with(r"joe.user\"), "broker-a answers: {}", offers[0].id);
    }

    stop_a.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), a).await.unwrap().unwrap();
    console.wait_for_brokers(&["broker-b"]).await;
    let offers = brokers.search("Helpdesk", &joe(), &app01()).await.unwrap();
    assert!(offers[0].id.starts_with(r"joe.user.b\"), "broker-b answers: {}", offers[0].id);
    let (credential, release) =
        brokers.retrieve("Helpdesk", &joe(), &offers[0].id, &session("sess-b")).await.unwrap();
    assert_eq!(credential.username(), "helpdesk-01");
    assert_eq!(release.vault_user, "joe.user.b");
    brokers.session_ended("Helpdesk", &release, &session("sess-b")).await.unwrap();
    let request = vault.vault.request(release.request_id).await.unwrap();
    assert_eq!(request.status, vault::model::RequestStatus::CheckedIn);
    stop_b.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), b).await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oldest_broker_serves_and_the_next_takes_over_with_one_failure() {
    let console = Console::start(settings(5_000, 20_000)).await;
    let mut a = console.registered("broker-a").await;
    let mut b = console.registered("broker-b").await;
    console.wait_for_brokers(&["broker-a", "broker-b"]).await;
    let brokers = console.registry.brokers();

    let search = tokio::spawn({
        let brokers = brokers.clone();
        async move { brokers.search("Helpdesk", &joe(), &app01()).await }
    });
    let asked = recv(&mut a).await.unwrap();
    assert!(
        matches!(&asked, ConsoleMessage::Search { user, .. } if user.username == r"ACME\joe.user"),
        "{asked:?}"
    );
    send(
        &mut a,
        &BrokerMessage::SearchResult { request: number(&asked), credentials: vec![offer("from-a")] },
    )
    .await;
    assert_eq!(search.await.unwrap().unwrap(), vec![offer("from-a")]);

    // A retrieval is in flight on broker-a when it dies: it fails once, with a code.
    let retrieve = tokio::spawn({
        let brokers = brokers.clone();
        async move { brokers.retrieve("Helpdesk", &joe(), "from-a", &session("s-1")).await.map(|(c, _)| c) }
    });
    assert!(matches!(recv(&mut a).await.unwrap(), ConsoleMessage::Retrieve { .. }));
    drop(a);
    let e = retrieve.await.unwrap().unwrap_err();
    assert_eq!(e.code(), "PCE031", "{e}");
    assert!(e.to_string().contains("broker-a"), "{e}");
    console.wait_for_brokers(&["broker-b"]).await;
    assert_eq!(console.presence.list().iter().map(|b| b.name.as_str()).collect::<Vec<_>>(), ["broker-b"]);

    // The next request goes to broker-b, which saw nothing before.
    let retrieve = tokio::spawn({
        let brokers = brokers.clone();
        async move { brokers.retrieve("Helpdesk", &joe(), "from-b", &session("s-2")).await }
    });
    let asked = recv(&mut b).await.unwrap();
    let ConsoleMessage::Retrieve { request, credential, session: s, .. } = asked else { panic!("{asked:?}") };
    assert_eq!((credential.as_str(), s.id.as_str()), ("from-b", "s-2"));
    send(
        &mut b,
        &BrokerMessage::Retrieved {
            request,
            release: release(),
            username: "helpdesk-01".into(),
            domain: None,
            secret: broker::Secret::new(PLANTED),
        },
    )
    .await;
    let (credential, handle) = retrieve.await.unwrap().unwrap();
    assert_eq!((credential.username(), handle), ("helpdesk-01", release()));
    b.close(None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_come_in_any_order() {
    let console = Console::start(settings(5_000, 20_000)).await;
    let mut a = console.registered("broker-a").await;
    let brokers = console.registry.brokers();
    let first = tokio::spawn({
        let brokers = brokers.clone();
        async move { brokers.search("Helpdesk", &joe(), &app01()).await }
    });
    let one = recv(&mut a).await.unwrap();
    let second = tokio::spawn({
        let brokers = brokers.clone();
        async move { brokers.session_ended("Helpdesk", &release(), &session("s-9")).await }
    });
    let two = recv(&mut a).await.unwrap();
    assert!(
        matches!(&two, ConsoleMessage::SessionEnded { release: r, session: s, .. } if *r == release() && s.id == "s-9")
    );
    assert_ne!(number(&one), number(&two));
    send(&mut a, &BrokerMessage::CheckedIn { request: number(&two) }).await;
    second.await.unwrap().unwrap();
    send(&mut a, &BrokerMessage::SearchResult { request: number(&one), credentials: vec![] }).await;
    assert_eq!(first.await.unwrap().unwrap(), vec![], "an empty list is a valid answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sixth_broker_is_refused_until_one_leaves() {
    let console = Console::start(settings(5_000, 20_000)).await;
    let mut five = Vec::new();
    for i in 1..=5 {
        five.push(console.registered(&format!("broker-{i}")).await);
    }
    let (mut sixth, answer) = console.register(HELPDESK, "broker-6", "Helpdesk").await;
    match answer {
        ConsoleMessage::Refused { reason } => {
            assert!(reason.starts_with("PCE012: 5 brokers are already connected"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let frame = closed(&mut sixth).await.expect("a close frame");
    assert_eq!((u16::from(frame.code), frame.reason.as_str()), (1008, "PCE012"));
    assert_eq!(console.registry.list().len(), 5);
    drop(five.remove(0));
    console.wait_for_brokers(&["broker-2", "broker-3", "broker-4", "broker-5"]).await;
    let _sixth = console.registered("broker-6").await;
    console.wait_for_brokers(&["broker-2", "broker-3", "broker-4", "broker-5", "broker-6"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upgrade_needs_a_token_of_an_ecm_account() {
    let console = Console::start(settings(5_000, 20_000)).await;
    for (token, status, code) in
        [(None, 401, "PCE001"), (Some("tok-unknown"), 401, "PCE001"), (Some(NO_ECM), 403, "PCE002")]
    {
        let Err(tokio_tungstenite::tungstenite::Error::Http(resp)) = console.connect(token).await else {
            panic!("{token:?} was let in");
        };
        assert_eq!(resp.status().as_u16(), status, "{token:?}");
        let body: serde_json::Value =
            serde_json::from_slice(resp.body().as_deref().unwrap_or_default()).unwrap();
        assert_eq!(body["code"], code, "{token:?}: {body}");
        assert!(body["message"].as_str().unwrap().starts_with(code), "{body}");
        if status == 401 {
            assert!(resp.headers().get("www-authenticate").is_some());
        }
    }
    assert!(console.registry.list().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_broker_of_an_account_without_ecm_is_refused_and_says_why() {
    let logs = capture_logs();
    let console = Console::start(settings(1000, 20_000)).await;
    let (b, channel) = idle_broker(&console, COMMAND_CLIENT_ID, COMMAND_CLIENT_SECRET);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(broker::channel::run(b, channel, async {
        let _ = stopped.await;
    }));
    // The broker logs its PCB080 with the console's coded sentence; the console its refusal.
    wait_for_log(&logs, r#"the channel endpoint answered HTTP 403: PCE002: API account "command-only""#)
        .await;
    assert!(logs.text().contains("broker channel refused"), "{}", logs.text());
    assert!(console.registry.list().is_empty() && console.presence.list().is_empty());
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running).await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_are_refused_with_a_reason() {
    let console = Console::start(settings(5_000, 20_000)).await;
    let wrong_version = BrokerMessage::Register {
        name: "b".into(),
        version: "9.0.0".into(),
        ecm_group: "Helpdesk".into(),
        protocol: 2,
    };
    let cases = [
        (register("b", "Servers"), "PCE011", "serves ECM group \"Helpdesk\", not \"Servers\""),
        (wrong_version, "PCE010", "protocol version 2, this console speaks version 1"),
        (register(" ", "Helpdesk"), "PCE013", "name"),
        (register("b\u{1b}[31m", "Helpdesk"), "PCE013", "name"),
        (BrokerMessage::KeepAlive { seq: 1 }, "PCE020", "not a registration"),
    ];
    for (first, code, says) in cases {
        let mut ws = console.connect(Some(HELPDESK)).await.unwrap();
        send(&mut ws, &first).await;
        match recv(&mut ws).await {
            Some(ConsoleMessage::Refused { reason }) => {
                assert!(reason.starts_with(code) && reason.contains(says), "{first:?}: {reason}");
            }
            other => panic!("{first:?}: {other:?}"),
        }
        assert_eq!(closed(&mut ws).await.map(|f| f.reason.to_string()), Some(code.to_string()));
    }
    // A registration of a later version this one cannot read is still told apart.
    let mut ws = console.connect(Some(HELPDESK)).await.unwrap();
    ws.send(Message::text(r#"{"type":"register","protocol":3,"identity":{"name":"b"}}"#)).await.unwrap();
    assert!(
        matches!(recv(&mut ws).await, Some(ConsoleMessage::Refused { reason }) if reason.starts_with("PCE010"))
    );
    let mut ws = console.connect(Some(HELPDESK)).await.unwrap();
    ws.send(Message::text("{\"type\":\"register\",\"name\":")).await.unwrap();
    assert!(
        matches!(recv(&mut ws).await, Some(ConsoleMessage::Refused { reason }) if reason.starts_with("PCE020"))
    );
    assert!(console.registry.list().is_empty());
    // An account with no group set serves "Default".
    let (_ws, answer) = console.register(DEFAULT, "b", "Default").await;
    assert!(matches!(answer, ConsoleMessage::Registered { .. }), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alives_are_acknowledged_and_a_silent_broker_is_dropped() {
    let console = Console::start(settings(200, 20_000)).await;
    let mut ws = console.registered("quiet").await;
    send(&mut ws, &BrokerMessage::KeepAlive { seq: 7 }).await;
    assert!(matches!(recv(&mut ws).await, Some(ConsoleMessage::KeepAliveAck { seq: 7 })));
    // Then nothing: after three intervals the console drops it.
    let frame = closed(&mut ws).await.expect("a close frame");
    assert_eq!(frame.reason.as_str(), "PCE021");
    console.wait_for_brokers(&[]).await;
    assert!(console.presence.list().is_empty());

    // A broker that never registers is closed too.
    let mut mute = console.connect(Some(HELPDESK)).await.unwrap();
    assert!(
        matches!(recv(&mut mute).await, Some(ConsoleMessage::Refused { reason }) if reason.starts_with("PCE020"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_breaks_the_protocol_is_dropped_and_its_requests_fail() {
    let console = Console::start(settings(5_000, 20_000)).await;
    let brokers = console.registry.brokers();
    for (frame, code) in [
        (Message::binary(vec![1, 2, 3]), 1003),
        (Message::text("not json"), 1002),
        (Message::text(broker::protocol::encode(&register("again", "Helpdesk"))), 1002),
    ] {
        let mut ws = console.registered("rogue").await;
        let pending = tokio::spawn({
            let brokers = brokers.clone();
            async move { brokers.search("Helpdesk", &joe(), &app01()).await }
        });
        assert!(matches!(recv(&mut ws).await, Some(ConsoleMessage::Search { .. })));
        ws.send(frame).await.unwrap();
        let close = closed(&mut ws).await.expect("a close frame");
        assert_eq!((u16::from(close.code), close.reason.as_str()), (code, "PCE020"));
        assert_eq!(pending.await.unwrap().unwrap_err().code(), "PCE031");
        console.wait_for_brokers(&[]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_account_loses_its_broker_at_the_next_keep_alive() {
    let console = Console::start(settings(5_000, 20_000)).await;
    let mut ws = console.registered("b").await;
    console.auth.revoke("acc-1");
    send(&mut ws, &BrokerMessage::KeepAlive { seq: 1 }).await;
    assert!(matches!(recv(&mut ws).await, Some(ConsoleMessage::KeepAliveAck { seq: 1 })));
    assert_eq!(closed(&mut ws).await.map(|f| f.reason.to_string()).as_deref(), Some("PCE022"));
    console.wait_for_brokers(&[]).await;
    assert!(console.connect(Some(HELPDESK)).await.is_err(), "its token no longer opens the channel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_timeouts_and_a_late_release_checked_in() {
    let console = Console::start(settings(5_000, 500)).await;
    let brokers = console.registry.brokers();
    let e = brokers.search("Servers", &joe(), &app01()).await.unwrap_err();
    assert_eq!(e.code(), "PCE030");
    assert!(e.to_string().contains("\"Servers\""), "{e}");

    let mut ws = console.registered("slow").await;
    // The broker's own failure, with its code.
    let search = tokio::spawn({
        let brokers = brokers.clone();
        async move { brokers.search("Helpdesk", &joe(), &app01()).await }
    });
    let asked = recv(&mut ws).await.unwrap();
    let error = WireError {
        code: "PCB060".into(),
        class: broker::Class::NoMatch,
        message: "no such credential".into(),
    };
    send(&mut ws, &BrokerMessage::Failed { request: number(&asked), error }).await;
    let e = search.await.unwrap().unwrap_err();
    assert_eq!(e.code(), "PCE033");
    assert!(e.to_string().contains("PCB060") && e.to_string().contains("no-match"), "{e}");

    // A message that does not answer the request.
    let search = tokio::spawn({
        let brokers = brokers.clone();
        async move { brokers.search("Helpdesk", &joe(), &app01()).await }
    });
    let asked = recv(&mut ws).await.unwrap();
    send(&mut ws, &BrokerMessage::CheckedIn { request: number(&asked) }).await;
    assert_eq!(search.await.unwrap().unwrap_err().code(), "PCE034");

    // No answer in time; the release that comes late is checked in at once.
    let e = {
        let (user, late) = (joe(), session("late-1"));
        let retrieve = brokers.retrieve("Helpdesk", &user, "id-1", &late);
        let (result, asked) = tokio::join!(retrieve, recv(&mut ws));
        let asked = asked.unwrap();
        assert!(matches!(&asked, ConsoleMessage::Retrieve { .. }));
        let e = result.map(|_| ()).unwrap_err();
        send(
            &mut ws,
            &BrokerMessage::Retrieved {
                request: number(&asked),
                release: release(),
                username: "helpdesk-01".into(),
                domain: None,
                secret: broker::Secret::new(PLANTED),
            },
        )
        .await;
        e
    };
    assert_eq!(e.code(), "PCE032", "{e}");
    match recv(&mut ws).await.unwrap() {
        ConsoleMessage::SessionEnded { request, release: r, session: s } => {
            assert_eq!((r, s.id.as_str()), (release(), "late-1"));
            send(&mut ws, &BrokerMessage::CheckedIn { request }).await;
        }
        other => panic!("{other:?}"),
    }
    // The channel is still in order.
    send(&mut ws, &BrokerMessage::KeepAlive { seq: 3 }).await;
    assert!(matches!(recv(&mut ws).await, Some(ConsoleMessage::KeepAliveAck { seq: 3 })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_password_is_in_no_log_line_and_no_debug_output() {
    let logs = capture_logs();
    let console = Console::start(settings(5_000, 20_000)).await;
    let mut ws = console.registered("b").await;
    let brokers = console.registry.brokers();
    let retrieved = |request| BrokerMessage::Retrieved {
        request,
        release: release(),
        username: "helpdesk-01".into(),
        domain: Some("acme.test".into()),
        secret: broker::Secret::new(PLANTED),
    };
    let retrieve = tokio::spawn({
        let brokers = brokers.clone();
        async move { brokers.retrieve("Helpdesk", &joe(), "id-1", &session("s-1")).await }
    });
    let asked = recv(&mut ws).await.unwrap();
    send(&mut ws, &retrieved(number(&asked))).await;
    let (credential, handle) = retrieve.await.unwrap().unwrap();
    assert_eq!(credential.username(), "helpdesk-01@acme.test");
    tracing::debug!(?credential, ?handle, "the test logs the credential with Debug");
    // A release sent in answer to a search is refused without showing it.
    let search = tokio::spawn({
        let brokers = brokers.clone();
        async move { brokers.search("Helpdesk", &joe(), &app01()).await }
    });
    let asked = recv(&mut ws).await.unwrap();
    send(&mut ws, &retrieved(number(&asked))).await;
    let e = search.await.unwrap().unwrap_err();
    // A release for a request the console never sent.
    send(&mut ws, &retrieved(999_999)).await;
    ws.send(Message::text(format!("{{\"type\":\"retrieved\",\"secret\":\"{PLANTED}\"}}"))).await.unwrap();
    assert_eq!(closed(&mut ws).await.map(|f| f.reason.to_string()).as_deref(), Some("PCE020"));
    console.wait_for_brokers(&[]).await;

    let shown = format!("{credential:?} {credential:#?} {handle:?} {e:?} {e}");
    assert!(!shown.contains(PLANTED), "{shown}");
    let text = logs.text();
    assert!(text.contains("credential released for a session") && text.contains("broker dropped"), "{text}");
    assert_no_planted(&text);
}

/// The codes of `src/ecm/error.rs`.
fn codes_in_source() -> Vec<&'static str> {
    include_str!("../src/ecm/error.rs")
        .lines()
        .filter_map(|l| l.split("=> \"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

#[test]
fn every_ecm_code_is_documented_in_errors_md_and_every_message_starts_with_it() {
    let in_code = codes_in_source();
    let code_set: BTreeSet<&str> = in_code.iter().copied().collect();
    assert!(in_code.len() >= 16 && code_set.len() == in_code.len(), "{in_code:?}");
    let errors_md = include_str!("../ERRORS.md");
    let section =
        errors_md.split("## Broker channel (PCE…)").nth(1).expect("ERRORS.md has the broker channel section");
    // Rows are `| PCE001 | meaning | what to do |`.
    let documented: Vec<&str> =
        section.lines().filter_map(|l| l.strip_prefix("| ")).filter_map(|r| r.split(' ').next()).collect();
    let documented: Vec<&str> = documented.into_iter().filter(|c| c.starts_with("PCE")).collect();
    assert_eq!(
        code_set,
        documented.iter().copied().collect::<BTreeSet<_>>(),
        "error.rs and ERRORS.md disagree"
    );
    assert_eq!(documented.len(), code_set.len(), "a code is documented twice");

    let s = String::from;
    let samples = [
        EcmError::Unauthenticated { reason: s("r") },
        EcmError::NotPermitted { account: s("a") },
        EcmError::AuthUnavailable { detail: s("d") },
        EcmError::ProtocolVersion { theirs: 2, ours: 1 },
        EcmError::WrongGroup { account: s("a"), asked: s("x"), allowed: s("y") },
        EcmError::TooManyBrokers { max: 5 },
        EcmError::BadRegistration { reason: s("r") },
        EcmError::ProtocolViolation { broker: s("b"), reason: s("r") },
        EcmError::Silent { broker: s("b"), seconds: 90 },
        EcmError::Revoked { broker: s("b"), reason: s("r") },
        EcmError::NoBroker { group: s("g") },
        EcmError::BrokerLost { group: s("g"), broker: s("b") },
        EcmError::Timeout { group: s("g"), broker: s("b"), seconds: 45 },
        EcmError::BrokerFailed { code: s("PCB060"), class: s("no-match"), message: s("m") },
        EcmError::BadAnswer { broker: s("b"), reason: s("r") },
        EcmError::PresenceStore { detail: s("d") },
    ];
    assert_eq!(samples.len(), in_code.len(), "a sample per code");
    assert_eq!(samples.iter().map(EcmError::code).collect::<BTreeSet<_>>(), code_set);
    for e in samples {
        assert!(e.to_string().starts_with(&format!("{}: ", e.code())), "{e}");
    }
}

#[test]
fn the_websocket_libraries_never_log_frames_whatever_the_operator_asks() {
    for operator in
        ["trace", "tungstenite=trace", "trace,tungstenite::protocol=trace,tokio_tungstenite::compat=trace"]
    {
        let captured = Captured::default();
        tracing::subscriber::with_default(subscriber(operator, &captured), || {
            tracing::trace!(target: "tungstenite::protocol", "Received message {PLANTED}");
            tracing::trace!(target: "tokio_tungstenite::compat", "{PLANTED}");
            tracing::debug!(target: "tungstenite::protocol", "a debug line stays");
            tracing::trace!(target: "other_crate", "another crate's trace line stays");
            tracing::trace!(target: "tungstenite_like", "a crate whose name only starts alike stays");
        });
        let text = captured.text();
        assert!(!text.contains(PLANTED), "{operator}: {text}");
        assert!(text.contains("a debug line stays"), "{operator}: {text}");
        assert!(text.contains("only starts alike stays"), "{operator}: {text}");
        assert_eq!(
            text.contains("another crate's trace line stays"),
            operator.starts_with("trace"),
            "{operator}: {text}"
        );
    }
}
