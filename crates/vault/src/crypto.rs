//! What is the vault's own in key handling: the formats of its API keys and OAuth client secrets,
//! and the keyed hash under which it stores every high-entropy secret.
//!
//! Keys, OAuth secrets, access tokens and session IDs are high-entropy random strings, so they are
//! stored as HMAC-SHA-256 under a vault key (itself sealed at rest): a copy of the database alone
//! does not let anyone test guesses, and lookups by hash stay indexable. Randomness, SHA-256,
//! constant-time comparison and the argon2id hashing of user passwords come from the shared web
//! crate (`web::token`, `web::password`).

use aws_lc_rs::hmac;
use web::token::{constant_time_eq, hex, random_bytes};
use zeroize::Zeroizing;

use crate::error::Result;

/// `len` characters drawn uniformly from `alphabet` (bytes at or above the largest multiple of
/// the alphabet's size are discarded, so there is no modulo bias).
pub(crate) fn random_string(alphabet: &[u8], len: usize) -> Result<Zeroizing<String>> {
    let limit = 256 - 256 % alphabet.len();
    let mut out = Zeroizing::new(String::with_capacity(len));
    while out.len() < len {
        for b in random_bytes::<64>()?.iter().map(|b| *b as usize).filter(|b| *b < limit) {
            if out.len() < len {
                out.push(char::from(alphabet[b % alphabet.len()]));
            }
        }
    }
    Ok(out)
}

/// Upper- and lower-case letters and digits (OAuth client secrets).
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A 128-character API registration key (hex, like Password Safe's).
pub(crate) fn api_key() -> Result<Zeroizing<String>> {
    random_string(b"0123456789abcdef", 128)
}

/// A bearer secret (access token, session ID): 32 random bytes, base64url.
pub(crate) fn token() -> Result<Zeroizing<String>> {
    Ok(Zeroizing::new(web::token::random_token()?))
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
        constant_time_eq(self.hash(label, secret).as_bytes(), stored.as_bytes())
    }
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
    fn oauth_secrets_are_alphanumeric() {
        let s = random_string(ALNUM, 48).unwrap();
        assert_eq!(s.len(), 48);
        assert!(s.bytes().all(|c| c.is_ascii_alphanumeric()), "{}", s.as_str());
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
