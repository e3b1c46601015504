//! The errors of the shared web layer.

/// What can go wrong in the shared primitives. Neither carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The operating system's random generator failed (nothing secure can be made without it).
    #[error("WEB_RANDOM_UNAVAILABLE: the system random generator failed; check the operating system's entropy source")]
    Randomness,
    /// argon2 refused to hash (for example a password longer than it accepts).
    #[error("WEB_PASSWORD_HASH: the password cannot be hashed ({0}); use a shorter one")]
    PasswordHash(String),
    /// A page template failed to render.
    #[error("WEB_TEMPLATE: a page could not be rendered ({0})")]
    Template(String),
}

impl WebError {
    /// The stable code at the start of the message.
    pub fn code(&self) -> &'static str {
        match self {
            WebError::Randomness => "WEB_RANDOM_UNAVAILABLE",
            WebError::PasswordHash(_) => "WEB_PASSWORD_HASH",
            WebError::Template(_) => "WEB_TEMPLATE",
        }
    }
}
