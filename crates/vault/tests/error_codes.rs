//! ERRORS.md documents every error code the vault can answer, and nothing else, with the HTTP
//! status the API really answers for it; every message starts with its code.

use std::collections::BTreeMap;

use vault::VaultError;

/// `code → HTTP status` as ERRORS.md's table says.
fn documented() -> BTreeMap<String, u16> {
    include_str!("../ERRORS.md")
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|rest| {
            let mut cols = rest.split('|');
            let code = cols.next()?.trim().trim_end_matches('`').to_string();
            let status = cols.next()?.trim().parse().ok()?;
            Some((code, status))
        })
        .collect()
}

#[test]
fn every_error_code_is_documented_and_every_documented_code_exists() {
    let in_code: Vec<&str> = include_str!("../src/error.rs")
        .lines()
        .filter_map(|l| l.split("=> \"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .filter(|c| c.starts_with("PCV"))
        .collect();
    let code_set: std::collections::BTreeSet<&str> = in_code.iter().copied().collect();
    assert_eq!(code_set.len(), in_code.len(), "a code is used twice in error.rs");
    let doc = documented();
    let doc_set: std::collections::BTreeSet<&str> = doc.keys().map(String::as_str).collect();
    assert_eq!(code_set, doc_set, "error.rs and ERRORS.md disagree");
}

#[test]
fn the_documented_status_is_the_one_answered() {
    let s = String::from;
    let samples = [
        VaultError::NotFound(s("x")),
        VaultError::Invalid(s("x")),
        VaultError::Conflict(s("x")),
        VaultError::Forbidden(s("x")),
        VaultError::Unauthorized(s("x")),
        VaultError::Store(store::StoreError::Database(s("x"))),
        VaultError::Rotation(s("x")),
        VaultError::RequestState(s("x")),
        VaultError::NotRotatable(s("x")),
        VaultError::NotApiEnabled(s("x")),
        VaultError::System(s("x")),
    ];
    let doc = documented();
    assert_eq!(samples.len(), doc.len(), "a variant is missing from the samples");
    for e in samples {
        assert_eq!(doc.get(e.code()), Some(&e.http_status()), "{}: ERRORS.md's status", e.code());
        assert_eq!(e.to_string(), format!("{}: x", e.code()), "the message starts with the code");
    }
}
