//! The SP's ACS input end to end: posted bytes (base64, form body or XML) through
//! decoding, parsing, signature verification, decryption and every validation
//! rule, with the test IdP's metadata and the SP's decryption key of the SP
//! corpus. Must never panic; whatever it accepts must have come with a
//! signature and carry a non-empty NameID. Seeds are corpus cases, so mutations
//! start from responses that validate (at the corpus's fixed instant).
#![no_main]

use libfuzzer_sys::fuzz_target;
use saml::FixedClock;
use sp::{decode_response_input, validate_response, DecryptionKey, IdpTrust, SpConfig};
use std::sync::OnceLock;

fn config() -> &'static SpConfig {
    static CFG: OnceLock<SpConfig> = OnceLock::new();
    CFG.get_or_init(|| {
        let md = include_str!("../../crates/sp/tests/corpus/keys/idp-metadata.xml");
        let idp = IdpTrust::from_metadata(md, None).expect("fixed metadata");
        let mut cfg = SpConfig::new("https://sp.example.com", "https://sp.example.com/acs", idp);
        cfg.decryption_key = Some(
            DecryptionKey::load(include_bytes!("../../crates/sp/tests/corpus/keys/sp.key"))
                .expect("fixed key"),
        );
        cfg
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(now) = saml::clock::parse_time("now", "2030-01-01T00:01:00Z") else { return };
    let clock = FixedClock(now);
    let Ok(xml) = decode_response_input(data) else { return };
    if let Ok(login) = validate_response(&xml, config(), Some("_req1"), &clock) {
        assert!(login.response_signed || login.assertion_signed);
        assert!(!login.name_id.is_empty());
    }
});
