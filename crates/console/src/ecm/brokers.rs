//! What the console's sessions ask the brokers: the credentials a (representative, jump item)
//! may use, the release of the one picked, and the check-in when the session ends. Each call goes
//! to the oldest broker of the jump item's ECM group and waits at most the configured request
//! timeout.

use broker::protocol::{BrokerMessage, ConsoleMessage, ConsoleUser, JumpItem, ReleaseHandle, SessionRef};
use zeroize::Zeroizing;

use super::{EcmError, Registry};
use crate::Credential;

/// A credential offered for a jump item: its ID and display name, never the secret.
pub use broker::protocol::Credential as Offer;

/// The longest account name a broker may hand over.
const MAX_USERNAME: usize = 256;

/// The session side of the registry (cheap to clone).
#[derive(Clone)]
pub struct Brokers {
    registry: Registry,
}

impl Registry {
    /// The handle sessions use.
    pub fn brokers(&self) -> Brokers {
        Brokers { registry: self.clone() }
    }
}

impl Brokers {
    /// The credentials `user` may use on `item` (an empty list is a valid answer).
    pub async fn search(
        &self,
        group: &str,
        user: &ConsoleUser,
        item: &JumpItem,
    ) -> Result<Vec<Offer>, EcmError> {
        let message = |request| ConsoleMessage::Search { request, user: user.clone(), item: item.clone() };
        match self.registry.call(group, None, message).await? {
            (_, BrokerMessage::SearchResult { credentials, .. }) => Ok(credentials),
            (broker, other) => Err(unexpected(broker, "a search", &other)),
        }
    }

    /// Releases credential `id` (from a [`Brokers::search`] for the same user) for `session`: the
    /// console [`Credential`] to inject, and the handle to check it in with when the session
    /// ends. A secret that is a PEM private key becomes a private-key credential, anything else a
    /// password; a domain account logs in as `username@domain`.
    pub async fn retrieve(
        &self,
        group: &str,
        user: &ConsoleUser,
        id: &str,
        session: &SessionRef,
    ) -> Result<(Credential, ReleaseHandle), EcmError> {
        let message = |request| ConsoleMessage::Retrieve {
            request,
            user: user.clone(),
            credential: id.to_string(),
            session: session.clone(),
        };
        match self.registry.call(group, Some(session), message).await? {
            (broker, BrokerMessage::Retrieved { release, username, domain, secret, .. }) => {
                let credential = into_credential(username, domain, secret).map_err(|reason| {
                    EcmError::BadAnswer { broker: broker.clone(), reason: reason.into() }
                })?;
                tracing::info!(
                    broker = %broker,
                    session = %session.id,
                    vault_request = release.request_id,
                    method = credential.method(),
                    "credential released for a session"
                );
                Ok((credential, release))
            }
            (broker, other) => Err(unexpected(broker, "a retrieval", &other)),
        }
    }

    /// Tells the broker `session` ended, so that it checks `release` in (any broker of the
    /// group can: the handle is all it needs).
    pub async fn session_ended(
        &self,
        group: &str,
        release: &ReleaseHandle,
        session: &SessionRef,
    ) -> Result<(), EcmError> {
        let message = |request| ConsoleMessage::SessionEnded {
            request,
            release: release.clone(),
            session: session.clone(),
        };
        match self.registry.call(group, None, message).await? {
            (_, BrokerMessage::CheckedIn { .. }) => Ok(()),
            (broker, other) => Err(unexpected(broker, "a session end", &other)),
        }
    }
}

/// `Failed` as the broker's coded error; anything else that does not answer the request as
/// [`EcmError::BadAnswer`]. Dropping `other` wipes a secret it may hold.
fn unexpected(broker: String, request: &str, other: &BrokerMessage) -> EcmError {
    match other {
        BrokerMessage::Failed { error, .. } => EcmError::BrokerFailed {
            code: error.code.clone(),
            class: error.class.to_string(),
            message: error.message.clone(),
        },
        _ => EcmError::BadAnswer { broker, reason: format!("{request} with another kind of message") },
    }
}

/// The console credential of a release: a PEM private key (OpenSSH or PKCS#8) or a password,
/// for `username` or `username@domain`. The broker's secret is wiped when it is dropped here.
fn into_credential(
    username: String,
    domain: Option<String>,
    secret: broker::Secret,
) -> Result<Credential, &'static str> {
    let login = match domain.filter(|d| !d.is_empty()) {
        Some(domain) => format!("{username}@{domain}"),
        None => username,
    };
    if login.is_empty() || login.chars().count() > MAX_USERNAME || login.chars().any(char::is_control) {
        return Err("a release with an unusable account name");
    }
    if secret.is_empty() {
        return Err("a release with an empty secret");
    }
    let text = Zeroizing::new(secret.expose().to_string());
    drop(secret);
    Ok(if is_private_key(&text) {
        Credential::private_key(login, text, None)
    } else {
        Credential::password(login, text)
    })
}

/// Whether a secret is a PEM private key (OpenSSH or PKCS#8) rather than a password.
fn is_private_key(secret: &str) -> bool {
    let t = secret.trim_start();
    t.starts_with("-----BEGIN ") && t.lines().next().is_some_and(|l| l.ends_with("PRIVATE KEY-----"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::Secret;

    #[test]
    fn a_release_becomes_a_password_or_a_key_credential() {
        let c = into_credential("helpdesk-01".into(), None, broker::Secret::new("Planted-pw")).unwrap();
        assert_eq!((c.username(), c.method()), ("helpdesk-01", "password"));
        assert!(matches!(c.secret(), Secret::Password(p) if p.as_str() == "Planted-pw"));
        let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n";
        let c = into_credential("svc".into(), Some("acme.test".into()), broker::Secret::new(pem)).unwrap();
        assert_eq!((c.username(), c.method()), ("svc@acme.test", "publickey"));
        assert!(matches!(c.secret(), Secret::PrivateKey { pem: p, passphrase: None } if p.as_str() == pem));
        let c = into_credential("svc".into(), Some(String::new()), broker::Secret::new("x")).unwrap();
        assert_eq!(c.username(), "svc");
        for (user, secret) in [("", "x"), ("a\nb", "x"), ("svc", "")] {
            assert!(into_credential(user.into(), None, broker::Secret::new(secret)).is_err(), "{user:?}");
        }
    }

    #[test]
    fn pem_private_keys_are_told_from_passwords() {
        assert!(is_private_key(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n"
        ));
        assert!(is_private_key("\n-----BEGIN PRIVATE KEY-----\nMC4C\n"));
        assert!(!is_private_key("-----BEGIN CERTIFICATE-----\nMII\n"));
        assert!(!is_private_key("Planted-pw -----BEGIN PRIVATE KEY-----"));
        assert!(!is_private_key("hunter2"));
    }
}
