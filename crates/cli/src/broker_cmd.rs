//! `portcullis broker …`: runs the credential broker (`portcullis broker --config FILE`) and
//! tests its settings against the vault without a console (`portcullis broker test …`), the
//! reference document's "Test Plugin Settings".

use std::net::IpAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use broker::protocol::{ConsoleUser, ItemType, JumpItem, SessionRef};
use broker::{Broker, BrokerError, Config};
use clap::{Args, Subcommand, ValueEnum};

const ABOUT: &str = "The credential broker: answers the console's credential searches and releases through the vault's Password Safe API";

const LONG_ABOUT: &str =
    "The credential broker (the Endpoint Credential Manager's part of the remote-access \
integration). `portcullis broker --config FILE` connects out to the console named in the file's [console] \
section, registers, keeps the connection alive and serves the console's searches, retrievals and check-ins \
through the vault's Password Safe v3 API; when the console or the vault cannot be reached it logs the \
classified failure and retries with back-off. `portcullis broker test …` checks the settings without a \
console.\n\nFor `broker`, --config names the broker's own TOML file: [vault] url (https only), api_key, \
ca_file, run_as, global_approver, release_minutes (1-1440, default 360), timeout_seconds; [mapping] \
and [matching] rules; [console] url, client_id, client_secret, ca_file, name, ecm_group, keepalive_seconds; \
log. crates/broker/README.md documents every key and rule.";

const AFTER_HELP: &str = "Environment: PORTCULLIS_BROKER_API_KEY overrides [vault] api_key, \
PORTCULLIS_BROKER_CONSOLE_SECRET overrides [console] client_secret, PORTCULLIS_LOG overrides the file's log \
filter (`debug` for every vault call; no secret is logged at any level). Failure codes: crates/broker/ERRORS.md.";

#[derive(Args)]
#[command(about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
pub struct BrokerArgs {
    #[command(subcommand)]
    command: Option<BrokerCommand>,
}

#[derive(Subcommand)]
enum BrokerCommand {
    /// Simulate the console's request with the settings of --config (saved or not, no console, no broker running).
    #[command(long_about = TEST_LONG_ABOUT, after_help = AFTER_HELP)]
    Test(TestArgs),
}

const TEST_LONG_ABOUT: &str =
    "Simulates the console's request with the settings of --config FILE, without a \
console and without the broker running: maps the console user to a vault user, signs in to the vault with \
the registration key and lists the credentials that user may use on the jump item (ID and display name; an \
empty list is a valid result and exits 0). With --retrieve ID it then releases that credential as the \
console would (one release request, the configured duration), reports success or the classified failure, \
and checks the request back in. The password is never shown.\n\nExit status: 0 when the test succeeded \
(also with no matching credentials), 1 with a classified failure (its code, class and what to do), 2 \
when the command line is wrong.";

#[derive(Args)]
struct TestArgs {
    /// The console username: `joe.user`, `ACME\joe.user` or `joe.user@acme-inc.com`.
    #[arg(long, value_name = "U")]
    username: String,
    /// The user's LDAP distinguished name, as an LDAP security provider sends it
    /// (`uid=joe.user,ou=HelpDesk,dc=acme-inc,dc=com`).
    #[arg(long, value_name = "DN")]
    dn: Option<String>,
    /// The jump item's type: ssh (host sessions), web (a URL), app (an application on a host).
    #[arg(long, value_enum, value_name = "TYPE")]
    item_type: ItemTypeArg,
    /// The jump item's host name or IP address.
    #[arg(long, value_name = "H")]
    host: String,
    /// Another IP address of the machine (a jump client's public or private address); repeat for more.
    #[arg(long = "additional-ip", value_name = "IP")]
    additional_ips: Vec<IpAddr>,
    /// The application name of an app jump item.
    #[arg(long, value_name = "NAME")]
    app: Option<String>,
    /// The URL of a web jump item.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Also release this credential (an ID the search listed), report the result and check it back in.
    #[arg(long, value_name = "ID")]
    retrieve: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ItemTypeArg {
    Ssh,
    Web,
    App,
}

impl From<ItemTypeArg> for ItemType {
    fn from(t: ItemTypeArg) -> ItemType {
        match t {
            ItemTypeArg::Ssh => ItemType::Ssh,
            ItemTypeArg::Web => ItemType::Web,
            ItemTypeArg::App => ItemType::App,
        }
    }
}

/// The `log` filter of the broker's file, for the logger (read leniently: `run` reports errors).
pub fn log_filter(config: Option<&Path>) -> Option<String> {
    let text = std::fs::read_to_string(config?).ok()?;
    Config::parse(&text).ok()?.log
}

pub fn run(config: Option<&Path>, args: BrokerArgs) -> Result<ExitCode> {
    let path =
        config.context("`portcullis broker` needs --config FILE (the broker's TOML settings; see --help)")?;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async move {
        match args.command {
            Some(BrokerCommand::Test(t)) => Ok(test(path, t).await),
            None => serve(path).await,
        }
    })
}

async fn serve(path: &Path) -> Result<ExitCode> {
    let config = Config::load(path)?;
    let console = config.console.clone().context(
        "the configuration has no [console] section: `portcullis broker` connects to the console named there (url, client_id, client_secret)",
    )?;
    let broker = Arc::new(Broker::new(&config)?);
    tracing::info!(vault = %config.vault.url, console = %console.url, ecm_group = %console.ecm_group, "the broker starts");
    broker::channel::run(broker, console, crate::up::shutdown_signal()).await;
    Ok(ExitCode::SUCCESS)
}

/// Prints a classified failure; exit status 1.
fn failed(during: &str, e: &BrokerError) -> ExitCode {
    e.log(during);
    println!("Result:        FAILED ({during})");
    println!("Failure:       {} {}", e.code(), e.class());
    println!("What happened: {e}");
    ExitCode::from(1)
}

async fn test(path: &Path, t: TestArgs) -> ExitCode {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => return failed("reading the settings", &e),
    };
    let broker = match Broker::new(&config) {
        Ok(b) => b,
        Err(e) => return failed("reading the settings", &e),
    };
    let user = ConsoleUser { username: t.username, dn: t.dn };
    let item = JumpItem {
        item_type: t.item_type.into(),
        host: t.host,
        additional_ips: t.additional_ips,
        application: t.app,
        url: t.url,
    };
    println!("Vault:         {}", config.vault.url);
    println!(
        "Console user:  {}{}",
        user.username,
        user.dn.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
    );
    let mapped = match broker.map_user(&user) {
        Ok(m) => m,
        Err(e) => return failed("mapping the console user", &e),
    };
    println!("Vault user:    {}", mapped.name);
    let extra: Vec<String> = item.additional_ips.iter().map(ToString::to_string).collect();
    println!(
        "Jump item:     {} {}{}{}{}",
        item.item_type.as_str(),
        item.host,
        if extra.is_empty() { String::new() } else { format!(" (also {})", extra.join(", ")) },
        item.application.as_deref().map(|a| format!(" application {a:?}")).unwrap_or_default(),
        item.url.as_deref().map(|u| format!(" url {u}")).unwrap_or_default(),
    );
    let found = match broker.search(&user, &item).await {
        Ok(f) => f,
        Err(e) => return failed("searching", &e),
    };
    if found.is_empty() {
        println!("Credentials:   no matching credentials (a valid result: no account on this endpoint that the user may request)");
    } else {
        println!("Credentials:   {}", found.len());
        let width = found.iter().map(|c| c.id.chars().count()).max().unwrap_or(0);
        for c in &found {
            println!("  {:<width$}  {}", c.id, c.display_name);
        }
    }
    let Some(id) = t.retrieve else {
        println!("Result:        OK");
        return ExitCode::SUCCESS;
    };
    let session = SessionRef {
        id: format!("broker-test-{}", std::process::id()),
        jump_item: Some("portcullis broker test".into()),
    };
    let release = match broker.retrieve(&user, &id, &session).await {
        Ok(r) => r,
        Err(e) => return failed(&format!("retrieving {id}"), &e),
    };
    println!(
        "Retrieved:     {} as release request {} (account {}; the password is not shown)",
        release.display_name, release.handle.request_id, release.username
    );
    drop(release.secret);
    if let Err(e) = broker.check_in(&release.handle, &session).await {
        return failed(&format!("checking request {} in", release.handle.request_id), &e);
    }
    println!("Checked in:    request {}", release.handle.request_id);
    println!("Result:        OK");
    ExitCode::SUCCESS
}
