//! Managed systems: hosts and databases whose accounts the vault manages, with the functional
//! (administrator) account the rotators change passwords through.

use sqlx::any::AnyRow;
use store::row::{boolean, fold, int, opt_bytes, opt_int, opt_text, text};

use super::{check_name, functional_aad, id_of};
use crate::error::{invalid, not_found, unique, Result};
use crate::model::{System, PLATFORMS};
use crate::Vault;

/// A new managed system.
#[derive(Debug, Clone, Default)]
pub struct NewSystem {
    pub name: String,
    pub host: String,
    pub platform: String,
    pub port: Option<u16>,
    pub workgroup: Option<String>,
}

const SYSTEM_COLS: &str = "id, name, host, platform, port, workgroup, functional_user, \
    functional_password_sealed IS NOT NULL AS has_fp, created_at";

fn system_row(r: &AnyRow) -> Result<System> {
    Ok(System {
        id: int(r, "id")?,
        name: text(r, "name")?,
        host: text(r, "host")?,
        platform: text(r, "platform")?,
        port: opt_int(r, "port")?,
        workgroup: opt_text(r, "workgroup")?,
        functional_user: opt_text(r, "functional_user")?,
        has_functional_password: boolean(r, "has_fp")?,
        created_at: int(r, "created_at")?,
    })
}

impl Vault {
    pub async fn create_system(&self, new: NewSystem) -> Result<System> {
        check_name("system", &new.name)?;
        if new.host.trim().is_empty() {
            return Err(invalid("the host name or IP address is empty: pass --host"));
        }
        if !PLATFORMS.contains(&new.platform.as_str()) {
            return Err(invalid(format!(
                "platform {:?} is not one of {}",
                new.platform,
                PLATFORMS.join(", ")
            )));
        }
        let row = sqlx::query(&format!(
            "INSERT INTO vault_systems (name, name_key, host, platform, port, workgroup, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {SYSTEM_COLS}"
        ))
        .bind(new.name.trim())
        .bind(fold(new.name.trim()))
        .bind(new.host.trim())
        .bind(&new.platform)
        .bind(new.port.map(i64::from))
        .bind(new.workgroup)
        .bind(self.now())
        .fetch_one(self.pool())
        .await
        .map_err(|e| unique(e, || format!("a managed system named {:?} already exists", new.name)))?;
        system_row(&row)
    }

    pub async fn list_systems(&self) -> Result<Vec<System>> {
        let rows = sqlx::query(&format!("SELECT {SYSTEM_COLS} FROM vault_systems ORDER BY id"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(system_row).collect()
    }

    /// A system by ID or (case-insensitive) name.
    pub async fn system(&self, name_or_id: &str) -> Result<System> {
        if let Some(id) = id_of(name_or_id) {
            if let Some(r) = sqlx::query(&format!("SELECT {SYSTEM_COLS} FROM vault_systems WHERE id = $1"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?
            {
                return system_row(&r);
            }
        }
        let r = sqlx::query(&format!("SELECT {SYSTEM_COLS} FROM vault_systems WHERE name_key = $1"))
            .bind(fold(name_or_id.trim()))
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| not_found(format!("no managed system {name_or_id:?}: see `vault system list`")))?;
        system_row(&r)
    }

    pub async fn update_system(
        &self,
        id: i64,
        host: Option<String>,
        port: Option<u16>,
        workgroup: Option<String>,
    ) -> Result<System> {
        let s = self.system(&id.to_string()).await?;
        sqlx::query("UPDATE vault_systems SET host = $1, port = $2, workgroup = $3 WHERE id = $4")
            .bind(host.unwrap_or(s.host))
            .bind(port.map(i64::from).or(s.port))
            .bind(workgroup.or(s.workgroup))
            .bind(id)
            .execute(self.pool())
            .await?;
        self.system(&id.to_string()).await
    }

    /// Sets the functional (admin) account the rotators use on this system; the password is sealed.
    pub async fn set_functional_account(&self, id: i64, user: &str, password: &str) -> Result<()> {
        let sealed = self.seal(&functional_aad(id), password.as_bytes())?;
        sqlx::query(
            "UPDATE vault_systems SET functional_user = $1, functional_password_sealed = $2 WHERE id = $3",
        )
        .bind(user)
        .bind(sealed)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub(crate) async fn functional_login(&self, system_id: i64) -> Result<Option<rotate::Login>> {
        let r = sqlx::query(
            "SELECT functional_user, functional_password_sealed FROM vault_systems WHERE id = $1",
        )
        .bind(system_id)
        .fetch_one(self.pool())
        .await?;
        match (opt_text(&r, "functional_user")?, opt_bytes(&r, "functional_password_sealed")?) {
            (Some(user), Some(sealed)) => {
                let password = self.open_string(&functional_aad(system_id), &sealed)?;
                Ok(Some(rotate::Login { user, password }))
            }
            _ => Ok(None),
        }
    }

    pub async fn delete_system(&self, name_or_id: &str) -> Result<()> {
        let s = self.system(name_or_id).await?;
        sqlx::query("DELETE FROM vault_systems WHERE id = $1").bind(s.id).execute(self.pool()).await?;
        Ok(())
    }
}
