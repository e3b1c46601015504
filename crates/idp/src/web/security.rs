//! Session tokens, CSRF protection and sign-in throttling.

use crate::service::Idp;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use store::throttle::LockoutPolicy;

/// 32 random bytes, base64url: session cookies, CSRF tokens, session indexes.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator failed");
    B64URL.encode(bytes)
}

/// What the store keeps for a session cookie value: its SHA-256, hex. A leaked
/// database therefore holds no usable session.
pub fn session_hash(cookie_value: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cookie_value.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Double-submit CSRF check: the form field must equal the cookie, compared in
/// constant time, and both must be present.
pub fn csrf_ok(cookie: Option<&str>, field: Option<&str>) -> bool {
    match (cookie, field) {
        (Some(c), Some(f)) if !c.is_empty() => {
            aws_lc_rs::constant_time::verify_slices_are_equal(c.as_bytes(), f.as_bytes()).is_ok()
        }
        _ => false,
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when served over https.
pub fn cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// Reads one cookie from a `Cookie` header.
pub fn read_cookie<'h>(header: Option<&'h str>, name: &str) -> Option<&'h str> {
    header?.split(';').map(str::trim).find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

/// Throttles password guessing per account: after 5 failures in a row, each further failure
/// locks the account for twice as long as the last (from 30 s up to 15 min). Success clears the
/// count. Kept in the store, so every node of a cluster counts the same failures.
pub const LOCKOUT: LockoutPolicy =
    LockoutPolicy { free_attempts: 5, first_lock_seconds: 30, max_lock_seconds: 900 };

impl Idp {
    /// Seconds left on a lock for `key`, if locked. A store error is logged and counts as
    /// locked for a minute (fail closed: a throttle that a broken database turns off is none).
    pub async fn locked_for(&self, key: &str) -> Option<u64> {
        let now = crate::service::now();
        match self.store.locked_until(key, now).await {
            Ok(until) => until.map(|u| u64::try_from(u - now).unwrap_or(1).max(1)),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the sign-in throttle");
                Some(60)
            }
        }
    }

    /// Records a failed attempt for `key`.
    pub async fn sign_in_failed(&self, key: &str) {
        if let Err(e) = self.store.record_failed_sign_in(key, crate::service::now(), &LOCKOUT).await {
            tracing::error!(error = %e, "cannot record a failed sign-in in the throttle");
        }
    }

    /// Clears the failures of `key` after a successful sign-in.
    pub async fn sign_in_succeeded(&self, key: &str) {
        if let Err(e) = self.store.clear_failed_sign_ins(key).await {
            tracing::error!(error = %e, "cannot clear the sign-in throttle");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_requires_both_and_equal() {
        assert!(csrf_ok(Some("abc"), Some("abc")));
        assert!(!csrf_ok(Some("abc"), Some("abd")));
        assert!(!csrf_ok(None, Some("abc")));
        assert!(!csrf_ok(Some(""), Some("")));
    }

    #[test]
    fn cookies_read_and_write() {
        assert_eq!(read_cookie(Some("a=1; pcs_session=xyz; b=2"), "pcs_session"), Some("xyz"));
        assert_eq!(read_cookie(Some("pcs_sessionx=1"), "pcs_session"), None);
        let c = cookie("s", "v", true, Some(60));
        assert!(
            c.contains("HttpOnly")
                && c.contains("SameSite=Lax")
                && c.contains("Secure")
                && c.contains("Max-Age=60")
        );
    }

    #[test]
    fn lockout_starts_after_free_attempts_and_doubles_to_the_cap() {
        assert_eq!(LOCKOUT.lock_seconds(4), None);
        assert_eq!(LOCKOUT.lock_seconds(5), Some(30));
        assert_eq!(LOCKOUT.lock_seconds(6), Some(60));
        assert_eq!(LOCKOUT.lock_seconds(10), Some(900));
        assert_eq!(LOCKOUT.lock_seconds(u32::MAX), Some(900));
        assert_ne!(random_token(), random_token());
        assert_eq!(session_hash("x").len(), 64);
    }
}
