//! `portcullis vault system …` and `portcullis vault account …`: what the vault manages.

use clap::{Subcommand, ValueEnum};

#[derive(Clone, Copy, ValueEnum)]
pub enum Platform {
    Generic,
    LinuxSsh,
    Postgresql,
}

impl Platform {
    pub fn name(self) -> &'static str {
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
    Delete {
        /// The system's name or ID.
        system: String,
    },
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
