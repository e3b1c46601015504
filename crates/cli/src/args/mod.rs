//! The command line's clap definitions, apart from the commands that implement them: the global
//! options and the top-level commands here, each command group's arguments in its own module.
//! `sp`, `sp-demo` and `broker` keep theirs beside their implementations.

pub mod idp;
pub mod saml;
pub mod up;
pub mod vault;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "portcullis",
    version,
    about = "Self-hosted single sign-on (SAML 2.0 identity provider and service-provider toolkit) and privileged access",
    long_about = "Self-hosted single sign-on (SAML 2.0 identity provider and service-provider toolkit) and \
privileged access.\n\nCreate a data directory with `portcullis init` (or let the first `portcullis up` create \
it), start everything with `portcullis up`; debug an SSO message with `portcullis saml decode` and \
`portcullis saml verify`.",
    after_help = "Environment: PORTCULLIS_CONFIG (configuration file), PORTCULLIS_DATA (data directory), \
PORTCULLIS_DATABASE_URL, PORTCULLIS_LISTEN, PORTCULLIS_BASE_URL, PORTCULLIS_MASTER_KEY, PORTCULLIS_LOG (log filter, \
e.g. `info` or `portcullis=debug`), PORTCULLIS_LOG_FORMAT (text|json). Precedence: flag, environment, \
configuration file, default."
)]
pub struct Cli {
    /// Configuration file (TOML); flags and environment variables override it.
    #[arg(long, global = true, env = "PORTCULLIS_CONFIG")]
    pub config: Option<PathBuf>,

    /// Data directory (database, keys). Only `init` and `up` create it; every other command
    /// refuses one that does not exist or holds no database. [default: portcullis-data]
    #[arg(long, global = true, env = "PORTCULLIS_DATA")]
    pub data: Option<PathBuf>,

    /// Database URL for scale-out (`postgres://USER@HOST/DB`); SQLite in the data
    /// directory when not given. Keys stay in the data directory.
    #[arg(long, global = true, env = "PORTCULLIS_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Log line format on standard error. [default: text]
    #[arg(long, global = true, value_enum, env = "PORTCULLIS_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line (for log collectors).
    Json,
}

/// The top-level commands. Each variant's arguments live in their group's module; a new group
/// is a variant here and an arm in `main`'s dispatch.
#[derive(Subcommand)]
pub enum Command {
    /// Create a data directory: the database, the master key, the default tenant and the first
    /// administrator, whose password is printed once. Refuses a directory that already holds a
    /// database.
    Init(up::InitArgs),
    /// Start Portcullis on its embedded defaults (data in --data, HTTP on --listen); the first
    /// run creates the data directory as `init` does.
    Up(up::UpArgs),
    /// SAML tools: decode, verify and key generation.
    #[command(subcommand)]
    Saml(saml::SamlCommand),
    /// The identity provider's directory and enterprise apps (works with or without the server running).
    #[command(subcommand)]
    Idp(idp::IdpCommand),
    /// The privileged credential vault and its Password Safe v3 compatible API.
    #[command(subcommand)]
    Vault(vault::VaultCommand),
    /// Service-provider tools: check a SAMLResponse exactly as the ACS would.
    #[command(subcommand)]
    Sp(crate::sp_cmd::SpCommand),
    /// The SP toolkit's reference application: SP-initiated login, ACS,
    /// JIT users, group policies, waiting room, discovery. `portcullis sp-demo --data DIR
    /// --listen ADDR --base-url URL [--idp-metadata FILE_OR_URL]…`
    SpDemo(crate::sp_demo::DemoArgs),
    // Its help comes from `BrokerArgs` (a doc comment here would replace it).
    Broker(crate::broker_cmd::BrokerArgs),
    // Its help comes from `ConsoleArgs`.
    Console(crate::console_cmd::ConsoleArgs),
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every argument and every subcommand of the whole tree, with its path, that `--help`
    /// shows without a description.
    fn undescribed(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && !arg.is_hide_set() && arg.get_help().is_none() && arg.get_long_help().is_none() {
                out.push(format!(
                    "{path} {}",
                    arg.get_long().map_or_else(|| arg.get_id().to_string(), |l| format!("--{l}"))
                ));
            }
        }
        for sub in cmd.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name());
            if sub.get_name() != "help" && sub.get_about().is_none() && sub.get_long_about().is_none() {
                out.push(format!("{sub_path} (the command itself)"));
            }
            undescribed(sub, &sub_path, out);
        }
    }

    #[test]
    fn every_argument_and_command_has_a_description() {
        let cmd = Cli::command();
        cmd.clone().debug_assert();
        let mut missing = Vec::new();
        undescribed(&cmd, "portcullis", &mut missing);
        assert!(missing.is_empty(), "without a description in --help:\n{}", missing.join("\n"));
    }
}
