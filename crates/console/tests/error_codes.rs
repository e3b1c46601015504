//! ERRORS.md documents every error code the crate can return, and nothing else; every message
//! starts with its code.

use std::collections::BTreeSet;

use console::ConsoleError;

fn codes_in_source() -> Vec<&'static str> {
    include_str!("../src/error.rs")
        .lines()
        .filter_map(|l| l.split("=> \"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

#[test]
fn every_error_code_is_documented_and_every_documented_code_exists() {
    let in_code = codes_in_source();
    assert!(in_code.len() >= 24, "found only {} codes in error.rs", in_code.len());
    let code_set: BTreeSet<&str> = in_code.iter().copied().collect();
    assert_eq!(code_set.len(), in_code.len(), "a code is used twice in error.rs");
    let in_doc: Vec<&str> = include_str!("../ERRORS.md")
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .collect();
    let doc_set: BTreeSet<&str> = in_doc.iter().copied().collect();
    assert_eq!(doc_set.len(), in_doc.len(), "a code is documented twice");
    assert_eq!(code_set, doc_set, "error.rs and ERRORS.md disagree");
}

#[test]
fn every_message_starts_with_its_code() {
    let s = String::from;
    let samples = [
        ConsoleError::InvalidRequest { reason: s("r") },
        ConsoleError::InvalidCredential { user: s("u"), reason: "r" },
        ConsoleError::Unreachable { host: s("h"), port: 22, detail: s("d") },
        ConsoleError::Timeout { host: s("h"), port: 22, stage: "s" },
        ConsoleError::HostKeyChanged {
            jump_item: s("j"),
            host: s("h"),
            port: 22,
            pinned: s("p"),
            offered: s("o"),
        },
        ConsoleError::HostKeyStore { detail: s("d") },
        ConsoleError::AuthRefused { host: s("h"), port: 22, user: s("u"), method: "password" },
        ConsoleError::ChannelRefused { host: s("h"), port: 22, what: "a shell" },
        ConsoleError::SessionFailed { host: s("h"), port: 22, detail: s("d") },
        ConsoleError::RecordingWrite { detail: s("d") },
        ConsoleError::RecordingInvalid { line: 1, reason: s("r") },
        ConsoleError::UnknownSession { id: s("i") },
        ConsoleError::BadMessage { reason: s("r") },
        ConsoleError::OriginRefused { origin: s("o") },
        ConsoleError::Storage { detail: s("d") },
        ConsoleError::NotFound { what: s("w") },
        ConsoleError::Conflict { what: s("w") },
        ConsoleError::InvalidInput { reason: s("r") },
        ConsoleError::TokenRequest { reason: s("r") },
        ConsoleError::ClientAuth,
        ConsoleError::UnsupportedGrant { grant: s("password") },
        ConsoleError::InvalidScope,
        ConsoleError::Unauthenticated { reason: "r" },
        ConsoleError::Forbidden { account: s("a"), needed: "n" },
    ];
    assert_eq!(samples.len(), codes_in_source().len(), "a sample per code");
    let codes: BTreeSet<&str> = samples.iter().map(|e| e.code()).collect();
    assert_eq!(codes.len(), samples.len());
    for e in samples {
        assert!(e.to_string().starts_with(&format!("{}: ", e.code())), "{e}");
    }
}
