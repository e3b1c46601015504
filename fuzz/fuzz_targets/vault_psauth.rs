//! Untrusted `Authorization: PS-Auth key=…; runas=…; pwd=[…];` header values, as Password
//! Safe API clients send them: parsing never panics, and a parsed header's Debug output never
//! shows the key or the password.
//!
//! The parser module is included by path rather than through the vault crate, so that fuzzing it
//! does not build sqlx, axum and russh with sanitizers (it depends only on std and zeroize).
#![no_main]

#[path = "../../crates/vault/src/psauth.rs"]
#[allow(dead_code)]
mod psauth;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else { return };
    if let Ok(auth) = psauth::parse(header) {
        // Exactly the redacted form: only `runas` is shown as parsed.
        let expected = format!(
            "PsAuth {{ key: \"<redacted>\", runas: {:?}, pwd: {:?} }}",
            auth.runas,
            auth.pwd.as_ref().map(|_| "<redacted>")
        );
        assert_eq!(format!("{auth:?}"), expected, "Debug must not show the key or the password");
    }
});
