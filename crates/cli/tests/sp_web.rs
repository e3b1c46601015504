//! The SP toolkit's web side end to end (issue 4): `portcullis sp-demo` as the
//! service provider and a real `portcullis up` as the IdP, over HTTP with the
//! cookie-keeping test browser. Nothing in between is simulated: the demo issues
//! the AuthnRequest, the IdP signs the user in and auto-posts its Response, and
//! the demo's ACS validates it, provisions the user and applies its policies.

mod support;

use std::path::{Path, PathBuf};
use support::*;
use uuid::Uuid;

const ALICE: &str = "alice@contoso.test";
const BOB: &str = "bob@contoso.test";
const APP_NAME: &str = "SP demo";

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(f)
}

/// The demo's SAML users list (what its admin pages show): usernames with their local user ID.
fn saml_users(data: &Path) -> Vec<(String, Uuid, sp::db::SamlUser)> {
    block_on(async {
        let store = store::Store::open_data_dir(data).await.expect("open the demo's store");
        let db = sp::db::SpDb::open(store.clone()).await.expect("the SP tables");
        let app = db.app_by_name(APP_NAME).await.expect("read app").expect("the demo created its app");
        let users = db.saml_users(app.id).await.expect("list SAML users");
        store.close().await;
        users.into_iter().map(|(s, u)| (u.username, u.id, s)).collect()
    })
}

/// Text of the element with `id` on the landing page.
fn by_id(page: &Page, id: &str) -> Option<String> {
    let needle = format!("id=\"{id}\">");
    let at = page.body.find(&needle)? + needle.len();
    let end = at + page.body[at..].find('<')?;
    Some(unescape(&page.body[at..end]))
}

/// The `<li>` items of the list with `id`.
fn list(page: &Page, id: &str) -> Vec<String> {
    let needle = format!("<ul id=\"{id}\">");
    let Some(at) = page.body.find(&needle) else { return Vec::new() };
    let rest = &page.body[at + needle.len()..];
    let rest = &rest[..rest.find("</ul>").unwrap_or(rest.len())];
    rest.split("<li>").skip(1).map(|li| unescape(li.trim_end_matches("</li>"))).collect()
}

fn assert_sp_error(page: &Page, code: &str) {
    assert!(
        page.body.contains(&format!("<span class=\"code\">{code}</span>")),
        "expected the SP error page with {code}, got {} at {}:\n{}",
        page.status,
        page.url,
        page.body
    );
    assert!(page.status >= 400, "an error page must not be a success: {}", page.status);
    assert!(page.header("location").is_none(), "an error must not redirect anywhere");
}

struct Setup {
    server: Server,
    demo_dir: tempfile::TempDir,
    port: u16,
    app: String,
    metadata: PathBuf,
    operators: String,
}

/// The IdP: alice (in the Operators group) and bob, both assigned to a custom SAML
/// app for the demo's entity ID and ACS URL, with a persistent NameID, the
/// attributes under the demo's default names, and security groups as object IDs.
fn setup() -> Setup {
    let server = Server::start(PORTCULLIS);
    server.create_user(ALICE, "Alice", "Smith", &["--mail", "alice@mail.contoso.test"]);
    server.create_user(BOB, "Bob", "Jones", &["--mail", "bob@mail.contoso.test"]);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let app = server.create_app(
        "generic-saml",
        "SP demo",
        &[
            &format!("IDENTIFIER={base}/saml/metadata"),
            &format!("REPLY_URL={base}/saml/acs"),
            &format!("LOGOUT_URL={base}/saml/slo"),
        ],
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
    let metadata = server.metadata(&app);
    let demo_dir = tempfile::tempdir().expect("demo dir");
    Setup { server, demo_dir, port, app, metadata, operators }
}

impl Setup {
    fn start_demo(&self) -> Demo {
        let map = format!("{}=Operators", self.operators);
        Demo::start(
            PORTCULLIS,
            &self.demo_dir.path().join("data"),
            self.port,
            &self.metadata,
            &[
                "--policy",
                "Operators=sessions:start,sessions:view",
                "--map-group",
                &map,
                "--allow-idp-initiated",
            ],
        )
    }
}

/// SP-initiated: /saml/login redirects to the IdP; after sign-in the IdP's form
/// is posted to the ACS as a browser would. Returns the form and the ACS answer.
fn sp_login(setup: &Setup, demo: &Demo, browser: &mut Browser, upn: &str, ret: &str) -> (PostForm, Page) {
    let start = browser.get(&format!("{}/saml/login?return={ret}", demo.base));
    assert_eq!(start.status, 303, "login must redirect to the IdP:\n{}", start.body);
    let location = start.header("location").expect("Location").to_string();
    assert!(location.starts_with(&setup.server.sso_url()), "redirected to {location}");
    assert!(location.contains("SAMLRequest=") && location.contains("RelayState="), "{location}");
    let page = browser.get(&location);
    let page =
        if page.is_sign_in() { browser.sign_in(&page, upn, PASSWORD, &setup.server.base) } else { page };
    let form = PostForm::from_page(&page);
    assert_eq!(form.action, format!("{}/saml/acs", demo.base), "the IdP posts to the demo's ACS");
    let answer = post(browser, &form);
    (form, answer)
}

fn post(browser: &mut Browser, form: &PostForm) -> Page {
    let mut fields = vec![("SAMLResponse", form.saml_response.as_str())];
    if let Some(rs) = &form.relay_state {
        fields.push(("RelayState", rs.as_str()));
    }
    browser.post_form(&form.action, &fields)
}

/// Proves, over HTTP against our IdP: SP-initiated login creates the user just in
/// time with the mapped attributes (listed only after that login) and lands on the
/// return URL's page showing the user, the IdP group and the effective permissions
/// (General Members by default plus the policy mapped to the group); a second login
/// updates a changed attribute; removing the user from the IdP group removes the
/// mapped permission at the next login; a pre-provisioned local user with the same
/// e-mail is linked rather than duplicated.
#[test]
fn sp_initiated_login_provisions_updates_and_recomputes_policies() {
    let setup = setup();
    let demo = setup.start_demo();
    assert!(saml_users(&demo.data).is_empty(), "no SAML user before the first login");

    let mut browser = Browser::new();
    let (_, acs) = sp_login(&setup, &demo, &mut browser, ALICE, "/");
    assert_eq!(acs.status, 303, "the ACS accepts and redirects:\n{}\n{}", acs.body, demo.log());
    assert_eq!(acs.header("location"), Some("/"));
    let cookie = acs
        .headers
        .iter()
        .find(|(n, v)| n.eq_ignore_ascii_case("set-cookie") && v.starts_with("sp_session="))
        .map(|(_, v)| v.clone())
        .expect("a local session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");

    let landing = browser.get(&format!("{}/", demo.base));
    assert_eq!(by_id(&landing, "username").as_deref(), Some(ALICE), "{}", landing.body);
    assert_eq!(by_id(&landing, "first-name").as_deref(), Some("Alice"));
    assert_eq!(by_id(&landing, "last-name").as_deref(), Some("Smith"));
    assert_eq!(by_id(&landing, "email").as_deref(), Some("alice@mail.contoso.test"));
    assert_eq!(list(&landing, "groups"), std::slice::from_ref(&setup.operators));
    assert_eq!(
        list(&landing, "permissions"),
        ["dashboard:view", "profile:read", "sessions:start", "sessions:view"],
        "General Members (default) plus Operators (mapped to the IdP group)"
    );
    let users = saml_users(&demo.data);
    assert_eq!(users.len(), 1, "listed after the first login");
    assert_eq!(users[0].0, ALICE);
    let name_id = &users[0].2.name_id;
    assert!(
        !name_id.is_empty() && !name_id.contains('@'),
        "the key is the opaque persistent NameID: {name_id:?}"
    );
    let alice_local = users[0].1;

    // The given name changes at the IdP; the next login updates it, same user.
    setup.server.cli(&["idp", "user", "set", "--user", ALICE, "--given-name", "Alicia"]);
    // Alice leaves the Operators group at the IdP.
    setup.server.cli(&["idp", "group", "remove-member", "--group", &setup.operators, "--user", ALICE]);
    let mut browser = Browser::new();
    let (_, acs) = sp_login(&setup, &demo, &mut browser, ALICE, "/");
    assert_eq!(acs.status, 303, "{}", acs.body);
    let landing = browser.get(&format!("{}/", demo.base));
    assert_eq!(by_id(&landing, "first-name").as_deref(), Some("Alicia"), "{}", landing.body);
    assert!(list(&landing, "groups").is_empty(), "{}", landing.body);
    assert_eq!(
        list(&landing, "permissions"),
        ["dashboard:view", "profile:read"],
        "the Operators permissions are gone once the IdP no longer sends the group"
    );
    let users = saml_users(&demo.data);
    assert_eq!(users.len(), 1, "the same user, updated");
    assert_eq!(users[0].1, alice_local);

    // Bob was pre-provisioned in the app with his e-mail: his first login links to him.
    let bob_local = Uuid::new_v4();
    block_on(async {
        let store = store::Store::open_data_dir(&demo.data).await.expect("demo store");
        let db = sp::db::SpDb::open(store.clone()).await.expect("the SP tables");
        let app = db.app_by_name(APP_NAME).await.expect("app").expect("app");
        db.create_local_user(&sp::db::LocalUser {
            id: bob_local,
            app_id: app.id,
            username: "bjones".into(),
            first_name: "Robert".into(),
            last_name: "Jones".into(),
            email: "BOB@mail.contoso.test".into(),
            created_at: 1,
        })
        .await
        .expect("pre-provision bob");
        store.close().await;
    });
    assert_eq!(saml_users(&demo.data).len(), 1, "a pre-provisioned user is not a SAML user");
    let mut browser = Browser::new();
    let (_, acs) = sp_login(&setup, &demo, &mut browser, BOB, "/");
    assert_eq!(acs.status, 303, "{}", acs.body);
    let users = saml_users(&demo.data);
    let bob = users.iter().find(|u| u.0 == BOB).expect("bob is listed after his login");
    assert_eq!(bob.1, bob_local, "linked to the pre-provisioned user, not a duplicate");
    let landing = browser.get(&format!("{}/", demo.base));
    assert_eq!(by_id(&landing, "first-name").as_deref(), Some("Bob"), "the IdP's attributes win");
}

/// Proves: a Response posted a second time is rejected — the SP-initiated one
/// because its request was already answered (SP_IN_RESPONSE_TO_UNKNOWN), an
/// IdP-initiated one by the store's replay cache (SP_REPLAY), also after the demo
/// restarts; a return URL off the site is refused (no open redirect); a missing
/// Response and an unknown provider get their codes. Each failure is logged.
#[test]
fn replays_and_open_redirects_are_refused_with_their_codes() {
    let setup = setup();
    let demo = setup.start_demo();
    let mut browser = Browser::new();
    let (form, acs) = sp_login(&setup, &demo, &mut browser, ALICE, "/");
    assert_eq!(acs.status, 303, "{}", acs.body);
    let again = post(&mut browser, &form);
    assert_sp_error(&again, "SP_IN_RESPONSE_TO_UNKNOWN");

    // IdP-initiated from My Apps (the browser is signed in at the IdP).
    let launch =
        browser.get(&format!("{}/{}/myapps/launch/{}", setup.server.base, setup.server.tenant, setup.app));
    let unsolicited = PostForm::from_page(&launch);
    assert_eq!(post(&mut browser, &unsolicited).status, 303, "IdP-initiated is allowed for this provider");
    assert_sp_error(&post(&mut browser, &unsolicited), "SP_REPLAY");
    assert!(demo.log().contains("SP_REPLAY"), "the refusal is logged with its code:\n{}", demo.log());
    demo.stop();
    let demo = setup.start_demo();
    assert_sp_error(&post(&mut browser, &unsolicited), "SP_REPLAY");

    for evil in ["https://evil.test/", "//evil.test/x", "https://127.0.0.1.evil.test/"] {
        let page = browser.get(&format!("{}/saml/login?return={}", demo.base, percent(evil)));
        assert_sp_error(&page, "SPW_RETURN_URL_REFUSED");
    }
    let page = browser.post_form(&format!("{}/saml/acs", demo.base), &[("RelayState", "x")]);
    assert_sp_error(&page, "SPW_FORM_MISSING_RESPONSE");
    let page = browser.get(&format!("{}/saml/login?provider=nobody", demo.base));
    assert_sp_error(&page, "SPW_PROVIDER_UNKNOWN");
}

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Proves: the SP metadata names the demo's entity ID and ACS URL and carries its
/// signing and encryption certificates, and the IdP accepts it as an app's SP metadata.
#[test]
fn sp_metadata_is_served_and_imported_by_the_idp() {
    let setup = setup();
    let demo = setup.start_demo();
    let mut browser = Browser::new();
    let md = browser.get(&format!("{}/saml/metadata", demo.base));
    assert_eq!(md.status, 200);
    assert!(md.body.contains(&format!("entityID=\"{}/saml/metadata\"", demo.base)), "{}", md.body);
    assert!(md.body.contains(&format!("Location=\"{}/saml/acs\"", demo.base)), "{}", md.body);
    assert!(md.body.contains("use=\"signing\"") && md.body.contains("use=\"encryption\""), "{}", md.body);
    // No provider signs its requests here: the metadata must not promise signed requests.
    assert!(md.body.contains("AuthnRequestsSigned=\"false\""), "{}", md.body);
    let file = setup.server.write("sp-metadata.xml", &md.body);
    let other = setup.server.create_app("generic-saml", "Imported", &[]);
    let out = setup.server.cli_output(
        &["idp", "app", "import-sp-metadata", "--app", &other, file.to_str().expect("utf-8 path")],
        None,
    );
    // The demo's entity ID is already used by the first app: the IdP refuses the duplicate,
    // which proves it read the entity ID from our metadata.
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(describe(&out).contains(&format!("{}/saml/metadata", demo.base)), "{}", describe(&out));
}

/// The SAML users of the demo by username: (waiting, SAML user ID).
fn waiting_flags(data: &Path) -> Vec<(String, bool, Uuid)> {
    saml_users(data).into_iter().map(|(name, _, s)| (name, s.waiting, s.id)).collect()
}

fn has_session_cookie(page: &Page) -> bool {
    page.headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("set-cookie") && v.starts_with("sp_session="))
}

/// Issue 14 item 8, over HTTP. With the waiting room on, the first approver is set up by
/// mapping their IdP group to a policy: alice (Operators → Approvers) is let in at her first
/// login, bob waits. Once alice filed a request for bob, the waiting room shows it as pending
/// instead of a second "Request access". The landing page links "Administration" only to a
/// user who may see it. Re-running `sp-demo --policy NAME=PERMS` with other permissions
/// updates the policy (and says so).
#[test]
fn waiting_room_first_approver_pending_request_policy_update_and_admin_link() {
    let setup = setup();
    let map = format!("{}=Approvers", setup.operators);
    let data = setup.demo_dir.path().join("data");
    let start = |approvers: &str| {
        Demo::start(
            PORTCULLIS,
            &data,
            setup.port,
            &setup.metadata,
            &[
                "--waiting-room",
                "--policy",
                approvers,
                "--policy",
                "Support=sessions:start",
                "--map-group",
                &map,
                "--default-policy",
                "none",
            ],
        )
    };
    let demo = start("Approvers=users:request,users:approve");

    let mut alice = Browser::new();
    let (_, acs) = sp_login(&setup, &demo, &mut alice, ALICE, "/");
    assert_eq!(acs.status, 303, "the first approver is let in by her group's mapping:\n{}", acs.body);
    let landing = alice.get(&format!("{}/", demo.base));
    assert_eq!(list(&landing, "permissions"), ["users:approve", "users:request"], "{}", landing.body);
    assert!(
        !landing.body.contains("href=\"/admin\""),
        "no settings:view, no Administration link:\n{}",
        landing.body
    );
    assert!(landing.body.contains("href=\"/admin/waiting-room\""), "{}", landing.body);

    let (_, page) = sp_login(&setup, &demo, &mut Browser::new(), BOB, "/");
    assert!(page.body.contains("id=\"waiting\""), "bob waits:\n{}", page.body);
    assert!(page.body.contains("bob@mail.contoso.test"), "{}", page.body);
    let bob_id = waiting_flags(&demo.data).into_iter().find(|f| f.0 == BOB).map(|f| f.2).expect("bob");

    let room_url = format!("{}/admin/waiting-room", demo.base);
    let room = alice.get(&room_url);
    assert_eq!(room.body.matches(">Request access<").count(), 1, "{}", room.body);
    let csrf = room.field("csrf").expect("csrf");
    let filed = alice.post_form(
        &format!("{}/admin/access-requests", demo.base),
        &[("csrf", &csrf), ("user", &bob_id.to_string()), ("policy", "Support"), ("sites", "")],
    );
    assert_eq!(filed.status, 303, "{}", filed.body);
    let room = alice.get(&room_url);
    assert!(room.body.contains(&bob_id.to_string()), "bob is still waiting:\n{}", room.body);
    assert!(!room.body.contains(">Request access<"), "no second request for bob:\n{}", room.body);
    assert!(room.body.contains("Access requested") && room.body.contains("Support"), "{}", room.body);
    drop(demo);

    let demo = start("Approvers=users:request,users:approve,settings:view");
    assert!(
        demo.startup.contains("Policy Approvers: permissions changed"),
        "the update is reported:\n{}",
        demo.startup
    );
    let mut again = Browser::new();
    let (_, acs) = sp_login(&setup, &demo, &mut again, ALICE, "/");
    assert_eq!(acs.status, 303, "{}", acs.body);
    let landing = again.get(&format!("{}/", demo.base));
    assert_eq!(
        list(&landing, "permissions"),
        ["settings:view", "users:approve", "users:request"],
        "the changed policy counts at the next login:\n{}",
        landing.body
    );
    assert!(landing.body.contains("href=\"/admin\""), "now she may see the settings:\n{}", landing.body);
    assert_eq!(again.get(&format!("{}/admin", demo.base)).status, 200);
    // Unchanged permissions are not reported.
    drop(demo);
    let demo = start("Approvers=users:request,users:approve,settings:view");
    assert!(!demo.startup.contains("permissions changed"), "{}", demo.startup);
}

/// Proves the waiting room over HTTP: with a waiting-room provider, users created at
/// their first login see the waiting page and get no session (listed as waiting);
/// a pre-provisioned administrator is let in; a user with `users:request` files
/// "new user" access requests (access level and sites; a forged form is refused
/// with SPW_CSRF, a signed-out browser with SPW_NOT_SIGNED_IN); one with
/// `users:approve` approves one and rejects the other; each user is notified
/// through the outbox; the approved user's next login lets them in with exactly the
/// granted policy and sites, the rejected one still waits. The settings page lists
/// the SAML users (waiting ones marked) to holders of `settings:view` only.
#[test]
fn waiting_room_blocks_then_admits_after_approval() {
    let setup = setup();
    let carol = "carol@contoso.test";
    setup.server.create_user(carol, "Carol", "Diaz", &["--mail", "carol@mail.contoso.test"]);
    setup.server.cli(&["idp", "app", "assign", "--app", &setup.app, "--user", carol]);
    let map = format!("{}=Approvers", setup.operators);
    let demo = Demo::start(
        PORTCULLIS,
        &setup.demo_dir.path().join("data"),
        setup.port,
        &setup.metadata,
        &[
            "--waiting-room",
            "--policy",
            "Approvers=users:request,users:approve,settings:view",
            "--policy",
            "Support=sessions:start",
            "--map-group",
            &map,
            "--default-policy",
            "none",
        ],
    );
    // Alice was already let into the application (pre-provisioned by her e-mail).
    block_on(async {
        let store = store::Store::open_data_dir(&demo.data).await.expect("demo store");
        let db = sp::db::SpDb::open(store.clone()).await.expect("the SP tables");
        let app = db.app_by_name(APP_NAME).await.expect("app").expect("app");
        let alice = sp::db::LocalUser {
            id: Uuid::new_v4(),
            app_id: app.id,
            username: "alice".into(),
            first_name: "Alice".into(),
            last_name: "Smith".into(),
            email: "alice@mail.contoso.test".into(),
            created_at: 1,
        };
        db.create_local_user(&alice).await.expect("pre-provision alice");
        store.close().await;
    });

    for upn in [BOB, carol] {
        let mut browser = Browser::new();
        let (_, page) = sp_login(&setup, &demo, &mut browser, upn, "/");
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("id=\"waiting\""), "the waiting page:\n{}", page.body);
        assert!(!has_session_cookie(&page), "no session while waiting");
        let landing = browser.get(&format!("{}/", demo.base));
        assert!(landing.body.contains("not signed in"), "{}", landing.body);
    }
    let flags = waiting_flags(&demo.data);
    let id_of = |name: &str| flags.iter().find(|f| f.0 == name).map(|f| f.2).expect("listed");
    assert!(flags.iter().filter(|f| f.0 != ALICE).all(|f| f.1), "bob and carol wait: {flags:?}");
    let (bob_id, carol_id) = (id_of(BOB), id_of(carol));

    // A signed-out browser cannot see the waiting room.
    let page = Browser::new().get(&format!("{}/admin/waiting-room", demo.base));
    assert_sp_error(&page, "SPW_NOT_SIGNED_IN");

    let mut admin = Browser::new();
    let (_, acs) = sp_login(&setup, &demo, &mut admin, ALICE, "/");
    assert_eq!(acs.status, 303, "alice is let in:\n{}", acs.body);
    let landing = admin.get(&format!("{}/", demo.base));
    assert_eq!(
        list(&landing, "permissions"),
        ["settings:view", "users:approve", "users:request"],
        "{}",
        landing.body
    );
    // The settings page lists the SAML users (the waiting ones marked) and the providers.
    let settings = admin.get(&format!("{}/admin", demo.base));
    assert_eq!(settings.status, 200, "{}", settings.body);
    assert_eq!(settings.body.matches("class=\"saml-user\"").count(), 3, "{}", settings.body);
    assert_eq!(settings.body.matches(">waiting<").count(), 2, "{}", settings.body);
    assert!(settings.body.contains(&setup.server.entity_id()), "{}", settings.body);

    let room = admin.get(&format!("{}/admin/waiting-room", demo.base));
    assert_eq!(room.status, 200, "{}", room.body);
    assert!(
        room.body.contains(&bob_id.to_string()) && room.body.contains(&carol_id.to_string()),
        "{}",
        room.body
    );
    let csrf = room.field("csrf").expect("csrf field");
    let requests = format!("{}/admin/access-requests", demo.base);
    let forged = admin.post_form(
        &requests,
        &[("csrf", "forged"), ("user", &bob_id.to_string()), ("policy", "Support"), ("sites", "x")],
    );
    assert_sp_error(&forged, "SPW_CSRF");
    for (user, sites) in [(bob_id, "site-a, site-b"), (carol_id, "site-c")] {
        let filed = admin.post_form(
            &requests,
            &[("csrf", &csrf), ("user", &user.to_string()), ("policy", "Support"), ("sites", sites)],
        );
        assert_eq!(filed.status, 303, "{}", filed.body);
    }
    let pending = admin.get(&requests);
    assert_eq!(pending.body.matches("class=\"access-request\"").count(), 2, "{}", pending.body);
    let ids: Vec<(Uuid, Uuid)> = block_on(async {
        let store = store::Store::open_data_dir(&demo.data).await.expect("demo store");
        let db = sp::db::SpDb::open(store.clone()).await.expect("the SP tables");
        let app = db.app_by_name(APP_NAME).await.expect("app").expect("app");
        let rs = db.access_requests(app.id, None).await.expect("requests");
        store.close().await;
        rs.into_iter().map(|r| (r.id, r.saml_user_id)).collect()
    });
    let request_of =
        |user: Uuid| ids.iter().find(|(_, u)| *u == user).map(|(r, _)| r.to_string()).expect("filed");
    let csrf = pending.field("csrf").expect("csrf");
    let decide = format!("{}/admin/access-requests/decide", demo.base);
    for (user, decision) in [(bob_id, "approve"), (carol_id, "reject")] {
        let page =
            admin.post_form(&decide, &[("csrf", &csrf), ("id", &request_of(user)), ("decision", decision)]);
        assert_eq!(page.status, 303, "{}", page.body);
    }
    let twice =
        admin.post_form(&decide, &[("csrf", &csrf), ("id", &request_of(bob_id)), ("decision", "reject")]);
    assert_sp_error(&twice, "STORE_CONFLICT");

    let mail = block_on(async {
        let store = store::Store::open_data_dir(&demo.data).await.expect("demo store");
        let mail = store.list_mail(10).await.expect("outbox");
        store.close().await;
        mail
    });
    let to =
        |who: &str| mail.iter().find(|m| m.recipient == who).map(|m| m.subject.clone()).unwrap_or_default();
    assert!(to("bob@mail.contoso.test").contains("approved"), "{mail:?}");
    assert!(to("carol@mail.contoso.test").contains("rejected"), "{mail:?}");

    let mut browser = Browser::new();
    let (_, acs) = sp_login(&setup, &demo, &mut browser, BOB, "/");
    assert_eq!(acs.status, 303, "bob is let in now:\n{}", acs.body);
    let landing = browser.get(&format!("{}/", demo.base));
    assert_eq!(
        list(&landing, "permissions"),
        ["sessions:start"],
        "exactly the granted access:\n{}",
        landing.body
    );
    assert_eq!(list(&landing, "sites"), ["site-a", "site-b"]);
    assert_sp_error(&browser.get(&format!("{}/admin", demo.base)), "SPW_FORBIDDEN");
    let mut browser = Browser::new();
    let (_, page) = sp_login(&setup, &demo, &mut browser, carol, "/");
    assert!(
        page.body.contains("id=\"waiting\"") && !has_session_cookie(&page),
        "carol still waits:\n{}",
        page.body
    );
}

/// Registers the demo (on `port`) as a custom SAML app at `server` with the demo's
/// attribute names, assigns `upn`, and returns the IdP metadata file.
fn register_demo_at(server: &Server, port: u16, upn: &str) -> PathBuf {
    let base = format!("http://127.0.0.1:{port}");
    let app = server.create_app(
        "generic-saml",
        "SP demo",
        &[&format!("IDENTIFIER={base}/saml/metadata"), &format!("REPLY_URL={base}/saml/acs")],
    );
    server.cli(&["idp", "app", "set-saml", "--app", &app, "--nameid-format", "persistent"]);
    for (name, source) in [("Username", "user.userprincipalname"), ("Email", "user.mail")] {
        server.cli(&["idp", "app", "claim", "set", "--app", &app, "--name", name, "--source", source]);
    }
    server.cli(&["idp", "app", "assign", "--app", &app, "--user", upn]);
    server.metadata(&app)
}

/// Follows discovery for `email` to the provider's login link, signs in at `idp`, and
/// posts the Response; returns the landing page.
fn discover_and_login(demo: &Demo, idp: &Server, email: &str, provider: &str) -> Page {
    let mut browser = Browser::new();
    let page = browser.get(&format!("{}/login?email={}", demo.base, percent(email)));
    let (href, text) = page
        .links()
        .into_iter()
        .find(|(h, _)| h.starts_with("/saml/login"))
        .unwrap_or_else(|| panic!("no provider link for {email}:\n{}", page.body));
    assert_eq!(text, format!("Log in with {provider}"));
    let start = browser.get(&format!("{}{href}", demo.base));
    let location =
        start.header("location").unwrap_or_else(|| panic!("no redirect:\n{}", start.body)).to_string();
    assert!(location.starts_with(&idp.sso_url()), "{email} must be sent to {}: {location}", idp.sso_url());
    let page = browser.get(&location);
    let page = browser.sign_in(&page, email, PASSWORD, &idp.base);
    let acs = post(&mut browser, &PostForm::from_page(&page));
    assert_eq!(acs.status, 303, "{}", acs.body);
    browser.get(&format!("{}/", demo.base))
}

/// Proves discovery over HTTP: the sign-on page asks for an e-mail address and routes
/// two domains to two IdPs (two `portcullis up` servers), each login completing
/// through its own IdP; an unknown domain gets a clear message and the local
/// sign-in link.
#[test]
fn discovery_routes_two_domains_to_two_idps() {
    let setup = setup();
    let fabrikam = Server::start(PORTCULLIS);
    let dana = "dana@fabrikam.test";
    fabrikam.create_user(dana, "Dana", "Lee", &["--mail", "dana@fabrikam.test"]);
    let fabrikam_md = register_demo_at(&fabrikam, setup.port, dana);
    let demo = Demo::start(
        PORTCULLIS,
        &setup.demo_dir.path().join("data"),
        setup.port,
        &setup.metadata,
        &[
            "--idp-metadata",
            fabrikam_md.to_str().expect("utf-8 path"),
            "--provider-name",
            "Contoso",
            "--provider-name",
            "Fabrikam",
            "--email-domain",
            "Contoso=contoso.test",
            "--email-domain",
            "Fabrikam=fabrikam.test",
            "--local-sign-in-url",
            "https://accounts.example.test/local",
        ],
    );
    let ask = Browser::new().get(&format!("{}/login", demo.base));
    assert!(ask.body.contains("name=\"email\""), "{}", ask.body);

    let landing = discover_and_login(&demo, &setup.server, ALICE, "Contoso");
    assert_eq!(by_id(&landing, "provider").as_deref(), Some("Contoso"), "{}", landing.body);
    assert_eq!(by_id(&landing, "username").as_deref(), Some(ALICE));
    let landing = discover_and_login(&demo, &fabrikam, dana, "Fabrikam");
    assert_eq!(by_id(&landing, "provider").as_deref(), Some("Fabrikam"), "{}", landing.body);
    assert_eq!(by_id(&landing, "username").as_deref(), Some(dana));

    let unknown = Browser::new().get(&format!("{}/login?email={}", demo.base, percent("eve@unknown.test")));
    assert!(unknown.body.contains("id=\"unknown-domain\""), "{}", unknown.body);
    assert!(unknown.body.contains("unknown.test"), "the message names the domain:\n{}", unknown.body);
    assert!(!unknown.links().iter().any(|(h, _)| h.starts_with("/saml/login")), "no provider is offered");
    assert!(
        unknown.links().iter().any(|(h, _)| h == "https://accounts.example.test/local"),
        "{}",
        unknown.body
    );
}

/// Proves SP-initiated single logout over HTTP with our IdP: /saml/logout ends the
/// local session and sends a LogoutRequest to the IdP's SLO endpoint; the IdP ends
/// its session and redirects its signed LogoutResponse to /saml/slo, which the demo
/// verifies (signature, issuer, InResponseTo of the request this browser started)
/// before saying the user is signed out; the same LogoutResponse a second time is
/// refused (SPW_LOGOUT_INVALID). Afterwards neither the demo nor the IdP has a
/// session: the next login asks for the password again.
#[test]
fn sp_initiated_single_logout_ends_both_sessions() {
    let setup = setup();
    let demo = setup.start_demo();
    let mut browser = Browser::new();
    let (_, acs) = sp_login(&setup, &demo, &mut browser, ALICE, "/");
    assert_eq!(acs.status, 303, "{}", acs.body);
    assert_eq!(by_id(&browser.get(&format!("{}/", demo.base)), "username").as_deref(), Some(ALICE));

    let out = browser.get(&format!("{}/saml/logout", demo.base));
    assert_eq!(out.status, 303, "{}\n{}", out.body, demo.log());
    let to_idp = out.header("location").expect("Location").to_string();
    assert!(to_idp.starts_with(&setup.server.sso_url()) && to_idp.contains("SAMLRequest="), "{to_idp}");
    let back = browser.get(&to_idp);
    let to_sp =
        back.header("location").unwrap_or_else(|| panic!("the IdP answers:\n{}", back.body)).to_string();
    assert!(
        to_sp.starts_with(&format!("{}/saml/slo?", demo.base)) && to_sp.contains("Signature="),
        "{to_sp}"
    );
    let done = browser.get(&to_sp);
    assert!(done.body.contains("id=\"signed-out\""), "{}\n{}", done.body, demo.log());
    assert_sp_error(&browser.get(&to_sp), "SPW_LOGOUT_INVALID");
    // A tampered response (another InResponseTo would need the IdP's key): the signature fails.
    let tampered = to_sp.replacen("SAMLResponse=", "SAMLResponse=A", 1);
    assert!(browser.get(&tampered).status >= 400);

    assert!(browser.get(&format!("{}/", demo.base)).body.contains("not signed in"));
    let again = browser.get(&format!("{}/saml/login", demo.base));
    let page = browser.get(again.header("location").expect("to the IdP"));
    assert!(page.is_sign_in(), "the IdP session ended too:\n{}", page.body);
}

/// Proves metadata by URL and refresh: the demo imports the IdP's published
/// metadata URL; after a certificate rollover at the IdP, the restarted demo
/// refreshes the provider from the same URL and reports the changed certificate
/// (the new one added; the old one is still published), and the login signed with the new key is accepted.
#[test]
fn metadata_from_url_is_refreshed_and_a_certificate_change_reported() {
    let setup = setup();
    let url = format!(
        "{}/{}/federationmetadata/2007-06/federationmetadata.xml?appid={}",
        setup.server.base, setup.server.tenant, setup.app
    );
    let data = setup.demo_dir.path().join("data");
    let demo = Demo::start_from(PORTCULLIS, &data, setup.port, &url, &[]);
    assert!(!demo.startup.contains("changed"), "{}", demo.startup);
    demo.stop();

    let new_cert = setup.server.cli(&["idp", "app", "cert", "new", "--app", &setup.app]);
    setup.server.cli(&["idp", "app", "cert", "activate", "--app", &setup.app, "--cert", &new_cert]);
    let demo = Demo::start_from(PORTCULLIS, &data, setup.port, &url, &[]);
    assert!(
        demo.startup.contains("signing certificates of"),
        "a changed certificate is reported:\n{}",
        demo.startup
    );
    let report = demo.startup.lines().find(|l| l.contains("changed")).expect("report line");
    // The IdP publishes the new certificate beside the old one during rollover: one added, none removed.
    assert_eq!(report.matches("\"").count(), 2, "one added thumbprint: {report}");
    assert!(report.contains("removed []"), "{report}");

    let mut browser = Browser::new();
    let (_, acs) = sp_login(&setup, &demo, &mut browser, ALICE, "/");
    assert_eq!(acs.status, 303, "signed with the new key and accepted:\n{}\n{}", acs.body, demo.log());
}

/// Proves signed AuthnRequests over the HTTP-POST binding: with `--sign-requests
/// --sso-binding post`, the demo's login page auto-posts a signed AuthnRequest; the
/// IdP, which imported the demo's SP metadata (and so its signing certificate),
/// verifies it and signs the user in. A demo with another key (a fresh data
/// directory) is refused by the IdP, so the signature really is checked.
#[test]
fn signed_authn_requests_over_post_are_verified_by_the_idp() {
    let setup = setup();
    let flags = ["--sign-requests", "--sso-binding", "post"];
    let demo =
        Demo::start(PORTCULLIS, &setup.demo_dir.path().join("data"), setup.port, &setup.metadata, &flags);
    let md = Browser::new().get(&format!("{}/saml/metadata", demo.base));
    assert!(md.body.contains("AuthnRequestsSigned=\"true\""), "{}", md.body);
    assert!(md.body.contains("AuthnRequestsSigned=\"true\""), "{}", md.body);
    let file = setup.server.write("demo-sp.xml", &md.body);
    setup.server.cli(&[
        "idp",
        "app",
        "import-sp-metadata",
        "--app",
        &setup.app,
        file.to_str().expect("path"),
    ]);

    let login = |demo: &Demo| {
        let mut browser = Browser::new();
        let page = browser.get(&format!("{}/saml/login", demo.base));
        assert_eq!(page.status, 200, "the POST binding is a form:\n{}", page.body);
        assert_eq!(page.form_action(), Some(setup.server.sso_url()));
        let request = page.field("SAMLRequest").expect("SAMLRequest");
        let xml = String::from_utf8(
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, request.as_bytes())
                .expect("base64"),
        )
        .expect("utf-8");
        assert!(xml.contains("<ds:Signature"), "the AuthnRequest is signed:\n{xml}");
        let relay = page.field("RelayState").expect("RelayState");
        let page =
            browser.post_form(&setup.server.sso_url(), &[("SAMLRequest", &request), ("RelayState", &relay)]);
        let page = if page.is_sign_in() {
            browser.sign_in(&page, ALICE, PASSWORD, &setup.server.base)
        } else {
            page
        };
        (browser, page)
    };
    let (mut browser, page) = login(&demo);
    let acs = post(&mut browser, &PostForm::from_page(&page));
    assert_eq!(acs.status, 303, "{}\n{}", acs.body, demo.log());
    demo.stop();

    let other = tempfile::tempdir().expect("dir");
    let demo = Demo::start(PORTCULLIS, &other.path().join("data"), setup.port, &setup.metadata, &flags);
    let (_, page) = login(&demo);
    assert!(page.field("SAMLResponse").is_none(), "a request signed by another key gets no Response");
    assert!(page.error_code().is_some(), "the IdP shows its error page:\n{}", page.body);
}

/// Proves IdP-initiated responses are accepted only when the provider allows it:
/// without `--allow-idp-initiated`, the Response posted from the IdP's My Apps tile
/// is refused with SP_UNSOLICITED_NOT_ALLOWED and nobody is provisioned.
#[test]
fn idp_initiated_is_refused_unless_the_provider_allows_it() {
    let setup = setup();
    let demo = Demo::start(PORTCULLIS, &setup.demo_dir.path().join("data"), setup.port, &setup.metadata, &[]);
    let mut browser = Browser::new();
    let page = browser.get(&setup.server.my_apps_url());
    browser.sign_in(&page, ALICE, PASSWORD, &setup.server.base);
    let launch =
        browser.get(&format!("{}/{}/myapps/launch/{}", setup.server.base, setup.server.tenant, setup.app));
    let form = PostForm::from_page(&launch);
    assert_sp_error(&post(&mut browser, &form), "SP_UNSOLICITED_NOT_ALLOWED");
    assert!(saml_users(&demo.data).is_empty(), "nobody was provisioned");
}

/// Proves: `portcullis sp-demo --data DIR --listen ADDR --base-url URL` (the exact contract, no
/// provider given) starts, serves its SP metadata, and tells a visitor that no identity
/// provider is configured yet and how to add one.
#[test]
fn sp_demo_starts_on_the_bare_contract_and_says_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = Demo::start_from(PORTCULLIS, &dir.path().join("demo"), free_port(), "", &[]);
    assert!(demo.startup.contains("none yet"), "{}", demo.startup);
    let mut browser = Browser::new();
    let page = browser.get(&format!("{}/", demo.base));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("--idp-metadata"), "{}", page.body);
    let metadata = browser.get(&format!("{}/saml/metadata", demo.base));
    assert!(metadata.body.contains("AssertionConsumerService"), "{}", metadata.body);
    demo.stop();
}
