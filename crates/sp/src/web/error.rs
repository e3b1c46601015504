//! The error type of the SP site layer (providers, login, provisioning, the web
//! handlers). Validation failures keep the code of [`crate::Error`] (or the `saml`
//! crate's), storage failures the store's; the site's own failures are `SPW_*`.

/// Result alias of the site layer.
pub type SiteResult<T> = std::result::Result<T, SiteError>;

/// Why a login, a provider import or a site request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// The ACS validation (or the metadata reader) refused; its code is kept.
    #[error(transparent)]
    Sp(#[from] crate::Error),
    /// A protocol-level failure of the `saml` crate (building or encoding a message).
    #[error(transparent)]
    Saml(#[from] saml::Error),
    /// The database failed or a record is missing; the store's code is kept.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The shared web layer failed (no randomness for a token); its code is kept.
    #[error(transparent)]
    Web(#[from] web::WebError),
    #[error("the metadata could not be read from {source_name}: {reason}")]
    MetadataFetch { source_name: String, reason: String },
    #[error("no SAML provider {0:?} is configured for this application: check the provider name")]
    ProviderUnknown(String),
    #[error("the Response comes from {0:?}, which is not a SAML provider of this application")]
    IssuerUnknown(String),
    #[error("the return URL {0:?} is not allowed: use a path on this site or an allowed origin")]
    ReturnUrlRefused(String),
    #[error("the login was started in another browser (the RelayState does not belong to this browser): start the login again")]
    BrowserMismatch,
    #[error("the form carries no SAMLResponse: the IdP must post one to the ACS")]
    FormMissingResponse,
    #[error("the assertion has no value for {0:?}, which the provision settings require")]
    AttributeMissing(String),
    #[error("the SP key of the application is unusable: {0}")]
    KeyUnusable(String),
    #[error("the settings are invalid: {0}")]
    Invalid(String),
    #[error("you are not signed in to this application: sign in first")]
    NotSignedIn,
    #[error("this needs the permission {0:?}, which your policies do not grant: ask an administrator")]
    Forbidden(String),
    #[error(
        "the form is stale or was not sent by this site (CSRF token mismatch): reload the page and retry"
    )]
    Csrf,
    #[error("the logout message is not acceptable: {0}")]
    Logout(String),
    #[error(
        "the setup token is wrong, or no longer valid because a SAML provider exists: sign in through \
         SAML with a user whose policies grant settings:write"
    )]
    SetupTokenInvalid,
}

impl SiteError {
    /// The stable code (`SP_*`/`SAML_*` from validation, `STORE_*`, `WEB_*`, or `SPW_*`).
    pub fn code(&self) -> &'static str {
        match self {
            SiteError::Sp(e) => e.code(),
            SiteError::Saml(e) => e.code(),
            SiteError::Store(e) => e.code(),
            SiteError::Web(e) => e.code(),
            SiteError::MetadataFetch { .. } => "SPW_METADATA_FETCH",
            SiteError::ProviderUnknown(_) => "SPW_PROVIDER_UNKNOWN",
            SiteError::IssuerUnknown(_) => "SPW_ISSUER_UNKNOWN",
            SiteError::ReturnUrlRefused(_) => "SPW_RETURN_URL_REFUSED",
            SiteError::BrowserMismatch => "SPW_BROWSER_MISMATCH",
            SiteError::FormMissingResponse => "SPW_FORM_MISSING_RESPONSE",
            SiteError::AttributeMissing(_) => "SPW_ATTRIBUTE_MISSING",
            SiteError::KeyUnusable(_) => "SPW_KEY_UNUSABLE",
            SiteError::Invalid(_) => "SPW_INVALID",
            SiteError::NotSignedIn => "SPW_NOT_SIGNED_IN",
            SiteError::Forbidden(_) => "SPW_FORBIDDEN",
            SiteError::Csrf => "SPW_CSRF",
            SiteError::Logout(_) => "SPW_LOGOUT_INVALID",
            SiteError::SetupTokenInvalid => "SPW_SETUP_TOKEN_INVALID",
        }
    }
}
