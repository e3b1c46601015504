//! ERRORS.md lists every code the IdP can show, and nothing else.

use std::collections::BTreeSet;

fn codes(source: &str) -> BTreeSet<String> {
    source
        .lines()
        .filter_map(|l| l.split("=> \"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .filter(|c| c.starts_with("PCS"))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_code_is_documented_and_every_documented_code_exists() {
    let mut in_code = codes(include_str!("../src/error.rs"));
    in_code.extend(codes(include_str!("../src/claims.rs")));
    in_code.extend(codes(include_str!("../src/gallery.rs")));
    assert!(in_code.len() >= 30, "found only {} codes", in_code.len());
    let in_doc: BTreeSet<String> = include_str!("../ERRORS.md")
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect();
    assert_eq!(in_code, in_doc, "the code and ERRORS.md disagree");
}
