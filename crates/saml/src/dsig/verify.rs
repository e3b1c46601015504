//! Checking enveloped signatures, strictly.

use crate::c14n::{canonicalize, C14nOptions};
use crate::crypto::{Certificate, DigestAlgorithm, SignatureAlgorithm};
use crate::error::{Error, Result};
use crate::xml::{
    self, is_element, ALG_ENVELOPED_SIGNATURE, ALG_EXC_C14N, ALG_EXC_C14N_WITH_COMMENTS, NS_DS,
};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use roxmltree::{Document, Node};

/// What a signature must satisfy.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'c> {
    /// The only keys a signature may verify with.
    pub certs: &'c [Certificate],
    /// Accept RSA-SHA1 signatures and SHA-1 digests (off unless a caller opts in).
    pub allow_sha1: bool,
}

/// An element covered by a signature that verified.
#[derive(Debug, Clone)]
pub struct Verified<'a, 'i> {
    /// The signed element: read claims from here and only here.
    pub element: Node<'a, 'i>,
    /// Its `ID`.
    pub id: String,
    pub algorithm: SignatureAlgorithm,
    pub digest: DigestAlgorithm,
    /// Index into [`VerifyOptions::certs`] of the certificate that verified.
    pub cert_index: usize,
}

/// Verifies every ds:Signature in `doc` and returns the elements they cover, in
/// document order. Any signature that does not verify fails the whole document:
/// a message with one broken signature is not trusted in part. A document with
/// no signature gives an empty list; the caller decides whether that is allowed.
pub fn verify<'a, 'i>(doc: &'a Document<'i>, opts: &VerifyOptions<'_>) -> Result<Vec<Verified<'a, 'i>>> {
    let signatures: Vec<_> = doc.descendants().filter(|n| is_element(*n, NS_DS, "Signature")).collect();
    if signatures.is_empty() {
        return Ok(Vec::new());
    }
    if opts.certs.is_empty() {
        return Err(Error::NoTrustedCertificates);
    }
    signatures.into_iter().map(|s| verify_one(s, opts)).collect()
}

fn malformed(msg: impl Into<String>) -> Error {
    Error::SignatureMalformed(msg.into())
}

fn algorithm_attr<'a>(node: Node<'a, '_>) -> Result<&'a str> {
    node.attribute("Algorithm").ok_or_else(|| malformed(format!("{} has no Algorithm", xml::describe(node))))
}

/// The InclusiveNamespaces PrefixList under a c14n method or transform element.
fn inclusive_prefixes(method: Node<'_, '_>) -> Result<Vec<String>> {
    let mut prefixes = Vec::new();
    for child in xml::element_children(method) {
        if child.tag_name().name() != "InclusiveNamespaces"
            || child.tag_name().namespace() != Some(ALG_EXC_C14N)
            || !prefixes.is_empty()
        {
            return Err(malformed(format!(
                "unexpected {} in {}",
                xml::describe(child),
                xml::describe(method)
            )));
        }
        let list = child.attribute("PrefixList").unwrap_or("");
        prefixes.extend(list.split_ascii_whitespace().map(str::to_string));
    }
    Ok(prefixes)
}

fn decode_b64(what: &str, node: Node<'_, '_>) -> Result<Vec<u8>> {
    let text = xml::text_content(node)?;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    B64.decode(compact.as_bytes()).map_err(|e| malformed(format!("{what} is not base64 ({e})")))
}

/// Verifies one ds:Signature element (for tools that report on each signature
/// separately; protocol code uses [`verify`]).
pub fn verify_signature<'a, 'i>(sig: Node<'a, 'i>, opts: &VerifyOptions<'_>) -> Result<Verified<'a, 'i>> {
    if opts.certs.is_empty() {
        return Err(Error::NoTrustedCertificates);
    }
    verify_one(sig, opts)
}

fn verify_one<'a, 'i>(sig: Node<'a, 'i>, opts: &VerifyOptions<'_>) -> Result<Verified<'a, 'i>> {
    // Placement: a direct child of the element it signs, which carries an ID.
    let parent = sig
        .parent_element()
        .ok_or_else(|| Error::SignaturePlacement("ds:Signature is the document element".into()))?;
    let id = xml::id_of(parent).ok_or_else(|| {
        Error::SignaturePlacement(format!("its parent {} has no ID attribute", xml::describe(parent)))
    })?;

    // Signature = SignedInfo, SignatureValue, KeyInfo?; no Object (no Manifests).
    let mut kids = xml::element_children(sig);
    let signed_info = kids.next().filter(|n| is_element(*n, NS_DS, "SignedInfo"));
    let signature_value = kids.next().filter(|n| is_element(*n, NS_DS, "SignatureValue"));
    let (Some(signed_info), Some(signature_value)) = (signed_info, signature_value) else {
        return Err(malformed("ds:Signature must start with ds:SignedInfo then ds:SignatureValue"));
    };
    for extra in kids {
        if !is_element(extra, NS_DS, "KeyInfo") {
            return Err(malformed(format!("unexpected {} in ds:Signature", xml::describe(extra))));
        }
    }

    // SignedInfo = CanonicalizationMethod, SignatureMethod, Reference (exactly one).
    let mut si = xml::element_children(signed_info);
    let c14n_method = si.next().filter(|n| is_element(*n, NS_DS, "CanonicalizationMethod"));
    let sig_method = si.next().filter(|n| is_element(*n, NS_DS, "SignatureMethod"));
    let (Some(c14n_method), Some(sig_method)) = (c14n_method, sig_method) else {
        return Err(malformed("ds:SignedInfo must start with CanonicalizationMethod then SignatureMethod"));
    };
    let rest: Vec<_> = si.collect();
    if let Some(other) = rest.iter().find(|n| !is_element(**n, NS_DS, "Reference")) {
        return Err(malformed(format!("unexpected {} in ds:SignedInfo", xml::describe(*other))));
    }
    if rest.len() != 1 {
        return Err(Error::SignatureReferenceCount(rest.len()));
    }
    let reference = rest[0];

    let si_with_comments = match algorithm_attr(c14n_method)? {
        ALG_EXC_C14N => false,
        ALG_EXC_C14N_WITH_COMMENTS => true,
        other => return Err(Error::SignatureCanonicalization(other.to_string())),
    };
    let si_opts = C14nOptions {
        with_comments: si_with_comments,
        inclusive_prefixes: inclusive_prefixes(c14n_method)?,
        exclude: None,
    };
    let algorithm = SignatureAlgorithm::from_uri(algorithm_attr(sig_method)?)?;
    if algorithm.is_sha1() && !opts.allow_sha1 {
        return Err(Error::Sha1NotAllowed("SignatureMethod".into()));
    }
    if xml::element_children(sig_method).next().is_some() {
        return Err(malformed("SignatureMethod must be empty (no HMACOutputLength)"));
    }

    // Reference: URI="#<parent ID>", Transforms, DigestMethod, DigestValue.
    let uri = reference.attribute("URI").unwrap_or("");
    if uri.strip_prefix('#') != Some(id) {
        return Err(Error::SignatureReferenceUri { uri: uri.to_string(), id: id.to_string() });
    }
    let mut rk = xml::element_children(reference);
    let mut next = rk.next();
    let mut transforms = Vec::new();
    if let Some(t) = next.filter(|n| is_element(*n, NS_DS, "Transforms")) {
        for tr in xml::element_children(t) {
            if !is_element(tr, NS_DS, "Transform") {
                return Err(malformed(format!("unexpected {} in ds:Transforms", xml::describe(tr))));
            }
            transforms.push(tr);
        }
        next = rk.next();
    }
    let digest_method = next.filter(|n| is_element(*n, NS_DS, "DigestMethod"));
    let digest_value = rk.next().filter(|n| is_element(*n, NS_DS, "DigestValue"));
    let (Some(digest_method), Some(digest_value)) = (digest_method, digest_value) else {
        return Err(malformed("ds:Reference must hold Transforms?, DigestMethod, DigestValue"));
    };
    if let Some(extra) = rk.next() {
        return Err(malformed(format!("unexpected {} in ds:Reference", xml::describe(extra))));
    }

    // Exactly: enveloped-signature, then exclusive C14N. Anything else (XPath,
    // XSLT, a second c14n, inclusive c14n) is refused.
    let ref_prefixes = match transforms.as_slice() {
        [env, exc] => {
            let env_alg = algorithm_attr(*env)?;
            if env_alg != ALG_ENVELOPED_SIGNATURE {
                return Err(Error::SignatureTransform(env_alg.to_string()));
            }
            let exc_alg = algorithm_attr(*exc)?;
            if exc_alg != ALG_EXC_C14N && exc_alg != ALG_EXC_C14N_WITH_COMMENTS {
                return Err(Error::SignatureTransform(exc_alg.to_string()));
            }
            if xml::element_children(*env).next().is_some() {
                return Err(malformed("the enveloped-signature transform takes no parameters"));
            }
            inclusive_prefixes(*exc)?
        }
        [one] => return Err(Error::SignatureTransform(format!("{} alone", algorithm_attr(*one)?))),
        [] => return Err(Error::SignatureTransform("(none)".into())),
        more => return Err(Error::SignatureTransform(format!("{} transforms", more.len()))),
    };
    let digest_alg = DigestAlgorithm::from_uri(algorithm_attr(digest_method)?)?;
    if digest_alg.is_sha1() && !opts.allow_sha1 {
        return Err(Error::Sha1NotAllowed("DigestMethod".into()));
    }

    // The digest over the parent element without this Signature. A bare
    // `#id` reference drops comments whatever the c14n variant (XML-DSig 4.3.3.3).
    let expected = decode_b64("DigestValue", digest_value)?;
    let node_set =
        C14nOptions { with_comments: false, inclusive_prefixes: ref_prefixes, exclude: Some(sig.id()) };
    let actual = digest_alg.digest(&canonicalize(parent, &node_set));
    if aws_lc_rs::constant_time::verify_slices_are_equal(&actual, &expected).is_err() {
        return Err(Error::DigestMismatch(id.to_string()));
    }

    let signed_octets = canonicalize(signed_info, &si_opts);
    let value = decode_b64("SignatureValue", signature_value)?;
    let cert_index = opts
        .certs
        .iter()
        .position(|c| c.verify(algorithm, &signed_octets, &value))
        .ok_or_else(|| Error::SignatureInvalid(id.to_string()))?;
    Ok(Verified { element: parent, id: id.to_string(), algorithm, digest: digest_alg, cert_index })
}
