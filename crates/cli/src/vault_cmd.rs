//! `portcullis vault …`: the credential vault's administration (managed systems and accounts,
//! users, groups, policies, API registrations, OAuth clients, requests), "Connect to Secure Remote
//! Access", the audit log check, re-keying, and `vault serve` (the Password Safe v3 API over
//! HTTPS). Works with or without a server running on the same data directory.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use vault::admin::{AccountChanges, NewAccount, NewPolicy, NewRegistration, NewSystem, SraKey, SraSettings};
use vault::audit::{Event, Verdict};
use vault::ip::IpRule;
use vault::model::{parse_policy, policy_classes, Actor, PasswordPolicy, Role, Scope};
use vault::requests::Queue;
use vault::Vault;
use zeroize::Zeroizing;

#[derive(Subcommand)]
pub enum VaultCommand {
    /// Managed systems (hosts, databases) whose accounts the vault manages.
    #[command(subcommand)]
    System(SystemCmd),
    /// Managed accounts on managed systems.
    #[command(subcommand)]
    Account(AccountCmd),
    /// Vault users (who sign in to the API).
    #[command(subcommand)]
    User(UserCmd),
    /// User groups: members, roles per scope, access policy and API registration.
    #[command(subcommand)]
    Group(GroupCmd),
    /// Access policies (auto-approve or N approvals, time window, maximum duration).
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// API registrations (API keys with IP rules).
    #[command(subcommand)]
    Registration(RegistrationCmd),
    /// OAuth clients (client-credentials flow) that act as a vault user.
    #[command(subcommand, name = "oauth-client")]
    OauthClient(OauthCmd),
    /// Release requests.
    #[command(subcommand)]
    Request(RequestCmd),
    /// "Connect to Secure Remote Access": creates the approval policy, the API registration and
    /// the requesters group (Requestor on every API-enabled account), stores the broker's
    /// configuration, and prints the registration's 128-character API key last. A re-run updates
    /// the settings and keeps the key unless --rotate-key; --show prints the stored settings.
    ConnectSra(ConnectSraArgs),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Re-wraps the data key under a new master key (records stay as they are; running servers
    /// keep working). Reads the new key (base64 of 32 bytes) from standard input and writes it
    /// to the data directory's master.key (unless PORTCULLIS_MASTER_KEY is set: then update
    /// that variable yourself).
    Rekey,
    /// Serves the Password Safe v3 API at /BeyondTrust/api/public/v3/ (HTTPS with --tls-cert and --tls-key).
    Serve(ServeArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Platform {
    Generic,
    LinuxSsh,
    Postgresql,
}

impl Platform {
    fn name(self) -> &'static str {
        match self {
            Platform::Generic => "generic",
            Platform::LinuxSsh => "linux-ssh",
            Platform::Postgresql => "postgresql",
        }
    }
}

#[derive(Subcommand)]
pub enum SystemCmd {
    /// Creates a managed system; prints its ID.
    Create {
        /// Name (unique, case-insensitive).
        #[arg(long)]
        name: String,
        /// Host name or IP address.
        #[arg(long)]
        host: String,
        /// Platform: picks the rotator. generic stores the password only: the vault cannot change it
        /// there, so its accounts take no rotation settings.
        #[arg(long, value_enum, default_value = "generic")]
        platform: Platform,
        /// Port (the platform's default when omitted).
        #[arg(long)]
        port: Option<u16>,
        /// Workgroup or domain.
        #[arg(long)]
        workgroup: Option<String>,
    },
    /// Lists managed systems.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Changes a managed system; sets the functional account the rotators use.
    Set {
        /// The system's name or ID.
        system: String,
        /// Host name or IP address.
        #[arg(long)]
        host: Option<String>,
        /// Port (the platform's default when omitted).
        #[arg(long)]
        port: Option<u16>,
        /// Workgroup or domain.
        #[arg(long)]
        workgroup: Option<String>,
        /// The functional (administrator) account that changes passwords on this system.
        #[arg(long, requires = "functional_password_stdin")]
        functional_account: Option<String>,
        /// Read the functional account's password from standard input (stored sealed).
        #[arg(long, requires = "functional_account")]
        functional_password_stdin: bool,
    },
    /// Deletes a managed system and its accounts.
    Delete { system: String },
}

#[derive(Subcommand)]
pub enum AccountCmd {
    /// Creates a managed account; prints its ID.
    Create {
        /// The managed system's name or ID.
        #[arg(long)]
        system: String,
        /// Name (unique, case-insensitive).
        #[arg(long)]
        name: String,
        /// Read the account's current password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Allow requests through the API (off by default).
        #[arg(long)]
        api_enabled: bool,
        /// Rotate the password after every release (at check-in or expiry); refused on generic
        /// systems, which have no rotator.
        #[arg(long)]
        change_after_release: bool,
        /// The longest release allowed, in minutes. [default: 10080]
        #[arg(long)]
        max_release_minutes: Option<i64>,
        /// The account's domain.
        #[arg(long)]
        domain: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Generated password length (8-128). [default: 32]
        #[arg(long)]
        password_length: Option<u16>,
        /// Generated password classes, a subset of "luds" (lower, upper, digits, symbols). [default: luds]
        #[arg(long)]
        password_classes: Option<String>,
        /// Also rotate every N days.
        #[arg(long)]
        rotation_days: Option<i64>,
    },
    /// Lists managed accounts (never their passwords).
    List {
        /// Only this system's accounts (name or ID).
        #[arg(long)]
        system: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Changes a managed account.
    Set {
        /// The account's ID, or its name with --system.
        account: String,
        /// The managed system (name or ID).
        #[arg(long)]
        system: Option<String>,
        /// Allow (true) or refuse (false) requests through the API.
        #[arg(long)]
        api_enabled: Option<bool>,
        /// Rotate the password after every release (true or false).
        #[arg(long)]
        change_after_release: Option<bool>,
        /// The longest release allowed, in minutes.
        #[arg(long)]
        max_release_minutes: Option<i64>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Generated password length (8-128).
        #[arg(long)]
        password_length: Option<u16>,
        /// Generated password classes, a subset of "luds" (lower, upper, digits, symbols).
        #[arg(long)]
        password_classes: Option<String>,
        /// Store a new current password read from standard input (the target is not changed).
        #[arg(long)]
        password_stdin: bool,
        /// Rotate the password on the target now.
        #[arg(long)]
        rotate_now: bool,
    },
    /// Deletes a managed account.
    Delete {
        /// The account's ID, or its name with --system.
        account: String,
        /// The managed system (name or ID).
        #[arg(long)]
        system: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Creates a vault user; prints its ID.
    Create {
        /// Name (unique, case-insensitive).
        #[arg(long)]
        name: String,
        /// Read the user's password (for PS-Auth pwd=[…]) from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
    },
    /// Lists vault users.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Changes a user's password (standard input) or e-mail address.
    Set {
        /// Its name or ID.
        name: String,
        /// Read a new password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
    },
    /// Deletes one of the vault users.
    Delete {
        /// Its name or ID.
        name: String,
    },
}

#[derive(Subcommand)]
pub enum GroupCmd {
    /// Creates a group; prints its ID.
    Create {
        /// Name (unique, case-insensitive).
        #[arg(long)]
        name: String,
    },
    /// Lists groups.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Attaches an access policy and/or an API registration ("none" detaches).
    Set {
        /// Its name or ID.
        name: String,
        /// Access policy (name or ID; "none" detaches).
        #[arg(long)]
        policy: Option<String>,
        /// API registration (name or ID; "none" detaches).
        #[arg(long)]
        registration: Option<String>,
    },
    /// Deletes one of the groups.
    Delete {
        /// Its name or ID.
        name: String,
    },
    /// Adds a user to a group.
    AddMember {
        /// The group (name or ID).
        #[arg(long)]
        group: String,
        /// The vault user (name or ID).
        #[arg(long)]
        user: String,
    },
    /// Removes a user from a group.
    RemoveMember {
        /// The group (name or ID).
        #[arg(long)]
        group: String,
        /// The vault user (name or ID).
        #[arg(long)]
        user: String,
    },
    /// Grants a role on a scope: everything (default), a system (--system) or an account (--account ID).
    Grant {
        /// The group (name or ID).
        #[arg(long)]
        group: String,
        /// Requestor, Requestor/Approver, Approver or Administrator.
        #[arg(long)]
        role: String,
        /// Scope: one managed system (name or ID).
        #[arg(long, conflicts_with = "account")]
        system: Option<String>,
        /// Scope: one managed account (ID).
        #[arg(long)]
        account: Option<i64>,
    },
    /// Revokes a role granted with `grant`.
    Revoke {
        /// The group (name or ID).
        #[arg(long)]
        group: String,
        /// Requestor, Requestor/Approver, Approver or Administrator.
        #[arg(long)]
        role: String,
        /// Scope: one managed system (name or ID).
        #[arg(long, conflicts_with = "account")]
        system: Option<String>,
        /// Scope: one managed account (ID).
        #[arg(long)]
        account: Option<i64>,
    },
}

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// Creates an access policy; prints its ID.
    Create {
        /// Name (unique, case-insensitive).
        #[arg(long)]
        name: String,
        /// Approvals needed (0 = auto-approve).
        #[arg(long, default_value_t = 0)]
        approvals: i64,
        /// Daily window start, HH:MM UTC (all day when omitted).
        #[arg(long, requires = "window_end")]
        window_start: Option<String>,
        /// Daily window end, HH:MM UTC.
        #[arg(long, requires = "window_start")]
        window_end: Option<String>,
        /// The longest release, in minutes.
        #[arg(long, default_value_t = 1440)]
        max_minutes: i64,
    },
    /// Lists access policies.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    Set {
        /// Its name or ID.
        name: String,
        /// Approvals needed (0 = auto-approve).
        #[arg(long)]
        approvals: Option<i64>,
        /// The longest release, in minutes.
        #[arg(long)]
        max_minutes: Option<i64>,
    },
    /// Deletes one of the access policies.
    Delete {
        /// Its name or ID.
        name: String,
    },
}

#[derive(Subcommand)]
pub enum RegistrationCmd {
    /// Creates an API registration; prints its ID, then its 128-character key (shown once).
    Create {
        /// Name (unique, case-insensitive).
        #[arg(long)]
        name: String,
        /// IP rule: an address, FIRST-LAST, or a CIDR block (repeatable; none = any address).
        #[arg(long = "ip-rule")]
        ip_rules: Vec<String>,
        /// Access token duration in minutes.
        #[arg(long, default_value_t = 60)]
        token_minutes: i64,
        /// Require the run-as user's password (pwd=[…]) at sign-in.
        #[arg(long)]
        user_password_required: bool,
    },
    /// Lists API registrations.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Changes a registration; --ip-rule replaces all rules (--clear-ip-rules removes them).
    Set {
        /// Its name or ID.
        name: String,
        /// Enable (true) or disable (false) the registration.
        #[arg(long)]
        active: Option<bool>,
        /// IP rule: an address, FIRST-LAST or a CIDR block (repeatable; replaces all rules).
        #[arg(long = "ip-rule")]
        ip_rules: Vec<String>,
        /// Remove every IP rule (any address may sign in).
        #[arg(long)]
        clear_ip_rules: bool,
        /// Access token duration in minutes.
        #[arg(long)]
        token_minutes: Option<i64>,
        /// Require the run-as user's password (pwd=[…]) at sign-in (true or false).
        #[arg(long)]
        user_password_required: Option<bool>,
    },
    /// Replaces the key; prints the new one (shown once).
    RotateKey {
        /// Its name or ID.
        name: String,
    },
    /// Deletes one of the API registrations.
    Delete {
        /// Its name or ID.
        name: String,
    },
}

#[derive(Subcommand)]
pub enum OauthCmd {
    /// Creates an OAuth client acting as a vault user; prints "CLIENT_ID CLIENT_SECRET" last.
    Create {
        /// The vault user (name or ID).
        #[arg(long)]
        user: String,
    },
    /// Lists OAuth clients.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Deletes one of the OAuth clients.
    Delete {
        /// The OAuth client ID.
        client_id: String,
    },
}

#[derive(Subcommand)]
pub enum RequestCmd {
    /// Lists release requests.
    List {
        /// all, active, pending, approved, denied, checked-in (or released), expired.
        #[arg(long)]
        status: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Approves a pending request outright (as the host's administrator).
    Approve { id: i64 },
    /// Denies a pending request.
    Deny { id: i64 },
}

#[derive(Args)]
pub struct ConnectSraArgs {
    /// Print the stored settings (never the client secret or the API key) and change nothing.
    #[arg(long, conflicts_with_all = ["host", "port", "client_id", "client_secret_stdin", "release_minutes", "rotate_key"])]
    show: bool,
    /// The remote-access console's host.
    #[arg(long, required_unless_present = "show")]
    host: Option<String>,
    /// The console's port.
    #[arg(long, required_unless_present = "show")]
    port: Option<u16>,
    /// The console's OAuth client ID.
    #[arg(long, required_unless_present = "show")]
    client_id: Option<String>,
    /// Read the console's OAuth client secret from standard input (needed the first time; a
    /// re-run without it keeps the stored secret).
    #[arg(long)]
    client_secret_stdin: bool,
    /// The release duration the broker asks for (1-1440 minutes).
    #[arg(long, required_unless_present = "show")]
    release_minutes: Option<i64>,
    /// Replace the API key of the registration (a re-run keeps it otherwise). The broker's old
    /// key then no longer signs in: give it the new one, printed last.
    #[arg(long)]
    rotate_key: bool,
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Recomputes the hash chain; exit 1 naming the first bad row when it was tampered with.
    Verify,
    /// Shows the last rows.
    List {
        /// How many of the newest rows.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the URL is printed).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Certificate chain (PEM) for HTTPS.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) for HTTPS.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

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
