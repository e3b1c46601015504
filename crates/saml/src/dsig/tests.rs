use super::*;
use crate::crypto::{Certificate, SigningKey};
use crate::xml::{self, Limits};
use std::sync::OnceLock;
use time::OffsetDateTime;

fn keys() -> &'static (SigningKey, Certificate, SigningKey, Certificate) {
    static K: OnceLock<(SigningKey, Certificate, SigningKey, Certificate)> = OnceLock::new();
    K.get_or_init(|| {
        let now = OffsetDateTime::now_utc();
        let k = SigningKey::generate(2048).unwrap();
        let c = Certificate::self_signed(&k, "idp", now, 30).unwrap();
        let k2 = SigningKey::generate(2048).unwrap();
        let c2 = Certificate::self_signed(&k2, "attacker", now, 30).unwrap();
        (k, c, k2, c2)
    })
}

const RESPONSE: &str = concat!(
    r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2024-01-01T00:00:00Z">"#,
    r#"<saml:Issuer>https://idp.example.com</saml:Issuer>"#,
    r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#,
    r#"<saml:Assertion ID="_a1" Version="2.0" IssueInstant="2024-01-01T00:00:00Z"><saml:Issuer>https://idp.example.com</saml:Issuer>"#,
    r#"<saml:Subject><saml:NameID>alice@example.com</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>"#
);

fn opts(certs: &[Certificate]) -> VerifyOptions<'_> {
    VerifyOptions { certs, allow_sha1: false }
}

fn verified_ids(xml_text: &str, certs: &[Certificate]) -> crate::Result<Vec<String>> {
    let doc = xml::parse(xml_text, &Limits::MESSAGE)?;
    Ok(verify(&doc, &opts(certs))?.into_iter().map(|v| v.id).collect())
}

#[test]
fn signs_assertion_then_response_and_both_verify() {
    let (k, c, ..) = keys();
    let once = sign_element(RESPONSE, "_a1", k, Some(c), &SignOptions::default()).unwrap();
    let twice = sign_element(&once, "_r1", k, Some(c), &SignOptions::default()).unwrap();
    assert_eq!(verified_ids(&twice, std::slice::from_ref(c)).unwrap(), vec!["_r1", "_a1"]);
    // The signature sits right after the Issuer, as the schema wants.
    let doc = xml::parse(&twice, &Limits::MESSAGE).unwrap();
    let kids: Vec<_> = xml::element_children(doc.root_element()).map(|n| n.tag_name().name()).collect();
    assert_eq!(kids, ["Issuer", "Signature", "Status", "Assertion"]);
}

#[test]
fn wrong_key_is_refused_and_key_info_is_not_trusted() {
    let (k, c, k2, c2) = keys();
    let by_attacker = sign_element(RESPONSE, "_r1", k2, Some(c2), &SignOptions::default()).unwrap();
    assert_eq!(verified_ids(&by_attacker, std::slice::from_ref(c)).unwrap_err().code(), "SIG_INVALID");
    let good = sign_element(RESPONSE, "_r1", k, Some(c), &SignOptions::default()).unwrap();
    assert_eq!(verified_ids(&good, &[]).unwrap_err().code(), "SIG_NO_TRUSTED_CERTIFICATES");
    // A second trusted certificate (rollover) is found by position.
    let doc = xml::parse(&good, &Limits::MESSAGE).unwrap();
    let v = verify(&doc, &opts(&[c2.clone(), c.clone()])).unwrap();
    assert_eq!(v[0].cert_index, 1);
}

#[test]
fn any_change_to_signed_content_breaks_the_digest() {
    let (k, c, ..) = keys();
    let good = sign_element(RESPONSE, "_r1", k, Some(c), &SignOptions::default()).unwrap();
    let evil = good.replace("alice@example.com", "admin@example.com");
    assert_eq!(verified_ids(&evil, std::slice::from_ref(c)).unwrap_err().code(), "SIG_DIGEST_MISMATCH");
    // Comments are outside the signed node set, so adding one changes nothing...
    let commented = good.replace("alice@example.com", "alice@example.com<!--x-->");
    assert!(verified_ids(&commented, std::slice::from_ref(c)).is_ok());
    // ...and the reader must still see the full text: see xml::text_content.
}

#[test]
fn reference_must_name_the_parent() {
    let (k, c, ..) = keys();
    let good = sign_element(RESPONSE, "_r1", k, Some(c), &SignOptions::default()).unwrap();
    let moved = good.replace(r##"URI="#_r1""##, r##"URI="#_a1""##);
    assert_eq!(verified_ids(&moved, std::slice::from_ref(c)).unwrap_err().code(), "SIG_REFERENCE_URI");
    let whole_doc = good.replace(r##"URI="#_r1""##, r#"URI="""#);
    assert_eq!(verified_ids(&whole_doc, std::slice::from_ref(c)).unwrap_err().code(), "SIG_REFERENCE_URI");
}

#[test]
fn sha1_needs_explicit_permission() {
    let (k, c, ..) = keys();
    let good = sign_element(RESPONSE, "_r1", k, Some(c), &SignOptions::default()).unwrap();
    let sha1 = good.replace(crate::xml::ALG_RSA_SHA256, crate::xml::ALG_RSA_SHA1);
    assert_eq!(verified_ids(&sha1, std::slice::from_ref(c)).unwrap_err().code(), "SIG_SHA1_NOT_ALLOWED");
    let doc = xml::parse(&sha1, &Limits::MESSAGE).unwrap();
    let lax = VerifyOptions { certs: std::slice::from_ref(c), allow_sha1: true };
    // Allowed, but the signature was made with SHA-256, so it must not verify.
    assert_eq!(verify(&doc, &lax).unwrap_err().code(), "SIG_INVALID");
}

#[test]
fn unsigned_document_gives_no_verified_elements() {
    let (_, c, ..) = keys();
    assert!(verified_ids(RESPONSE, std::slice::from_ref(c)).unwrap().is_empty());
}

#[test]
fn signing_an_empty_element_and_one_without_issuer() {
    let (k, c, ..) = keys();
    for xml_text in [r#"<r ID="x"/>"#, r#"<r ID="x"></r>"#, r#"<r xmlns="urn:d" ID="x"><a/>t</r>"#] {
        let signed = sign_element(xml_text, "x", k, Some(c), &SignOptions::default()).unwrap();
        assert_eq!(verified_ids(&signed, std::slice::from_ref(c)).unwrap(), vec!["x"], "{signed}");
    }
    assert_eq!(
        sign_element(RESPONSE, "_nope", k, None, &SignOptions::default()).unwrap_err().code(),
        "SAML_INVALID_VALUE"
    );
}
