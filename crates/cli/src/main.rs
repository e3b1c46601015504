//! `portcullis`: the one binary. Subcommands create a data directory (`init`), start the
//! services (`up`), administer them (`idp`, `vault`) and offer the tools people use to debug SSO
//! (`saml decode|verify|keygen`). The command line's definitions are in [`args`].

mod args;
mod broker_cmd;
mod config;
mod console_cmd;
mod data_dir;
mod idp_cmd;
mod init;
mod input;
mod mail;
mod saml_cmd;
mod sp_cmd;
mod sp_demo;
mod summary;
mod up;
mod vault_cmd;

use args::{Cli, Command, LogFormat};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

fn init_logging(format: LogFormat, configured_filter: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("PORTCULLIS_LOG")
        .unwrap_or_else(|_| EnvFilter::new(configured_filter.unwrap_or("info,sqlx=warn")));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    // The WebSocket libraries log every frame at TRACE, and a broker's `retrieved` frame holds a
    // password: whatever the operator's filter says, they log at DEBUG at most.
    use tracing_subscriber::filter::filter_fn;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    match format {
        LogFormat::Text => builder.finish().with(filter_fn(console::ecm::loggable)).init(),
        LogFormat::Json => builder.json().finish().with(filter_fn(console::ecm::loggable)).init(),
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
    let db = database_url.as_deref();
    let existing = || data_dir::require_existing(&data, db);
    let result = match cli.command {
        Command::Init(args) => init::run(&data, db, args, &file),
        Command::Up(args) => up::run(&data, db, args, &file),
        Command::Saml(cmd) => saml_cmd::run(cmd),
        Command::Idp(cmd) => existing().and_then(|()| idp_cmd::run(&data, db, cmd)),
        Command::Vault(cmd) => existing().and_then(|()| vault_cmd::run(&data, db, cmd)),
        Command::Sp(cmd) => sp_cmd::run(cmd),
        Command::SpDemo(args) => sp_demo::run(&data, args),
        Command::Broker(args) => broker_cmd::run(cli.config.as_deref(), args),
        Command::Console(args) => existing().and_then(|()| console_cmd::run(&data, db, args)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
