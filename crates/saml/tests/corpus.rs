//! The hostile and valid message corpus under tests/corpus/ (see its README):
//! every case goes through the binding decoder its kind names and then
//! `read_signed_response`, and must give exactly the verdict and error code the
//! manifest records. Regenerate the generated part with
//! `cargo run -p portcullis-saml --example gen_corpus`.

use saml::bindings::{post, redirect};
use saml::crypto::Certificate;
use saml::signed::{read_signed_response, Want};
use saml::xml::{self, Limits};
use std::path::Path;

struct Row {
    file: String,
    kind: String,
    cert: String,
    want: Want,
    allow_sha1: bool,
    expect: String,
    detail: String,
    description: String,
}

fn manifest(dir: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(dir.join("manifest.tsv")).expect("manifest.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 8, "manifest line has {} columns: {line}", f.len());
            Row {
                file: f[0].into(),
                kind: f[1].into(),
                cert: f[2].into(),
                want: match f[3] {
                    "signed-response" => Want::SignedResponse,
                    "signed-assertion" => Want::SignedAssertion,
                    "both" => Want::Both,
                    "either" => Want::Either,
                    other => panic!("unknown want {other}"),
                },
                allow_sha1: f[4] == "true",
                expect: f[5].into(),
                detail: f[6].into(),
                description: f[7].into(),
            }
        })
        .collect()
}

/// Runs one case the way an SP's ACS would receive it; returns the NameID.
fn run(dir: &Path, row: &Row) -> saml::Result<String> {
    let bytes = std::fs::read(dir.join(&row.file)).expect("case file");
    let cert = Certificate::load(&std::fs::read(dir.join(&row.cert)).expect("cert")).expect("cert parses");
    let xml_text = match row.kind.as_str() {
        "xml" => {
            xml::parse_bytes(&bytes, &Limits::MESSAGE)?;
            String::from_utf8(bytes).expect("checked above")
        }
        "post" => post::decode_post_value(std::str::from_utf8(&bytes).expect("post cases are ASCII"))?,
        "redirect" => {
            redirect::decode_query(std::str::from_utf8(&bytes).expect("query cases are ASCII"))?.into_xml()
        }
        other => panic!("unknown kind {other}"),
    };
    let r = read_signed_response(&xml_text, &[cert], row.want, row.allow_sha1)?;
    let assertion = r.assertion.expect("an accepted success Response has an assertion");
    Ok(assertion.name_id().map(|n| n.value.clone()).unwrap_or_default())
}

#[test]
fn every_corpus_case_gets_its_recorded_verdict() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let rows = manifest(&dir);
    let rejected = rows.iter().filter(|r| r.expect == "reject").count();
    assert!(rejected >= 40, "the corpus must hold at least 40 hostile cases, has {rejected}");
    let mut failures = Vec::new();
    for row in &rows {
        let outcome = run(&dir, row);
        let ok = match (row.expect.as_str(), &outcome) {
            ("accept", Ok(name_id)) => name_id == &row.detail,
            ("reject", Err(e)) => e.code() == row.detail,
            _ => false,
        };
        if !ok {
            let got = match &outcome {
                Ok(n) => format!("accepted with NameID {n:?}"),
                Err(e) => format!("rejected with {}: {e}", e.code()),
            };
            failures.push(format!(
                "{} ({}): expected {} {}, got {got}",
                row.file, row.description, row.expect, row.detail
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    eprintln!("{} corpus cases ({rejected} hostile) gave their recorded verdicts", rows.len());
}

/// Oversized input is synthesised rather than committed (it is over 1 MiB): as XML
/// and as an HTTP-POST value, it is refused before parsing.
#[test]
fn oversized_messages_are_refused_before_parsing() {
    use base64::Engine as _;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let cert = Certificate::load(&std::fs::read(dir.join("keys/idp.crt")).unwrap()).unwrap();
    let valid = std::fs::read_to_string(dir.join("cases/gen-valid-signed-assertion.xml")).unwrap();
    let padding = format!("<!--{}-->", " ".repeat(1 << 20));
    let big = valid.replacen("<saml:Issuer>", &format!("{padding}<saml:Issuer>"), 1);
    let err = read_signed_response(&big, std::slice::from_ref(&cert), Want::Either, false).unwrap_err();
    assert_eq!(err.code(), "INPUT_TOO_LARGE");
    let posted = base64::engine::general_purpose::STANDARD.encode(&big);
    assert_eq!(post::decode_post_value(&posted).unwrap_err().code(), "INPUT_TOO_LARGE");
}
