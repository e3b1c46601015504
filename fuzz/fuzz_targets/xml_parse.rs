//! Untrusted bytes through the XML front door (size, depth, DTD and duplicate-ID
//! limits), then read as a SAML protocol message. A message that reads must
//! serialise to XML that reads back as the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use saml::xml::{parse_bytes, Limits};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = parse_bytes(data, &Limits::MESSAGE) else { return };
    // parse_bytes succeeded, so the input is UTF-8.
    let text = doc.input_text();
    let Ok(message) = saml::model::parse_message(text) else { return };
    let xml = message.to_xml();
    let again = saml::model::parse_message(&xml)
        .unwrap_or_else(|e| panic!("a message we wrote does not read back: {e}\n{xml}"));
    assert_eq!(again, message, "a message changed through to_xml and back");
});
