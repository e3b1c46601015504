//! Our SP against third-party identity providers, end to end over real HTTP (issue 4):
//! `portcullis sp-demo` as the service provider, and as the IdP either pysaml2's
//! `Server` (`tests/interop/py/idp_pysaml2.py`) or samlify's `IdentityProvider`
//! (`tests/interop/node/idp_samlify.js`), each a real HTTP server with its own key
//! and metadata that reads the demo's SP metadata from `/saml/metadata`. The
//! cookie-keeping test browser follows the redirect to the peer, takes the peer's
//! auto-posting form and posts it to the demo's ACS, as a browser would. Nothing in
//! between is simulated; the peers sign with RSA-SHA256 (no SHA-1 is allowed) and, where
//! a test says so, encrypt the Assertion to the demo's encryption certificate.

mod support;

use std::path::Path;
use support::peers::idp::{Idp, PeerIdp};
use support::*;

const APP_NAME: &str = "SP demo";
/// The default policy's permissions (General Members, applied to every SAML user).
const DEFAULT_PERMISSIONS: [&str; 2] = ["dashboard:view", "profile:read"];
/// The policy mapped to the user's first group.
const OPERATORS: &str = "Operators=sessions:start,sessions:view";

/// The user signed in at the peer IdP: what it releases to our SP.
struct PeerUser {
    name_id: String,
    username: String,
    first_name: String,
    last_name: String,
    email: String,
    /// Group object IDs; the first is mapped to the Operators policy.
    groups: Vec<String>,
}

impl PeerUser {
    fn new() -> PeerUser {
        PeerUser {
            name_id: format!("{}", uuid::Uuid::new_v4().simple()),
            username: "ada.lovelace".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace & Byron".into(),
            email: "ada@analytical.test".into(),
            groups: vec![uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string()],
        }
    }

    /// Each attribute under our SP's default names (name, value; Groups once per group).
    fn attributes(&self) -> Vec<(&str, &str)> {
        let mut pairs = vec![
            ("Username", self.username.as_str()),
            ("FirstName", self.first_name.as_str()),
            ("LastName", self.last_name.as_str()),
            ("Email", self.email.as_str()),
        ];
        pairs.extend(self.groups.iter().map(|g| ("Groups", g.as_str())));
        pairs
    }
}

/// The demo's SAML users: (username, NameID).
fn saml_users(data: &Path) -> Vec<(String, String)> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let store = store::Store::open_data_dir(data).await.expect("open the demo's store");
        let db = sp::db::SpDb::open(store.clone()).await.expect("the SP tables");
        let app = db.app_by_name(APP_NAME).await.expect("read app").expect("the demo created its app");
        let users = db.saml_users(app.id).await.expect("list SAML users");
        store.close().await;
        users.into_iter().map(|(s, u)| (u.username, s.name_id)).collect()
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

/// Posts the peer's form as the browser would (an empty RelayState field included).
fn post(browser: &mut Browser, form: &PostForm) -> Page {
    let mut fields = vec![("SAMLResponse", form.saml_response.as_str())];
    if let Some(rs) = &form.relay_state {
        fields.push(("RelayState", rs.as_str()));
    }
    browser.post_form(&form.action, &fields)
}

/// The landing page shows `user` signed in through the peer, with the default policy's
/// and the mapped group's permissions.
fn assert_landing(demo: &Demo, browser: &mut Browser, user: &PeerUser) {
    let landing = browser.get(&format!("{}/", demo.base));
    assert_eq!(by_id(&landing, "username").as_deref(), Some(user.username.as_str()), "{}", landing.body);
    assert_eq!(by_id(&landing, "first-name").as_deref(), Some(user.first_name.as_str()));
    assert_eq!(by_id(&landing, "last-name").as_deref(), Some(user.last_name.as_str()));
    assert_eq!(by_id(&landing, "email").as_deref(), Some(user.email.as_str()));
    let mut groups = user.groups.clone();
    groups.sort();
    assert_eq!(list(&landing, "groups"), groups, "both group object IDs, as sent");
    let mut expected: Vec<&str> = DEFAULT_PERMISSIONS.to_vec();
    expected.extend(["sessions:start", "sessions:view"]);
    assert_eq!(
        list(&landing, "permissions"),
        expected,
        "General Members (default) plus Operators (mapped to the first group)"
    );
}

/// A peer IdP and the demo set up for it: the demo maps the user's first group to
/// Operators and an unsent group to Auditors (which must then not apply).
struct Setup {
    dir: tempfile::TempDir,
    port: u16,
    user: PeerUser,
    idp: Idp,
    demo_args: Vec<String>,
}

impl Setup {
    fn new(peer: PeerIdp, peer_args: &[&str], demo_extra: &[&str]) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let user = PeerUser::new();
        let sp_metadata_url = format!("http://127.0.0.1:{port}/saml/metadata");
        let idp = Idp::start(
            peer,
            &dir.path().join("idp"),
            &sp_metadata_url,
            &user.name_id,
            &user.attributes(),
            peer_args,
        );
        let mut demo_args: Vec<String> = vec![
            "--policy".into(),
            OPERATORS.into(),
            "--map-group".into(),
            format!("{}=Operators", user.groups[0]),
            "--policy".into(),
            "Auditors=audit:view".into(),
            "--map-group".into(),
            format!("{}=Auditors", uuid::Uuid::new_v4()),
        ];
        demo_args.extend(demo_extra.iter().map(|s| s.to_string()));
        Setup { dir, port, user, idp, demo_args }
    }

    /// Starts the demo on its data directory (kept across restarts) with `more` flags.
    fn demo(&self, more: &[&str]) -> Demo {
        let mut args: Vec<&str> = self.demo_args.iter().map(String::as_str).collect();
        args.extend_from_slice(more);
        Demo::start(PORTCULLIS, &self.dir.path().join("data"), self.port, &self.idp.metadata, &args)
    }

    /// SP-initiated: /saml/login redirects to the peer's SSO endpoint (HTTP-Redirect);
    /// the peer's form is posted to the ACS. Returns the form and the ACS's answer.
    fn sp_login(&self, demo: &Demo, browser: &mut Browser) -> (PostForm, Page) {
        let start = browser.get(&format!("{}/saml/login?return=/", demo.base));
        assert_eq!(start.status, 303, "login must redirect to the IdP:\n{}", start.body);
        let location = start.header("location").expect("Location").to_string();
        assert!(location.starts_with(&format!("{}/sso?SAMLRequest=", self.idp.base)), "{location}");
        let page = browser.get(&location);
        assert_eq!(page.status, 200, "the {:?} IdP answers the AuthnRequest:\n{}", self.idp.peer, page.body);
        let form = PostForm::from_page(&page);
        assert_eq!(form.action, format!("{}/saml/acs", demo.base), "the IdP posts to the demo's ACS");
        assert!(form.xml().contains("InResponseTo=\""), "an answer to our request:\n{}", form.xml());
        let acs = post(browser, &form);
        (form, acs)
    }
}

/// Proves, for one peer IdP over HTTP: the demo imports the peer's own metadata and the
/// peer reads the demo's; SP-initiated login (demo /saml/login → peer's SSO endpoint over
/// HTTP-Redirect → the peer's signed Response posted to /saml/acs) creates the user just
/// in time keyed by the persistent NameID, with the mapped attributes, the mapped group's
/// policy and the default policy on the landing page (and not the policy of a group the
/// peer does not send); the same Response posted again, from this browser or another, is
/// refused (SP_IN_RESPONSE_TO_UNKNOWN); the peer's unsolicited Response is refused with
/// SP_UNSOLICITED_NOT_ALLOWED while the provider does not allow IdP-initiated login, and
/// accepted once the demo runs with --allow-idp-initiated, and then refused as a replay
/// (SP_REPLAY).
fn login_through(peer: PeerIdp, peer_args: &[&str], demo_extra: &[&str]) {
    let setup = Setup::new(peer, peer_args, demo_extra);
    let user = &setup.user;
    let demo = setup.demo(&[]);
    assert!(saml_users(&demo.data).is_empty(), "no SAML user before the first login");

    // SP-initiated.
    let mut browser = Browser::new();
    let (form, acs) = setup.sp_login(&demo, &mut browser);
    assert_eq!(acs.status, 303, "the ACS accepts the {peer:?} Response:\n{}\n{}", acs.body, demo.log());
    assert_eq!(acs.header("location"), Some("/"), "back to the return URL");
    assert_landing(&demo, &mut browser, user);
    assert_eq!(
        saml_users(&demo.data),
        [(user.username.clone(), user.name_id.clone())],
        "created just in time, keyed by the persistent NameID"
    );
    assert_sp_error(&post(&mut browser, &form), "SP_IN_RESPONSE_TO_UNKNOWN");
    assert_sp_error(&post(&mut Browser::new(), &form), "SP_IN_RESPONSE_TO_UNKNOWN");

    // IdP-initiated, not allowed for this provider.
    let mut browser = Browser::new();
    let unsolicited = setup.idp.idp_initiated(&mut browser, &demo.entity_id());
    assert!(!unsolicited.xml().contains("InResponseTo"), "unsolicited:\n{}", unsolicited.xml());
    assert_sp_error(&post(&mut browser, &unsolicited), "SP_UNSOLICITED_NOT_ALLOWED");
    assert!(demo.log().contains("SP_UNSOLICITED_NOT_ALLOWED"), "logged:\n{}", demo.log());
    drop(demo);

    // IdP-initiated, allowed: the same user (no duplicate), then a replay.
    let demo = setup.demo(&["--allow-idp-initiated"]);
    let unsolicited = setup.idp.idp_initiated(&mut browser, &demo.entity_id());
    let acs = post(&mut browser, &unsolicited);
    assert_eq!(acs.status, 303, "IdP-initiated is allowed now:\n{}\n{}", acs.body, demo.log());
    assert_landing(&demo, &mut browser, user);
    assert_eq!(saml_users(&demo.data).len(), 1, "the same user signed in again");
    assert_sp_error(&post(&mut Browser::new(), &unsolicited), "SP_REPLAY");
}

/// pysaml2's IdP (its default: the Assertion signed, RSA-SHA256/SHA-256 by xmlsec1;
/// attributes with NameFormat unspecified) → our SP; see [`login_through`].
#[test]
fn pysaml2_idp_signs_in_to_our_sp() {
    login_through(PeerIdp::Pysaml2, &["--sign", "assertion"], &[]);
}

/// samlify's IdP (Assertion and Response signed, RSA-SHA256) → our SP, with our
/// AuthnRequests signed: samlify's metadata says WantAuthnRequestsSigned and it verifies
/// the Redirect-binding signature (see the tampered-signature test); see [`login_through`].
#[test]
fn samlify_idp_signs_in_to_our_sp() {
    login_through(PeerIdp::Samlify, &["--want-requests-signed", "--sign", "both"], &["--sign-requests"]);
}

/// Proves the provider's signature requirement against pysaml2: with `--want
/// signed-response`, pysaml2 signing only the Response is accepted, and pysaml2 signing
/// only the Assertion is refused with SIG_REQUIRED (nothing provisioned).
#[test]
fn pysaml2_signed_response_required_by_the_provider() {
    let setup = Setup::new(PeerIdp::Pysaml2, &["--sign", "response"], &["--want", "signed-response"]);
    let demo = setup.demo(&[]);
    let mut browser = Browser::new();
    let (form, acs) = setup.sp_login(&demo, &mut browser);
    let xml = form.xml();
    let (signature, assertion) = (xml.find("SignatureValue>"), xml.find(":Assertion "));
    assert!(
        xml.matches("SignatureValue>").count() == 2 && signature < assertion,
        "one signature, the Response's (before the Assertion):\n{xml}"
    );
    assert_eq!(acs.status, 303, "a signed Response is accepted:\n{}\n{}", acs.body, demo.log());
    assert_landing(&demo, &mut browser, &setup.user);

    let setup = Setup::new(PeerIdp::Pysaml2, &["--sign", "assertion"], &["--want", "signed-response"]);
    let demo = setup.demo(&[]);
    let mut browser = Browser::new();
    let (_, acs) = setup.sp_login(&demo, &mut browser);
    assert_sp_error(&acs, "SIG_REQUIRED");
    assert!(saml_users(&demo.data).is_empty(), "a refused login provisions nobody");
}

/// Proves encrypted assertions from samlify: the Assertion signed, then encrypted to the
/// demo's encryption certificate from its SP metadata (AES-256-GCM, RSA-OAEP-MGF1P), then
/// the Response signed; the demo (requiring a signed Assertion) decrypts it, verifies the
/// Assertion's signature and signs the user in.
#[test]
fn samlify_idp_encrypted_assertion_signs_in() {
    let setup =
        Setup::new(PeerIdp::Samlify, &["--sign", "both", "--encrypt"], &["--want", "signed-assertion"]);
    let demo = setup.demo(&[]);
    let mut browser = Browser::new();
    let (form, acs) = setup.sp_login(&demo, &mut browser);
    let xml = form.xml();
    assert!(xml.contains("EncryptedAssertion") && !xml.contains("AttributeStatement"), "encrypted:\n{xml}");
    assert!(xml.contains("xmlenc11#aes256-gcm"), "AES-256-GCM content:\n{xml}");
    assert_eq!(acs.status, 303, "the encrypted assertion is accepted:\n{}\n{}", acs.body, demo.log());
    assert_landing(&demo, &mut browser, &setup.user);
}

/// samlify refuses our AuthnRequest when its Redirect-binding signature does not verify,
/// so the signed-request path above is really checked by the peer.
#[test]
fn samlify_idp_refuses_a_tampered_request_signature() {
    let setup = Setup::new(PeerIdp::Samlify, &["--want-requests-signed"], &["--sign-requests"]);
    let demo = setup.demo(&[]);
    let mut browser = Browser::new();
    let start = browser.get(&format!("{}/saml/login?return=/", demo.base));
    let location = start.header("location").expect("Location").to_string();
    assert!(location.contains("&Signature="), "a signed Redirect request: {location}");
    // The RelayState is covered by the signature: changing it must break verification.
    let tampered = location.replacen("RelayState=", "RelayState=x", 1);
    let page = browser.get(&tampered);
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("ERR_FAILED_MESSAGE_SIGNATURE_VERIFICATION"), "{}", page.body);
    let page = browser.get(&location);
    assert_eq!(page.status, 200, "the untouched request is answered:\n{}", page.body);
}

/// Proves encrypted assertions from pysaml2 (the Assertion signed, encrypted to the demo's
/// encryption certificate from its SP metadata with RSA-OAEP-MGF1P, the Response signed):
/// with AES-256-CBC content the demo decrypts it, verifies the Assertion's signature and
/// signs the user in; with pysaml2's hard-coded default content algorithm, 3DES-CBC, it is
/// refused with SP_ENCRYPTION_ALGORITHM_UNSUPPORTED (AES only, by design).
#[test]
fn pysaml2_encrypted_assertion_aes_accepted_3des_refused() {
    let setup = Setup::new(
        PeerIdp::Pysaml2,
        &["--sign", "both", "--encrypt", "aes256-cbc"],
        &["--want", "signed-assertion"],
    );
    let demo = setup.demo(&[]);
    let mut browser = Browser::new();
    let (form, acs) = setup.sp_login(&demo, &mut browser);
    let xml = form.xml();
    assert!(xml.contains("EncryptedAssertion") && !xml.contains("AttributeStatement"), "encrypted:\n{xml}");
    assert!(xml.contains("xmlenc#aes256-cbc"), "AES-256-CBC content:\n{xml}");
    assert_eq!(acs.status, 303, "the encrypted assertion is accepted:\n{}\n{}", acs.body, demo.log());
    assert_landing(&demo, &mut browser, &setup.user);

    let setup = Setup::new(
        PeerIdp::Pysaml2,
        &["--sign", "both", "--encrypt", "pysaml2-default"],
        &["--want", "signed-assertion"],
    );
    let demo = setup.demo(&[]);
    let mut browser = Browser::new();
    let (form, acs) = setup.sp_login(&demo, &mut browser);
    assert!(form.xml().contains("xmlenc#tripledes-cbc"), "pysaml2's default:\n{}", form.xml());
    assert_sp_error(&acs, "SP_ENCRYPTION_ALGORITHM_UNSUPPORTED");
    assert!(saml_users(&demo.data).is_empty(), "a refused login provisions nobody");
}
