//! The SAML providers (IdPs) of an application and how their Responses are read.

use sqlx::any::AnyRow;
use store::row::{boolean, fold, id, int, opt_text, opt_uuid, text, uuid};
use store::{classify, Result, StoreError};
use uuid::Uuid;

use super::{check_list, corrupt, join, split, touched, SpDb};

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

impl SpDb {
    /// Creates a provider. A name or IdP entity ID already used by the application is a Conflict.
    pub async fn create_provider(&self, p: &Provider) -> Result<()> {
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
            .execute(self.store.pool())
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
    pub async fn update_provider(&self, p: &Provider) -> Result<()> {
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
        .execute(self.store.pool())
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
    pub async fn delete_provider(&self, provider: Uuid) -> Result<bool> {
        let r = sqlx::query("DELETE FROM sp_providers WHERE id = $1")
            .bind(id(provider))
            .execute(self.store.pool())
            .await?;
        Ok(touched(&r))
    }

    pub async fn provider(&self, provider: Uuid) -> Result<Provider> {
        let sql = format!("SELECT {PROVIDER_COLS} FROM sp_providers WHERE id = $1");
        let row = sqlx::query(&sql).bind(id(provider)).fetch_optional(self.store.pool()).await?;
        row.as_ref()
            .map(provider_from)
            .transpose()?
            .ok_or_else(|| StoreError::not_found(format!("SAML provider {provider}")))
    }

    /// The providers of an application, by name.
    pub async fn providers(&self, app: Uuid) -> Result<Vec<Provider>> {
        let sql = format!("SELECT {PROVIDER_COLS} FROM sp_providers WHERE app_id = $1 ORDER BY name_key");
        let rows = sqlx::query(&sql).bind(id(app)).fetch_all(self.store.pool()).await?;
        rows.iter().map(provider_from).collect()
    }

    /// The provider of `app` whose IdP entity ID is `entity_id`.
    pub async fn provider_by_entity_id(&self, app: Uuid, entity_id: &str) -> Result<Option<Provider>> {
        let sql =
            format!("SELECT {PROVIDER_COLS} FROM sp_providers WHERE app_id = $1 AND idp_entity_id = $2");
        let row = sqlx::query(&sql).bind(id(app)).bind(entity_id).fetch_optional(self.store.pool()).await?;
        row.as_ref().map(provider_from).transpose()
    }

    /// The provider of `app` by name (case-insensitive) or ID text.
    pub async fn provider_by_name(&self, app: Uuid, name: &str) -> Result<Option<Provider>> {
        let sql = format!(
            "SELECT {PROVIDER_COLS} FROM sp_providers WHERE app_id = $1 AND (name_key = $2 OR id = $3)"
        );
        let row = sqlx::query(&sql)
            .bind(id(app))
            .bind(fold(name))
            .bind(name.to_ascii_lowercase())
            .fetch_optional(self.store.pool())
            .await?;
        row.as_ref().map(provider_from).transpose()
    }
}
