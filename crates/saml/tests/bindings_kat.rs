//! Known-answer tests for the HTTP-Redirect binding: signed AuthnRequest URLs that
//! pysaml2 produced (tests/data/redirect/pysaml2_redirect.py `kat`), with the
//! certificate of the throw-away key that signed them. They prove that we inflate,
//! decode and verify a third party's encoding (quote_plus: '+' for spaces), not
//! just our own, and that its RSA-SHA1 signature is accepted only when allowed.

use saml::bindings::{decode_query, MessageParam};
use saml::crypto::Certificate;

const CERT: &str = include_str!("data/redirect/pysaml2_cert.pem");
const URL_SHA256: &str = include_str!("data/redirect/pysaml2_rsa_sha256.url");
const URL_SHA1: &str = include_str!("data/redirect/pysaml2_rsa_sha1.url");
const RELAY_STATE: &str = "https://sp.example.org/app?x=1&y=two words/é";

fn cert() -> Certificate {
    Certificate::load(CERT.as_bytes()).unwrap()
}

fn query(url: &str) -> &str {
    url.trim_end().split_once('?').unwrap().1
}

#[test]
fn pysaml2_rsa_sha256_redirect_url_decodes_and_verifies() {
    let url = URL_SHA256.trim_end();
    // Given the whole URL and given only its query: the same message.
    for input in [url, query(url)] {
        let m = decode_query(input).unwrap();
        assert_eq!(m.param(), MessageParam::Request);
        assert!(m.xml().contains(r#"ID="_pysaml2-sha256""#), "{}", m.xml());
        assert!(m.xml().contains(">https://sp.example.org/metadata</"));
        assert_eq!(m.relay_state(), Some(RELAY_STATE));
        assert_eq!(m.sig_alg(), Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"));
        // The signed octets are the raw query up to SigAlg, minus the endpoint's own
        // `tenant` parameter; pysaml2 wrote '+' for the spaces in RelayState.
        let octets = m.signed_octets().unwrap();
        assert!(octets.starts_with("SAMLRequest=fZ") && octets.contains("&RelayState=https%3A%2F%2Fsp"));
        assert!(octets.contains("two+words"));
        assert!(query(url).starts_with(&format!("tenant=contoso&{octets}&Signature=")));
        assert_eq!(m.verify_signature(&[cert()], false).unwrap(), 0);
    }
}

#[test]
fn pysaml2_rsa_sha1_redirect_url_verifies_only_when_sha1_is_allowed() {
    let m = decode_query(URL_SHA1.trim_end()).unwrap();
    assert_eq!(m.relay_state(), Some(RELAY_STATE));
    assert_eq!(m.verify_signature(&[cert()], false).unwrap_err().code(), "SIG_SHA1_NOT_ALLOWED");
    assert_eq!(m.verify_signature(&[cert()], true).unwrap(), 0);
}

#[test]
fn pysaml2_url_with_any_changed_signed_byte_is_refused() {
    let url = URL_SHA256.trim_end();
    let m = decode_query(url).unwrap();
    let signed = m.signed_octets().unwrap().len();
    let start = url.find("SAMLRequest=").unwrap();
    // Change a RelayState character, a hex digit's case, and the SigAlg.
    let tampered = [
        url.replace("two+words", "two%20words"),
        url.replace("%2Fapp", "%2fapp"),
        url.replace("y%3Dtwo", "y%3Dtwp"),
        url.replace("rsa-sha256", "rsa-sha512"),
    ];
    for t in &tampered {
        assert_ne!(t, url);
        let err = decode_query(t).unwrap().verify_signature(&[cert()], false).unwrap_err();
        assert_eq!(err.code(), "BINDING_QUERY_SIGNATURE_INVALID", "{t}");
    }
    // Every position inside the message value: flipped to another base64 character.
    let value_end = start + url[start..].find('&').unwrap();
    for i in (start + "SAMLRequest=".len()..value_end).step_by(7) {
        let mut bytes = url.as_bytes().to_vec();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let t = String::from_utf8(bytes).unwrap();
        if let Ok(m) = decode_query(&t) {
            assert!(m.signed_octets().unwrap().len() == signed);
            assert!(m.verify_signature(&[cert()], false).is_err(), "flip at {i} verified");
        }
    }
}
