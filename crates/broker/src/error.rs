//! The broker's one error type. Every variant has a stable code (`PCB…`, the table in
//! ERRORS.md), a [`Class`] (the failure classes of `broker test` and the log), and a message
//! that ends with what to do. No variant ever carries a password, key or session cookie: the
//! details come from the vault's own answers, which never hold one either.

use serde::{Deserialize, Serialize};

/// What kind of failure this is: the classes the reference document's "Test Settings" and
/// troubleshooting table use, plus configuration, an unexpected vault answer and the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// The broker's own settings are unusable.
    Configuration,
    /// The console user's name cannot be mapped to a vault user.
    UserMapping,
    /// The vault refused the API registration key.
    Authentication,
    /// The vault cannot be reached.
    Connectivity,
    /// The vault's TLS certificate is not trusted (or not valid for its name).
    TlsTrust,
    /// The vault knows the caller but does not let them do this.
    Permission,
    /// The credential asked for is not one this user may use on this endpoint.
    NoMatch,
    /// The vault answered something the broker does not understand.
    Vault,
    /// The console refused the broker or broke the channel protocol.
    Console,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Configuration => "configuration",
            Class::UserMapping => "user-mapping",
            Class::Authentication => "authentication",
            Class::Connectivity => "connectivity",
            Class::TlsTrust => "tls-trust",
            Class::Permission => "permission",
            Class::NoMatch => "no-match",
            Class::Vault => "vault",
            Class::Console => "console",
        }
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong in the broker.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("the broker configuration is not usable: {0}")]
    Config(String),
    #[error("console user {input:?} cannot be mapped to a vault user: {why}; fix the name the console sends or the [mapping] rules")]
    UserMapping { input: String, why: String },
    #[error("the vault refused the API registration key ({detail}): set [vault] api_key (or PORTCULLIS_BROKER_API_KEY) to the key `vault connect-sra` printed, and check that the registration is active")]
    KeyRefused { detail: String },
    #[error("the vault at {url} cannot be reached ({detail}): check [vault] url, that the vault is running, and that this host may connect to it (firewall, proxy)")]
    Unreachable { url: String, detail: String },
    #[error("the vault at {url} did not answer within {seconds} s: check that it is up and not overloaded, or raise [vault] timeout_seconds")]
    Timeout { url: String, seconds: u64 },
    #[error("the vault's TLS certificate at {url} is not trusted ({detail}): set [vault] ca_file to the PEM file of the CA that signed it (the CA of `vault serve --tls-cert`), or add that CA to this host's trusted store")]
    UntrustedCertificate { url: String, detail: String },
    #[error("the TLS connection to the vault at {url} failed ({detail}): check that [vault] url names the host its certificate was issued for and that the certificate is current")]
    TlsFailure { url: String, detail: String },
    #[error("vault user {vault_user:?} may not sign in with this API registration: add the user to a group that uses it (`vault group add-member --group \"Secure Remote Access Requesters\" --user {vault_user}`), or fix the [mapping] rules")]
    NotARequester { vault_user: String },
    #[error("the vault refused the broker's address ({detail}): add this host's address to the API registration's IP rules (`vault registration set … --ip-rule ADDRESS`)")]
    IpRuleRefused { detail: String },
    #[error("vault user {vault_user:?} may not request managed account {account_id} ({detail}): make the account API-enabled (`vault account set … --api-enabled`) and give a group of the user the Requestor role on it")]
    AccountNotRequestable { vault_user: String, account_id: i64, detail: String },
    #[error("release request {request_id} waits for approval ({detail}): set [vault] global_approver to a vault user who may approve requests for this account, or give the requesters group an auto-approve access policy")]
    ApprovalRequired { request_id: i64, detail: String },
    #[error("credential {id:?} is not one the broker offers to this console user: search again and pick one of the IDs it returns")]
    UnknownCredential { id: String },
    #[error("the jump item gives nothing to match on: {why}")]
    InvalidJumpItem { why: String },
    #[error("the vault answered {what} with HTTP {status} ({detail}): this broker does not expect that answer; the vault's log has the details")]
    VaultAnswer { what: String, status: u16, detail: String },
    #[error("the console refused the broker ({detail}): check [console] client_id and client_secret, that the API account has the Endpoint Credential Manager permission and the ECM group, and that fewer than five brokers are connected")]
    ConsoleRefused { detail: String },
    #[error("the console at {url} cannot be reached ({detail}): check [console] url and that the console is running; the broker keeps retrying")]
    ConsoleUnreachable { url: String, detail: String },
    #[error("the console broke the broker channel protocol ({detail}): run a broker and a console of the same Portcullis version")]
    ConsoleProtocol { detail: String },
}

impl BrokerError {
    /// The stable code of this error (ERRORS.md).
    pub fn code(&self) -> &'static str {
        match self {
            BrokerError::Config(_) => "PCB001",
            BrokerError::UserMapping { .. } => "PCB010",
            BrokerError::KeyRefused { .. } => "PCB020",
            BrokerError::Unreachable { .. } => "PCB030",
            BrokerError::Timeout { .. } => "PCB031",
            BrokerError::UntrustedCertificate { .. } => "PCB040",
            BrokerError::TlsFailure { .. } => "PCB041",
            BrokerError::NotARequester { .. } => "PCB050",
            BrokerError::IpRuleRefused { .. } => "PCB051",
            BrokerError::AccountNotRequestable { .. } => "PCB052",
            BrokerError::ApprovalRequired { .. } => "PCB053",
            BrokerError::UnknownCredential { .. } => "PCB060",
            BrokerError::InvalidJumpItem { .. } => "PCB061",
            BrokerError::VaultAnswer { .. } => "PCB070",
            BrokerError::ConsoleRefused { .. } => "PCB080",
            BrokerError::ConsoleUnreachable { .. } => "PCB081",
            BrokerError::ConsoleProtocol { .. } => "PCB082",
        }
    }

    /// The failure class of this error.
    pub fn class(&self) -> Class {
        match self {
            BrokerError::Config(_) => Class::Configuration,
            BrokerError::UserMapping { .. } => Class::UserMapping,
            BrokerError::KeyRefused { .. } => Class::Authentication,
            BrokerError::Unreachable { .. } | BrokerError::Timeout { .. } => Class::Connectivity,
            BrokerError::UntrustedCertificate { .. } | BrokerError::TlsFailure { .. } => Class::TlsTrust,
            BrokerError::NotARequester { .. }
            | BrokerError::IpRuleRefused { .. }
            | BrokerError::AccountNotRequestable { .. }
            | BrokerError::ApprovalRequired { .. } => Class::Permission,
            BrokerError::UnknownCredential { .. } | BrokerError::InvalidJumpItem { .. } => Class::NoMatch,
            BrokerError::VaultAnswer { .. } => Class::Vault,
            BrokerError::ConsoleRefused { .. }
            | BrokerError::ConsoleUnreachable { .. }
            | BrokerError::ConsoleProtocol { .. } => Class::Console,
        }
    }

    /// Logs the error once, at WARN, with its code and class as fields.
    pub fn log(&self, during: &str) {
        tracing::warn!(code = self.code(), class = %self.class(), "{during}: {self}");
    }
}

/// Result with [`BrokerError`].
pub type Result<T, E = BrokerError> = std::result::Result<T, E>;

pub(crate) fn config(what: impl Into<String>) -> BrokerError {
    BrokerError::Config(what.into())
}
