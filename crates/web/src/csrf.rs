//! Cross-site request forgery protection for HTML forms.
//!
//! Two kinds, for two situations:
//! - **double-submit** before anyone is signed in (sign-in and setup forms): a random token in a
//!   cookie and the same token in a hidden field; another site can make the browser send the
//!   cookie but cannot read it to fill the field;
//! - **session-bound** once a session exists: the token is derived from the session cookie's
//!   secret, which only this browser holds (HttpOnly), so nothing else needs storing.
//!
//! Both are compared in constant time, and an empty token never matches.

use crate::token::{constant_time_eq, sha256_hex};

/// The name of the hidden form field that carries the token.
pub const FIELD: &str = "csrf";

/// Double-submit check: the form field must equal the cookie, both present and non-empty.
pub fn double_submit_ok(cookie: Option<&str>, field: Option<&str>) -> bool {
    match (cookie, field) {
        (Some(c), Some(f)) if !c.is_empty() => constant_time_eq(c.as_bytes(), f.as_bytes()),
        _ => false,
    }
}

/// The CSRF token of the forms of the session whose cookie value is `session_secret`.
pub fn session_token(session_secret: &str) -> String {
    sha256_hex(format!("csrf:{session_secret}"))
}

/// Whether `field` is the CSRF token of the session `session_secret`.
pub fn session_token_ok(session_secret: &str, field: Option<&str>) -> bool {
    match field {
        Some(f) if !session_secret.is_empty() && !f.is_empty() => {
            constant_time_eq(session_token(session_secret).as_bytes(), f.as_bytes())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_submit_requires_both_and_equal() {
        assert!(double_submit_ok(Some("abc"), Some("abc")));
        assert!(!double_submit_ok(Some("abc"), Some("abd")));
        assert!(!double_submit_ok(None, Some("abc")));
        assert!(!double_submit_ok(Some("abc"), None));
        assert!(!double_submit_ok(Some(""), Some("")));
    }

    #[test]
    fn session_tokens_are_bound_to_their_session() {
        let t = session_token("secret-1");
        assert_eq!(t.len(), 64);
        assert!(session_token_ok("secret-1", Some(&t)));
        assert!(!session_token_ok("secret-2", Some(&t)));
        assert!(!session_token_ok("secret-1", None));
        assert!(!session_token_ok("", Some(&session_token(""))));
        assert_ne!(t, sha256_hex("secret-1"), "the token is not the session's stored hash");
    }
}
