//! Signatures cross-checked with real third-party XML-DSig implementations:
//! what we sign must verify in xmlsec1, signxml, python3-saml (libxmlsec1) and
//! xml-crypto; what xmlsec1 (through pysaml2), signxml and xml-crypto sign must
//! verify here. Every positive check has a tampered twin that must fail, so no
//! test here can pass vacuously.

use saml::crypto::{Certificate, SigningKey};
use saml::dsig::{self, sign_element, SignOptions, VerifyOptions};
use saml::signed::{read_signed_response, Want};
use saml::xml::{self, Limits};
use std::path::PathBuf;
use std::sync::OnceLock;
use tempfile::TempDir;
use testkit::describe;
use testkit::peers::{run_node, run_py, tool};

struct Fixture {
    dir: TempDir,
    key: SigningKey,
    cert: Certificate,
}

impl Fixture {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, content: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p.to_string_lossy().to_string()
    }
    fn key_pem(&self) -> String {
        self.path("key.pem").to_string_lossy().to_string()
    }
    fn cert_pem(&self) -> String {
        self.path("cert.pem").to_string_lossy().to_string()
    }
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate(2048).unwrap();
        let cert =
            Certificate::self_signed(&key, "interop idp", time::OffsetDateTime::now_utc(), 30).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.to_pkcs8_pem().as_bytes()).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.to_pem()).unwrap();
        Fixture { dir, key, cert }
    })
}

const NAMEID: &str = "3f1c9b2e-persistent";

fn unsigned_response() -> String {
    format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" Destination="https://sp.example.com/acs" InResponseTo="_req1"><saml:Issuer>https://idp.example.com/</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="_a1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"><saml:Issuer>https://idp.example.com/</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{NAMEID}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="2030-01-01T00:05:00Z" Recipient="https://sp.example.com/acs" InResponseTo="_req1"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="2030-01-01T00:00:00Z" NotOnOrAfter="2030-01-01T00:05:00Z"><saml:AudienceRestriction><saml:Audience>https://sp.example.com</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="2030-01-01T00:00:00Z" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="Email"><saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">alice@example.com &amp; co</saml:AttributeValue></saml:Attribute><saml:Attribute Name="Groups"><saml:AttributeValue>g1</saml:AttributeValue><saml:AttributeValue>g2</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>"#
    )
}

fn ours_signed_both() -> String {
    let f = fixture();
    let a =
        sign_element(&unsigned_response(), "_a1", &f.key, Some(&f.cert), &SignOptions::default()).unwrap();
    sign_element(&a, "_r1", &f.key, Some(&f.cert), &SignOptions::default()).unwrap()
}

fn tampered(xml_text: &str) -> String {
    let out = xml_text.replace(NAMEID, "admin");
    assert_ne!(out, xml_text);
    out
}

fn xmlsec1_verify(file: &str, node_xpath: Option<&str>) -> std::process::Output {
    let f = fixture();
    let mut cmd = tool("xmlsec1");
    cmd.args(["--verify", "--pubkey-cert-pem", &f.cert_pem()])
        .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response"])
        .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"])
        .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor"]);
    if let Some(x) = node_xpath {
        cmd.args(["--node-xpath", x]);
    }
    cmd.arg(file).output().unwrap()
}

const ASSERTION_SIG: &str = "//*[local-name()='Assertion']/*[local-name()='Signature']";

#[test]
fn xmlsec1_verifies_our_response_and_assertion_signatures() {
    let f = fixture();
    let good = f.write("ours-xmlsec1.xml", &ours_signed_both());
    let out = xmlsec1_verify(&good, None);
    assert!(out.status.success(), "xmlsec1 refused our Response signature: {}", describe(&out));
    let out = xmlsec1_verify(&good, Some(ASSERTION_SIG));
    assert!(out.status.success(), "xmlsec1 refused our Assertion signature: {}", describe(&out));
    let bad = f.write("ours-xmlsec1-bad.xml", &tampered(&ours_signed_both()));
    assert!(!xmlsec1_verify(&bad, None).status.success(), "xmlsec1 accepted a tampered Response");
    assert!(
        !xmlsec1_verify(&bad, Some(ASSERTION_SIG)).status.success(),
        "xmlsec1 accepted a tampered Assertion"
    );
}

/// RSA-SHA1 with a SHA-1 digest, the legacy combination an administrator may turn on for an
/// app that accepts nothing else: libxmlsec1 verifies it, and our verifier accepts it only when
/// SHA-1 is allowed.
#[test]
fn xmlsec1_verifies_our_legacy_rsa_sha1_signatures() {
    use saml::crypto::{DigestAlgorithm, SignatureAlgorithm};
    let f = fixture();
    let legacy = SignOptions {
        algorithm: SignatureAlgorithm::RsaSha1,
        digest: DigestAlgorithm::Sha1,
        ..SignOptions::default()
    };
    let signed = sign_element(&unsigned_response(), "_r1", &f.key, Some(&f.cert), &legacy).unwrap();
    assert!(signed.contains("http://www.w3.org/2000/09/xmldsig#rsa-sha1"));
    let good = f.write("ours-sha1.xml", &signed);
    let out = xmlsec1_verify(&good, None);
    assert!(out.status.success(), "xmlsec1 refused our RSA-SHA1 signature: {}", describe(&out));
    let bad = f.write("ours-sha1-bad.xml", &tampered(&signed));
    assert!(!xmlsec1_verify(&bad, None).status.success(), "xmlsec1 accepted a tampered RSA-SHA1 Response");

    let doc = xml::parse(&signed, &Limits::MESSAGE).unwrap();
    let certs = std::slice::from_ref(&f.cert);
    let refused = dsig::verify(&doc, &VerifyOptions { certs, allow_sha1: false }).unwrap_err();
    assert_eq!(refused.code(), "SIG_SHA1_NOT_ALLOWED");
    assert_eq!(dsig::verify(&doc, &VerifyOptions { certs, allow_sha1: true }).unwrap().len(), 1);
}

#[test]
fn signxml_and_python3_saml_and_xml_crypto_verify_our_signatures() {
    let f = fixture();
    let good = f.write("ours-peers.xml", &ours_signed_both());
    let bad = f.write("ours-peers-bad.xml", &tampered(&ours_signed_both()));
    let cert = f.cert_pem();
    for element in [None, Some("_a1")] {
        let mut args = vec!["--cert", cert.as_str()];
        if let Some(id) = element {
            args.extend(["--element-id", id]);
        }
        for (name, script) in [
            ("signxml", "py/signxml_verify.py"),
            ("python3-saml", "py/python3saml_verify.py"),
            ("xml-crypto", "node/xmlcrypto_verify.js"),
        ] {
            let run =
                |a: &[&str]| if script.ends_with(".js") { run_node(script, a) } else { run_py(script, a) };
            let mut a = args.clone();
            a.push(good.as_str());
            let out = run(&a);
            assert!(out.status.success(), "{name} refused our signature on {element:?}: {}", describe(&out));
            let mut a = args.clone();
            a.push(bad.as_str());
            let out = run(&a);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{name} accepted a tampered {element:?}: {}",
                describe(&out)
            );
        }
    }
}

fn verify_ours(xml_text: &str, cert: &Certificate) -> saml::Result<Vec<String>> {
    let doc = xml::parse(xml_text, &Limits::MESSAGE)?;
    let certs = [cert.clone()];
    Ok(dsig::verify(&doc, &VerifyOptions { certs: &certs, allow_sha1: false })?
        .into_iter()
        .map(|v| v.id)
        .collect())
}

fn peer_signs_both(sign: impl Fn(&str, &str) -> std::process::Output) -> String {
    let f = fixture();
    let unsigned = f.write("peer-unsigned.xml", &unsigned_response());
    let out = sign(&unsigned, "_a1");
    assert!(out.status.success(), "peer failed to sign the Assertion: {}", describe(&out));
    let once = f.write("peer-once.xml", &String::from_utf8(out.stdout).unwrap());
    let out = sign(&once, "_r1");
    assert!(out.status.success(), "peer failed to sign the Response: {}", describe(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn we_verify_what_signxml_signs() {
    let f = fixture();
    let signed = peer_signs_both(|file, id| {
        run_py(
            "py/signxml_sign.py",
            &["--key", &f.key_pem(), "--cert", &f.cert_pem(), "--element-id", id, file],
        )
    });
    let mut ids = verify_ours(&signed, &f.cert).unwrap();
    ids.sort();
    assert_eq!(ids, ["_a1", "_r1"]);
    let r = read_signed_response(&signed, std::slice::from_ref(&f.cert), Want::Both, false).unwrap();
    assert_eq!(r.assertion.unwrap().name_id().unwrap().value, NAMEID);
    assert_eq!(verify_ours(&tampered(&signed), &f.cert).unwrap_err().code(), "SIG_DIGEST_MISMATCH");
}

#[test]
fn we_verify_what_xml_crypto_signs() {
    let f = fixture();
    let signed = peer_signs_both(|file, id| {
        run_node(
            "node/xmlcrypto_sign.js",
            &["--key", &f.key_pem(), "--cert", &f.cert_pem(), "--element-id", id, file],
        )
    });
    let mut ids = verify_ours(&signed, &f.cert).unwrap();
    ids.sort();
    assert_eq!(ids, ["_a1", "_r1"]);
    assert_eq!(verify_ours(&tampered(&signed), &f.cert).unwrap_err().code(), "SIG_DIGEST_MISMATCH");
}

#[test]
fn we_verify_what_pysaml2_signs_with_xmlsec1() {
    let f = fixture();
    for mode in ["assertion", "response", "both"] {
        let out = run_py(
            "py/pysaml2_response.py",
            &[
                "--key",
                &f.key_pem(),
                "--cert",
                &f.cert_pem(),
                "--sp-entity-id",
                "https://sp.example.com",
                "--acs-url",
                "https://sp.example.com/acs",
                "--idp-entity-id",
                "https://idp.example.com/",
                "--name-id",
                NAMEID,
                "--in-response-to",
                "_req1",
                "--sign",
                mode,
                "--attr",
                "mail=alice@example.com",
                "--attr",
                "groups=g1",
                "--attr",
                "groups=g2",
            ],
        );
        assert!(out.status.success(), "pysaml2 failed: {}", describe(&out));
        let signed = String::from_utf8(out.stdout).unwrap();
        let want = match mode {
            "assertion" => Want::SignedAssertion,
            "response" => Want::SignedResponse,
            _ => Want::Both,
        };
        let r = read_signed_response(&signed, std::slice::from_ref(&f.cert), want, false)
            .unwrap_or_else(|e| panic!("pysaml2 ({mode}) refused: {} {e}\n{signed}", e.code()));
        let assertion = r.assertion.unwrap();
        assert_eq!(assertion.name_id().unwrap().value, NAMEID);
        let groups = assertion.attribute("groups").expect("groups attribute");
        assert_eq!(groups.values, ["g1", "g2"]);
        let bad = read_signed_response(&tampered(&signed), std::slice::from_ref(&f.cert), want, false);
        assert_eq!(bad.unwrap_err().code(), "SIG_DIGEST_MISMATCH", "pysaml2 ({mode}) tampered");
    }
}

#[test]
fn we_verify_what_xmlsec1_signs_from_a_template() {
    // xmlsec1 --sign fills in a template: the classic way IdPs built on libxmlsec1 sign.
    let f = fixture();
    let template = unsigned_response().replacen(
        "<saml:Issuer>https://idp.example.com/</saml:Issuer>",
        r##"<saml:Issuer>https://idp.example.com/</saml:Issuer><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_r1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>"##,
        1,
    );
    let tpl = f.write("xmlsec1-template.xml", &template);
    let out = tool("xmlsec1")
        .args(["--sign", "--privkey-pem", &format!("{},{}", f.key_pem(), f.cert_pem())])
        .args(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response"])
        .arg(&tpl)
        .output()
        .unwrap();
    assert!(out.status.success(), "xmlsec1 --sign failed: {}", describe(&out));
    let signed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(verify_ours(&signed, &f.cert).unwrap(), ["_r1"]);
    let r =
        read_signed_response(&signed, std::slice::from_ref(&f.cert), Want::SignedResponse, false).unwrap();
    assert!(r.response_signed);
    assert_eq!(verify_ours(&tampered(&signed), &f.cert).unwrap_err().code(), "SIG_DIGEST_MISMATCH");
}
