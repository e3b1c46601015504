//! One typed error for the SP toolkit. Every variant has a stable `code()`; the
//! protocol-level failures of the `saml` crate (XML, signatures, bindings) pass
//! through with their own codes, so one response gets one code whichever layer
//! refused it. `ERRORS.md` documents every code (kept in step by a test).

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a SAML Response was refused (or the SP could not be configured).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A protocol-level failure from the `saml` crate (its code is kept).
    #[error(transparent)]
    Saml(#[from] saml::Error),

    // ---- configuration --------------------------------------------------
    #[error("the metadata describes no identity provider (no md:IDPSSODescriptor)")]
    MetadataNoIdp,
    #[error("the metadata holds {0} identity providers; name the one to use by its entity ID")]
    MetadataAmbiguous(usize),
    #[error("the IdP metadata has no signing certificate, so no response could ever be trusted")]
    MetadataNoSigningCertificate,
    #[error("the SP decryption key is unusable: {0}")]
    DecryptionKeyInvalid(String),

    // ---- the Response ---------------------------------------------------
    #[error("the Response is signed but has no Destination (SAML bindings 3.5.5.2 requires one)")]
    DestinationMissing,
    #[error("the Response Destination {found:?} is not this SP's ACS URL {expected:?}")]
    DestinationMismatch { found: String, expected: String },
    #[error("the Response answers request {found:?}, but the outstanding request is {expected:?}")]
    InResponseToMismatch { found: String, expected: String },
    #[error("the Response is unsolicited (no InResponseTo) but request {expected:?} is outstanding")]
    ResponseUnsolicited { expected: String },
    #[error("the Response answers request {found:?}, but no request is outstanding")]
    InResponseToUnknown { found: String },
    #[error("the Response is unsolicited (IdP-initiated) and unsolicited responses are not allowed")]
    UnsolicitedNotAllowed,
    #[error("the Response Issuer {found:?} is not the IdP's entity ID {expected:?}")]
    ResponseIssuerMismatch { found: String, expected: String },
    #[error("the IdP refused the login: status {code}{}{}",
        sub_code.as_deref().map(|s| format!(" / {s}")).unwrap_or_default(),
        message.as_deref().map(|m| format!(": {m:?}")).unwrap_or_default())]
    StatusNotSuccess { code: String, sub_code: Option<String>, message: Option<String> },

    // ---- the Assertion --------------------------------------------------
    #[error("the Assertion Issuer {found:?} is not the IdP's entity ID {expected:?}")]
    AssertionIssuerMismatch { found: String, expected: String },
    #[error("the Assertion has no Subject with a NameID ({0})")]
    NameIdMissing(String),
    #[error("the Assertion has no bearer SubjectConfirmation (SAML profiles 4.1.4.2)")]
    NoBearerConfirmation,
    #[error("a bearer SubjectConfirmation lacks {0} (SAML profiles 4.1.4.2 requires it)")]
    ConfirmationDataMissing(&'static str),
    #[error("the SubjectConfirmationData Recipient {found:?} is not this SP's ACS URL {expected:?}")]
    RecipientMismatch { found: String, expected: String },
    #[error("the SubjectConfirmationData is not valid yet: {0}")]
    ConfirmationNotYetValid(String),
    #[error("the SubjectConfirmationData has expired: {0}")]
    ConfirmationExpired(String),
    #[error("the SubjectConfirmationData InResponseTo {found:?} does not match the outstanding request {expected:?}")]
    ConfirmationInResponseToMismatch { found: String, expected: String },
    #[error("the Assertion is not valid yet: {0}")]
    NotYetValid(String),
    #[error("the Assertion has expired: {0}")]
    Expired(String),
    #[error("the Assertion has no AudienceRestriction; it must name this SP ({0:?})")]
    AudienceMissing(String),
    #[error("an AudienceRestriction ({found}) does not name this SP ({expected:?})")]
    AudienceMismatch { found: String, expected: String },
    #[error("the Assertion has no AuthnStatement (SAML profiles 4.1.4.2)")]
    AuthnStatementMissing,
    #[error("the Assertion {0:?} was already used (replay)")]
    Replay(String),
    #[error("the replay cache failed: {0}")]
    ReplayCache(String),

    // ---- encryption -----------------------------------------------------
    #[error("the Response carries an EncryptedAssertion and no SP decryption key is configured")]
    DecryptionKeyMissing,
    #[error("key transport {0:?} is refused (RSA PKCS#1 v1.5 is open to Bleichenbacher's attack); the IdP must use RSA-OAEP")]
    KeyTransportRefused(String),
    #[error("encryption algorithm {0:?} is not supported")]
    EncryptionAlgorithmUnsupported(String),
    #[error("the EncryptedAssertion is malformed: {0}")]
    EncryptedDataMalformed(String),
    #[error(
        "the EncryptedAssertion cannot be decrypted with the SP's key (wrong key, or tampered ciphertext)"
    )]
    DecryptionFailed,
}

impl Error {
    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        use Error::*;
        match self {
            Saml(e) => e.code(),
            MetadataNoIdp => "SP_METADATA_NO_IDP",
            MetadataAmbiguous(_) => "SP_METADATA_AMBIGUOUS",
            MetadataNoSigningCertificate => "SP_METADATA_NO_SIGNING_CERTIFICATE",
            DecryptionKeyInvalid(_) => "SP_DECRYPTION_KEY_INVALID",
            DestinationMissing => "SP_DESTINATION_MISSING",
            DestinationMismatch { .. } => "SP_DESTINATION_MISMATCH",
            InResponseToMismatch { .. } => "SP_IN_RESPONSE_TO_MISMATCH",
            ResponseUnsolicited { .. } => "SP_RESPONSE_UNSOLICITED",
            InResponseToUnknown { .. } => "SP_IN_RESPONSE_TO_UNKNOWN",
            UnsolicitedNotAllowed => "SP_UNSOLICITED_NOT_ALLOWED",
            ResponseIssuerMismatch { .. } => "SP_RESPONSE_ISSUER_MISMATCH",
            StatusNotSuccess { .. } => "SP_STATUS_NOT_SUCCESS",
            AssertionIssuerMismatch { .. } => "SP_ASSERTION_ISSUER_MISMATCH",
            NameIdMissing(_) => "SP_NAMEID_MISSING",
            NoBearerConfirmation => "SP_NO_BEARER_CONFIRMATION",
            ConfirmationDataMissing(_) => "SP_CONFIRMATION_DATA_MISSING",
            RecipientMismatch { .. } => "SP_RECIPIENT_MISMATCH",
            ConfirmationNotYetValid(_) => "SP_CONFIRMATION_NOT_YET_VALID",
            ConfirmationExpired(_) => "SP_CONFIRMATION_EXPIRED",
            ConfirmationInResponseToMismatch { .. } => "SP_CONFIRMATION_IN_RESPONSE_TO_MISMATCH",
            NotYetValid(_) => "SP_NOT_YET_VALID",
            Expired(_) => "SP_EXPIRED",
            AudienceMissing(_) => "SP_AUDIENCE_MISSING",
            AudienceMismatch { .. } => "SP_AUDIENCE_MISMATCH",
            AuthnStatementMissing => "SP_AUTHN_STATEMENT_MISSING",
            Replay(_) => "SP_REPLAY",
            ReplayCache(_) => "SP_REPLAY_CACHE_FAILURE",
            DecryptionKeyMissing => "SP_DECRYPTION_KEY_MISSING",
            KeyTransportRefused(_) => "SP_KEY_TRANSPORT_REFUSED",
            EncryptionAlgorithmUnsupported(_) => "SP_ENCRYPTION_ALGORITHM_UNSUPPORTED",
            EncryptedDataMalformed(_) => "SP_ENCRYPTED_DATA_MALFORMED",
            DecryptionFailed => "SP_DECRYPTION_FAILED",
        }
    }
}
