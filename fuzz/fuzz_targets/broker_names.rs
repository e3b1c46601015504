//! Untrusted console usernames (`joe.user`, `ACME\joe.user`, `joe.user@acme-inc.com`) and LDAP
//! distinguished names, as a console's security provider sends them to the credential broker:
//! parsing never panics, and what parses has no empty name, domain or DN value.
//!
//! The parser modules are included by path rather than through the broker crate, so that fuzzing
//! them does not build reqwest, rustls and tungstenite with sanitizers (they depend on std only).
#![no_main]

#[path = "../../crates/broker/src/names.rs"]
#[allow(dead_code)]
mod names;

#[path = "../../crates/broker/src/dn.rs"]
#[allow(dead_code)]
mod dn;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(u) = names::parse(text) {
        assert!(!u.name.is_empty(), "a parsed username has a name");
        assert!(u.domain.as_deref().is_none_or(|d| !d.is_empty()), "a parsed domain is not empty");
    }
    if let Ok(d) = dn::parse(text) {
        assert!(!d.attributes.is_empty(), "a parsed DN has an attribute");
        assert!(d.attributes.iter().all(|(t, v)| !t.is_empty() && !v.is_empty()), "no empty type or value");
    }
});
