//! EncryptedAssertions made by other implementations are decrypted: xmlsec1
//! (libxmlsec1, the engine of pysaml2 and many IdPs) run here with a template
//! for every content algorithm it offers, and node-saml's fixture (encrypted by
//! the `xml-encryption` library). A wrong key gives `SP_DECRYPTION_FAILED`.

use saml::crypto::{Certificate, SigningKey};
use saml::dsig::{sign_element, SignOptions};
use saml::xml::{self, Limits, NS_SAML};
use saml::FixedClock;
use sp::{validate_response, DecryptionKey, IdpTrust, SpConfig};
use std::path::{Path, PathBuf};
use std::process::Command;
use time::macros::datetime;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

const ASSERTION: &str = r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"><saml:Issuer>https://idp.example.com/</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">carol@example.com</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="2030-01-01T00:05:00Z" Recipient="https://sp.example.com/acs" InResponseTo="_req1"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="2030-01-01T00:00:00Z" NotOnOrAfter="2030-01-01T00:05:00Z"><saml:AudienceRestriction><saml:Audience>https://sp.example.com</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="2030-01-01T00:00:00Z"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement></saml:Assertion>"#;

/// Runs `xmlsec1 --encrypt` on `data` with an EncryptedData template for
/// `content` (key transport rsa-oaep-mgf1p to the SP's certificate).
fn xmlsec1_encrypt(data: &str, content_uri: &str, session_key: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let template = format!(
        r#"<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="{content_uri}"/><ds:KeyInfo><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/><xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>"#
    );
    std::fs::write(dir.path().join("t.xml"), template).unwrap();
    std::fs::write(dir.path().join("d.xml"), data).unwrap();
    let out = Command::new("xmlsec1")
        .args(["--encrypt", "--pubkey-cert-pem"])
        .arg(corpus().join("keys/sp.crt"))
        .args(["--session-key", session_key, "--xml-data"])
        .arg(dir.path().join("d.xml"))
        .args(["--node-xpath", "/*"])
        .arg(dir.path().join("t.xml"))
        .output()
        .unwrap_or_else(|e| {
            panic!("xmlsec1 is not installed ({e}): run scripts/install-test-deps (Debian package xmlsec1)")
        });
    assert!(out.status.success(), "xmlsec1 failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let start = text.find("<xenc:EncryptedData").expect("EncryptedData in xmlsec1 output");
    text[start..].trim_end().to_string()
}

fn config(key: &str) -> SpConfig {
    let md = std::fs::read_to_string(corpus().join("keys/idp-metadata.xml")).unwrap();
    let mut cfg = SpConfig::new(
        "https://sp.example.com",
        "https://sp.example.com/acs",
        IdpTrust::from_metadata(&md, None).unwrap(),
    );
    cfg.decryption_key = Some(DecryptionKey::load(&std::fs::read(corpus().join(key)).unwrap()).unwrap());
    cfg
}

fn response(encrypted_data: &str) -> String {
    format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" Destination="https://sp.example.com/acs" InResponseTo="_req1"><saml:Issuer>https://idp.example.com/</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:EncryptedAssertion>{encrypted_data}</saml:EncryptedAssertion></samlp:Response>"#
    )
}

fn signed_assertion() -> String {
    let key = SigningKey::load(&std::fs::read(corpus().join("keys/idp.key")).unwrap()).unwrap();
    let cert = Certificate::load(&std::fs::read(corpus().join("keys/idp.crt")).unwrap()).unwrap();
    sign_element(ASSERTION, "_a1", &key, Some(&cert), &SignOptions::default()).unwrap()
}

#[test]
fn assertions_encrypted_by_xmlsec1_are_decrypted_and_their_signature_verified() {
    let clock = FixedClock(datetime!(2030-01-01 00:01:00 UTC));
    let cfg = config("keys/sp.key");
    let signed = signed_assertion();
    for (uri, session) in [
        ("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "aes-128"),
        ("http://www.w3.org/2001/04/xmlenc#aes192-cbc", "aes-192"),
        ("http://www.w3.org/2001/04/xmlenc#aes256-cbc", "aes-256"),
        ("http://www.w3.org/2009/xmlenc11#aes128-gcm", "aes-128"),
        ("http://www.w3.org/2009/xmlenc11#aes256-gcm", "aes-256"),
    ] {
        let xml = response(&xmlsec1_encrypt(&signed, uri, session));
        let login = validate_response(&xml, &cfg, Some("_req1"), &clock)
            .unwrap_or_else(|e| panic!("{uri}: {} {e}", e.code()));
        assert_eq!(login.name_id, "carol@example.com", "{uri}");
        assert!(login.encrypted && login.assertion_signed && !login.response_signed, "{uri}");
    }
}

#[test]
fn an_xmlsec1_encryption_for_another_key_gives_decryption_failed() {
    let clock = FixedClock(datetime!(2030-01-01 00:01:00 UTC));
    let xml = response(&xmlsec1_encrypt(
        &signed_assertion(),
        "http://www.w3.org/2009/xmlenc11#aes256-gcm",
        "aes-256",
    ));
    let err = validate_response(&xml, &config("keys/other-sp.key"), Some("_req1"), &clock).unwrap_err();
    assert_eq!(err.code(), "SP_DECRYPTION_FAILED", "{err}");
}

#[test]
fn a_tampered_signed_assertion_inside_xmlsec1_encryption_is_refused() {
    let clock = FixedClock(datetime!(2030-01-01 00:01:00 UTC));
    let tampered = signed_assertion().replace("carol@example.com", "admin@example.com");
    let xml = response(&xmlsec1_encrypt(&tampered, "http://www.w3.org/2009/xmlenc11#aes128-gcm", "aes-128"));
    let err = validate_response(&xml, &config("keys/sp.key"), Some("_req1"), &clock).unwrap_err();
    assert_eq!(err.code(), "SIG_DIGEST_MISMATCH", "{err}");
}

#[test]
fn node_saml_fixture_encrypted_by_xml_encryption_decrypts_to_its_assertion() {
    let dir = corpus().join("third-party");
    let text = std::fs::read_to_string(
        dir.join("upstream/node-saml/valid/response.root-signed.assertion-unsigned-encrypted.xml"),
    )
    .unwrap();
    let doc = xml::parse(&text, &Limits::MESSAGE).unwrap();
    let enc = doc.descendants().find(|n| xml::is_element(*n, NS_SAML, "EncryptedAssertion")).unwrap();
    let key =
        DecryptionKey::load(&std::fs::read(dir.join("certs/node-saml-testshib-sp.key")).unwrap()).unwrap();
    let plain = sp::xmlenc::decrypt_assertion(enc, &key).expect("decrypts");
    assert!(plain.plaintext.contains("vincent.vega@evil-corp.com"), "{}", &*plain.plaintext);
    assert!(plain.plaintext.contains("Assertion"));
    // The same ciphertext with the wrong key.
    let other = DecryptionKey::load(&std::fs::read(corpus().join("keys/sp.key")).unwrap()).unwrap();
    assert_eq!(
        sp::xmlenc::decrypt_assertion(enc, &other).err().map(|e| e.code()),
        Some("SP_DECRYPTION_FAILED")
    );
}
