//! IdP-initiated single logout through the HTTP endpoint `/saml/slo` (our IdP
//! does not send LogoutRequests to SPs, so the corpus IdP's key signs one here):
//! a LogoutRequest signed by the provider ends the user's sessions and is answered
//! with a LogoutResponse to the provider's SLO URL; one signed by another key, or
//! unsigned, ends nothing and shows its code.

use super::{router, Site};
use crate::db::SpDb;
use crate::db::{AttributeNames, LocalUser, Provider, SamlUser, SpApp, SpSession, SsoBinding, WantSigned};
use saml::bindings::redirect::{decode_query, redirect_query, QuerySigner};
use saml::bindings::MessageParam;
use saml::crypto::{SignatureAlgorithm, SigningKey};
use saml::model::{new_id, LogoutRequest, Message, NameId};
use saml::FixedClock;
use std::path::Path;
use std::sync::Arc;
use store::Store;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;
use web::token::sha256_hex as hash;

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, Option<String>, String) {
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: sp.example.com\r\nConnection: close\r\n\r\n");
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

#[tokio::test]
async fn idp_initiated_logout_request_ends_sessions_only_when_signed_by_the_provider() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/keys");
    let now = OffsetDateTime::now_utc();
    let db = SpDb::open(Store::open("sqlite::memory:").await.expect("db")).await.expect("sp db");
    let app = SpApp {
        id: Uuid::new_v4(),
        name: "slo".into(),
        base_url: "https://sp.example.com".into(),
        entity_id: None,
        acs_url: None,
        signing_key_sealed: None,
        signing_cert: None,
        encryption_key_sealed: None,
        encryption_cert: None,
        created_at: 0,
    };
    db.create_app(&app).await.expect("app");
    let md = std::fs::read_to_string(dir.join("idp-metadata.xml")).expect("metadata");
    let facts = crate::providers::idp_facts(&md, None, SsoBinding::Redirect).expect("facts");
    let provider = Provider {
        id: Uuid::new_v4(),
        app_id: app.id,
        name: "IdP".into(),
        idp_entity_id: facts.entity_id.clone(),
        sso_url: facts.sso_url,
        sso_binding: facts.sso_binding,
        slo_url: Some("https://idp.example.com/slo".into()),
        signing_certs: facts.signing_certs,
        metadata_url: None,
        want_signed: WantSigned::Either,
        allow_sha1: false,
        skew_seconds: 180,
        allow_idp_initiated: false,
        sign_requests: false,
        waiting_room: false,
        email_domains: vec![],
        attributes: AttributeNames::default(),
        default_policy_id: None,
        created_at: 0,
    };
    db.create_provider(&provider).await.expect("provider");
    let local = LocalUser {
        id: Uuid::new_v4(),
        app_id: app.id,
        username: "alice".into(),
        first_name: "A".into(),
        last_name: "S".into(),
        email: "alice@example.com".into(),
        created_at: 0,
    };
    db.create_local_user(&local).await.expect("local");
    let user = SamlUser {
        id: Uuid::new_v4(),
        provider_id: provider.id,
        name_id: "alice@example.com".into(),
        local_user_id: local.id,
        groups: vec![],
        permissions: vec![],
        waiting: false,
        granted_policy_id: None,
        granted_sites: vec![],
        created_at: 0,
        last_login_at: 0,
    };
    db.create_saml_user(&user).await.expect("saml user");
    let session = SpSession {
        token_hash: hash("token"),
        saml_user_id: user.id,
        session_index: Some("_s1".into()),
        expires_at: now.unix_timestamp() + 3600,
    };
    db.create_session(&session).await.expect("session");

    let site = Site::load(db.clone(), app.id, None, Arc::new(FixedClock(now)), vec![]).await.expect("site");
    let slo_url = site.slo_url();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, router(Arc::new(site))).await });

    let request = |id: &str| LogoutRequest {
        id: id.into(),
        issue_instant: now,
        destination: Some(slo_url.clone()),
        consent: None,
        issuer: Some(facts.entity_id.clone()),
        name_id: NameId { value: "alice@example.com".into(), ..Default::default() },
        session_indexes: vec!["_s1".into()],
        not_on_or_after: None,
        reason: None,
    };
    let key = |file: &str| SigningKey::load(&std::fs::read(dir.join(file)).expect("key")).expect("key loads");
    let (idp_key, attacker_key) = (key("idp.key"), key("attacker.key"));
    let query = |id: &str, k: Option<&SigningKey>| {
        redirect_query(
            MessageParam::Request,
            &request(id).to_xml(),
            Some("rs-1"),
            k.map(|key| QuerySigner { key, algorithm: SignatureAlgorithm::RsaSha256 }),
        )
        .expect("query")
    };
    let alive = || async { db.session(&hash("token"), now.unix_timestamp()).await.expect("read").is_some() };

    for (k, code) in [(Some(&attacker_key), "BINDING_QUERY_SIGNATURE_INVALID"), (None, "SIG_MISSING")] {
        let (status, location, body) = get(addr, &format!("/saml/slo?{}", query("_forged", k))).await;
        assert!(status >= 400 && location.is_none(), "{status} {location:?} {body}");
        assert!(body.contains(&format!("class=\"code\">{code}<")), "expected {code}: {body}");
        assert!(alive().await, "a forged LogoutRequest ends nothing");
    }

    let id = new_id().expect("id");
    let (status, location, body) = get(addr, &format!("/saml/slo?{}", query(&id, Some(&idp_key)))).await;
    assert_eq!(status, 303, "{body}");
    let location = location.expect("a LogoutResponse redirect");
    assert!(location.starts_with("https://idp.example.com/slo?SAMLResponse="), "{location}");
    let answer = decode_query(&location).expect("our LogoutResponse decodes");
    assert_eq!(answer.relay_state(), Some("rs-1"));
    match saml::model::parse_message(answer.xml()).expect("parses") {
        Message::LogoutResponse(r) => {
            assert_eq!(r.in_response_to.as_deref(), Some(id.as_str()));
            assert!(r.status.is_success());
            assert_eq!(r.issuer.as_deref(), Some("https://sp.example.com/saml/metadata"));
        }
        other => panic!("expected a LogoutResponse, got {other:?}"),
    }
    assert!(!alive().await, "the provider's LogoutRequest ended the session");
    server.abort();
}
