//! The clap definitions of `portcullis idp …` (implemented in `crate::idp_cmd`).

mod app;
mod directory;

pub use app::*;
pub use directory::*;

use clap::{Args, Subcommand, ValueEnum};

#[derive(Subcommand)]
pub enum IdpCommand {
    /// Users: create, change, delete, list.
    #[command(subcommand)]
    User(UserCommand),
    /// Security groups: create, add and remove members, delete, list.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Enterprise applications.
    #[command(subcommand)]
    App(AppCommand),
    /// Sign-in logs, newest first.
    Signins(SigninsArgs),
    /// Directory roles: Global Administrator, Application Administrator.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Admin API tokens (`Authorization: Bearer pat_…`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Queue the certificate-expiry notices due now (the server does it every hour): a notice
    /// goes to an app's notification address 60, 30, 7 and 1 days before its active signing
    /// certificate ends, and once it has ended, each once.
    Notify(NotifyArgs),
    /// The e-mail outbox, newest first: queued, sent and failing messages (delivered by `up`
    /// over SMTP when `[smtp]` is configured).
    Outbox(OutboxArgs),
}

#[derive(Args)]
pub struct NotifyArgs {
    /// Check as of this instant (RFC 3339) instead of now: shows what would be due then.
    #[arg(long)]
    pub now: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct OutboxArgs {
    /// How many of the newest messages.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// Print the message bodies too.
    #[arg(long)]
    pub full: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum RoleCommand {
    /// Give a user a directory role.
    Grant {
        /// UPN or object ID.
        #[arg(long)]
        user: String,
        /// The directory role.
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Take a directory role from a user (the last enabled Global Administrator keeps it).
    Revoke {
        /// UPN or object ID.
        #[arg(long)]
        user: String,
        /// The directory role.
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// List who holds which role.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Everything: the directory, every app, roles and tokens.
    GlobalAdministrator,
    /// Enterprise apps (configuration, claims, certificates, assignments) and the sign-in logs.
    ApplicationAdministrator,
}

impl From<RoleArg> for idp::roles::DirectoryRole {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::GlobalAdministrator => Self::GlobalAdministrator,
            RoleArg::ApplicationAdministrator => Self::ApplicationAdministrator,
        }
    }
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token for a user; it acts with that user's roles. The token is printed once, on
    /// the last line, and only its SHA-256 is kept.
    Create {
        /// The owner: UPN or object ID.
        #[arg(long)]
        user: String,
        /// A label to tell the token apart in `idp token list` (default: "API token").
        #[arg(long)]
        name: Option<String>,
        /// Validity in days (default 90, at most 3650).
        #[arg(long)]
        days: Option<u32>,
    },
    /// List tokens (never their secrets).
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token at once.
    Revoke {
        /// Token ID (see `idp token list`).
        #[arg(long)]
        id: String,
    },
}

#[derive(Args)]
pub struct SigninsArgs {
    /// Only sign-ins to this app (ID or name).
    #[arg(long)]
    pub app: Option<String>,
    /// Only sign-ins of this user (UPN).
    #[arg(long)]
    pub user: Option<String>,
    /// How many of the newest rows.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
