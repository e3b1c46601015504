//! What the console application's tests share: the app served on a loopback port over its own
//! SQLite data directory, a browser (cookies, no automatic redirects), scripted or real brokers
//! with ECM API accounts of the console's own tables.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use console::accounts::{CommandAccess, Permissions};
use console::api::ApiSettings;
use console::app::representatives::NewRepresentative;
use console::app::{App, AppConfig, AppSettings};
use console::ecm::EcmSettings;
use console::ConsoleStore;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use zeroize::Zeroizing;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The console on 127.0.0.1, stopped when dropped.
pub struct Served {
    pub db: ConsoleStore,
    pub app: App,
    pub addr: SocketAddr,
    pub base: String,
    pub recordings: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Served {
    /// The app over the data directory `dir` (SQLite, sealed SP keys), with these ECM timings.
    pub async fn start(dir: &Path, ecm: EcmSettings) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        std::fs::create_dir_all(dir).unwrap();
        let store = store::Store::open_data_dir(dir).await.unwrap();
        let master = store::seal::MasterKey::for_data_dir(dir).unwrap();
        let sealer = store::seal::Sealer::for_store(&store, &master).await.unwrap();
        let db = ConsoleStore::open(store).await.unwrap();
        let recordings = dir.join("recordings");
        let app = App::new(AppConfig {
            db: db.clone(),
            sealer: Some(sealer),
            base_url: base.clone(),
            recordings_dir: recordings.clone(),
            clock: Arc::new(console::SystemClock),
            ecm,
            api: ApiSettings::default(),
            settings: AppSettings::default(),
        })
        .await
        .unwrap();
        let router = app
            .router()
            .unwrap()
            .merge(web::page::assets())
            .layer(web::headers::SecurityHeadersLayer::for_base_url(&base));
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Served { db, app, addr, base, recordings, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A local representative with these policies.
    pub async fn representative(&self, username: &str, password: &str, policies: &[&str]) {
        self.db
            .create_representative(&NewRepresentative {
                username: username.into(),
                display_name: None,
                policies: policies.iter().map(|p| p.to_string()).collect(),
                password: Zeroizing::new(password.into()),
            })
            .await
            .unwrap();
    }

    /// An API account with the ECM permission for `group` (none: Default), and a token of it.
    pub async fn ecm_token(&self, name: &str, group: Option<&str>, ecm: bool) -> (String, String, String) {
        let p = Permissions {
            command_api: CommandAccess::None,
            reporting_api: false,
            ecm_api: ecm,
            ecm_group: group.map(String::from),
        };
        let issued = self.db.create_api_account(name, &p).await.unwrap();
        let token = self
            .db
            .issue_token(&issued.account.client_id, &issued.client_secret, Duration::from_secs(3600))
            .await
            .unwrap();
        (token.access_token.to_string(), issued.account.client_id.clone(), issued.client_secret.to_string())
    }

    /// Waits (at most 20 s) until `n` brokers are registered.
    pub async fn wait_for_brokers(&self, n: usize) {
        let wait = async {
            while self.app.registry().list().len() != n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), wait).await.expect("the brokers register");
    }
}

/// A browser: a cookie jar, redirects not followed (the tests look at each).
pub struct Browser {
    pub http: reqwest::Client,
    jar: Arc<reqwest::cookie::Jar>,
}

impl Browser {
    pub fn new() -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser { http, jar }
    }

    /// The `Cookie` header this browser sends to `url` (for its WebSocket handshakes).
    pub fn cookies(&self, url: &str) -> Option<String> {
        use reqwest::cookie::CookieStore as _;
        self.jar.cookies(&url.parse().unwrap()).map(|v| v.to_str().unwrap().to_owned())
    }

    /// Opens the terminal WebSocket at `path` as the page does: same Origin, the cookies.
    pub async fn terminal(&self, served: &Served, path: &str) -> Socket {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://{}{path}", served.addr).into_client_request().unwrap();
        request.headers_mut().insert("origin", served.base.parse().unwrap());
        if let Some(c) = self.cookies(&served.base) {
            request.headers_mut().insert("cookie", c.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request).await.expect("the terminal's WebSocket opens").0
    }

    pub async fn get(&self, url: &str) -> (StatusCode, Option<String>, String) {
        let r = self.http.get(url).send().await.unwrap();
        let location = r.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_owned());
        (r.status(), location, r.text().await.unwrap())
    }

    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> (StatusCode, Option<String>, String) {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let r = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let location = r.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_owned());
        (r.status(), location, r.text().await.unwrap())
    }

    /// Signs in on the local form; the status and where it sends the browser.
    pub async fn sign_in(
        &self,
        served: &Served,
        username: &str,
        password: &str,
    ) -> (StatusCode, Option<String>) {
        let (status, _, page) = self.get(&served.url("/console/sign-in")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let csrf = hidden(&page, "csrf").expect("the sign-in form's CSRF field");
        let (status, location, _) = self
            .post(
                &served.url("/console/sign-in"),
                &[("csrf", &csrf), ("username", username), ("password", password)],
            )
            .await;
        (status, location)
    }
}

/// The value of the first `<input … name="NAME" value="…">` of a page (askama escapes values).
pub fn hidden(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &page[at + name.len() + 15..];
    let end = rest.find('"')?;
    Some(unescape(&rest[..end]))
}

/// Every value of the `<input name="NAME">` fields of a page, in order.
pub fn hidden_all(page: &str, name: &str) -> Vec<String> {
    let needle = format!("name=\"{name}\" value=\"");
    page.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &page[at + needle.len()..];
            rest.find('"').map(|end| unescape(&rest[..end]))
        })
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&#92;", "\\")
        .replace("&#x5c;", "\\")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
