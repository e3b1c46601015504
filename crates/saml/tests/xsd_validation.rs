//! What we serialise is valid SAML: every message and metadata document the model writes
//! validates against the OASIS SAML 2.0 schemas (copied to tests/xsd/) with
//! `xmllint --schema`, offline. A deliberately broken document must fail the same
//! check, so these tests cannot pass by validating nothing.

#[path = "model_fixtures.rs"]
mod fixtures;

use fixtures::*;
use saml::model::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn xsd(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xsd").join(name)
}

/// `xmllint` from PATH (Debian package libxml2-utils); a missing tool fails the test with the
/// fix, never skips it.
fn xmllint() -> Command {
    testkit::peers::tool("xmllint")
}

/// Validates `xml` against `schema`; returns (success, xmllint's diagnostics).
fn validate(schema: &str, name: &str, xml: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, xml).unwrap();
    let out = xmllint()
        .args(["--noout", "--nonet", "--schema"])
        .arg(xsd(schema))
        .arg(&file)
        .output()
        .expect("run xmllint");
    let diag = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), diag)
}

fn assert_valid(schema: &str, name: &str, xml: &str) {
    let (ok, diag) = validate(schema, name, xml);
    assert!(ok, "{name} does not validate against {schema}:\n{diag}\n--- document ---\n{xml}");
    // Nothing but "FILE validates": a warning would mean, e.g., that an import of the
    // schema could not be resolved offline (--nonet) and was skipped.
    let lines: Vec<&str> = diag.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines.len() == 1 && lines[0].ends_with(" validates"),
        "unexpected xmllint output for {name}: {diag}"
    );
}

const PROTOCOL: &str = "saml-schema-protocol-2.0.xsd";
const METADATA: &str = "saml-schema-metadata-2.0.xsd";

#[test]
fn authn_requests_validate() {
    assert_valid(PROTOCOL, "authn-request.xml", &authn_request().to_xml());
    let minimal = AuthnRequest {
        destination: None,
        consent: None,
        issuer: None,
        subject: None,
        name_id_policy: None,
        conditions: None,
        requested_authn_context: None,
        force_authn: None,
        is_passive: Some(true),
        protocol_binding: None,
        assertion_consumer_service_url: None,
        attribute_consuming_service_index: None,
        provider_name: None,
        assertion_consumer_service_index: Some(2),
        ..authn_request()
    };
    assert_valid(PROTOCOL, "authn-request-minimal.xml", &minimal.to_xml());
}

#[test]
fn responses_with_assertions_and_multi_valued_attributes_validate() {
    let r = response();
    assert!(
        r.assertions[0].attributes.iter().any(|a| a.values.len() > 1),
        "fixture has multi-valued attributes"
    );
    assert_valid(PROTOCOL, "response.xml", &r.to_xml());
    assert_valid(PROTOCOL, "error-response.xml", &error_response().to_xml());

    // Two assertions, one with only an AuthnStatement and no Conditions, and one whose
    // AuthnStatement has neither class nor declaration reference (the writer fills in
    // `unspecified`, as the schema needs one).
    let mut second = assertion();
    second.id = "_second-assertion".into();
    second.conditions = None;
    second.attributes.clear();
    second.authn_statements[0].authn_context_class_ref = None;
    second.authn_statements[0].subject_locality_address = None;
    second.authn_statements[0].subject_locality_dns_name = None;
    let two = Response { assertions: vec![assertion(), second], ..response() };
    assert_valid(PROTOCOL, "response-two-assertions.xml", &two.to_xml());

    // A response read from python3-saml's fixtures with an EncryptedAssertion, written back.
    let enc = Response::parse(&read("upstream/python3-saml-valid_encrypted_assertion.xml")).unwrap();
    assert_valid(PROTOCOL, "response-encrypted.xml", &enc.to_xml());

    // Complex attribute values (kept as XML) are written back validly too.
    let third_party = Response::parse(&read("upstream/python3-saml-valid_response.xml")).unwrap();
    assert_valid(PROTOCOL, "response-python3-saml.xml", &third_party.to_xml());
}

#[test]
fn a_standalone_assertion_validates() {
    // The assertion schema is imported by the protocol schema; validate with it directly.
    assert_valid("saml-schema-assertion-2.0.xsd", "assertion.xml", &assertion().to_xml());
}

#[test]
fn logout_messages_validate() {
    assert_valid(PROTOCOL, "logout-request.xml", &logout_request().to_xml());
    assert_valid(PROTOCOL, "logout-response.xml", &logout_response().to_xml());
}

#[test]
fn idp_and_sp_metadata_validate() {
    let idp = idp_entity();
    assert!(
        idp.idp.as_ref().unwrap().keys.len() == 3 && idp.organization.is_some() && idp.contacts.len() == 2
    );
    assert_valid(METADATA, "idp-metadata.xml", &idp.to_xml());
    let sp = sp_entity();
    let acs = &sp.sp.as_ref().unwrap().assertion_consumer_services;
    assert!(acs.iter().any(|a| a.is_default == Some(true)) && acs.iter().any(|a| a.is_default.is_none()));
    assert_valid(METADATA, "sp-metadata.xml", &sp.to_xml());
    assert_valid(METADATA, "dual-metadata.xml", &dual_entity().to_xml());
    // Re-serialised third-party metadata: the aggregate's entities, one by one.
    for (i, e) in parse_metadata(&read("metadata/federation-aggregate.xml")).unwrap().iter().enumerate() {
        if e.idp.is_some() || e.sp.is_some() {
            assert_valid(METADATA, &format!("aggregate-{i}.xml"), &e.to_xml());
        }
    }
}

#[test]
fn the_check_is_not_vacuous() {
    // A document that breaks the schema in ways the model refuses to write must fail.
    let bad_order = response().to_xml().replacen("<samlp:Status>", "<samlp:Status><samlp:Bogus/>", 1);
    let (ok, diag) = validate(PROTOCOL, "bad-order.xml", &bad_order);
    assert!(!ok, "an invalid Response passed xmllint: {diag}");
    assert!(diag.contains("Bogus"), "{diag}");

    // A missing required attribute.
    let no_id = logout_response().to_xml().replacen(" ID=\"", " NotID=\"", 1);
    assert!(!validate(PROTOCOL, "no-id.xml", &no_id).0);

    // Metadata without the required SingleSignOnService.
    let mut no_sso = idp_entity();
    no_sso.idp.as_mut().unwrap().single_sign_on_services.clear();
    let (ok, diag) = validate(METADATA, "no-sso.xml", &no_sso.to_xml());
    assert!(!ok, "an IdP descriptor without SingleSignOnService passed xmllint: {diag}");

    // A protocol message is not metadata.
    assert!(!validate(METADATA, "wrong-schema.xml", &response().to_xml()).0);
}

/// Signed output keeps its schema validity: the signature goes where the schemas
/// put it (right after Issuer; first in metadata), whatever we sign.
#[test]
fn signed_messages_and_metadata_validate() {
    use saml::crypto::{Certificate, SigningKey};
    use saml::dsig::{sign_element, SignOptions};
    let key = SigningKey::generate(2048).unwrap();
    let cert = Certificate::self_signed(&key, "xsd", time::OffsetDateTime::now_utc(), 1).unwrap();
    let sign =
        |xml: &str, id: &str| sign_element(xml, id, &key, Some(&cert), &SignOptions::default()).unwrap();

    let r = response();
    let both = sign(&sign(&r.to_xml(), &r.assertions[0].id), &r.id);
    assert_eq!(both.matches("<ds:Signature xmlns").count(), 2);
    assert_valid(PROTOCOL, "signed-response.xml", &both);
    let req = authn_request();
    assert_valid(PROTOCOL, "signed-authn-request.xml", &sign(&req.to_xml(), &req.id));
    let lr = logout_request();
    assert_valid(PROTOCOL, "signed-logout-request.xml", &sign(&lr.to_xml(), &lr.id));
    let mut idp = idp_entity();
    idp.id = Some("_metadata-1".into());
    assert_valid(METADATA, "signed-idp-metadata.xml", &sign(&idp.to_xml(), "_metadata-1"));
}
