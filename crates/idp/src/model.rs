//! The configuration of an enterprise application, as an administrator sees it
//! in "Single sign-on" (Basic SAML Configuration, Attributes & Claims, SAML
//! Certificates) and "Properties". Stored as JSON in `store::model::App`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The user attributes a claim or the NameID can be sourced from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SourceAttribute {
    #[serde(rename = "user.userprincipalname")]
    UserPrincipalName,
    #[serde(rename = "user.mail")]
    Mail,
    #[serde(rename = "user.givenname")]
    GivenName,
    #[serde(rename = "user.surname")]
    Surname,
    #[serde(rename = "user.displayname")]
    DisplayName,
    #[serde(rename = "user.objectid")]
    ObjectId,
    #[serde(rename = "user.groups")]
    Groups,
    #[serde(rename = "user.department")]
    Department,
    #[serde(rename = "user.jobtitle")]
    JobTitle,
    #[serde(rename = "user.employeeid")]
    EmployeeId,
}

impl SourceAttribute {
    pub const ALL: [SourceAttribute; 10] = [
        Self::UserPrincipalName,
        Self::Mail,
        Self::GivenName,
        Self::Surname,
        Self::DisplayName,
        Self::ObjectId,
        Self::Groups,
        Self::Department,
        Self::JobTitle,
        Self::EmployeeId,
    ];

    /// The name an administrator types: `user.userprincipalname`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserPrincipalName => "user.userprincipalname",
            Self::Mail => "user.mail",
            Self::GivenName => "user.givenname",
            Self::Surname => "user.surname",
            Self::DisplayName => "user.displayname",
            Self::ObjectId => "user.objectid",
            Self::Groups => "user.groups",
            Self::Department => "user.department",
            Self::JobTitle => "user.jobtitle",
            Self::EmployeeId => "user.employeeid",
        }
    }
}

impl fmt::Display for SourceAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceAttribute {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|a| a.as_str() == lower).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|a| a.as_str()).collect();
            format!("unknown source attribute {s:?}; use one of {}", known.join(", "))
        })
    }
}

/// Where a claim's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimSource {
    Attribute(SourceAttribute),
    Constant(String),
}

/// A simple claim transformation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Transform {
    ToLowercase,
    ToUppercase,
    /// `alice@contoso.com` → `alice`.
    ExtractMailPrefix,
    /// The claim's value, the separator, then the other attribute's value.
    Join {
        separator: String,
        other: SourceAttribute,
    },
}

/// One attribute the app receives in the assertion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRule {
    /// The claim name (`Username`, `emailaddress`, ...).
    pub name: String,
    /// Optional namespace; the emitted attribute Name is `namespace/name`.
    #[serde(default)]
    pub namespace: Option<String>,
    pub source: ClaimSource,
    #[serde(default)]
    pub transform: Option<Transform>,
}

impl ClaimRule {
    /// The SAML attribute Name this rule emits.
    pub fn attribute_name(&self) -> String {
        match &self.namespace {
            Some(ns) if !ns.is_empty() => format!("{}/{}", ns.trim_end_matches('/'), self.name),
            _ => self.name.clone(),
        }
    }
}

/// Which groups the groups claim carries (as group object IDs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GroupsClaim {
    #[default]
    None,
    SecurityGroups,
    AllGroups,
    /// Only the groups assigned to the app.
    AssignedGroups,
}

impl GroupsClaim {
    pub const ALL: [GroupsClaim; 4] =
        [Self::None, Self::SecurityGroups, Self::AllGroups, Self::AssignedGroups];

    /// The one spelling shown everywhere (the app's configuration, `idp app show`, the API,
    /// gallery files): `none`, `security_groups`, `all_groups`, `assigned_groups`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::SecurityGroups => "security_groups",
            Self::AllGroups => "all_groups",
            Self::AssignedGroups => "assigned_groups",
        }
    }
}

impl fmt::Display for GroupsClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GroupsClaim {
    type Err = String;
    /// The shown spelling, or its short form (`security`, `all`, `assigned`), in any case.
    fn from_str(s: &str) -> Result<Self, String> {
        let key = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == key || g.as_str().strip_suffix("_groups") == Some(key.as_str()))
            .ok_or_else(|| {
                format!("unknown groups claim setting {s:?}; use none, security_groups, all_groups or assigned_groups")
            })
    }
}

/// NameID format of the unique user identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameIdFormat {
    /// A stable opaque value per user and app that never changes when the UPN does.
    Persistent,
    Email,
    Unspecified,
    Transient,
}

impl NameIdFormat {
    pub fn uri(self) -> &'static str {
        match self {
            Self::Persistent => saml::xml::NAMEID_PERSISTENT,
            Self::Email => saml::xml::NAMEID_EMAIL,
            Self::Unspecified => saml::xml::NAMEID_UNSPECIFIED,
            Self::Transient => saml::xml::NAMEID_TRANSIENT,
        }
    }

    /// The format a NameIDPolicy asks for, if we support it.
    pub fn from_uri(uri: &str) -> Option<Self> {
        [Self::Persistent, Self::Email, Self::Unspecified, Self::Transient]
            .into_iter()
            .find(|f| f.uri() == uri)
    }
}

impl FromStr for NameIdFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "persistent" => Ok(Self::Persistent),
            "email" | "emailaddress" => Ok(Self::Email),
            "unspecified" => Ok(Self::Unspecified),
            "transient" => Ok(Self::Transient),
            other => Self::from_uri(s.trim()).ok_or_else(|| {
                format!("unknown NameID format {other:?}; use persistent, email, unspecified or transient")
            }),
        }
    }
}

/// The unique user identifier (NameID) setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameIdSetting {
    pub format: NameIdFormat,
    /// The attribute behind emailAddress/unspecified values; a persistent value is
    /// derived from the user's object ID and the app, a transient one is random.
    pub source: SourceAttribute,
}

/// What the signing certificate signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SigningOption {
    #[default]
    Assertion,
    Response,
    Both,
}

impl FromStr for SigningOption {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "assertion" => Ok(Self::Assertion),
            "response" => Ok(Self::Response),
            "both" => Ok(Self::Both),
            other => Err(format!("unknown signing option {other:?}; use assertion, response or both")),
        }
    }
}

/// The signing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SigningAlgorithm {
    #[default]
    Sha256,
    /// Only when an administrator sets it explicitly for a legacy app.
    Sha1,
}

impl FromStr for SigningAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sha256" | "sha-256" => Ok(Self::Sha256),
            "sha1" | "sha-1" => Ok(Self::Sha1),
            other => {
                Err(format!("unknown signing algorithm {other:?}; use sha256 (or sha1 for a legacy app)"))
            }
        }
    }
}

/// An entity ID of the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    pub value: String,
    pub is_default: bool,
}

/// An assertion consumer service URL of the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyUrl {
    pub url: String,
    pub index: u16,
    pub is_default: bool,
}

/// Which SSO flows the app supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoModes {
    pub sp_initiated: bool,
    pub idp_initiated: bool,
}

/// An app role users and groups are assigned with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRole {
    pub name: String,
    /// The value emitted in a role claim.
    pub value: String,
}

/// Everything an administrator configures for an app's SAML SSO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppConfig {
    pub identifiers: Vec<Identifier>,
    pub reply_urls: Vec<ReplyUrl>,
    pub sign_on_url: Option<String>,
    pub relay_state: Option<String>,
    pub logout_url: Option<String>,
    pub sso_modes: SsoModes,
    pub name_id: NameIdSetting,
    /// The claims, default claim set included (an administrator may remove them).
    pub claims: Vec<ClaimRule>,
    pub groups_claim: GroupsClaim,
    pub signing: SigningOption,
    pub signing_algorithm: SigningAlgorithm,
    pub notification_email: Option<String>,
    /// Properties.
    pub enabled: bool,
    pub assignment_required: bool,
    pub visible: bool,
    pub roles: Vec<AppRole>,
    /// Certificates the app signs its AuthnRequests with (PEM), from its metadata.
    pub request_verification_certs: Vec<String>,
    /// Refuse unsigned AuthnRequests.
    pub require_signed_requests: bool,
    /// Accept RSA-SHA1 request signatures from this app (some SP libraries still
    /// sign with SHA-1 by default). Off unless an administrator turns it on.
    #[serde(default)]
    pub allow_sha1_requests: bool,
}

/// The claim-type namespace of the default claim set.
pub const CLAIMS_NS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";

/// The default claim set every new app gets (as the large directories do).
pub fn default_claims() -> Vec<ClaimRule> {
    let rule = |name: &str, source| ClaimRule {
        name: name.to_string(),
        namespace: Some(CLAIMS_NS.to_string()),
        source: ClaimSource::Attribute(source),
        transform: None,
    };
    vec![
        rule("emailaddress", SourceAttribute::Mail),
        rule("givenname", SourceAttribute::GivenName),
        rule("name", SourceAttribute::UserPrincipalName),
        rule("surname", SourceAttribute::Surname),
    ]
}

/// The role every app has.
pub fn default_roles() -> Vec<AppRole> {
    vec![AppRole { name: "Default Access".into(), value: "DefaultAccess".into() }]
}
