//! Live interop for the HTTP-Redirect binding with pysaml2 (run as a real peer,
//! tests/data/redirect/pysaml2_redirect.py): pysaml2 accepts the signed URLs we
//! produce, and we accept the ones it produces with a key it makes on the spot.
//! pysaml2 re-encodes the decoded values with `quote_plus` before verifying, so
//! this also proves our query encoding is the form encoding it expects.

use saml::bindings::{decode_query, redirect_url, MessageParam, QuerySigner};
use saml::crypto::{Certificate, SignatureAlgorithm, SigningKey};
use std::process::Command;

const PEER: &str = "crates/saml/tests/data/redirect/pysaml2_redirect.py";

fn peer(args: &[&str]) -> std::process::Output {
    Command::new(testkit::peers::venv_python())
        .arg(testkit::repo_root().join(PEER))
        .args(args)
        .output()
        .expect("run the pysaml2 peer")
}

fn json_field(json: &str, field: &str) -> String {
    // The peer prints one flat JSON object; a tiny reader is enough here.
    let key = format!("\"{field}\": ");
    let start = json.find(&key).unwrap() + key.len();
    let mut out = String::new();
    let mut chars = json[start..].chars();
    assert_eq!(chars.next(), Some('"'));
    while let Some(c) = chars.next() {
        match c {
            '"' => return out,
            '\\' => match chars.next().unwrap() {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    panic!("unterminated string in {json}");
}

#[test]
fn pysaml2_verifies_our_signed_redirect_urls() {
    let dir = std::env::temp_dir().join(format!("portcullis-bindings-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = SigningKey::generate(2048).unwrap();
    let cert = Certificate::self_signed(&key, "portcullis sp", time::OffsetDateTime::now_utc(), 30).unwrap();
    let cert_path = dir.join("cert.pem");
    std::fs::write(&cert_path, cert.to_pem()).unwrap();
    let xml = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_p1" Version="2.0" IssueInstant="2024-01-01T00:00:00Z"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://sp.example.org/é</saml:Issuer></samlp:AuthnRequest>"#;
    for (relay_state, alg) in [
        (Some("https://sp.example.org/app?x=1&y=two words/é~*+"), SignatureAlgorithm::RsaSha256),
        (None, SignatureAlgorithm::RsaSha512),
    ] {
        let signer = QuerySigner { key: &key, algorithm: alg };
        let url = redirect_url(
            "https://idp.example.com/sso?tenant=a",
            MessageParam::Request,
            xml,
            relay_state,
            Some(signer),
        )
        .unwrap();
        let out = peer(&["verify", cert_path.to_str().unwrap(), &url]);
        assert!(out.status.success(), "{}", testkit::describe(&out));
        let json = String::from_utf8(out.stdout).unwrap();
        assert_eq!(json_field(&json, "xml"), xml);
        if let Some(rs) = relay_state {
            assert_eq!(json_field(&json, "relay_state"), rs);
        }
        // And pysaml2 refuses it once a signed byte changes.
        let tampered = url.replace("&SigAlg=", "&SigAlg=x");
        let out = peer(&["verify", cert_path.to_str().unwrap(), &tampered]);
        assert_eq!(out.status.code(), Some(1), "{}", testkit::describe(&out));
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn we_verify_redirect_urls_pysaml2_signs_now() {
    let dir = std::env::temp_dir().join(format!("portcullis-bindings-interop-b-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert_path = dir.join("cert.pem");
    let out = peer(&["sign", cert_path.to_str().unwrap(), "sha256", "sha1"]);
    assert!(out.status.success(), "{}", testkit::describe(&out));
    let cert = Certificate::load(&std::fs::read(&cert_path).unwrap()).unwrap();
    let urls = String::from_utf8(out.stdout).unwrap();
    let urls: Vec<&str> = urls.lines().collect();
    assert_eq!(urls.len(), 2);

    let m = decode_query(urls[0]).unwrap();
    assert!(m.xml().contains(r#"ID="_pysaml2-sha256""#));
    assert_eq!(m.relay_state(), Some("https://sp.example.org/app?x=1&y=two words/é"));
    assert_eq!(m.verify_signature(std::slice::from_ref(&cert), false).unwrap(), 0);

    let m = decode_query(urls[1]).unwrap();
    assert_eq!(
        m.verify_signature(std::slice::from_ref(&cert), false).unwrap_err().code(),
        "SIG_SHA1_NOT_ALLOWED"
    );
    assert_eq!(m.verify_signature(&[cert], true).unwrap(), 0);
    std::fs::remove_dir_all(&dir).ok();
}
