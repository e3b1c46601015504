//! Random tokens, SHA-256 fingerprints and constant-time comparison.
//!
//! Session cookies, CSRF tokens, setup tokens and bearer secrets are 256 random bits. Stores keep
//! only their SHA-256 ([`sha256_hex`]), so a leaked database holds no usable credential; a
//! presented secret is compared with [`constant_time_eq`].

use crate::WebError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use zeroize::Zeroizing;

/// `N` bytes from the operating system's random generator.
pub fn random_bytes<const N: usize>() -> Result<Zeroizing<[u8; N]>, WebError> {
    let mut bytes = Zeroizing::new([0u8; N]);
    aws_lc_rs::rand::fill(&mut bytes[..]).map_err(|_| WebError::Randomness)?;
    Ok(bytes)
}

/// 32 random bytes, base64url without padding (43 characters): cookies, CSRF and bearer tokens.
pub fn random_token() -> Result<String, WebError> {
    Ok(B64URL.encode(&random_bytes::<32>()?[..]))
}

/// 32 random bytes, lowercase hex (64 characters).
pub fn random_hex() -> Result<String, WebError> {
    Ok(hex(&random_bytes::<32>()?[..]))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// SHA-256 of `data`, lowercase hex: what a store keeps of a session cookie or a token.
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data.as_ref()).as_ref())
}

/// Equality of two secrets in time that depends only on their lengths (which are not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = random_token().unwrap();
        assert_eq!(a.len(), 43);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{a}");
        assert_ne!(a, random_token().unwrap());
        let h = random_hex().unwrap();
        assert_eq!(h.len(), 64);
        assert!(h.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    #[test]
    fn sha256_matches_the_standard_vector() {
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret!"));
        assert!(constant_time_eq(b"", b""));
    }
}
