//! `portcullis vault user|group|policy|registration|oauth-client|request …`: who may use the
//! vault, and how.

use clap::Subcommand;

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
    /// Changes an access policy's approvals or longest release.
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
    Approve {
        /// The request's ID (see `vault request list`).
        id: i64,
    },
    /// Denies a pending request.
    Deny {
        /// The request's ID (see `vault request list`).
        id: i64,
    },
}
