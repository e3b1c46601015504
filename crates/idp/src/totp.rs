//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6
//! digits), the second factor every authenticator app speaks. Twenty lines on
//! aws-lc-rs's HMAC rather than another crate; checked against the RFC's test
//! vectors.

use aws_lc_rs::hmac;

const STEP: i64 = 30;

/// The code for `unix_time` (RFC 4226 dynamic truncation).
pub fn code(secret: &[u8], unix_time: i64, digits: u32) -> String {
    let counter = unix_time.div_euclid(STEP) as u64;
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &counter.to_be_bytes());
    let h = mac.as_ref();
    let offset = (h[h.len() - 1] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[offset] & 0x7f, h[offset + 1], h[offset + 2], h[offset + 3]]);
    format!("{:0width$}", bin % 10u32.pow(digits), width = digits as usize)
}

/// Checks a 6-digit code, allowing one step of clock drift either way.
/// Returns the matched step so that callers can refuse its reuse.
pub fn verify(secret: &[u8], unix_time: i64, candidate: &str) -> Option<i64> {
    let candidate = candidate.trim();
    if candidate.len() != 6 || !candidate.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    (-1..=1).map(|d| unix_time + d * STEP).find_map(|t| {
        let expected = code(secret, t, 6);
        web::token::constant_time_eq(expected.as_bytes(), candidate.as_bytes()).then(|| t.div_euclid(STEP))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (8 digits).
    #[test]
    fn rfc_6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, expected) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(code(secret, t, 8), expected, "t={t}");
        }
    }

    #[test]
    fn verify_allows_one_step_of_drift_only() {
        let s = b"12345678901234567890";
        let now = 1_700_000_000;
        assert!(verify(s, now, &code(s, now, 6)).is_some());
        assert!(verify(s, now, &code(s, now - 30, 6)).is_some());
        assert!(verify(s, now, &code(s, now - 90, 6)).is_none());
        assert!(verify(s, now, "12345").is_none());
        assert!(verify(s, now, "abcdef").is_none());
    }
}
