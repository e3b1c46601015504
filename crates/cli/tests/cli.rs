//! The `portcullis` binary as people use it: keygen, decode in every input
//! form, verify with its exit codes, and `up` serving over real HTTP.

mod support;

use base64::Engine as _;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::{Http, Server, PORTCULLIS};

fn portcullis() -> Command {
    Command::new(PORTCULLIS)
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

const RESPONSE: &str = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" Destination="https://sp.example.com/acs"><saml:Issuer>https://idp.example.com/</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="_a1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"><saml:Issuer>https://idp.example.com/</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice-1</saml:NameID></saml:Subject><saml:Conditions NotBefore="2030-01-01T00:00:00Z" NotOnOrAfter="2030-01-01T00:05:00Z"><saml:AudienceRestriction><saml:Audience>https://sp.example.com</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AttributeStatement><saml:Attribute Name="Groups"><saml:AttributeValue>g1</saml:AttributeValue><saml:AttributeValue>g2</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>"#;

fn keygen(dir: &Path, name: &str) -> (String, String) {
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.pem"));
    let out = portcullis()
        .args(["saml", "keygen", "--cn", "Test IdP", "--out-key"])
        .arg(&key)
        .arg("--out-cert")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    (key.to_string_lossy().into(), cert.to_string_lossy().into())
}

fn sign(key: &str, cert: &str, xml: &str, id: &str) -> String {
    let k = saml::crypto::SigningKey::load(&std::fs::read(key).unwrap()).unwrap();
    let c = saml::crypto::Certificate::load(&std::fs::read(cert).unwrap()).unwrap();
    saml::dsig::sign_element(xml, id, &k, Some(&c), &saml::dsig::SignOptions::default()).unwrap()
}

#[test]
fn keygen_writes_a_private_key_and_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = keygen(dir.path(), "idp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let c = saml::crypto::Certificate::load(&std::fs::read(&cert).unwrap()).unwrap();
    assert_eq!(c.subject(), "CN=Test IdP");
    let days = (c.not_after() - c.not_before()).whole_days();
    assert!((1094..=1096).contains(&days), "3-year default validity, got {days} days");
    // A second run refuses to overwrite without --force.
    let again = portcullis()
        .args(["saml", "keygen", "--cn", "x", "--out-key", &key, "--out-cert", &cert])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(text(&again).contains("--force"), "{}", text(&again));
    let bad = portcullis()
        .args(["saml", "keygen", "--cn", "x", "--bits", "1024", "--out-key"])
        .arg(dir.path().join("k2"))
        .arg("--out-cert")
        .arg(dir.path().join("c2"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn decode_reads_xml_base64_redirect_urls_files_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(RESPONSE);
    let file = dir.path().join("resp.b64");
    std::fs::write(&file, &b64).unwrap();
    let url = saml::bindings::redirect::redirect_url(
        "https://sp.example.com/acs?x=1",
        saml::bindings::MessageParam::Response,
        RESPONSE,
        Some("/after login"),
        None,
    )
    .unwrap();
    for input in [RESPONSE.to_string(), b64.clone(), url.clone(), file.to_string_lossy().to_string()] {
        let out = portcullis().args(["saml", "decode", &input]).output().unwrap();
        let t = text(&out);
        assert!(out.status.success(), "{t}");
        assert!(t.contains("type: Response"), "{t}");
        assert!(t.contains("name_id: alice-1"), "{t}");
        assert!(t.contains("Groups = g1 | g2"), "{t}");
        assert!(t.contains("issuer: https://idp.example.com/"), "{t}");
        assert!(t.contains("  <saml:Assertion ID=\"_a1\""), "pretty XML is indented: {t}");
    }
    let url_out = text(&portcullis().args(["saml", "decode", &url]).output().unwrap());
    assert!(url_out.contains("relay_state: /after login"), "{url_out}");

    let mut child = portcullis()
        .args(["saml", "decode", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b64.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["name_id"], "alice-1");
    assert_eq!(v["attributes"]["Groups"], serde_json::json!(["g1", "g2"]));

    let garbage = portcullis().args(["saml", "decode", "not a saml message!"]).output().unwrap();
    assert!(!garbage.status.success());
    assert!(text(&garbage).contains("error:"), "{}", text(&garbage));
}

#[test]
fn verify_exit_codes_follow_what_the_signatures_cover() {
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = keygen(dir.path(), "idp");
    let (_, other_cert) = keygen(dir.path(), "other");
    let verify = |cert: &str, msg: &str, extra: &[&str]| {
        let f = dir.path().join("msg.xml");
        std::fs::write(&f, msg).unwrap();
        portcullis().args(["saml", "verify", "--cert", cert]).args(extra).arg(&f).output().unwrap()
    };

    let signed_assertion = sign(&key, &cert, RESPONSE, "_a1");
    let out = verify(&cert, &signed_assertion, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("signature on <saml:Assertion> ID=_a1: VALID"), "{}", text(&out));

    let signed_response = sign(&key, &cert, RESPONSE, "_r1");
    let out = verify(&cert, &signed_response, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);

    // Unsigned, wrong key, tampered: all exit 1.
    assert_eq!(verify(&cert, RESPONSE, &[]).status.code(), Some(1));
    assert_eq!(verify(&other_cert, &signed_assertion, &[]).status.code(), Some(1));
    let tampered = signed_assertion.replace(">alice-1<", ">admin<");
    let out = verify(&cert, &tampered, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("SIG_DIGEST_MISMATCH"), "{}", text(&out));

    // A signed assertion next to an unsigned one does not cover "every Assertion".
    let two = signed_assertion.replace(
        "</samlp:Response>",
        &RESPONSE[RESPONSE.find("<saml:Assertion").unwrap()..].replace("_a1", "_a2"),
    );
    assert_eq!(verify(&cert, &two, &[]).status.code(), Some(1), "{}", text(&verify(&cert, &two, &[])));

    // Usage errors exit 2.
    let out = portcullis().args(["saml", "verify", "--cert", "/nonexistent.pem", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn up_serves_health_and_the_decoder_over_http() {
    let server = Server::start(PORTCULLIS);
    let http = Http::new();
    let health = http.get(&format!("{}/healthz", server.base));
    let decoded = http.request("POST", &format!("{}/api/saml/decode", server.base), &[], RESPONSE);
    assert!(health.status == 200 && health.body.ends_with("ok"), "{health:?}");
    assert_eq!(decoded.status, 200, "{decoded:?}");
    assert!(decoded.body.contains("\"name_id\":\"alice-1\""), "{decoded:?}");
    assert!(server.data().is_dir());
}

#[test]
fn up_serves_its_front_page_on_the_shared_layout() {
    let server = Server::start(PORTCULLIS);
    let home = Http::new().get(&format!("{}/", server.base));
    assert_eq!(home.status, 200, "{home:?}");
    assert!(home.body.contains("/assets/portcullis.css") && home.body.contains("skip-link"), "{home:?}");
    assert!(home.body.contains("href=\"/myapps\"") && home.body.contains("/api/saml/decode"), "{home:?}");
    assert_eq!(home.header("cache-control"), Some("no-store"), "{home:?}");
}

/// `portcullis --data DATA ARGS…` with no PORTCULLIS_* variable from the test's environment.
fn with_data(data: &Path, args: &[&str]) -> Output {
    support::run_cli(PORTCULLIS, data, args, None)
}

/// Issue 14, item 3: a mistyped `--data` used to create a new, empty database and master key,
/// and `idp user list` then printed nothing with exit 0.
#[test]
fn commands_other_than_init_and_up_refuse_a_missing_or_empty_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let typo = tmp.path().join("portcullis-dta");
    for args in [
        &["idp", "user", "list"][..],
        &["idp", "app", "templates"],
        &["vault", "system", "list"],
        &["vault", "rekey"],
    ] {
        let out = with_data(&typo, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&typo.display().to_string()), "names the path: {err}");
        assert!(err.contains("does not exist") && err.contains("portcullis init --data"), "{err}");
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }
    // An existing directory without a database (the wrong folder) is refused too, and left empty.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for args in [&["idp", "user", "list"][..], &["vault", "account", "list"]] {
        let out = with_data(&empty, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("holds no portcullis.db") && err.contains("portcullis init"), "{err}");
    }
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0, "nothing was written into {}", empty.display());
}

#[test]
fn init_creates_the_data_directory_and_the_first_administrator_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("new").join("data");
    let out = with_data(&data, &["init", "--base-url", "https://login.example.com/"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("admin@portcullis.local"), "{stdout}");
    let password = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("password:"))
        .map(|p| p.trim().to_string())
        .unwrap_or_else(|| panic!("no password line:\n{stdout}"));
    assert_eq!(password.len(), 20, "{stdout}");
    assert!(stdout.contains("https://login.example.com/"), "the recorded base URL: {stdout}");
    assert!(stdout.contains("/account") && stdout.contains("change it"), "where to change it: {stdout}");
    assert!(data.join("portcullis.db").is_file() && data.join("master.key").is_file());
    assert_eq!(std::fs::read_to_string(data.join("base-url")).unwrap().trim(), "https://login.example.com");

    // The other commands now work on it, and find the administrator init made.
    let users = with_data(&data, &["idp", "user", "list"]);
    assert!(users.status.success(), "{}", text(&users));
    assert!(String::from_utf8_lossy(&users.stdout).contains("admin@portcullis.local"), "{}", text(&users));
    assert!(with_data(&data, &["vault", "system", "list"]).status.success());

    // A second init changes nothing.
    let key = std::fs::read(data.join("master.key")).unwrap();
    let again = with_data(&data, &["init"]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(
        text(&again).contains("already holds") && text(&again).contains("portcullis up"),
        "{}",
        text(&again)
    );
    assert_eq!(std::fs::read(data.join("master.key")).unwrap(), key);
}
