//! Regenerates `tests/corpus/`: hostile and valid SAML Responses with the error
//! code each must produce (see tests/corpus/README.md). RSA PKCS#1 v1.5 is
//! deterministic, so running it again gives the same bytes.
//!
//!     cargo run -p portcullis-saml --example gen_corpus

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use saml::crypto::{Certificate, DigestAlgorithm, SigningKey};
use saml::dsig::{sign_element, SignOptions};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

const NS: &str = r#"xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion""#;
const SUCCESS: &str =
    r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#;
const ISSUER: &str = "<saml:Issuer>https://idp.example.com/</saml:Issuer>";

fn assertion_body(nameid: &str) -> String {
    format!(
        r#"<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{nameid}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="2030-01-01T00:05:00Z" Recipient="https://sp.example.com/acs" InResponseTo="_req1"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="2030-01-01T00:00:00Z" NotOnOrAfter="2030-01-01T00:05:00Z"><saml:AudienceRestriction><saml:Audience>https://sp.example.com</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="2030-01-01T00:00:00Z" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="Email"><saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">alice@example.com</saml:AttributeValue></saml:Attribute><saml:Attribute Name="Groups"><saml:AttributeValue>0b1c6e2a-7d3f-4a8e-9f00-1a2b3c4d5e6f</saml:AttributeValue><saml:AttributeValue>5f4e3d2c-1b0a-4f9e-8d7c-6b5a49382716</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"#
    )
}

/// A standalone assertion (it declares its own namespaces, so it can be signed
/// alone and spliced anywhere without changing its canonical form).
fn assertion(id: &str, nameid: &str) -> String {
    format!(
        r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="2030-01-01T00:00:00Z">{ISSUER}{}</saml:Assertion>"#,
        assertion_body(nameid)
    )
}

fn response(id: &str, inner: &str) -> String {
    format!(
        r#"<samlp:Response {NS} ID="{id}" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" Destination="https://sp.example.com/acs" InResponseTo="_req1">{ISSUER}{SUCCESS}{inner}</samlp:Response>"#
    )
}

struct Keys {
    idp: SigningKey,
    idp_cert: Certificate,
    attacker: SigningKey,
    attacker_cert: Certificate,
}

impl Keys {
    fn sign(&self, xml: &str, id: &str) -> String {
        sign_element(xml, id, &self.idp, Some(&self.idp_cert), &SignOptions::default()).expect("sign")
    }
}

/// The ds:Signature element of a signed document, as text.
fn signature_of(xml: &str) -> String {
    let start = xml.find("<ds:Signature").expect("signature");
    let end = xml.find("</ds:Signature>").expect("signature end") + "</ds:Signature>".len();
    xml[start..end].to_string()
}

fn without_signature(xml: &str) -> String {
    xml.replacen(&signature_of(xml), "", 1)
}

struct Case {
    name: &'static str,
    kind: &'static str,
    bytes: Vec<u8>,
    cert: &'static str,
    want: &'static str,
    allow_sha1: bool,
    expect: &'static str,
    detail: String,
    description: &'static str,
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let load_key =
        |n: &str| SigningKey::load(&std::fs::read(dir.join(format!("keys/{n}.key"))).unwrap()).unwrap();
    let load_cert =
        |n: &str| Certificate::load(&std::fs::read(dir.join(format!("keys/{n}.crt"))).unwrap()).unwrap();
    let k = Keys {
        idp: load_key("idp"),
        idp_cert: load_cert("idp"),
        attacker: load_key("attacker"),
        attacker_cert: load_cert("attacker"),
    };
    let mut cases: Vec<Case> = Vec::new();
    let mut add = |name, kind, bytes: Vec<u8>, want, expect, detail: &str, description| {
        cases.push(Case {
            name,
            kind,
            bytes,
            cert: "keys/idp.crt",
            want,
            allow_sha1: false,
            expect,
            detail: detail.to_string(),
            description,
        })
    };
    let x = |s: String| s.into_bytes();

    // ---------------------------------------------------------------- controls
    let sa = k.sign(&assertion("_a1", "alice-persistent-id"), "_a1");
    let signed_assertion_resp = response("_r1", &sa);
    let signed_resp = k.sign(&response("_r1", &assertion("_a1", "alice-persistent-id")), "_r1");
    let signed_both = k.sign(&signed_assertion_resp, "_r1");
    add(
        "valid-signed-assertion",
        "xml",
        x(signed_assertion_resp.clone()),
        "either",
        "accept",
        "alice-persistent-id",
        "control: the Assertion is signed",
    );
    add(
        "valid-signed-response",
        "xml",
        x(signed_resp.clone()),
        "either",
        "accept",
        "alice-persistent-id",
        "control: the Response is signed",
    );
    add(
        "valid-signed-both",
        "xml",
        x(signed_both.clone()),
        "both",
        "accept",
        "alice-persistent-id",
        "control: Response and Assertion signed",
    );
    add(
        "valid-post-binding",
        "post",
        B64.encode(&signed_assertion_resp).into_bytes(),
        "either",
        "accept",
        "alice-persistent-id",
        "control: base64 as posted by the HTTP-POST binding",
    );
    let wrapped_b64: String = B64
        .encode(&signed_resp)
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\r\n", String::from_utf8_lossy(c)))
        .collect();
    add(
        "valid-post-binding-wrapped",
        "post",
        wrapped_b64.into_bytes(),
        "either",
        "accept",
        "alice-persistent-id",
        "control: base64 wrapped at 76 columns with CRLF, as some IdPs post it",
    );
    add(
        "valid-redirect-binding",
        "redirect",
        redirect_query(&signed_resp),
        "either",
        "accept",
        "alice-persistent-id",
        "control: DEFLATE+base64 in a query string",
    );
    let commented_signed = k
        .sign(&assertion("_a1", "alice-persistent-id.evil.example"), "_a1")
        .replace(">alice-persistent-id.evil.example<", ">alice-persistent-id<!---->.evil.example<");
    add("comment-in-nameid", "xml", x(response("_r1", &commented_signed)), "either", "accept", "alice-persistent-id.evil.example", "comment injection in a signed NameID (VU#475445): the signature still verifies and the NameID must be read in full, never truncated at the comment");

    // ------------------------------------------------------- stripping, placement
    add(
        "unsigned",
        "xml",
        x(response("_r1", &assertion("_a1", "alice"))),
        "either",
        "reject",
        "SIG_REQUIRED",
        "nothing is signed",
    );
    add(
        "signature-stripped",
        "xml",
        x(without_signature(&signed_assertion_resp)),
        "either",
        "reject",
        "SIG_REQUIRED",
        "the Assertion's ds:Signature was removed",
    );
    add(
        "signed-response-but-assertion-wanted",
        "xml",
        x(signed_resp.clone()),
        "signed-assertion",
        "reject",
        "SIG_REQUIRED",
        "policy requires a signed Assertion; only the Response is signed",
    );
    add(
        "signed-assertion-but-response-wanted",
        "xml",
        x(signed_assertion_resp.clone()),
        "signed-response",
        "reject",
        "SIG_REQUIRED",
        "policy requires a signed Response; only the Assertion is signed",
    );
    let moved_to_status = signed_assertion_resp.replacen(&signature_of(&sa), "", 1)
        .replace("</samlp:StatusCode>", "")
        .replace(SUCCESS, &format!(r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>{}</samlp:Status>"#, signature_of(&sa)));
    add(
        "signature-moved-to-status",
        "xml",
        x(moved_to_status),
        "either",
        "reject",
        "SIG_PLACEMENT",
        "the Assertion's signature moved under samlp:Status (no ID)",
    );
    let status_signed = {
        let with_id = response("_r1", &sa).replace("<samlp:Status>", r#"<samlp:Status ID="_st1">"#);
        k.sign(&with_id, "_st1")
    };
    add(
        "signature-on-status",
        "xml",
        x(status_signed),
        "either",
        "reject",
        "SIG_UNEXPECTED_ELEMENT",
        "a valid signature covers samlp:Status, which is neither the Response nor the Assertion",
    );
    let sig_at_end = {
        let s = signature_of(&signed_resp);
        without_signature(&signed_resp).replace("</samlp:Response>", &format!("{s}</samlp:Response>"))
    };
    add(
        "response-signature-at-end",
        "xml",
        x(sig_at_end),
        "either",
        "reject",
        "SIG_PLACEMENT",
        "the Response's signature is valid but not where the schema puts it (right after Issuer)",
    );

    // --------------------------------------------------- XML Signature Wrapping
    let evil = assertion("_evil", "admin");
    // XSW1: evil Response (new ID) with the signed original moved inside its Signature.
    let xsw1 = {
        let s = signature_of(&signed_resp);
        let original = without_signature(&signed_resp);
        let evil_resp = response("_evil_r", &evil);
        let sig_with_copy = s.replace("</ds:Signature>", &format!("{original}</ds:Signature>"));
        evil_resp.replacen(ISSUER, &format!("{ISSUER}{sig_with_copy}"), 1)
    };
    add(
        "xsw1-response-copy-inside-signature",
        "xml",
        x(xsw1),
        "either",
        "reject",
        "SIG_MALFORMED",
        "XSW1: evil Response; the signed original sits inside the evil Response's ds:Signature",
    );
    // XSW2: evil Response with the signed original as a detached sibling before the Signature.
    let xsw2 = {
        let s = signature_of(&signed_resp);
        let original = without_signature(&signed_resp);
        response("_evil_r", &evil).replacen(ISSUER, &format!("{ISSUER}{original}{s}"), 1)
    };
    add(
        "xsw2-response-detached",
        "xml",
        x(xsw2),
        "either",
        "reject",
        "SIG_REFERENCE_URI",
        "XSW2: evil Response carrying the signature, whose Reference names a detached copy of the original",
    );
    // XSW3: evil Assertion inserted before the signed one.
    add(
        "xsw3-evil-assertion-first",
        "xml",
        x(response("_r1", &format!("{evil}{sa}"))),
        "either",
        "reject",
        "SAML_ASSERTION_COUNT",
        "XSW3: an unsigned evil Assertion precedes the signed one",
    );
    // XSW4: evil Assertion wraps the signed one.
    let xsw4 = response("_r1", &evil.replace("</saml:Assertion>", &format!("{sa}</saml:Assertion>")));
    add(
        "xsw4-evil-assertion-wraps-signed",
        "xml",
        x(xsw4),
        "either",
        "reject",
        "SIG_UNEXPECTED_ELEMENT",
        "XSW4: the signed Assertion is hidden inside the evil one",
    );
    // XSW5: the signed assertion's content changed (new ID), an unsigned copy of the original appended.
    let xsw5 = {
        let evil_with_sig =
            sa.replace(r#"ID="_a1""#, r#"ID="_evil""#).replace(">alice-persistent-id<", ">admin<");
        response("_r1", &format!("{evil_with_sig}{}", without_signature(&sa)))
    };
    add(
        "xsw5-evil-keeps-signature",
        "xml",
        x(xsw5),
        "either",
        "reject",
        "SIG_REFERENCE_URI",
        "XSW5: the evil Assertion keeps the signature; the original, unsigned, is appended",
    );
    let xsw5_same_id = {
        let evil_with_sig = sa.replace(">alice-persistent-id<", ">admin<");
        response("_r1", &format!("{evil_with_sig}{}", without_signature(&sa)))
    };
    add(
        "xsw5-same-id",
        "xml",
        x(xsw5_same_id),
        "either",
        "reject",
        "XML_DUPLICATE_ID",
        "XSW5 with the original ID kept on both assertions",
    );
    // XSW6: evil Assertion with the signature, the original copy inside the Signature.
    let xsw6 = {
        let s = signature_of(&sa)
            .replace("</ds:Signature>", &format!("{}</ds:Signature>", without_signature(&sa)));
        response("_r1", &evil.replacen(ISSUER, &format!("{ISSUER}{s}"), 1))
    };
    add(
        "xsw6-copy-inside-signature",
        "xml",
        x(xsw6),
        "either",
        "reject",
        "SIG_MALFORMED",
        "XSW6: evil Assertion carries the signature, with the signed original inside ds:Signature",
    );
    // XSW7: signed Assertion hidden in Extensions, evil one in its place.
    let xsw7 = response("_r1", &evil).replacen(
        SUCCESS,
        &format!("<samlp:Extensions>{sa}</samlp:Extensions>{SUCCESS}"),
        1,
    );
    add(
        "xsw7-signed-in-extensions",
        "xml",
        x(xsw7),
        "either",
        "reject",
        "SIG_UNEXPECTED_ELEMENT",
        "XSW7: the signed Assertion sits in samlp:Extensions, an evil one is the Response's assertion",
    );
    // XSW8: evil Assertion with the signature holding the original in ds:Object.
    let xsw8 = {
        let s = signature_of(&sa).replace(
            "</ds:Signature>",
            &format!("<ds:Object>{}</ds:Object></ds:Signature>", without_signature(&sa)),
        );
        response("_r1", &evil.replacen(ISSUER, &format!("{ISSUER}{s}"), 1))
    };
    add(
        "xsw8-original-in-object",
        "xml",
        x(xsw8),
        "either",
        "reject",
        "SIG_MALFORMED",
        "XSW8: evil Assertion whose ds:Signature holds the original in ds:Object",
    );
    add(
        "two-signed-assertions",
        "xml",
        x(response("_r1", &format!("{sa}{}", k.sign(&assertion("_a2", "admin"), "_a2")))),
        "either",
        "reject",
        "SAML_ASSERTION_COUNT",
        "two validly signed assertions",
    );
    let advice = {
        let inner = k.sign(&assertion("_adv", "admin"), "_adv");
        let outer = assertion("_a1", "alice").replace(
            "<saml:AuthnStatement",
            &format!("<saml:Advice>{inner}</saml:Advice><saml:AuthnStatement"),
        );
        response("_r1", &k.sign(&outer, "_a1"))
    };
    add(
        "assertion-in-advice",
        "xml",
        x(advice),
        "either",
        "reject",
        "SIG_UNEXPECTED_ELEMENT",
        "a second signed Assertion inside saml:Advice",
    );
    let plain_and_encrypted = response("_r1", &format!("{sa}<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\"/></saml:EncryptedAssertion>"));
    add(
        "plain-and-encrypted-assertion",
        "xml",
        x(plain_and_encrypted),
        "either",
        "reject",
        "SAML_ASSERTION_COUNT",
        "a signed Assertion next to an EncryptedAssertion",
    );
    add(
        "duplicate-id-response-and-assertion",
        "xml",
        x(response("_a1", &sa)),
        "either",
        "reject",
        "XML_DUPLICATE_ID",
        "the Response reuses the signed Assertion's ID",
    );

    // ----------------------------------------------------------- tampering
    add(
        "digest-mismatch-nameid",
        "xml",
        x(signed_assertion_resp.replace(">alice-persistent-id<", ">admin<")),
        "either",
        "reject",
        "SIG_DIGEST_MISMATCH",
        "the signed NameID was changed",
    );
    add(
        "digest-mismatch-attribute",
        "xml",
        x(signed_resp.replace(">alice@example.com<", ">admin@example.com<")),
        "either",
        "reject",
        "SIG_DIGEST_MISMATCH",
        "a signed attribute value was changed",
    );
    add(
        "cdata-injection-nameid",
        "xml",
        x(signed_assertion_resp.replace(">alice-persistent-id<", ">alice-persistent-id<![CDATA[.evil]]><")),
        "either",
        "reject",
        "SIG_DIGEST_MISMATCH",
        "CDATA added to a signed NameID changes the signed text",
    );
    let corrupted_value = {
        let s = signature_of(&sa);
        let v0 = s.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
        let mut t = s.clone();
        let c = if &s[v0..v0 + 1] == "A" { "B" } else { "A" };
        t.replace_range(v0..v0 + 1, c);
        signed_assertion_resp.replace(&s, &t)
    };
    add(
        "signature-value-corrupted",
        "xml",
        x(corrupted_value),
        "either",
        "reject",
        "SIG_INVALID",
        "one character of SignatureValue changed",
    );
    let empty_value = {
        let s = signature_of(&sa);
        let a = s.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
        let b = s.find("</ds:SignatureValue>").unwrap();
        let mut t = s.clone();
        t.replace_range(a..b, "");
        signed_assertion_resp.replace(&s, &t)
    };
    add(
        "signature-value-empty",
        "xml",
        x(empty_value),
        "either",
        "reject",
        "SIG_INVALID",
        "empty SignatureValue",
    );
    add(
        "digest-value-not-base64",
        "xml",
        x(signed_assertion_resp.replacen("<ds:DigestValue>", "<ds:DigestValue>!!", 1)),
        "either",
        "reject",
        "SIG_MALFORMED",
        "DigestValue is not base64",
    );
    let by_attacker = sign_element(
        &assertion("_a1", "admin"),
        "_a1",
        &k.attacker,
        Some(&k.attacker_cert),
        &SignOptions::default(),
    )
    .unwrap();
    add(
        "wrong-key-attacker-cert-in-keyinfo",
        "xml",
        x(response("_r1", &by_attacker)),
        "either",
        "reject",
        "SIG_INVALID",
        "signed by an attacker's key whose certificate is in KeyInfo (KeyInfo is never trusted)",
    );
    let sha1_digest = sign_element(
        &assertion("_a1", "alice"),
        "_a1",
        &k.idp,
        Some(&k.idp_cert),
        &SignOptions { digest: DigestAlgorithm::Sha1, ..SignOptions::default() },
    )
    .unwrap();
    add(
        "sha1-digest-not-allowed",
        "xml",
        x(response("_r1", &sha1_digest)),
        "either",
        "reject",
        "SIG_SHA1_NOT_ALLOWED",
        "SHA-1 DigestMethod while SHA-1 is not allowed",
    );

    // ------------------------------------------------ algorithm and structure games
    let alg = |from: &str, to: &str| x(signed_assertion_resp.replacen(from, to, 1));
    add(
        "hmac-signature-method",
        "xml",
        alg(
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
        ),
        "either",
        "reject",
        "SIG_ALGORITHM",
        "HMAC SignatureMethod (key-confusion attack)",
    );
    add(
        "inclusive-c14n-method",
        "xml",
        alg(
            r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">"#,
            r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315">"#,
        ),
        "either",
        "reject",
        "SIG_CANONICALIZATION",
        "inclusive C14N as the CanonicalizationMethod",
    );
    add(
        "xpath-transform",
        "xml",
        alg(
            "</ds:Transforms>",
            r#"<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform></ds:Transforms>"#,
        ),
        "either",
        "reject",
        "SIG_TRANSFORM",
        "an extra XPath transform",
    );
    add(
        "transforms-reversed",
        "xml",
        alg(
            r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform>"#,
            r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform>"#,
        ),
        "either",
        "reject",
        "SIG_TRANSFORM",
        "exc-c14n before enveloped-signature",
    );
    add(
        "enveloped-transform-only",
        "xml",
        alg(r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform>"#, ""),
        "either",
        "reject",
        "SIG_TRANSFORM",
        "no exclusive C14N transform (would fall back to inclusive C14N)",
    );
    add(
        "two-references",
        "xml",
        alg(
            "</ds:Reference>",
            r##"</ds:Reference><ds:Reference URI="#_r1"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>"##,
        ),
        "either",
        "reject",
        "SIG_REFERENCE_COUNT",
        "two References in SignedInfo",
    );
    add(
        "reference-to-whole-document",
        "xml",
        alg(r##"URI="#_a1""##, r#"URI="""#),
        "either",
        "reject",
        "SIG_REFERENCE_URI",
        "Reference URI=\"\" (whole document)",
    );
    add(
        "reference-to-other-element",
        "xml",
        x(signed_resp.replacen(r##"URI="#_r1""##, r##"URI="#_a1""##, 1)),
        "either",
        "reject",
        "SIG_REFERENCE_URI",
        "the Response's signature points at the Assertion's ID",
    );
    add(
        "signature-with-object",
        "xml",
        alg("</ds:Signature>", "<ds:Object><ds:Manifest/></ds:Object></ds:Signature>"),
        "either",
        "reject",
        "SIG_MALFORMED",
        "ds:Object (and Manifest) in the signature",
    );
    add(
        "signedinfo-missing",
        "xml",
        x(signed_assertion_resp
            .replace("<ds:SignedInfo>", "<ds:Whatever>")
            .replace("</ds:SignedInfo>", "</ds:Whatever>")),
        "either",
        "reject",
        "SIG_MALFORMED",
        "no ds:SignedInfo",
    );

    // ------------------------------------------------------------ XML and encodings
    add("dtd-billion-laughs", "xml", x(format!("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>{}", signed_assertion_resp.replace("alice-persistent-id", "&c;"))), "either", "reject", "XML_DTD_FORBIDDEN", "entity expansion (billion laughs)");
    add(
        "dtd-xxe",
        "xml",
        x(format!(
            "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}",
            signed_assertion_resp.replace("alice-persistent-id", "&x;")
        )),
        "either",
        "reject",
        "XML_DTD_FORBIDDEN",
        "external entity (XXE)",
    );
    add(
        "dtd-empty-doctype",
        "xml",
        x(format!("<!DOCTYPE samlp:Response>{signed_assertion_resp}")),
        "either",
        "reject",
        "XML_DTD_FORBIDDEN",
        "even an empty DOCTYPE is refused",
    );
    add(
        "not-well-formed",
        "xml",
        x(signed_assertion_resp[..signed_assertion_resp.len() - 10].to_string()),
        "either",
        "reject",
        "XML_MALFORMED",
        "truncated XML",
    );
    add(
        "two-root-elements",
        "xml",
        x(format!("{signed_assertion_resp}{signed_assertion_resp}")),
        "either",
        "reject",
        "XML_MALFORMED",
        "two document elements",
    );
    add(
        "deep-nesting",
        "xml",
        x(response("_r1", &sa).replace(
            "<samlp:Status>",
            &format!(
                "<samlp:Extensions>{}{}</samlp:Extensions><samlp:Status>",
                "<x>".repeat(200),
                "</x>".repeat(200)
            ),
        )),
        "either",
        "reject",
        "XML_TOO_DEEP",
        "200 nested elements",
    );
    let mut not_utf8 = signed_assertion_resp.clone().into_bytes();
    let at = signed_assertion_resp.find("alice-persistent-id").unwrap();
    not_utf8[at] = 0xff;
    add("not-utf8", "xml", not_utf8, "either", "reject", "INPUT_NOT_UTF8", "a byte that is not UTF-8");
    add(
        "not-a-response",
        "xml",
        x(format!(
            r#"<samlp:AuthnRequest {NS} ID="_q" Version="2.0" IssueInstant="2030-01-01T00:00:00Z">{ISSUER}</samlp:AuthnRequest>"#
        )),
        "either",
        "reject",
        "SAML_UNEXPECTED_ELEMENT",
        "an AuthnRequest posted to an ACS",
    );
    let full = B64.encode(&signed_assertion_resp);
    add(
        "truncated-base64",
        "post",
        full.as_bytes()[..full.len() - 3].to_vec(),
        "either",
        "reject",
        "BASE64_INVALID",
        "base64 cut short",
    );
    add(
        "base64-garbage",
        "post",
        b"PHNhbWxwOlJlc3BvbnNl$$$$".to_vec(),
        "either",
        "reject",
        "BASE64_INVALID",
        "characters outside the base64 alphabet",
    );
    add(
        "bad-deflate",
        "redirect",
        b"SAMLResponse=AAAAAAAAAAAA".to_vec(),
        "either",
        "reject",
        "DEFLATE_INVALID",
        "base64 that is not DEFLATE data",
    );
    let bomb = {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(b"<samlp:Response>").unwrap();
        e.write_all(&vec![b' '; 8 << 20]).unwrap();
        let z = e.finish().unwrap();
        format!(
            "SAMLResponse={}",
            percent_encoding::utf8_percent_encode(&B64.encode(z), percent_encoding::NON_ALPHANUMERIC)
        )
        .into_bytes()
    };
    add(
        "deflate-bomb",
        "redirect",
        bomb,
        "either",
        "reject",
        "INPUT_TOO_LARGE",
        "8 MiB of spaces compressed to a few KiB",
    );

    write_corpus(&dir, &mut cases);
}

fn redirect_query(xml: &str) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(xml.as_bytes()).unwrap();
    let z = e.finish().unwrap();
    format!(
        "SAMLResponse={}&RelayState=%2Fapp",
        percent_encoding::utf8_percent_encode(&B64.encode(z), percent_encoding::NON_ALPHANUMERIC)
    )
    .into_bytes()
}

fn write_corpus(dir: &Path, cases: &mut [Case]) {
    let cases_dir = dir.join("cases");
    // Keep third-party files (they are copied by hand, see README.md).
    for entry in std::fs::read_dir(&cases_dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("gen-") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    std::fs::create_dir_all(&cases_dir).unwrap();
    let mut manifest =
        String::from("file\tkind\tcert\twant\tallow_sha1\texpect\tcode_or_nameid\tdescription\n");
    for c in cases.iter() {
        let ext = match c.kind {
            "xml" => "xml",
            "post" => "b64",
            _ => "query",
        };
        let file: PathBuf = format!("cases/gen-{}.{ext}", c.name).into();
        std::fs::write(dir.join(&file), &c.bytes).unwrap();
        writeln!(
            manifest,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            file.display(),
            c.kind,
            c.cert,
            c.want,
            c.allow_sha1,
            c.expect,
            c.detail,
            c.description
        )
        .unwrap();
    }
    let third_party = dir.join("third-party.tsv");
    if let Ok(extra) = std::fs::read_to_string(third_party) {
        manifest.push_str(&extra);
    }
    std::fs::write(dir.join("manifest.tsv"), manifest).unwrap();
    println!("wrote {} generated cases to {}", cases.len(), dir.display());
}
