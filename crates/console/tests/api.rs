//! The console's APIs over real HTTP (the router on a loopback listener, reqwest as the client):
//! the client-credentials token flow with HTTP Basic and body credentials, every RFC 6749 §5.2
//! error, the tokens' life (expiry on an injected clock, a disabled account, a rotated secret),
//! 401 and 403 with coded errors, the Command API's jump items and the Reporting API's reports
//! and recordings.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use console::accounts::{CommandAccess, IssuedSecret, Permissions};
use console::api::{router, ApiSettings};
use console::db::{EventKind, NewSession};
use console::items::NewJumpItem;
use console::{Clock, ConsoleStore};
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, LOCATION, PRAGMA, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use store::Store;

#[derive(Default)]
struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn unix_seconds(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
    fn monotonic(&self) -> Duration {
        Duration::ZERO
    }
}

struct Console {
    db: ConsoleStore,
    clock: Arc<TestClock>,
    base: String,
    http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Console {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

impl Console {
    async fn start(store: Store) -> Console {
        let clock = Arc::new(TestClock(AtomicI64::new(1_800_000_000)));
        let db = ConsoleStore::open(store).await.unwrap().with_clock(clock.clone());
        let app: axum::Router = router(db.clone(), ApiSettings::default()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Console { db, clock, base: format!("http://{addr}"), http, task }
    }

    async fn account(&self, name: &str, command: CommandAccess, reporting: bool) -> IssuedSecret {
        let p =
            Permissions { command_api: command, reporting_api: reporting, ecm_api: false, ecm_group: None };
        self.db.create_api_account(name, &p).await.unwrap()
    }

    /// POST /oauth2/token with this body (form-encoded pairs) and optional HTTP Basic.
    async fn token_request(&self, pairs: &[(&str, &str)], basic: Option<(&str, &str)>) -> reqwest::Response {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let mut req =
            self.http.post(format!("{}/oauth2/token", self.base)).header(CONTENT_TYPE, FORM).body(body);
        if let Some((id, secret)) = basic {
            req = req.header(AUTHORIZATION, basic_header(id, secret));
        }
        req.send().await.unwrap()
    }

    async fn token(&self, issued: &IssuedSecret) -> String {
        let r = self
            .token_request(
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &issued.account.client_id),
                    ("client_secret", &issued.client_secret),
                ],
                None,
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json_text().await;
        v["access_token"].as_str().unwrap().to_owned()
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header(AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req.header(CONTENT_TYPE, "application/json").body(b.to_string());
        }
        req.send().await.unwrap()
    }

    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        self.call(reqwest::Method::GET, path, token, None).await
    }
}

/// RFC 6749 §2.3.1: each part form-urlencoded, then `id:secret` in base64.
fn basic_header(id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

trait JsonText {
    async fn json_text(self) -> Value;
}

impl JsonText for reqwest::Response {
    async fn json_text(self) -> Value {
        let text = self.text().await.unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

/// A §5.2 error answer: status, `error`, a coded description, no-store.
async fn oauth_error(
    r: reqwest::Response,
    status: StatusCode,
    error: &str,
    code: &str,
) -> reqwest::header::HeaderMap {
    assert_eq!(r.status(), status, "{error}");
    let headers = r.headers().clone();
    assert_eq!(headers[CACHE_CONTROL], "no-store");
    let v = r.json_text().await;
    assert_eq!(v["error"], error, "{v}");
    let description = v["error_description"].as_str().unwrap();
    assert!(description.starts_with(&format!("{code}: ")), "{description}");
    assert!(
        description.chars().all(|c| c == ' ' || (c.is_ascii_graphic() && c != '"' && c != '\\')),
        "{description}"
    );
    headers
}

/// A coded API error.
async fn api_error(r: reqwest::Response, status: StatusCode, code: &str) {
    assert_eq!(r.status(), status, "{code}");
    if status == StatusCode::UNAUTHORIZED {
        assert!(r.headers()[WWW_AUTHENTICATE].to_str().unwrap().starts_with("Bearer"));
    }
    let v = r.json_text().await;
    assert_eq!(v["code"], code, "{v}");
    assert!(v["message"].as_str().unwrap().starts_with(code));
}

async fn the_token_flow_with_basic_and_body_credentials(store: Store) {
    let c = Console::start(store).await;
    let a = c.account("Reader", CommandAccess::Read, false).await;
    let (id, secret) = (a.account.client_id.as_str(), a.client_secret.as_str());

    let r = c.token_request(&[("grant_type", "client_credentials")], Some((id, secret))).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(r.headers()[PRAGMA], "no-cache");
    assert!(r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    let v = r.json_text().await;
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    let basic_token = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(c.get("/console/api/command/jump-items", Some(&basic_token)).await.status(), StatusCode::OK);

    // Body credentials; the same client_id beside Basic is allowed; an empty scope is no scope.
    let body_token = c.token(&a).await;
    assert_ne!(body_token, basic_token);
    assert_eq!(c.get("/console/api/command/jump-items", Some(&body_token)).await.status(), StatusCode::OK);
    let r = c
        .token_request(
            &[("grant_type", "client_credentials"), ("client_id", id), ("scope", "")],
            Some((id, secret)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // A content type with parameters is still a form.
    let r = c
        .http
        .post(format!("{}/oauth2/token", c.base))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded; charset=UTF-8")
        .header(AUTHORIZATION, basic_header(id, secret))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // GET is not the token endpoint's method.
    assert_eq!(c.get("/oauth2/token", None).await.status(), StatusCode::METHOD_NOT_ALLOWED);
}

async fn every_token_error_of_rfc_6749_section_5_2(store: Store) {
    let c = Console::start(store).await;
    let a = c.account("Reader", CommandAccess::Read, false).await;
    let (id, secret) = (a.account.client_id.as_str(), a.client_secret.as_str());
    let grant = ("grant_type", "client_credentials");
    let bad = StatusCode::BAD_REQUEST;

    // invalid_request
    let r = c
        .http
        .post(format!("{}/oauth2/token", c.base))
        .header(CONTENT_TYPE, "application/json")
        .header(AUTHORIZATION, basic_header(id, secret))
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .unwrap();
    oauth_error(r, bad, "invalid_request", "PCC050").await;
    let r = c.token_request(&[grant, grant], Some((id, secret))).await;
    oauth_error(r, bad, "invalid_request", "PCC050").await;
    let r = c.token_request(&[("client_id", id), ("client_secret", secret)], None).await;
    oauth_error(r, bad, "invalid_request", "PCC050").await;
    let r = c.token_request(&[grant, ("client_secret", secret)], Some((id, secret))).await;
    oauth_error(r, bad, "invalid_request", "PCC050").await;
    let r = c.token_request(&[grant, ("client_id", "someone-else")], Some((id, secret))).await;
    oauth_error(r, bad, "invalid_request", "PCC050").await;

    // unsupported_grant_type and invalid_scope
    let r = c.token_request(&[("grant_type", "password"), ("username", "u")], Some((id, secret))).await;
    oauth_error(r, bad, "unsupported_grant_type", "PCC052").await;
    let r = c.token_request(&[("grant_type", "a\"b\\c\u{e9}")], Some((id, secret))).await;
    oauth_error(r, bad, "unsupported_grant_type", "PCC052").await;
    let r = c.token_request(&[grant, ("scope", "admin")], Some((id, secret))).await;
    oauth_error(r, bad, "invalid_scope", "PCC053").await;

    // invalid_client: 401 with a Basic challenge, whichever way the client authenticated.
    let unauthorized = StatusCode::UNAUTHORIZED;
    type Case<'a> = (Vec<(&'a str, &'a str)>, Option<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (vec![grant], Some((id, "wrong-secret"))),
        (vec![grant], Some(("unknown-client", secret))),
        (vec![grant, ("client_id", id), ("client_secret", "wrong-secret")], None),
        (vec![grant, ("client_id", id)], None),
        (vec![grant], None),
    ];
    for (pairs, basic) in cases {
        let h =
            oauth_error(c.token_request(&pairs, basic).await, unauthorized, "invalid_client", "PCC051").await;
        assert!(h[WWW_AUTHENTICATE].to_str().unwrap().starts_with("Basic"), "{pairs:?}");
    }
    let r = c
        .http
        .post(format!("{}/oauth2/token", c.base))
        .header(CONTENT_TYPE, FORM)
        .header(AUTHORIZATION, "Basic not-base64!")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    oauth_error(r, unauthorized, "invalid_client", "PCC051").await;
    c.db.set_api_account_enabled(id, false).await.unwrap();
    let r = c.token_request(&[grant], Some((id, secret))).await;
    oauth_error(r, unauthorized, "invalid_client", "PCC051").await;
}

async fn tokens_expire_and_die_with_a_disabled_account_or_a_rotated_secret(store: Store) {
    let c = Console::start(store).await;
    let a = c.account("Reader", CommandAccess::Read, false).await;
    let path = "/console/api/command/jump-items";

    let t = c.token(&a).await;
    c.clock.0.fetch_add(3599, Ordering::SeqCst);
    assert_eq!(c.get(path, Some(&t)).await.status(), StatusCode::OK);
    c.clock.0.fetch_add(1, Ordering::SeqCst);
    api_error(c.get(path, Some(&t)).await, StatusCode::UNAUTHORIZED, "PCC054").await;

    let t = c.token(&a).await;
    c.db.set_api_account_enabled(&a.account.id, false).await.unwrap();
    api_error(c.get(path, Some(&t)).await, StatusCode::UNAUTHORIZED, "PCC054").await;
    c.db.set_api_account_enabled(&a.account.id, true).await.unwrap();
    api_error(c.get(path, Some(&t)).await, StatusCode::UNAUTHORIZED, "PCC054").await;

    let t = c.token(&a).await;
    let rotated = c.db.rotate_api_account_secret(&a.account.id).await.unwrap();
    api_error(c.get(path, Some(&t)).await, StatusCode::UNAUTHORIZED, "PCC054").await;
    let r = c
        .token_request(
            &[("grant_type", "client_credentials")],
            Some((&a.account.client_id, &a.client_secret)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let t = c.token(&rotated).await;
    assert_eq!(c.get(path, Some(&t)).await.status(), StatusCode::OK);

    // No token, a malformed header, an unknown token.
    api_error(c.get(path, None).await, StatusCode::UNAUTHORIZED, "PCC054").await;
    api_error(c.get(path, Some("made-up")).await, StatusCode::UNAUTHORIZED, "PCC054").await;
    let r = c
        .http
        .get(format!("{}{path}", c.base))
        .header(AUTHORIZATION, format!("Basic {t}"))
        .send()
        .await
        .unwrap();
    api_error(r, StatusCode::UNAUTHORIZED, "PCC054").await;
}

async fn calls_without_the_permission_are_forbidden(store: Store) {
    let c = Console::start(store).await;
    let none = c.token(&c.account("Nothing", CommandAccess::None, false).await).await;
    let reader = c.token(&c.account("Reader", CommandAccess::Read, false).await).await;
    let reporter = c.token(&c.account("Reporter", CommandAccess::None, true).await).await;
    let item = c.db.create_jump_item(&NewJumpItem::ssh("web-01", "10.0.0.5")).await.unwrap();
    let forbidden = StatusCode::FORBIDDEN;

    api_error(c.get("/console/api/command/jump-items", Some(&none)).await, forbidden, "PCC055").await;
    api_error(c.get("/console/api/command/sessions", Some(&reporter)).await, forbidden, "PCC055").await;
    let create = json!({"name": "x", "type": "ssh", "host": "h"});
    let r =
        c.call(reqwest::Method::POST, "/console/api/command/jump-items", Some(&reader), Some(create)).await;
    api_error(r, forbidden, "PCC055").await;
    let path = format!("/console/api/command/jump-items/{}", item.id);
    api_error(c.call(reqwest::Method::DELETE, &path, Some(&reader), None).await, forbidden, "PCC055").await;
    let r = c.call(reqwest::Method::PATCH, &path, Some(&reader), Some(json!({"name": "y"}))).await;
    api_error(r, forbidden, "PCC055").await;
    api_error(c.get("/console/api/reporting/sessions", Some(&reader)).await, forbidden, "PCC055").await;
    assert_eq!(c.get("/console/api/reporting/sessions", Some(&reporter)).await.status(), StatusCode::OK);
    assert_eq!(c.db.jump_item(&item.id).await.unwrap().name, "web-01", "nothing changed");
}

async fn the_command_api_manages_jump_items(store: Store) {
    let c = Console::start(store).await;
    let t = c.token(&c.account("Admin", CommandAccess::Full, false).await).await;
    let items = "/console/api/command/jump-items";

    let create = json!({"name": "web-01", "type": "ssh", "host": "10.0.0.5", "port": 2222, "jump_group": "Linux", "tag": "prod"});
    let r = c.call(reqwest::Method::POST, items, Some(&t), Some(create.clone())).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()[LOCATION].to_str().unwrap().to_owned();
    let v = r.json_text().await;
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("{items}/{id}"));
    assert_eq!(
        (v["port"].as_i64(), v["jump_group"].as_str(), v["type"].as_str()),
        (Some(2222), Some("Linux"), Some("ssh"))
    );
    api_error(
        c.call(reqwest::Method::POST, items, Some(&t), Some(create)).await,
        StatusCode::CONFLICT,
        "PCC042",
    )
    .await;
    let web = json!({"name": "intranet", "type": "web", "url": "https://intranet.example/"});
    assert_eq!(c.call(reqwest::Method::POST, items, Some(&t), Some(web)).await.status(), StatusCode::CREATED);
    for bad in [
        json!({"name": "x", "type": "ssh"}),
        json!({"name": "x", "type": "rdp", "host": "h"}),
        json!({"name": "x", "type": "ssh", "host": "h", "password": "p"}),
        json!({"name": "x", "type": "ssh", "host": "h", "port": 70000}),
    ] {
        api_error(
            c.call(reqwest::Method::POST, items, Some(&t), Some(bad)).await,
            StatusCode::BAD_REQUEST,
            "PCC043",
        )
        .await;
    }

    let v = c.get(items, Some(&t)).await.json_text().await;
    let names: Vec<&str> =
        v["jump_items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["intranet", "web-01"]);
    let path = format!("{items}/{id}");
    assert_eq!(c.get(&path, Some(&t)).await.json_text().await["host"], "10.0.0.5");
    assert_eq!(c.get(&format!("{items}/web-01"), Some(&t)).await.json_text().await["id"], id.as_str());

    let r =
        c.call(reqwest::Method::PATCH, &path, Some(&t), Some(json!({"host": "10.0.0.6", "tag": null}))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v = r.json_text().await;
    assert_eq!(
        (v["host"].as_str(), v["tag"].is_null(), v["port"].as_i64()),
        (Some("10.0.0.6"), true, Some(2222))
    );

    let groups = c.get("/console/api/command/jump-groups", Some(&t)).await.json_text().await;
    assert_eq!(groups["jump_groups"].as_array().unwrap().len(), 2);

    let r = c.call(reqwest::Method::DELETE, &path, Some(&t), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    api_error(c.get(&path, Some(&t)).await, StatusCode::NOT_FOUND, "PCC041").await;
    api_error(c.get("/console/api/command/nothing-here", Some(&t)).await, StatusCode::NOT_FOUND, "PCC041")
        .await;

    let sessions = c.get("/console/api/command/sessions?limit=5", Some(&t)).await.json_text().await;
    assert_eq!(sessions["sessions"], json!([]));
    api_error(
        c.get("/console/api/command/sessions?limit=0", Some(&t)).await,
        StatusCode::BAD_REQUEST,
        "PCC043",
    )
    .await;
    api_error(
        c.get("/console/api/command/sessions?since=x", Some(&t)).await,
        StatusCode::BAD_REQUEST,
        "PCC043",
    )
    .await;
}

async fn the_reporting_api_serves_reports_and_recordings(store: Store) {
    let c = Console::start(store).await;
    let t = c.token(&c.account("Auditor", CommandAccess::None, true).await).await;
    c.db.create_jump_item(&NewJumpItem::ssh("web-01", "10.0.0.5")).await.unwrap();
    let s =
        c.db.start_session(&NewSession { representative: "joe.user".into(), jump_item: "web-01".into() })
            .await
            .unwrap();
    c.db.session_credential(&s.id, r"App01\helpdesk-01", Some(42), Some("ann")).await.unwrap();
    c.db.session_event(&s.id, EventKind::CredentialInjected, "password login").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cast = dir.path().join("s.cast");
    let recording = "{\"version\":2,\"width\":80,\"height\":24,\"timestamp\":1800000000}\n[0.5,\"o\",\"helpdesk-01\\r\\n\"]\n";
    std::fs::write(&cast, recording).unwrap();
    c.db.session_recording(&s.id, cast.to_str().unwrap()).await.unwrap();
    c.clock.0.fetch_add(30, Ordering::SeqCst);
    c.db.end_session(&s.id, "closed").await.unwrap();
    let unrecorded =
        c.db.start_session(&NewSession { representative: "ann".into(), jump_item: "web-01".into() })
            .await
            .unwrap();

    let list = c.get("/console/api/reporting/sessions", Some(&t)).await.json_text().await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 2);
    let v = c.get(&format!("/console/api/reporting/sessions/{}", s.id), Some(&t)).await.json_text().await;
    assert_eq!(v["representative"], "joe.user");
    assert_eq!(v["jump_item"]["name"], "web-01");
    assert_eq!(v["credential_display_name"], r"App01\helpdesk-01");
    assert_eq!((v["vault_request_id"].as_i64(), v["approver"].as_str()), (Some(42), Some("ann")));
    assert_eq!(v["start_time"], "2027-01-15T08:00:00Z");
    assert_eq!(v["end_time"], "2027-01-15T08:00:30Z");
    let codes: Vec<&str> =
        v["events"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["session.started", "credential.released", "credential.injected", "session.ended"]);
    let link = v["recording"].as_str().unwrap();

    let r = c.get(link, Some(&t)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/x-asciicast");
    assert_eq!(r.text().await.unwrap(), recording);
    let none = format!("/console/api/reporting/sessions/{}/recording", unrecorded.id);
    api_error(c.get(&none, Some(&t)).await, StatusCode::NOT_FOUND, "PCC041").await;
    api_error(c.get("/console/api/reporting/sessions/nope", Some(&t)).await, StatusCode::NOT_FOUND, "PCC030")
        .await;
    std::fs::remove_file(&cast).unwrap();
    api_error(c.get(link, Some(&t)).await, StatusCode::NOT_FOUND, "PCC041").await;
}

#[tokio::test]
async fn the_token_lifetime_is_bounded() {
    let db = store::testkit::sqlite().await;
    let console = ConsoleStore::open(db.store.clone()).await.unwrap();
    for secs in [0, 59, 86_401] {
        let e =
            router::<()>(console.clone(), ApiSettings { token_ttl: Duration::from_secs(secs) }).unwrap_err();
        assert_eq!(e.code(), "PCC043");
    }
    let _accepted: axum::Router =
        router(console, ApiSettings { token_ttl: Duration::from_secs(600) }).unwrap();
}

store::on_both_backends!(
    the_token_flow_with_basic_and_body_credentials,
    every_token_error_of_rfc_6749_section_5_2,
    tokens_expire_and_die_with_a_disabled_account_or_a_rotated_secret,
    calls_without_the_permission_are_forbidden,
    the_command_api_manages_jump_items,
    the_reporting_api_serves_reports_and_recordings,
);
