//! `portcullis`: the one binary. Subcommands start the services (`up`) and offer
//! the tools people use to debug SSO (`saml decode|verify|keygen`).

mod broker_cmd;
mod config;
mod console_cmd;
mod idp_cmd;
mod input;
mod mail;
mod saml_cmd;
mod sp_cmd;
mod sp_demo;
mod summary;
mod up;
mod vault_cmd;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "portcullis",
    version,
    about = "Self-hosted single sign-on (SAML 2.0 identity provider and service-provider toolkit) and privileged access",
    long_about = "Self-hosted single sign-on (SAML 2.0 identity provider and service-provider toolkit) and \
privileged access.\n\nStart everything with `portcullis up`; debug an SSO message with \
`portcullis saml decode` and `portcullis saml verify`.",
    after_help = "Environment: PORTCULLIS_CONFIG (configuration file), PORTCULLIS_DATA (data directory), \
PORTCULLIS_DATABASE_URL, PORTCULLIS_LISTEN, PORTCULLIS_BASE_URL, PORTCULLIS_MASTER_KEY, PORTCULLIS_LOG (log filter, \
e.g. `info` or `portcullis=debug`), PORTCULLIS_LOG_FORMAT (text|json). Precedence: flag, environment, \
configuration file, default."
)]
struct Cli {
    /// Configuration file (TOML); flags and environment variables override it.
    #[arg(long, global = true, env = "PORTCULLIS_CONFIG")]
    config: Option<PathBuf>,

    /// Data directory (database, keys). Created when missing. [default: portcullis-data]
    #[arg(long, global = true, env = "PORTCULLIS_DATA")]
    data: Option<PathBuf>,

    /// Database URL for scale-out (`postgres://USER@HOST/DB`); SQLite in the data
    /// directory when not given. Keys stay in the data directory.
    #[arg(long, global = true, env = "PORTCULLIS_DATABASE_URL")]
    database_url: Option<String>,

    /// Log line format on standard error. [default: text]
    #[arg(long, global = true, value_enum, env = "PORTCULLIS_LOG_FORMAT")]
    log_format: Option<LogFormat>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Start Portcullis on its embedded defaults (data in --data, HTTP on --listen).
    Up(up::UpArgs),
    /// SAML tools: decode, verify and key generation.
    #[command(subcommand)]
    Saml(saml_cmd::SamlCommand),
    /// The identity provider's directory and enterprise apps (works with or without the server running).
    #[command(subcommand)]
    Idp(idp_cmd::IdpCommand),
    /// The privileged credential vault and its Password Safe v3 compatible API.
    #[command(subcommand)]
    Vault(vault_cmd::VaultCommand),
    /// Service-provider tools: check a SAMLResponse exactly as the ACS would.
    #[command(subcommand)]
    Sp(sp_cmd::SpCommand),
    /// The SP toolkit's reference application: SP-initiated login, ACS,
    /// JIT users, group policies, waiting room, discovery. `portcullis sp-demo --data DIR
    /// --listen ADDR --base-url URL [--idp-metadata FILE_OR_URL]…`
    SpDemo(sp_demo::DemoArgs),
    // Its help comes from `BrokerArgs` (a doc comment here would replace it).
    Broker(broker_cmd::BrokerArgs),
    Console(console_cmd::ConsoleArgs),
}

fn init_logging(format: LogFormat, configured_filter: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("PORTCULLIS_LOG")
        .unwrap_or_else(|_| EnvFilter::new(configured_filter.unwrap_or("info,sqlx=warn")));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // For `broker`, --config names the broker's own file (its [vault], [mapping], [console]).
    let is_broker = matches!(cli.command, Command::Broker(_));
    let file = match cli.config.as_deref().filter(|_| !is_broker).map(config::Config::load).transpose() {
        Ok(c) => c.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let broker_log = if is_broker { broker_cmd::log_filter(cli.config.as_deref()) } else { None };
    let log_format = match (cli.log_format, file.log_format.as_deref()) {
        (Some(f), _) => f,
        (None, Some("json")) => LogFormat::Json,
        _ => LogFormat::Text,
    };
    init_logging(log_format, broker_log.as_deref().or(file.log.as_deref()));
    let data = cli.data.clone().or(file.data.clone()).unwrap_or_else(|| PathBuf::from("portcullis-data"));
    let database_url = cli.database_url.clone().or(file.database_url.clone());
    let result = match cli.command {
        Command::Up(args) => up::run(&data, database_url.as_deref(), args, &file),
        Command::Saml(cmd) => saml_cmd::run(cmd),
        Command::Idp(cmd) => idp_cmd::run(&data, database_url.as_deref(), cmd),
        Command::Vault(cmd) => vault_cmd::run(&data, database_url.as_deref(), cmd),
        Command::Sp(cmd) => sp_cmd::run(cmd),
        Command::SpDemo(args) => sp_demo::run(&data, args),
        Command::Broker(args) => broker_cmd::run(cli.config.as_deref(), args),
        Command::Console(args) => console_cmd::run(&data, database_url.as_deref(), args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
