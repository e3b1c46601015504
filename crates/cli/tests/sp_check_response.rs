//! `portcullis sp check-response` as people and the acceptance checks run it: every
//! case of the SP corpus (crates/sp/tests/corpus) and every third-party fixture
//! through the real binary, with the exact options each manifest row gives, the
//! JSON contract on stdout and the exit codes (0 valid, 1 invalid, 2 usage).

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{describe, PORTCULLIS};

fn portcullis() -> Command {
    Command::new(PORTCULLIS)
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sp/tests/corpus")
}

/// Runs check-response and returns (exit code, the JSON printed on stdout).
fn check(dir: &Path, args: &[&str], file: &str) -> (i32, Value, Output) {
    let out =
        portcullis().current_dir(dir).args(["sp", "check-response"]).args(args).arg(file).output().unwrap();
    let code = out.status.code().expect("exit code");
    let json = if code == 2 {
        Value::Null
    } else {
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", describe(&out)))
    };
    (code, json, out)
}

#[test]
fn every_sp_corpus_case_gives_its_verdict_through_the_binary() {
    let dir = corpus();
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for line in manifest.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let (file, expect, detail, args) = (f[0], f[1], f[2], f[3]);
        let args: Vec<&str> = args.split_whitespace().collect();
        let (code, json, out) = check(&dir, &args, file);
        n += 1;
        let ok = match expect {
            "accept" => code == 0 && json["valid"] == true && json["name_id"] == detail,
            _ => code == 1 && json["valid"] == false && json["code"] == detail && json["message"].is_string(),
        };
        if !ok {
            failures.push(format!("{file}: expected {expect} {detail}; {}", describe(&out)));
        }
    }
    assert!(n >= 60, "only {n} corpus cases");
    assert!(failures.is_empty(), "{} of {n} cases disagree:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn an_accepted_response_prints_the_whole_json_contract() {
    let dir = corpus();
    let base = [
        "--idp-metadata",
        "keys/idp-metadata.xml",
        "--sp-entity-id",
        "https://sp.example.com",
        "--acs-url",
        "https://sp.example.com/acs",
        "--request-id",
        "_req1",
        "--now",
        "2030-01-01T00:01:00Z",
    ];
    let (code, json, out) = check(&dir, &base, "cases/valid-post-base64-wrapped.b64");
    assert_eq!(code, 0, "{}", describe(&out));
    assert_eq!(
        json,
        serde_json::json!({
            "valid": true,
            "name_id": "alice@example.com",
            "name_id_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "attributes": {
                "Email": ["alice@example.com"],
                "Groups": ["0b1c6e2a-7d3f-4a8e-9f00-1a2b3c4d5e6f", "5f4e3d2c-1b0a-4f9e-8d7c-6b5a49382716"]
            },
            "session_not_on_or_after": "2030-01-01T08:00:00Z"
        })
    );
    // The IdP's status and message are surfaced.
    let (code, json, out) = check(&dir, &base, "cases/status-authn-failed.xml");
    assert_eq!(code, 1, "{}", describe(&out));
    assert_eq!(json["code"], "SP_STATUS_NOT_SUCCESS");
    let message = json["message"].as_str().unwrap();
    assert!(message.contains("AuthnFailed") && message.contains("Account locked out"), "{message}");
}

/// Issue 14 item 10: a Response that answers a request, checked without `--request-id`, is
/// refused as answering no outstanding request, and the verdict says to pass `--request-id`
/// with the request's ID.
#[test]
fn no_outstanding_request_suggests_request_id() {
    let dir = corpus();
    let args = [
        "--idp-metadata",
        "keys/idp-metadata.xml",
        "--sp-entity-id",
        "https://sp.example.com",
        "--acs-url",
        "https://sp.example.com/acs",
        "--now",
        "2030-01-01T00:01:00Z",
    ];
    let (code, json, out) = check(&dir, &args, "cases/valid-post-base64-wrapped.b64");
    assert_eq!(code, 1, "{}", describe(&out));
    assert_eq!(json["code"], "SP_IN_RESPONSE_TO_UNKNOWN", "{json}");
    let hint = json["hint"].as_str().unwrap_or_else(|| panic!("a hint: {json}"));
    assert!(hint.contains("--request-id _req1"), "{hint}");
    // With the request's ID it is accepted; other refusals carry no hint.
    let with = [&args[..], &["--request-id", "_req1"]].concat();
    assert_eq!(check(&dir, &with, "cases/valid-post-base64-wrapped.b64").0, 0);
    let (_, json, _) = check(&dir, &with, "cases/status-authn-failed.xml");
    assert_eq!(json.get("hint"), None, "{json}");
}

#[test]
fn usage_errors_exit_2_with_the_reason_on_stderr() {
    let dir = corpus();
    let args = ["--sp-entity-id", "https://sp.example.com", "--acs-url", "https://sp.example.com/acs"];
    let (code, _, out) = check(
        &dir,
        &[&["--idp-metadata", "keys/idp-metadata.xml"], &args[..]].concat(),
        "cases/no-such-file.xml",
    );
    assert_eq!(code, 2, "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-file.xml"), "{}", describe(&out));
    assert!(out.stdout.is_empty());
    // The SP's certificate is no IdP metadata.
    let (code, _, out) =
        check(&dir, &[&["--idp-metadata", "keys/sp.crt"], &args[..]].concat(), "cases/unsigned.xml");
    assert_eq!(code, 2, "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--idp-metadata"), "{}", describe(&out));
    let (code, _, out) = check(
        &dir,
        &[&["--idp-metadata", "keys/idp-metadata.xml", "--now", "yesterday"], &args[..]].concat(),
        "cases/unsigned.xml",
    );
    assert_eq!(code, 2, "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RFC 3339"), "{}", describe(&out));
}

#[test]
fn help_documents_the_default_want_and_why() {
    let out = portcullis().args(["sp", "check-response", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in ["--want", "default: either", "4.1.3.5", "--sp-key", "--allow-unsolicited", "exits 1"] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}

/// IdP metadata for one entity and certificate (the third-party manifest gives those).
fn metadata(entity: &str, cert: &saml::crypto::Certificate) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.invalid/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#,
        saml::xml::escape_attr(entity),
        cert.to_base64()
    )
}

/// The third-party fixtures through the binary: the same verdicts as the library
/// test (crates/sp/tests/third_party.rs), including the pinned `policy` ones.
#[test]
fn every_third_party_fixture_gets_its_verdict_through_the_binary() {
    let dir = corpus().join("third-party");
    let tmp = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).unwrap();
    let mut failures = Vec::new();
    for (i, line) in manifest.lines().skip(1).filter(|l| !l.trim().is_empty()).enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        let (file, expected, nameid, cert, now, sp_entity, acs, idp_entity, request_id, key) =
            (f[0], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]);
        let cert = saml::crypto::Certificate::load(&std::fs::read(dir.join(cert)).unwrap()).unwrap();
        let md = tmp.path().join(format!("md{i}.xml"));
        std::fs::write(&md, metadata(idp_entity, &cert)).unwrap();
        let md = md.to_string_lossy().to_string();
        let mut args = vec![
            "--idp-metadata",
            &md,
            "--sp-entity-id",
            sp_entity,
            "--acs-url",
            acs,
            "--now",
            now,
            "--allow-sha1",
        ];
        if request_id.is_empty() {
            args.push("--allow-unsolicited");
        } else {
            args.extend(["--request-id", request_id]);
        }
        let mut with_key = args.clone();
        if !key.is_empty() {
            with_key.extend(["--sp-key", key]);
        }
        let (mut code, mut json, mut out) = check(&dir, &with_key, file);
        if code == 2 && !key.is_empty() {
            // A 1024-bit SP key is refused as configuration; without it the case must still be rejected.
            assert!(String::from_utf8_lossy(&out.stderr).contains("2048"), "{file}: {}", describe(&out));
            (code, json, out) = check(&dir, &args, file);
        }
        let accepted = code == 0 && json["valid"] == true;
        let ok = match expected {
            "accept" => accepted && json["name_id"] == nameid,
            "reject" => code == 1,
            "accept-fulltext" => (accepted && json["name_id"] == nameid) || code == 1,
            // Pinned like the library test: only duplicated attribute names are accepted.
            _ => {
                if file.ends_with("invalid/duplicated_attributes.xml") {
                    accepted && json["name_id"] == nameid
                } else {
                    code == 1
                }
            }
        };
        if !ok {
            failures.push(format!("{file}: expected {expected}; {}", describe(&out)));
        }
    }
    assert!(failures.is_empty(), "{} fixtures disagree:\n{}", failures.len(), failures.join("\n"));
}
