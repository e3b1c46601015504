//! Session tokens, CSRF protection and sign-in throttling.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// Throttles password guessing per account: after `FREE_ATTEMPTS` failures in a
/// row, each further failure locks the account for twice as long as the last
/// (from 30 s up to 15 min). Success clears the count. Kept in memory, per
/// node: a cluster lets an attacker try `nodes` times faster, which the
/// doubling makes irrelevant.
#[derive(Default)]
pub struct Lockout {
    state: Mutex<HashMap<String, (u32, Option<Instant>)>>,
}

const FREE_ATTEMPTS: u32 = 5;
const FIRST_LOCK: Duration = Duration::from_secs(30);
const MAX_LOCK: Duration = Duration::from_secs(900);

impl Lockout {
    /// Seconds left on a lock for `key`, if locked.
    pub fn locked_for(&self, key: &str) -> Option<u64> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (_, until) = state.get(key)?;
        let until = (*until)?;
        let now = Instant::now();
        (until > now).then(|| (until - now).as_secs().max(1))
    }

    /// Records a failure.
    pub fn failed(&self, key: &str) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let entry = state.entry(key.to_string()).or_insert((0, None));
        entry.0 += 1;
        if entry.0 >= FREE_ATTEMPTS {
            let doublings = (entry.0 - FREE_ATTEMPTS).min(10);
            let lock = (FIRST_LOCK * 2u32.pow(doublings)).min(MAX_LOCK);
            entry.1 = Some(Instant::now() + lock);
        }
    }

    /// Records a success.
    pub fn succeeded(&self, key: &str) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
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
    fn lockout_starts_after_free_attempts_and_success_clears() {
        let l = Lockout::default();
        for _ in 0..FREE_ATTEMPTS - 1 {
            l.failed("u");
        }
        assert_eq!(l.locked_for("u"), None);
        l.failed("u");
        assert!(l.locked_for("u").unwrap() >= 29);
        l.succeeded("u");
        assert_eq!(l.locked_for("u"), None);
        assert_ne!(random_token(), random_token());
        assert_eq!(session_hash("x").len(), 64);
    }
}
