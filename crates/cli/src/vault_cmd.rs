//! `portcullis vault …`: the credential vault's administration (managed systems and accounts,
//! users, groups, policies, API registrations, OAuth clients, requests), "Connect to Secure Remote
//! Access", the audit log check, re-keying, and `vault serve` (the Password Safe v3 API over
//! HTTPS). Works with or without a server running on the same data directory.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::args::vault::*;
use anyhow::{bail, Context, Result};
use vault::admin::{AccountChanges, NewAccount, NewPolicy, NewRegistration, NewSystem, SraKey, SraSettings};
use vault::audit::{Event, Verdict};
use vault::ip::IpRule;
use vault::model::{parse_policy, policy_classes, Actor, PasswordPolicy, Role, Scope};
use vault::requests::Queue;
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
            return rekey(data, database_url).await;
        }
        let v = Vault::open_data_dir(data, database_url).await?;
        match cmd {
            VaultCommand::System(c) => system(&v, c).await,
            VaultCommand::Account(c) => account(&v, c).await,
            VaultCommand::User(c) => user(&v, c).await,
            VaultCommand::Group(c) => group(&v, c).await,
            VaultCommand::Policy(c) => policy(&v, c).await,
            VaultCommand::Registration(c) => registration(&v, c).await,
            VaultCommand::OauthClient(c) => oauth(&v, c).await,
            VaultCommand::Request(c) => request(&v, c).await,
            VaultCommand::ConnectSra(a) => connect_sra(&v, a).await,
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
            VaultCommand::Serve(a) => serve(v, a).await,
            VaultCommand::Rekey => Ok(ExitCode::SUCCESS),
        }
    })
}

async fn system(v: &Vault, c: SystemCmd) -> Result<ExitCode> {
    match c {
        SystemCmd::Create { name, host, platform, port, workgroup } => {
            let s = v
                .create_system(NewSystem { name, host, platform: platform.name().into(), port, workgroup })
                .await?;
            audit_cli(v, "system.create", None, &format!("system {}", s.id)).await?;
            println!("{}", s.id);
        }
        SystemCmd::List { json } => {
            let list = v.list_systems().await?;
            if json {
                print_json(&list)?;
            } else {
                for s in list {
                    println!(
                        "{:>5}  {:<24} {:<24} {:<10} {}",
                        s.id,
                        s.name,
                        s.host,
                        s.platform,
                        s.functional_user.unwrap_or_default()
                    );
                }
            }
        }
        SystemCmd::Set { system, host, port, workgroup, functional_account, functional_password_stdin } => {
            let s = v.system(&system).await?;
            v.update_system(s.id, host, port, workgroup).await?;
            if let (Some(user), true) = (functional_account, functional_password_stdin) {
                let pw = read_stdin("functional account's password")?;
                v.set_functional_account(s.id, &user, &pw).await?;
            }
            audit_cli(v, "system.set", None, &format!("system {}", s.id)).await?;
        }
        SystemCmd::Delete { system } => {
            v.delete_system(&system).await?;
            audit_cli(v, "system.delete", None, &system).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn account(v: &Vault, c: AccountCmd) -> Result<ExitCode> {
    match c {
        AccountCmd::Create {
            system,
            name,
            password_stdin,
            api_enabled,
            change_after_release,
            max_release_minutes,
            domain,
            description,
            password_length,
            password_classes,
            rotation_days,
        } => {
            let password = if password_stdin { Some(read_stdin("password")?) } else { None };
            let policy =
                policy_from(password_length, password_classes.as_deref(), PasswordPolicy::default())?;
            let a = v
                .create_account(NewAccount {
                    system,
                    name,
                    password,
                    domain,
                    description,
                    api_enabled,
                    change_after_release,
                    max_release_minutes,
                    policy,
                    rotation_days,
                })
                .await?;
            // Accounts made API-enabled later join the SRA group's scope through `account set`.
            grant_sra_if_connected(v, &a).await?;
            audit_cli(v, "account.create", Some(a.id), "").await?;
            println!("{}", a.id);
        }
        AccountCmd::List { system, json } => {
            let sys = match system {
                Some(s) => Some(v.system(&s).await?.id),
                None => None,
            };
            let list = v.list_accounts(sys).await?;
            if json {
                print_json(&list)?;
            } else {
                for a in list {
                    println!(
                        "{:>5}  {:<20} {:<20} api={} rotate-after-release={} max={}m{}",
                        a.id,
                        a.system_name,
                        a.name,
                        a.api_enabled,
                        a.change_after_release,
                        a.max_release_minutes,
                        a.rotation_error.map(|e| format!(" last-rotation-error: {e}")).unwrap_or_default()
                    );
                }
            }
        }
        AccountCmd::Set {
            account,
            system,
            api_enabled,
            change_after_release,
            max_release_minutes,
            description,
            password_length,
            password_classes,
            password_stdin,
            rotate_now,
        } => {
            let a = v.find_account(system.as_deref(), &account).await?;
            let policy = policy_from(password_length, password_classes.as_deref(), a.password_policy)?;
            let a = v
                .update_account(
                    a.id,
                    AccountChanges {
                        api_enabled,
                        change_after_release,
                        max_release_minutes,
                        description,
                        policy,
                        ..Default::default()
                    },
                )
                .await?;
            grant_sra_if_connected(v, &a).await?;
            if password_stdin {
                let pw = read_stdin("password")?;
                v.set_account_password(a.id, &pw).await?;
            }
            if rotate_now {
                v.rotate_account(Actor::Operator, a.id, None).await?;
            }
            audit_cli(v, "account.set", Some(a.id), "").await?;
        }
        AccountCmd::Delete { account, system } => {
            let a = v.find_account(system.as_deref(), &account).await?;
            v.delete_account(a.id).await?;
            audit_cli(v, "account.delete", Some(a.id), "").await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Once Secure Remote Access is connected, its requesters group holds Requestor on every
/// API-enabled account, including ones enabled later.
async fn grant_sra_if_connected(v: &Vault, a: &vault::model::Account) -> Result<()> {
    if a.api_enabled && v.group(vault::admin::SRA_GROUP).await.is_ok() {
        v.grant_role(vault::admin::SRA_GROUP, Scope::Account(a.id), Role::Requestor).await?;
    }
    Ok(())
}

async fn user(v: &Vault, c: UserCmd) -> Result<ExitCode> {
    match c {
        UserCmd::Create { name, password_stdin, email } => {
            let pw = if password_stdin { Some(read_stdin("password")?) } else { None };
            let u = v.create_user(&name, pw.as_deref().map(|s| s.as_str()), email.as_deref()).await?;
            audit_cli(v, "user.create", None, &format!("user {}", u.id)).await?;
            println!("{}", u.id);
        }
        UserCmd::List { json } => {
            let list = v.list_users().await?;
            if json {
                print_json(&list)?;
            } else {
                for u in list {
                    println!("{:>5}  {:<30} {}", u.id, u.name, u.email.unwrap_or_default());
                }
            }
        }
        UserCmd::Set { name, password_stdin, email } => {
            let pw = if password_stdin { Some(read_stdin("password")?) } else { None };
            v.set_user(&name, pw.as_deref().map(|s| s.as_str()), email.as_deref()).await?;
            audit_cli(v, "user.set", None, &name).await?;
        }
        UserCmd::Delete { name } => {
            v.delete_user(&name).await?;
            audit_cli(v, "user.delete", None, &name).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn opt_ref(s: Option<String>) -> Option<Option<String>> {
    s.map(|s| if s.eq_ignore_ascii_case("none") { None } else { Some(s) })
}

async fn group(v: &Vault, c: GroupCmd) -> Result<ExitCode> {
    match c {
        GroupCmd::Create { name } => {
            let g = v.create_group(&name).await?;
            audit_cli(v, "group.create", None, &name).await?;
            println!("{}", g.id);
        }
        GroupCmd::List { json } => {
            let list = v.list_groups().await?;
            if json {
                print_json(&list)?;
            } else {
                for g in list {
                    println!("{:>5}  {:<36} members: {}", g.id, g.name, g.members.join(", "));
                }
            }
        }
        GroupCmd::Set { name, policy, registration } => {
            v.set_group(&name, opt_ref(policy), opt_ref(registration)).await?;
            audit_cli(v, "group.set", None, &name).await?;
        }
        GroupCmd::Delete { name } => {
            v.delete_group(&name).await?;
            audit_cli(v, "group.delete", None, &name).await?;
        }
        GroupCmd::AddMember { group, user } => {
            v.add_member(&group, &user).await?;
            audit_cli(v, "group.add-member", None, &format!("{user} to {group}")).await?;
        }
        GroupCmd::RemoveMember { group, user } => {
            v.remove_member(&group, &user).await?;
            audit_cli(v, "group.remove-member", None, &format!("{user} from {group}")).await?;
        }
        GroupCmd::Grant { group, role, system, account } => {
            let s = scope(v, system, account).await?;
            v.grant_role(&group, s, Role::parse(&role)?).await?;
            audit_cli(v, "group.grant", None, &format!("{role} to {group}")).await?;
        }
        GroupCmd::Revoke { group, role, system, account } => {
            let s = scope(v, system, account).await?;
            v.revoke_role(&group, s, Role::parse(&role)?).await?;
            audit_cli(v, "group.revoke", None, &format!("{role} from {group}")).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn policy(v: &Vault, c: PolicyCmd) -> Result<ExitCode> {
    match c {
        PolicyCmd::Create { name, approvals, window_start, window_end, max_minutes } => {
            let (all_day, ws, we) = match (window_start, window_end) {
                (Some(s), Some(e)) => (false, minutes_of(&s)?, minutes_of(&e)?),
                _ => (true, 0, 1440),
            };
            let p = v
                .create_policy(NewPolicy {
                    name: name.clone(),
                    auto_approve: approvals == 0,
                    approvals_required: approvals,
                    all_day,
                    window_start: ws,
                    window_end: we,
                    max_minutes,
                })
                .await?;
            audit_cli(v, "policy.create", None, &name).await?;
            println!("{}", p.id);
        }
        PolicyCmd::List { json } => {
            let list = v.list_policies().await?;
            if json {
                print_json(&list)?;
            } else {
                for p in list {
                    println!(
                        "{:>5}  {:<40} {} max={}m",
                        p.id,
                        p.name,
                        if p.auto_approve {
                            "auto-approve".to_string()
                        } else {
                            format!("{} approvals", p.approvals_required)
                        },
                        p.max_minutes
                    );
                }
            }
        }
        PolicyCmd::Set { name, approvals, max_minutes } => {
            v.set_policy(&name, approvals.map(|a| a == 0), approvals, max_minutes).await?;
            audit_cli(v, "policy.set", None, &name).await?;
        }
        PolicyCmd::Delete { name } => {
            v.delete_policy(&name).await?;
            audit_cli(v, "policy.delete", None, &name).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn rules(texts: &[String]) -> Result<Vec<IpRule>> {
    Ok(texts.iter().map(|t| IpRule::from_text(t)).collect::<Result<Vec<_>, _>>()?)
}

async fn registration(v: &Vault, c: RegistrationCmd) -> Result<ExitCode> {
    match c {
        RegistrationCmd::Create { name, ip_rules, token_minutes, user_password_required } => {
            let (r, key) = v
                .create_registration(NewRegistration {
                    name: name.clone(),
                    ip_rules: rules(&ip_rules)?,
                    token_minutes,
                    user_password_required,
                })
                .await?;
            audit_cli(v, "registration.create", None, &name).await?;
            println!("{}", r.id);
            println!("{}", key.as_str());
        }
        RegistrationCmd::List { json } => {
            let list = v.list_registrations().await?;
            if json {
                print_json(&list)?;
            } else {
                for r in list {
                    let ips: Vec<&str> = r.ip_rules.iter().map(|r| r.value.as_str()).collect();
                    println!(
                        "{:>5}  {:<36} active={} ip-rules={} token={}m",
                        r.id,
                        r.name,
                        r.active,
                        if ips.is_empty() { "any".to_string() } else { ips.join(",") },
                        r.token_minutes
                    );
                }
            }
        }
        RegistrationCmd::Set {
            name,
            active,
            ip_rules,
            clear_ip_rules,
            token_minutes,
            user_password_required,
        } => {
            let new_rules = if clear_ip_rules {
                Some(Vec::new())
            } else if ip_rules.is_empty() {
                None
            } else {
                Some(rules(&ip_rules)?)
            };
            v.set_registration(&name, active, new_rules, token_minutes, user_password_required).await?;
            audit_cli(v, "registration.set", None, &name).await?;
        }
        RegistrationCmd::RotateKey { name } => {
            let key = v.rotate_registration_key(&name).await?;
            audit_cli(v, "registration.rotate-key", None, &name).await?;
            println!("{}", key.as_str());
        }
        RegistrationCmd::Delete { name } => {
            v.delete_registration(&name).await?;
            audit_cli(v, "registration.delete", None, &name).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn oauth(v: &Vault, c: OauthCmd) -> Result<ExitCode> {
    match c {
        OauthCmd::Create { user } => {
            let (id, secret) = v.create_oauth_client(&user).await?;
            audit_cli(v, "oauth-client.create", None, &format!("{id} for {user}")).await?;
            println!("OAuth client for {user} (the secret is shown once):");
            println!("{id} {}", secret.as_str());
        }
        OauthCmd::List { json } => {
            let list = v.list_oauth_clients().await?;
            if json {
                print_json(&list)?;
            } else {
                for c in list {
                    println!("{}  {}", c.client_id, c.user);
                }
            }
        }
        OauthCmd::Delete { client_id } => {
            v.delete_oauth_client(&client_id).await?;
            audit_cli(v, "oauth-client.delete", None, &client_id).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn request(v: &Vault, c: RequestCmd) -> Result<ExitCode> {
    match c {
        RequestCmd::List { status, json } => {
            let list = v.list_requests(None, Queue::All, status.as_deref()).await?;
            if json {
                print_json(&list)?;
            } else {
                for r in list {
                    println!(
                        "{:>6}  {:<20} {:<16}/{:<16} {:<10} {}m",
                        r.id,
                        r.user_name,
                        r.system_name,
                        r.account_name,
                        r.status.as_str(),
                        r.duration_minutes
                    );
                }
            }
        }
        // The domain writes the audit rows of request changes.
        RequestCmd::Approve { id } => {
            v.approve(Actor::Operator, id).await?;
        }
        RequestCmd::Deny { id } => {
            v.deny(Actor::Operator, id).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `vault connect-sra`: connects (or re-connects, keeping the API key unless --rotate-key), or
/// with --show prints the stored settings.
async fn connect_sra(v: &Vault, a: ConnectSraArgs) -> Result<ExitCode> {
    if a.show {
        let Some(s) = v.sra_settings().await? else {
            bail!("Secure Remote Access is not connected yet: run `vault connect-sra --host … --port … --client-id … --client-secret-stdin --release-minutes …`");
        };
        println!("Console:           {}:{}", s.console_host, s.console_port);
        println!("OAuth client ID:   {} (its secret is stored sealed)", s.console_client_id);
        println!("Release duration:  {} minutes", s.release_minutes);
        println!("Access policy:     {}", s.policy);
        println!(
            "API registration:  {} (ID {}, {}; its key is stored sealed for the broker)",
            s.registration,
            s.registration_id,
            if s.registration_active { "active" } else { "inactive" }
        );
        println!(
            "Requesters group:  {} ({})",
            s.requesters_group,
            if s.requesters.is_empty() { "no members".to_string() } else { s.requesters.join(", ") }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(host), Some(port), Some(client_id), Some(release_minutes)) =
        (a.host, a.port, a.client_id, a.release_minutes)
    else {
        bail!("pass --host, --port, --client-id and --release-minutes (or --show)");
    };
    let client_secret = if a.client_secret_stdin { Some(read_stdin("OAuth client secret")?) } else { None };
    let outcome = v
        .connect_sra(SraSettings {
            host: host.clone(),
            port,
            client_id,
            client_secret,
            release_minutes,
            rotate_key: a.rotate_key,
        })
        .await?;
    let what = match &outcome {
        SraKey::Created(_) => "key created",
        SraKey::Replaced(_) => "key replaced",
        SraKey::Kept => "key kept",
    };
    audit_cli(v, "vault.connect-sra", None, &format!("console {host}:{port}; {what}")).await?;
    println!("Access policy:     {}", vault::admin::SRA_POLICY);
    println!("API registration:  {}", vault::admin::SRA_REGISTRATION);
    println!("Requesters group:  {}", vault::admin::SRA_GROUP);
    match outcome {
        SraKey::Created(key) => {
            println!("Broker configuration stored (sealed); the API key (shown once):");
            println!("{}", key.as_str());
        }
        SraKey::Replaced(key) => {
            println!(
                "Broker configuration stored (sealed). The API key was REPLACED (--rotate-key): the old key"
            );
            println!("no longer signs in; give the broker the new one (shown once):");
            println!("{}", key.as_str());
        }
        SraKey::Kept => {
            println!(
                "Broker configuration updated (sealed). The API key was kept: the broker keeps signing in"
            );
            println!("with it (pass --rotate-key to replace it).");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Unix seconds as RFC 3339 UTC (`2026-11-23T10:00:00Z`).
fn rfc3339(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| at.to_string())
}

async fn rekey(data: &Path, database_url: Option<&str>) -> Result<ExitCode> {
    use store::seal::{MasterKey, MASTER_KEY_ENV, MASTER_KEY_FILE};
    let store = match database_url {
        Some(url) => store::Store::open(url).await?,
        None => store::Store::open_data_dir(data).await?,
    };
    let old = MasterKey::for_data_dir(data)?;
    let text = read_stdin("new master key")?;
    let new = MasterKey::from_base64(text.trim())?;
    vault::rekey(&store, &old, &new).await?;
    if std::env::var_os(MASTER_KEY_ENV).is_some() {
        println!("data key re-wrapped; set {MASTER_KEY_ENV} to the new key before the next start");
    } else {
        let path = data.join(MASTER_KEY_FILE);
        let tmp = data.join(format!("{MASTER_KEY_FILE}.new"));
        {
            use std::io::Write;
            #[cfg(unix)]
            use std::os::unix::fs::OpenOptionsExt;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            opts.mode(0o600);
            let mut f = opts.open(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
            f.write_all(format!("{}\n", text.trim()).as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))?;
        println!("data key re-wrapped; {} now holds the new master key", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(v: Vault, a: ServeArgs) -> Result<ExitCode> {
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(c), Some(k)) => Some(vault::serve::tls_config(c, k)?),
        _ => None,
    };
    let listener = std::net::TcpListener::bind(a.listen).with_context(|| {
        format!("cannot listen on {}: is another process using it? Pass --listen ADDR:PORT", a.listen)
    })?;
    let bound = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("Password Safe API: {scheme}://{bound}{}/", vault::web::BASE);
    let worker = tokio::spawn(v.clone().run_rotation_worker(Duration::from_secs(15)));
    let app = vault::web::router(v);
    tracing::info!(listen = %bound, tls = tls.is_some(), "vault API started");
    vault::serve::serve(listener, app, tls, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the vault API server failed")?;
    worker.abort();
    Ok(ExitCode::SUCCESS)
}
