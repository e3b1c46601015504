//! Verify first, then read: the Response and its one Assertion, read only from
//! signed elements. Plain assertions go through `saml::signed::read_signed_response`;
//! an EncryptedAssertion is decrypted and its Assertion is then parsed and its
//! signature verified in a document of its own — the decrypted one — with the
//! same bounded parser and the same rules.

use crate::error::{Error, Result};
use crate::xmlenc::{self, DecryptionKey};
use roxmltree::Node;
use saml::crypto::Certificate;
use saml::dsig::{self, VerifyOptions};
use saml::model::{Assertion, Response};
use saml::signed::{read_signed_response, Want};
use saml::xml::{self, Limits, NS_SAML, NS_SAMLP};
use std::fmt::Write as _;

/// A Response whose signatures verified, with the assertion read from what they cover.
#[derive(Debug, Clone)]
pub struct ReadResponse {
    pub response: Response,
    pub response_signed: bool,
    pub assertion: Option<Assertion>,
    pub assertion_signed: bool,
    /// The assertion arrived as an EncryptedAssertion.
    pub encrypted: bool,
}

/// Parses and verifies `xml_text` under the `want` policy; decrypts an
/// EncryptedAssertion with `key`.
pub fn read_response(
    xml_text: &str,
    certs: &[Certificate],
    want: Want,
    allow_sha1: bool,
    key: Option<&DecryptionKey>,
) -> Result<ReadResponse> {
    // An element's name is always spelled out in the text (DTDs, hence entities in
    // markup, are refused), so without this substring there is no EncryptedAssertion
    // and the plain path need not parse twice.
    let maybe_encrypted = xml_text.contains("EncryptedAssertion");
    let doc = if maybe_encrypted { Some(xml::parse(xml_text, &Limits::MESSAGE)?) } else { None };
    let encrypted = doc
        .as_ref()
        .is_some_and(|d| d.descendants().any(|n| xml::is_element(n, NS_SAML, "EncryptedAssertion")));
    let Some(doc) = doc.filter(|_| encrypted) else {
        let r = read_signed_response(xml_text, certs, want, allow_sha1)?;
        return Ok(ReadResponse {
            response: r.response,
            response_signed: r.response_signed,
            assertion: r.assertion,
            assertion_signed: r.assertion_signed,
            encrypted: false,
        });
    };

    let root = doc.root_element();
    if !xml::is_element(root, NS_SAMLP, "Response") {
        return Err(saml::Error::UnexpectedElement {
            expected: "samlp:Response".into(),
            found: xml::describe(root),
        }
        .into());
    }
    if certs.is_empty() {
        return Err(saml::Error::NoTrustedCertificates.into());
    }
    let opts = VerifyOptions { certs, allow_sha1 };
    let verified = dsig::verify(&doc, &opts)?;
    let plain = doc.descendants().filter(|n| xml::is_element(*n, NS_SAML, "Assertion")).count();
    let enc: Vec<Node> =
        doc.descendants().filter(|n| xml::is_element(*n, NS_SAML, "EncryptedAssertion")).collect();
    if plain + enc.len() != 1 {
        return Err(saml::Error::AssertionCount(plain + enc.len()).into());
    }
    // Outside the ciphertext only the Response itself may be signed.
    if let Some(v) = verified.iter().find(|v| v.element.id() != root.id()) {
        return Err(saml::Error::SignatureUnexpectedElement(format!(
            "{} ID={:?}",
            xml::describe(v.element),
            v.id
        ))
        .into());
    }
    let response_signed = !verified.is_empty();
    let response = Response::from_element(root)?;
    let enc = enc[0];
    if enc.parent_element().map(|p| p.id()) != Some(root.id()) {
        return Err(saml::Error::UnexpectedElement {
            expected: "saml:EncryptedAssertion as a child of samlp:Response".into(),
            found: format!(
                "an EncryptedAssertion inside {}",
                enc.parent_element().map(xml::describe).unwrap_or_default()
            ),
        }
        .into());
    }
    if matches!(want, Want::SignedResponse | Want::Both) && !response_signed {
        return Err(saml::Error::SignatureRequired("the Response".into()).into());
    }
    let key = key.ok_or(Error::DecryptionKeyMissing)?;
    let decrypted = xmlenc::decrypt_assertion(enc, key)?;

    // Unauthenticated ciphertext (CBC, Response unsigned) could have been altered
    // by anyone: then every failure from here on looks the same, so that the
    // answers are no padding or parsing oracle (Jager & Somorovsky, 2011).
    let oracle_safe = !response_signed && !decrypted.content.is_authenticated();
    let inner = read_decrypted(enc, &decrypted.plaintext, certs, want, allow_sha1, response_signed);
    match inner {
        Ok((assertion, assertion_signed)) => Ok(ReadResponse {
            response,
            response_signed,
            assertion: Some(assertion),
            assertion_signed,
            encrypted: true,
        }),
        Err(_) if oracle_safe => Err(Error::DecryptionFailed),
        Err(e) => Err(e),
    }
}

/// Parses the decrypted Assertion inside the namespace context of the
/// EncryptedAssertion it replaces, verifies its signature there, and reads it.
fn read_decrypted(
    enc: Node<'_, '_>,
    plaintext: &str,
    certs: &[Certificate],
    want: Want,
    allow_sha1: bool,
    response_signed: bool,
) -> Result<(Assertion, bool)> {
    let body = strip_xml_declaration(plaintext);
    let mut wrapped = String::with_capacity(body.len() + 256);
    wrapped.push_str("<decrypted");
    for ns in enc.namespaces() {
        match ns.name() {
            Some("xml") => {}
            Some(p) => {
                let _ = write!(wrapped, " xmlns:{p}=\"{}\"", xml::escape_attr(ns.uri()));
            }
            None => {
                let _ = write!(wrapped, " xmlns=\"{}\"", xml::escape_attr(ns.uri()));
            }
        }
    }
    wrapped.push('>');
    wrapped.push_str(body);
    wrapped.push_str("</decrypted>");
    let wrapped = zeroize::Zeroizing::new(wrapped);

    let doc = xml::parse(&wrapped, &Limits::MESSAGE)?;
    let holder = doc.root_element();
    let mut elements = xml::element_children(holder);
    let assertion =
        elements.next().filter(|a| xml::is_element(*a, NS_SAML, "Assertion")).ok_or_else(|| {
            Error::EncryptedDataMalformed("the decrypted content is not a saml:Assertion".into())
        })?;
    let stray_text = holder.children().any(|c| c.is_text() && !c.text().unwrap_or("").trim().is_empty());
    if elements.next().is_some() || stray_text {
        return Err(Error::EncryptedDataMalformed(
            "the decrypted content holds more than one saml:Assertion".into(),
        ));
    }
    let nested = doc
        .descendants()
        .filter(|n| {
            xml::is_element(*n, NS_SAML, "Assertion") || xml::is_element(*n, NS_SAML, "EncryptedAssertion")
        })
        .count();
    if nested != 1 {
        return Err(saml::Error::AssertionCount(nested).into());
    }
    let verified = dsig::verify(&doc, &VerifyOptions { certs, allow_sha1 })?;
    if let Some(v) = verified.iter().find(|v| v.element.id() != assertion.id()) {
        return Err(saml::Error::SignatureUnexpectedElement(format!(
            "{} ID={:?}",
            xml::describe(v.element),
            v.id
        ))
        .into());
    }
    let assertion_signed = !verified.is_empty();
    if matches!(want, Want::SignedAssertion | Want::Both) && !assertion_signed {
        return Err(saml::Error::SignatureRequired("the Assertion".into()).into());
    }
    if !response_signed && !assertion_signed {
        return Err(saml::Error::SignatureRequired("the Response or its Assertion".into()).into());
    }
    Ok((Assertion::from_element(assertion)?, assertion_signed))
}

fn strip_xml_declaration(s: &str) -> &str {
    let t = s.trim_start_matches('\u{feff}');
    if t.starts_with("<?xml") {
        if let Some(end) = t.find("?>") {
            return &t[end + 2..];
        }
    }
    t
}
