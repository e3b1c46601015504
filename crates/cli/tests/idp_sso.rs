//! End-to-end SSO through the real `portcullis up` (issue 3, "Proof required").
//!
//! Every test starts its own server on a temporary data directory and a free
//! port, configures it only with the `portcullis idp …` command line (while it
//! runs), drives the browser over real HTTP (cookies, the sign-in form with its
//! CSRF token, My Apps tiles), and hands whatever the IdP auto-posts to a real
//! third-party service provider: pysaml2, python3-saml or @node-saml/node-saml
//! (`tests/interop`). The SP libraries build the AuthnRequests and decide, with
//! their own strict validation, whether a Response signs the user in.

mod support;

use support::*;

const ALICE: &str = "alice@contoso.test";

/// A user with every attribute the default and custom claims read.
fn alice(server: &Server) -> String {
    server.create_user(
        ALICE,
        "Alice",
        "Smith",
        &[
            "--mail",
            "alice.smith@mail.contoso.test",
            "--display-name",
            "Alice Smith",
            "--department",
            "Engineering",
            "--employee-id",
            "E-1001",
        ],
    )
}

/// A custom SAML app with a persistent NameID, assigned to `upn`.
fn generic_app(server: &Server, name: &str, entity_id: &str, acs: &str, upn: &str) -> String {
    let app = server.create_app(
        "generic-saml",
        name,
        &[&format!("IDENTIFIER={entity_id}"), &format!("REPLY_URL={acs}")],
    );
    server.cli(&["idp", "app", "set-saml", "--app", &app, "--nameid-format", "persistent"]);
    server.cli(&["idp", "app", "assign", "--app", &app, "--user", upn]);
    app
}

/// SP-initiated sign-in: the SP's AuthnRequest goes to the IdP; the browser signs
/// in with (`upn`, PASSWORD) when the IdP asks; the IdP must answer with the
/// auto-posting form to the SP's ACS URL. Returns the request and the form.
fn sp_login(
    server: &Server,
    browser: &mut Browser,
    sp: &Sp,
    relay: Option<&str>,
    format: Option<&str>,
    upn: &str,
) -> (Login, PostForm) {
    let login = sp.login(relay, format);
    let page = browser.get(&login.url);
    let page = if page.is_sign_in() { browser.sign_in(&page, upn, PASSWORD, &server.base) } else { page };
    let form = PostForm::from_page(&page);
    assert_eq!(form.action, sp.acs_url, "the Response must be posted to the SP's ACS URL");
    (login, form)
}

fn accept(server: &Server, sp: &Sp, request_id: Option<&str>, form: &PostForm) -> Accepted {
    sp.acs(request_id, &form.saml_response, &server.file("response.b64")).unwrap_or_else(|reason| {
        panic!("{} rejected the IdP's Response: {reason}\n{}", sp.peer.name(), form.xml())
    })
}

fn assert_error_page(page: &Page, code: &str) {
    assert_eq!(
        page.error_code().as_deref(),
        Some(code),
        "expected the error page with {code} at {}, got {}:\n{}",
        page.url,
        page.status,
        page.body
    );
    assert!(!page.body.contains("SAMLResponse"), "an error page carries a SAMLResponse:\n{}", page.body);
    assert!(page.correlation_id().is_some_and(|c| !c.is_empty()), "no correlation ID:\n{}", page.body);
}

/// No page after the first `from` of the browser's history carried a Response.
fn assert_no_response_since(browser: &Browser, from: usize) {
    for p in &browser.history[from..] {
        assert!(
            !p.body.contains("SAMLResponse"),
            "{} {} answered a SAMLResponse:\n{}",
            p.status,
            p.url,
            p.body
        );
    }
}

// ---------------------------------------------------------------- SP-initiated, three SPs

/// Proves, for one SP library: SP-initiated login completes with a persistent
/// NameID and the default plus custom claims; the NameID is the same at a second
/// login (existing session, no sign-in form) and after the user's UPN changes
/// (new browser, sign-in with the new UPN), while the UPN-based claims follow the
/// change; RelayState comes back untouched.
fn sp_initiated_login_with(peer: Peer) {
    let server = Server::start(PORTCULLIS);
    alice(&server);
    let host = format!("{}.sp.test", peer.name());
    let (entity, acs) = (format!("https://{host}/saml"), format!("https://{host}/saml/acs"));
    let app = generic_app(&server, &format!("App for {}", peer.name()), &entity, &acs, ALICE);
    server.cli(&[
        "idp",
        "app",
        "claim",
        "set",
        "--app",
        &app,
        "--name",
        "department",
        "--source",
        "user.department",
    ]);
    server.cli(&[
        "idp",
        "app",
        "claim",
        "set",
        "--app",
        &app,
        "--name",
        "employeeid",
        "--source",
        "user.employeeid",
        "--namespace",
        "https://claims.portcullis.test",
    ]);
    // A constant claim, and a transformed one.
    server.cli(&["idp", "app", "claim", "set", "--app", &app, "--name", "tier", "--constant", "Gold"]);
    server.cli(&[
        "idp",
        "app",
        "claim",
        "set",
        "--app",
        &app,
        "--name",
        "handle",
        "--source",
        "user.mail",
        "--transform",
        "extractmailprefix",
    ]);
    server.cli(&[
        "idp",
        "app",
        "claim",
        "set",
        "--app",
        &app,
        "--name",
        "fullname",
        "--source",
        "user.givenname",
        "--transform",
        "join",
        "--join-separator",
        ".",
        "--join-with",
        "user.surname",
    ]);
    let sp = Sp::new(peer, &entity, &acs, &server.metadata(&app));

    // First login: the IdP asks for credentials.
    let mut browser = Browser::new();
    let (login, form) =
        sp_login(&server, &mut browser, &sp, Some("/after-login?x=1"), Some(PERSISTENT), ALICE);
    assert_eq!(form.relay_state.as_deref(), Some("/after-login?x=1"), "RelayState must come back untouched");
    let first = accept(&server, &sp, Some(&login.request_id), &form);
    assert_eq!(first.name_id_format.as_deref(), Some(PERSISTENT), "{:?}", first.raw);
    assert!(first.name_id.len() >= 32, "a persistent NameID is long and opaque: {:?}", first.name_id);
    assert!(
        !first.name_id.contains("alice"),
        "a persistent NameID must not reveal the UPN: {}",
        first.name_id
    );
    assert_eq!(first.claim("emailaddress"), ["alice.smith@mail.contoso.test"], "{:?}", first.raw);
    assert_eq!(first.claim("givenname"), ["Alice"]);
    assert_eq!(first.claim("surname"), ["Smith"]);
    assert_eq!(first.claim("name"), [ALICE]);
    assert_eq!(first.attr("department"), ["Engineering"], "custom claim without namespace");
    assert_eq!(
        first.attr("https://claims.portcullis.test/employeeid"),
        ["E-1001"],
        "custom claim with namespace"
    );
    assert_eq!(first.attr("tier"), ["Gold"], "constant claim");
    assert_eq!(first.attr("handle"), ["alice.smith"], "ExtractMailPrefix of user.mail");
    assert_eq!(first.attr("fullname"), ["Alice.Smith"], "Join of givenname and surname");
    assert!(first.session_index.as_deref().is_some_and(|s| !s.is_empty()), "{:?}", first.raw);

    // Second login in the same browser: single sign-on, no form, same NameID.
    let pages = browser.history.len();
    let (login2, form2) = sp_login(&server, &mut browser, &sp, None, Some(PERSISTENT), ALICE);
    assert_eq!(browser.history.len(), pages + 1, "the session must answer without the sign-in form");
    assert_ne!(login2.request_id, login.request_id);
    let second = accept(&server, &sp, Some(&login2.request_id), &form2);
    assert_eq!(second.name_id, first.name_id, "the persistent NameID must be stable across logins");
    assert_eq!(second.session_index, first.session_index, "one IdP session, one session index");

    // The UPN changes; a new browser signs in with the new UPN: same NameID.
    let renamed = "alice.smith@contoso.test";
    server.cli(&["idp", "user", "set", "--user", ALICE, "--upn", renamed]);
    let mut other = Browser::new();
    let (login3, form3) = sp_login(&server, &mut other, &sp, None, Some(PERSISTENT), renamed);
    let third = accept(&server, &sp, Some(&login3.request_id), &form3);
    assert_eq!(third.name_id, first.name_id, "the persistent NameID must survive a UPN change");
    assert_eq!(third.claim("name"), [renamed], "the name claim follows the UPN");
    assert_eq!(third.attr("department"), ["Engineering"]);
}

#[test]
fn sp_initiated_login_completes_for_pysaml2() {
    sp_initiated_login_with(Peer::Pysaml2);
}

#[test]
fn sp_initiated_login_completes_for_python3_saml() {
    sp_initiated_login_with(Peer::Python3Saml);
}

#[test]
fn sp_initiated_login_completes_for_node_saml() {
    sp_initiated_login_with(Peer::NodeSaml);
}

/// Proves that persistent NameIDs are per app (two apps cannot link a user by it)
/// and that an SP that asks for no particular format (python3-saml's default
/// "unspecified") gets the app's configured one.
#[test]
fn persistent_name_ids_differ_between_apps() {
    let server = Server::start(PORTCULLIS);
    alice(&server);
    let mut ids = Vec::new();
    let mut browser = Browser::new();
    for host in ["one.sp.test", "two.sp.test"] {
        let (entity, acs) = (format!("https://{host}"), format!("https://{host}/acs"));
        let app = generic_app(&server, host, &entity, &acs, ALICE);
        let sp = Sp::new(Peer::Python3Saml, &entity, &acs, &server.metadata(&app));
        let (login, form) = sp_login(&server, &mut browser, &sp, None, None, ALICE);
        let a = accept(&server, &sp, Some(&login.request_id), &form);
        assert_eq!(a.name_id_format.as_deref(), Some(PERSISTENT), "{:?}", a.raw);
        ids.push(a.name_id);
    }
    assert_ne!(ids[0], ids[1], "persistent NameIDs of two apps must not be linkable");
}

// ---------------------------------------------------------------- IdP-initiated

/// Proves that IdP-initiated login from My Apps completes for python3-saml: the
/// user signs in at My Apps, follows the app's tile, and the IdP posts an
/// unsolicited Response (no InResponseTo) with the app's Relay State, which
/// python3-saml accepts without a request ID.
#[test]
fn idp_initiated_login_from_my_apps_completes_for_python3_saml() {
    let server = Server::start(PORTCULLIS);
    alice(&server);
    let (entity, acs) = ("https://portal.sp.test/saml", "https://portal.sp.test/saml/acs");
    let app = generic_app(&server, "Partner Portal", entity, acs, ALICE);
    server.cli(&[
        "idp",
        "app",
        "set-saml",
        "--app",
        &app,
        "--relay-state",
        "https://portal.sp.test/dashboard",
    ]);

    // The SP loads the federation metadata from the app's published URL.
    let mut browser = Browser::new();
    let published = browser.get(&format!(
        "{}/{}/federationmetadata/2007-06/federationmetadata.xml?appid={app}",
        server.base, server.tenant
    ));
    assert_eq!(published.status, 200);
    assert!(published.body.contains(&format!("entityID=\"{}\"", server.entity_id())), "{}", published.body);
    let sp = Sp::new(Peer::Python3Saml, entity, acs, &server.write("published.xml", &published.body));

    let page = browser.get(&server.my_apps_url());
    let my_apps = browser.sign_in(&page, ALICE, PASSWORD, &server.base);
    let session_cookie = browser
        .history
        .iter()
        .flat_map(|p| p.headers.iter())
        .find(|(n, v)| n.eq_ignore_ascii_case("set-cookie") && v.starts_with("pcs_session="))
        .map(|(_, v)| v.clone())
        .expect("a session cookie after sign-in");
    assert!(
        session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"),
        "the session cookie must be HttpOnly and SameSite=Lax: {session_cookie}"
    );
    assert_eq!(my_apps.status, 200, "{}", my_apps.body);
    let launch = format!("/{}/myapps/launch/{app}", server.tenant);
    let tiles = my_apps.links();
    assert!(
        tiles.iter().any(|(href, text)| *href == launch && text == "Partner Portal"),
        "My Apps must show a tile named after the app linking to {launch}: {tiles:?}"
    );
    let page = browser.get(&format!("{}{launch}", server.base));
    let form = PostForm::from_page(&page);
    assert_eq!(form.action, acs);
    assert_eq!(form.relay_state.as_deref(), Some("https://portal.sp.test/dashboard"));
    assert!(!form.xml().contains("InResponseTo"), "an unsolicited Response answers no request");
    let a = accept(&server, &sp, None, &form);
    assert_eq!(a.name_id_format.as_deref(), Some(PERSISTENT));
    assert_eq!(a.claim("name"), [ALICE]);
    assert_eq!(a.raw["in_response_to"], serde_json::Value::Null);
}

// ---------------------------------------------------------------- the four vendor templates

/// Proves the BeyondTrust Remote Support template end to end: HOSTNAME fills its
/// entity ID, reply URL and sign-on URL; an SP at https://HOST.bomgar.com with
/// ACS /saml/sso gets a persistent NameID and Username/FirstName/LastName/Email
/// and Groups carrying the object IDs of the user's security groups (nested
/// memberships resolved; the user is assigned through a group); the My Apps tile
/// of this SP-initiated-only app leads to its sign-on URL; creation fails while
/// HOSTNAME is unfilled.
#[test]
fn beyondtrust_remote_support_template_works_end_to_end() {
    let server = Server::start(PORTCULLIS);
    alice(&server);
    let unfilled =
        server.cli_output(&["idp", "app", "create", "--template", "beyondtrust-remote-support"], None);
    assert!(!unfilled.status.success(), "creation must fail while HOSTNAME is unfilled");
    assert!(
        describe(&unfilled).contains("HOSTNAME"),
        "the message must name HOSTNAME:\n{}",
        describe(&unfilled)
    );

    // Issue 14, item 4: the template's notes for the administrator are shown in full.
    let details = server.cli(&["idp", "app", "templates", "--details", "beyondtrust-remote-support"]);
    assert!(details.contains("Notes for the administrator:"), "{details}");
    assert!(details.contains("Service Provider Settings"), "where the real values are: {details}");
    assert!(
        details.contains("HOSTNAME (required)") && details.contains("https://<HOSTNAME>.bomgar.com"),
        "{details}"
    );

    let app = server.create_app("beyondtrust-remote-support", "BeyondTrust", &["HOSTNAME=acme"]);
    // Issue 14, item 10: the groups claim is read back with the spelling it accepts.
    server.cli(&["idp", "app", "groups-claim", "--app", &app, "security"]);
    let show: serde_json::Value =
        serde_json::from_str(&server.cli(&["idp", "app", "show", "--app", &app])).unwrap();
    assert_eq!(show["config"]["groups_claim"], "security_groups");
    let said = server.cli(&["idp", "app", "groups-claim", "--app", &app, "security_groups"]);
    assert!(said.ends_with(": security_groups"), "{said}");
    let help = server.cli(&["idp", "app", "groups-claim", "--help"]);
    assert!(help.contains("security_groups") && help.contains("all_groups"), "{help}");
    let reps = server.cli(&["idp", "group", "create", "--name", "Support Representatives"]);
    let admins = server.cli(&["idp", "group", "create", "--name", "Support Admins"]);
    server.cli(&["idp", "group", "add-member", "--group", &reps, "--user", ALICE]);
    server.cli(&["idp", "group", "add-member", "--group", &admins, "--user", ALICE]);
    // Alice is in "Tier 2" through "Support Representatives" (nested).
    let tier2 = server.cli(&["idp", "group", "create", "--name", "Tier 2"]);
    server.cli(&["idp", "group", "add-member", "--group", &tier2, "--member-group", &reps]);
    server.cli(&["idp", "app", "assign", "--app", &app, "--group", &reps]);

    let sp = Sp::new(
        Peer::Python3Saml,
        "https://acme.bomgar.com",
        "https://acme.bomgar.com/saml/sso",
        &server.metadata(&app),
    );
    let mut browser = Browser::new();
    let (login, form) = sp_login(&server, &mut browser, &sp, None, None, ALICE);
    let a = accept(&server, &sp, Some(&login.request_id), &form);
    assert_eq!(a.name_id_format.as_deref(), Some(PERSISTENT), "BeyondTrust requires persistent: {:?}", a.raw);
    assert_eq!(a.attr("Username"), [ALICE], "{:?}", a.raw);
    assert_eq!(a.attr("FirstName"), ["Alice"]);
    assert_eq!(a.attr("LastName"), ["Smith"]);
    assert_eq!(a.attr("Email"), ["alice.smith@mail.contoso.test"]);
    let mut groups = a.attr("Groups");
    groups.sort();
    let mut want = vec![reps.clone(), admins.clone(), tier2.clone()];
    want.sort();
    assert_eq!(
        groups, want,
        "Groups must carry the object IDs of the user's security groups, nested ones too"
    );

    // SP-initiated only: the tile sends the browser to the sign-on URL.
    let tile = browser.get(&format!("{}/{}/myapps/launch/{app}", server.base, server.tenant));
    assert_eq!(tile.status, 302, "{}", tile.body);
    assert_eq!(tile.header("location"), Some("https://acme.bomgar.com/saml"));
}

/// Minimal SP metadata: one entity with one HTTP-POST ACS.
fn sp_metadata(entity: &str, acs: &str) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0" isDefault="true"/></md:SPSSODescriptor></md:EntityDescriptor>"#
    )
}

/// Issue 14, item 5: "Test this application" is listed by `idp app show`; after an SP metadata
/// import the Sign-on URL the template made from a placeholder follows the imported values, and
/// when they do not give it, it is cleared and the test says the Sign-on URL is unset — the
/// browser is never sent to the placeholder's guess.
#[test]
fn test_this_application_follows_imported_metadata_and_never_uses_a_placeholder() {
    let server = Server::start(PORTCULLIS);
    // The administrator filled HOSTNAME with a guess, as the template's note says the values
    // shown are not real until BeyondTrust's own settings are read.
    let app = server.create_app("beyondtrust-remote-support", "Support", &["HOSTNAME=example"]);
    let show = |server: &Server| -> serde_json::Value {
        serde_json::from_str(&server.cli(&["idp", "app", "show", "--app", &app])).unwrap()
    };
    let test_url = format!("{}/{}/myapps/test/{app}", server.base, server.tenant);
    assert_eq!(show(&server)["test_url"], test_url.as_str());
    assert_eq!(show(&server)["config"]["sign_on_url"], "https://example.bomgar.com/saml");

    let real =
        server.write("real.xml", &sp_metadata("https://real.bomgar.com", "https://real.bomgar.com/saml/sso"));
    let out = server
        .cli_output(&["idp", "app", "import-sp-metadata", "--app", &app, &real.to_string_lossy()], None);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("https://real.bomgar.com/saml"),
        "{}",
        describe(&out)
    );
    assert_eq!(show(&server)["config"]["sign_on_url"], "https://real.bomgar.com/saml");

    let mut admin = Browser::new();
    let page = admin.get(&test_url);
    let page = admin.sign_in(&page, "admin@portcullis.local", &server.admin_password, &server.base);
    assert_eq!(page.status, 302, "{}", page.body);
    assert_eq!(page.header("location"), Some("https://real.bomgar.com/saml"));

    // Metadata of a custom domain does not give HOSTNAME: the guess is dropped, not kept.
    let custom = server
        .write("custom.xml", &sp_metadata("https://support.acme.test", "https://support.acme.test/saml/sso"));
    let out = server
        .cli_output(&["idp", "app", "import-sp-metadata", "--app", &app, &custom.to_string_lossy()], None);
    assert!(out.status.success(), "{}", describe(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("now unset") && said.contains("--sign-on-url"), "{said}");
    let shown = show(&server);
    assert_eq!(shown["config"]["sign_on_url"], serde_json::Value::Null);
    assert_eq!(shown["still_needed"][0]["field"], "Sign-on URL", "{shown}");
    let page = admin.get(&test_url);
    assert_error_page(&page, "PCS750054");
    assert!(page.body.contains("Sign-on URL is unset"), "{}", page.body);
    assert!(!page.body.contains("bomgar.com"), "{}", page.body);
}

/// Proves the IT-Conductor template end to end: it is created without parameters (its
/// tutorial has no Basic SAML step) and says where the Identifier and Reply URL come from; it
/// is IdP-initiated only, so the user starts from My Apps and the SP (the values its support
/// gives, set afterwards) accepts an unsolicited Response with PERSON_Email, OBJECT_Name,
/// PERSON_FirstName and PERSON_LastName.
#[test]
fn it_conductor_template_works_end_to_end() {
    let server = Server::start(PORTCULLIS);
    alice(&server);
    let (entity, acs) = ("https://acme.itconductor.com/sso", "https://acme.itconductor.com/sso/acs");
    // Issue 14, item 4: the tutorial says no Basic SAML step is needed, so the app is created
    // without parameters, and the command says which value comes from whom.
    let out = server.cli_output(&["idp", "app", "create", "--template", "it-conductor"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let app = String::from_utf8(out.stdout.clone()).unwrap().trim().to_string();
    assert!(uuid::Uuid::parse_str(&app).is_ok(), "standard output is the app ID alone: {app}");
    let guide = String::from_utf8_lossy(&out.stderr);
    for want in [
        "Identifier: from",
        "Reply URL: from",
        "support@itconductor.com",
        "--identifier VALUE",
        "Notes for the administrator",
    ] {
        assert!(guide.contains(want), "{want:?} in:\n{guide}");
    }
    assert!(guide.contains(&format!("/{}/myapps/test/{app}", server.tenant)), "{guide}");
    server.cli(&["idp", "app", "set-saml", "--app", &app, "--identifier", entity, "--reply-url", acs]);
    let show: serde_json::Value =
        serde_json::from_str(&server.cli(&["idp", "app", "show", "--app", &app])).unwrap();
    assert_eq!(show["still_needed"], serde_json::json!([]), "{show}");
    server.cli(&["idp", "app", "assign", "--app", &app, "--user", ALICE]);
    let sp = Sp::new(Peer::Python3Saml, entity, acs, &server.metadata(&app));

    let mut browser = Browser::new();
    let page = browser.get(&format!("{}/{}/myapps/launch/{app}", server.base, server.tenant));
    let page = browser.sign_in(&page, ALICE, PASSWORD, &server.base);
    let form = PostForm::from_page(&page);
    assert_eq!(form.action, acs);
    let a = accept(&server, &sp, None, &form);
    assert_eq!(a.attr("PERSON_Email"), ["alice.smith@mail.contoso.test"], "{:?}", a.raw);
    assert_eq!(a.attr("OBJECT_Name"), [ALICE]);
    assert_eq!(a.attr("PERSON_FirstName"), ["Alice"]);
    assert_eq!(a.attr("PERSON_LastName"), ["Smith"]);
}

/// Proves the iPass SmartConnect template end to end, SP- and IdP-initiated:
/// firstName, lastName, email (the UPN, as the tutorial says) and username; and
/// that its fixed identifier allows one instance per tenant.
#[test]
fn ipass_smartconnect_template_works_end_to_end() {
    let server = Server::start(PORTCULLIS);
    alice(&server);
    let (entity, acs) =
        ("https://smartconnect.ipass.com/saml/acme", "https://smartconnect.ipass.com/saml/acs");
    let params = [format!("IDENTIFIER={entity}"), format!("REPLY_URL={acs}")];
    let params: Vec<&str> = params.iter().map(String::as_str).collect();
    let app = server.create_app("ipass-smartconnect", "iPass SmartConnect", &params);
    server.cli(&["idp", "app", "assign", "--app", &app, "--user", ALICE]);
    let sp = Sp::new(Peer::Python3Saml, entity, acs, &server.metadata(&app));

    let mut browser = Browser::new();
    let (login, form) = sp_login(&server, &mut browser, &sp, None, None, ALICE);
    let a = accept(&server, &sp, Some(&login.request_id), &form);
    assert_eq!(a.name_id_format.as_deref(), Some(EMAIL), "{:?}", a.raw);
    assert_eq!(a.name_id, ALICE);
    assert_eq!(a.attr("firstName"), ["Alice"], "{:?}", a.raw);
    assert_eq!(a.attr("lastName"), ["Smith"]);
    assert_eq!(a.attr("email"), [ALICE]);
    assert_eq!(a.attr("username"), [ALICE]);

    // Issue 14, item 6: the app supports SP-initiated sign-on and has a Sign-on URL, so its tile
    // sends the browser there; without one, the tile signs in IdP-initiated.
    let tile = format!("{}/{}/myapps/launch/{app}", server.base, server.tenant);
    let page = browser.get(&tile);
    assert_eq!(page.status, 302, "{}", page.body);
    assert_eq!(
        page.header("location"),
        Some("https://om-activation.ipass.com/ClientActivation/ssolanding.go")
    );
    server.cli(&["idp", "app", "set-saml", "--app", &app, "--sign-on-url", ""]);
    let page = browser.get(&tile);
    let b = accept(&server, &sp, None, &PostForm::from_page(&page));
    assert_eq!(b.name_id, a.name_id);
    assert_eq!(b.attr("username"), [ALICE]);

    let mut again = vec!["idp", "app", "create", "--template", "ipass-smartconnect"];
    for p in &params {
        again.extend(["--param", p]);
    }
    let twice = server.cli_output(&again, None);
    assert!(
        !twice.status.success(),
        "a fixed identifier allows one instance per tenant:\n{}",
        describe(&twice)
    );
}

/// Proves the ServusConnect template end to end with an SP that has its fixed
/// identifier (an Amazon Cognito URN) and reply URL: the default claims carry
/// the e-mail address ServusConnect matches users on.
#[test]
fn servusconnect_template_works_end_to_end() {
    let server = Server::start(PORTCULLIS);
    alice(&server);
    let app = server.create_app("servusconnect", "ServusConnect", &[]);
    server.cli(&["idp", "app", "assign", "--app", &app, "--user", ALICE]);
    let sp = Sp::new(
        Peer::Python3Saml,
        "urn:amazon:cognito:sp:us-east-1_rlgU6e3y5",
        "https://login.servusconnect.com/saml2/idpresponse",
        &server.metadata(&app),
    );
    let mut browser = Browser::new();
    let (login, form) = sp_login(&server, &mut browser, &sp, Some("servus-state"), None, ALICE);
    assert_eq!(form.relay_state.as_deref(), Some("servus-state"));
    let a = accept(&server, &sp, Some(&login.request_id), &form);
    assert_eq!(a.claim("emailaddress"), ["alice.smith@mail.contoso.test"], "{:?}", a.raw);
    assert_eq!(a.claim("name"), [ALICE]);
    assert_eq!(a.claim("givenname"), ["Alice"]);
    assert_eq!(a.claim("surname"), ["Smith"]);

    let twice = server.cli_output(&["idp", "app", "create", "--template", "servusconnect"], None);
    assert!(
        !twice.status.success(),
        "a fixed identifier allows one instance per tenant:\n{}",
        describe(&twice)
    );
}

/// Proves the HTTP-POST binding of the SAML endpoint with a signed request: pysaml2
/// posts an AuthnRequest carrying an enveloped XML signature (its certificate
/// imported into the app from SP metadata); the IdP verifies it, signs the user
/// in and pysaml2 accepts the Response; the same request with one byte of its XML
/// changed gets PCS75016 and no Response.
#[test]
fn sp_initiated_post_binding_with_signed_request_for_pysaml2() {
    let server = Server::start(PORTCULLIS);
    alice(&server);
    let (entity, acs) = ("https://posting.sp.test/saml", "https://posting.sp.test/saml/acs");
    let (key, cert) = keygen(&server, "posting.sp.test");
    let app = app_from_sp_metadata(&server, "Posting SP", entity, acs, &cert);
    let sp = Sp::new(Peer::Pysaml2, entity, acs, &server.metadata(&app));
    let signed = ["--binding", "post", "--sp-key", key.as_str(), "--sp-cert", cert.as_str()];

    let mut browser = Browser::new();
    let (login, fields) = post_login(&sp, Some("posted-state"), &signed);
    assert!(b64_xml(&fields["SAMLRequest"]).contains("SignatureValue"), "pysaml2 signed the request");
    let page = browser.post_form(&login.url, &as_pairs(&fields));
    let page = browser.sign_in(&page, ALICE, PASSWORD, &server.base);
    let form = PostForm::from_page(&page);
    assert_eq!(form.relay_state.as_deref(), Some("posted-state"));
    let a = accept(&server, &sp, Some(&login.request_id), &form);
    assert_eq!(a.name_id_format.as_deref(), Some(PERSISTENT));

    let (login, mut fields) = post_login(&sp, None, &signed);
    let xml = b64_xml(&fields["SAMLRequest"]);
    let at = xml.find("IssueInstant=\"").expect("IssueInstant") + "IssueInstant=\"".len() + 3;
    let mut bytes = xml.into_bytes();
    bytes[at] = if bytes[at] == b'9' { b'8' } else { b'9' };
    fields.insert("SAMLRequest".into(), {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    });
    let from = browser.history.len();
    let page = browser.post_form(&login.url, &as_pairs(&fields));
    assert_error_page(&page, "PCS75016");
    assert_no_response_since(&browser, from);
}

/// `portcullis saml keygen` for an SP: (key path, certificate path).
fn keygen(server: &Server, cn: &str) -> (String, String) {
    let (key, cert) = (server.file("sp.key"), server.file("sp.pem"));
    server.cli(&[
        "saml",
        "keygen",
        "--cn",
        cn,
        "--out-key",
        &key.to_string_lossy(),
        "--out-cert",
        &cert.to_string_lossy(),
    ]);
    (key.to_string_lossy().into_owned(), cert.to_string_lossy().into_owned())
}

/// A generic app configured by importing the SP metadata python3-saml generates
/// for (entity, acs) with `cert` as its signing certificate; assigned to alice.
fn app_from_sp_metadata(server: &Server, name: &str, entity: &str, acs: &str, cert: &str) -> String {
    let out =
        Peer::Python3Saml.run(&["metadata", "--sp-entity-id", entity, "--acs-url", acs, "--sp-cert", cert]);
    assert!(out.status.success(), "python3-saml metadata\n{}", describe(&out));
    let sp_metadata = server.write("sp-metadata.xml", &String::from_utf8_lossy(&out.stdout));
    let app = server.create_app("generic-saml", name, &[]);
    server.cli(&["idp", "app", "import-sp-metadata", "--app", &app, &sp_metadata.to_string_lossy()]);
    server.cli(&["idp", "app", "set-saml", "--app", &app, "--nameid-format", "persistent"]);
    server.cli(&["idp", "app", "assign", "--app", &app, "--user", ALICE]);
    app
}

/// pysaml2's HTTP-POST AuthnRequest: the login and the form fields to post.
fn post_login(
    sp: &Sp,
    relay: Option<&str>,
    extra: &[&str],
) -> (Login, std::collections::BTreeMap<String, String>) {
    let mut args = vec![
        "login",
        "--idp-metadata",
        sp.idp_metadata.to_str().expect("utf-8 path"),
        "--sp-entity-id",
        &sp.entity_id,
        "--acs-url",
        &sp.acs_url,
    ];
    if let Some(r) = relay {
        args.extend(["--relay-state", r]);
    }
    args.extend_from_slice(extra);
    let out = sp.peer.run(&args);
    assert!(out.status.success(), "{} login\n{}", sp.peer.name(), describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("login JSON");
    let fields = v["form"]
        .as_object()
        .expect("form fields")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string field").to_string()))
        .collect();
    let login = Login {
        url: v["url"].as_str().expect("url").to_string(),
        request_id: v["request_id"].as_str().expect("request_id").to_string(),
    };
    (login, fields)
}

fn as_pairs(fields: &std::collections::BTreeMap<String, String>) -> Vec<(&str, &str)> {
    fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn b64_xml(value: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(value).expect("base64"))
        .expect("utf-8")
}

// ---------------------------------------------------------------- negative paths

/// A server with alice assigned to one app (python3-saml SP), and a browser that
/// already holds her session: so that a Response would be possible, and any
/// refusal is the IdP's decision, not a missing session.
struct SignedIn {
    server: Server,
    app: String,
    sp: Sp,
    browser: Browser,
}

fn signed_in() -> SignedIn {
    let server = Server::start(PORTCULLIS);
    alice(&server);
    let (entity, acs) = ("https://crm.sp.test/saml", "https://crm.sp.test/saml/acs");
    let app = generic_app(&server, "CRM", entity, acs, ALICE);
    let sp = Sp::new(Peer::Python3Saml, entity, acs, &server.metadata(&app));
    let mut browser = Browser::new();
    let (login, form) = sp_login(&server, &mut browser, &sp, None, None, ALICE);
    accept(&server, &sp, Some(&login.request_id), &form);
    SignedIn { server, app, sp, browser }
}

/// Proves: a user who is not assigned to the app gets PCS50105 after signing in,
/// both SP-initiated and from a launch URL, the app is not on their My Apps, and
/// no Response is produced.
#[test]
fn unassigned_user_gets_pcs50105_and_no_response() {
    let SignedIn { server, app, sp, .. } = signed_in();
    server.create_user("bob@contoso.test", "Bob", "Jones", &["--mail", "bob@contoso.test"]);
    let mut browser = Browser::new();
    let login = sp.login(None, None);
    let page = browser.get(&login.url);
    let page = browser.sign_in(&page, "bob@contoso.test", PASSWORD, &server.base);
    assert_error_page(&page, "PCS50105");
    assert_eq!(page.status, 403);
    // Issue 14, item 10: it names what exists, not a "Users and groups" page.
    assert!(!page.body.contains("Users and groups"), "{}", page.body);
    assert!(
        page.body.contains("portcullis idp app assign") && page.body.contains("/assignments"),
        "{}",
        page.body
    );

    let launch = format!("/{}/myapps/launch/{app}", server.tenant);
    let my_apps = browser.get(&server.my_apps_url());
    assert!(!my_apps.body.contains(&launch), "My Apps lists an unassigned app:\n{}", my_apps.body);
    let page = browser.get(&format!("{}{launch}", server.base));
    assert_error_page(&page, "PCS50105");
    assert!(!browser.saw_saml_response());
}

/// Proves: an AuthnRequest whose AssertionConsumerServiceURL is not a registered
/// reply URL gets PCS50011 and no Response, even for a signed-in user.
#[test]
fn unregistered_reply_url_gets_pcs50011_and_no_response() {
    let SignedIn { server, sp, mut browser, .. } = signed_in();
    let evil = Sp { acs_url: "https://attacker.test/collect".into(), ..sp };
    let from = browser.history.len();
    let page = browser.get(&evil.login(None, None).url);
    assert_error_page(&page, "PCS50011");
    assert!(page.body.contains("https://attacker.test/collect"), "the message names the URL:\n{}", page.body);
    assert_no_response_since(&browser, from);
    assert!(server.signins(&[]).iter().any(|r| r["result"] == "PCS50011"));
}

/// Proves: an AuthnRequest from an issuer that is no app's identifier gets
/// PCS700016 and no Response, even for a signed-in user.
#[test]
fn unknown_issuer_gets_pcs700016_and_no_response() {
    let SignedIn { server, sp, mut browser, .. } = signed_in();
    let stranger = Sp { entity_id: "https://stranger.sp.test".into(), ..sp };
    let from = browser.history.len();
    let page = browser.get(&stranger.login(None, None).url);
    assert_error_page(&page, "PCS700016");
    assert!(page.body.contains("https://stranger.sp.test"), "the message names the issuer:\n{}", page.body);
    assert_no_response_since(&browser, from);
    assert!(server.signins(&[]).iter().any(|r| r["result"] == "PCS700016"));
}

/// Proves: once the app holds the SP's signing certificate (imported from SP
/// metadata python3-saml generated), a signed redirect AuthnRequest from that SP
/// is accepted, and the same request with one byte changed — in the request XML,
/// or in the signed RelayState — gets PCS75016 and no Response; and with signed
/// requests required, an unsigned one gets PCS75017.
#[test]
fn tampered_signed_request_gets_pcs75016_and_no_response() {
    let server = Server::start(PORTCULLIS);
    alice(&server);
    let (entity, acs) = ("https://signed.sp.test/saml", "https://signed.sp.test/saml/acs");
    let (key, cert) = keygen(&server, "signed.sp.test");
    let app = app_from_sp_metadata(&server, "Signed SP", entity, acs, &cert);
    let sp = Sp::new(Peer::Python3Saml, entity, acs, &server.metadata(&app));
    let signing = ["--sp-key", key.as_str(), "--sp-cert", cert.as_str()];

    // The genuine signed request works (and leaves a session in the browser).
    let mut browser = Browser::new();
    let login = sp.login_with(Some("state-A"), None, &signing);
    assert!(login.url.contains("&Signature=") || login.url.contains("?Signature="), "{}", login.url);
    let page = browser.get(&login.url);
    let page = browser.sign_in(&page, ALICE, PASSWORD, &server.base);
    let a = accept(&server, &sp, Some(&login.request_id), &PostForm::from_page(&page));
    assert_eq!(a.claim("name"), [ALICE]);

    // One byte of the request XML changed, the signature kept.
    let login = sp.login_with(Some("state-A"), None, &signing);
    let from = browser.history.len();
    let page = browser.get(&tamper_request_xml(&login.url));
    assert_error_page(&page, "PCS75016");
    // One byte of the signed RelayState changed.
    assert!(login.url.contains("RelayState=state-A&"), "{}", login.url);
    let page = browser.get(&login.url.replace("RelayState=state-A&", "RelayState=state-B&"));
    assert_error_page(&page, "PCS75016");
    assert_no_response_since(&browser, from);
    // The untouched request still works.
    let page = browser.get(&login.url);
    accept(&server, &sp, Some(&login.request_id), &PostForm::from_page(&page));

    // Signed requests required: an unsigned one is refused.
    server.cli(&["idp", "app", "set", "--app", &app, "--require-signed-requests", "true"]);
    let from_unsigned = browser.history.len();
    let page = browser.get(&sp.login(None, None).url);
    assert_error_page(&page, "PCS75017");
    assert_no_response_since(&browser, from_unsigned);
}

/// Re-encodes the SAMLRequest of a signed redirect URL with one byte of its XML
/// changed (the AuthnRequest's ID), keeping RelayState, SigAlg and Signature.
fn tamper_request_xml(url: &str) -> String {
    let (endpoint, query) = url.split_once('?').expect("query");
    let message = saml::bindings::redirect::decode_query(query).expect("decodable request");
    let xml = message.xml();
    let at = xml.find(" ID=\"").expect("ID attribute") + " ID=\"".len() + 3;
    let mut bytes = xml.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
    let tampered = String::from_utf8(bytes).expect("utf-8");
    let encoded = saml::bindings::redirect::redirect_query(
        saml::bindings::MessageParam::Request,
        &tampered,
        message.relay_state(),
        None,
    )
    .expect("re-encode");
    let kept: Vec<&str> =
        query.split('&').filter(|p| p.starts_with("SigAlg=") || p.starts_with("Signature=")).collect();
    assert_eq!(kept.len(), 2, "a signed redirect query: {query}");
    format!("{endpoint}?{encoded}&{}", kept.join("&"))
}

/// Proves: once an app is disabled (`idp app set --enabled false`, picked up by
/// the running server), SP-initiated requests and launch URLs get PCS7000112
/// even for a signed-in user, the tile leaves My Apps, and no Response is made.
#[test]
fn disabled_app_gets_pcs7000112_and_no_response() {
    let SignedIn { server, app, sp, mut browser } = signed_in();
    server.cli(&["idp", "app", "set", "--app", &app, "--enabled", "false"]);
    let from = browser.history.len();
    let page = browser.get(&sp.login(None, None).url);
    assert_error_page(&page, "PCS7000112");
    let launch = format!("/{}/myapps/launch/{app}", server.tenant);
    let page = browser.get(&format!("{}{launch}", server.base));
    assert_error_page(&page, "PCS7000112");
    let my_apps = browser.get(&server.my_apps_url());
    assert!(!my_apps.body.contains(&launch), "My Apps lists a disabled app:\n{}", my_apps.body);
    assert_no_response_since(&browser, from);

    // Enabled again, the same SP signs in again.
    server.cli(&["idp", "app", "set", "--app", &app, "--enabled", "true"]);
    let (login, form) = sp_login(&server, &mut browser, &sp, None, None, ALICE);
    accept(&server, &sp, Some(&login.request_id), &form);
}

// ---------------------------------------------------------------- legacy SHA-1 signing

/// Proves: an app set to SHA-1 (`set-saml --signing-algorithm sha1`, for a legacy SP that
/// accepts nothing else) gets Responses signed with RSA-SHA1 over SHA-1 digests, and
/// python3-saml and pysaml2 accept them; apps are SHA-256 until an administrator says so.
#[test]
fn sha1_signing_when_set_explicitly_is_accepted_by_python3_saml_and_pysaml2() {
    let server = Server::start(PORTCULLIS);
    alice(&server);
    let (entity, acs) = ("https://legacy.sp.test", "https://legacy.sp.test/acs");
    let app = generic_app(&server, "Legacy SHA-1", entity, acs, ALICE);
    let sp = Sp::new(Peer::Python3Saml, entity, acs, &server.metadata(&app));
    let mut browser = Browser::new();
    let (_, form) = sp_login(&server, &mut browser, &sp, None, None, ALICE);
    assert!(form.xml().contains("xmldsig-more#rsa-sha256"), "SHA-256 by default:\n{}", form.xml());

    server.cli(&[
        "idp",
        "app",
        "set-saml",
        "--app",
        &app,
        "--signing",
        "both",
        "--signing-algorithm",
        "sha1",
    ]);
    let (login, form) = sp_login(&server, &mut browser, &sp, None, None, ALICE);
    let xml = form.xml();
    assert!(xml.contains("http://www.w3.org/2000/09/xmldsig#rsa-sha1"), "not RSA-SHA1:\n{xml}");
    assert!(!xml.contains("rsa-sha256"), "a SHA-256 signature is left:\n{xml}");
    accept(&server, &sp, Some(&login.request_id), &form);
    let pysaml2 = Sp { peer: Peer::Pysaml2, ..sp.clone() };
    accept(&server, &pysaml2, Some(&login.request_id), &form);
}

// ---------------------------------------------------------------- certificate rollover

/// Proves certificate rollover: after `cert new` the metadata lists both
/// certificates, the active (old) one first, and Responses are still signed with
/// it; after `cert activate`, the new one is listed first and signs, so an SP
/// that loaded the new metadata accepts the next Response (pysaml2 and
/// python3-saml) and one still holding the old metadata rejects it.
#[test]
fn certificate_rollover_new_metadata_accepts_old_metadata_rejects() {
    let server = Server::start(PORTCULLIS);
    alice(&server);
    let (entity, acs) = ("https://rollover.sp.test", "https://rollover.sp.test/acs");
    let app = generic_app(&server, "Rollover", entity, acs, ALICE);
    let old_metadata = server.metadata(&app);
    let old_sp = Sp::new(Peer::Python3Saml, entity, acs, &old_metadata);
    let old_cert = server.cli(&["idp", "app", "cert", "download", "--app", &app, "--format", "base64"]);
    let mut browser = Browser::new();
    let (login, form) = sp_login(&server, &mut browser, &old_sp, None, None, ALICE);
    accept(&server, &old_sp, Some(&login.request_id), &form);

    let new_id = server.cli(&["idp", "app", "cert", "new", "--app", &app]);
    let switching = std::fs::read_to_string(server.metadata(&app)).expect("metadata");
    let new_cert = server
        .cli(&["idp", "app", "cert", "download", "--app", &app, "--cert", &new_id, "--format", "base64"]);
    let (o, n) = (switching.find(old_cert.trim()), switching.find(new_cert.trim()));
    assert!(o.is_some() && n.is_some() && o < n, "during the switch both are listed, the active one first");
    let (login, form) = sp_login(&server, &mut browser, &old_sp, None, None, ALICE);
    accept(&server, &old_sp, Some(&login.request_id), &form);

    server.cli(&["idp", "app", "cert", "activate", "--app", &app, "--cert", &new_id]);
    let listed: serde_json::Value =
        serde_json::from_str(&server.cli(&["idp", "app", "cert", "list", "--app", &app, "--json"]))
            .expect("json");
    assert_eq!(
        listed[0]["id"].as_str(),
        Some(new_id.as_str()),
        "the active certificate is listed first: {listed}"
    );
    assert_eq!(listed[0]["active"], true);
    let new_metadata = server.metadata(&app);
    let text = std::fs::read_to_string(&new_metadata).expect("metadata");
    let n = text.find(new_cert.trim()).expect("the new certificate is in the metadata");
    if let Some(o) = text.find(old_cert.trim()) {
        assert!(n < o, "the active (new) certificate must be listed first");
    }
    let new_sp = old_sp.with_metadata(&new_metadata);

    let (login, form) = sp_login(&server, &mut browser, &new_sp, None, None, ALICE);
    accept(&server, &new_sp, Some(&login.request_id), &form);
    let pysaml2 = Sp { peer: Peer::Pysaml2, ..new_sp.clone() };
    accept(&server, &pysaml2, Some(&login.request_id), &form);
    let rejected = old_sp.acs(Some(&login.request_id), &form.saml_response, &server.file("old.b64"));
    assert!(rejected.is_err(), "an SP holding only the old certificate must reject the new signature");
    let old_pysaml2 = Sp { peer: Peer::Pysaml2, ..old_sp.clone() };
    assert!(old_pysaml2.acs(Some(&login.request_id), &form.saml_response, &server.file("old2.b64")).is_err());
}

// ---------------------------------------------------------------- sign-in logs

/// Proves: `idp signins --json` lists the successful sign-in (result OK, user,
/// app) and the failed attempts with their codes — a wrong password (PCS50126),
/// an unassigned user (PCS50105) and an unknown issuer (PCS700016) — with the
/// correlation IDs shown on the error pages, and filters by app and by user.
#[test]
fn sign_in_logs_list_successes_and_failures_with_codes() {
    let SignedIn { server, app, sp, .. } = signed_in();
    server.create_user("bob@contoso.test", "Bob", "Jones", &[]);

    let mut browser = Browser::new();
    let login = sp.login(None, None);
    let page = browser.get(&login.url);
    let wrong = browser.sign_in(&page, "bob@contoso.test", "not the password", &server.base);
    assert_eq!(wrong.status, 401);
    assert!(wrong.is_sign_in(), "a wrong password shows the form again");
    let unassigned = browser.sign_in(&wrong, "bob@contoso.test", PASSWORD, &server.base);
    assert_error_page(&unassigned, "PCS50105");
    let stranger = Sp { entity_id: "https://stranger.sp.test".into(), ..sp.clone() };
    let unknown = browser.get(&stranger.login(None, None).url);
    assert_error_page(&unknown, "PCS700016");

    let rows = server.signins(&[]);
    let find = |code: &str| {
        rows.iter()
            .find(|r| r["result"] == code)
            .unwrap_or_else(|| panic!("no {code} entry in the sign-in log: {rows:#?}"))
            .clone()
    };
    let ok = rows
        .iter()
        .find(|r| r["result"] == "OK" && r["upn"] == ALICE && r["app_id"] == app.as_str())
        .unwrap_or_else(|| panic!("no successful sign-in of {ALICE} to the app in the log: {rows:#?}"));
    assert_eq!(ok["ip"], "127.0.0.1");
    assert!(ok["user_id"].as_str().is_some_and(|s| !s.is_empty()));
    let bad = find("PCS50126");
    assert_eq!(bad["upn"], "bob@contoso.test");
    let not_assigned = find("PCS50105");
    assert_eq!(not_assigned["upn"], "bob@contoso.test");
    assert_eq!(not_assigned["app_id"], app.as_str());
    assert_eq!(not_assigned["correlation_id"].as_str(), unassigned.correlation_id().as_deref());
    let unknown_row = find("PCS700016");
    assert_eq!(unknown_row["correlation_id"].as_str(), unknown.correlation_id().as_deref());
    assert!(unknown_row["detail"].as_str().is_some_and(|d| d.contains("https://stranger.sp.test")));
    for r in &rows {
        assert!(r["at"].as_str().is_some_and(|s| !s.is_empty()), "every entry has a time: {r}");
        assert!(r["correlation_id"].as_str().is_some_and(|s| !s.is_empty()), "and a correlation ID: {r}");
    }

    // Issue 14, item 10: the text lists name the app, not its ID.
    let text = server.cli(&["idp", "signins"]);
    assert!(text.contains("app=\"CRM\"") && !text.contains(&app), "{text}");
    assert!(rows.iter().any(|r| r["app"] == "CRM"), "{rows:#?}");

    let for_app = server.signins(&["--app", &app]);
    assert!(for_app.iter().all(|r| r["app_id"] == app.as_str()), "{for_app:#?}");
    assert!(for_app.iter().any(|r| r["result"] == "OK") && for_app.iter().any(|r| r["result"] == "PCS50105"));
    let for_bob = server.signins(&["--user", "bob@contoso.test"]);
    assert!(!for_bob.is_empty() && for_bob.iter().all(|r| r["upn"] == "bob@contoso.test"), "{for_bob:#?}");
    let codes: Vec<&str> = for_bob.iter().filter_map(|r| r["result"].as_str()).collect();
    assert!(codes.contains(&"PCS50126") && codes.contains(&"PCS50105"), "{codes:?}");
    // One attempt, one line: Bob's password was right but the app refused him, so his log holds
    // no success (the sign-in step does not log an app-less OK before the app's verdict).
    assert_eq!(codes.len(), 2, "{for_bob:#?}");
}

// ---------------------------------------------------------------- regressions found by this suite

/// Proves that an app with several Identifiers answers an SP-initiated request
/// with the Audience the request's Issuer named: python3-saml, whose entity ID is
/// the app's second (non-default) identifier, accepts the Response. (Found
/// failing: the IdP put the app's default identifier in every Audience, and the
/// SP refused it with "… is not a valid audience for this Response".)
#[test]
fn second_identifier_gets_the_audience_it_asked_for() {
    let server = Server::start(PORTCULLIS);
    alice(&server);
    let (old, acs) = ("https://legacy.sp.test/saml", "https://legacy.sp.test/saml/acs");
    let app = generic_app(&server, "Two identifiers", old, acs, ALICE);
    // A second identifier, made the default (as during an SP's entity ID migration).
    server.cli(&["idp", "app", "set-saml", "--app", &app, "--identifier", "https://new.sp.test/saml"]);
    let sp = Sp::new(Peer::Python3Saml, old, acs, &server.metadata(&app));
    let mut browser = Browser::new();
    let (login, form) = sp_login(&server, &mut browser, &sp, None, None, ALICE);
    let xml = form.xml();
    let audience = xml
        .split("<saml:AudienceRestriction>")
        .nth(1)
        .and_then(|r| r.split("</saml:AudienceRestriction>").next());
    assert_eq!(
        audience,
        Some(format!("<saml:Audience>{old}</saml:Audience>").as_str()),
        "the Audience must be the identifier the request came from"
    );
    accept(&server, &sp, Some(&login.request_id), &form);
}

/// Proves that an AuthnRequest addressed to another endpoint (its Destination is
/// not this tenant's SAML endpoint) is discarded with an error page and no
/// Response, even for a signed-in user, as SAML core 3.2.1 requires ("the
/// recipient MUST check that the URI reference identifies the location at which
/// the message was received … If it does not, the request MUST be discarded").
/// (Found failing: the IdP never compared the request's Destination.)
#[test]
fn request_for_another_destination_is_discarded() {
    let SignedIn { server, sp, mut browser, .. } = signed_in();
    // The SP believes the IdP's endpoint is another tenant's.
    let elsewhere = format!("{}/00000000-0000-0000-0000-000000000000/saml2", server.base);
    let metadata =
        std::fs::read_to_string(&sp.idp_metadata).expect("metadata").replace(&server.sso_url(), &elsewhere);
    let misdirected = sp.with_metadata(&server.write("elsewhere.xml", &metadata));
    let login = misdirected.login(None, None);
    assert!(login.url.starts_with(&elsewhere), "{}", login.url);
    // The request is delivered here instead.
    let url = login.url.replacen(&elsewhere, &server.sso_url(), 1);
    let from = browser.history.len();
    let page = browser.get(&url);
    assert!(
        page.error_code().is_some(),
        "a misdirected request must get an error page, got {}:\n{}",
        page.status,
        page.body
    );
    assert_no_response_since(&browser, from);
}

/// Proves front-channel single logout with python3-saml: the SP's LogoutRequest
/// (HTTP-Redirect) ends the IdP session and the IdP redirects to the app's Logout
/// URL with a signed LogoutResponse that python3-saml accepts strictly
/// (Issuer, Destination, InResponseTo, status, query signature); afterwards the
/// browser must sign in again.
#[test]
fn single_logout_with_python3_saml() {
    let SignedIn { server, app, sp, mut browser } = signed_in();
    let sls = "https://crm.sp.test/saml/sls";
    server.cli(&["idp", "app", "set-saml", "--app", &app, "--logout-url", sls]);
    let (login, form) = sp_login(&server, &mut browser, &sp, None, None, ALICE);
    let accepted = accept(&server, &sp, Some(&login.request_id), &form);
    let mut args = vec![
        "logout".to_string(),
        "--idp-metadata".into(),
        sp.idp_metadata.to_string_lossy().into_owned(),
        "--sp-entity-id".into(),
        sp.entity_id.clone(),
        "--acs-url".into(),
        sp.acs_url.clone(),
        "--sls-url".into(),
        sls.into(),
        "--name-id".into(),
        accepted.name_id.clone(),
        "--relay-state".into(),
        "/bye".into(),
    ];
    if let Some(si) = &accepted.session_index {
        args.extend(["--session-index".into(), si.clone()]);
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sp.peer.run(&argv);
    assert!(out.status.success(), "python3-saml logout\n{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("logout JSON");
    let url = v["url"].as_str().expect("url");
    let request_id = v["request_id"].as_str().expect("request_id");

    let page = browser.get(url);
    assert_eq!(page.status, 302, "{}", page.body);
    let location = page.header("location").expect("a redirect to the app").to_string();
    assert!(location.starts_with(&format!("{sls}?SAMLResponse=")), "{location}");
    assert!(location.contains("RelayState=%2Fbye"), "{location}");
    assert!(location.contains("&Signature="), "the LogoutResponse is signed: {location}");

    let out = sp.peer.run(&[
        "sls",
        "--idp-metadata",
        &sp.idp_metadata.to_string_lossy(),
        "--sp-entity-id",
        &sp.entity_id,
        "--acs-url",
        &sp.acs_url,
        "--sls-url",
        sls,
        "--request-id",
        request_id,
        &location,
    ]);
    assert!(out.status.success(), "python3-saml refused the LogoutResponse\n{}", describe(&out));

    // The IdP session is gone: the next SSO asks for credentials again.
    let again = sp.login(None, None);
    let page = browser.get(&again.url);
    assert!(page.is_sign_in(), "after single logout the IdP must ask for credentials:\n{}", page.body);
}
