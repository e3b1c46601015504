//! The console application in process over real HTTP: a local representative signs in, sees
//! the jump items their policies allow, is offered the credentials a (scripted) broker gives for
//! one, picks one and gets a session row and its terminal; the broker channel authenticates
//! against the console's own API accounts and lists brokers in `console_brokers`.

mod app_support;
#[path = "ecm_support/mod.rs"]
mod ecm_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use app_support::{hidden, hidden_all, Browser, Served};
use broker::protocol::{BrokerMessage, ConsoleMessage, Credential as Wire};
use console::ecm::EcmSettings;
use console::items::NewJumpItem;
use ecm_support::{recv, register, send, Socket};
use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const OFFER_ID: &str = r"joe.user\3124\App01\helpdesk-01";
const OFFER_NAME: &str = r"App01\helpdesk-01";

async fn connect_broker(
    served: &Served,
    token: &str,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = format!("ws://{}/console/api/ecm", served.addr).into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.map(|(s, _)| s)
}

/// A scripted broker for the Default group that offers [`OFFER_ID`] to `joe.user` and nothing
/// to anyone else; it records the users it was asked for.
async fn scripted_broker(served: &Served) -> (tokio::task::JoinHandle<()>, Arc<Mutex<Vec<String>>>) {
    let (token, _, _) = served.ecm_token("ecm-default", None, true).await;
    let mut ws = connect_broker(served, &token).await.expect("the channel opens");
    send(&mut ws, &register("scripted", "Default")).await;
    assert!(matches!(recv(&mut ws).await, Some(ConsoleMessage::Registered { .. })));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let task = tokio::spawn(async move {
        while let Some(m) = recv(&mut ws).await {
            if let ConsoleMessage::Search { request, user, item } = m {
                log.lock().unwrap().push(format!("{} {:?}", user.username, item.host));
                let credentials = if user.username == "joe.user" {
                    vec![Wire { id: OFFER_ID.into(), display_name: OFFER_NAME.into() }]
                } else {
                    Vec::new()
                };
                send(&mut ws, &BrokerMessage::SearchResult { request, credentials }).await;
            }
        }
    });
    (task, asked)
}

async fn items(served: &Served) -> (String, String) {
    let web = served
        .db
        .create_jump_item(&NewJumpItem {
            jump_group: Some("Linux".into()),
            ..NewJumpItem::ssh("web-01", "127.0.0.1")
        })
        .await
        .unwrap();
    let db = served
        .db
        .create_jump_item(&NewJumpItem {
            jump_group: Some("Databases".into()),
            ..NewJumpItem::ssh("db-01", "127.0.0.2")
        })
        .await
        .unwrap();
    served.db.set_policy("Helpdesk", &["Linux".into()]).await.unwrap();
    (web.id, db.id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_representative_signs_in_sees_allowed_items_picks_an_offer_and_gets_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(dir.path(), EcmSettings::default()).await;
    let (web_id, db_id) = items(&served).await;
    served.representative("joe.user", "Joe-local-pw-2026", &["Helpdesk"]).await;
    served.representative("ann.other", "Ann-local-pw-2026", &["Helpdesk"]).await;
    let (broker, asked) = scripted_broker(&served).await;
    served.wait_for_brokers(1).await;

    let joe = Browser::new();
    // Signed out: the console sends the browser to its sign-in page.
    let (status, location, _) = joe.get(&served.url("/console/")).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/console/sign-in")));
    // A wrong password, an unknown user and a missing CSRF token are refused.
    assert_eq!(joe.sign_in(&served, "joe.user", "not-the-password").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(joe.sign_in(&served, "nobody", "Joe-local-pw-2026").await.0, StatusCode::UNAUTHORIZED);
    let (status, _, _) = joe
        .post(&served.url("/console/sign-in"), &[("username", "joe.user"), ("password", "Joe-local-pw-2026")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, location) = joe.sign_in(&served, "JOE.USER", "Joe-local-pw-2026").await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/console/")));

    // The items list: what the Helpdesk policy grants (Linux), not the Databases group.
    let (status, _, page) = joe.get(&served.url("/console/")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("web-01") && page.contains(&format!("/console/items/{web_id}")), "{page}");
    assert!(!page.contains("db-01"), "{page}");
    let (status, _, _) = joe.get(&served.url(&format!("/console/items/{db_id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The item's page: the broker's offers by display name.
    let (status, _, page) = joe.get(&served.url(&format!("/console/items/{web_id}"))).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&format!("Log in as {OFFER_NAME}")), "{page}");
    assert_eq!(hidden_all(&page, "credential"), [OFFER_ID]);
    let csrf = hidden(&page, "csrf").unwrap();
    let pick = served.url(&format!("/console/items/{web_id}/sessions"));

    // A pick without the CSRF token, or of a credential the broker did not offer, starts nothing.
    let (status, _, _) = joe.post(&pick, &[("credential", OFFER_ID)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = joe.post(&pick, &[("csrf", &csrf), ("credential", r"joe.user\1\App01\root")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(served.db.sessions(0, i64::MAX, 10).await.unwrap().is_empty());

    let (status, location, _) = joe.post(&pick, &[("csrf", &csrf), ("credential", OFFER_ID)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    let id = location.strip_prefix("/console/sessions/").expect("the terminal's page").to_owned();
    let session = served.db.session(&id).await.unwrap();
    assert_eq!((session.representative.as_str(), session.jump_item_name.as_str()), ("joe.user", "web-01"));
    assert_eq!(session.ended_at, None);
    let events: Vec<_> = served.db.session_events(&id).await.unwrap().into_iter().map(|e| e.code).collect();
    assert_eq!(events, ["session.started", "credential.selected"]);

    // The terminal page is the owner's only.
    let (status, _, page) = joe.get(&served.url(&location)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("web-01") && page.contains(&format!("/console/sessions/{id}/ws")), "{page}");
    let ann = Browser::new();
    assert_eq!(ann.sign_in(&served, "ann.other", "Ann-local-pw-2026").await.0, StatusCode::SEE_OTHER);
    let (status, _, _) = ann.get(&served.url(&location)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Ann is offered nothing by the broker (it maps her to no vault user).
    let (_, _, page) = ann.get(&served.url(&format!("/console/items/{web_id}"))).await;
    assert!(page.contains("No credential is offered to you"), "{page}");

    // The sessions list and the report.
    let (status, _, page) = joe.get(&served.url("/console/reports")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("/console/reports/{id}")), "{page}");
    let (_, _, page) = ann.get(&served.url("/console/reports")).await;
    assert!(!page.contains(&id), "{page}");
    let (status, _, page) = joe.get(&served.url(&format!("/console/reports/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("credential.selected") && page.contains(OFFER_NAME), "{page}");
    let (status, _, _) = ann.get(&served.url(&format!("/console/reports/{id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The status page lists the broker; console_brokers has its row.
    let (_, _, page) = joe.get(&served.url("/console/status")).await;
    assert!(page.contains("scripted") && page.contains("ecm-default"), "{page}");
    let rows = served.db.connected_brokers(Duration::from_secs(30)).await.unwrap();
    assert_eq!(rows.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(), ["scripted"]);

    // Signing out ends the session cookie.
    let (status, location, _) = joe.get(&served.url("/console/sign-out")).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/console/sign-in")));
    let (status, _, _) = joe.get(&served.url("/console/")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    broker.abort();
    let asked = asked.lock().unwrap().clone();
    assert!(asked.len() >= 4, "{asked:?}");
    assert!(asked.iter().all(|a| a.ends_with("\"127.0.0.1\"")), "{asked:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_broker_channel_checks_tokens_against_the_console_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(dir.path(), EcmSettings::default()).await;
    let (no_ecm, _, _) = served.ecm_token("command-only", None, false).await;
    match connect_broker(&served, &no_ecm).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 403),
        other => panic!("an account without ECM opened the channel: {:?}", other.map(|_| ())),
    }
    match connect_broker(&served, "not-a-token").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("a bad token opened the channel: {:?}", other.map(|_| ())),
    }
    let (helpdesk, _, _) = served.ecm_token("ecm-helpdesk", Some("Helpdesk"), true).await;
    let mut ws = connect_broker(&served, &helpdesk).await.unwrap();
    // Its account serves Helpdesk, not Default.
    send(&mut ws, &register("b1", "Default")).await;
    assert!(matches!(recv(&mut ws).await, Some(ConsoleMessage::Refused { .. })));
    let mut ws = connect_broker(&served, &helpdesk).await.unwrap();
    send(&mut ws, &register("b1", "Helpdesk")).await;
    assert!(matches!(recv(&mut ws).await, Some(ConsoleMessage::Registered { .. })));
    served.wait_for_brokers(1).await;
    let rows = served.db.connected_brokers(Duration::from_secs(30)).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].api_account.as_deref(), Some("ecm-helpdesk"));
    drop(ws);
    served.wait_for_brokers(0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_console_clears_the_broker_rows_it_left() {
    let dir = tempfile::tempdir().unwrap();
    {
        let served = Served::start(dir.path(), EcmSettings::default()).await;
        served
            .db
            .broker_connected(&console::db::NewBroker {
                id: "left-1".into(),
                name: "left-behind".into(),
                version: "0.1.0".into(),
                ecm_group: "Default".into(),
                api_account_id: None,
                node: console::app::glue::hostname(),
                connected_at: console::Clock::unix_seconds(&console::SystemClock),
            })
            .await
            .unwrap();
        assert_eq!(served.db.connected_brokers(Duration::from_secs(30)).await.unwrap().len(), 1);
    }
    let served = Served::start(dir.path(), EcmSettings::default()).await;
    assert!(served.db.connected_brokers(Duration::from_secs(30)).await.unwrap().is_empty());
}
