//! SAML representatives: the console's own SP application (created by the app with sealed keys),
//! an IdP trusted through `app::sp`, and a SAML session of the SP toolkit's tables (what its
//! ACS writes after a valid Response; the ACS itself is the SP toolkit's, tested there). The
//! user's effective SP group policies — the provider's default policy and the policies mapped
//! to their IdP groups — decide the jump items through the console's `policy set` table.

mod app_support;

use app_support::Served;
use console::app::sp::{import_idp_metadata, map_group, Imported, SP_APP_NAME};
use console::ecm::EcmSettings;
use console::items::NewJumpItem;
use reqwest::StatusCode;
use sp::db::{LocalUser, SamlUser, SpDb, SpSession};
use uuid::Uuid;

const IDP: &str = include_str!("../../sp/tests/corpus/keys/idp-metadata.xml");

/// A signed-in SAML user of the console's SP with these IdP groups; their session cookie.
async fn saml_session(spdb: &SpDb, app: Uuid, provider: Uuid, username: &str, groups: &[&str]) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let local = LocalUser {
        id: Uuid::new_v4(),
        app_id: app,
        username: username.into(),
        first_name: "Joe".into(),
        last_name: "User".into(),
        email: format!("{username}@acme.test"),
        created_at: now,
    };
    let saml = SamlUser {
        id: Uuid::new_v4(),
        provider_id: provider,
        name_id: format!("nameid-{username}"),
        local_user_id: local.id,
        groups: groups.iter().map(|g| g.to_string()).collect(),
        permissions: Vec::new(),
        waiting: false,
        granted_policy_id: None,
        granted_sites: Vec::new(),
        created_at: now,
        last_login_at: now,
    };
    spdb.create_first_login(Some(&local), &saml).await.unwrap();
    let token = web::token::random_hex().unwrap();
    spdb.create_session(&SpSession {
        token_hash: web::token::sha256_hex(&token),
        saml_user_id: saml.id,
        session_index: None,
        expires_at: now + 3600,
    })
    .await
    .unwrap();
    token
}

async fn get(served: &Served, path: &str, cookie: Option<&str>) -> (StatusCode, Option<String>, String) {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut r = http.get(served.url(path));
    if let Some(token) = cookie {
        r = r.header("cookie", format!("{}={token}", sp::web::SESSION_COOKIE));
    }
    let r = r.send().await.unwrap();
    let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    (r.status(), location, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn saml_representatives_get_the_jump_groups_of_their_effective_policies() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(dir.path(), EcmSettings::default()).await;
    for (name, group) in [("web-01", "Linux"), ("db-01", "Databases")] {
        let item = NewJumpItem { jump_group: Some(group.into()), ..NewJumpItem::ssh(name, "127.0.0.1") };
        served.db.create_jump_item(&item).await.unwrap();
    }
    served.db.set_policy("Helpdesk", &["Linux".into()]).await.unwrap();
    served.db.set_policy("DBAs", &["Databases".into()]).await.unwrap();

    let spdb = SpDb::open(served.db.store().clone()).await.unwrap();
    let app = spdb.app_by_name(SP_APP_NAME).await.unwrap().expect("the app creates its SP application");
    assert_eq!(app.base_url, format!("{}/console", served.base));
    map_group(&spdb, app.id, "g-dba", "DBAs").await.unwrap();
    let Imported::Created(provider) =
        import_idp_metadata(&spdb, &app, IDP, "Portcullis", Some("Helpdesk")).await.unwrap()
    else {
        panic!("a new IdP is created")
    };
    assert!(matches!(
        import_idp_metadata(&spdb, &app, IDP, "Portcullis", None).await.unwrap(),
        Imported::Refreshed { .. }
    ));

    let dba = saml_session(&spdb, app.id, provider.id, "dba.joe", &["g-dba", "g-other"]).await;
    let plain = saml_session(&spdb, app.id, provider.id, "plain.ann", &["g-other"]).await;

    let site = served.app.site().expect("a sealer gives SAML sign-in");
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("cookie", format!("{}={dba}", sp::web::SESSION_COOKIE).parse().unwrap());
    let signed_in = site.signed_in(&headers).await.unwrap();
    assert_eq!(signed_in.policies, ["DBAs", "Helpdesk"]);
    assert_eq!(signed_in.groups, ["g-dba", "g-other"]);
    assert_eq!(signed_in.local_user.username, "dba.joe");
    assert_eq!(site.signed_in(&axum::http::HeaderMap::new()).await.unwrap_err().code(), "SPW_NOT_SIGNED_IN");

    // The default policy's groups for everyone, the mapped group's for its members.
    let (status, _, page) = get(&served, "/console/", Some(&dba)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("web-01") && page.contains("db-01") && page.contains("Joe User"), "{page}");
    let (_, _, page) = get(&served, "/console/", Some(&plain)).await;
    assert!(page.contains("web-01") && !page.contains("db-01"), "{page}");
    let (status, location, _) = get(&served, "/console/", Some("not-a-session")).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/console/sign-in")));

    // The SP's endpoints under /console: its metadata, and the sign-in page's button starting
    // an SP-initiated login at the IdP.
    let (status, _, xml) = get(&served, "/console/saml/metadata", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains(&format!(r#"entityID="{}/console/saml/metadata""#, served.base)), "{xml}");
    assert!(xml.contains(&format!(r#"Location="{}/console/saml/acs""#, served.base)), "{xml}");
    let (_, _, page) = get(&served, "/console/sign-in", None).await;
    let login = "/console/saml/login?provider=Portcullis&#38;return=%2Fconsole%2F";
    assert!(page.contains("Sign in with Portcullis") && page.contains(login), "{page}");
    let (status, location, _) = get(&served, &login.replace("&#38;", "&"), None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().starts_with("https://idp.example.com/sso?SAMLRequest="));

    // Signing out of a SAML session goes through the SP's single logout.
    let (status, location, _) = get(&served, "/console/sign-out", Some(&dba)).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/console/saml/logout")));
}
