//! `portcullis console …`: the remote-access console's administration from the command line —
//! API accounts, jump items and groups, group policies, and the connected brokers. Works with
//! or without the server running (the same database; SQLite in the data directory or
//! --database-url).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use console::accounts::{ApiAccount, CommandAccess, IssuedSecret, Permissions};
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
        }?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The console's tables in the data directory's database (or --database-url), migrated.
async fn open(data: &Path, database_url: Option<&str>) -> Result<ConsoleStore> {
    let store = match database_url {
        Some(url) => store::Store::open(url).await?,
        None => {
            std::fs::create_dir_all(data)
                .with_context(|| format!("cannot create the data directory {}", data.display()))?;
            store::Store::open_data_dir(data).await?
        }
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
