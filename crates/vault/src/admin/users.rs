//! Vault users: who signs in to the API (their password, for `pwd=[…]`, as argon2id).

use sqlx::any::AnyRow;
use store::row::{boolean, fold, int, opt_text, text};

use super::check_name;
use crate::error::{not_found, unique, Result};
use crate::model::User;
use crate::Vault;

fn user_row(r: &AnyRow) -> Result<User> {
    Ok(User {
        id: int(r, "id")?,
        name: text(r, "name")?,
        email: opt_text(r, "email")?,
        has_password: boolean(r, "has_pw")?,
        created_at: int(r, "created_at")?,
    })
}

impl Vault {
    pub async fn create_user(&self, name: &str, password: Option<&str>, email: Option<&str>) -> Result<User> {
        check_name("user", name)?;
        let hash = password.map(web::password::hash).transpose()?;
        let r = sqlx::query(
            "INSERT INTO vault_users (name, name_key, email, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, name, email, password_hash IS NOT NULL AS has_pw, created_at",
        )
        .bind(name.trim())
        .bind(fold(name.trim()))
        .bind(email)
        .bind(hash)
        .bind(self.now())
        .fetch_one(self.pool())
        .await
        .map_err(|e| unique(e, || format!("a vault user named {name:?} already exists")))?;
        user_row(&r)
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(
            "SELECT id, name, email, password_hash IS NOT NULL AS has_pw, created_at FROM vault_users ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(user_row).collect()
    }

    pub async fn user(&self, name_or_id: &str) -> Result<User> {
        let r = sqlx::query(
            "SELECT id, name, email, password_hash IS NOT NULL AS has_pw, created_at FROM vault_users \
             WHERE name_key = $1 OR CAST(id AS TEXT) = $2 ORDER BY name_key = $1 DESC LIMIT 1",
        )
        .bind(fold(name_or_id.trim()))
        .bind(name_or_id.trim())
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| not_found(format!("no vault user {name_or_id:?}: see `vault user list`")))?;
        user_row(&r)
    }

    pub(crate) async fn user_password_hash(&self, id: i64) -> Result<Option<String>> {
        let r = sqlx::query("SELECT password_hash FROM vault_users WHERE id = $1")
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        Ok(opt_text(&r, "password_hash")?)
    }

    pub async fn set_user(&self, name: &str, password: Option<&str>, email: Option<&str>) -> Result<User> {
        let u = self.user(name).await?;
        if let Some(pw) = password {
            sqlx::query("UPDATE vault_users SET password_hash = $1 WHERE id = $2")
                .bind(web::password::hash(pw)?)
                .bind(u.id)
                .execute(self.pool())
                .await?;
        }
        if let Some(e) = email {
            sqlx::query("UPDATE vault_users SET email = $1 WHERE id = $2")
                .bind(e)
                .bind(u.id)
                .execute(self.pool())
                .await?;
        }
        self.user(&u.id.to_string()).await
    }

    pub async fn delete_user(&self, name: &str) -> Result<()> {
        let u = self.user(name).await?;
        sqlx::query("DELETE FROM vault_users WHERE id = $1").bind(u.id).execute(self.pool()).await?;
        Ok(())
    }
}
