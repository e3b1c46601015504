//! Untrusted bytes as an HTTP-POST form value: whitespace-tolerant base64,
//! bounded, UTF-8. A value that decodes must survive a round trip through the
//! auto-submit page we generate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use saml::bindings::{decode_post_value, post_form, MessageParam};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else { return };
    let Ok(xml) = decode_post_value(value) else { return };
    let page =
        post_form("https://sp.example.org/acs", MessageParam::Response, &xml, None).expect("post_form");
    let marker = "name=\"SAMLResponse\" value=\"";
    let start = page.find(marker).expect("hidden input") + marker.len();
    let end = start + page[start..].find('"').expect("closing quote");
    assert_eq!(decode_post_value(&page[start..end]).expect("our own base64"), xml);
});
