//! The SP's applications: one per site that signs its users in through SAML, with its URLs
//! and sealed keys. A new one gets the example policy [`GENERAL_MEMBERS`].

use sqlx::any::AnyRow;
use store::row::{fold, id, int, opt_bytes, opt_text, text, uuid};
use store::{classify, Result, StoreError};
use uuid::Uuid;

use super::{join, touched, SpDb};

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

impl SpDb {
    /// Creates an application and seeds its "General Members" example policy. A name already
    /// used is a Conflict.
    pub async fn create_app(&self, a: &SpApp) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
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
    pub async fn update_app(&self, a: &SpApp) -> Result<()> {
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
        .execute(self.store.pool())
        .await?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("SP application {}", a.id)));
        }
        Ok(())
    }

    pub async fn app(&self, app: Uuid) -> Result<SpApp> {
        let sql = format!("SELECT {APP_COLS} FROM sp_apps WHERE id = $1");
        let row = sqlx::query(&sql).bind(id(app)).fetch_optional(self.store.pool()).await?;
        row.as_ref()
            .map(app_from)
            .transpose()?
            .ok_or_else(|| StoreError::not_found(format!("SP application {app}")))
    }

    pub async fn app_by_name(&self, name: &str) -> Result<Option<SpApp>> {
        let sql = format!("SELECT {APP_COLS} FROM sp_apps WHERE name = $1");
        let row = sqlx::query(&sql).bind(name).fetch_optional(self.store.pool()).await?;
        row.as_ref().map(app_from).transpose()
    }
}
