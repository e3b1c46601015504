//! The SP reference app's editable admin pages (issue 4), over real HTTP: a bare
//! `portcullis sp-demo` (no `--idp-metadata`) on a fresh data directory, first set
//! up with the one-time token it prints, with a real `portcullis up` as the IdP.
//! Every change is made through the pages' forms, as a browser posts them, and
//! checked where it matters: in the store, in the next login's permissions, and
//! on the pages.

mod support;

use std::path::Path;
use support::*;

const ALICE: &str = "alice@contoso.test";
const BOB: &str = "bob@contoso.test";
const APP_NAME: &str = "SP demo";

/// A running `portcullis sp-demo`, killed when dropped.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(f)
}

/// What the demo's store holds now: providers, policies, group mappings.
struct Stored {
    providers: Vec<sp::db::Provider>,
    policies: Vec<sp::db::Policy>,
    mappings: Vec<(String, String)>,
}

fn stored(data: &Path) -> Stored {
    block_on(async {
        let store = store::Store::open_data_dir(data).await.expect("open the demo's store");
        let db = sp::db::SpDb::open(store.clone()).await.expect("the SP tables");
        let app = db.app_by_name(APP_NAME).await.expect("read app").expect("the demo created its app");
        let providers = db.providers(app.id).await.expect("providers");
        let policies = db.policies(app.id).await.expect("policies");
        let mappings = db
            .group_policies(app.id)
            .await
            .expect("mappings")
            .into_iter()
            .map(|(g, p)| (g, p.name))
            .collect();
        store.close().await;
        Stored { providers, policies, mappings }
    })
}

/// The `<li>` items of the list with `id`.
fn list(page: &Page, id: &str) -> Vec<String> {
    let needle = format!("<ul id=\"{id}\">");
    let Some(at) = page.body.find(&needle) else { return Vec::new() };
    let rest = &page.body[at + needle.len()..];
    let rest = &rest[..rest.find("</ul>").unwrap_or(rest.len())];
    rest.split("<li>").skip(1).map(|li| unescape(li.trim_end_matches("</li>"))).collect()
}

fn assert_sp_error(page: &Page, status: u16, code: &str) {
    assert!(
        page.body.contains(&format!("<span class=\"code\">{code}</span>")),
        "expected the SP error page with {code}, got {} at {}:\n{}",
        page.status,
        page.url,
        page.body
    );
    assert_eq!(page.status, status, "{code} at {}", page.url);
}

fn assert_redirect(page: &Page, to: &str) {
    assert_eq!(page.status, 303, "{} answered:\n{}", page.url, page.body);
    assert_eq!(page.header("location"), Some(to));
}

/// The CSRF token of the forms on an admin page.
fn csrf(page: &Page) -> String {
    assert_eq!(page.status, 200, "{}:\n{}", page.url, page.body);
    page.field("csrf").expect("the page's forms carry a csrf field")
}

/// SP-initiated login of `upn` through the demo's only provider; returns the landing page.
fn login(server: &Server, demo: &Demo, browser: &mut Browser, upn: &str) -> Page {
    let start = browser.get(&demo.url("/saml/login?return=/"));
    assert_eq!(start.status, 303, "login must redirect to the IdP:\n{}", start.body);
    let location = start.header("location").expect("Location").to_string();
    assert!(location.starts_with(&server.sso_url()), "redirected to {location}");
    let page = browser.get(&location);
    let page = if page.is_sign_in() { browser.sign_in(&page, upn, PASSWORD, &server.base) } else { page };
    let form = PostForm::from_page(&page);
    assert_eq!(form.action, demo.url("/saml/acs"), "the IdP posts to the demo's ACS");
    let mut fields = vec![("SAMLResponse", form.saml_response.as_str())];
    if let Some(rs) = &form.relay_state {
        fields.push(("RelayState", rs.as_str()));
    }
    let acs = browser.post_form(&form.action, &fields);
    assert_redirect(&acs, "/");
    browser.get(&demo.url("/"))
}

/// Proves the first setup and the admin pages end to end: the bare demo prints a setup token;
/// the admin pages refuse a browser without it (SPW_NOT_SIGNED_IN), a wrong token
/// (SPW_SETUP_TOKEN_INVALID) and a form without its CSRF token (SPW_CSRF, nothing stored). With
/// the token, the administrator creates an "Admins" policy with settings:write, maps the IdP's
/// Operators group to it and adds our IdP from its metadata URL; from then on the token no
/// longer works. Alice (Operators) signs in through that provider and administers; Bob (no
/// admin group) gets SPW_FORBIDDEN with status 403. Alice creates an "Auditors" policy, edits its permissions and maps
/// Bob's IdP group to it through the pages; Bob sees audit:read on the landing page at his next
/// login. A POST without the CSRF token from a signed-in admin changes nothing. Editing the
/// provider's e-mail domain shows on discovery; a refresh with the IdP's new metadata reports
/// the added certificate; the SP entity ID override changes the downloadable SP metadata.
#[test]
fn first_setup_then_saml_admins_edit_providers_policies_and_groups() {
    let server = Server::start(PORTCULLIS);
    server.create_user(ALICE, "Alice", "Smith", &["--mail", "alice@mail.contoso.test"]);
    server.create_user(BOB, "Bob", "Jones", &["--mail", "bob@mail.contoso.test"]);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let app = server.create_app(
        "generic-saml",
        "SP demo",
        &[&format!("IDENTIFIER={base}/saml/metadata"), &format!("REPLY_URL={base}/saml/acs")],
    );
    server.cli(&["idp", "app", "set-saml", "--app", &app, "--nameid-format", "persistent"]);
    for (name, source) in [
        ("Username", "user.userprincipalname"),
        ("FirstName", "user.givenname"),
        ("LastName", "user.surname"),
        ("Email", "user.mail"),
        ("Groups", "user.groups"),
    ] {
        server.cli(&["idp", "app", "claim", "set", "--app", &app, "--name", name, "--source", source]);
    }
    server.cli(&["idp", "app", "groups-claim", "--app", &app, "security"]);
    server.cli(&["idp", "app", "assign", "--app", &app, "--user", ALICE]);
    server.cli(&["idp", "app", "assign", "--app", &app, "--user", BOB]);
    let operators = server.cli(&["idp", "group", "create", "--name", "Operators"]);
    server.cli(&["idp", "group", "add-member", "--group", &operators, "--user", ALICE]);
    let auditors = server.cli(&["idp", "group", "create", "--name", "Auditors"]);
    server.cli(&["idp", "group", "add-member", "--group", &auditors, "--user", BOB]);
    let metadata_url = format!(
        "{}/{}/federationmetadata/2007-06/federationmetadata.xml?appid={app}",
        server.base, server.tenant
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let demo = Demo::bare(PORTCULLIS, &dir.path().join("demo"), port);
    let token = demo.setup_token().unwrap_or_else(|| panic!("no setup token printed:\n{}", demo.startup));
    assert_eq!(token.len(), 64, "256 random bits, hex: {token}");

    // Nobody administers without a credential.
    let mut setup = Browser::new();
    assert_sp_error(&setup.get(&demo.url("/admin/providers")), 401, "SPW_NOT_SIGNED_IN");

    // The setup form: CSRF (double-submit cookie) first, then the token.
    let form = setup.get(&demo.url("/admin/setup"));
    let setup_csrf = csrf(&form);
    assert_sp_error(&setup.post_form(&demo.url("/admin/setup"), &[("token", &token)]), 403, "SPW_CSRF");
    let wrong = "0".repeat(64);
    assert_sp_error(
        &setup.post_form(&demo.url("/admin/setup"), &[("csrf", &setup_csrf), ("token", &wrong)]),
        403,
        "SPW_SETUP_TOKEN_INVALID",
    );
    assert_redirect(
        &setup.post_form(&demo.url("/admin/setup"), &[("csrf", &setup_csrf), ("token", &token)]),
        "/admin/providers",
    );

    // A POST without the CSRF token is refused and stores nothing.
    let refused = setup.post_form(
        &demo.url("/admin/providers"),
        &[("name", "Contoso"), ("metadata_url", &metadata_url), ("sso_binding", "redirect")],
    );
    assert_sp_error(&refused, 403, "SPW_CSRF");
    let refused = setup.post_form(
        &demo.url("/admin/policies"),
        &[("csrf", "not-the-token"), ("name", "Admins"), ("permissions", "settings:write")],
    );
    assert_sp_error(&refused, 403, "SPW_CSRF");
    let now = stored(&demo.data);
    assert!(now.providers.is_empty(), "a refused form adds no provider");
    assert!(now.policies.iter().all(|p| p.name != "Admins"), "a refused form creates no policy");

    // The first administrator's policy and group mapping, then the provider.
    let c = csrf(&setup.get(&demo.url("/admin/policies")));
    assert_redirect(
        &setup.post_form(
            &demo.url("/admin/policies"),
            &[("csrf", &c), ("name", "Admins"), ("permissions", "settings:write, settings:view")],
        ),
        "/admin/policies",
    );
    let admins = stored(&demo.data).policies.into_iter().find(|p| p.name == "Admins").expect("Admins");
    assert_eq!(admins.permissions, ["settings:write", "settings:view"]);
    let c = csrf(&setup.get(&demo.url("/admin/groups")));
    assert_redirect(
        &setup.post_form(
            &demo.url("/admin/groups"),
            &[("csrf", &c), ("object_id", &operators), ("display_name", "Operators")],
        ),
        "/admin/groups",
    );
    let admins_id = admins.id.to_string();
    assert_redirect(
        &setup.post_form(
            &demo.url("/admin/groups/map"),
            &[("csrf", &c), ("object_id", &operators), ("policy", &admins_id)],
        ),
        "/admin/groups",
    );
    let c = csrf(&setup.get(&demo.url("/admin/providers")));
    assert_redirect(
        &setup.post_form(
            &demo.url("/admin/providers"),
            &[
                ("csrf", &c),
                ("name", "Contoso"),
                ("metadata_url", &metadata_url),
                ("sso_binding", "redirect"),
            ],
        ),
        "/admin/providers",
    );
    let provider = stored(&demo.data).providers.pop().expect("the provider was added");
    assert_eq!(provider.name, "Contoso");
    assert_eq!(provider.idp_entity_id, server.entity_id(), "filled in from the metadata");
    assert_eq!(provider.sso_url, server.sso_url());
    assert_eq!(provider.metadata_url.as_deref(), Some(metadata_url.as_str()), "kept for refresh");
    assert_eq!(provider.signing_certs.len(), 1);

    // A provider exists: the setup token is spent, in this browser and in a fresh one (and stays so).
    assert_sp_error(&setup.get(&demo.url("/admin/providers")), 403, "SPW_SETUP_TOKEN_INVALID");
    let mut again = Browser::new();
    let c = csrf(&again.get(&demo.url("/admin/setup")));
    assert_sp_error(
        &again.post_form(&demo.url("/admin/setup"), &[("csrf", &c), ("token", &token)]),
        403,
        "SPW_SETUP_TOKEN_INVALID",
    );

    // Bob holds no settings:write: 403 with its code, on pages and on forms.
    let mut bob = Browser::new();
    let landing = login(&server, &demo, &mut bob, BOB);
    assert_eq!(list(&landing, "permissions"), ["dashboard:view", "profile:read"], "{}", landing.body);
    assert_sp_error(&bob.get(&demo.url("/admin/providers")), 403, "SPW_FORBIDDEN");
    assert_sp_error(&bob.get(&demo.url("/admin/policies")), 403, "SPW_FORBIDDEN");
    assert_sp_error(
        &bob.post_form(&demo.url("/admin/policies"), &[("name", "Mine"), ("permissions", "settings:write")]),
        403,
        "SPW_FORBIDDEN",
    );

    // Alice is in Operators → Admins: she administers through her SAML session.
    let mut alice = Browser::new();
    let landing = login(&server, &demo, &mut alice, ALICE);
    assert!(list(&landing, "permissions").contains(&"settings:write".to_string()), "{}", landing.body);
    let c = csrf(&alice.get(&demo.url("/admin/policies")));
    assert_ne!(c, setup_csrf);
    assert_sp_error(
        &alice
            .post_form(&demo.url("/admin/policies"), &[("name", "Auditors"), ("permissions", "audit:read")]),
        403,
        "SPW_CSRF",
    );
    assert!(stored(&demo.data).policies.iter().all(|p| p.name != "Auditors"), "nothing was created");
    assert_redirect(
        &alice.post_form(
            &demo.url("/admin/policies"),
            &[("csrf", &c), ("name", "Auditors"), ("permissions", "audit:read")],
        ),
        "/admin/policies",
    );
    let duplicate = alice.post_form(
        &demo.url("/admin/policies"),
        &[("csrf", &c), ("name", "auditors"), ("permissions", "other")],
    );
    assert_sp_error(&duplicate, 409, "STORE_CONFLICT");
    let auditors_policy =
        stored(&demo.data).policies.into_iter().find(|p| p.name == "Auditors").expect("Auditors");
    assert_eq!(auditors_policy.permissions, ["audit:read"], "the duplicate changed nothing");
    let auditors_policy_id = auditors_policy.id.to_string();
    assert_redirect(
        &alice.post_form(
            &demo.url("/admin/policies/edit"),
            &[
                ("csrf", &c),
                ("id", &auditors_policy_id),
                ("name", "Auditors"),
                ("permissions", "audit:read, audit:export"),
            ],
        ),
        "/admin/policies",
    );
    let page = alice.get(&demo.url("/admin/groups"));
    let c = csrf(&page);
    assert_redirect(
        &alice.post_form(&demo.url("/admin/groups"), &[("csrf", &c), ("object_id", &auditors)]),
        "/admin/groups",
    );
    assert_redirect(
        &alice.post_form(
            &demo.url("/admin/groups/map"),
            &[("csrf", &c), ("object_id", &auditors), ("policy", &auditors_policy_id)],
        ),
        "/admin/groups",
    );
    let mut mappings = stored(&demo.data).mappings;
    mappings.sort();
    let mut expected =
        vec![(operators.clone(), "Admins".to_string()), (auditors.clone(), "Auditors".to_string())];
    expected.sort();
    assert_eq!(mappings, expected);

    // Bob's next login: the mapped policy's permission is on his landing page.
    let mut bob = Browser::new();
    let landing = login(&server, &demo, &mut bob, BOB);
    assert_eq!(
        list(&landing, "permissions"),
        ["audit:export", "audit:read", "dashboard:view", "profile:read"],
        "General Members (default) plus Auditors (created, edited and mapped through the admin pages):\n{}",
        landing.body
    );

    // Unmapping takes it away again at the following login.
    assert_redirect(
        &alice.post_form(
            &demo.url("/admin/groups/unmap"),
            &[("csrf", &c), ("object_id", &auditors), ("policy", &auditors_policy_id)],
        ),
        "/admin/groups",
    );
    let mut bob = Browser::new();
    let landing = login(&server, &demo, &mut bob, BOB);
    assert_eq!(list(&landing, "permissions"), ["dashboard:view", "profile:read"], "{}", landing.body);

    // Provider settings: an e-mail domain for discovery, the POST binding, IdP-initiated allowed.
    let c = csrf(&alice.get(&demo.url("/admin/providers")));
    let general = stored(&demo.data)
        .policies
        .into_iter()
        .find(|p| p.name == sp::db::GENERAL_MEMBERS)
        .expect("General Members");
    let (pid, gid) = (provider.id.to_string(), general.id.to_string());
    let edited = alice.post_form(
        &demo.url("/admin/providers/edit"),
        &[
            ("csrf", &c),
            ("id", &pid),
            ("name", "Contoso <IdP>"),
            ("sso_binding", "post"),
            ("want_signed", "assertion"),
            ("allow_idp_initiated", "on"),
            ("email_domains", "Contoso.test, fabrikam.test"),
            ("attr_username", "Username"),
            ("attr_first_name", "FirstName"),
            ("attr_last_name", "LastName"),
            ("attr_email", "Email"),
            ("attr_groups", "Groups"),
            ("default_policy", &gid),
        ],
    );
    assert_redirect(&edited, "/admin/providers");
    let p = stored(&demo.data).providers.pop().expect("provider");
    assert_eq!(p.name, "Contoso <IdP>");
    assert_eq!(p.sso_binding, sp::db::SsoBinding::Post);
    assert_eq!(p.want_signed, sp::db::WantSigned::Assertion);
    assert!(p.allow_idp_initiated && !p.waiting_room && !p.sign_requests);
    assert_eq!(p.email_domains, ["contoso.test", "fabrikam.test"]);
    let page = alice.get(&demo.url("/admin/providers"));
    // Escaped by the template (askama writes numeric references).
    assert!(page.body.contains("Contoso &#60;IdP&#62;") && !page.body.contains("Contoso <IdP>"), "escaped");
    let found = alice.get(&demo.url("/login?email=carol%40fabrikam.test"));
    assert!(
        found.body.contains("id=\"provider-login\""),
        "discovery uses the edited domains:\n{}",
        found.body
    );

    // A certificate rollover at the IdP: the refresh with the new metadata (pasted) reports it.
    server.cli(&["idp", "app", "cert", "new", "--app", &app]);
    let new_metadata = std::fs::read_to_string(server.metadata(&app)).expect("metadata");
    let refreshed = alice.post_form(
        &demo.url("/admin/providers/refresh"),
        &[("csrf", &c), ("id", &pid), ("metadata_xml", &new_metadata)],
    );
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert!(refreshed.body.contains("id=\"certificates-changed\""), "{}", refreshed.body);
    assert_eq!(list(&refreshed, "added").len(), 1, "one new certificate:\n{}", refreshed.body);
    assert!(list(&refreshed, "removed").is_empty(), "the old one is still published");
    assert_eq!(stored(&demo.data).providers[0].signing_certs.len(), 2);
    let again = alice.post_form(&demo.url("/admin/providers/refresh"), &[("csrf", &c), ("id", &pid)]);
    assert!(again.body.contains("id=\"certificates-unchanged\""), "fetched from the URL:\n{}", again.body);

    // SP settings: the entity ID override changes the SP metadata offered for download.
    let c = csrf(&alice.get(&demo.url("/admin/sp")));
    let custom = "urn:example:sp-demo";
    assert_redirect(
        &alice.post_form(&demo.url("/admin/sp"), &[("csrf", &c), ("entity_id", custom), ("acs_url", "")]),
        "/admin/sp",
    );
    let download = alice.get(&demo.url("/admin/sp/metadata"));
    assert_eq!(download.status, 200);
    assert!(download.header("content-disposition").is_some_and(|v| v.starts_with("attachment")));
    assert!(download.body.contains(&format!("entityID=\"{custom}\"")), "{}", download.body);
    assert!(download.body.contains(&format!("Location=\"{base}/saml/acs\"")), "{}", download.body);
    assert_eq!(stored_app_entity_id(&demo.data).as_deref(), Some(custom), "stored, so it survives a restart");

    // Deleting: the Auditors policy, then the provider.
    let c = csrf(&alice.get(&demo.url("/admin/policies")));
    assert_redirect(
        &alice.post_form(&demo.url("/admin/policies/delete"), &[("csrf", &c), ("id", &auditors_policy_id)]),
        "/admin/policies",
    );
    assert!(stored(&demo.data).policies.iter().all(|p| p.name != "Auditors"));
    let c = csrf(&alice.get(&demo.url("/admin/providers")));
    assert_redirect(
        &alice.post_form(&demo.url("/admin/providers/delete"), &[("csrf", &c), ("id", &pid)]),
        "/admin/providers",
    );
    assert!(stored(&demo.data).providers.is_empty());
    let mut late = Browser::new();
    let c = csrf(&late.get(&demo.url("/admin/setup")));
    assert_sp_error(
        &late.post_form(&demo.url("/admin/setup"), &[("csrf", &c), ("token", &token)]),
        403,
        "SPW_SETUP_TOKEN_INVALID",
    );
}

fn stored_app_entity_id(data: &Path) -> Option<String> {
    block_on(async {
        let store = store::Store::open_data_dir(data).await.expect("open the demo's store");
        let db = sp::db::SpDb::open(store.clone()).await.expect("the SP tables");
        let app = db.app_by_name(APP_NAME).await.expect("read app").expect("app");
        store.close().await;
        app.entity_id
    })
}
