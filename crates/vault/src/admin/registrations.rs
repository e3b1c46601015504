//! API registrations (a 128-character key kept as a keyed hash, IP rules, token duration, user
//! password required, active) and OAuth clients (client credentials acting as a vault user).

use sqlx::any::AnyRow;
use store::row::{boolean, fold, int, text};
use zeroize::Zeroizing;

use super::check_name;
use crate::error::{invalid, not_found, unique, Result};
use crate::ip::IpRule;
use crate::model::{OAuthClient, Registration};
use crate::{crypto, Vault};

/// A new API registration.
#[derive(Debug, Clone)]
pub struct NewRegistration {
    pub name: String,
    pub ip_rules: Vec<IpRule>,
    pub token_minutes: i64,
    pub user_password_required: bool,
}

fn registration_row(r: &AnyRow) -> Result<Registration> {
    let rules = text(r, "ip_rules")?;
    Ok(Registration {
        id: int(r, "id")?,
        name: text(r, "name")?,
        ip_rules: serde_json::from_str(&rules).unwrap_or_default(),
        token_minutes: int(r, "token_minutes")?,
        user_password_required: boolean(r, "user_password_required")?,
        active: boolean(r, "active")?,
        created_at: int(r, "created_at")?,
    })
}

impl Vault {
    /// Creates a registration; returns it with its 128-character key (shown once: only its keyed
    /// hash is stored).
    pub async fn create_registration(&self, r: NewRegistration) -> Result<(Registration, Zeroizing<String>)> {
        check_name("registration", &r.name)?;
        if !(1..=525_600).contains(&r.token_minutes) {
            return Err(invalid("the access token duration must be 1 to 525600 minutes"));
        }
        let key = crypto::api_key()?;
        let rules = serde_json::to_string(&r.ip_rules).map_err(|e| invalid(e.to_string()))?;
        let row = sqlx::query(
            "INSERT INTO vault_registrations (name, name_key, key_hash, ip_rules, token_minutes, \
             user_password_required, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        )
        .bind(r.name.trim())
        .bind(fold(r.name.trim()))
        .bind(self.hasher().hash("apikey", &key))
        .bind(rules)
        .bind(r.token_minutes)
        .bind(r.user_password_required)
        .bind(true)
        .bind(self.now())
        .fetch_one(self.pool())
        .await
        .map_err(|e| unique(e, || format!("an API registration named {:?} already exists", r.name)))?;
        Ok((registration_row(&row)?, key))
    }

    pub async fn list_registrations(&self) -> Result<Vec<Registration>> {
        let rows =
            sqlx::query("SELECT * FROM vault_registrations ORDER BY id").fetch_all(self.pool()).await?;
        rows.iter().map(registration_row).collect()
    }

    pub async fn registration(&self, name_or_id: &str) -> Result<Registration> {
        let r = sqlx::query(
            "SELECT * FROM vault_registrations WHERE name_key = $1 OR CAST(id AS TEXT) = $2 \
             ORDER BY name_key = $1 DESC LIMIT 1",
        )
        .bind(fold(name_or_id.trim()))
        .bind(name_or_id.trim())
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| {
            not_found(format!("no API registration {name_or_id:?}: see `vault registration list`"))
        })?;
        registration_row(&r)
    }

    /// The registration whose key this is (keyed hash lookup; the index compares hashes, and
    /// the match is re-checked in constant time).
    pub(crate) async fn registration_by_key(&self, key: &str) -> Result<Option<Registration>> {
        let h = self.hasher().hash("apikey", key);
        let r = sqlx::query("SELECT * FROM vault_registrations WHERE key_hash = $1")
            .bind(&h)
            .fetch_optional(self.pool())
            .await?;
        match r {
            Some(r) if web::token::constant_time_eq(text(&r, "key_hash")?.as_bytes(), h.as_bytes()) => {
                Ok(Some(registration_row(&r)?))
            }
            _ => Ok(None),
        }
    }

    pub async fn set_registration(
        &self,
        name: &str,
        active: Option<bool>,
        ip_rules: Option<Vec<IpRule>>,
        token_minutes: Option<i64>,
        user_password_required: Option<bool>,
    ) -> Result<Registration> {
        let r = self.registration(name).await?;
        let rules =
            serde_json::to_string(&ip_rules.unwrap_or(r.ip_rules)).map_err(|e| invalid(e.to_string()))?;
        sqlx::query(
            "UPDATE vault_registrations SET active = $1, ip_rules = $2, token_minutes = $3, \
             user_password_required = $4 WHERE id = $5",
        )
        .bind(active.unwrap_or(r.active))
        .bind(rules)
        .bind(token_minutes.unwrap_or(r.token_minutes))
        .bind(user_password_required.unwrap_or(r.user_password_required))
        .bind(r.id)
        .execute(self.pool())
        .await?;
        self.registration(&r.id.to_string()).await
    }

    /// Replaces the registration's key; returns the new one (shown once).
    pub async fn rotate_registration_key(&self, name_or_id: &str) -> Result<Zeroizing<String>> {
        let r = self.registration(name_or_id).await?;
        let key = crypto::api_key()?;
        sqlx::query("UPDATE vault_registrations SET key_hash = $1 WHERE id = $2")
            .bind(self.hasher().hash("apikey", &key))
            .bind(r.id)
            .execute(self.pool())
            .await?;
        Ok(key)
    }

    pub async fn delete_registration(&self, name: &str) -> Result<()> {
        let r = self.registration(name).await?;
        sqlx::query("DELETE FROM vault_registrations WHERE id = $1").bind(r.id).execute(self.pool()).await?;
        Ok(())
    }

    /// The registrations attached to the user's groups.
    pub(crate) async fn user_registrations(&self, user_id: i64) -> Result<Vec<Registration>> {
        let rows = sqlx::query(
            "SELECT DISTINCT r.* FROM vault_group_members m JOIN vault_groups g ON g.id = m.group_id \
             JOIN vault_registrations r ON r.id = g.registration_id WHERE m.user_id = $1",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(registration_row).collect()
    }

    /// Creates an OAuth client (client-credentials flow) acting as `user`; returns the client
    /// ID (36 characters) and its secret (48 characters, shown once).
    pub async fn create_oauth_client(&self, user: &str) -> Result<(String, Zeroizing<String>)> {
        let u = self.user(user).await?;
        let client_id = uuid::Uuid::new_v4().hyphenated().to_string();
        let secret = crypto::random_string(crypto::ALNUM, 48)?;
        sqlx::query("INSERT INTO vault_oauth_clients (client_id, user_id, secret_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&client_id)
            .bind(u.id)
            .bind(self.hasher().hash("oauth-secret", &secret))
            .bind(self.now())
            .execute(self.pool())
            .await?;
        Ok((client_id, secret))
    }

    pub async fn list_oauth_clients(&self) -> Result<Vec<OAuthClient>> {
        let rows = sqlx::query(
            "SELECT c.client_id, u.name, c.created_at FROM vault_oauth_clients c JOIN vault_users u ON u.id = c.user_id ORDER BY c.created_at",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OAuthClient {
                    client_id: text(r, "client_id")?,
                    user: text(r, "name")?,
                    created_at: int(r, "created_at")?,
                })
            })
            .collect()
    }

    pub async fn delete_oauth_client(&self, client_id: &str) -> Result<()> {
        let n = sqlx::query("DELETE FROM vault_oauth_clients WHERE client_id = $1")
            .bind(client_id)
            .execute(self.pool())
            .await?;
        if n.rows_affected() == 0 {
            return Err(not_found(format!("no OAuth client {client_id:?}")));
        }
        Ok(())
    }
}
