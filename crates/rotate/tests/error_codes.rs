//! ERRORS.md documents every error code the crate can return, and nothing else, and its
//! "changed?" column agrees with `may_have_changed()`.

use std::collections::BTreeMap;

use rotate::RotateError;

#[test]
fn every_error_code_is_documented_and_every_documented_code_exists() {
    let source = include_str!("../src/error.rs");
    let in_code: Vec<&str> = source
        .lines()
        .filter_map(|l| l.split("=> \"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(in_code.len() >= 13, "found only {} codes in error.rs", in_code.len());
    let doc = include_str!("../ERRORS.md");
    let in_doc: BTreeMap<&str, &str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|rest| {
            let mut cols = rest.split('|');
            let code = cols.next()?.trim().trim_end_matches('`');
            let _meaning = cols.next()?;
            Some((code, cols.next()?.trim()))
        })
        .collect();
    let code_set: std::collections::BTreeSet<&str> = in_code.iter().copied().collect();
    assert_eq!(code_set.len(), in_code.len(), "a code is used twice in error.rs");
    let doc_set: std::collections::BTreeSet<&str> = in_doc.keys().copied().collect();
    assert_eq!(code_set, doc_set, "error.rs and ERRORS.md disagree");
}

#[test]
fn may_have_changed_matches_the_documented_column() {
    let doc = include_str!("../ERRORS.md");
    let s = String::from;
    let samples = [
        RotateError::PolicyInvalid { reason: s("r") },
        RotateError::Randomness,
        RotateError::UnknownPlatform { platform: s("p") },
        RotateError::NotImplemented { platform: "p", what: "w" },
        RotateError::InvalidRequest { reason: s("r") },
        RotateError::Unreachable { host: s("h"), port: 1, detail: s("d") },
        RotateError::LoginRefused { host: s("h"), user: s("u"), which: "w" },
        RotateError::ChangeRefused { host: s("h"), account: s("a"), detail: s("d") },
        RotateError::OutcomeUnknown { host: s("h"), account: s("a"), detail: s("d") },
        RotateError::VerifyFailed { host: s("h"), account: s("a"), detail: s("d") },
        RotateError::Timeout { host: s("h"), stage: "s" },
        RotateError::Protocol { host: s("h"), detail: s("d") },
        RotateError::HostKeyChanged { host: s("h"), port: 22, expected: s("e"), got: s("g") },
    ];
    assert_eq!(samples.len(), include_str!("../src/error.rs").matches("=> \"PCR").count());
    for e in samples {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{}`", e.code())))
            .unwrap_or_else(|| panic!("{} not in ERRORS.md", e.code()));
        let changed = row.split('|').nth(3).unwrap_or("").trim();
        let want = if e.may_have_changed() { "yes" } else { "no" };
        assert_eq!(changed, want, "{}: ERRORS.md says {changed:?}", e.code());
        assert!(e.to_string().starts_with(&format!("{}: ", e.code())), "{e}");
    }
}
