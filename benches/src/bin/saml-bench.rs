//! Signing and verification throughput of the `saml` crate on one core, side by
//! side with the physical limit of the step (raw RSA-2048 signing with the same
//! key) and with libxmlsec1 (through python-xmlsec) on the same document, all
//! measured in this one run. Prints rates and ratios; records nothing.
//!
//!     cargo run --release -p portcullis-benches --bin saml-bench [-- SECONDS]

use saml::crypto::{Certificate, SignatureAlgorithm, SigningKey};
use saml::dsig::{self, sign_element, SignOptions, VerifyOptions};
use saml::signed::{read_signed_response, Want};
use saml::xml::{self, Limits};
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// A typical Response: one Assertion, persistent NameID, 8 attributes.
fn typical_response() -> String {
    let attrs: String = [
        ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "alice@contoso.example"),
        ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "Alice"),
        ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "Liddell"),
        ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "alice@contoso.example"),
        ("http://schemas.microsoft.com/identity/claims/displayname", "Alice Liddell"),
        (
            "http://schemas.microsoft.com/identity/claims/objectidentifier",
            "7f3c1e2a-55b1-4c0e-9a4e-3b2d1c0f9e8d",
        ),
        ("http://schemas.microsoft.com/identity/claims/tenantid", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
        (
            "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
            "0b1c6e2a-7d3f-4a8e-9f00-1a2b3c4d5e6f",
        ),
    ]
    .iter()
    .map(|(n, v)| {
        format!(
            r#"<saml:Attribute Name="{n}"><saml:AttributeValue>{v}</saml:AttributeValue></saml:Attribute>"#
        )
    })
    .collect();
    format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" Destination="https://sp.example.com/acs" InResponseTo="_req1"><saml:Issuer>https://idp.example.com/</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="_a1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"><saml:Issuer>https://idp.example.com/</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">3f1c9b2e0d7a4c5b8e6f</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="2030-01-01T00:05:00Z" Recipient="https://sp.example.com/acs" InResponseTo="_req1"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="2030-01-01T00:00:00Z" NotOnOrAfter="2030-01-01T01:00:00Z"><saml:AudienceRestriction><saml:Audience>https://sp.example.com</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="2030-01-01T00:00:00Z" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>{attrs}</saml:AttributeStatement></saml:Assertion></samlp:Response>"#
    )
}

/// Runs `f` repeatedly for `secs` and returns operations per second.
fn rate(secs: f64, mut f: impl FnMut()) -> f64 {
    for _ in 0..20 {
        f();
    }
    let budget = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..10 {
            f();
        }
        n += 10;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// libxmlsec1's rate on the same document, through the interop venv's python-xmlsec.
fn xmlsec_rate(args: &[&str], field: &str) -> Option<f64> {
    let py = repo_root().join("tests/interop/.venv/bin/python");
    let script = repo_root().join("tests/interop/py/xmlsec_sign_rate.py");
    let out = Command::new(py).arg(script).args(args).output().ok()?;
    if !out.status.success() {
        eprintln!("xmlsec peer failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v.get(field)?.as_f64()
}

fn main() {
    let secs: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let key = SigningKey::generate(2048).expect("key");
    let cert = Certificate::self_signed(&key, "bench", time::OffsetDateTime::now_utc(), 30).expect("cert");
    let certs = [cert.clone()];
    let doc = typical_response();
    let opts = SignOptions::default();
    let signed = sign_element(&doc, "_a1", &key, Some(&cert), &opts).expect("sign");
    println!("document: typical Response, one Assertion, 8 attributes, {} bytes signed", signed.len());
    println!("measuring {secs} s per figure, one thread\n");

    let signed_info_size = vec![0x5au8; 700];
    let raw = rate(secs, || {
        black_box(key.sign(SignatureAlgorithm::RsaSha256, black_box(&signed_info_size)).unwrap());
    });
    let ours_sign = rate(secs, || {
        black_box(sign_element(black_box(&doc), "_a1", &key, Some(&cert), &opts).unwrap());
    });
    let ours_verify = rate(secs, || {
        let d = xml::parse(black_box(&signed), &Limits::MESSAGE).unwrap();
        black_box(dsig::verify(&d, &VerifyOptions { certs: &certs, allow_sha1: false }).unwrap());
    });
    let ours_read = rate(secs, || {
        black_box(read_signed_response(black_box(&signed), &certs, Want::SignedAssertion, false).unwrap());
    });

    let dir = std::env::temp_dir().join(format!("portcullis-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (kp, cp, dp, sp) =
        (dir.join("key.pem"), dir.join("cert.pem"), dir.join("doc.xml"), dir.join("signed.xml"));
    std::fs::write(&kp, key.to_pkcs8_pem().as_bytes()).unwrap();
    std::fs::write(&cp, cert.to_pem()).unwrap();
    std::fs::write(&dp, &doc).unwrap();
    std::fs::write(&sp, &signed).unwrap();
    let s = format!("{secs}");
    let (k, c, d, sf) =
        (kp.to_str().unwrap(), cp.to_str().unwrap(), dp.to_str().unwrap(), sp.to_str().unwrap());
    let xs_sign = xmlsec_rate(
        &["--key", k, "--cert", c, "--element-id", "_a1", "--seconds", &s, d],
        "signatures_per_second",
    );
    let xs_verify = xmlsec_rate(
        &["--verify", "--cert", c, "--element-id", "_a1", "--seconds", &s, sf],
        "verifications_per_second",
    );
    let _ = std::fs::remove_dir_all(&dir);

    println!("{:<52} {:>12}", "figure", "per second");
    println!("{:<52} {:>12.0}", "raw RSA-2048 PKCS#1 SHA-256 signature (the limit)", raw);
    println!("{:<52} {:>12.0}", "ours: sign the Assertion (parse, c14n, digest, RSA)", ours_sign);
    println!("{:<52} {:>12.0}", "ours: parse + verify", ours_verify);
    println!("{:<52} {:>12.0}", "ours: read_signed_response (parse, verify, model)", ours_read);
    if let Some(x) = xs_sign {
        println!("{:<52} {:>12.0}", "libxmlsec1: sign the same Assertion", x);
    }
    if let Some(x) = xs_verify {
        println!("{:<52} {:>12.0}", "libxmlsec1: verify the same Assertion", x);
    }
    println!();
    println!("signing: raw RSA limit / ours = {:.2}x  (target <= 1.5x)", raw / ours_sign);
    if let Some(x) = xs_sign {
        println!("signing: ours / libxmlsec1 = {:.2}x", ours_sign / x);
    }
    if let Some(x) = xs_verify {
        println!("verifying: ours / libxmlsec1 = {:.2}x", ours_verify / x);
    }
}
