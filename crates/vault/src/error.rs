//! The vault's one error type. Every variant has a stable code (`PCV…`, documented with its HTTP
//! status in ERRORS.md), which its message starts with, and a sentence that says what to do; none
//! ever carries a password, key or token.

use store::StoreError;
use web::WebError;

/// What went wrong in the vault.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The record does not exist (or the caller may not see it).
    #[error("PCV001: {0}")]
    NotFound(String),
    /// The input is malformed or out of range.
    #[error("PCV002: {0}")]
    Invalid(String),
    /// The change conflicts with an existing record (a duplicate name, an open request).
    #[error("PCV003: {0}")]
    Conflict(String),
    /// The caller is known but may not do this.
    #[error("PCV004: {0}")]
    Forbidden(String),
    /// The caller is not signed in, or the sign-in was refused.
    #[error("PCV005: {0}")]
    Unauthorized(String),
    /// Storage or sealing failed.
    #[error("PCV006: {0}")]
    Store(#[from] StoreError),
    /// Rotating a password on its target failed (the stored password is unchanged).
    #[error("PCV007: {0}")]
    Rotation(String),
    /// A release request is no longer in the state the action needs: it was closed before, or
    /// another caller changed it first (a lost race). Nothing was changed.
    #[error("PCV008: {0}")]
    RequestState(String),
    /// The account's platform has no rotator: the vault cannot change its password on the
    /// target, so it refuses rotation settings and rotations for it.
    #[error("PCV009: {0}")]
    NotRotatable(String),
    /// The account exists and the caller could request it, but it is not API-enabled.
    #[error("PCV010: {0}")]
    NotApiEnabled(String),
    /// The operating system failed the vault (its random generator).
    #[error("PCV011: {0}")]
    System(String),
}

impl VaultError {
    /// The stable code of this error, for logs, the audit log and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            VaultError::NotFound(_) => "PCV001",
            VaultError::Invalid(_) => "PCV002",
            VaultError::Conflict(_) => "PCV003",
            VaultError::Forbidden(_) => "PCV004",
            VaultError::Unauthorized(_) => "PCV005",
            VaultError::Store(_) => "PCV006",
            VaultError::Rotation(_) => "PCV007",
            VaultError::RequestState(_) => "PCV008",
            VaultError::NotRotatable(_) => "PCV009",
            VaultError::NotApiEnabled(_) => "PCV010",
            VaultError::System(_) => "PCV011",
        }
    }

    /// The HTTP status the API answers this error with.
    pub fn http_status(&self) -> u16 {
        match self {
            VaultError::NotFound(_) => 404,
            VaultError::Invalid(_) | VaultError::NotRotatable(_) => 400,
            VaultError::Conflict(_) | VaultError::RequestState(_) => 409,
            VaultError::Forbidden(_) | VaultError::NotApiEnabled(_) => 403,
            VaultError::Unauthorized(_) => 401,
            VaultError::Store(_) | VaultError::Rotation(_) | VaultError::System(_) => 500,
        }
    }
}

impl From<sqlx::Error> for VaultError {
    fn from(e: sqlx::Error) -> Self {
        VaultError::Store(StoreError::from(e))
    }
}

impl From<WebError> for VaultError {
    fn from(e: WebError) -> Self {
        match e {
            // A password argon2 cannot hash is the caller's input.
            WebError::PasswordHash(_) => VaultError::Invalid(e.to_string()),
            WebError::Randomness | WebError::Template(_) => VaultError::System(e.to_string()),
        }
    }
}

/// Result with [`VaultError`].
pub type Result<T, E = VaultError> = std::result::Result<T, E>;

pub(crate) fn not_found(what: impl Into<String>) -> VaultError {
    VaultError::NotFound(what.into())
}
pub(crate) fn invalid(what: impl Into<String>) -> VaultError {
    VaultError::Invalid(what.into())
}
pub(crate) fn conflict(what: impl Into<String>) -> VaultError {
    VaultError::Conflict(what.into())
}
pub(crate) fn forbidden(what: impl Into<String>) -> VaultError {
    VaultError::Forbidden(what.into())
}
pub(crate) fn unauthorized(what: impl Into<String>) -> VaultError {
    VaultError::Unauthorized(what.into())
}

/// Maps a unique violation to `Conflict(what)`; anything else is a storage error.
pub(crate) fn unique(e: sqlx::Error, what: impl FnOnce() -> String) -> VaultError {
    if let sqlx::Error::Database(db) = &e {
        if db.kind() == sqlx::error::ErrorKind::UniqueViolation {
            return VaultError::Conflict(what());
        }
    }
    e.into()
}
