//! `portcullis idp app …`: enterprise apps, their SAML configuration, claims and certificates.

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum AppCommand {
    /// Create an app from the gallery; prints the app ID.
    Create {
        /// Gallery template (see `idp app templates`).
        #[arg(long)]
        template: String,
        #[arg(long)]
        name: Option<String>,
        /// Fills a placeholder of the template, e.g. `--param HOSTNAME=acme`.
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
    },
    /// List the gallery templates.
    Templates {
        #[arg(long)]
        json: bool,
    },
    /// List apps.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show an app's configuration as JSON.
    Show {
        #[arg(long)]
        app: String,
    },
    /// Properties: name, enabled for sign-in, assignment required, visible in My Apps.
    Set {
        #[arg(long)]
        app: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        enabled: Option<bool>,
        #[arg(long)]
        assignment_required: Option<bool>,
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
    /// Fill the Basic SAML Configuration from the SP's metadata file.
    ImportSpMetadata {
        #[arg(long)]
        app: String,
        file: PathBuf,
    },
    /// Attributes & claims.
    #[command(subcommand)]
    Claim(ClaimCommand),
    /// Which groups the groups claim carries.
    GroupsClaim {
        #[arg(long)]
        app: String,
        #[arg(value_enum)]
        setting: GroupsClaimArg,
    },
    /// Assign a user or a group, with an app role.
    Assign {
        #[arg(long)]
        app: String,
        #[arg(long, required_unless_present = "group", conflicts_with = "group")]
        user: Option<String>,
        #[arg(long)]
        group: Option<String>,
        #[arg(long)]
        role: Option<String>,
    },
    /// Remove the assignment of a user or a group.
    Unassign {
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
        #[arg(long)]
        app: String,
    },
    /// SAML signing certificates.
    #[command(subcommand)]
    Cert(CertCommand),
}

#[derive(Args)]
pub struct SetSamlArgs {
    #[arg(long)]
    pub app: String,
    /// Identifier (entity ID); added if new and made the default.
    #[arg(long)]
    pub identifier: Option<String>,
    /// Reply URL (ACS); repeat for several (the first is the default). Replaces the list.
    #[arg(long = "reply-url")]
    pub reply_urls: Vec<String>,
    #[arg(long)]
    pub sign_on_url: Option<String>,
    #[arg(long)]
    pub relay_state: Option<String>,
    #[arg(long)]
    pub logout_url: Option<String>,
    #[arg(long)]
    pub nameid_format: Option<NameIdFormatArg>,
    /// Source attribute of the NameID, e.g. user.mail.
    #[arg(long)]
    pub nameid_source: Option<String>,
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
    Persistent,
    Email,
    Unspecified,
    Transient,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SigningArg {
    Assertion,
    Response,
    Both,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GroupsClaimArg {
    None,
    Security,
    All,
    Assigned,
}

#[derive(Subcommand)]
pub enum ClaimCommand {
    /// Add or replace a claim.
    Set {
        #[arg(long)]
        app: String,
        #[arg(long)]
        name: String,
        /// user.userprincipalname, user.mail, user.givenname, user.surname, user.displayname,
        /// user.objectid, user.groups, user.department, user.jobtitle, user.employeeid
        #[arg(long, required_unless_present = "constant", conflicts_with = "constant")]
        source: Option<String>,
        /// A constant value instead of a user attribute.
        #[arg(long)]
        constant: Option<String>,
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
        #[arg(long)]
        app: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TransformArg {
    #[value(name = "tolowercase")]
    ToLowercase,
    #[value(name = "touppercase")]
    ToUppercase,
    #[value(name = "extractmailprefix")]
    ExtractMailPrefix,
    Join,
}

#[derive(Subcommand)]
pub enum CertCommand {
    /// List the signing certificates (the active one first) with expiry warnings.
    List {
        #[arg(long)]
        app: String,
        #[arg(long)]
        json: bool,
    },
    /// Create a new, inactive certificate (RSA-2048, 3 years); prints its ID.
    New {
        #[arg(long)]
        app: String,
    },
    /// Make a certificate the active one.
    Activate {
        #[arg(long)]
        app: String,
        /// Certificate ID or thumbprint.
        #[arg(long)]
        cert: String,
    },
    /// Download a certificate (the active one by default).
    Download {
        #[arg(long)]
        app: String,
        #[arg(long)]
        cert: Option<String>,
        #[arg(long, value_enum, default_value = "pem")]
        format: CertFormatArg,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CertFormatArg {
    Pem,
    Base64,
    Der,
}
