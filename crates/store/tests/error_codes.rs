//! ERRORS.md documents every code `StoreError` has, and nothing else.

use std::collections::BTreeSet;

use store::StoreError;

fn documented() -> BTreeSet<String> {
    include_str!("../ERRORS.md")
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_error_code_is_documented_and_every_documented_code_exists() {
    let in_code: Vec<&str> = include_str!("../src/error.rs")
        .lines()
        .filter_map(|l| l.split("=> \"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .filter(|c| c.starts_with("STORE_"))
        .collect();
    let code_set: BTreeSet<String> = in_code.iter().map(|c| c.to_string()).collect();
    assert_eq!(code_set.len(), in_code.len(), "a code is used twice in error.rs");
    assert_eq!(code_set, documented(), "error.rs and ERRORS.md disagree");
}

#[test]
fn every_variant_answers_a_documented_code() {
    let s = String::from;
    let samples = [
        StoreError::not_found("x"),
        StoreError::conflict("x"),
        StoreError::Database(s("x")),
        StoreError::Sealed(s("x")),
    ];
    let doc = documented();
    assert_eq!(samples.len(), doc.len(), "a variant is missing from the samples");
    for e in samples {
        assert!(doc.contains(e.code()), "{} is not in ERRORS.md", e.code());
    }
}
