//! The credential the console injects into a session. It is handed over once (by value), used for
//! the SSH authentication only, and zeroized when it is dropped right after; its `Debug` shows
//! the account name and the kind of secret, never the secret.

use zeroize::Zeroizing;

/// An account name with its secret, as the broker hands it to the console.
pub struct Credential {
    username: String,
    secret: Secret,
}

/// The secret part of a [`Credential`].
pub(crate) enum Secret {
    Password(Zeroizing<String>),
    /// An OpenSSH (`-----BEGIN OPENSSH PRIVATE KEY-----`) or PKCS#8 PEM private key.
    PrivateKey {
        pem: Zeroizing<String>,
        passphrase: Option<Zeroizing<String>>,
    },
}

impl Credential {
    /// A password credential.
    pub fn password(username: impl Into<String>, password: Zeroizing<String>) -> Credential {
        Credential { username: username.into(), secret: Secret::Password(password) }
    }

    /// A private-key credential: the key in PEM (OpenSSH or PKCS#8) and its passphrase if it is
    /// encrypted. Ed25519 and ECDSA keys are supported (the workspace builds russh without RSA).
    pub fn private_key(
        username: impl Into<String>,
        pem: Zeroizing<String>,
        passphrase: Option<Zeroizing<String>>,
    ) -> Credential {
        Credential { username: username.into(), secret: Secret::PrivateKey { pem, passphrase } }
    }

    /// The account name (not secret: it is in the endpoint's logs and on its prompt).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// What kind of secret this is, for logs and errors: `password` or `publickey` (the SSH
    /// method names).
    pub fn method(&self) -> &'static str {
        match self.secret {
            Secret::Password(_) => "password",
            Secret::PrivateKey { .. } => "publickey",
        }
    }

    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("method", &self.method())
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_account_and_kind_but_never_the_secret() {
        let password = Credential::password("helpdesk-01", Zeroizing::new("Planted-pw-1".into()));
        let key = Credential::private_key(
            "deploy",
            Zeroizing::new("-----BEGIN OPENSSH PRIVATE KEY-----\nPlanted-key\n".into()),
            Some(Zeroizing::new("Planted-passphrase".into())),
        );
        let shown = format!("{password:?} {key:?} {password:#?}");
        assert!(shown.contains("helpdesk-01") && shown.contains("deploy"), "{shown}");
        assert!(shown.contains("password") && shown.contains("publickey"), "{shown}");
        for planted in ["Planted-pw-1", "Planted-key", "Planted-passphrase", "BEGIN OPENSSH"] {
            assert!(!shown.contains(planted), "{shown}");
        }
    }
}
