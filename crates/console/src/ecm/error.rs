//! The broker channel's one error type. Every variant has a stable code (`PCE…`, the section
//! "Broker channel" of ERRORS.md) and a sentence that says what to do. No variant carries a
//! secret: a released password is only ever moved into a [`crate::Credential`], and the texts
//! that come from a broker (its `Failed` answers) are the broker's own coded messages, which
//! never hold one either.

use axum::http::StatusCode;

/// Why the broker channel refused a broker, dropped one, or could not serve a session.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EcmError {
    /// The channel's request had no bearer token, or one the console does not accept.
    #[error(
        "PCE001: the broker channel needs a valid access token (Authorization: Bearer …) from the console's \
         /oauth2/token: {reason}; check the broker's [console] client_id and client_secret"
    )]
    Unauthenticated { reason: String },
    /// The API account is valid but lacks the Endpoint Credential Manager permission.
    #[error(
        "PCE002: API account {account:?} may not serve as an Endpoint Credential Manager; an administrator \
         gives it the ECM permission (`console api-account create … --ecm-api --ecm-group G`) or the broker \
         uses an account that has it"
    )]
    NotPermitted { account: String },
    /// The tokens could not be checked (the console's storage failed).
    #[error("PCE003: the broker's access token cannot be checked now: {detail}; the broker will retry")]
    AuthUnavailable { detail: String },
    /// The broker speaks another version of the channel protocol.
    #[error(
        "PCE010: the broker speaks channel protocol version {theirs}, this console speaks version {ours}; \
         run a broker and a console of the same Portcullis release"
    )]
    ProtocolVersion { theirs: u32, ours: u32 },
    /// The broker registered for an ECM group its API account may not serve.
    #[error(
        "PCE011: API account {account:?} serves ECM group {allowed:?}, not {asked:?}; set the broker's \
         [console] ecm_group to {allowed:?} or use the API account of group {asked:?}"
    )]
    WrongGroup { account: String, asked: String, allowed: String },
    /// The console already has as many brokers as it accepts.
    #[error(
        "PCE012: {max} brokers are already connected to this console, the most it accepts; stop a broker \
         you no longer need (`portcullis console brokers` lists them) and this one is accepted when it \
         retries"
    )]
    TooManyBrokers { max: usize },
    /// The registration names the broker in a way the console cannot show or store.
    #[error("PCE013: the broker's registration is not usable: {reason}; fix the broker's [console] name")]
    BadRegistration { reason: String },
    /// The broker broke the channel protocol; the console closed the channel.
    #[error(
        "PCE020: broker {broker:?} broke the channel protocol ({reason}); the console closed the channel. \
         Run a broker of this console's release"
    )]
    ProtocolViolation { broker: String, reason: String },
    /// Nothing was heard from the broker for three keep-alive intervals; it was dropped.
    #[error(
        "PCE021: nothing was heard from broker {broker:?} for {seconds} s (three keep-alive intervals); the \
         console dropped it. Check the network between them and that the broker's [console] \
         keepalive_seconds is at most the console's"
    )]
    Silent { broker: String, seconds: u64 },
    /// The broker's API account lost its permission (disabled, secret rotated, ECM removed).
    #[error(
        "PCE022: broker {broker:?} was disconnected because its API account may no longer serve: {reason}"
    )]
    Revoked { broker: String, reason: String },
    /// No broker is connected for the jump item's ECM group.
    #[error(
        "PCE030: no credential broker is connected for ECM group {group:?}, so no credential can be offered; \
         start a broker (`portcullis broker --config FILE`) with ecm_group = {group:?}, or try again when \
         one has reconnected"
    )]
    NoBroker { group: String },
    /// The broker serving the request disconnected before answering.
    #[error(
        "PCE031: broker {broker:?} of ECM group {group:?} disconnected before it answered; try again (another \
         broker of the group serves the next request)"
    )]
    BrokerLost { group: String, broker: String },
    /// The broker did not answer in time.
    #[error(
        "PCE032: broker {broker:?} of ECM group {group:?} did not answer within {seconds} s; try again, and \
         check the broker's log and that the vault is answering"
    )]
    Timeout { group: String, broker: String, seconds: u64 },
    /// The broker answered with a failure (its own code and class).
    #[error("PCE033: the credential broker could not do it: {message} [{code}, {class}]")]
    BrokerFailed { code: String, class: String, message: String },
    /// The broker answered with a message that does not answer the request, or an unusable one.
    #[error("PCE034: broker {broker:?} answered {reason}; run a broker of this console's release")]
    BadAnswer { broker: String, reason: String },
    /// The broker presence store (the console's table of connected brokers) failed.
    #[error(
        "PCE040: the list of connected brokers cannot be updated: {detail}; check the console's storage"
    )]
    PresenceStore { detail: String },
}

impl EcmError {
    /// The stable code (`PCE…`).
    pub fn code(&self) -> &'static str {
        match self {
            EcmError::Unauthenticated { .. } => "PCE001",
            EcmError::NotPermitted { .. } => "PCE002",
            EcmError::AuthUnavailable { .. } => "PCE003",
            EcmError::ProtocolVersion { .. } => "PCE010",
            EcmError::WrongGroup { .. } => "PCE011",
            EcmError::TooManyBrokers { .. } => "PCE012",
            EcmError::BadRegistration { .. } => "PCE013",
            EcmError::ProtocolViolation { .. } => "PCE020",
            EcmError::Silent { .. } => "PCE021",
            EcmError::Revoked { .. } => "PCE022",
            EcmError::NoBroker { .. } => "PCE030",
            EcmError::BrokerLost { .. } => "PCE031",
            EcmError::Timeout { .. } => "PCE032",
            EcmError::BrokerFailed { .. } => "PCE033",
            EcmError::BadAnswer { .. } => "PCE034",
            EcmError::PresenceStore { .. } => "PCE040",
        }
    }

    /// The HTTP status of a refusal before the upgrade.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            EcmError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            EcmError::NotPermitted { .. } => StatusCode::FORBIDDEN,
            EcmError::AuthUnavailable { .. } | EcmError::PresenceStore { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }
}
