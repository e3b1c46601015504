//! `portcullis vault …`: the credential vault's administration (managed systems and accounts,
//! users, groups, policies, API registrations, OAuth clients, requests), "Connect to Secure Remote
//! Access", the audit log check, re-keying, and `vault serve` (the Password Safe v3 API over
//! HTTPS). Works with or without a server running on the same data directory.

mod access;
mod inventory;
mod ops;

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use crate::args::vault::*;
use anyhow::{bail, Context, Result};
use vault::audit::{Event, Verdict};
use vault::model::{parse_policy, policy_classes, PasswordPolicy, Scope};
use vault::Vault;
use zeroize::Zeroizing;

fn read_stdin(what: &str) -> Result<Zeroizing<String>> {
    let mut s = Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut s)
        .with_context(|| format!("reading the {what} from standard input"))?;
    let p = Zeroizing::new(s.trim_end_matches(['\r', '\n']).to_string());
    if p.is_empty() {
        bail!("the {what} on standard input is empty");
    }
    Ok(p)
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn policy_from(
    length: Option<u16>,
    classes: Option<&str>,
    base: PasswordPolicy,
) -> Result<Option<PasswordPolicy>> {
    if length.is_none() && classes.is_none() {
        return Ok(None);
    }
    let p = parse_policy(
        i64::from(length.unwrap_or(base.length)),
        &classes.map(str::to_string).unwrap_or_else(|| policy_classes(&base)),
    )?;
    Ok(Some(p))
}

fn minutes_of(hhmm: &str) -> Result<i64> {
    let (h, m) = hhmm.split_once(':').with_context(|| format!("{hhmm:?} is not HH:MM"))?;
    let (h, m): (i64, i64) = (h.parse().context("hour")?, m.parse().context("minute")?);
    if !(0..=24).contains(&h) || !(0..60).contains(&m) || h * 60 + m > 1440 {
        bail!("{hhmm:?} is not a time of day (00:00 to 24:00)");
    }
    Ok(h * 60 + m)
}

async fn scope(v: &Vault, system: Option<String>, account: Option<i64>) -> Result<Scope> {
    Ok(match (system, account) {
        (Some(s), _) => Scope::System(v.system(&s).await?.id),
        (None, Some(a)) => Scope::Account(v.account(a).await?.id),
        (None, None) => Scope::All,
    })
}

async fn audit_cli(v: &Vault, action: &str, account_id: Option<i64>, detail: &str) -> Result<()> {
    v.audit(Event { actor: "cli", action, account_id, source: "cli", result: "ok", detail }).await?;
    Ok(())
}

pub fn run(data: &Path, database_url: Option<&str>, cmd: VaultCommand) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async move {
        if let VaultCommand::Rekey = cmd {
            return ops::rekey(data, database_url).await;
        }
        let v = Vault::open_data_dir(data, database_url).await?;
        match cmd {
            VaultCommand::System(c) => inventory::system(&v, c).await,
            VaultCommand::Account(c) => inventory::account(&v, c).await,
            VaultCommand::User(c) => access::user(&v, c).await,
            VaultCommand::Group(c) => access::group(&v, c).await,
            VaultCommand::Policy(c) => access::policy(&v, c).await,
            VaultCommand::Registration(c) => access::registration(&v, c).await,
            VaultCommand::OauthClient(c) => access::oauth(&v, c).await,
            VaultCommand::Request(c) => access::request(&v, c).await,
            VaultCommand::ConnectSra(a) => ops::connect_sra(&v, a).await,
            VaultCommand::Audit(AuditCmd::Verify) => match v.verify_audit().await? {
                Verdict::Intact { rows } => {
                    println!("audit log intact: {rows} rows");
                    Ok(ExitCode::SUCCESS)
                }
                Verdict::Broken { seq, why } => {
                    println!("audit log TAMPERED at row {seq}: {why}");
                    Ok(ExitCode::from(1))
                }
            },
            VaultCommand::Audit(AuditCmd::List { limit, json }) => {
                let rows = v.audit_rows(limit).await?;
                if json {
                    // The stored fields, and the time as RFC 3339 UTC beside the Unix seconds.
                    let out: Vec<serde_json::Value> = rows
                        .iter()
                        .map(|r| {
                            let mut o = serde_json::to_value(r)?;
                            o["at_utc"] = serde_json::Value::String(rfc3339(r.at));
                            Ok(o)
                        })
                        .collect::<Result<_, serde_json::Error>>()?;
                    print_json(&out)?;
                } else {
                    for r in rows {
                        println!(
                            "{:>6} {} {:<12} {:<40} account={} from={} {}",
                            r.seq,
                            rfc3339(r.at),
                            r.actor,
                            r.action,
                            r.account_id.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
                            r.source,
                            r.result
                        );
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            VaultCommand::Serve(a) => ops::serve(v, a).await,
            VaultCommand::Rekey => Ok(ExitCode::SUCCESS),
        }
    })
}

/// Unix seconds as RFC 3339 UTC (`2026-11-23T10:00:00Z`).
fn rfc3339(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| at.to_string())
}
