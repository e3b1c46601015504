//! Producing enveloped signatures.

use crate::c14n::{canonicalize, escape_attr_into, C14nOptions};
use crate::crypto::{Certificate, DigestAlgorithm, SignatureAlgorithm, SigningKey};
use crate::error::{Error, Result};
use crate::xml::{self, is_element, Limits, ALG_ENVELOPED_SIGNATURE, ALG_EXC_C14N, NS_DS, NS_SAML};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

/// How to sign.
#[derive(Debug, Clone, Copy)]
pub struct SignOptions {
    pub algorithm: SignatureAlgorithm,
    pub digest: DigestAlgorithm,
    /// Put the signing certificate in KeyInfo/X509Data (peers expect it there,
    /// although a careful verifier never trusts it on its own).
    pub include_certificate: bool,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            algorithm: SignatureAlgorithm::RsaSha256,
            digest: DigestAlgorithm::Sha256,
            include_certificate: true,
        }
    }
}

/// Signs the element whose `ID` attribute is `id` inside `xml` and returns the
/// document with the ds:Signature inserted where the SAML schemas want it: right
/// after the element's saml:Issuer child when it has one, else as its first child.
///
/// To sign both an Assertion and the Response around it, sign the Assertion
/// first, then the Response (whose digest then covers the Assertion's signature).
pub fn sign_element(
    xml: &str,
    id: &str,
    key: &SigningKey,
    cert: Option<&Certificate>,
    opts: &SignOptions,
) -> Result<String> {
    let doc = xml::parse(xml, &Limits::METADATA)?;
    let target =
        doc.descendants().find(|n| n.is_element() && xml::id_of(*n) == Some(id)).ok_or_else(|| {
            Error::InvalidValue {
                what: "element to sign".into(),
                value: id.into(),
                reason: "no element has this ID".into(),
            }
        })?;
    if xml::child(target, NS_DS, "Signature").is_some() {
        return Err(Error::SignaturePlacement(format!("{} is already signed", xml::describe(target))));
    }

    let digest = opts.digest.digest(&canonicalize(target, &C14nOptions::default()));
    let signed_info = signed_info_c14n(id, opts, &B64.encode(digest));
    let signature_value = B64.encode(key.sign(opts.algorithm, signed_info.as_bytes())?);

    // In the document the ds prefix is declared on ds:Signature, so SignedInfo is
    // written without it; exclusive C14N of SignedInfo puts it back, giving
    // exactly the bytes signed above.
    let signed_info_in_doc = signed_info.replacen(&format!(" xmlns:ds=\"{NS_DS}\""), "", 1);
    let mut sig = String::with_capacity(signed_info.len() + 2048);
    sig.push_str("<ds:Signature xmlns:ds=\"");
    sig.push_str(NS_DS);
    sig.push_str("\">");
    sig.push_str(&signed_info_in_doc);
    sig.push_str("<ds:SignatureValue>");
    sig.push_str(&signature_value);
    sig.push_str("</ds:SignatureValue>");
    if let (true, Some(cert)) = (opts.include_certificate, cert) {
        sig.push_str("<ds:KeyInfo><ds:X509Data><ds:X509Certificate>");
        sig.push_str(&cert.to_base64());
        sig.push_str("</ds:X509Certificate></ds:X509Data></ds:KeyInfo>");
    }
    sig.push_str("</ds:Signature>");

    let mut out = String::with_capacity(xml.len() + sig.len());
    match target.first_child() {
        Some(first) => {
            let at = match target.first_element_child() {
                Some(issuer) if is_element(issuer, NS_SAML, "Issuer") => issuer.range().end,
                _ => first.range().start,
            };
            out.push_str(&xml[..at]);
            out.push_str(&sig);
            out.push_str(&xml[at..]);
        }
        None => {
            // An empty element: `<x .../>` or `<x ...></x>`.
            let range = target.range();
            let text = &xml[range.clone()];
            if let Some(head) = text.strip_suffix("/>") {
                out.push_str(&xml[..range.start]);
                out.push_str(head);
                out.push('>');
                out.push_str(&sig);
                out.push_str("</");
                out.push_str(
                    text[1..].split(|c: char| c.is_ascii_whitespace() || c == '/').next().unwrap_or(""),
                );
                out.push('>');
                out.push_str(&xml[range.end..]);
            } else {
                let close = text.rfind("</").unwrap_or(text.len());
                out.push_str(&xml[..range.start + close]);
                out.push_str(&sig);
                out.push_str(&xml[range.start + close..]);
            }
        }
    }
    Ok(out)
}

/// The canonical form of the SignedInfo we write (exclusive C14N of it in place).
fn signed_info_c14n(id: &str, opts: &SignOptions, digest_b64: &str) -> String {
    let mut uri = Vec::new();
    escape_attr_into(&mut uri, &format!("#{id}"));
    let uri = String::from_utf8(uri).unwrap_or_default();
    format!(
        "<ds:SignedInfo xmlns:ds=\"{NS_DS}\">\
<ds:CanonicalizationMethod Algorithm=\"{ALG_EXC_C14N}\"></ds:CanonicalizationMethod>\
<ds:SignatureMethod Algorithm=\"{}\"></ds:SignatureMethod>\
<ds:Reference URI=\"{uri}\"><ds:Transforms>\
<ds:Transform Algorithm=\"{ALG_ENVELOPED_SIGNATURE}\"></ds:Transform>\
<ds:Transform Algorithm=\"{ALG_EXC_C14N}\"></ds:Transform></ds:Transforms>\
<ds:DigestMethod Algorithm=\"{}\"></ds:DigestMethod>\
<ds:DigestValue>{digest_b64}</ds:DigestValue></ds:Reference></ds:SignedInfo>",
        opts.algorithm.uri(),
        opts.digest.uri(),
    )
}
