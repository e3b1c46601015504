//! The crate's one error type. Every variant has a stable code (`PCC…`, documented in ERRORS.md)
//! and a sentence that says what to do. No variant carries a secret: the credential is never put
//! into an error, and texts that come from the endpoint or a library (server messages, I/O
//! errors) never contain it because the credential is only ever handed to russh's
//! authentication calls.

/// Why a console session could not be opened, kept, recorded or bridged.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum ConsoleError {
    /// The jump item's address or the terminal request cannot be used as given.
    #[error("PCC001: the session request is invalid: {reason}")]
    InvalidRequest { reason: String },
    /// The credential handed to the console cannot be used (unreadable or unsupported key).
    #[error(
        "PCC002: the credential for {user:?} cannot be used: {reason}; ask an administrator to check the \
         account's credential in the vault"
    )]
    InvalidCredential { user: String, reason: &'static str },
    /// The endpoint could not be reached (DNS, TCP or the SSH handshake).
    #[error(
        "PCC010: cannot reach {host}:{port}: {detail}; check the jump item's host and port, and that the \
         endpoint is up and reachable from the console"
    )]
    Unreachable { host: String, port: u16, detail: String },
    /// A step took longer than the console waits.
    #[error(
        "PCC011: {host}:{port} did not answer in time ({stage}); check that the endpoint is up and try again"
    )]
    Timeout { host: String, port: u16, stage: &'static str },
    /// The endpoint's host key is not the one pinned for the jump item; nothing was sent.
    #[error(
        "PCC012: the SSH host key of jump item {jump_item:?} ({host}:{port}) changed: pinned {pinned}, offered \
         {offered}; nothing was sent. If the endpoint was reinstalled or its keys rotated, an administrator \
         must confirm the new key and replace the jump item's pin; otherwise suspect a man in the middle"
    )]
    HostKeyChanged { jump_item: String, host: String, port: u16, pinned: String, offered: String },
    /// The host-key pin store failed, so the key could not be checked; nothing was sent.
    #[error("PCC013: the host-key pins cannot be read or written: {detail}; check the console's storage")]
    HostKeyStore { detail: String },
    /// The endpoint refused the credential.
    #[error(
        "PCC014: {host}:{port} refused the {method} login of {user:?}; the credential may be out of date or \
         not allowed on this endpoint: ask an administrator to check the account in the vault and the \
         endpoint's sshd settings"
    )]
    AuthRefused { host: String, port: u16, user: String, method: &'static str },
    /// The endpoint accepted the login but refused a terminal or a shell.
    #[error(
        "PCC015: {host}:{port} refused {what}; check the endpoint's sshd settings (PermitTTY, ForceCommand) \
         and the account's login shell"
    )]
    ChannelRefused { host: String, port: u16, what: &'static str },
    /// The connection broke or the endpoint answered outside the protocol during a session.
    #[error("PCC016: the SSH session with {host}:{port} failed: {detail}; start a new session")]
    SessionFailed { host: String, port: u16, detail: String },
    /// The recording could not be written; the session is ended rather than run unrecorded.
    #[error(
        "PCC020: the session recording cannot be written: {detail}; the session was ended. Check the \
         recording storage (space, permissions)"
    )]
    RecordingWrite { detail: String },
    /// A recording file is not asciicast v2 as this crate writes it.
    #[error("PCC021: the recording is not valid asciicast v2 at line {line}: {reason}")]
    RecordingInvalid { line: usize, reason: String },
    /// No session is known under this ID (expired, ended, or never started).
    #[error("PCC030: no console session {id:?}; start the session again from its jump item")]
    UnknownSession { id: String },
    /// A browser message on the terminal WebSocket is not one the bridge understands.
    #[error(
        "PCC031: the terminal sent a message the console does not understand: {reason}; reload the page"
    )]
    BadMessage { reason: String },
    /// The terminal WebSocket was opened from a page of another site.
    #[error(
        "PCC032: the terminal was opened from {origin:?}, not from the console's own pages; open the session \
         from the console"
    )]
    OriginRefused { origin: String },
    /// The console's database failed.
    #[error("PCC040: the console's database failed: {detail}")]
    Storage { detail: String },
    /// A record named in the request does not exist.
    #[error("PCC041: {what} was not found; check the name or ID (list them to see what exists)")]
    NotFound { what: String },
    /// The change would duplicate a unique name or break a reference.
    #[error("PCC042: {what}")]
    Conflict { what: String },
    /// A value given to the console (CLI option, API field) cannot be used.
    #[error("PCC043: {reason}")]
    InvalidInput { reason: String },
    /// The token request is malformed (OAuth `invalid_request`).
    #[error("PCC050: the token request is invalid: {reason}")]
    TokenRequest { reason: String },
    /// Client authentication failed (OAuth `invalid_client`). Deliberately the same for an
    /// unknown client, a wrong secret and a disabled account.
    #[error(
        "PCC051: the client is not authenticated: unknown client ID, wrong secret or disabled API account; \
         check the API account's client ID and secret (a rotated secret replaces the old one)"
    )]
    ClientAuth,
    /// The grant type is not client credentials (OAuth `unsupported_grant_type`).
    #[error("PCC052: the grant type {grant:?} is not supported; use grant_type=client_credentials")]
    UnsupportedGrant { grant: String },
    /// A scope was asked for (OAuth `invalid_scope`): the account's permissions are the scope.
    #[error(
        "PCC053: the console grants no scopes; leave out the scope parameter (the API account's permissions \
         decide what a token may do)"
    )]
    InvalidScope,
    /// An API call without a valid access token.
    #[error(
        "PCC054: {reason}; get a token from POST /oauth2/token and send it as Authorization: Bearer TOKEN"
    )]
    Unauthenticated { reason: &'static str },
    /// The API account lacks the permission the call needs.
    #[error(
        "PCC055: the API account {account:?} may not use {needed}; an administrator grants it with \
         `portcullis console api-account` (or uses an account that has it)"
    )]
    Forbidden { account: String, needed: &'static str },
    /// The credential brokers could not serve a session (no broker, a broker's failure, …):
    /// the broker channel's own `PCE…` error.
    #[error(transparent)]
    Broker(#[from] crate::ecm::EcmError),
}

impl ConsoleError {
    /// The stable code (`PCC…`).
    pub fn code(&self) -> &'static str {
        match self {
            ConsoleError::InvalidRequest { .. } => "PCC001",
            ConsoleError::InvalidCredential { .. } => "PCC002",
            ConsoleError::Unreachable { .. } => "PCC010",
            ConsoleError::Timeout { .. } => "PCC011",
            ConsoleError::HostKeyChanged { .. } => "PCC012",
            ConsoleError::HostKeyStore { .. } => "PCC013",
            ConsoleError::AuthRefused { .. } => "PCC014",
            ConsoleError::ChannelRefused { .. } => "PCC015",
            ConsoleError::SessionFailed { .. } => "PCC016",
            ConsoleError::RecordingWrite { .. } => "PCC020",
            ConsoleError::RecordingInvalid { .. } => "PCC021",
            ConsoleError::UnknownSession { .. } => "PCC030",
            ConsoleError::BadMessage { .. } => "PCC031",
            ConsoleError::OriginRefused { .. } => "PCC032",
            ConsoleError::Storage { .. } => "PCC040",
            ConsoleError::NotFound { .. } => "PCC041",
            ConsoleError::Conflict { .. } => "PCC042",
            ConsoleError::InvalidInput { .. } => "PCC043",
            ConsoleError::TokenRequest { .. } => "PCC050",
            ConsoleError::ClientAuth => "PCC051",
            ConsoleError::UnsupportedGrant { .. } => "PCC052",
            ConsoleError::InvalidScope => "PCC053",
            ConsoleError::Unauthenticated { .. } => "PCC054",
            ConsoleError::Forbidden { .. } => "PCC055",
            ConsoleError::Broker(e) => e.code(),
        }
    }
}

impl From<store::StoreError> for ConsoleError {
    fn from(e: store::StoreError) -> ConsoleError {
        match e {
            store::StoreError::NotFound { what } => ConsoleError::NotFound { what },
            store::StoreError::Conflict { what } => ConsoleError::Conflict { what },
            other => ConsoleError::Storage { detail: other.to_string() },
        }
    }
}

impl From<sqlx::Error> for ConsoleError {
    fn from(e: sqlx::Error) -> ConsoleError {
        store::StoreError::from(e).into()
    }
}
