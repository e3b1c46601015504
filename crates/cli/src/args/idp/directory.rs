//! `portcullis idp user …` and `portcullis idp group …`.

use clap::Subcommand;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; prints the object ID.
    Create {
        /// User principal name (sign-in name), e.g. alice@contoso.com.
        #[arg(long)]
        upn: String,
        /// Given (first) name.
        #[arg(long)]
        given_name: String,
        /// Surname (last name).
        #[arg(long)]
        surname: String,
        /// E-mail address (user.mail).
        #[arg(long)]
        mail: Option<String>,
        /// Display name (user.displayname; shown in My Apps).
        #[arg(long)]
        display_name: Option<String>,
        /// Department (user.department).
        #[arg(long)]
        department: Option<String>,
        /// Job title (user.jobtitle).
        #[arg(long)]
        job_title: Option<String>,
        /// Employee ID (user.employeeid).
        #[arg(long)]
        employee_id: Option<String>,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user's attributes (the object ID, and so persistent NameIDs, never change).
    Set {
        /// UPN or object ID.
        #[arg(long)]
        user: String,
        /// A new user principal name (sign-in name).
        #[arg(long)]
        upn: Option<String>,
        /// E-mail address (user.mail).
        #[arg(long)]
        mail: Option<String>,
        /// Given (first) name.
        #[arg(long)]
        given_name: Option<String>,
        /// Surname (last name).
        #[arg(long)]
        surname: Option<String>,
        /// Display name (user.displayname; shown in My Apps).
        #[arg(long)]
        display_name: Option<String>,
        /// Department (user.department).
        #[arg(long)]
        department: Option<String>,
        /// Job title (user.jobtitle).
        #[arg(long)]
        job_title: Option<String>,
        /// Employee ID (user.employeeid).
        #[arg(long)]
        employee_id: Option<String>,
        /// Allow (true) or block (false) sign-in; blocking also ends the user's sessions.
        #[arg(long)]
        enabled: Option<bool>,
        /// Read a new password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Turn on the TOTP second factor; prints the otpauth:// URI for an authenticator app.
    TotpEnroll {
        /// UPN or object ID.
        #[arg(long)]
        user: String,
    },
    /// Turn off the TOTP second factor.
    TotpRemove {
        /// UPN or object ID.
        #[arg(long)]
        user: String,
    },
    /// Delete a user with their memberships, assignments, roles, API tokens and sessions
    /// (sign-in records stay). The last enabled Global Administrator cannot be deleted.
    Delete {
        /// UPN or object ID.
        #[arg(long)]
        user: String,
    },
    /// List users.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum GroupCommand {
    /// Create a security group; prints the object ID.
    Create {
        /// The group's name (unique).
        #[arg(long)]
        name: String,
        /// What the group is for.
        #[arg(long)]
        description: Option<String>,
    },
    /// Add a user (or a nested group) to a group.
    AddMember {
        /// Group object ID or name.
        #[arg(long)]
        group: String,
        /// User UPN or object ID.
        #[arg(long, required_unless_present = "member_group", conflicts_with = "member_group")]
        user: Option<String>,
        /// A group to nest (object ID or name).
        #[arg(long)]
        member_group: Option<String>,
    },
    /// Remove a user (or a nested group) from a group; its members lose what they had only
    /// through that membership.
    RemoveMember {
        /// Group object ID or name.
        #[arg(long)]
        group: String,
        /// User UPN or object ID.
        #[arg(long, required_unless_present = "member_group", conflicts_with = "member_group")]
        user: Option<String>,
        /// A nested group to take out (object ID or name).
        #[arg(long)]
        member_group: Option<String>,
    },
    /// Delete a group with its memberships and app assignments.
    Delete {
        /// Group object ID or name.
        #[arg(long)]
        group: String,
    },
    /// List groups.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}
