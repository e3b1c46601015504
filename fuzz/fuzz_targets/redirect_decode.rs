//! Untrusted bytes as an HTTP-Redirect query string: percent-decoding, base64,
//! bounded raw DEFLATE, UTF-8, then the query-signature check against a fixed
//! certificate (pysaml2's known-answer certificate, so the seeds that carry its
//! signatures take the full verification path). A message that decodes must
//! re-encode and decode to the same XML and RelayState.
#![no_main]

use libfuzzer_sys::fuzz_target;
use saml::bindings::{decode_query, redirect_query, MAX_MESSAGE_BYTES, MAX_RELAY_STATE_BYTES};
use saml::crypto::Certificate;
use std::sync::OnceLock;

fn certs() -> &'static [Certificate] {
    static CERT: OnceLock<Vec<Certificate>> = OnceLock::new();
    CERT.get_or_init(|| {
        let pem = include_bytes!("../../crates/saml/tests/data/redirect/pysaml2_cert.pem");
        vec![Certificate::load(pem).expect("fixed certificate")]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    let Ok(message) = decode_query(query) else { return };
    assert!(message.xml().len() <= MAX_MESSAGE_BYTES);
    let strict = message.verify_signature(certs(), false);
    let lax = message.verify_signature(certs(), true);
    // Allowing SHA-1 can only turn an SHA-1 refusal into another outcome.
    if strict.is_ok() {
        assert_eq!(strict, lax);
    }
    if message.relay_state().is_none_or(|rs| rs.len() <= MAX_RELAY_STATE_BYTES) {
        let again = redirect_query(message.param(), message.xml(), message.relay_state(), None)
            .expect("re-encoding a decoded message");
        let decoded = decode_query(&again).expect("decoding our own encoding");
        assert_eq!(decoded.xml(), message.xml());
        assert_eq!(decoded.relay_state(), message.relay_state());
        assert_eq!(decoded.param(), message.param());
    }
});
