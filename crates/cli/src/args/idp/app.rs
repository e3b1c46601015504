//! `portcullis idp app …`: enterprise apps, their SAML configuration, claims and certificates.

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum AppCommand {
    /// Create an app from the gallery; prints the app ID on standard output, then (on standard
    /// error) the values still to fill in, where they come from, and the template's notes for
    /// the administrator.
    Create {
        /// Gallery template (see `idp app templates`).
        #[arg(long)]
        template: String,
        /// The app's display name (default: the template's).
        #[arg(long)]
        name: Option<String>,
        /// Fills a placeholder of the template, e.g. `--param HOSTNAME=acme`.
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
    },
    /// List the gallery templates, or show one with its parameters, values and notes.
    Templates {
        /// Show this template in full: what each parameter is and where to get it, the Basic
        /// SAML Configuration it fills, and the notes for the administrator.
        #[arg(long, value_name = "NAME")]
        details: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List apps.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show an app's configuration as JSON, with its "Test this application" URL and its
    /// template's notes.
    Show {
        /// App ID or name.
        #[arg(long)]
        app: String,
    },
    /// Properties: name, enabled for sign-in, assignment required, visible in My Apps.
    Set {
        /// App ID or name.
        #[arg(long)]
        app: String,
        /// A new display name.
        #[arg(long)]
        name: Option<String>,
        /// Allow (true) or refuse (false) sign-in to the app.
        #[arg(long)]
        enabled: Option<bool>,
        /// Only assigned users (directly or through a group) may sign in (true), or everyone
        /// in the directory (false).
        #[arg(long)]
        assignment_required: Option<bool>,
        /// Show (true) or hide (false) the app's tile in My Apps.
        #[arg(long)]
        visible: Option<bool>,
        /// Refuse AuthnRequests that are not signed with the SP's certificate.
        #[arg(long)]
        require_signed_requests: Option<bool>,
        /// Accept RSA-SHA1 request signatures from this app (refused by default).
        #[arg(long)]
        allow_sha1_requests: Option<bool>,
    },
    /// Basic SAML Configuration, NameID and signing.
    SetSaml(SetSamlArgs),
    /// Fill the Basic SAML Configuration from the SP's metadata file (a Sign-on URL the template
    /// derived from a placeholder follows the imported values, or is cleared).
    ImportSpMetadata {
        /// App ID or name.
        #[arg(long)]
        app: String,
        /// The SP's SAML metadata XML.
        file: PathBuf,
    },
    /// Attributes & claims.
    #[command(subcommand)]
    Claim(ClaimCommand),
    /// Which groups the groups claim carries.
    GroupsClaim {
        /// App ID or name.
        #[arg(long)]
        app: String,
        /// The groups sent in the groups claim.
        #[arg(value_enum)]
        setting: GroupsClaimArg,
    },
    /// Assign a user or a group, with an app role.
    Assign {
        /// App ID or name.
        #[arg(long)]
        app: String,
        /// User UPN or object ID.
        #[arg(long, required_unless_present = "group", conflicts_with = "group")]
        user: Option<String>,
        /// Group object ID or name.
        #[arg(long)]
        group: Option<String>,
        /// One of the app's roles, by name or value (default: its first, "Default Access").
        #[arg(long)]
        role: Option<String>,
    },
    /// Remove the assignment of a user or a group.
    Unassign {
        /// App ID or name.
        #[arg(long)]
        app: String,
        /// User UPN or object ID.
        #[arg(long, required_unless_present = "group", conflicts_with = "group")]
        user: Option<String>,
        /// Group object ID or name.
        #[arg(long)]
        group: Option<String>,
    },
    /// Delete an app with its identifiers, signing certificates and assignments.
    Delete {
        /// App ID or name.
        #[arg(long)]
        app: String,
    },
    /// The federation metadata XML, on standard output.
    Metadata {
        /// App ID or name.
        #[arg(long)]
        app: String,
    },
    /// SAML signing certificates.
    #[command(subcommand)]
    Cert(CertCommand),
}

#[derive(Args)]
pub struct SetSamlArgs {
    /// App ID or name.
    #[arg(long)]
    pub app: String,
    /// Identifier (entity ID); added if new and made the default.
    #[arg(long)]
    pub identifier: Option<String>,
    /// Reply URL (ACS); repeat for several (the first is the default). Replaces the list.
    #[arg(long = "reply-url")]
    pub reply_urls: Vec<String>,
    /// Sign-on URL: where My Apps and "Test this application" send the browser for SP-initiated
    /// sign-on ("" clears it).
    #[arg(long)]
    pub sign_on_url: Option<String>,
    /// Relay State sent with IdP-initiated sign-on ("" clears it).
    #[arg(long)]
    pub relay_state: Option<String>,
    /// Logout URL (single logout; "" clears it).
    #[arg(long)]
    pub logout_url: Option<String>,
    /// NameID format of the unique user identifier.
    #[arg(long)]
    pub nameid_format: Option<NameIdFormatArg>,
    /// Source attribute of the NameID, e.g. user.mail.
    #[arg(long)]
    pub nameid_source: Option<String>,
    /// What is signed: the assertion, the response, or both.
    #[arg(long)]
    pub signing: Option<SigningArg>,
    /// Signature algorithm: sha256 (the default), or sha1 only for a legacy app that accepts
    /// nothing else.
    #[arg(long, value_parser = ["sha256", "sha1"])]
    pub signing_algorithm: Option<String>,
    /// Where the signing certificate's expiry notices go ("" clears it).
    #[arg(long)]
    pub notification_email: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum NameIdFormatArg {
    /// A stable opaque value per user and app.
    Persistent,
    /// emailAddress.
    Email,
    /// unspecified.
    Unspecified,
    /// A new value at every sign-in.
    Transient,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SigningArg {
    /// Sign the assertion (the default).
    Assertion,
    /// Sign the response.
    Response,
    /// Sign both.
    Both,
}

/// The groups claim settings, spelled as `idp app show` and the API show them; the short
/// forms (`security`, `all`, `assigned`) are accepted too.
#[derive(Clone, Copy, ValueEnum)]
pub enum GroupsClaimArg {
    /// No groups claim.
    None,
    /// The user's security groups.
    #[value(name = "security_groups", alias = "security")]
    SecurityGroups,
    /// All the user's groups.
    #[value(name = "all_groups", alias = "all")]
    AllGroups,
    /// Only the user's groups that are assigned to the app.
    #[value(name = "assigned_groups", alias = "assigned")]
    AssignedGroups,
}

#[derive(Subcommand)]
pub enum ClaimCommand {
    /// Add or replace a claim.
    Set {
        /// App ID or name.
        #[arg(long)]
        app: String,
        /// The claim's name, e.g. Username (the attribute Name is NAMESPACE/NAME with --namespace).
        #[arg(long)]
        name: String,
        /// user.userprincipalname, user.mail, user.givenname, user.surname, user.displayname,
        /// user.objectid, user.groups, user.department, user.jobtitle, user.employeeid
        #[arg(long, required_unless_present = "constant", conflicts_with = "constant")]
        source: Option<String>,
        /// A constant value instead of a user attribute.
        #[arg(long)]
        constant: Option<String>,
        /// A namespace URI put before the name, e.g.
        /// http://schemas.xmlsoap.org/ws/2005/05/identity/claims.
        #[arg(long)]
        namespace: Option<String>,
        /// A transformation of the value.
        #[arg(long, value_enum)]
        transform: Option<TransformArg>,
        /// For --transform join: the separator.
        #[arg(long, default_value = "")]
        join_separator: String,
        /// For --transform join: the attribute appended after the separator.
        #[arg(long, required_if_eq("transform", "join"))]
        join_with: Option<String>,
    },
    /// Remove a claim.
    Remove {
        /// App ID or name.
        #[arg(long)]
        app: String,
        /// The claim's name, or its full attribute Name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TransformArg {
    /// The value in lower case.
    #[value(name = "tolowercase")]
    ToLowercase,
    /// The value in upper case.
    #[value(name = "touppercase")]
    ToUppercase,
    /// The part of an e-mail address before the @.
    #[value(name = "extractmailprefix")]
    ExtractMailPrefix,
    /// The value, --join-separator, then the --join-with attribute.
    Join,
}

#[derive(Subcommand)]
pub enum CertCommand {
    /// List the signing certificates (the active one first) with expiry warnings.
    List {
        /// App ID or name.
        #[arg(long)]
        app: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Create a new, inactive certificate (RSA-2048, 3 years); prints its ID.
    New {
        /// App ID or name.
        #[arg(long)]
        app: String,
    },
    /// Make a certificate the active one.
    Activate {
        /// App ID or name.
        #[arg(long)]
        app: String,
        /// Certificate ID or thumbprint.
        #[arg(long)]
        cert: String,
    },
    /// Download a certificate (the active one by default).
    Download {
        /// App ID or name.
        #[arg(long)]
        app: String,
        /// Certificate ID or thumbprint (default: the active one).
        #[arg(long)]
        cert: Option<String>,
        /// File format.
        #[arg(long, value_enum, default_value = "pem")]
        format: CertFormatArg,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CertFormatArg {
    /// PEM with its BEGIN and END lines ("Certificate (PEM)").
    Pem,
    /// The base64 body on one line ("Certificate (Base64)").
    Base64,
    /// DER bytes ("Certificate (Raw)").
    Der,
}
