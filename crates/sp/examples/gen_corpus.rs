//! Regenerates `tests/corpus/`: hostile and valid SAML Responses for the ACS,
//! each with the `portcullis sp check-response` options it is checked with and the
//! verdict and code it must give (see tests/corpus/README.md). Signatures are
//! deterministic; encrypted cases get fresh random keys and IVs on every run.
//!
//!     cargo run -p portcullis-sp --example gen_corpus

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use saml::crypto::{Certificate, DigestAlgorithm, SigningKey};
use saml::dsig::{sign_element, SignOptions};
use sp::xmlenc::{encrypt_assertion, ContentAlgorithm, EncryptionKey, KeyTransport};
use std::fmt::Write as _;
use std::path::Path;

const IDP: &str = "https://idp.example.com/";
const SP: &str = "https://sp.example.com";
const ACS: &str = "https://sp.example.com/acs";
const REQ: &str = "_req1";
/// The instant every case is checked at (`--now`), one minute into validity.
const NOW: &str = "2030-01-01T00:01:00Z";
const SUCCESS: &str =
    r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#;
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// Every field of a Response that a case may change.
#[derive(Clone)]
struct Spec {
    response_id: String,
    assertion_id: String,
    destination: Option<String>,
    in_response_to: Option<String>,
    response_issuer: Option<String>,
    status: String,
    assertion_issuer: String,
    name_id: Option<String>,
    /// (Method, Recipient, NotBefore, NotOnOrAfter, InResponseTo) per SubjectConfirmation.
    confirmations: Vec<Confirmation>,
    conditions_not_before: Option<String>,
    conditions_not_on_or_after: Option<String>,
    audiences: Vec<Vec<String>>,
    authn_statement: bool,
}

#[derive(Clone)]
struct Confirmation {
    method: String,
    recipient: Option<String>,
    not_before: Option<String>,
    not_on_or_after: Option<String>,
    in_response_to: Option<String>,
    with_data: bool,
}

fn bearer() -> Confirmation {
    Confirmation {
        method: BEARER.into(),
        recipient: Some(ACS.into()),
        not_before: None,
        not_on_or_after: Some("2030-01-01T00:05:00Z".into()),
        in_response_to: Some(REQ.into()),
        with_data: true,
    }
}

fn spec() -> Spec {
    Spec {
        response_id: "_r1".into(),
        assertion_id: "_a1".into(),
        destination: Some(ACS.into()),
        in_response_to: Some(REQ.into()),
        response_issuer: Some(IDP.into()),
        status: SUCCESS.into(),
        assertion_issuer: IDP.into(),
        name_id: Some("alice@example.com".into()),
        confirmations: vec![bearer()],
        conditions_not_before: Some("2030-01-01T00:00:00Z".into()),
        conditions_not_on_or_after: Some("2030-01-01T00:05:00Z".into()),
        audiences: vec![vec![SP.into()]],
        authn_statement: true,
    }
}

fn opt_attr(name: &str, v: &Option<String>) -> String {
    v.as_ref().map(|v| format!(r#" {name}="{v}""#)).unwrap_or_default()
}

impl Spec {
    /// A standalone assertion (namespaces declared on it, so it can be signed
    /// alone, encrypted, and spliced anywhere).
    fn assertion(&self) -> String {
        let mut s = format!(
            r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{}" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"><saml:Issuer>{}</saml:Issuer><saml:Subject>"#,
            self.assertion_id, self.assertion_issuer
        );
        if let Some(n) = &self.name_id {
            write!(s, r#"<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{n}</saml:NameID>"#).unwrap();
        }
        for c in &self.confirmations {
            write!(s, r#"<saml:SubjectConfirmation Method="{}">"#, c.method).unwrap();
            if c.with_data {
                write!(
                    s,
                    "<saml:SubjectConfirmationData{}{}{}{}/>",
                    opt_attr("NotBefore", &c.not_before),
                    opt_attr("NotOnOrAfter", &c.not_on_or_after),
                    opt_attr("Recipient", &c.recipient),
                    opt_attr("InResponseTo", &c.in_response_to)
                )
                .unwrap();
            }
            s.push_str("</saml:SubjectConfirmation>");
        }
        s.push_str("</saml:Subject>");
        write!(
            s,
            "<saml:Conditions{}{}>",
            opt_attr("NotBefore", &self.conditions_not_before),
            opt_attr("NotOnOrAfter", &self.conditions_not_on_or_after)
        )
        .unwrap();
        for r in &self.audiences {
            s.push_str("<saml:AudienceRestriction>");
            for a in r {
                write!(s, "<saml:Audience>{a}</saml:Audience>").unwrap();
            }
            s.push_str("</saml:AudienceRestriction>");
        }
        s.push_str("</saml:Conditions>");
        if self.authn_statement {
            s.push_str(r#"<saml:AuthnStatement AuthnInstant="2030-01-01T00:00:00Z" SessionIndex="_s1" SessionNotOnOrAfter="2030-01-01T08:00:00Z"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"#);
        }
        s.push_str(r#"<saml:AttributeStatement><saml:Attribute Name="Email"><saml:AttributeValue>alice@example.com</saml:AttributeValue></saml:Attribute><saml:Attribute Name="Groups"><saml:AttributeValue>0b1c6e2a-7d3f-4a8e-9f00-1a2b3c4d5e6f</saml:AttributeValue><saml:AttributeValue>5f4e3d2c-1b0a-4f9e-8d7c-6b5a49382716</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>"#);
        s
    }

    fn response(&self, inner: &str) -> String {
        format!(
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{}" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"{}{}>{}{}{inner}</samlp:Response>"#,
            self.response_id,
            opt_attr("Destination", &self.destination),
            opt_attr("InResponseTo", &self.in_response_to),
            self.response_issuer
                .as_ref()
                .map(|i| format!("<saml:Issuer>{i}</saml:Issuer>"))
                .unwrap_or_default(),
            self.status,
        )
    }
}

struct Keys {
    idp: SigningKey,
    idp_cert: Certificate,
    rollover: SigningKey,
    rollover_cert: Certificate,
    attacker: SigningKey,
    attacker_cert: Certificate,
    sp: EncryptionKey,
    other_sp: EncryptionKey,
}

fn sign_with(xml: &str, id: &str, key: &SigningKey, cert: &Certificate, opts: &SignOptions) -> String {
    sign_element(xml, id, key, Some(cert), opts).expect("sign")
}

impl Keys {
    fn sign(&self, xml: &str, id: &str) -> String {
        sign_with(xml, id, &self.idp, &self.idp_cert, &SignOptions::default())
    }
    /// A Response whose Assertion is signed.
    fn signed_assertion(&self, s: &Spec) -> String {
        s.response(&self.sign(&s.assertion(), &s.assertion_id))
    }
    /// A Response that is signed (its Assertion is not).
    fn signed_response(&self, s: &Spec) -> String {
        self.sign(&s.response(&s.assertion()), &s.response_id)
    }
    fn signed_both(&self, s: &Spec) -> String {
        self.sign(&self.signed_assertion(s), &s.response_id)
    }
    fn encrypt(
        &self,
        assertion: &str,
        to: &EncryptionKey,
        t: KeyTransport,
        c: ContentAlgorithm,
        inside: bool,
    ) -> String {
        encrypt_assertion(assertion, to, t, c, inside).expect("encrypt")
    }
}

fn signature_of(xml: &str) -> String {
    let start = xml.find("<ds:Signature").expect("signature");
    let end = xml.find("</ds:Signature>").expect("signature end") + "</ds:Signature>".len();
    xml[start..end].to_string()
}

fn without_signature(xml: &str) -> String {
    xml.replacen(&signature_of(xml), "", 1)
}

struct Case {
    name: String,
    ext: &'static str,
    bytes: Vec<u8>,
    args: String,
    expect: &'static str,
    detail: String,
    description: String,
}

/// The options every case starts from; a case appends or replaces some.
const BASE: &str = "--idp-metadata keys/idp-metadata.xml --sp-entity-id https://sp.example.com --acs-url https://sp.example.com/acs";

struct Corpus(Vec<Case>);

impl Corpus {
    fn add(
        &mut self,
        name: &str,
        bytes: impl Into<Vec<u8>>,
        extra: &str,
        expect: &'static str,
        detail: &str,
        description: &str,
    ) {
        self.add_ext(name, "xml", bytes, extra, expect, detail, description)
    }
    #[allow(clippy::too_many_arguments)]
    fn add_ext(
        &mut self,
        name: &str,
        ext: &'static str,
        bytes: impl Into<Vec<u8>>,
        extra: &str,
        expect: &'static str,
        detail: &str,
        description: &str,
    ) {
        let mut args = format!("{BASE} --now {NOW}");
        if !extra.contains("--no-request") {
            args.push_str(" --request-id _req1");
        }
        let extra = extra.replace("--no-request", "");
        if !extra.trim().is_empty() {
            args.push(' ');
            args.push_str(extra.trim());
        }
        self.0.push(Case {
            name: name.into(),
            ext,
            bytes: bytes.into(),
            args,
            expect,
            detail: detail.into(),
            description: description.into(),
        });
    }
}

fn load_or_make(dir: &Path, name: &str, cn: &str) -> (SigningKey, Certificate) {
    let key_path = dir.join(format!("keys/{name}.key"));
    let cert_path = dir.join(format!("keys/{name}.crt"));
    if key_path.exists() && cert_path.exists() {
        let k = SigningKey::load(&std::fs::read(&key_path).unwrap()).unwrap();
        let c = Certificate::load(&std::fs::read(&cert_path).unwrap()).unwrap();
        return (k, c);
    }
    let k = SigningKey::generate(2048).unwrap();
    let c =
        Certificate::self_signed(&k, cn, time::macros::datetime!(2025-01-01 00:00:00 UTC), 36500).unwrap();
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::write(&key_path, k.to_pkcs8_pem().as_bytes()).unwrap();
    std::fs::write(&cert_path, c.to_pem()).unwrap();
    (k, c)
}

fn metadata(entity: &str, certs: &[&Certificate]) -> String {
    let keys: String = certs
        .iter()
        .map(|c| format!(r#"<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#, c.to_base64()))
        .collect();
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keys}<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>
"#
    )
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let (idp, idp_cert) = load_or_make(&dir, "idp", "Test IdP");
    let (rollover, rollover_cert) = load_or_make(&dir, "idp-rollover", "Test IdP (next)");
    let (attacker, attacker_cert) = load_or_make(&dir, "attacker", "Attacker");
    let (_sp_key, sp_cert) = load_or_make(&dir, "sp", "Test SP encryption");
    let (_other_key, other_cert) = load_or_make(&dir, "other-sp", "Some other SP");
    std::fs::write(dir.join("keys/idp-metadata.xml"), metadata(IDP, &[&idp_cert, &rollover_cert])).unwrap();
    let k = Keys {
        idp,
        idp_cert,
        rollover,
        rollover_cert,
        attacker,
        attacker_cert,
        sp: EncryptionKey::from_certificate(&sp_cert).unwrap(),
        other_sp: EncryptionKey::from_certificate(&other_cert).unwrap(),
    };
    let mut c = Corpus(Vec::new());
    let base = spec();
    let alice = "alice@example.com";

    // ------------------------------------------------------------ accepted
    let sr = k.signed_response(&base);
    let sa = k.signed_assertion(&base);
    c.add("valid-signed-response", sr.clone(), "", "accept", alice, "control: the Response is signed");
    c.add("valid-signed-assertion", sa.clone(), "", "accept", alice, "control: the Assertion is signed");
    c.add(
        "valid-signed-both",
        k.signed_both(&base),
        "--want signed-response",
        "accept",
        alice,
        "control: both signed, a signed Response wanted",
    );
    c.add(
        "valid-signed-both-assertion-wanted",
        k.signed_both(&base),
        "--want signed-assertion",
        "accept",
        alice,
        "control: both signed, a signed Assertion wanted",
    );
    c.add_ext(
        "valid-post-base64",
        "b64",
        B64.encode(&sa),
        "",
        "accept",
        alice,
        "control: base64 as posted by the HTTP-POST binding",
    );
    let wrapped: String = B64
        .encode(&sr)
        .as_bytes()
        .chunks(76)
        .map(|l| format!("{}\r\n", String::from_utf8_lossy(l)))
        .collect();
    c.add_ext(
        "valid-post-base64-wrapped",
        "b64",
        wrapped,
        "",
        "accept",
        alice,
        "control: base64 wrapped at 76 columns with CRLF",
    );
    let form = format!(
        "SAMLResponse={}&RelayState=%2Fapp",
        percent_encoding::utf8_percent_encode(&B64.encode(&sa), percent_encoding::NON_ALPHANUMERIC)
    );
    c.add_ext(
        "valid-form-urlencoded",
        "form",
        form,
        "",
        "accept",
        alice,
        "control: a whole URL-encoded form body",
    );
    let mut unsolicited = spec();
    unsolicited.in_response_to = None;
    unsolicited.confirmations[0].in_response_to = None;
    c.add(
        "valid-unsolicited-allowed",
        k.signed_assertion(&unsolicited),
        "--no-request --allow-unsolicited",
        "accept",
        alice,
        "IdP-initiated (no InResponseTo) with unsolicited responses allowed",
    );
    let rolled = sign_with(
        &base.response(&base.assertion()),
        "_r1",
        &k.rollover,
        &k.rollover_cert,
        &SignOptions::default(),
    );
    c.add(
        "valid-rollover-second-cert",
        rolled,
        "",
        "accept",
        alice,
        "signed with the second signing certificate of the metadata (rollover)",
    );
    let mut early = spec();
    early.conditions_not_before = Some("2030-01-01T00:03:00Z".into());
    c.add(
        "valid-early-within-skew",
        k.signed_response(&early),
        "",
        "accept",
        alice,
        "NotBefore 2 minutes ahead of the SP's clock: inside the 180 s default skew",
    );
    let mut multi = spec();
    multi.audiences = vec![vec!["https://other.example.com".into(), SP.into()]];
    c.add(
        "valid-audience-among-several",
        k.signed_response(&multi),
        "",
        "accept",
        alice,
        "the SP is one of two Audiences in the restriction",
    );
    let mut no_dest = spec();
    no_dest.destination = None;
    c.add(
        "valid-unsigned-response-without-destination",
        k.signed_assertion(&no_dest),
        "",
        "accept",
        alice,
        "Destination may be omitted when the Response itself is not signed",
    );
    let mut commented = spec();
    commented.name_id = Some("alice@example.com.evil.example".into());
    let commented_xml = commented
        .response(&k.sign(&commented.assertion(), "_a1"))
        .replace(">alice@example.com.evil.example<", ">alice@example.com<!---->.evil.example<");
    c.add("valid-comment-in-nameid", commented_xml, "", "accept", "alice@example.com.evil.example", "comment injection in a signed NameID (VU#475445): the full text is returned, never the part before the comment");
    let sha1 = sign_with(
        &base.response(&base.assertion()),
        "_r1",
        &k.idp,
        &k.idp_cert,
        &SignOptions { digest: DigestAlgorithm::Sha1, ..SignOptions::default() },
    );
    c.add(
        "valid-sha1-allowed",
        sha1.clone(),
        "--allow-sha1",
        "accept",
        alice,
        "SHA-1 DigestMethod with SHA-1 explicitly allowed",
    );
    // Encrypted, accepted.
    let signed_a = k.sign(&base.assertion(), "_a1");
    let enc = k.encrypt(&signed_a, &k.sp, KeyTransport::RsaOaepSha256, ContentAlgorithm::Aes256Gcm, true);
    c.add(
        "valid-encrypted-signed-assertion-gcm",
        base.response(&enc),
        "--sp-key keys/sp.key",
        "accept",
        alice,
        "signed Assertion encrypted with AES-256-GCM, key wrapped with RSA-OAEP SHA-256 inside KeyInfo",
    );
    let enc =
        k.encrypt(&base.assertion(), &k.sp, KeyTransport::RsaOaepMgf1p, ContentAlgorithm::Aes128Cbc, false);
    c.add("valid-encrypted-cbc-signed-response", k.sign(&base.response(&enc), "_r1"), "--sp-key keys/sp.key", "accept", alice, "signed Response with an unsigned EncryptedAssertion (AES-128-CBC, rsa-oaep-mgf1p, EncryptedKey as a sibling named by RetrievalMethod)");
    let enc = k.encrypt(&signed_a, &k.sp, KeyTransport::RsaOaepMgf1p, ContentAlgorithm::Aes256Cbc, false);
    c.add(
        "valid-encrypted-both-signed-cbc",
        k.sign(&base.response(&enc), "_r1"),
        "--sp-key keys/sp.key --want signed-assertion",
        "accept",
        alice,
        "signed Response and a signed Assertion inside AES-256-CBC",
    );
    let enc = k.encrypt(&signed_a, &k.sp, KeyTransport::RsaOaepSha256, ContentAlgorithm::Aes192Gcm, false);
    c.add(
        "valid-encrypted-aes192-gcm",
        base.response(&enc),
        "--sp-key keys/sp.key",
        "accept",
        alice,
        "signed Assertion in AES-192-GCM, EncryptedKey as a sibling",
    );

    // ------------------------------------------------------------ signatures
    c.add("unsigned", base.response(&base.assertion()), "", "reject", "SIG_REQUIRED", "nothing is signed");
    c.add(
        "signature-stripped",
        without_signature(&sa),
        "",
        "reject",
        "SIG_REQUIRED",
        "the Assertion's ds:Signature was removed",
    );
    c.add(
        "signed-response-but-assertion-wanted",
        sr.clone(),
        "--want signed-assertion",
        "reject",
        "SIG_REQUIRED",
        "a signed Assertion is required; only the Response is signed",
    );
    c.add(
        "signed-assertion-but-response-wanted",
        sa.clone(),
        "--want signed-response",
        "reject",
        "SIG_REQUIRED",
        "a signed Response is required; only the Assertion is signed",
    );
    let by_attacker = base.response(&sign_with(
        &base.assertion(),
        "_a1",
        &k.attacker,
        &k.attacker_cert,
        &SignOptions::default(),
    ));
    c.add(
        "signed-by-unknown-key",
        by_attacker,
        "",
        "reject",
        "SIG_INVALID",
        "signed by a key the metadata does not list (its certificate in KeyInfo is never trusted)",
    );
    c.add(
        "sha1-not-allowed",
        sha1,
        "",
        "reject",
        "SIG_SHA1_NOT_ALLOWED",
        "SHA-1 DigestMethod while SHA-1 is not allowed",
    );
    c.add(
        "digest-mismatch-nameid",
        sa.replace(">alice@example.com</saml:NameID>", ">admin@example.com</saml:NameID>"),
        "",
        "reject",
        "SIG_DIGEST_MISMATCH",
        "the signed NameID was changed",
    );
    c.add(
        "cdata-injection-nameid",
        sa.replace(">alice@example.com</saml:NameID>", ">alice@example.com<![CDATA[.evil]]></saml:NameID>"),
        "",
        "reject",
        "SIG_DIGEST_MISMATCH",
        "CDATA appended to a signed NameID changes the signed text",
    );
    let status_signed = k.sign(
        &base
            .response(&k.sign(&base.assertion(), "_a1"))
            .replace("<samlp:Status>", r#"<samlp:Status ID="_st1">"#),
        "_st1",
    );
    c.add(
        "signature-on-status",
        status_signed,
        "",
        "reject",
        "SIG_UNEXPECTED_ELEMENT",
        "a valid signature covers samlp:Status, which is neither the Response nor the Assertion",
    );

    // ------------------------------------------------------------ XML Signature Wrapping
    let evil_spec =
        Spec { assertion_id: "_evil".into(), name_id: Some("admin@example.com".into()), ..spec() };
    let evil = evil_spec.assertion();
    let sa_el = k.sign(&base.assertion(), "_a1");
    let issuer = format!("<saml:Issuer>{IDP}</saml:Issuer>");
    let xsw1 = {
        let s = signature_of(&sr);
        let evil_resp = Spec { response_id: "_evil_r".into(), ..spec() }.response(&evil);
        evil_resp.replacen(
            &issuer,
            &format!(
                "{issuer}{}",
                s.replace("</ds:Signature>", &format!("{}</ds:Signature>", without_signature(&sr)))
            ),
            1,
        )
    };
    c.add(
        "xsw1-response-copy-inside-signature",
        xsw1,
        "",
        "reject",
        "SIG_MALFORMED",
        "XSW1: evil Response; the signed original sits inside its ds:Signature",
    );
    let xsw2 = {
        let s = signature_of(&sr);
        Spec { response_id: "_evil_r".into(), ..spec() }.response(&evil).replacen(
            &issuer,
            &format!("{issuer}{}{s}", without_signature(&sr)),
            1,
        )
    };
    c.add(
        "xsw2-response-detached",
        xsw2,
        "",
        "reject",
        "SIG_REFERENCE_URI",
        "XSW2: evil Response carrying the signature, with the original as a detached sibling",
    );
    c.add(
        "xsw3-evil-assertion-first",
        base.response(&format!("{evil}{sa_el}")),
        "",
        "reject",
        "SAML_ASSERTION_COUNT",
        "XSW3: an unsigned evil Assertion precedes the signed one",
    );
    c.add(
        "xsw4-evil-assertion-wraps-signed",
        base.response(&evil.replace("</saml:Assertion>", &format!("{sa_el}</saml:Assertion>"))),
        "",
        "reject",
        "SIG_UNEXPECTED_ELEMENT",
        "XSW4: the signed Assertion hidden inside the evil one",
    );
    let xsw5 = base.response(&format!(
        "{}{}",
        sa_el
            .replace(r#"ID="_a1""#, r#"ID="_evil""#)
            .replace(">alice@example.com</saml:NameID>", ">admin@example.com</saml:NameID>"),
        without_signature(&sa_el)
    ));
    c.add(
        "xsw5-evil-keeps-signature",
        xsw5,
        "",
        "reject",
        "SIG_REFERENCE_URI",
        "XSW5: the evil Assertion keeps the signature; the unsigned original is appended",
    );
    let xsw6 = {
        let s = signature_of(&sa_el)
            .replace("</ds:Signature>", &format!("{}</ds:Signature>", without_signature(&sa_el)));
        base.response(&evil.replacen(&issuer, &format!("{issuer}{s}"), 1))
    };
    c.add(
        "xsw6-copy-inside-signature",
        xsw6,
        "",
        "reject",
        "SIG_MALFORMED",
        "XSW6: evil Assertion carries the signature with the original inside it",
    );
    let xsw7 = base.response(&evil).replacen(
        SUCCESS,
        &format!("<samlp:Extensions>{sa_el}</samlp:Extensions>{SUCCESS}"),
        1,
    );
    c.add(
        "xsw7-signed-in-extensions",
        xsw7,
        "",
        "reject",
        "SIG_UNEXPECTED_ELEMENT",
        "XSW7: the signed Assertion sits in samlp:Extensions, an evil one in its place",
    );
    let xsw8 = {
        let s = signature_of(&sa_el).replace(
            "</ds:Signature>",
            &format!("<ds:Object>{}</ds:Object></ds:Signature>", without_signature(&sa_el)),
        );
        base.response(&evil.replacen(&issuer, &format!("{issuer}{s}"), 1))
    };
    c.add(
        "xsw8-original-in-object",
        xsw8,
        "",
        "reject",
        "SIG_MALFORMED",
        "XSW8: evil Assertion whose ds:Signature holds the original in ds:Object",
    );
    let two = base.response(&format!(
        "{sa_el}{}",
        k.sign(&Spec { assertion_id: "_a2".into(), ..spec() }.assertion(), "_a2")
    ));
    c.add(
        "two-signed-assertions",
        two,
        "",
        "reject",
        "SAML_ASSERTION_COUNT",
        "two validly signed assertions",
    );
    let advice = {
        let inner = k.sign(&Spec { assertion_id: "_adv".into(), ..spec() }.assertion(), "_adv");
        let outer = base.assertion().replace(
            "<saml:AuthnStatement",
            &format!("<saml:Advice>{inner}</saml:Advice><saml:AuthnStatement"),
        );
        base.response(&k.sign(&outer, "_a1"))
    };
    c.add(
        "assertion-in-advice",
        advice,
        "",
        "reject",
        "SIG_UNEXPECTED_ELEMENT",
        "a second signed Assertion inside saml:Advice",
    );
    let enc_for_sp =
        k.encrypt(&signed_a, &k.sp, KeyTransport::RsaOaepSha256, ContentAlgorithm::Aes256Gcm, true);
    c.add(
        "plain-and-encrypted-assertion",
        base.response(&format!("{sa_el}{enc_for_sp}")),
        "--sp-key keys/sp.key",
        "reject",
        "SAML_ASSERTION_COUNT",
        "a signed Assertion next to an EncryptedAssertion",
    );
    let enc_second = k.encrypt(
        &k.sign(&Spec { assertion_id: "_a2".into(), ..spec() }.assertion(), "_a2"),
        &k.sp,
        KeyTransport::RsaOaepSha256,
        ContentAlgorithm::Aes256Gcm,
        true,
    );
    c.add(
        "two-encrypted-assertions",
        base.response(&format!("{enc_for_sp}{enc_second}")),
        "--sp-key keys/sp.key",
        "reject",
        "SAML_ASSERTION_COUNT",
        "two EncryptedAssertions",
    );
    c.add(
        "duplicate-id-response-and-assertion",
        Spec { response_id: "_a1".into(), ..spec() }.response(&sa_el),
        "",
        "reject",
        "XML_DUPLICATE_ID",
        "the Response reuses the signed Assertion's ID",
    );

    // ------------------------------------------------------------ time
    let mut t = spec();
    t.conditions_not_on_or_after = Some("2030-01-01T00:05:00Z".into());
    t.confirmations[0].not_on_or_after = Some("2030-01-01T01:00:00Z".into());
    c.add(
        "expired",
        k.signed_response(&t),
        "",
        "reject",
        "SP_EXPIRED",
        "Conditions NotOnOrAfter passed beyond the skew (checked at 00:09)",
    );
    let last = c.0.last_mut().unwrap();
    last.args = last.args.replace(NOW, "2030-01-01T00:09:00Z");
    c.add(
        "expired-at-skew-boundary",
        k.signed_response(&t),
        "",
        "reject",
        "SP_EXPIRED",
        "checked exactly at NotOnOrAfter + 180 s: NotOnOrAfter is exclusive",
    );
    let last = c.0.last_mut().unwrap();
    last.args = last.args.replace(NOW, "2030-01-01T00:08:00Z");
    c.add(
        "expired-but-within-skew",
        k.signed_response(&t),
        "",
        "accept",
        alice,
        "checked 179 s after NotOnOrAfter: inside the default skew",
    );
    let last = c.0.last_mut().unwrap();
    last.args = last.args.replace(NOW, "2030-01-01T00:07:59Z");
    c.add(
        "expired-zero-skew",
        k.signed_response(&t),
        "--skew-seconds 0",
        "reject",
        "SP_EXPIRED",
        "checked 1 s after NotOnOrAfter with --skew-seconds 0",
    );
    let last = c.0.last_mut().unwrap();
    last.args = last.args.replace(NOW, "2030-01-01T00:05:01Z");
    let mut nyv = spec();
    nyv.conditions_not_before = Some("2030-01-01T00:10:00Z".into());
    c.add(
        "not-yet-valid",
        k.signed_response(&nyv),
        "",
        "reject",
        "SP_NOT_YET_VALID",
        "Conditions NotBefore 9 minutes ahead of the SP's clock",
    );
    let mut scd_exp = spec();
    scd_exp.confirmations[0].not_on_or_after = Some("2029-12-31T23:50:00Z".into());
    c.add(
        "confirmation-expired",
        k.signed_response(&scd_exp),
        "",
        "reject",
        "SP_CONFIRMATION_EXPIRED",
        "SubjectConfirmationData NotOnOrAfter passed",
    );
    let mut scd_nb = spec();
    scd_nb.confirmations[0].not_before = Some("2030-01-01T00:30:00Z".into());
    c.add(
        "confirmation-not-yet-valid",
        k.signed_response(&scd_nb),
        "",
        "reject",
        "SP_CONFIRMATION_NOT_YET_VALID",
        "SubjectConfirmationData NotBefore in the future",
    );

    // ------------------------------------------------------------ audience, recipient, destination, issuer
    let mut aud = spec();
    aud.audiences = vec![vec!["https://other.example.com".into()]];
    c.add(
        "audience-mismatch",
        k.signed_response(&aud),
        "",
        "reject",
        "SP_AUDIENCE_MISMATCH",
        "the Audience is another SP",
    );
    let mut aud2 = spec();
    aud2.audiences = vec![vec![SP.into()], vec!["https://other.example.com".into()]];
    c.add(
        "audience-second-restriction-unmet",
        k.signed_response(&aud2),
        "",
        "reject",
        "SP_AUDIENCE_MISMATCH",
        "two AudienceRestrictions: every one must name the SP, the second does not",
    );
    let mut aud3 = spec();
    aud3.audiences = vec![];
    c.add(
        "audience-missing",
        k.signed_response(&aud3),
        "",
        "reject",
        "SP_AUDIENCE_MISSING",
        "no AudienceRestriction at all",
    );
    let mut rec = spec();
    rec.confirmations[0].recipient = Some("https://evil.example.com/acs".into());
    c.add(
        "recipient-mismatch",
        k.signed_response(&rec),
        "",
        "reject",
        "SP_RECIPIENT_MISMATCH",
        "SubjectConfirmationData Recipient is another ACS",
    );
    let mut rec2 = spec();
    rec2.confirmations[0].recipient = None;
    c.add(
        "recipient-missing",
        k.signed_response(&rec2),
        "",
        "reject",
        "SP_CONFIRMATION_DATA_MISSING",
        "bearer SubjectConfirmationData without Recipient",
    );
    let mut noa = spec();
    noa.confirmations[0].not_on_or_after = None;
    c.add(
        "confirmation-not-on-or-after-missing",
        k.signed_response(&noa),
        "",
        "reject",
        "SP_CONFIRMATION_DATA_MISSING",
        "bearer SubjectConfirmationData without NotOnOrAfter",
    );
    let mut nodata = spec();
    nodata.confirmations[0].with_data = false;
    c.add(
        "confirmation-data-missing",
        k.signed_response(&nodata),
        "",
        "reject",
        "SP_CONFIRMATION_DATA_MISSING",
        "bearer SubjectConfirmation without SubjectConfirmationData",
    );
    let mut hok = spec();
    hok.confirmations[0].method = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key".into();
    c.add(
        "no-bearer-confirmation",
        k.signed_response(&hok),
        "",
        "reject",
        "SP_NO_BEARER_CONFIRMATION",
        "only a holder-of-key SubjectConfirmation",
    );
    let mut two_bearers = spec();
    let mut second = bearer();
    second.recipient = Some("https://evil.example.com/acs".into());
    two_bearers.confirmations.push(second);
    c.add(
        "second-bearer-wrong-recipient",
        k.signed_response(&two_bearers),
        "",
        "reject",
        "SP_RECIPIENT_MISMATCH",
        "two bearer confirmations; every one must be valid and the second names another ACS",
    );
    let mut dest = spec();
    dest.destination = Some("https://evil.example.com/acs".into());
    c.add(
        "destination-mismatch",
        k.signed_response(&dest),
        "",
        "reject",
        "SP_DESTINATION_MISMATCH",
        "Response Destination is another ACS",
    );
    c.add(
        "destination-mismatch-unsigned-response",
        k.signed_assertion(&dest),
        "",
        "reject",
        "SP_DESTINATION_MISMATCH",
        "Destination is checked also when only the Assertion is signed",
    );
    let mut dest_empty = spec();
    dest_empty.destination = Some(String::new());
    c.add(
        "destination-empty",
        k.signed_response(&dest_empty),
        "",
        "reject",
        "SP_DESTINATION_MISMATCH",
        "Destination=\"\"",
    );
    c.add(
        "destination-missing-signed-response",
        k.signed_response(&no_dest),
        "",
        "reject",
        "SP_DESTINATION_MISSING",
        "a signed Response without Destination (bindings 3.5.5.2)",
    );
    let mut riss = spec();
    riss.response_issuer = Some("https://evil.example.com/".into());
    c.add(
        "response-issuer-mismatch",
        k.signed_assertion(&riss),
        "",
        "reject",
        "SP_RESPONSE_ISSUER_MISMATCH",
        "Response Issuer is another IdP",
    );
    let mut aiss = spec();
    aiss.assertion_issuer = "https://evil.example.com/".into();
    c.add(
        "assertion-issuer-mismatch",
        k.signed_response(&aiss),
        "",
        "reject",
        "SP_ASSERTION_ISSUER_MISMATCH",
        "Assertion Issuer is another IdP (Response Issuer correct)",
    );
    let mut no_riss = spec();
    no_riss.response_issuer = None;
    c.add(
        "valid-response-issuer-absent",
        k.signed_assertion(&no_riss),
        "",
        "accept",
        alice,
        "the Response Issuer is optional (core 3.2.2); the Assertion's is checked",
    );

    // ------------------------------------------------------------ InResponseTo
    let mut irt = spec();
    irt.in_response_to = Some("_other".into());
    c.add(
        "in-response-to-mismatch",
        k.signed_response(&irt),
        "",
        "reject",
        "SP_IN_RESPONSE_TO_MISMATCH",
        "Response InResponseTo names another request",
    );
    let mut scd_irt = spec();
    scd_irt.confirmations[0].in_response_to = Some("_other".into());
    c.add(
        "confirmation-in-response-to-mismatch",
        k.signed_response(&scd_irt),
        "",
        "reject",
        "SP_CONFIRMATION_IN_RESPONSE_TO_MISMATCH",
        "SubjectConfirmationData InResponseTo names another request",
    );
    c.add(
        "unsolicited-not-allowed",
        k.signed_assertion(&unsolicited),
        "--no-request",
        "reject",
        "SP_UNSOLICITED_NOT_ALLOWED",
        "IdP-initiated response while unsolicited responses are not allowed",
    );
    c.add(
        "unsolicited-but-request-outstanding",
        k.signed_assertion(&unsolicited),
        "",
        "reject",
        "SP_RESPONSE_UNSOLICITED",
        "a request is outstanding but the response answers none",
    );
    c.add(
        "in-response-to-without-request",
        sa.clone(),
        "--no-request --allow-unsolicited",
        "reject",
        "SP_IN_RESPONSE_TO_UNKNOWN",
        "the response answers a request this browser does not have outstanding",
    );

    // ------------------------------------------------------------ status, content
    let mut failed = spec();
    failed.status = r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></samlp:StatusCode><samlp:StatusMessage>Account locked out</samlp:StatusMessage></samlp:Status>"#.into();
    c.add("status-authn-failed", k.sign(&failed.response(""), "_r1"), "", "reject", "SP_STATUS_NOT_SUCCESS", "signed error Response: Responder / AuthnFailed with StatusMessage 'Account locked out' (surfaced in the message)");
    let mut requester = spec();
    requester.status = r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"/></samlp:StatusCode></samlp:Status>"#.into();
    c.add(
        "status-requester-unsigned",
        requester.response(""),
        "",
        "reject",
        "SP_STATUS_NOT_SUCCESS",
        "unsigned error Response: Requester / InvalidNameIDPolicy",
    );
    let mut no_name = spec();
    no_name.name_id = None;
    c.add(
        "nameid-missing",
        k.signed_response(&no_name),
        "",
        "reject",
        "SP_NAMEID_MISSING",
        "Subject without NameID",
    );
    let mut no_authn = spec();
    no_authn.authn_statement = false;
    c.add(
        "authn-statement-missing",
        k.signed_response(&no_authn),
        "",
        "reject",
        "SP_AUTHN_STATEMENT_MISSING",
        "no AuthnStatement",
    );

    // ------------------------------------------------------------ encryption
    let enc_other =
        k.encrypt(&signed_a, &k.other_sp, KeyTransport::RsaOaepSha256, ContentAlgorithm::Aes256Gcm, true);
    c.add(
        "encrypted-wrong-key",
        base.response(&enc_other),
        "--sp-key keys/sp.key",
        "reject",
        "SP_DECRYPTION_FAILED",
        "EncryptedAssertion for another SP's key",
    );
    let enc_cbc_other = k.encrypt(
        &base.assertion(),
        &k.other_sp,
        KeyTransport::RsaOaepMgf1p,
        ContentAlgorithm::Aes128Cbc,
        false,
    );
    c.add(
        "encrypted-wrong-key-signed-response",
        k.sign(&base.response(&enc_cbc_other), "_r1"),
        "--sp-key keys/sp.key",
        "reject",
        "SP_DECRYPTION_FAILED",
        "signed Response, EncryptedAssertion for another SP's key",
    );
    let rsa15 = enc_for_sp.replace(sp::xmlenc::ALG_RSA_OAEP, sp::xmlenc::ALG_RSA_1_5);
    c.add(
        "encrypted-rsa-1_5-refused",
        base.response(&rsa15),
        "--sp-key keys/sp.key",
        "reject",
        "SP_KEY_TRANSPORT_REFUSED",
        "key transport rsa-1_5 is refused before any decryption (Bleichenbacher)",
    );
    c.add(
        "encrypted-no-sp-key",
        base.response(&enc_for_sp),
        "",
        "reject",
        "SP_DECRYPTION_KEY_MISSING",
        "an EncryptedAssertion while no --sp-key is configured",
    );
    let tdes =
        enc_for_sp.replace(sp::xmlenc::ALG_AES256_GCM, "http://www.w3.org/2001/04/xmlenc#tripledes-cbc");
    c.add(
        "encrypted-3des-unsupported",
        base.response(&tdes),
        "--sp-key keys/sp.key",
        "reject",
        "SP_ENCRYPTION_ALGORITHM_UNSUPPORTED",
        "3DES content encryption",
    );
    let enc_unsigned =
        k.encrypt(&base.assertion(), &k.sp, KeyTransport::RsaOaepSha256, ContentAlgorithm::Aes128Gcm, true);
    c.add(
        "encrypted-nothing-signed",
        base.response(&enc_unsigned),
        "--sp-key keys/sp.key",
        "reject",
        "SIG_REQUIRED",
        "authenticated encryption (GCM) but nothing signed: anyone can encrypt to the SP's public key",
    );
    let enc_cbc_unsigned =
        k.encrypt(&base.assertion(), &k.sp, KeyTransport::RsaOaepMgf1p, ContentAlgorithm::Aes128Cbc, true);
    c.add(
        "encrypted-cbc-nothing-signed",
        base.response(&enc_cbc_unsigned),
        "--sp-key keys/sp.key",
        "reject",
        "SP_DECRYPTION_FAILED",
        "CBC ciphertext in an unsigned Response: every failure reads the same (no padding/parsing oracle)",
    );
    let tampered_inner = k
        .sign(&base.assertion(), "_a1")
        .replace(">alice@example.com</saml:NameID>", ">admin@example.com</saml:NameID>");
    let enc_tampered =
        k.encrypt(&tampered_inner, &k.sp, KeyTransport::RsaOaepSha256, ContentAlgorithm::Aes256Gcm, true);
    c.add(
        "encrypted-inner-signature-broken",
        base.response(&enc_tampered),
        "--sp-key keys/sp.key",
        "reject",
        "SIG_DIGEST_MISMATCH",
        "the Assertion inside the encryption was changed after signing; verified in the decrypted document",
    );
    let enc_by_attacker = k.encrypt(
        &sign_with(&evil, "_evil", &k.attacker, &k.attacker_cert, &SignOptions::default()),
        &k.sp,
        KeyTransport::RsaOaepSha256,
        ContentAlgorithm::Aes256Gcm,
        true,
    );
    c.add(
        "encrypted-signed-by-unknown-key",
        base.response(&enc_by_attacker),
        "--sp-key keys/sp.key",
        "reject",
        "SIG_INVALID",
        "an attacker encrypted (to the SP's public key) an Assertion signed by its own key",
    );
    let enc_plain_cbc =
        k.encrypt(&base.assertion(), &k.sp, KeyTransport::RsaOaepMgf1p, ContentAlgorithm::Aes256Cbc, true);
    c.add(
        "encrypted-unsigned-assertion-but-assertion-wanted",
        k.sign(&base.response(&enc_plain_cbc), "_r1"),
        "--sp-key keys/sp.key --want signed-assertion",
        "reject",
        "SIG_REQUIRED",
        "signed Response, unsigned Assertion inside the encryption, a signed Assertion wanted",
    );

    // ------------------------------------------------------------ XML and encodings
    c.add(
        "dtd-xxe",
        format!(
            "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}",
            sa.replace("alice@example.com</saml:NameID>", "&x;</saml:NameID>")
        ),
        "",
        "reject",
        "XML_DTD_FORBIDDEN",
        "external entity (XXE)",
    );
    c.add("not-a-response", format!(r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_q" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"><saml:Issuer>{IDP}</saml:Issuer></samlp:AuthnRequest>"#), "", "reject", "SAML_UNEXPECTED_ELEMENT", "an AuthnRequest posted to the ACS");
    c.add_ext(
        "base64-garbage",
        "b64",
        "PHNhbWxwOlJlc3BvbnNl$$$$",
        "",
        "reject",
        "BASE64_INVALID",
        "characters outside the base64 alphabet",
    );
    c.add("not-well-formed", sa[..sa.len() - 10].to_string(), "", "reject", "XML_MALFORMED", "truncated XML");

    write_corpus(&dir, &c.0);
}

fn write_corpus(dir: &Path, cases: &[Case]) {
    let cases_dir = dir.join("cases");
    let _ = std::fs::remove_dir_all(&cases_dir);
    std::fs::create_dir_all(&cases_dir).unwrap();
    let mut manifest = String::from("file\texpect\tcode_or_nameid\targs\tdescription\n");
    for c in cases {
        let file = format!("cases/{}.{}", c.name, c.ext);
        std::fs::write(dir.join(&file), &c.bytes).unwrap();
        writeln!(manifest, "{file}\t{}\t{}\t{}\t{}", c.expect, c.detail, c.args, c.description).unwrap();
    }
    std::fs::write(dir.join("manifest.tsv"), manifest).unwrap();
    println!("wrote {} cases to {}", cases.len(), dir.display());
}
