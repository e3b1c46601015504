//! The crate's one error type. Every variant has a stable code (`PCR…`, documented in ERRORS.md)
//! and a sentence that says what to fix. No variant carries a password: texts that come from a
//! target (server messages) are scrubbed of the request's passwords before they are stored here.

/// Why a password could not be generated or rotated.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum RotateError {
    /// The password policy cannot be satisfied.
    #[error("PCR001: the password policy is invalid: {reason}")]
    PolicyInvalid { reason: String },
    /// The operating system's random generator failed.
    #[error("PCR002: the system random number generator failed; check the host's entropy source")]
    Randomness,
    /// No rotator serves the target's platform.
    #[error("PCR003: no rotator for platform {platform:?}: its passwords cannot be changed on the target; use postgresql or linux-ssh")]
    UnknownPlatform { platform: String },
    /// This rotation path is not written yet.
    #[error("PCR004: {platform} rotation {what} is not implemented yet")]
    NotImplemented { platform: &'static str, what: &'static str },
    /// The request cannot be carried out as given (bad account name, password with a newline…).
    #[error("PCR005: the rotation request is invalid: {reason}")]
    InvalidRequest { reason: String },
    /// The target could not be reached (DNS, TCP, TLS or SSH handshake); nothing was changed.
    #[error("PCR010: cannot reach {host}:{port}: {detail}; check the system's host, port and firewall")]
    Unreachable { host: String, port: u16, detail: String },
    /// The target refused a login; nothing was changed.
    #[error(
        "PCR011: {host} refused the login of {user:?} ({which}); check the stored password of that account"
    )]
    LoginRefused { host: String, user: String, which: &'static str },
    /// The target refused the change itself (no such account, no privilege…); the old password
    /// is still in place.
    #[error("PCR012: {host} refused to change the password of {account:?}: {detail}")]
    ChangeRefused { host: String, account: String, detail: String },
    /// The change was sent but its outcome is unknown (connection lost, timeout); the new
    /// password may be in place.
    #[error(
        "PCR013: the password change of {account:?} on {host} may or may not have happened: {detail}; \
         try the pending password before generating another"
    )]
    OutcomeUnknown { host: String, account: String, detail: String },
    /// The target reported success but a login with the new password failed.
    #[error(
        "PCR014: {host} accepted the new password of {account:?} but a login with it failed: {detail}; \
         check the account (locked, expired, authentication method) before retrying"
    )]
    VerifyFailed { host: String, account: String, detail: String },
    /// A step timed out before any change was sent; nothing was changed.
    #[error("PCR015: {host} did not answer in time ({stage}); check that the system is up")]
    Timeout { host: String, stage: &'static str },
    /// The SSH server's host key is not the one trusted for it; nothing was sent.
    #[error(
        "PCR017: the SSH host key of {host}:{port} changed (expected {expected}, got {got}); if the host was \
         reinstalled, update its pinned key, otherwise suspect an attack"
    )]
    HostKeyChanged { host: String, port: u16, expected: String, got: String },
    /// The target answered something this crate does not understand; nothing was changed.
    #[error("PCR016: unexpected answer from {host}: {detail}")]
    Protocol { host: String, detail: String },
}

impl RotateError {
    /// The stable code (`PCR…`).
    pub fn code(&self) -> &'static str {
        match self {
            RotateError::PolicyInvalid { .. } => "PCR001",
            RotateError::Randomness => "PCR002",
            RotateError::UnknownPlatform { .. } => "PCR003",
            RotateError::NotImplemented { .. } => "PCR004",
            RotateError::InvalidRequest { .. } => "PCR005",
            RotateError::Unreachable { .. } => "PCR010",
            RotateError::LoginRefused { .. } => "PCR011",
            RotateError::ChangeRefused { .. } => "PCR012",
            RotateError::OutcomeUnknown { .. } => "PCR013",
            RotateError::VerifyFailed { .. } => "PCR014",
            RotateError::Timeout { .. } => "PCR015",
            RotateError::Protocol { .. } => "PCR016",
            RotateError::HostKeyChanged { .. } => "PCR017",
        }
    }

    /// Whether the new password may be in place on the target despite the error. When true the
    /// vault should try the pending password before generating another.
    pub fn may_have_changed(&self) -> bool {
        matches!(self, RotateError::OutcomeUnknown { .. } | RotateError::VerifyFailed { .. })
    }
}
