//! The service-provider toolkit's records (crates/sp): applications, their SAML providers,
//! outstanding AuthnRequests, the replay cache, local and SAML users, group policies and local
//! sessions. The SP logic (validation, provisioning, policy evaluation) lives in `sp`; this is
//! only storage, so every node of a scaled-out application sees the same state.

use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::error::classify;
use crate::row::{boolean, fold, id, int, opt_bytes, opt_text, opt_uuid, text, uuid};
use crate::{touched, Result, Store, StoreError};

/// The policy seeded for every new application: what an ordinary SAML user may do.
pub const GENERAL_MEMBERS: &str = "General Members";
/// The permissions of [`GENERAL_MEMBERS`] (limited: see their own profile and the dashboard).
pub const GENERAL_MEMBERS_PERMISSIONS: &[&str] = &["profile:read", "dashboard:view"];

/// One application that signs its users in through SAML.
#[derive(Clone, PartialEq, Eq)]
pub struct SpApp {
    pub id: Uuid,
    pub name: String,
    /// `https://app.example.com` (no trailing slash): the default entity ID and ACS derive from it.
    pub base_url: String,
    /// Overrides `{base_url}/saml/metadata`.
    pub entity_id: Option<String>,
    /// Overrides `{base_url}/saml/acs`.
    pub acs_url: Option<String>,
    /// The SP signing key (PKCS#8), sealed with AAD `sp/app/<id>/signing`.
    pub signing_key_sealed: Option<Vec<u8>>,
    pub signing_cert: Option<String>,
    /// The SP decryption key (PKCS#8), sealed with AAD `sp/app/<id>/encryption`.
    pub encryption_key_sealed: Option<Vec<u8>>,
    pub encryption_cert: Option<String>,
    pub created_at: i64,
}

impl std::fmt::Debug for SpApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpApp")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("entity_id", &self.entity_id)
            .field("acs_url", &self.acs_url)
            .field("signing_key", &self.signing_key_sealed.as_ref().map(|_| "sealed"))
            .field("encryption_key", &self.encryption_key_sealed.as_ref().map(|_| "sealed"))
            .finish_non_exhaustive()
    }
}

/// How the AuthnRequest travels to the IdP's SSO URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsoBinding {
    Post,
    Redirect,
}

impl SsoBinding {
    pub fn as_str(self) -> &'static str {
        match self {
            SsoBinding::Post => "post",
            SsoBinding::Redirect => "redirect",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "post" => Ok(SsoBinding::Post),
            "redirect" => Ok(SsoBinding::Redirect),
            other => Err(corrupt("sso_binding", other)),
        }
    }
}

/// Which signature the ACS requires of this provider's Responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WantSigned {
    /// The Response or the Assertion (SAML profiles 4.1.3.5).
    Either,
    Response,
    Assertion,
}

impl WantSigned {
    pub fn as_str(self) -> &'static str {
        match self {
            WantSigned::Either => "either",
            WantSigned::Response => "response",
            WantSigned::Assertion => "assertion",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "either" => Ok(WantSigned::Either),
            "response" => Ok(WantSigned::Response),
            "assertion" => Ok(WantSigned::Assertion),
            other => Err(corrupt("want_signed", other)),
        }
    }
}

/// Which assertion attribute fills which user field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeNames {
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub groups: String,
}

impl Default for AttributeNames {
    fn default() -> Self {
        AttributeNames {
            username: "Username".into(),
            first_name: "FirstName".into(),
            last_name: "LastName".into(),
            email: "Email".into(),
            groups: "Groups".into(),
        }
    }
}

/// A SAML provider (an IdP) of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub id: Uuid,
    pub app_id: Uuid,
    pub name: String,
    pub idp_entity_id: String,
    pub sso_url: String,
    pub sso_binding: SsoBinding,
    pub slo_url: Option<String>,
    /// Base64 DER of every trusted signing certificate (several during rollover).
    pub signing_certs: Vec<String>,
    /// Where the metadata came from, for refresh.
    pub metadata_url: Option<String>,
    pub want_signed: WantSigned,
    /// Accept RSA-SHA1 signatures and SHA-1 digests (legacy IdPs only).
    pub allow_sha1: bool,
    /// Clock skew allowed on every time window, in seconds.
    pub skew_seconds: i64,
    pub allow_idp_initiated: bool,
    pub sign_requests: bool,
    pub waiting_room: bool,
    /// Lowercase e-mail domains this IdP serves (discovery).
    pub email_domains: Vec<String>,
    pub attributes: AttributeNames,
    pub default_policy_id: Option<Uuid>,
    pub created_at: i64,
}

/// A group policy: a name and the permissions it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub id: Uuid,
    pub app_id: Uuid,
    pub name: String,
    pub permissions: Vec<String>,
}

/// An outstanding AuthnRequest, found by its opaque RelayState reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    pub relay: String,
    pub request_id: String,
    pub provider_id: Uuid,
    /// A hash of the cookie of the browser that started the login.
    pub browser: String,
    pub return_url: String,
    pub expires_at: i64,
}

/// A user of the application itself (JIT-created or pre-provisioned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUser {
    pub id: Uuid,
    pub app_id: Uuid,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub created_at: i64,
}

/// A SAML user: the stable key is (provider, NameID); it exists only after a first login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlUser {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub name_id: String,
    pub local_user_id: Uuid,
    /// The IdP group object IDs of the last login.
    pub groups: Vec<String>,
    /// Effective permissions, recomputed at every login.
    pub permissions: Vec<String>,
    /// In the waiting room: not let in until an access request is approved.
    pub waiting: bool,
    /// What an approved access request granted.
    pub granted_policy_id: Option<Uuid>,
    pub granted_sites: Vec<String>,
    pub created_at: i64,
    pub last_login_at: i64,
}

/// Where an access request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(RequestStatus::Pending),
            "approved" => Ok(RequestStatus::Approved),
            "rejected" => Ok(RequestStatus::Rejected),
            other => Err(corrupt("status", other)),
        }
    }
}

/// A "new user" access request for a user in the waiting room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    pub id: Uuid,
    pub app_id: Uuid,
    pub saml_user_id: Uuid,
    pub requested_by: Uuid,
    /// The access level: the policy to grant.
    pub policy_id: Uuid,
    /// Which sites/properties the access covers.
    pub sites: Vec<String>,
    pub status: RequestStatus,
    pub created_at: i64,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<i64>,
}

/// A local session of the application (only the hash of the cookie's token is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpSession {
    pub token_hash: String,
    pub saml_user_id: Uuid,
    pub session_index: Option<String>,
    pub expires_at: i64,
}

fn corrupt(col: &str, value: &str) -> StoreError {
    StoreError::Database(format!(
        "column {col} holds {value:?}, which is not valid: the database is corrupted"
    ))
}

fn join(list: &[String]) -> String {
    list.join("\n")
}

fn split(s: &str) -> Vec<String> {
    s.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// Refuses list values the newline-separated columns cannot hold.
fn check_list(what: &str, list: &[String]) -> Result<()> {
    match list.iter().find(|v| v.is_empty() || v.contains(['\n', '\r'])) {
        Some(v) => Err(StoreError::conflict(format!(
            "{what} value {v:?} is empty or contains a line break: remove it"
        ))),
        None => Ok(()),
    }
}

const APP_COLS: &str = "id, name, base_url, entity_id, acs_url, signing_key_sealed, signing_cert, \
                        encryption_key_sealed, encryption_cert, created_at";

fn app_from(row: &AnyRow) -> Result<SpApp> {
    Ok(SpApp {
        id: uuid(row, "id")?,
        name: text(row, "name")?,
        base_url: text(row, "base_url")?,
        entity_id: opt_text(row, "entity_id")?,
        acs_url: opt_text(row, "acs_url")?,
        signing_key_sealed: opt_bytes(row, "signing_key_sealed")?,
        signing_cert: opt_text(row, "signing_cert")?,
        encryption_key_sealed: opt_bytes(row, "encryption_key_sealed")?,
        encryption_cert: opt_text(row, "encryption_cert")?,
        created_at: int(row, "created_at")?,
    })
}

const PROVIDER_COLS: &str = "id, app_id, name, idp_entity_id, sso_url, sso_binding, slo_url, signing_certs, \
                             metadata_url, want_signed, allow_sha1, skew_seconds, allow_idp_initiated, sign_requests, waiting_room, email_domains, \
                             attr_username, attr_first_name, attr_last_name, attr_email, attr_groups, \
                             default_policy_id, created_at";

fn provider_from(row: &AnyRow) -> Result<Provider> {
    Ok(Provider {
        id: uuid(row, "id")?,
        app_id: uuid(row, "app_id")?,
        name: text(row, "name")?,
        idp_entity_id: text(row, "idp_entity_id")?,
        sso_url: text(row, "sso_url")?,
        sso_binding: SsoBinding::parse(&text(row, "sso_binding")?)?,
        slo_url: opt_text(row, "slo_url")?,
        signing_certs: split(&text(row, "signing_certs")?),
        metadata_url: opt_text(row, "metadata_url")?,
        want_signed: WantSigned::parse(&text(row, "want_signed")?)?,
        allow_sha1: boolean(row, "allow_sha1")?,
        skew_seconds: int(row, "skew_seconds")?,
        allow_idp_initiated: boolean(row, "allow_idp_initiated")?,
        sign_requests: boolean(row, "sign_requests")?,
        waiting_room: boolean(row, "waiting_room")?,
        email_domains: split(&text(row, "email_domains")?),
        attributes: AttributeNames {
            username: text(row, "attr_username")?,
            first_name: text(row, "attr_first_name")?,
            last_name: text(row, "attr_last_name")?,
            email: text(row, "attr_email")?,
            groups: text(row, "attr_groups")?,
        },
        default_policy_id: opt_uuid(row, "default_policy_id")?,
        created_at: int(row, "created_at")?,
    })
}

fn policy_from(row: &AnyRow) -> Result<Policy> {
    Ok(Policy {
        id: uuid(row, "id")?,
        app_id: uuid(row, "app_id")?,
        name: text(row, "name")?,
        permissions: split(&text(row, "permissions")?),
    })
}

fn local_user_from(row: &AnyRow) -> Result<LocalUser> {
    Ok(LocalUser {
        id: uuid(row, "id")?,
        app_id: uuid(row, "app_id")?,
        username: text(row, "username")?,
        first_name: text(row, "first_name")?,
        last_name: text(row, "last_name")?,
        email: text(row, "email")?,
        created_at: int(row, "created_at")?,
    })
}

const SAML_USER_COLS: &str = "id, provider_id, name_id, local_user_id, groups, permissions, waiting, \
                              granted_policy_id, granted_sites, created_at, last_login_at";

fn saml_user_from(row: &AnyRow) -> Result<SamlUser> {
    Ok(SamlUser {
        id: uuid(row, "id")?,
        provider_id: uuid(row, "provider_id")?,
        name_id: text(row, "name_id")?,
        local_user_id: uuid(row, "local_user_id")?,
        groups: split(&text(row, "groups")?),
        permissions: split(&text(row, "permissions")?),
        waiting: boolean(row, "waiting")?,
        granted_policy_id: opt_uuid(row, "granted_policy_id")?,
        granted_sites: split(&text(row, "granted_sites")?),
        created_at: int(row, "created_at")?,
        last_login_at: int(row, "last_login_at")?,
    })
}

const REQUEST_COLS: &str = "id, app_id, saml_user_id, requested_by, policy_id, sites, status, created_at, \
                            decided_by, decided_at";

fn access_request_from(row: &AnyRow) -> Result<AccessRequest> {
    Ok(AccessRequest {
        id: uuid(row, "id")?,
        app_id: uuid(row, "app_id")?,
        saml_user_id: uuid(row, "saml_user_id")?,
        requested_by: uuid(row, "requested_by")?,
        policy_id: uuid(row, "policy_id")?,
        sites: split(&text(row, "sites")?),
        status: RequestStatus::parse(&text(row, "status")?)?,
        created_at: int(row, "created_at")?,
        decided_by: opt_uuid(row, "decided_by")?,
        decided_at: sqlx::Row::try_get(row, "decided_at")?,
    })
}

impl Store {
    // ------------------------------------------------------------ applications

    /// Creates an application and seeds its "General Members" example policy. A name already
    /// used is a Conflict.
    pub async fn sp_create_app(&self, a: &SpApp) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let sql =
            format!("INSERT INTO sp_apps ({APP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
        sqlx::query(&sql)
            .bind(id(a.id))
            .bind(a.name.as_str())
            .bind(a.base_url.as_str())
            .bind(a.entity_id.as_deref())
            .bind(a.acs_url.as_deref())
            .bind(a.signing_key_sealed.as_deref())
            .bind(a.signing_cert.as_deref())
            .bind(a.encryption_key_sealed.as_deref())
            .bind(a.encryption_cert.as_deref())
            .bind(a.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                classify(
                    e,
                    || format!("an SP application named {:?} already exists: choose another name", a.name),
                    || "SP application".into(),
                )
            })?;
        let perms: Vec<String> = GENERAL_MEMBERS_PERMISSIONS.iter().map(|p| p.to_string()).collect();
        sqlx::query(
            "INSERT INTO sp_policies (id, app_id, name, name_key, permissions) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id(Uuid::new_v4()))
        .bind(id(a.id))
        .bind(GENERAL_MEMBERS)
        .bind(fold(GENERAL_MEMBERS))
        .bind(join(&perms))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces an application's URLs and keys (everything but its ID, name and creation time).
    pub async fn sp_update_app(&self, a: &SpApp) -> Result<()> {
        let r = sqlx::query(
            "UPDATE sp_apps SET base_url = $2, entity_id = $3, acs_url = $4, signing_key_sealed = $5, \
             signing_cert = $6, encryption_key_sealed = $7, encryption_cert = $8 WHERE id = $1",
        )
        .bind(id(a.id))
        .bind(a.base_url.as_str())
        .bind(a.entity_id.as_deref())
        .bind(a.acs_url.as_deref())
        .bind(a.signing_key_sealed.as_deref())
        .bind(a.signing_cert.as_deref())
        .bind(a.encryption_key_sealed.as_deref())
        .bind(a.encryption_cert.as_deref())
        .execute(&self.pool)
        .await?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("SP application {}", a.id)));
        }
        Ok(())
    }

    pub async fn sp_app(&self, app: Uuid) -> Result<SpApp> {
        let sql = format!("SELECT {APP_COLS} FROM sp_apps WHERE id = $1");
        let row = sqlx::query(&sql).bind(id(app)).fetch_optional(&self.pool).await?;
        row.as_ref()
            .map(app_from)
            .transpose()?
            .ok_or_else(|| StoreError::not_found(format!("SP application {app}")))
    }

    pub async fn sp_app_by_name(&self, name: &str) -> Result<Option<SpApp>> {
        let sql = format!("SELECT {APP_COLS} FROM sp_apps WHERE name = $1");
        let row = sqlx::query(&sql).bind(name).fetch_optional(&self.pool).await?;
        row.as_ref().map(app_from).transpose()
    }

    // ------------------------------------------------------------ providers

    /// Creates a provider. A name or IdP entity ID already used by the application is a Conflict.
    pub async fn sp_create_provider(&self, p: &Provider) -> Result<()> {
        check_list("signing certificate", &p.signing_certs)?;
        check_list("e-mail domain", &p.email_domains)?;
        let sql = format!(
            "INSERT INTO sp_providers ({PROVIDER_COLS}, name_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
        );
        sqlx::query(&sql)
            .bind(id(p.id))
            .bind(id(p.app_id))
            .bind(p.name.as_str())
            .bind(p.idp_entity_id.as_str())
            .bind(p.sso_url.as_str())
            .bind(p.sso_binding.as_str())
            .bind(p.slo_url.as_deref())
            .bind(join(&p.signing_certs))
            .bind(p.metadata_url.as_deref())
            .bind(p.want_signed.as_str())
            .bind(p.allow_sha1)
            .bind(p.skew_seconds)
            .bind(p.allow_idp_initiated)
            .bind(p.sign_requests)
            .bind(p.waiting_room)
            .bind(join(&p.email_domains))
            .bind(p.attributes.username.as_str())
            .bind(p.attributes.first_name.as_str())
            .bind(p.attributes.last_name.as_str())
            .bind(p.attributes.email.as_str())
            .bind(p.attributes.groups.as_str())
            .bind(p.default_policy_id.map(id))
            .bind(p.created_at)
            .bind(fold(&p.name))
            .execute(&self.pool)
            .await
            .map_err(|e| {
                classify(
                    e,
                    || {
                        format!(
                            "the application already has a provider named {:?} or for IdP {:?}: \
                             refresh or change that one instead",
                            p.name, p.idp_entity_id
                        )
                    },
                    || format!("SP application {} (or the default policy)", p.app_id),
                )
            })?;
        Ok(())
    }

    /// Replaces every setting of a provider (not its ID, application or creation time).
    pub async fn sp_update_provider(&self, p: &Provider) -> Result<()> {
        check_list("signing certificate", &p.signing_certs)?;
        check_list("e-mail domain", &p.email_domains)?;
        let r = sqlx::query(
            "UPDATE sp_providers SET name = $2, name_key = $3, idp_entity_id = $4, sso_url = $5, \
             sso_binding = $6, slo_url = $7, signing_certs = $8, metadata_url = $9, allow_idp_initiated = $10, \
             sign_requests = $11, waiting_room = $12, email_domains = $13, attr_username = $14, \
             attr_first_name = $15, attr_last_name = $16, attr_email = $17, attr_groups = $18, \
             default_policy_id = $19, want_signed = $20, allow_sha1 = $21, skew_seconds = $22 WHERE id = $1",
        )
        .bind(id(p.id))
        .bind(p.name.as_str())
        .bind(fold(&p.name))
        .bind(p.idp_entity_id.as_str())
        .bind(p.sso_url.as_str())
        .bind(p.sso_binding.as_str())
        .bind(p.slo_url.as_deref())
        .bind(join(&p.signing_certs))
        .bind(p.metadata_url.as_deref())
        .bind(p.allow_idp_initiated)
        .bind(p.sign_requests)
        .bind(p.waiting_room)
        .bind(join(&p.email_domains))
        .bind(p.attributes.username.as_str())
        .bind(p.attributes.first_name.as_str())
        .bind(p.attributes.last_name.as_str())
        .bind(p.attributes.email.as_str())
        .bind(p.attributes.groups.as_str())
        .bind(p.default_policy_id.map(id))
        .bind(p.want_signed.as_str())
        .bind(p.allow_sha1)
        .bind(p.skew_seconds)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            classify(
                e,
                || format!("another provider of the application is named {:?} or has that IdP", p.name),
                || "the default policy".into(),
            )
        })?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("SAML provider {}", p.id)));
        }
        Ok(())
    }

    /// Deletes a provider with its SAML users, sessions and outstanding requests (their local
    /// users stay). Returns false when there was none.
    pub async fn sp_delete_provider(&self, provider: Uuid) -> Result<bool> {
        let r = sqlx::query("DELETE FROM sp_providers WHERE id = $1")
            .bind(id(provider))
            .execute(&self.pool)
            .await?;
        Ok(touched(&r))
    }

    pub async fn sp_provider(&self, provider: Uuid) -> Result<Provider> {
        let sql = format!("SELECT {PROVIDER_COLS} FROM sp_providers WHERE id = $1");
        let row = sqlx::query(&sql).bind(id(provider)).fetch_optional(&self.pool).await?;
        row.as_ref()
            .map(provider_from)
            .transpose()?
            .ok_or_else(|| StoreError::not_found(format!("SAML provider {provider}")))
    }

    /// The providers of an application, by name.
    pub async fn sp_providers(&self, app: Uuid) -> Result<Vec<Provider>> {
        let sql = format!("SELECT {PROVIDER_COLS} FROM sp_providers WHERE app_id = $1 ORDER BY name_key");
        let rows = sqlx::query(&sql).bind(id(app)).fetch_all(&self.pool).await?;
        rows.iter().map(provider_from).collect()
    }

    /// The provider of `app` whose IdP entity ID is `entity_id`.
    pub async fn sp_provider_by_entity_id(&self, app: Uuid, entity_id: &str) -> Result<Option<Provider>> {
        let sql =
            format!("SELECT {PROVIDER_COLS} FROM sp_providers WHERE app_id = $1 AND idp_entity_id = $2");
        let row = sqlx::query(&sql).bind(id(app)).bind(entity_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(provider_from).transpose()
    }

    /// The provider of `app` by name (case-insensitive) or ID text.
    pub async fn sp_provider_by_name(&self, app: Uuid, name: &str) -> Result<Option<Provider>> {
        let sql = format!(
            "SELECT {PROVIDER_COLS} FROM sp_providers WHERE app_id = $1 AND (name_key = $2 OR id = $3)"
        );
        let row = sqlx::query(&sql)
            .bind(id(app))
            .bind(fold(name))
            .bind(name.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(provider_from).transpose()
    }

    // ------------------------------------------------------------ policies and groups

    /// Creates a policy. A name already used by the application (any case) is a Conflict.
    pub async fn sp_create_policy(&self, p: &Policy) -> Result<()> {
        check_list("permission", &p.permissions)?;
        sqlx::query(
            "INSERT INTO sp_policies (id, app_id, name, name_key, permissions) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id(p.id))
        .bind(id(p.app_id))
        .bind(p.name.as_str())
        .bind(fold(&p.name))
        .bind(join(&p.permissions))
        .execute(&self.pool)
        .await
        .map_err(|e| {
            classify(
                e,
                || format!("the application already has a policy named {:?}", p.name),
                || format!("SP application {}", p.app_id),
            )
        })?;
        Ok(())
    }

    /// The policies of an application, by name.
    pub async fn sp_policies(&self, app: Uuid) -> Result<Vec<Policy>> {
        let rows = sqlx::query(
            "SELECT id, app_id, name, permissions FROM sp_policies WHERE app_id = $1 ORDER BY name_key",
        )
        .bind(id(app))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(policy_from).collect()
    }

    pub async fn sp_policy_by_name(&self, app: Uuid, name: &str) -> Result<Option<Policy>> {
        let row = sqlx::query(
            "SELECT id, app_id, name, permissions FROM sp_policies WHERE app_id = $1 AND name_key = $2",
        )
        .bind(id(app))
        .bind(fold(name))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(policy_from).transpose()
    }

    /// Renames a policy and replaces its permissions. A name already used by another policy of
    /// the application is a Conflict.
    pub async fn sp_update_policy(&self, p: &Policy) -> Result<()> {
        check_list("permission", &p.permissions)?;
        let r =
            sqlx::query("UPDATE sp_policies SET name = $2, name_key = $3, permissions = $4 WHERE id = $1")
                .bind(id(p.id))
                .bind(p.name.as_str())
                .bind(fold(&p.name))
                .bind(join(&p.permissions))
                .execute(&self.pool)
                .await
                .map_err(|e| {
                    classify(
                        e,
                        || format!("the application already has a policy named {:?}", p.name),
                        || "policy".into(),
                    )
                })?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("policy {}", p.id)));
        }
        Ok(())
    }

    /// Deletes a policy: its group mappings and access requests go with it; providers that had
    /// it as default policy get none. Returns false when there was none.
    pub async fn sp_delete_policy(&self, policy: Uuid) -> Result<bool> {
        let r =
            sqlx::query("DELETE FROM sp_policies WHERE id = $1").bind(id(policy)).execute(&self.pool).await?;
        Ok(touched(&r))
    }

    /// Removes an available group and its mappings. Returns false when there was none.
    pub async fn sp_delete_group(&self, app: Uuid, object_id: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM sp_groups WHERE app_id = $1 AND object_id = $2")
            .bind(id(app))
            .bind(object_id)
            .execute(&self.pool)
            .await?;
        Ok(touched(&r))
    }

    /// Adds (or renames) an available group: an IdP group object ID the application knows.
    pub async fn sp_put_group(&self, app: Uuid, object_id: &str, display_name: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO sp_groups (app_id, object_id, display_name) VALUES ($1, $2, $3) \
             ON CONFLICT (app_id, object_id) DO UPDATE SET display_name = excluded.display_name",
        )
        .bind(id(app))
        .bind(object_id)
        .bind(display_name)
        .execute(&self.pool)
        .await
        .map_err(|e| classify(e, || "group".into(), || format!("SP application {app}")))?;
        Ok(())
    }

    /// The available groups of an application: (object ID, display name), by object ID.
    pub async fn sp_groups(&self, app: Uuid) -> Result<Vec<(String, String)>> {
        let rows =
            sqlx::query("SELECT object_id, display_name FROM sp_groups WHERE app_id = $1 ORDER BY object_id")
                .bind(id(app))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| Ok((text(r, "object_id")?, text(r, "display_name")?))).collect()
    }

    /// Maps an available group to a policy (idempotent). Returns false when already mapped.
    pub async fn sp_map_group(&self, app: Uuid, object_id: &str, policy: Uuid) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO sp_group_policies (app_id, object_id, policy_id) VALUES ($1, $2, $3) \
             ON CONFLICT (app_id, object_id, policy_id) DO NOTHING",
        )
        .bind(id(app))
        .bind(object_id)
        .bind(id(policy))
        .execute(&self.pool)
        .await
        .map_err(|e| {
            classify(
                e,
                || "mapping".into(),
                || format!("available group {object_id:?} (add it first) or policy {policy}"),
            )
        })?;
        Ok(touched(&r))
    }

    /// Removes a group → policy mapping. Returns false when there was none.
    pub async fn sp_unmap_group(&self, app: Uuid, object_id: &str, policy: Uuid) -> Result<bool> {
        let r = sqlx::query(
            "DELETE FROM sp_group_policies WHERE app_id = $1 AND object_id = $2 AND policy_id = $3",
        )
        .bind(id(app))
        .bind(object_id)
        .bind(id(policy))
        .execute(&self.pool)
        .await?;
        Ok(touched(&r))
    }

    /// Every (object ID, policy) mapping of an application.
    pub async fn sp_group_policies(&self, app: Uuid) -> Result<Vec<(String, Policy)>> {
        let rows = sqlx::query(
            "SELECT gp.object_id, p.id, p.app_id, p.name, p.permissions FROM sp_group_policies gp \
             JOIN sp_policies p ON p.id = gp.policy_id WHERE gp.app_id = $1 ORDER BY gp.object_id, p.name_key",
        )
        .bind(id(app))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((text(r, "object_id")?, policy_from(r)?))).collect()
    }

    // ------------------------------------------------------------ requests and replay

    /// Records an outstanding AuthnRequest.
    pub async fn sp_put_request(&self, r: &PendingRequest) -> Result<()> {
        sqlx::query(
            "INSERT INTO sp_requests (relay, request_id, provider_id, browser, return_url, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(r.relay.as_str())
        .bind(r.request_id.as_str())
        .bind(id(r.provider_id))
        .bind(r.browser.as_str())
        .bind(r.return_url.as_str())
        .bind(r.expires_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            classify(e, || "request reference reused".into(), || format!("provider {}", r.provider_id))
        })?;
        Ok(())
    }

    /// Removes and returns the outstanding request `relay` if it has not expired at `now`: each
    /// request is answered once (of two concurrent takes, one gets it).
    pub async fn sp_take_request(&self, relay: &str, now: i64) -> Result<Option<PendingRequest>> {
        let row = sqlx::query(
            "SELECT relay, request_id, provider_id, browser, return_url, expires_at FROM sp_requests \
             WHERE relay = $1",
        )
        .bind(relay)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let deleted =
            sqlx::query("DELETE FROM sp_requests WHERE relay = $1").bind(relay).execute(&self.pool).await?;
        let req = PendingRequest {
            relay: text(&row, "relay")?,
            request_id: text(&row, "request_id")?,
            provider_id: uuid(&row, "provider_id")?,
            browser: text(&row, "browser")?,
            return_url: text(&row, "return_url")?,
            expires_at: int(&row, "expires_at")?,
        };
        Ok((touched(&deleted) && req.expires_at > now).then_some(req))
    }

    /// Deletes requests that expired at or before `now`. Returns how many.
    pub async fn sp_purge_requests(&self, now: i64) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sp_requests WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    /// One-time use of an assertion ID: records it until `expires_at` and returns true, or returns
    /// false when it is recorded and not expired at `now` (a replay). Atomic: of two concurrent
    /// calls with one ID, exactly one gets true.
    pub async fn sp_remember_assertion(&self, assertion_id: &str, expires_at: i64, now: i64) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO sp_replay (assertion_id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (assertion_id) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE sp_replay.expires_at <= $3",
        )
        .bind(assertion_id)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(touched(&r))
    }

    /// Forgets assertion IDs that expired at or before `now`. Returns how many.
    pub async fn sp_purge_replay(&self, now: i64) -> Result<u64> {
        let r =
            sqlx::query("DELETE FROM sp_replay WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        Ok(r.rows_affected())
    }

    // ------------------------------------------------------------ users

    pub async fn sp_create_local_user(&self, u: &LocalUser) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        insert_local_user(&mut conn, u).await
    }

    /// Replaces a local user's username, names and e-mail.
    pub async fn sp_update_local_user(&self, u: &LocalUser) -> Result<()> {
        let r = sqlx::query(
            "UPDATE sp_local_users SET username = $2, first_name = $3, last_name = $4, email = $5, \
             email_key = $6 WHERE id = $1",
        )
        .bind(id(u.id))
        .bind(u.username.as_str())
        .bind(u.first_name.as_str())
        .bind(u.last_name.as_str())
        .bind(u.email.as_str())
        .bind(fold(&u.email))
        .execute(&self.pool)
        .await?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("local user {}", u.id)));
        }
        Ok(())
    }

    pub async fn sp_local_user(&self, user: Uuid) -> Result<LocalUser> {
        let row = sqlx::query(
            "SELECT id, app_id, username, first_name, last_name, email, created_at FROM sp_local_users \
             WHERE id = $1",
        )
        .bind(id(user))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(local_user_from)
            .transpose()?
            .ok_or_else(|| StoreError::not_found(format!("local user {user}")))
    }

    /// The local users of `app` with this e-mail (case-insensitive) that no SAML user is linked
    /// to yet: the pre-provisioned candidates for linking, oldest first.
    pub async fn sp_unlinked_local_users_by_email(&self, app: Uuid, email: &str) -> Result<Vec<LocalUser>> {
        let rows = sqlx::query(
            "SELECT id, app_id, username, first_name, last_name, email, created_at FROM sp_local_users u \
             WHERE app_id = $1 AND email_key = $2 \
             AND NOT EXISTS (SELECT 1 FROM sp_saml_users s WHERE s.local_user_id = u.id) \
             ORDER BY created_at, id",
        )
        .bind(id(app))
        .bind(fold(email))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(local_user_from).collect()
    }

    pub async fn sp_saml_user(&self, provider: Uuid, name_id: &str) -> Result<Option<SamlUser>> {
        let sql =
            format!("SELECT {SAML_USER_COLS} FROM sp_saml_users WHERE provider_id = $1 AND name_id = $2");
        let row = sqlx::query(&sql).bind(id(provider)).bind(name_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(saml_user_from).transpose()
    }

    pub async fn sp_saml_user_by_id(&self, user: Uuid) -> Result<SamlUser> {
        let sql = format!("SELECT {SAML_USER_COLS} FROM sp_saml_users WHERE id = $1");
        let row = sqlx::query(&sql).bind(id(user)).fetch_optional(&self.pool).await?;
        row.as_ref()
            .map(saml_user_from)
            .transpose()?
            .ok_or_else(|| StoreError::not_found(format!("SAML user {user}")))
    }

    /// Creates a SAML user. A second one for the same (provider, NameID) is a Conflict.
    pub async fn sp_create_saml_user(&self, u: &SamlUser) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        insert_saml_user(&mut conn, u).await
    }

    /// A first login in one transaction: the new local user (unless an existing one is being
    /// linked) and the SAML user. When a concurrent first login of the same (provider, NameID)
    /// won, this is a Conflict and nothing is written.
    pub async fn sp_create_first_login(&self, new_local: Option<&LocalUser>, u: &SamlUser) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if let Some(l) = new_local {
            insert_local_user(&mut tx, l).await?;
        }
        insert_saml_user(&mut tx, u).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a login: the groups seen and the permissions recomputed from them.
    pub async fn sp_record_saml_login(
        &self,
        user: Uuid,
        groups: &[String],
        permissions: &[String],
        at: i64,
    ) -> Result<()> {
        check_list("group", groups)?;
        check_list("permission", permissions)?;
        let r = sqlx::query(
            "UPDATE sp_saml_users SET groups = $2, permissions = $3, last_login_at = $4 WHERE id = $1",
        )
        .bind(id(user))
        .bind(join(groups))
        .bind(join(permissions))
        .bind(at)
        .execute(&self.pool)
        .await?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("SAML user {user}")));
        }
        Ok(())
    }

    /// The SAML users of an application with their local users, by username.
    pub async fn sp_saml_users(&self, app: Uuid) -> Result<Vec<(SamlUser, LocalUser)>> {
        let rows = sqlx::query(
            "SELECT s.id, s.provider_id, s.name_id, s.local_user_id, s.groups, s.permissions, s.waiting, \
             s.granted_policy_id, s.granted_sites, s.created_at, s.last_login_at, u.app_id, u.username, u.first_name, u.last_name, u.email, \
             u.created_at AS local_created_at \
             FROM sp_saml_users s JOIN sp_local_users u ON u.id = s.local_user_id \
             WHERE u.app_id = $1 ORDER BY u.username, s.id",
        )
        .bind(id(app))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let s = saml_user_from(r)?;
                let u = LocalUser {
                    id: s.local_user_id,
                    app_id: uuid(r, "app_id")?,
                    username: text(r, "username")?,
                    first_name: text(r, "first_name")?,
                    last_name: text(r, "last_name")?,
                    email: text(r, "email")?,
                    created_at: int(r, "local_created_at")?,
                };
                Ok((s, u))
            })
            .collect()
    }

    // ------------------------------------------------------------ waiting room

    /// Files an access request. Only a user in the waiting room can be the subject of one, and
    /// only one pending request per user exists (a second is a Conflict).
    pub async fn sp_create_access_request(&self, r: &AccessRequest) -> Result<()> {
        check_list("site", &r.sites)?;
        let mut tx = self.begin_write().await?;
        let waiting = sqlx::query("SELECT waiting FROM sp_saml_users WHERE id = $1")
            .bind(id(r.saml_user_id))
            .fetch_optional(&mut *tx)
            .await?;
        match waiting.as_ref().map(|row| boolean(row, "waiting")).transpose()? {
            None => return Err(StoreError::not_found(format!("SAML user {}", r.saml_user_id))),
            Some(false) => {
                return Err(StoreError::conflict("the user is not in the waiting room: nothing to request"))
            }
            Some(true) => {}
        }
        let pending = sqlx::query(
            "SELECT 1 AS one FROM sp_access_requests WHERE saml_user_id = $1 AND status = 'pending'",
        )
        .bind(id(r.saml_user_id))
        .fetch_optional(&mut *tx)
        .await?;
        if pending.is_some() {
            return Err(StoreError::conflict(
                "an access request for this user is already pending: approve or reject it first",
            ));
        }
        let sql = format!(
            "INSERT INTO sp_access_requests ({REQUEST_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        sqlx::query(&sql)
            .bind(id(r.id))
            .bind(id(r.app_id))
            .bind(id(r.saml_user_id))
            .bind(id(r.requested_by))
            .bind(id(r.policy_id))
            .bind(join(&r.sites))
            .bind(r.status.as_str())
            .bind(r.created_at)
            .bind(r.decided_by.map(id))
            .bind(r.decided_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                classify(e, || "access request exists".into(), || "user, requester or policy".into())
            })?;
        tx.commit().await?;
        Ok(())
    }

    /// The access requests of an application, oldest first; only `status` ones when given.
    pub async fn sp_access_requests(
        &self,
        app: Uuid,
        status: Option<RequestStatus>,
    ) -> Result<Vec<AccessRequest>> {
        let sql = format!(
            "SELECT {REQUEST_COLS} FROM sp_access_requests WHERE app_id = $1 AND ($2 = '' OR status = $2) \
             ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(id(app))
            .bind(status.map(RequestStatus::as_str).unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(access_request_from).collect()
    }

    /// Approves or rejects a pending request; an approval lets the user out of the waiting room
    /// with the request's policy and sites, in the same transaction. A request already decided
    /// is a Conflict (two administrators cannot both decide it).
    pub async fn sp_decide_access_request(
        &self,
        request: Uuid,
        approve: bool,
        decided_by: Uuid,
        at: i64,
    ) -> Result<AccessRequest> {
        let mut tx = self.begin_write().await?;
        let status = if approve { RequestStatus::Approved } else { RequestStatus::Rejected };
        let r = sqlx::query(
            "UPDATE sp_access_requests SET status = $2, decided_by = $3, decided_at = $4 \
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(id(request))
        .bind(status.as_str())
        .bind(id(decided_by))
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if !touched(&r) {
            return Err(StoreError::conflict(format!(
                "access request {request} does not exist or was already decided"
            )));
        }
        let sql = format!("SELECT {REQUEST_COLS} FROM sp_access_requests WHERE id = $1");
        let row = sqlx::query(&sql).bind(id(request)).fetch_one(&mut *tx).await?;
        let decided = access_request_from(&row)?;
        if approve {
            sqlx::query(
                "UPDATE sp_saml_users SET waiting = $2, granted_policy_id = $3, granted_sites = $4 WHERE id = $1",
            )
            .bind(id(decided.saml_user_id))
            .bind(false)
            .bind(id(decided.policy_id))
            .bind(join(&decided.sites))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(decided)
    }

    // ------------------------------------------------------------ sessions

    pub async fn sp_create_session(&self, s: &SpSession) -> Result<()> {
        sqlx::query(
            "INSERT INTO sp_sessions (token_hash, saml_user_id, session_index, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(s.token_hash.as_str())
        .bind(id(s.saml_user_id))
        .bind(s.session_index.as_deref())
        .bind(s.expires_at)
        .execute(&self.pool)
        .await
        .map_err(|e| classify(e, || "session token reused".into(), || format!("SAML user {}", s.saml_user_id)))?;
        Ok(())
    }

    /// The session with this token hash, if it has not expired at `now`.
    pub async fn sp_session(&self, token_hash: &str, now: i64) -> Result<Option<SpSession>> {
        let row = sqlx::query(
            "SELECT token_hash, saml_user_id, session_index, expires_at FROM sp_sessions \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SpSession {
                token_hash: text(&r, "token_hash")?,
                saml_user_id: uuid(&r, "saml_user_id")?,
                session_index: opt_text(&r, "session_index")?,
                expires_at: int(&r, "expires_at")?,
            })
        })
        .transpose()
    }

    /// Ends the sessions of a SAML user (only the one with `session_index` when given), as an
    /// IdP's LogoutRequest asks. Returns how many.
    pub async fn sp_delete_sessions_of(&self, saml_user: Uuid, session_index: Option<&str>) -> Result<u64> {
        let r = sqlx::query(
            "DELETE FROM sp_sessions WHERE saml_user_id = $1 AND ($2 = '' OR session_index = $2)",
        )
        .bind(id(saml_user))
        .bind(session_index.unwrap_or(""))
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected())
    }

    pub async fn sp_delete_session(&self, token_hash: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM sp_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(touched(&r))
    }
}

async fn insert_local_user(conn: &mut sqlx::AnyConnection, u: &LocalUser) -> Result<()> {
    sqlx::query(
        "INSERT INTO sp_local_users (id, app_id, username, first_name, last_name, email, email_key, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id(u.id))
    .bind(id(u.app_id))
    .bind(u.username.as_str())
    .bind(u.first_name.as_str())
    .bind(u.last_name.as_str())
    .bind(u.email.as_str())
    .bind(fold(&u.email))
    .bind(u.created_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        classify(e, || format!("local user {} exists", u.id), || format!("SP application {}", u.app_id))
    })?;
    Ok(())
}

async fn insert_saml_user(conn: &mut sqlx::AnyConnection, u: &SamlUser) -> Result<()> {
    check_list("group", &u.groups)?;
    check_list("permission", &u.permissions)?;
    check_list("site", &u.granted_sites)?;
    let sql = format!(
        "INSERT INTO sp_saml_users ({SAML_USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    sqlx::query(&sql)
        .bind(id(u.id))
        .bind(id(u.provider_id))
        .bind(u.name_id.as_str())
        .bind(id(u.local_user_id))
        .bind(join(&u.groups))
        .bind(join(&u.permissions))
        .bind(u.waiting)
        .bind(u.granted_policy_id.map(id))
        .bind(join(&u.granted_sites))
        .bind(u.created_at)
        .bind(u.last_login_at)
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            classify(
                e,
                || format!("the provider already has a SAML user with NameID {:?}", u.name_id),
                || "provider or local user".into(),
            )
        })?;
    Ok(())
}
