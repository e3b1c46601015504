//! SSH sessions into a jump item with an injected credential (russh client).
//!
//! [`SshConnector::open`] connects to the jump item's host and port, checks the endpoint's host
//! key against the jump item's pin ([`HostKeyPins`]: trust on first use, a changed key refused
//! before anything is sent), authenticates with the credential — a password (with the
//! keyboard-interactive dialogue as a fallback for servers that take passwords only that way) or
//! a private key —, drops the credential (which zeroizes it), and opens a PTY shell. The
//! [`Shell`] it returns does nothing until it is given a recording ([`Shell::record`]), so no
//! session runs unrecorded.
//!
//! The credential goes to russh's authentication calls only, which copy it into their own
//! (non-zeroizing) buffers for the authentication packet; it is never logged, put into an error,
//! recorded or kept.

mod pins;
mod session;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, AuthResult, Handle, KeyboardInteractiveAuthResponse};
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::MethodKind;

pub use pins::{HostKey, HostKeyPins, MemoryPins, PinCheck, PinFuture};
pub use session::{Output, Session, SessionInput, SessionOutput, Shell};

use crate::credential::{Credential, Secret};
use crate::terminal::PtyRequest;
use crate::ConsoleError;

/// SSH's port.
pub const DEFAULT_PORT: u16 = 22;

/// How often an idle connection is probed; three unanswered probes end it.
const KEEPALIVE: Duration = Duration::from_secs(30);

/// Where a session goes: a jump item's SSH address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    jump_item: String,
    host: String,
    port: u16,
}

impl Endpoint {
    /// `jump_item` identifies the jump item (its host-key pin is kept under it); `host` is a DNS
    /// name or an IP address.
    pub fn new(
        jump_item: impl Into<String>,
        host: impl Into<String>,
        port: u16,
    ) -> Result<Endpoint, ConsoleError> {
        let (jump_item, host) = (jump_item.into(), host.into());
        let invalid = |reason: &str| Err(ConsoleError::InvalidRequest { reason: reason.into() });
        if jump_item.is_empty() || jump_item.len() > 128 || jump_item.chars().any(char::is_control) {
            return invalid("a jump item ID must be 1 to 128 characters without control characters");
        }
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '%'));
        if !host_ok {
            return invalid(
                "a host must be a DNS name or an IP address (letters, digits, '.', '-', '_', ':', '%')",
            );
        }
        if port == 0 {
            return invalid("port 0 is not a port; SSH's is 22");
        }
        Ok(Endpoint { jump_item, host, port })
    }

    pub fn jump_item(&self) -> &str {
        &self.jump_item
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Opens SSH sessions with injected credentials.
#[derive(Clone)]
pub struct SshConnector {
    pins: Arc<dyn HostKeyPins>,
    timeout: Duration,
}

impl std::fmt::Debug for SshConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshConnector").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl SshConnector {
    /// A connector that checks host keys against `pins`, waiting up to 20 s for each step
    /// (connection and key exchange, authentication, terminal and shell).
    pub fn new(pins: Arc<dyn HostKeyPins>) -> SshConnector {
        SshConnector { pins, timeout: Duration::from_secs(20) }
    }

    /// The same connector with another limit for each step.
    pub fn with_timeout(mut self, timeout: Duration) -> SshConnector {
        self.timeout = timeout;
        self
    }

    /// Connects to `endpoint`, checks its host key, authenticates with `credential` (consumed and
    /// zeroized here, whatever the outcome) and opens a shell on a PTY like `pty`.
    pub async fn open(
        &self,
        endpoint: &Endpoint,
        credential: Credential,
        pty: &PtyRequest,
    ) -> Result<Shell, ConsoleError> {
        let (host, port) = (endpoint.host.clone(), endpoint.port);
        let user = credential.username().to_owned();
        let method = credential.method();
        let timeout = |stage| ConsoleError::Timeout { host: host.clone(), port, stage };

        let refusal = Arc::new(Mutex::new(None));
        let handler =
            Pinning { pins: self.pins.clone(), endpoint: endpoint.clone(), refusal: refusal.clone() };
        let config = Arc::new(client::Config {
            keepalive_interval: Some(KEEPALIVE),
            nodelay: true, // keystrokes go out at once
            ..Default::default()
        });
        let connected =
            tokio::time::timeout(self.timeout, client::connect(config, (host.as_str(), port), handler)).await;
        if let Some(e) = refusal.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(e);
        }
        let mut handle = match connected {
            Err(_) => return Err(timeout("connection and key exchange")),
            Ok(Err(e)) => return Err(ConsoleError::Unreachable { host, port, detail: e.to_string() }),
            Ok(Ok(handle)) => handle,
        };

        let authenticated = tokio::time::timeout(self.timeout, authenticate(&mut handle, &credential)).await;
        drop(credential);
        let refused = match authenticated {
            Err(_) => Some(timeout("authentication")),
            Ok(Err(Failure::Credential(reason))) => {
                Some(ConsoleError::InvalidCredential { user: user.clone(), reason })
            }
            Ok(Err(Failure::Ssh(e))) => {
                Some(ConsoleError::SessionFailed { host: host.clone(), port, detail: e.to_string() })
            }
            Ok(Ok(false)) => {
                Some(ConsoleError::AuthRefused { host: host.clone(), port, user: user.clone(), method })
            }
            Ok(Ok(true)) => None,
        };
        if let Some(e) = refused {
            tracing::warn!(jump_item = %endpoint.jump_item, %host, port, %user, method, code = e.code(), "SSH login failed");
            let _ = handle.disconnect(russh::Disconnect::ByApplication, "", "en").await;
            return Err(e);
        }
        tracing::info!(jump_item = %endpoint.jump_item, %host, port, %user, method, "SSH login with an injected credential");

        let connection = session::Connection::new(handle, host.clone(), port);
        match tokio::time::timeout(self.timeout, Shell::start(connection, pty.clone())).await {
            Err(_) => Err(timeout("terminal and shell set-up")),
            Ok(result) => result,
        }
    }
}

/// Checks the endpoint's host key against the jump item's pin; a refusal (changed key, failing
/// store) is kept in `refusal` for `open` to report, since russh only sees "rejected".
pub(crate) struct Pinning {
    pins: Arc<dyn HostKeyPins>,
    endpoint: Endpoint,
    refusal: Arc<Mutex<Option<ConsoleError>>>,
}

impl client::Handler for Pinning {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let public = key.public_key();
        let offered = HostKey {
            algorithm: public.algorithm().to_string(),
            fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
        };
        let Endpoint { jump_item, host, port } = &self.endpoint;
        let refuse = match self.pins.check(jump_item, &offered).await {
            Ok(PinCheck::Matches) => {
                tracing::debug!(%jump_item, %host, port, host_key = %offered, "SSH host key matches the pin");
                return Ok(true);
            }
            Ok(PinCheck::PinnedNow) => {
                tracing::info!(%jump_item, %host, port, host_key = %offered, "SSH host key pinned on first use");
                return Ok(true);
            }
            Ok(PinCheck::Changed { pinned }) => ConsoleError::HostKeyChanged {
                jump_item: jump_item.clone(),
                host: host.clone(),
                port: *port,
                pinned: pinned.to_string(),
                offered: offered.to_string(),
            },
            Err(e) => e,
        };
        tracing::warn!(%jump_item, %host, port, host_key = %offered, code = refuse.code(), error = %refuse, "SSH host key refused");
        *self.refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(refuse);
        Ok(false)
    }
}

/// Why an authentication could not be tried to its end.
enum Failure {
    /// The credential itself is unusable.
    Credential(&'static str),
    Ssh(russh::Error),
}

impl From<russh::Error> for Failure {
    fn from(e: russh::Error) -> Failure {
        Failure::Ssh(e)
    }
}

/// Authenticates with the credential; `Ok(false)` when the endpoint refused it.
async fn authenticate(handle: &mut Handle<Pinning>, credential: &Credential) -> Result<bool, Failure> {
    let user = credential.username();
    match credential.secret() {
        Secret::Password(password) => {
            let remaining = match handle.authenticate_password(user, password.as_str()).await? {
                AuthResult::Success => return Ok(true),
                AuthResult::Failure { remaining_methods, .. } => remaining_methods,
            };
            // Servers that take passwords only through PAM's dialogue (`PasswordAuthentication
            // no`, `KbdInteractiveAuthentication yes`).
            if remaining.contains(&MethodKind::KeyboardInteractive) {
                return Ok(keyboard_interactive(handle, user, password).await?);
            }
            Ok(false)
        }
        Secret::PrivateKey { pem, passphrase } => {
            let key = russh::keys::decode_secret_key(pem, passphrase.as_ref().map(|p| p.as_str())).map_err(|_| {
                Failure::Credential("the private key cannot be read (not an OpenSSH or PKCS#8 key, or a wrong passphrase)")
            })?;
            if key.algorithm().is_rsa() {
                return Err(Failure::Credential("RSA keys are not supported; use an Ed25519 or ECDSA key"));
            }
            let key = PrivateKeyWithHashAlg::new(Arc::new(key), None);
            Ok(handle.authenticate_publickey(user, key).await?.success())
        }
    }
}

/// Keyboard-interactive authentication answering the one hidden (no-echo) prompt with the
/// password; `false` when the server refuses, asks something visible (a code, a name) or asks
/// for a password a second time (the first was wrong).
async fn keyboard_interactive(
    handle: &mut Handle<Pinning>,
    user: &str,
    password: &str,
) -> Result<bool, russh::Error> {
    let mut response = handle.authenticate_keyboard_interactive_start(user, None).await?;
    let mut answered = false;
    // PAM may send informational rounds without prompts first.
    for _ in 0..5 {
        match response {
            KeyboardInteractiveAuthResponse::Success => return Ok(true),
            KeyboardInteractiveAuthResponse::Failure { .. } => return Ok(false),
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                if !prompts.is_empty() {
                    if answered || prompts.len() > 1 || prompts.iter().any(|p| p.echo) {
                        return Ok(false);
                    }
                    answered = true;
                }
                let answers = prompts.iter().map(|_| password.to_owned()).collect();
                response = handle.authenticate_keyboard_interactive_respond(answers).await?;
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    #[test]
    fn endpoints_are_checked() {
        assert!(Endpoint::new("web-01", "10.0.0.5", 22).is_ok());
        assert!(Endpoint::new("web-01", "fe80::1%eth0", 2222).is_ok());
        assert!(Endpoint::new("web-01", "host.example.com", 22).is_ok());
        for (item, host, port) in [
            ("", "h", 22),
            ("a\nb", "h", 22),
            ("i", "", 22),
            ("i", "h h", 22),
            ("i", "h/x", 22),
            ("i", "h", 0),
        ] {
            assert_eq!(
                Endpoint::new(item, host, port).unwrap_err().code(),
                "PCC001",
                "{item:?} {host:?} {port}"
            );
        }
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_and_the_error_names_no_secret() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let connector = SshConnector::new(Arc::new(MemoryPins::default()));
        let endpoint = Endpoint::new("web-01", "127.0.0.1", port).unwrap();
        let credential = Credential::password("helpdesk", Zeroizing::new("Planted-unreachable-1".into()));
        let e =
            connector.open(&endpoint, credential, &PtyRequest::xterm(Default::default())).await.unwrap_err();
        assert_eq!(e.code(), "PCC010", "{e}");
        let shown = format!("{e} {e:?}");
        assert!(shown.contains("127.0.0.1") && !shown.contains("Planted"), "{shown}");
    }
}
