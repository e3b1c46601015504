//! `portcullis console …`: the remote-access console's administration from the command line —
//! API accounts, jump items and groups, group policies, and the connected brokers. Works with
//! or without the server running (the same database; SQLite in the data directory or
//! --database-url).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use console::accounts::{ApiAccount, CommandAccess, IssuedSecret, Permissions};
use console::app::representatives::NewRepresentative;
use console::db::{rfc3339, BROKER_KEEPALIVE};
use console::items::{ItemType, JumpItem, NewJumpItem};
use console::ConsoleStore;
use serde_json::{json, Value};

/// The remote-access console: API accounts, jump items and groups, group policies, brokers.
#[derive(Args)]
pub struct ConsoleArgs {
    #[command(subcommand)]
    command: ConsoleCommand,
}

#[derive(Subcommand)]
enum ConsoleCommand {
    /// API accounts: the OAuth clients of the Command, Reporting and Endpoint Credential Manager APIs.
    #[command(subcommand)]
    ApiAccount(AccountCommand),
    /// Jump items: the endpoints representatives open sessions into.
    #[command(subcommand)]
    JumpItem(ItemCommand),
    /// Jump groups: what group policies grant.
    #[command(subcommand)]
    JumpGroup(GroupCommand),
    /// Group policies: which jump groups the representatives of a policy may use.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The brokers connected to the console, the one connected longest first (a broker not seen
    /// for three keep-alive intervals is not listed).
    Brokers {
        /// Print JSON (an array of objects) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Local representatives: console users who sign in with a password instead of SAML.
    #[command(subcommand)]
    Representative(RepresentativeCommand),
    /// The console's SAML service provider: representatives sign in through the IdP.
    #[command(subcommand)]
    Sp(SpCommand),
    /// An interactive session into a jump item from this terminal, through the running server
    /// (its brokers release the credential; you never see it). Ctrl-] or the remote shell's
    /// exit ends it. Without --credential the offered credentials are listed to pick from.
    Connect {
        /// The jump item's name or ID.
        item: String,
        /// The ID of the credential to log in with (as the offers list shows it).
        #[arg(long, value_name = "ID")]
        credential: Option<String>,
        /// The local representative the session runs as (their policies decide the jump items
        /// and the brokers' offers). [default: the only local representative]
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: Option<String>,
        /// The server's plain-HTTP base URL. [default: what `portcullis up` wrote to
        /// DATA/console.url]
        #[arg(long, value_name = "URL")]
        server: Option<String>,
    },
}

#[derive(Subcommand)]
enum RepresentativeCommand {
    /// Create a local representative; the password is read from stdin (12 to 1024 characters).
    Create {
        /// The user name they sign in with, and the console user the brokers map to a vault user.
        #[arg(long, value_name = "U")]
        username: String,
        /// The name the console shows. [default: the user name]
        #[arg(long, value_name = "N")]
        display_name: Option<String>,
        /// A group policy (`console policy set` says which jump groups it grants); repeatable.
        #[arg(long = "policy", value_name = "P", num_args = 1..)]
        policies: Vec<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List the local representatives.
    List {
        /// Print JSON (an array of objects) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SpCommand {
    /// Trust an identity provider for the console's sign-in, from its SAML metadata (a new
    /// provider, or the known one refreshed). Import the console's own metadata (`console sp
    /// metadata`) into the IdP's application in turn.
    ImportIdpMetadata {
        /// The IdP's metadata XML file.
        file: std::path::PathBuf,
        /// The provider's name on the sign-in page.
        #[arg(long, value_name = "NAME", default_value = "Portcullis")]
        name: String,
        /// A group policy every representative of this IdP gets.
        #[arg(long, value_name = "POLICY")]
        default_policy: Option<String>,
        /// Map an IdP group (its object ID, as the Groups attribute sends it) to a group policy;
        /// repeatable.
        #[arg(long = "map-group", value_name = "OBJECT_ID=POLICY")]
        map_groups: Vec<String>,
        /// The service's public base URL (the console is BASE/console). [default: the one stored
        /// by an earlier run or by `portcullis up`]
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
    },
    /// Print the console's SP metadata XML (entity ID BASE/console/saml/metadata, ACS
    /// BASE/console/saml/acs), to import with `portcullis idp app import-sp-metadata`.
    Metadata {
        /// The service's public base URL. [default: the one stored]
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
    },
}

/// The Command API access of an API account.
#[derive(Clone, Copy, ValueEnum)]
enum CommandApiArg {
    /// No access.
    None,
    /// List and read jump items, jump groups and sessions.
    Read,
    /// Read, and create, change and delete jump items.
    Full,
}

impl From<CommandApiArg> for CommandAccess {
    fn from(a: CommandApiArg) -> CommandAccess {
        match a {
            CommandApiArg::None => CommandAccess::None,
            CommandApiArg::Read => CommandAccess::Read,
            CommandApiArg::Full => CommandAccess::Full,
        }
    }
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an enabled API account. Prints its details, then "CLIENT_ID CLIENT_SECRET" on the
    /// last line: the secret is shown this once (only its hash is kept).
    Create {
        /// The account's name (unique without regard to case).
        #[arg(long, value_name = "N")]
        name: String,
        /// Command API access: none, read or full.
        #[arg(long, value_enum, value_name = "ACCESS", default_value = "none")]
        command_api: CommandApiArg,
        /// Allow the Reporting API (access session reports and recordings).
        #[arg(long)]
        reporting_api: bool,
        /// Allow the Endpoint Credential Manager API (register a broker).
        #[arg(long)]
        ecm_api: bool,
        /// The ECM group the account's brokers serve (needs --ecm-api). [default with --ecm-api: Default]
        #[arg(long, value_name = "G", requires = "ecm_api")]
        ecm_group: Option<String>,
    },
    /// List the API accounts (never their secrets).
    List {
        /// Print JSON (an array of objects) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one API account.
    Show {
        /// The account's name, client ID or ID.
        account: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Change an API account's permissions (what is not given stays); its tokens get the new
    /// permissions on their next call.
    Set {
        /// The account's name, client ID or ID.
        account: String,
        /// Command API access: none, read or full.
        #[arg(long, value_enum, value_name = "ACCESS")]
        command_api: Option<CommandApiArg>,
        /// The Reporting API: on or off.
        #[arg(long, value_enum, value_name = "ON_OFF")]
        reporting_api: Option<Switch>,
        /// The Endpoint Credential Manager API: on or off (off also clears the ECM group).
        #[arg(long, value_enum, value_name = "ON_OFF")]
        ecm_api: Option<Switch>,
        /// The ECM group the account's brokers serve (the account must have, or be given, the ECM API).
        #[arg(long, value_name = "G")]
        ecm_group: Option<String>,
    },
    /// Enable an API account (its earlier tokens stay revoked: it requests new ones).
    Enable {
        /// The account's name, client ID or ID.
        account: String,
    },
    /// Disable an API account: its tokens stop working at once and it gets no new ones.
    Disable {
        /// The account's name, client ID or ID.
        account: String,
    },
    /// Replace an API account's client secret: the old one and its tokens stop working at once.
    /// Prints "CLIENT_ID CLIENT_SECRET" on the last line; the secret is shown this once.
    RotateSecret {
        /// The account's name, client ID or ID.
        account: String,
    },
    /// Delete an API account and its tokens.
    Delete {
        /// The account's name, client ID or ID.
        account: String,
    },
}

/// A permission switched on or off.
#[derive(Clone, Copy, ValueEnum)]
enum Switch {
    On,
    Off,
}

impl Switch {
    fn on(self) -> bool {
        matches!(self, Switch::On)
    }
}

/// A jump item's type.
#[derive(Clone, Copy, ValueEnum)]
enum ItemTypeArg {
    /// An SSH endpoint (--host, --port).
    Ssh,
    /// A web application (--url; --host defaults to the URL's host).
    Web,
    /// An application on a host (--host, --app).
    App,
}

impl From<ItemTypeArg> for ItemType {
    fn from(a: ItemTypeArg) -> ItemType {
        match a {
            ItemTypeArg::Ssh => ItemType::Ssh,
            ItemTypeArg::Web => ItemType::Web,
            ItemTypeArg::App => ItemType::App,
        }
    }
}

#[derive(Subcommand)]
enum ItemCommand {
    /// Create a jump item; prints its ID. A jump group that does not exist yet is created (it
    /// grants nothing until `console policy set` names it).
    Create {
        /// The item's name (unique without regard to case).
        #[arg(long, value_name = "N")]
        name: String,
        /// The item's type: ssh, web or app.
        #[arg(long = "type", value_enum, value_name = "TYPE")]
        item_type: ItemTypeArg,
        /// Host name or IP address (ssh and app items; a web item's defaults to its URL's host).
        #[arg(long, value_name = "H")]
        host: Option<String>,
        /// The SSH port of an ssh item. [default: 22]
        #[arg(long, value_name = "P")]
        port: Option<u16>,
        /// The URL of a web item (http or https).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// The application name of an app item.
        #[arg(long = "app", value_name = "NAME")]
        application: Option<String>,
        /// The jump group the item belongs to. [default: Default]
        #[arg(long, value_name = "G")]
        jump_group: Option<String>,
        /// A tag, for sorting and searching.
        #[arg(long, value_name = "T")]
        tag: Option<String>,
    },
    /// List the jump items.
    List {
        /// Print JSON (an array of objects) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Delete a jump item and its host-key pin (its sessions' reports stay).
    Delete {
        /// The item's name or ID.
        item: String,
    },
}

#[derive(Subcommand)]
enum GroupCommand {
    /// Create a jump group; prints its ID.
    Create {
        /// The group's name (unique without regard to case).
        #[arg(long, value_name = "G")]
        name: String,
    },
    /// List the jump groups.
    List {
        /// Print JSON (an array of objects) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Set the jump groups a group policy grants, replacing what it granted (groups must exist;
    /// give no --jump-group to take every grant away).
    Set {
        /// The group policy's name (as the sign-in's group mapping names it).
        #[arg(long, value_name = "NAME")]
        policy: String,
        /// A jump group the policy grants (repeat it, or give several after one flag).
        #[arg(long = "jump-group", value_name = "G", num_args = 1..)]
        jump_groups: Vec<String>,
    },
    /// List the group policies and the jump groups they grant.
    List {
        /// Print JSON (an array of objects) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(data: &Path, database_url: Option<&str>, args: ConsoleArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async move {
        let db = open(data, database_url).await?;
        match args.command {
            ConsoleCommand::ApiAccount(c) => account(&db, c).await,
            ConsoleCommand::JumpItem(c) => item(&db, c).await,
            ConsoleCommand::JumpGroup(c) => group(&db, c).await,
            ConsoleCommand::Policy(c) => policy(&db, c).await,
            ConsoleCommand::Brokers { json } => brokers(&db, json).await,
            ConsoleCommand::Representative(c) => representative(&db, c).await,
            ConsoleCommand::Sp(c) => sp_command(data, &db, c).await,
            ConsoleCommand::Connect { item, credential, as_user, server } => {
                return connect(data, &db, item, credential, as_user, server).await;
            }
        }?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The console's tables in the data directory's database (or --database-url), migrated. The
/// data directory exists: `main` refused a missing one.
async fn open(data: &Path, database_url: Option<&str>) -> Result<ConsoleStore> {
    let store = match database_url {
        Some(url) => store::Store::open(url).await?,
        None => store::Store::open_data_dir(data).await?,
    };
    Ok(ConsoleStore::open(store).await?)
}

fn account_json(a: &ApiAccount) -> Value {
    let p = &a.permissions;
    json!({
        "id": a.id,
        "name": a.name,
        "client_id": a.client_id,
        "enabled": a.enabled,
        "command_api": p.command_api.as_str(),
        "reporting_api": p.reporting_api,
        "ecm_api": p.ecm_api,
        "ecm_group": p.ecm_group,
        "created": rfc3339(a.created_at),
        "secret_changed": rfc3339(a.secret_changed_at),
    })
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn print_account(a: &ApiAccount) {
    let p = &a.permissions;
    println!("API account {:?} (ID {}), {}", a.name, a.id, if a.enabled { "enabled" } else { "disabled" });
    println!("  client ID:       {}", a.client_id);
    println!("  Command API:     {}", p.command_api);
    println!("  Reporting API:   {}", yes_no(p.reporting_api));
    match &p.ecm_group {
        Some(g) if p.ecm_api => println!("  ECM API:         yes (ECM group {g})"),
        _ => println!("  ECM API:         no"),
    }
    println!("  created:         {}", rfc3339(a.created_at));
    println!("  secret changed:  {}", rfc3339(a.secret_changed_at));
}

/// The account's details, then the contract's last line.
fn print_secret(issued: &IssuedSecret) {
    print_account(&issued.account);
    println!("The client secret is shown this once; store it now. CLIENT_ID CLIENT_SECRET:");
    println!("{} {}", issued.account.client_id, issued.client_secret.as_str());
}

/// Columns padded to their widest cell.
fn table(header: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(r);
    }
}

fn print_json(v: &Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

async fn account(db: &ConsoleStore, c: AccountCommand) -> Result<()> {
    match c {
        AccountCommand::Create { name, command_api, reporting_api, ecm_api, ecm_group } => {
            let p = Permissions { command_api: command_api.into(), reporting_api, ecm_api, ecm_group };
            print_secret(&db.create_api_account(&name, &p).await?);
        }
        AccountCommand::List { json } => {
            let accounts = db.api_accounts().await?;
            if json {
                return print_json(&accounts.iter().map(account_json).collect());
            }
            let rows = accounts
                .iter()
                .map(|a| {
                    let p = &a.permissions;
                    vec![
                        a.name.clone(),
                        a.client_id.clone(),
                        yes_no(a.enabled).into(),
                        p.command_api.to_string(),
                        yes_no(p.reporting_api).into(),
                        if p.ecm_api { p.ecm_group.clone().unwrap_or_default() } else { "no".into() },
                    ]
                })
                .collect();
            table(&["NAME", "CLIENT ID", "ENABLED", "COMMAND API", "REPORTING API", "ECM"], rows);
        }
        AccountCommand::Show { account, json } => {
            let a = db.api_account(&account).await?;
            if json {
                return print_json(&account_json(&a));
            }
            print_account(&a);
        }
        AccountCommand::Set { account, command_api, reporting_api, ecm_api, ecm_group } => {
            let old = db.api_account(&account).await?.permissions;
            let ecm_api = ecm_api.map_or(old.ecm_api, Switch::on);
            let p = Permissions {
                command_api: command_api.map_or(old.command_api, Into::into),
                reporting_api: reporting_api.map_or(old.reporting_api, Switch::on),
                ecm_api,
                // Turning the ECM API off clears the group; a group given without it is refused.
                ecm_group: match (ecm_group, ecm_api) {
                    (Some(g), _) => Some(g),
                    (None, true) => old.ecm_group,
                    (None, false) => None,
                },
            };
            print_account(&db.set_api_account_permissions(&account, &p).await?);
        }
        AccountCommand::Enable { account } => {
            let a = db.set_api_account_enabled(&account, true).await?;
            println!("API account {:?} enabled", a.name);
        }
        AccountCommand::Disable { account } => {
            let a = db.set_api_account_enabled(&account, false).await?;
            println!("API account {:?} disabled; its tokens no longer work", a.name);
        }
        AccountCommand::RotateSecret { account } => {
            print_secret(&db.rotate_api_account_secret(&account).await?);
        }
        AccountCommand::Delete { account } => {
            let a = db.delete_api_account(&account).await?;
            println!("API account {:?} deleted", a.name);
        }
    }
    Ok(())
}

fn item_json(i: &JumpItem) -> Value {
    json!({
        "id": i.id,
        "name": i.name,
        "type": i.item_type.as_str(),
        "host": i.host,
        "port": i.port,
        "url": i.url,
        "application": i.application,
        "jump_group": i.jump_group,
        "tag": i.tag,
        "created": rfc3339(i.created_at),
    })
}

async fn item(db: &ConsoleStore, c: ItemCommand) -> Result<()> {
    match c {
        ItemCommand::Create { name, item_type, host, port, url, application, jump_group, tag } => {
            let new = NewJumpItem {
                name,
                item_type: item_type.into(),
                host,
                port,
                url,
                application,
                jump_group,
                tag,
            };
            println!("{}", db.create_jump_item(&new).await?.id);
        }
        ItemCommand::List { json } => {
            let items = db.jump_items().await?;
            if json {
                return print_json(&items.iter().map(item_json).collect());
            }
            let rows = items
                .iter()
                .map(|i| {
                    let target = match (i.item_type, &i.url, &i.application, i.port) {
                        (ItemType::Web, Some(url), _, _) => url.clone(),
                        (ItemType::App, _, Some(app), _) => format!("{} on {}", app, i.host),
                        (_, _, _, Some(port)) => format!("{}:{port}", i.host),
                        _ => i.host.clone(),
                    };
                    vec![
                        i.name.clone(),
                        i.item_type.to_string(),
                        target,
                        i.jump_group.clone(),
                        i.tag.clone().unwrap_or_default(),
                        i.id.clone(),
                    ]
                })
                .collect();
            table(&["NAME", "TYPE", "ENDPOINT", "JUMP GROUP", "TAG", "ID"], rows);
        }
        ItemCommand::Delete { item } => {
            let i = db.delete_jump_item(&item).await?;
            println!("jump item {:?} deleted", i.name);
        }
    }
    Ok(())
}

async fn group(db: &ConsoleStore, c: GroupCommand) -> Result<()> {
    match c {
        GroupCommand::Create { name } => println!("{}", db.create_jump_group(&name).await?.id),
        GroupCommand::List { json } => {
            let groups = db.jump_groups().await?;
            if json {
                let v = groups
                    .iter()
                    .map(|g| json!({"id": g.id, "name": g.name, "created": rfc3339(g.created_at)}));
                return print_json(&v.collect());
            }
            table(&["NAME", "ID"], groups.into_iter().map(|g| vec![g.name, g.id]).collect());
        }
    }
    Ok(())
}

async fn policy(db: &ConsoleStore, c: PolicyCommand) -> Result<()> {
    match c {
        PolicyCommand::Set { policy, jump_groups } => {
            let grant = db.set_policy(&policy, &jump_groups).await?;
            if grant.jump_groups.is_empty() {
                println!("policy {:?} grants no jump group", grant.policy);
            } else {
                println!("policy {:?} grants: {}", grant.policy, grant.jump_groups.join(", "));
            }
        }
        PolicyCommand::List { json } => {
            let policies = db.policies().await?;
            if json {
                let v = policies.iter().map(|p| json!({"policy": p.policy, "jump_groups": p.jump_groups}));
                return print_json(&v.collect());
            }
            table(
                &["POLICY", "JUMP GROUPS"],
                policies.into_iter().map(|p| vec![p.policy, p.jump_groups.join(", ")]).collect(),
            );
        }
    }
    Ok(())
}

async fn brokers(db: &ConsoleStore, json: bool) -> Result<()> {
    let brokers = db.connected_brokers(BROKER_KEEPALIVE).await?;
    if json {
        let v = brokers.iter().map(|b| {
            json!({
                "id": b.id,
                "name": b.name,
                "version": b.version,
                "ecm_group": b.ecm_group,
                "api_account": b.api_account,
                "connected_at": rfc3339(b.connected_at),
                "last_seen": rfc3339(b.last_seen),
                "node": b.node,
            })
        });
        return print_json(&v.collect());
    }
    if brokers.is_empty() {
        println!("no broker is connected");
        return Ok(());
    }
    let rows = brokers
        .into_iter()
        .map(|b| {
            vec![
                b.name,
                b.version,
                b.ecm_group,
                b.api_account.unwrap_or_default(),
                rfc3339(b.connected_at),
                rfc3339(b.last_seen),
                b.node,
            ]
        })
        .collect();
    table(&["NAME", "VERSION", "ECM GROUP", "API ACCOUNT", "CONNECTED", "LAST SEEN", "NODE"], rows);
    Ok(())
}

async fn representative(db: &ConsoleStore, c: RepresentativeCommand) -> Result<()> {
    match c {
        RepresentativeCommand::Create { username, display_name, policies, password_stdin: _ } => {
            let mut text = zeroize::Zeroizing::new(String::new());
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .context("reading the password from standard input")?;
            let password = zeroize::Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_owned());
            let rep = db
                .create_representative(&NewRepresentative { username, display_name, policies, password })
                .await?;
            println!(
                "representative {:?} created (ID {}), policies: {}",
                rep.username,
                rep.id,
                if rep.policies.is_empty() { "none".to_owned() } else { rep.policies.join(", ") }
            );
        }
        RepresentativeCommand::List { json } => {
            let reps = db.representatives().await?;
            if json {
                let v: Vec<Value> = reps
                    .iter()
                    .map(|r| {
                        json!({"id": r.id, "username": r.username, "display_name": r.display_name,
                               "policies": r.policies, "created": rfc3339(r.created_at)})
                    })
                    .collect();
                return print_json(&Value::Array(v));
            }
            let rows = reps
                .iter()
                .map(|r| vec![r.username.clone(), r.display_name.clone(), r.policies.join(","), r.id.clone()])
                .collect();
            table(&["USERNAME", "DISPLAY NAME", "POLICIES", "ID"], rows);
        }
    }
    Ok(())
}

/// The console's SP application, its base URL from `base_url` or the stored one.
async fn console_sp(
    data: &Path,
    db: &ConsoleStore,
    base_url: Option<&str>,
) -> Result<(sp::db::SpDb, sp::db::SpApp, store::seal::Sealer)> {
    let store = db.store().clone();
    let master = store::seal::MasterKey::for_data_dir(data)?;
    let sealer = store::seal::Sealer::for_store(&store, &master).await?;
    let spdb = sp::db::SpDb::open(store).await?;
    let base = match base_url {
        Some(b) => b.trim_end_matches('/').to_owned(),
        None => match spdb.app_by_name(console::app::sp::SP_APP_NAME).await? {
            Some(app) => app.base_url.trim_end_matches("/console").to_owned(),
            None => anyhow::bail!(
                "the console's SAML service provider does not exist yet: pass --base-url URL (the service's \
                 public base URL, as `portcullis up --base-url` has it)"
            ),
        },
    };
    let app = console::app::sp::console_sp_app(&spdb, &sealer, &base).await?;
    Ok((spdb, app, sealer))
}

async fn sp_command(data: &Path, db: &ConsoleStore, c: SpCommand) -> Result<()> {
    match c {
        SpCommand::ImportIdpMetadata { file, name, default_policy, map_groups, base_url } => {
            let xml = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read the IdP metadata {}", file.display()))?;
            let (spdb, app, _) = console_sp(data, db, base_url.as_deref()).await?;
            for m in &map_groups {
                let Some((object_id, policy)) = m.split_once('=') else {
                    anyhow::bail!("--map-group {m:?}: write OBJECT_ID=POLICY");
                };
                console::app::sp::map_group(&spdb, app.id, object_id.trim(), policy.trim()).await?;
            }
            use console::app::sp::Imported;
            match console::app::sp::import_idp_metadata(&spdb, &app, &xml, &name, default_policy.as_deref())
                .await?
            {
                Imported::Created(p) => println!(
                    "identity provider {:?} ({}) trusted for the console's sign-in",
                    p.name, p.idp_entity_id
                ),
                Imported::Refreshed { provider, certificates_changed } => println!(
                    "identity provider {:?} ({}) refreshed{}",
                    provider.name,
                    provider.idp_entity_id,
                    if certificates_changed { "; its signing certificates changed" } else { "" }
                ),
            }
            println!("SP entity ID: {}/saml/metadata", app.base_url);
            println!("ACS URL:      {}/saml/acs", app.base_url);
        }
        SpCommand::Metadata { base_url } => {
            let (spdb, app, sealer) = console_sp(data, db, base_url.as_deref()).await?;
            let site = sp::web::Site::load(
                spdb,
                app.id,
                Some(&sealer),
                std::sync::Arc::new(saml::SystemClock),
                Vec::new(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))?;
            println!("{}", site.metadata_xml().await);
        }
    }
    Ok(())
}

/// The file `portcullis up` writes the server's plain-HTTP base URL to, for `console connect`.
pub const SERVER_URL_FILE: &str = "console.url";

async fn connect(
    data: &Path,
    db: &ConsoleStore,
    item: String,
    credential: Option<String>,
    as_user: Option<String>,
    server: Option<String>,
) -> Result<ExitCode> {
    let server = match server {
        Some(s) => s,
        None => {
            let path = data.join(SERVER_URL_FILE);
            std::fs::read_to_string(&path)
                .map(|s| s.trim().to_owned())
                .with_context(|| format!("no --server given and {} cannot be read: is `portcullis up` running on this data directory?", path.display()))?
        }
    };
    let as_user = match as_user {
        Some(u) => u,
        None => {
            let reps = db.representatives().await?;
            match reps.as_slice() {
                [only] => only.username.clone(),
                [] => anyhow::bail!("there is no local representative: create one with `portcullis console representative create`"),
                _ => anyhow::bail!("there are several local representatives: say which with --as USERNAME"),
            }
        }
    };
    let ticket = db.issue_connect_ticket(&as_user).await?;
    let request = console::app::client::ConnectRequest { server, ticket, item, credential };
    let ended = console::app::client::connect(request, choose).await?;
    eprintln!();
    Ok(match ended {
        console::app::client::Ended::Exited(Some(status)) => {
            eprintln!("[the remote shell exited with status {status}]");
            ExitCode::from(u8::try_from(status).unwrap_or(1))
        }
        console::app::client::Ended::Exited(None) => {
            eprintln!("[the remote shell was killed]");
            ExitCode::FAILURE
        }
        console::app::client::Ended::Escaped => {
            eprintln!("[session ended with Ctrl-]]");
            ExitCode::SUCCESS
        }
        console::app::client::Ended::Closed => {
            eprintln!("[the console closed the session]");
            ExitCode::SUCCESS
        }
    })
}

/// Lists the offers on stderr and reads the operator's choice (a number) from stdin.
fn choose(item: &str, offers: &[console::ecm::Offer]) -> std::result::Result<String, console::ConsoleError> {
    if offers.is_empty() {
        return Err(console::ConsoleError::NotFound {
            what: format!("a credential offered to you for {item:?} (the vault allows you none)"),
        });
    }
    eprintln!("Credentials offered for {item}:");
    for (i, o) in offers.iter().enumerate() {
        eprintln!("  {}) {}   [--credential {}]", i + 1, o.display_name, o.id);
    }
    eprint!("Pick one (1-{}): ", offers.len());
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| console::ConsoleError::InvalidInput { reason: format!("no choice read: {e}") })?;
    match line.trim().parse::<usize>() {
        Ok(n) if (1..=offers.len()).contains(&n) => Ok(offers[n - 1].id.clone()),
        _ => Err(console::ConsoleError::InvalidInput {
            reason: format!("{:?} is not a number from 1 to {}", line.trim(), offers.len()),
        }),
    }
}
