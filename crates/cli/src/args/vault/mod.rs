//! The clap definitions of `portcullis vault …` (implemented in `crate::vault_cmd`).

mod access;
mod inventory;

pub use access::*;
pub use inventory::*;

use clap::{Args, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

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

#[derive(Args)]
pub struct ConnectSraArgs {
    /// Print the stored settings (never the client secret or the API key) and change nothing.
    #[arg(long, conflicts_with_all = ["host", "port", "client_id", "client_secret_stdin", "release_minutes", "rotate_key"])]
    pub show: bool,
    /// The remote-access console's host.
    #[arg(long, required_unless_present = "show")]
    pub host: Option<String>,
    /// The console's port.
    #[arg(long, required_unless_present = "show")]
    pub port: Option<u16>,
    /// The console's OAuth client ID.
    #[arg(long, required_unless_present = "show")]
    pub client_id: Option<String>,
    /// Read the console's OAuth client secret from standard input (needed the first time; a
    /// re-run without it keeps the stored secret).
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// The release duration the broker asks for (1-1440 minutes).
    #[arg(long, required_unless_present = "show")]
    pub release_minutes: Option<i64>,
    /// Replace the API key of the registration (a re-run keeps it otherwise). The broker's old
    /// key then no longer signs in: give it the new one, printed last.
    #[arg(long)]
    pub rotate_key: bool,
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
    pub listen: SocketAddr,
    /// Certificate chain (PEM) for HTTPS.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) for HTTPS.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}
