//! ERRORS.md documents every code the crate itself defines, and nothing else.

use std::collections::BTreeSet;

#[test]
fn every_error_code_is_documented_and_every_documented_code_exists() {
    let source = include_str!("../src/error.rs");
    let in_code: BTreeSet<&str> = source
        .lines()
        .filter_map(|l| l.split("=> \"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(in_code.len() >= 30, "found only {} codes in error.rs", in_code.len());
    let doc = include_str!("../ERRORS.md");
    let in_doc: BTreeSet<&str> =
        doc.lines().filter_map(|l| l.strip_prefix("| `")).filter_map(|rest| rest.split('`').next()).collect();
    assert_eq!(in_code, in_doc, "error.rs and ERRORS.md disagree");
}

#[test]
fn protocol_errors_keep_the_saml_crate_code() {
    let e: sp::Error = saml::Error::SignatureRequired("the Response".into()).into();
    assert_eq!(e.code(), "SIG_REQUIRED");
}
