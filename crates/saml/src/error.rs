//! One typed error for the whole crate. Every variant has a stable `code()` that
//! tests, logs and the corpus refer to; the `Display` text says what was wrong.

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while reading, writing, signing or verifying SAML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- raw input -------------------------------------------------------
    #[error("input is {size} bytes, over the limit of {limit} bytes")]
    InputTooLarge { size: usize, limit: usize },
    #[error("input is not valid UTF-8")]
    NotUtf8,
    #[error("XML with a DOCTYPE or entity declaration is refused (XXE / entity expansion defence)")]
    DtdForbidden,
    #[error("XML is not well-formed: {0}")]
    XmlMalformed(String),
    #[error("XML nesting is deeper than the limit of {limit} levels")]
    XmlTooDeep { limit: usize },
    #[error("XML has more than the limit of {limit} nodes")]
    XmlTooManyNodes { limit: u32 },
    #[error("two elements carry the same ID {0:?}; IDs must be unique (signature wrapping defence)")]
    DuplicateId(String),
    #[error("base64 is invalid: {0}")]
    Base64(String),
    #[error("DEFLATE data is invalid: {0}")]
    Deflate(String),
    #[error("URL or query string is invalid: {0}")]
    Url(String),

    // ---- message structure -----------------------------------------------
    #[error("expected element {expected}, found {found}")]
    UnexpectedElement { expected: String, found: String },
    #[error("element {parent} is missing its required child {child}")]
    MissingElement { parent: String, child: String },
    #[error("element {element} is missing its required attribute {attribute}")]
    MissingAttribute { element: String, attribute: String },
    #[error("{what} has an invalid value {value:?}: {reason}")]
    InvalidValue { what: String, value: String, reason: String },
    #[error("{what} {value:?} is not a SAML time (xs:dateTime in UTC, ending in 'Z')")]
    InvalidTime { what: String, value: String },
    #[error("SAML version {0:?} is not supported; only 2.0 is")]
    UnsupportedVersion(String),
    #[error("a Response must carry exactly one assertion (plain or encrypted) anywhere in the document; found {0}")]
    AssertionCount(usize),

    // ---- signatures --------------------------------------------------------
    #[error("no trusted certificate is configured, so no signature can be accepted")]
    NoTrustedCertificates,
    #[error("the message is not signed")]
    SignatureMissing,
    #[error("ds:Signature is malformed: {0}")]
    SignatureMalformed(String),
    #[error("ds:Signature must be a direct child of the element it signs: {0}")]
    SignaturePlacement(String),
    #[error("ds:SignedInfo must hold exactly one ds:Reference, found {0}")]
    SignatureReferenceCount(usize),
    #[error("ds:Reference URI {uri:?} does not point at the signed element's own ID {id:?}")]
    SignatureReferenceUri { uri: String, id: String },
    #[error("transform {0:?} is not allowed; only enveloped-signature and exclusive C14N are")]
    SignatureTransform(String),
    #[error("canonicalization method {0:?} is not allowed; only exclusive C14N 1.0 is")]
    SignatureCanonicalization(String),
    #[error("algorithm {0:?} is not supported")]
    SignatureAlgorithm(String),
    #[error("{0} uses SHA-1, which is refused unless SHA-1 is explicitly allowed")]
    Sha1NotAllowed(String),
    #[error(
        "the digest of the element {0:?} does not match its ds:DigestValue (the signed content was changed)"
    )]
    DigestMismatch(String),
    #[error("the signature over element {0:?} does not verify with any trusted certificate")]
    SignatureInvalid(String),
    #[error("a signature covers {0}, which is neither the Response nor its Assertion")]
    SignatureUnexpectedElement(String),
    #[error("{0} must be signed, and no valid signature covers it")]
    SignatureRequired(String),

    // ---- keys and certificates ---------------------------------------------
    #[error("certificate is invalid: {0}")]
    Certificate(String),
    #[error("private key is invalid: {0}")]
    Key(String),
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),

    // ---- bindings ----------------------------------------------------------
    #[error("binding parameter {0} is missing")]
    MissingParameter(String),
    #[error("the query-string signature does not verify with any trusted certificate")]
    QuerySignatureInvalid,
    #[error("binding parameter {0} appears more than once; a message must carry each parameter once")]
    DuplicateParameter(String),
    #[error("the message carries both SAMLRequest and SAMLResponse; it must carry exactly one")]
    RequestAndResponse,
    #[error("RelayState is {len} bytes, over the binding limit of {limit}; send a short opaque key instead")]
    RelayStateTooLong { len: usize, limit: usize },
    #[error("SAMLEncoding {0:?} is not supported; only the DEFLATE URL encoding is")]
    UnsupportedEncoding(String),

    // ---- time ----------------------------------------------------------------
    #[error("{what} is not valid before {not_before} (now {now}, skew {skew_seconds}s)")]
    NotYetValid { what: String, not_before: String, now: String, skew_seconds: i64 },
    #[error("{what} expired at {not_on_or_after} (now {now}, skew {skew_seconds}s)")]
    Expired { what: String, not_on_or_after: String, now: String, skew_seconds: i64 },
}

impl Error {
    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        use Error::*;
        match self {
            InputTooLarge { .. } => "INPUT_TOO_LARGE",
            NotUtf8 => "INPUT_NOT_UTF8",
            DtdForbidden => "XML_DTD_FORBIDDEN",
            XmlMalformed(_) => "XML_MALFORMED",
            XmlTooDeep { .. } => "XML_TOO_DEEP",
            XmlTooManyNodes { .. } => "XML_TOO_MANY_NODES",
            DuplicateId(_) => "XML_DUPLICATE_ID",
            Base64(_) => "BASE64_INVALID",
            Deflate(_) => "DEFLATE_INVALID",
            Url(_) => "URL_INVALID",
            UnexpectedElement { .. } => "SAML_UNEXPECTED_ELEMENT",
            MissingElement { .. } => "SAML_MISSING_ELEMENT",
            MissingAttribute { .. } => "SAML_MISSING_ATTRIBUTE",
            InvalidValue { .. } => "SAML_INVALID_VALUE",
            InvalidTime { .. } => "SAML_INVALID_TIME",
            UnsupportedVersion(_) => "SAML_UNSUPPORTED_VERSION",
            AssertionCount(_) => "SAML_ASSERTION_COUNT",
            NoTrustedCertificates => "SIG_NO_TRUSTED_CERTIFICATES",
            SignatureMissing => "SIG_MISSING",
            SignatureMalformed(_) => "SIG_MALFORMED",
            SignaturePlacement(_) => "SIG_PLACEMENT",
            SignatureReferenceCount(_) => "SIG_REFERENCE_COUNT",
            SignatureReferenceUri { .. } => "SIG_REFERENCE_URI",
            SignatureTransform(_) => "SIG_TRANSFORM",
            SignatureCanonicalization(_) => "SIG_CANONICALIZATION",
            SignatureAlgorithm(_) => "SIG_ALGORITHM",
            Sha1NotAllowed(_) => "SIG_SHA1_NOT_ALLOWED",
            DigestMismatch(_) => "SIG_DIGEST_MISMATCH",
            SignatureInvalid(_) => "SIG_INVALID",
            SignatureUnexpectedElement(_) => "SIG_UNEXPECTED_ELEMENT",
            SignatureRequired(_) => "SIG_REQUIRED",
            Certificate(_) => "CERT_INVALID",
            Key(_) => "KEY_INVALID",
            Crypto(_) => "CRYPTO_FAILURE",
            MissingParameter(_) => "BINDING_MISSING_PARAMETER",
            QuerySignatureInvalid => "BINDING_QUERY_SIGNATURE_INVALID",
            DuplicateParameter(_) => "BINDING_DUPLICATE_PARAMETER",
            RequestAndResponse => "BINDING_REQUEST_AND_RESPONSE",
            RelayStateTooLong { .. } => "BINDING_RELAY_STATE_TOO_LONG",
            UnsupportedEncoding(_) => "BINDING_UNSUPPORTED_ENCODING",
            NotYetValid { .. } => "TIME_NOT_YET_VALID",
            Expired { .. } => "TIME_EXPIRED",
        }
    }
}
