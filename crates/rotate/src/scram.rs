//! The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802, RFC 7677), computed
//! here the way libpq's `PQencryptPasswordConn` does, so that `ALTER ROLE … PASSWORD` carries the
//! verifier and the clear password never reaches the server or its statement log.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::{digest, hmac, pbkdf2};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use zeroize::Zeroizing;

use crate::RotateError;

/// PostgreSQL's default iteration count (`scram_iterations`).
pub const ITERATIONS: u32 = 4096;
/// libpq's salt length.
pub const SALT_LEN: usize = 16;

/// `SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>` with a fresh random salt.
pub fn verifier(password: &str) -> Result<Zeroizing<String>, RotateError> {
    let mut salt = [0u8; SALT_LEN];
    SystemRandom::new().fill(&mut salt).map_err(|_| RotateError::Randomness)?;
    Ok(verifier_with(password, &salt, ITERATIONS))
}

/// The verifier for a given salt and iteration count (`iterations` ≥ 1).
pub fn verifier_with(password: &str, salt: &[u8], iterations: u32) -> Zeroizing<String> {
    // libpq SASLprep-normalises the password and falls back to the raw bytes when the password
    // is not a valid SASLprep string (pg_saslprep's SASLPREP_INVALID_UTF8/PROHIBITED); the server
    // does the same at login, so both sides agree either way.
    let prepped: Zeroizing<String> = match stringprep::saslprep(password) {
        Ok(p) => Zeroizing::new(p.into_owned()),
        Err(_) => Zeroizing::new(password.to_owned()),
    };
    let mut salted = Zeroizing::new([0u8; 32]);
    let iterations = std::num::NonZeroU32::new(iterations).unwrap_or(std::num::NonZeroU32::MIN);
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, salt, prepped.as_bytes(), salted.as_mut());
    let key = hmac::Key::new(hmac::HMAC_SHA256, salted.as_ref());
    let client_key = Zeroizing::new(hmac::sign(&key, b"Client Key").as_ref().to_vec());
    let stored_key = digest::digest(&digest::SHA256, &client_key);
    let server_key = hmac::sign(&key, b"Server Key");
    Zeroizing::new(format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        B64.encode(salt),
        B64.encode(stored_key.as_ref()),
        B64.encode(server_key.as_ref())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3's exchange (user "user", password "pencil"): the client proof and
    /// server signature it shows follow from StoredKey/ServerKey computed here.
    #[test]
    fn matches_rfc7677_example() {
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let v = verifier_with("pencil", &salt, 4096);
        let keys = v.rsplit('$').next().unwrap();
        let (stored, server) = keys.split_once(':').unwrap();
        let stored = B64.decode(stored).unwrap();
        let server = B64.decode(server).unwrap();
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
            r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
            c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let server_sig = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &server), auth_message.as_bytes());
        assert_eq!(B64.encode(server_sig.as_ref()), "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
        let client_sig = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &stored), auth_message.as_bytes());
        let proof = B64.decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=").unwrap();
        // ClientKey = proof XOR ClientSignature, and H(ClientKey) must be StoredKey.
        let client_key: Vec<u8> = proof.iter().zip(client_sig.as_ref()).map(|(a, b)| a ^ b).collect();
        assert_eq!(digest::digest(&digest::SHA256, &client_key).as_ref(), stored.as_slice());
    }

    #[test]
    fn fresh_salt_each_time_and_postgres_shape() {
        let a = verifier("same password").unwrap();
        let b = verifier("same password").unwrap();
        assert_ne!(*a, *b);
        assert!(a.starts_with("SCRAM-SHA-256$4096:"));
        assert!(!a.contains('\''));
    }
}
