//! Reading a Response the safe way: verify first, then read claims only from
//! what the signatures cover. This is the protocol-level half of an SP's ACS
//! checks (the other half — issuer, audience, recipient, time, replay — needs
//! the SP's configuration and lives with it).

use crate::crypto::Certificate;
use crate::dsig::{self, VerifyOptions};
use crate::error::{Error, Result};
use crate::model::{Assertion, Response};
use crate::xml::{self, Limits, NS_SAML, NS_SAMLP};

/// Which signatures a Response must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Want {
    /// The Response element must be signed.
    SignedResponse,
    /// The Assertion itself must be signed.
    SignedAssertion,
    /// Either one (a signed Response covers its Assertion).
    #[default]
    Either,
    /// Both.
    Both,
}

/// A Response whose signatures verified against the trusted certificates.
#[derive(Debug, Clone)]
pub struct SignedResponse {
    /// The Response. Its own attributes (Destination, InResponseTo) are covered
    /// by a signature only when `response_signed` is true.
    pub response: Response,
    pub response_signed: bool,
    /// The one assertion, read from a signed element; `None` only for a
    /// Response without an assertion (an error status).
    pub assertion: Option<Assertion>,
    pub assertion_signed: bool,
}

/// Parses `xml`, verifies every signature in it, and returns the Response with
/// its one assertion read from signed content, or the reason it is refused:
/// - any signature that does not verify (`SIG_*`);
/// - a signature over anything but the Response or its Assertion;
/// - not exactly one assertion (plain or encrypted) in the whole document,
///   counting those hidden in Extensions, Advice or wrappers (XSW);
/// - the signatures `want` asks for missing (`SIG_REQUIRED`);
/// - an unsigned Response with an assertion that no signature covers.
///
/// An unsigned error Response (no assertion) is returned so that its status can
/// be shown, unless `want` asks for a signed Response.
///
/// Encrypted assertions are refused here (`SAML_ASSERTION_COUNT` counts them but
/// they cannot be read); decryption comes with the SP toolkit.
pub fn read_signed_response(
    xml_text: &str,
    certs: &[Certificate],
    want: Want,
    allow_sha1: bool,
) -> Result<SignedResponse> {
    let doc = xml::parse(xml_text, &Limits::MESSAGE)?;
    let root = doc.root_element();
    if !xml::is_element(root, NS_SAMLP, "Response") {
        return Err(Error::UnexpectedElement {
            expected: "samlp:Response".into(),
            found: xml::describe(root),
        });
    }
    if certs.is_empty() {
        return Err(Error::NoTrustedCertificates);
    }
    let verified = dsig::verify(&doc, &VerifyOptions { certs, allow_sha1 })?;

    let plain: Vec<_> = doc.descendants().filter(|n| xml::is_element(*n, NS_SAML, "Assertion")).collect();
    let encrypted = doc.descendants().filter(|n| xml::is_element(*n, NS_SAML, "EncryptedAssertion")).count();
    let response_signed = verified.iter().any(|v| v.element.id() == root.id());

    // Every signature must be on the Response or on the Response's own assertion.
    for v in &verified {
        let is_root = v.element.id() == root.id();
        let is_own_assertion = xml::is_element(v.element, NS_SAML, "Assertion")
            && v.element.parent_element().map(|p| p.id()) == Some(root.id());
        if !is_root && !is_own_assertion {
            return Err(Error::SignatureUnexpectedElement(format!(
                "{} ID={:?}",
                xml::describe(v.element),
                v.id
            )));
        }
    }

    let response = Response::from_element(root)?;
    let success = response.status.is_success();
    let count = plain.len() + encrypted;
    if count > 1 || (success && count != 1) {
        return Err(Error::AssertionCount(count));
    }
    if encrypted > 0 {
        return Err(Error::InvalidValue {
            what: "saml:EncryptedAssertion".into(),
            value: String::new(),
            reason: "encrypted assertions need the SP's decryption key; use the SP toolkit".into(),
        });
    }

    let assertion_node = plain.first().copied();
    if let Some(a) = assertion_node {
        if a.parent_element().map(|p| p.id()) != Some(root.id()) {
            return Err(Error::UnexpectedElement {
                expected: "saml:Assertion as a child of samlp:Response".into(),
                found: format!(
                    "an Assertion inside {}",
                    a.parent_element().map(xml::describe).unwrap_or_default()
                ),
            });
        }
    }
    let assertion_signed = assertion_node.is_some_and(|a| verified.iter().any(|v| v.element.id() == a.id()));

    let need_response = matches!(want, Want::SignedResponse | Want::Both);
    let need_assertion = matches!(want, Want::SignedAssertion | Want::Both) && assertion_node.is_some();
    if need_response && !response_signed {
        return Err(Error::SignatureRequired("the Response".into()));
    }
    if need_assertion && !assertion_signed {
        return Err(Error::SignatureRequired("the Assertion".into()));
    }
    if !response_signed && assertion_node.is_some() && !assertion_signed {
        return Err(Error::SignatureRequired("the Response or its Assertion".into()));
    }

    let assertion = assertion_node.map(Assertion::from_element).transpose()?;
    Ok(SignedResponse { response, response_signed, assertion, assertion_signed })
}
