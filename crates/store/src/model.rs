//! The records the store keeps. Plain data: validation and behaviour live with
//! the services that own them (the IdP for users, groups and apps).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A directory tenant; every other object belongs to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: Uuid,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// A directory user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The object ID.
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// User principal name; unique per tenant, compared case-insensitively.
    pub upn: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub department: Option<String>,
    pub job_title: Option<String>,
    pub employee_id: Option<String>,
    pub enabled: bool,
    /// PHC string (argon2id, parameters included); `None` = cannot sign in with a password.
    pub password_hash: Option<String>,
    /// TOTP secret, sealed (encrypted at rest); `None` = no second factor.
    pub totp_secret_sealed: Option<Vec<u8>>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A security group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The object ID, as emitted in group claims.
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Unique per tenant, compared case-insensitively.
    pub name: String,
    pub description: Option<String>,
    /// Security groups count for the "security groups" claim option.
    pub security_enabled: bool,
    pub created_at: i64,
}

/// What a membership or an assignment points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    User,
    Group,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
        }
    }
}

/// An enterprise application. Its SAML configuration is owned by the IdP and
/// stored as JSON so that it can grow without a migration per field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    /// The gallery template it was created from (`generic-saml` for custom apps).
    pub template: String,
    /// The IdP's `AppConfig`, as JSON. The identifiers inside it are mirrored in
    /// [`AppIdentifier`] rows so that AuthnRequests are routed by issuer and an
    /// identifier is unique per tenant.
    pub config_json: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One entity ID of an app; the IdP looks apps up by these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppIdentifier {
    pub tenant_id: Uuid,
    pub app_id: Uuid,
    pub identifier: String,
}

/// A SAML signing certificate of an app, with its private key sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningCert {
    pub id: Uuid,
    pub app_id: Uuid,
    /// Exactly one certificate per app is active: the one that signs.
    pub active: bool,
    pub cert_der: Vec<u8>,
    /// PKCS#8 DER of the key, sealed with the store's data key.
    pub key_sealed: Vec<u8>,
    /// SHA-1 thumbprint, upper-case hex (as the directory shows it).
    pub thumbprint: String,
    pub not_before: i64,
    pub not_after: i64,
    pub created_at: i64,
}

/// A user or group assigned to an app, with an app role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub app_id: Uuid,
    pub principal_id: Uuid,
    pub principal_kind: PrincipalKind,
    pub role: String,
    pub created_at: i64,
}

/// One sign-in attempt, successful or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub at: i64,
    pub user_id: Option<Uuid>,
    /// The name typed or asserted, kept even when no user matched.
    pub upn: Option<String>,
    pub app_id: Option<Uuid>,
    pub ip: Option<String>,
    /// `OK` or the stable error code.
    pub result_code: String,
    pub correlation_id: Uuid,
    pub detail: Option<String>,
}

/// An e-mail in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub id: Uuid,
    pub created_at: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// Messages with the same key are queued once.
    pub dedup_key: Option<String>,
    pub sent_at: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// A browser session at the IdP. Only a hash of the cookie value is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// SHA-256 of the session cookie value, hex.
    pub id_hash: String,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub authn_instant: i64,
    pub expires_at: i64,
    /// The second factor was passed in this session.
    pub mfa: bool,
}
