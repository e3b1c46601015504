//! ERRORS.md documents every error code the broker can report, each with its class, and
//! nothing else; every message ends with something to do, and none holds a secret.

use std::collections::BTreeMap;

use broker::BrokerError;

/// One of each variant. The match below makes a new variant a compile error here until it is
/// added to this list (and so to the table).
fn every_error() -> Vec<BrokerError> {
    let s = || "x".to_string();
    let all = vec![
        BrokerError::Config(s()),
        BrokerError::UserMapping { input: s(), why: s() },
        BrokerError::KeyRefused { detail: s() },
        BrokerError::Unreachable { url: s(), detail: s() },
        BrokerError::Timeout { url: s(), seconds: 1 },
        BrokerError::UntrustedCertificate { url: s(), detail: s() },
        BrokerError::TlsFailure { url: s(), detail: s() },
        BrokerError::NotARequester { vault_user: s() },
        BrokerError::IpRuleRefused { detail: s() },
        BrokerError::AccountNotRequestable { vault_user: s(), account_id: 1, detail: s() },
        BrokerError::ApprovalRequired { request_id: 1, detail: s() },
        BrokerError::UnknownCredential { id: s() },
        BrokerError::InvalidJumpItem { why: s() },
        BrokerError::VaultAnswer { what: s(), status: 500, detail: s() },
        BrokerError::ConsoleRefused { detail: s() },
        BrokerError::ConsoleUnreachable { url: s(), detail: s() },
        BrokerError::ConsoleProtocol { detail: s() },
    ];
    for e in &all {
        match e {
            BrokerError::Config(_)
            | BrokerError::UserMapping { .. }
            | BrokerError::KeyRefused { .. }
            | BrokerError::Unreachable { .. }
            | BrokerError::Timeout { .. }
            | BrokerError::UntrustedCertificate { .. }
            | BrokerError::TlsFailure { .. }
            | BrokerError::NotARequester { .. }
            | BrokerError::IpRuleRefused { .. }
            | BrokerError::AccountNotRequestable { .. }
            | BrokerError::ApprovalRequired { .. }
            | BrokerError::UnknownCredential { .. }
            | BrokerError::InvalidJumpItem { .. }
            | BrokerError::VaultAnswer { .. }
            | BrokerError::ConsoleRefused { .. }
            | BrokerError::ConsoleUnreachable { .. }
            | BrokerError::ConsoleProtocol { .. } => {}
        }
    }
    all
}

/// code -> class, from the table.
fn table() -> BTreeMap<String, String> {
    include_str!("../ERRORS.md")
        .lines()
        .filter(|l| l.starts_with("| `PCB"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_string(), cells[2].to_string())
        })
        .collect()
}

#[test]
fn errors_md_and_the_code_agree() {
    let doc = table();
    let mut code = BTreeMap::new();
    for e in every_error() {
        assert!(
            code.insert(e.code().to_string(), e.class().as_str().to_string()).is_none(),
            "{} twice",
            e.code()
        );
    }
    assert_eq!(code, doc, "error.rs and ERRORS.md disagree (code -> class)");
}

#[test]
fn every_message_says_what_to_do() {
    for e in every_error() {
        let m = e.to_string();
        assert!(m.contains(':') && m.len() > 40, "{}: {m}", e.code());
    }
}
