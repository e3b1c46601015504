//! Exclusive canonicalisation of untrusted XML must not panic, must produce
//! well-formed XML, and must be idempotent: canonicalising the parsed canonical
//! form gives the same bytes. Checked for the whole document (with and without
//! comments) and for one element's subtree (as a same-document reference
//! selects it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use saml::c14n::{canonicalize, C14nOptions};
use saml::xml::{parse, parse_bytes, Limits};

/// Canonical output may be larger than its input (escapes, namespace
/// declarations repeated where used), so the re-parse gets room for that.
const REPARSE: Limits =
    Limits { max_bytes: 64 << 20, max_depth: Limits::MESSAGE.max_depth, max_nodes: 1 << 22 };

fn check_idempotent(canonical: &[u8], opts: &C14nOptions, what: &str) {
    let text =
        std::str::from_utf8(canonical).unwrap_or_else(|_| panic!("{what}: canonical form is not UTF-8"));
    let doc = parse(text, &REPARSE)
        .unwrap_or_else(|e| panic!("{what}: canonical form does not parse: {e}\n{text}"));
    let again = canonicalize(doc.root(), opts);
    if again != canonical {
        panic!(
            "{what}: canonicalisation is not idempotent\nfirst:  {}\nsecond: {}",
            text,
            String::from_utf8_lossy(&again)
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = parse_bytes(data, &Limits::MESSAGE) else { return };
    let plain = C14nOptions::default();
    check_idempotent(&canonicalize(doc.root(), &plain), &plain, "document");
    let comments = C14nOptions { with_comments: true, ..C14nOptions::default() };
    check_idempotent(&canonicalize(doc.root(), &comments), &comments, "document with comments");
    // One element chosen by the input itself.
    let elements: Vec<_> = doc.descendants().filter(|n| n.is_element()).collect();
    if let Some(&element) = elements.get(data.len() % elements.len().max(1)) {
        check_idempotent(&canonicalize(element, &plain), &plain, "element subtree");
    }
});
