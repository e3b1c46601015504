//! `portcullis saml …`: the tools people use to debug SSO.

use crate::args::saml::{DecodeArgs, KeygenArgs, SamlCommand, VerifyArgs};
use crate::{input, summary};
use anyhow::{bail, Context, Result};
use saml::crypto::{Certificate, SigningKey};
use saml::dsig::{self, VerifyOptions};
use saml::xml::{self, Limits, NS_DS, NS_SAML, NS_SAMLP};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(cmd: SamlCommand) -> Result<ExitCode> {
    match cmd {
        SamlCommand::Decode(a) => decode(a),
        SamlCommand::Verify(a) => verify(a),
        SamlCommand::Keygen(a) => keygen(a),
    }
}

fn decode(args: DecodeArgs) -> Result<ExitCode> {
    let text = input::read(args.input.as_deref())?;
    let msg = input::decode(&text)?;
    let doc = xml::parse(&msg.xml, &Limits::METADATA).context("the decoded message is not acceptable XML")?;
    let mut summary = summary::summarize(&doc);
    if let Some(obj) = summary.as_object_mut() {
        obj.insert("encoding".into(), json!(msg.encoding.describe()));
        if let Some(rs) = &msg.relay_state {
            obj.insert("relay_state".into(), json!(rs));
        }
        if let Some(r) = &msg.redirect {
            obj.insert("query_signature".into(), json!(r.sig_alg().unwrap_or("none")));
        }
    }
    if args.json {
        let mut out = summary;
        out["xml"] = json!(msg.xml);
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", xml::pretty(doc.root()));
        println!("----------------------------------------------------------------------");
        print!("{}", summary::render_text(&summary));
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads trusted certificates from certificate files or metadata files.
fn load_trust(paths: &[PathBuf]) -> Result<Vec<Certificate>> {
    let mut certs = Vec::new();
    for p in paths {
        let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        if text.trim_start().starts_with('<') {
            let entities = saml::model::parse_metadata(&text)
                .with_context(|| format!("{} looks like XML but is not SAML metadata", p.display()))?;
            let before = certs.len();
            for e in &entities {
                if let Some(idp) = &e.idp {
                    certs.extend(idp.signing_certificates().cloned());
                }
                if let Some(sp) = &e.sp {
                    certs.extend(sp.signing_certificates().cloned());
                }
            }
            if certs.len() == before {
                bail!("{} holds no signing certificate (KeyDescriptor use=\"signing\")", p.display());
            }
        } else {
            certs.extend(Certificate::load_all(&bytes).with_context(|| format!("loading {}", p.display()))?);
        }
    }
    Ok(certs)
}

fn verify(args: VerifyArgs) -> Result<ExitCode> {
    let certs = load_trust(&args.cert)?;
    let text = input::read(args.input.as_deref())?;
    // A message that cannot even be decoded is a rejected message (exit 1), not a
    // usage error.
    let msg = match input::decode(&text) {
        Ok(m) => m,
        Err(e) => {
            let line = format!("REJECTED: {e:#}");
            return finish(
                &args,
                false,
                vec![line],
                vec![json!({"valid": false, "message": format!("{e:#}")})],
            );
        }
    };
    let opts = VerifyOptions { certs: &certs, allow_sha1: args.allow_sha1 };
    let mut lines = Vec::new();
    let mut results = Vec::new();
    let mut all_valid = true;

    // The redirect binding signs the query string, not the XML.
    let mut query_signed = false;
    if let Some(r) = &msg.redirect {
        if r.is_signed() {
            match r.verify_signature(&certs, args.allow_sha1) {
                Ok(i) => {
                    query_signed = true;
                    lines.push(format!(
                        "query-string signature: VALID ({}; cert {})",
                        r.sig_alg().unwrap_or("?"),
                        certs[i].subject()
                    ));
                    results.push(json!({"element": "query string", "valid": true}));
                }
                Err(e) => {
                    all_valid = false;
                    lines.push(format!("query-string signature: INVALID [{}] {e}", e.code()));
                    results.push(json!({"element": "query string", "valid": false, "code": e.code(), "message": e.to_string()}));
                }
            }
        }
    }

    let doc = match xml::parse(&msg.xml, &Limits::METADATA) {
        Ok(d) => d,
        Err(e) => {
            return finish(
                &args,
                false,
                vec![format!("REJECTED [{}] {e}", e.code())],
                vec![json!({"valid": false, "code": e.code(), "message": e.to_string()})],
            )
        }
    };
    let mut covered = Vec::new();
    for sig in doc.descendants().filter(|n| xml::is_element(*n, NS_DS, "Signature")) {
        let parent = sig.parent_element();
        let what = parent.map(xml::describe).unwrap_or_else(|| "(document)".into());
        let id = parent.and_then(xml::id_of).unwrap_or("-").to_string();
        match dsig::verify_signature(sig, &opts) {
            Ok(v) => {
                lines.push(format!(
                    "signature on {what} ID={id}: VALID ({}, digest {}; cert {} SHA1 {})",
                    v.algorithm.uri(),
                    v.digest.uri(),
                    certs[v.cert_index].subject(),
                    certs[v.cert_index].sha1_thumbprint()
                ));
                results
                    .push(json!({"element": what, "id": id, "valid": true, "algorithm": v.algorithm.uri()}));
                covered.push(v.element.id());
            }
            Err(e) => {
                all_valid = false;
                lines.push(format!("signature on {what} ID={id}: INVALID [{}] {e}", e.code()));
                results.push(json!({"element": what, "id": id, "valid": false, "code": e.code(), "message": e.to_string()}));
            }
        }
    }

    let root = doc.root_element();
    let root_covered = covered.contains(&root.id()) || query_signed;
    let ok = all_valid
        && if xml::is_element(root, NS_SAMLP, "Response") && !root_covered {
            let assertions: Vec<_> =
                root.descendants().filter(|n| xml::is_element(*n, NS_SAML, "Assertion")).collect();
            let encrypted = root.descendants().any(|n| xml::is_element(n, NS_SAML, "EncryptedAssertion"));
            // An assertion is covered when it, or an element around it, is signed.
            let is_covered = |a: &roxmltree::Node| a.ancestors().any(|n| covered.contains(&n.id()));
            let every = !assertions.is_empty() && assertions.iter().all(is_covered);
            if encrypted {
                lines.push("the Response is unsigned and carries an EncryptedAssertion that this tool cannot decrypt".into());
            }
            every && !encrypted
        } else {
            root_covered
        };
    if results.is_empty() {
        lines.push("no signature found".into());
    }
    lines.push(if ok {
        "result: OK — the signatures cover the message".to_string()
    } else if all_valid {
        format!(
            "result: NOT SIGNED — no valid signature covers the {}",
            if xml::is_element(root, NS_SAMLP, "Response") {
                "Response or every Assertion"
            } else {
                "message"
            }
        )
    } else {
        "result: INVALID — at least one signature does not verify".to_string()
    });
    finish(&args, ok, lines, results)
}

fn finish(
    args: &VerifyArgs,
    ok: bool,
    lines: Vec<String>,
    results: Vec<serde_json::Value>,
) -> Result<ExitCode> {
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json!({"valid": ok, "signatures": results}))?);
    } else {
        for l in lines {
            println!("{l}");
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn keygen(args: KeygenArgs) -> Result<ExitCode> {
    for p in [&args.out_key, &args.out_cert] {
        if p.exists() && !args.force {
            bail!("{} already exists; pass --force to overwrite it", p.display());
        }
    }
    eprintln!("generating an RSA-{} key…", args.bits);
    let key = SigningKey::generate(args.bits)?;
    let cert = Certificate::self_signed(&key, &args.cn, time::OffsetDateTime::now_utc(), args.days)?;
    write_private(&args.out_key, key.to_pkcs8_pem().as_bytes())?;
    std::fs::write(&args.out_cert, cert.to_pem())
        .with_context(|| format!("writing {}", args.out_cert.display()))?;
    let fmt = time::format_description::well_known::Rfc3339;
    println!("key:         {} (RSA-{}, PKCS#8 PEM, mode 0600)", args.out_key.display(), key.bits());
    println!("certificate: {}", args.out_cert.display());
    println!("subject:     {}", cert.subject());
    println!("valid:       {} to {}", cert.not_before().format(&fmt)?, cert.not_after().format(&fmt)?);
    println!("thumbprint:  {} (SHA-1)", cert.sha1_thumbprint());
    println!("             {} (SHA-256)", cert.sha256_thumbprint());
    Ok(ExitCode::SUCCESS)
}

/// Writes a secret file readable by its owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| format!("creating {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
