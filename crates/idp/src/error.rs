//! The IdP's errors. Every one has a stable code, shown on the error page and in
//! the sign-in log, and a sentence that says what the administrator must fix.
//! Codes reuse the numbers of the large hosted directory's AADSTS codes where the
//! meaning is the same, so that people who know those recognise them.
//! The table in `crates/idp/ERRORS.md` lists them all (a test keeps it in step).

use thiserror::Error;

/// A failure of sign-in or SSO, or of an administrative change.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum IdpError {
    #[error("the request is not a valid SAML AuthnRequest: {0}")]
    MalformedRequest(String),
    #[error("the request asks for the Response over {0:?}; only HTTP-POST is offered for responses")]
    UnsupportedBinding(String),
    #[error("the request is addressed to {destination:?}, not to this endpoint {here:?}; import this tenant's metadata into the app")]
    WrongDestination { destination: String, here: String },
    #[error("the request was issued at {issued}, outside the accepted window (now {now}, {minutes} minutes back, 3 minutes of skew); check the app server's clock, or the request was replayed")]
    StaleRequest { issued: String, now: String, minutes: i64 },
    #[error("no application in this tenant has the identifier {0:?}; add it to the app's Basic SAML Configuration")]
    UnknownApp(String),
    #[error("the reply URL {url:?} in the request is not registered for app {app:?}; add it to the app's Reply URLs")]
    ReplyUrlMismatch { app: String, url: String },
    #[error("the AssertionConsumerServiceIndex {index} is not one of app {app:?}'s reply URL indexes")]
    ReplyUrlIndexUnknown { app: String, index: u16 },
    #[error("app {0:?} has no reply URL; add one to its Basic SAML Configuration")]
    NoReplyUrl(String),
    #[error("app {0:?} is disabled for sign-in; enable it in the app's Properties")]
    AppDisabled(String),
    #[error("user {user:?} is not assigned to app {app:?}; assign the user or one of their groups to the app (`portcullis idp app assign --app APP --user UPN`, or POST /api/v1/apps/{{id}}/assignments)")]
    NotAssigned { user: String, app: String },
    #[error("user {0:?} is disabled; enable the account in the directory")]
    UserDisabled(String),
    #[error("the user name or password is incorrect")]
    BadCredentials,
    #[error("the account is temporarily locked after repeated failed sign-ins; try again in {0} seconds")]
    LockedOut(u64),
    #[error("the verification code is incorrect")]
    BadOtp,
    #[error("the request's signature is invalid ({0}); upload the app's current signing certificate")]
    BadRequestSignature(String),
    #[error("app {0:?} requires signed requests and this one is not signed")]
    UnsignedRequest(String),
    #[error("the NameIDPolicy format {0:?} is not supported; use persistent, emailAddress, unspecified or transient")]
    UnsupportedNameIdFormat(String),
    #[error("passive sign-in was requested but the user has no session")]
    InteractionRequired,
    #[error("app {0:?} supports only SP-initiated sign-on and its Sign-on URL is unset, so there is nowhere to send the browser; set the Sign-on URL (`portcullis idp app set-saml --app APP --sign-on-url URL`, or sign_on_url in PUT /api/v1/apps/{{id}}/saml), or start from the app itself")]
    IdpInitiatedNotSupported(String),
    #[error(
        "app {0:?} has no Logout URL to answer a logout request at; add it to the Basic SAML Configuration"
    )]
    NoLogoutUrl(String),
    #[error("app {0:?} has no active signing certificate; create and activate one under SAML Certificates")]
    NoSigningCertificate(String),
    #[error("the form expired or was not sent by this site; go back and try again")]
    Csrf,
    #[error(transparent)]
    Claims(#[from] crate::claims::ClaimsError),
    #[error(transparent)]
    Gallery(#[from] crate::gallery::GalleryError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{what} was not found")]
    NotFound { what: String },
    #[error("{0}")]
    Conflict(String),
    #[error("storage failed: {0}")]
    Store(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl IdpError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        use IdpError::*;
        match self {
            MalformedRequest(_) => "PCS75005",
            WrongDestination { .. } => "PCS75006",
            StaleRequest { .. } => "PCS75008",
            UnsupportedBinding(_) => "PCS75007",
            UnknownApp(_) => "PCS700016",
            ReplyUrlMismatch { .. } => "PCS50011",
            ReplyUrlIndexUnknown { .. } => "PCS50012",
            NoReplyUrl(_) => "PCS50013",
            AppDisabled(_) => "PCS7000112",
            NotAssigned { .. } => "PCS50105",
            UserDisabled(_) => "PCS50057",
            BadCredentials => "PCS50126",
            LockedOut(_) => "PCS50053",
            BadOtp => "PCS50076",
            BadRequestSignature(_) => "PCS75016",
            UnsignedRequest(_) => "PCS75017",
            UnsupportedNameIdFormat(_) => "PCS75011",
            InteractionRequired => "PCS50058",
            IdpInitiatedNotSupported(_) => "PCS750054",
            NoSigningCertificate(_) => "PCS500014",
            NoLogoutUrl(_) => "PCS50017",
            Csrf => "PCS90023",
            Claims(e) => e.code(),
            Gallery(e) => e.code(),
            Invalid(_) => "PCS90001",
            Unauthenticated(_) => "PCS90401",
            Forbidden(_) => "PCS90403",
            NotFound { .. } => "PCS90002",
            Conflict(_) => "PCS90003",
            Store(_) => "PCS90100",
            Internal(_) => "PCS90101",
        }
    }

    /// The HTTP status the error page is served with.
    pub fn http_status(&self) -> u16 {
        use IdpError::*;
        match self {
            BadCredentials | BadOtp | LockedOut(_) | Unauthenticated(_) => 401,
            NotAssigned { .. } | UserDisabled(_) | AppDisabled(_) | Forbidden(_) => 403,
            NotFound { .. } => 404,
            Conflict(_) => 409,
            Store(_) | Internal(_) | NoSigningCertificate(_) => 500,
            _ => 400,
        }
    }
}

impl From<store::StoreError> for IdpError {
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::NotFound { what } => IdpError::NotFound { what },
            store::StoreError::Conflict { what } => IdpError::Conflict(what),
            other => IdpError::Store(other.to_string()),
        }
    }
}

impl From<web::WebError> for IdpError {
    fn from(e: web::WebError) -> Self {
        IdpError::Internal(e.to_string())
    }
}

impl From<saml::Error> for IdpError {
    fn from(e: saml::Error) -> Self {
        IdpError::Internal(format!("[{}] {e}", e.code()))
    }
}

pub type Result<T, E = IdpError> = std::result::Result<T, E>;
