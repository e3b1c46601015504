//! The ACS corpus under tests/corpus/ (see its README): every case is decoded
//! as posted and validated by the library with exactly the `check-response`
//! options its manifest row gives, and must give the recorded verdict: the
//! NameID for an accepted case, the error code for a rejected one.
//! Regenerate with `cargo run -p portcullis-sp --example gen_corpus`.

use saml::FixedClock;
use sp::{decode_response_input, validate_response, DecryptionKey, IdpTrust, SpConfig, Want};
use std::path::Path;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

struct Row {
    file: String,
    expect: String,
    detail: String,
    args: Vec<String>,
    description: String,
}

fn manifest(dir: &Path) -> Vec<Row> {
    std::fs::read_to_string(dir.join("manifest.tsv"))
        .expect("manifest.tsv")
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "manifest line has {} columns: {line}", f.len());
            Row {
                file: f[0].into(),
                expect: f[1].into(),
                detail: f[2].into(),
                args: f[3].split_whitespace().map(String::from).collect(),
                description: f[4].into(),
            }
        })
        .collect()
}

/// The check-response options, read the way the CLI reads them.
fn run(dir: &Path, row: &Row) -> sp::Result<sp::Login> {
    let mut it = row.args.iter();
    let (mut metadata, mut entity, mut acs, mut request, mut now) = (None, None, None, None, None);
    let mut cfg_want = Want::Either;
    let (mut skew, mut unsolicited, mut sha1, mut key) = (saml::DEFAULT_SKEW, false, false, None);
    while let Some(flag) = it.next() {
        let mut value = || it.next().expect("flag value").clone();
        match flag.as_str() {
            "--idp-metadata" => metadata = Some(value()),
            "--sp-entity-id" => entity = Some(value()),
            "--acs-url" => acs = Some(value()),
            "--request-id" => request = Some(value()),
            "--now" => now = Some(OffsetDateTime::parse(&value(), &Rfc3339).expect("--now")),
            "--skew-seconds" => skew = time::Duration::seconds(value().parse().expect("seconds")),
            "--allow-unsolicited" => unsolicited = true,
            "--allow-sha1" => sha1 = true,
            "--want" => {
                cfg_want = match value().as_str() {
                    "signed-response" => Want::SignedResponse,
                    "signed-assertion" => Want::SignedAssertion,
                    "either" => Want::Either,
                    other => panic!("unknown --want {other}"),
                }
            }
            "--sp-key" => key = Some(value()),
            other => panic!("unknown option {other}"),
        }
    }
    let md = std::fs::read_to_string(dir.join(metadata.expect("--idp-metadata"))).expect("metadata");
    let idp = IdpTrust::from_metadata(&md, None).expect("metadata parses");
    let mut cfg = SpConfig::new(entity.expect("--sp-entity-id"), acs.expect("--acs-url"), idp);
    cfg.want = cfg_want;
    cfg.skew = skew;
    cfg.allow_unsolicited = unsolicited;
    cfg.allow_sha1 = sha1;
    cfg.decryption_key =
        key.map(|k| DecryptionKey::load(&std::fs::read(dir.join(k)).expect("key")).expect("key loads"));
    let clock = FixedClock(now.expect("--now"));
    let bytes = std::fs::read(dir.join(&row.file)).expect("case file");
    let xml = decode_response_input(&bytes)?;
    validate_response(&xml, &cfg, request.as_deref(), &clock)
}

#[test]
fn every_corpus_case_gives_its_recorded_verdict_and_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let rows = manifest(&dir);
    assert!(rows.len() >= 60, "the corpus must hold at least 60 cases, has {}", rows.len());
    assert!(rows.iter().filter(|r| r.expect == "accept").count() >= 10, "too few valid controls");
    let mut failures = Vec::new();
    for row in &rows {
        let got = run(&dir, row);
        let ok = match (row.expect.as_str(), &got) {
            ("accept", Ok(login)) => login.name_id == row.detail,
            ("reject", Err(e)) => e.code() == row.detail,
            _ => false,
        };
        if !ok {
            let got = match &got {
                Ok(l) => format!("accepted with NameID {:?}", l.name_id),
                Err(e) => format!("rejected {}: {e}", e.code()),
            };
            failures.push(format!(
                "{}: expected {} {}, {got} ({})",
                row.file, row.expect, row.detail, row.description
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
