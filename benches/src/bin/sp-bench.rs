//! ACS validation throughput on one core: `sp::validate_response` (the library path of
//! `portcullis sp check-response`) side by side with python3-saml and
//! @node-saml/node-saml validating the same posted response in the same run. Prints
//! rates and ratios; records nothing.
//!
//!     scripts/install-test-deps     # the peers (tests/interop/.venv, tests/interop/node_modules)
//!     cargo run --release -p portcullis-benches --bin sp-bench [-- SECONDS_PER_FIGURE]

use base64::Engine as _;
use saml::crypto::{Certificate, SigningKey};
use saml::dsig::{sign_element, SignOptions};
use saml::SystemClock;
use sp::{decode_response_input, validate_response, IdpTrust, SpConfig};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const IDP: &str = "https://idp.example.com/";
const SP: &str = "https://sp.example.com";
const ACS: &str = "https://sp.example.com/acs";

/// A typical Response valid for the next ten minutes: one signed Assertion,
/// persistent NameID, 8 attributes (the shape Entra ID and ADFS send).
fn typical_response(key: &SigningKey, cert: &Certificate) -> String {
    let now = time::OffsetDateTime::now_utc();
    let t = |secs: i64| saml::clock::format_time(now + time::Duration::seconds(secs));
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
    let assertion = format!(
        r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" IssueInstant="{now}"><saml:Issuer>{IDP}</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">3f1c9b2e0d7a4c5b8e6f</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{end}" Recipient="{ACS}" InResponseTo="_req1"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{start}" NotOnOrAfter="{end}"><saml:AudienceRestriction><saml:Audience>{SP}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="{now}" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>{attrs}</saml:AttributeStatement></saml:Assertion>"#,
        now = t(0),
        start = t(-60),
        end = t(600),
    );
    let signed = sign_element(&assertion, "_a1", key, Some(cert), &SignOptions::default()).expect("sign");
    format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="{}" Destination="{ACS}" InResponseTo="_req1"><saml:Issuer>{IDP}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>{signed}</samlp:Response>"#,
        t(0)
    )
}

fn metadata(cert: &Certificate) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{IDP}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#,
        cert.to_base64()
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

/// A peer's rate on the same posted response (None, with the reason on stderr, when it failed).
fn peer_rate(program: &Path, script: &str, args: &[&str]) -> Option<f64> {
    let script = repo_root().join("tests/interop").join(script);
    let out = match Command::new(program).arg(&script).args(args).output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{} could not start ({e}): run scripts/install-test-deps", program.display());
            return None;
        }
    };
    if !out.status.success() {
        eprintln!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr).trim());
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v.get("validations_per_second")?.as_f64()
}

fn main() {
    let secs: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let key = SigningKey::generate(2048).expect("key");
    let cert =
        Certificate::self_signed(&key, "bench IdP", time::OffsetDateTime::now_utc(), 30).expect("cert");
    let md = metadata(&cert);
    let xml = typical_response(&key, &cert);
    let posted = base64::engine::general_purpose::STANDARD.encode(&xml);
    let cfg = SpConfig::new(SP, ACS, IdpTrust::from_metadata(&md, None).expect("metadata"));
    let login =
        validate_response(&xml, &cfg, Some("_req1"), &SystemClock).expect("our validation accepts it");
    println!(
        "response: one signed Assertion, 8 attributes, {} bytes XML, {} bytes posted (base64); NameID {}",
        xml.len(),
        posted.len(),
        login.name_id
    );
    println!("measuring {secs} s per figure, one thread\n");

    let ours = rate(secs, || {
        let x = decode_response_input(black_box(posted.as_bytes())).unwrap();
        black_box(validate_response(&x, &cfg, Some("_req1"), &SystemClock).unwrap());
    });

    let dir = std::env::temp_dir().join(format!("portcullis-sp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mdp, rp) = (dir.join("idp-metadata.xml"), dir.join("response.b64"));
    std::fs::write(&mdp, &md).unwrap();
    std::fs::write(&rp, &posted).unwrap();
    let s = format!("{secs}");
    let args = [
        "--idp-metadata",
        mdp.to_str().unwrap(),
        "--sp-entity-id",
        SP,
        "--acs-url",
        ACS,
        "--request-id",
        "_req1",
        "--seconds",
        &s,
        rp.to_str().unwrap(),
    ];
    let py = peer_rate(&repo_root().join("tests/interop/.venv/bin/python"), "py/sp_check_rate.py", &args);
    let node = peer_rate(Path::new("node"), "node/sp_check_rate.js", &args);
    let _ = std::fs::remove_dir_all(&dir);

    println!("{:<58} {:>12}", "figure", "per second");
    println!("{:<58} {:>12.0}", "ours: decode + validate_response (check-response's path)", ours);
    let show = |name: &str, r: Option<f64>| match r {
        Some(r) => println!("{name:<58} {r:>12.0}"),
        None => println!("{name:<58} {:>12}", "n/a"),
    };
    show("python3-saml 1.16 (strict, libxmlsec1)", py);
    show("@node-saml/node-saml 5.1 (xml-crypto)", node);
    println!();
    for (name, r) in [("python3-saml", py), ("node-saml", node)] {
        if let Some(r) = r {
            println!("ours / {name}: {:.1}x", ours / r);
        }
    }
    if let Some(best) = [py, node].into_iter().flatten().reduce(f64::max) {
        println!("ours / the faster peer: {:.1}x (target: at least 10x)", ours / best);
    }
}
