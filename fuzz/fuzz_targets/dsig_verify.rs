//! Untrusted XML through signature verification with a fixed trusted
//! certificate: must never panic, and whatever it reports as verified must be an
//! element of the document carrying the ID it reports. The seeds are documents
//! that signxml signed with the key of fuzz/dsig_seed_cert.pem, so mutations
//! start from signatures that verify.
#![no_main]

use libfuzzer_sys::fuzz_target;
use saml::crypto::Certificate;
use saml::dsig::{verify, VerifyOptions};
use saml::xml::{parse_bytes, Limits};
use std::sync::OnceLock;

fn certs() -> &'static [Certificate] {
    static CERT: OnceLock<Vec<Certificate>> = OnceLock::new();
    CERT.get_or_init(|| {
        vec![Certificate::load(include_bytes!("../dsig_seed_cert.pem")).expect("fixed certificate")]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = parse_bytes(data, &Limits::MESSAGE) else { return };
    let Ok(verified) = verify(&doc, &VerifyOptions { certs: certs(), allow_sha1: true }) else { return };
    for v in verified {
        assert!(v.element.is_element());
        assert_eq!(saml::xml::id_of(v.element), Some(v.id.as_str()));
        assert!(v.cert_index < certs().len());
    }
});
