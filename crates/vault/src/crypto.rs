//! Randomness, keyed hashes and constant-time comparison for keys, tokens and session IDs.
//!
//! Keys, OAuth secrets, access tokens and session IDs are high-entropy random strings, so they are
//! stored as HMAC-SHA-256 under a vault key (itself sealed at rest): a copy of the database alone
//! does not let anyone test guesses, and lookups by hash stay indexable. User passwords are
//! low-entropy and use argon2id instead.

use aws_lc_rs::hmac;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::error::{Result, VaultError};

/// `n` random bytes from the OS.
pub(crate) fn random_bytes(n: usize) -> Result<Zeroizing<Vec<u8>>> {
    let mut b = Zeroizing::new(vec![0u8; n]);
    aws_lc_rs::rand::fill(&mut b[..])
        .map_err(|_| VaultError::Invalid("the system random generator failed: check the OS".into()))?;
    Ok(b)
}

/// `len` characters drawn uniformly from `alphabet` (bytes at or above the largest multiple of
/// the alphabet's size are discarded, so there is no modulo bias).
pub(crate) fn random_string(alphabet: &[u8], len: usize) -> Result<Zeroizing<String>> {
    let limit = 256 - 256 % alphabet.len();
    let mut out = Zeroizing::new(String::with_capacity(len));
    while out.len() < len {
        for b in random_bytes(64)?.iter().map(|b| *b as usize).filter(|b| *b < limit) {
            if out.len() < len {
                out.push(char::from(alphabet[b % alphabet.len()]));
            }
        }
    }
    Ok(out)
}

/// Upper- and lower-case letters and digits.
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A 128-character API registration key (hex, like Password Safe's).
pub(crate) fn api_key() -> Result<Zeroizing<String>> {
    random_string(b"0123456789abcdef", 128)
}

/// A bearer secret (access token, session ID): 32 random bytes, base64url.
pub(crate) fn token() -> Result<Zeroizing<String>> {
    Ok(Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&random_bytes(32)?[..])))
}

/// The keyed hash of a secret string: HMAC-SHA-256 under the vault's hash key, with a label so
/// that a hash of one kind of secret never matches another kind.
#[derive(Clone)]
pub(crate) struct Hasher(hmac::Key);

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hasher(<redacted>)")
    }
}

impl Hasher {
    pub(crate) fn new(key: &[u8]) -> Hasher {
        Hasher(hmac::Key::new(hmac::HMAC_SHA256, key))
    }

    /// Hex of HMAC(label ‖ 0 ‖ secret).
    pub(crate) fn hash(&self, label: &str, secret: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(label.as_bytes());
        ctx.update(&[0]);
        ctx.update(secret.as_bytes());
        hex(ctx.sign().as_ref())
    }

    /// Whether `secret` hashes to `stored`, compared in constant time.
    pub(crate) fn matches(&self, label: &str, secret: &str, stored: &str) -> bool {
        ct_eq(self.hash(label, secret).as_bytes(), stored.as_bytes())
    }
}

/// Constant-time equality (length is not secret).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 hex of `data` (the audit chain).
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref())
}

/// argon2id PHC string of a user password.
pub(crate) fn hash_password(password: &str) -> Result<String> {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| VaultError::Invalid(format!("cannot hash the password ({e}): use a shorter one")))
}

/// Checks a user password against its PHC string; a malformed hash is a mismatch.
pub(crate) fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    argon2::Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// Spends the time of a real check, so that timing does not tell whether a user exists.
pub(crate) fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default());
    let _ = verify_password(password, phc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_128_hex_characters_and_differ() {
        let a = api_key().unwrap();
        let b = api_key().unwrap();
        assert_eq!(a.len(), 128);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(*a, *b);
    }

    #[test]
    fn keyed_hash_depends_on_key_label_and_secret() {
        let h = Hasher::new(b"k1");
        let stored = h.hash("apikey", "s");
        assert!(h.matches("apikey", "s", &stored));
        assert!(!h.matches("apikey", "t", &stored));
        assert!(!h.matches("token", "s", &stored));
        assert!(!Hasher::new(b"k2").matches("apikey", "s", &stored));
    }
}
