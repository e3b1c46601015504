//! The hostile-response corpus (tests/corpus, the same cases `check-response`
//! runs) through the HTTP ACS: per case, a fresh application and provider
//! configured as the manifest row says, the router served on a real TCP port,
//! the case posted over HTTP as the POST binding carries it (with the
//! browser-binding cookie and RelayState of an outstanding request when the row
//! has one), at the row's instant. Accepted cases must provision the row's
//! NameID and redirect; rejected ones must show the row's code and create no user.

use super::{key_aad, router, Site, BROWSER_COOKIE};
use crate::db::SpDb;
use crate::db::{AttributeNames, PendingRequest, Provider, SpApp, SsoBinding, WantSigned};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use saml::FixedClock;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::seal::{DataKey, Sealer};
use store::Store;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;
use web::token::sha256_hex as hash;

struct Row {
    file: String,
    expect: String,
    detail: String,
    args: Vec<String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn manifest(dir: &Path) -> Vec<Row> {
    std::fs::read_to_string(dir.join("manifest.tsv"))
        .expect("manifest.tsv")
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "manifest line: {line}");
            Row {
                file: f[0].into(),
                expect: f[1].into(),
                detail: f[2].into(),
                args: f[3].split_whitespace().map(String::from).collect(),
            }
        })
        .collect()
}

/// The row's options (the `check-response` flags).
#[derive(Default)]
struct Opts {
    metadata: String,
    entity: String,
    acs: String,
    request: Option<String>,
    now: Option<OffsetDateTime>,
    skew: Option<i64>,
    unsolicited: bool,
    sha1: bool,
    want: Option<WantSigned>,
    key: Option<String>,
}

fn opts(row: &Row) -> Opts {
    let mut o = Opts::default();
    let mut it = row.args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().expect("flag value").clone();
        match flag.as_str() {
            "--idp-metadata" => o.metadata = value(),
            "--sp-entity-id" => o.entity = value(),
            "--acs-url" => o.acs = value(),
            "--request-id" => o.request = Some(value()),
            "--now" => o.now = Some(OffsetDateTime::parse(&value(), &Rfc3339).expect("--now")),
            "--skew-seconds" => o.skew = Some(value().parse().expect("seconds")),
            "--allow-unsolicited" => o.unsolicited = true,
            "--allow-sha1" => o.sha1 = true,
            "--want" => {
                o.want = Some(match value().as_str() {
                    "signed-response" => WantSigned::Response,
                    "signed-assertion" => WantSigned::Assertion,
                    _ => WantSigned::Either,
                })
            }
            "--sp-key" => o.key = Some(value()),
            other => panic!("unknown option {other}"),
        }
    }
    o
}

/// One POST over a fresh TCP connection; returns (status, Location, body).
async fn post(
    addr: std::net::SocketAddr,
    path: &str,
    cookie: &str,
    body: &str,
) -> (u16, Option<String>, String) {
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: sp.example.com\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(req.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let location = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("location")))
        .map(|(_, v)| v.trim().to_string());
    (status, location, body.to_string())
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Runs one case; Err describes a disagreement.
async fn run_case(dir: &Path, row: &Row) -> Result<(), String> {
    let o = opts(row);
    let now = o.now.expect("--now");
    let db = SpDb::open(Store::open("sqlite::memory:").await.expect("db")).await.expect("sp db");
    let sealer = Sealer::new(&DataKey::generate().expect("data key")).expect("sealer");
    let mut app = SpApp {
        id: Uuid::new_v4(),
        name: "corpus".into(),
        base_url: "https://sp.example.com".into(),
        entity_id: Some(o.entity.clone()),
        acs_url: Some(o.acs.clone()),
        signing_key_sealed: None,
        signing_cert: None,
        encryption_key_sealed: None,
        encryption_cert: None,
        created_at: 0,
    };
    if let Some(key) = &o.key {
        let pem = std::fs::read(dir.join(key)).expect("sp key");
        let der = saml::crypto::SigningKey::load(&pem).expect("sp key loads");
        app.encryption_key_sealed =
            Some(sealer.seal(key_aad(app.id, "encryption").as_bytes(), der.pkcs8_der()).expect("seal"));
        let cert = std::fs::read_to_string(dir.join(key.replace(".key", ".crt"))).expect("sp cert");
        app.encryption_cert = Some(cert);
    }
    db.create_app(&app).await.expect("app");
    let md = std::fs::read_to_string(dir.join(&o.metadata)).expect("metadata");
    let facts = crate::providers::idp_facts(&md, None, SsoBinding::Post).expect("IdP metadata");
    let provider = Provider {
        id: Uuid::new_v4(),
        app_id: app.id,
        name: "corpus IdP".into(),
        idp_entity_id: facts.entity_id,
        sso_url: facts.sso_url,
        sso_binding: facts.sso_binding,
        slo_url: facts.slo_url,
        signing_certs: facts.signing_certs,
        metadata_url: None,
        want_signed: o.want.unwrap_or(WantSigned::Either),
        allow_sha1: o.sha1,
        skew_seconds: o.skew.unwrap_or(saml::DEFAULT_SKEW.whole_seconds()),
        allow_idp_initiated: o.unsolicited,
        sign_requests: false,
        waiting_room: false,
        email_domains: vec![],
        attributes: AttributeNames::default(),
        default_policy_id: None,
        created_at: 0,
    };
    db.create_provider(&provider).await.expect("provider");
    let browser = "ab".repeat(32);
    let mut relay = None;
    if let Some(request_id) = &o.request {
        db.put_request(&PendingRequest {
            relay: "relay-1".into(),
            request_id: request_id.clone(),
            provider_id: provider.id,
            browser: hash(&browser),
            return_url: "/welcome".into(),
            expires_at: now.unix_timestamp() + 900,
        })
        .await
        .expect("request");
        relay = Some("relay-1");
    }
    let site =
        Site::load(db.clone(), app.id, Some(&sealer), Arc::new(FixedClock(now)), vec![]).await.expect("site");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, router(Arc::new(site))).await });

    let bytes = std::fs::read(dir.join(&row.file)).expect("case file");
    let text = String::from_utf8_lossy(&bytes).to_string();
    // As the POST binding carries it: a form body as is, base64 as the field value, raw XML
    // base64-encoded first (as an IdP's auto-posting form would).
    let mut body = if row.file.ends_with(".form") {
        // The case's own RelayState gives way to the one of the request outstanding here.
        text.trim().split('&').filter(|p| !p.starts_with("RelayState=")).collect::<Vec<_>>().join("&")
    } else if row.file.ends_with(".b64") {
        format!("SAMLResponse={}", enc(&text))
    } else {
        format!("SAMLResponse={}", enc(&B64.encode(&bytes)))
    };
    if let Some(r) = relay {
        body.push_str(&format!("&RelayState={r}"));
    }
    let (status, location, page) =
        post(addr, "/saml/acs", &format!("{BROWSER_COOKIE}={browser}"), &body).await;
    server.abort();
    let users = db.saml_users(app.id).await.expect("users");
    let verdict = match row.expect.as_str() {
        "accept" => {
            let want_location = if relay.is_some() { "/welcome" } else { "/" };
            if status == 303
                && location.as_deref() == Some(want_location)
                && users.len() == 1
                && users[0].0.name_id == row.detail
            {
                Ok(())
            } else {
                Err(format!("expected acceptance of {}, got {status} {location:?} {page}", row.detail))
            }
        }
        _ => {
            let shown = page.contains(&format!("<span class=\"code\">{}</span>", row.detail));
            if shown && status >= 400 && location.is_none() && users.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "expected {}, got {status} {location:?} users={} {page}",
                    row.detail,
                    users.len()
                ))
            }
        }
    };
    db.store().close().await;
    verdict
}

#[tokio::test]
async fn every_corpus_case_gives_its_verdict_through_the_http_acs() {
    let dir = corpus_dir();
    let rows = manifest(&dir);
    assert!(rows.len() >= 60, "the corpus holds {} cases", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        if let Err(e) = run_case(&dir, row).await {
            failures.push(format!("{}: {e}", row.file));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
