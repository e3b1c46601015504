//! Password hashing: argon2id with its parameters recorded in the PHC string, so that raising
//! them later re-hashes at the next sign-in instead of breaking old hashes.

use crate::WebError;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

/// Hashes a password (argon2id with the crate's defaults: 19 MiB, 2 passes, 1 lane, as OWASP
/// recommends) and returns the PHC string.
pub fn hash(password: &str) -> Result<String, WebError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| WebError::PasswordHash(e.to_string()))
}

/// Checks a password against a PHC string. A malformed hash is a mismatch.
pub fn verify(password: &str, phc: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// Spends the time of a real check when there is no user to check against, so that response
/// times do not tell which user names exist.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("not a real password").unwrap_or_default());
    let _ = verify(password, phc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_with_argon2id_and_verifies() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horsE", &h));
        assert!(!verify("x", "not a hash"));
        assert_ne!(hash("correct horse").unwrap(), h, "salted");
        verify_dummy("anything");
    }
}
