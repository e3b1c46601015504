//! The sign-in and SSO pages in a real browser (Debian's chromium, driven by
//! playwright-core): the forms work as people use them, the auto-submitting
//! POST form runs under the IdP's strict Content-Security-Policy (a violation
//! fails the test), and the Response the browser posts is accepted by a real SP
//! (python3-saml). A missing browser fails with the command that installs it.

mod support;

use support::*;

/// Runs tests/interop/node/browser_sso.js; returns its JSON.
fn browse(args: &[&str]) -> serde_json::Value {
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "chromium is not installed: run scripts/install-test-deps"
    );
    let script = repo_root().join("tests/interop/node/browser_sso.js");
    let out = std::process::Command::new("node").arg(script).args(args).output().expect("run node");
    assert!(out.status.success(), "browser run failed\n{}", describe(&out));
    serde_json::from_slice(&out.stdout).expect("browser JSON")
}

#[test]
fn sp_initiated_sign_in_in_a_real_browser_reaches_the_app() {
    let server = Server::start(PORTCULLIS);
    let (entity, acs) = ("https://browser.sp.test/saml", "https://browser.sp.test/saml/acs");
    server.create_user("carol@contoso.com", "Carol", "Danvers", &["--mail", "carol@contoso.com"]);
    let app = server.create_app(
        "generic-saml",
        "Browser SP",
        &[&format!("IDENTIFIER={entity}"), &format!("REPLY_URL={acs}")],
    );
    server.cli(&["idp", "app", "set-saml", "--app", &app, "--nameid-format", "persistent"]);
    server.cli(&["idp", "app", "assign", "--app", &app, "--user", "carol@contoso.com"]);
    let sp = Sp::new(Peer::Python3Saml, entity, acs, &server.metadata(&app));
    let login = sp.login(Some("/after/login"), None);

    let shot = server.file("sign-in.png");
    let posted = browse(&[
        "--url",
        &login.url,
        "--acs-prefix",
        "https://browser.sp.test/",
        "--username",
        "carol@contoso.com",
        "--password",
        PASSWORD,
        "--screenshot",
        &shot.to_string_lossy(),
    ]);
    assert_eq!(posted["acs"], acs);
    assert_eq!(posted["RelayState"], "/after/login");
    let response = posted["SAMLResponse"].as_str().expect("SAMLResponse posted");
    let accepted = sp
        .acs(Some(&login.request_id), response, &server.file("browser-response.b64"))
        .expect("python3-saml accepts what the browser posted");
    assert_eq!(accepted.name_id_format.as_deref(), Some(PERSISTENT));
    assert!(!accepted.name_id.is_empty());
}

#[test]
fn idp_initiated_sign_in_from_a_my_apps_tile_in_a_real_browser() {
    let server = Server::start(PORTCULLIS);
    let (entity, acs) = ("https://tiles.sp.test/saml", "https://tiles.sp.test/saml/acs");
    server.create_user("dave@contoso.com", "Dave", "Lister", &[]);
    let app = server.create_app(
        "generic-saml",
        "Tile App",
        &[&format!("IDENTIFIER={entity}"), &format!("REPLY_URL={acs}")],
    );
    server.cli(&["idp", "app", "set-saml", "--app", &app, "--relay-state", "/dashboard"]);
    server.cli(&["idp", "app", "assign", "--app", &app, "--user", "dave@contoso.com"]);
    let sp = Sp::new(Peer::Python3Saml, entity, acs, &server.metadata(&app));

    let posted = browse(&[
        "--url",
        &server.my_apps_url(),
        "--acs-prefix",
        "https://tiles.sp.test/",
        "--username",
        "dave@contoso.com",
        "--password",
        PASSWORD,
        "--click-tile",
        "Tile App",
    ]);
    assert_eq!(posted["acs"], acs);
    assert_eq!(posted["RelayState"], "/dashboard");
    let response = posted["SAMLResponse"].as_str().expect("SAMLResponse posted");
    sp.acs(None, response, &server.file("tile-response.b64"))
        .expect("python3-saml accepts the unsolicited Response");
}
