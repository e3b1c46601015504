//! Directory users.

use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::error::classify;
use crate::model::User;
use crate::row::{boolean, fold, id, int, opt_bytes, opt_text, text, uuid};
use crate::{touched, Result, Store, StoreError};

const COLS: &str = "id, tenant_id, upn, display_name, given_name, surname, mail, department, job_title, \
                    employee_id, enabled, password_hash, totp_secret_sealed, created_at, updated_at";

fn user_from(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: uuid(row, "id")?,
        tenant_id: uuid(row, "tenant_id")?,
        upn: text(row, "upn")?,
        display_name: text(row, "display_name")?,
        given_name: opt_text(row, "given_name")?,
        surname: opt_text(row, "surname")?,
        mail: opt_text(row, "mail")?,
        department: opt_text(row, "department")?,
        job_title: opt_text(row, "job_title")?,
        employee_id: opt_text(row, "employee_id")?,
        enabled: boolean(row, "enabled")?,
        password_hash: opt_text(row, "password_hash")?,
        totp_secret_sealed: opt_bytes(row, "totp_secret_sealed")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
    })
}

fn upn_taken(u: &User) -> String {
    format!(
        "a user with the UPN {:?} already exists in this tenant (UPNs are compared case-insensitively): \
         choose another UPN or change the existing user",
        u.upn
    )
}

impl Store {
    /// Creates a user. A UPN already used in the tenant (in any letter case) is a Conflict; an
    /// unknown tenant is NotFound.
    pub async fn create_user(&self, u: &User) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, tenant_id, upn, upn_key, display_name, given_name, surname, mail, \
             department, job_title, employee_id, enabled, password_hash, totp_secret_sealed, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(id(u.id))
        .bind(id(u.tenant_id))
        .bind(u.upn.as_str())
        .bind(fold(&u.upn))
        .bind(u.display_name.as_str())
        .bind(u.given_name.as_deref())
        .bind(u.surname.as_deref())
        .bind(u.mail.as_deref())
        .bind(u.department.as_deref())
        .bind(u.job_title.as_deref())
        .bind(u.employee_id.as_deref())
        .bind(u.enabled)
        .bind(u.password_hash.as_deref())
        .bind(u.totp_secret_sealed.as_deref())
        .bind(u.created_at)
        .bind(u.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| classify(e, || upn_taken(u), || format!("tenant {}", u.tenant_id)))?;
        Ok(())
    }

    pub async fn get_user(&self, tenant: Uuid, user: Uuid) -> Result<Option<User>> {
        let sql = format!("SELECT {COLS} FROM users WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(id(tenant)).bind(id(user)).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from).transpose()
    }

    /// Finds a user by UPN, ignoring letter case.
    pub async fn find_user_by_upn(&self, tenant: Uuid, upn: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {COLS} FROM users WHERE tenant_id = $1 AND upn_key = $2");
        let row = sqlx::query(&sql).bind(id(tenant)).bind(fold(upn)).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from).transpose()
    }

    /// Replaces every field of the user `(u.tenant_id, u.id)` except `created_at`. Sets nothing
    /// itself: the caller sets `updated_at`.
    pub async fn update_user(&self, u: &User) -> Result<()> {
        let r = sqlx::query(
            "UPDATE users SET upn = $3, upn_key = $4, display_name = $5, given_name = $6, surname = $7, \
             mail = $8, department = $9, job_title = $10, employee_id = $11, enabled = $12, \
             password_hash = $13, totp_secret_sealed = $14, updated_at = $15 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(id(u.tenant_id))
        .bind(id(u.id))
        .bind(u.upn.as_str())
        .bind(fold(&u.upn))
        .bind(u.display_name.as_str())
        .bind(u.given_name.as_deref())
        .bind(u.surname.as_deref())
        .bind(u.mail.as_deref())
        .bind(u.department.as_deref())
        .bind(u.job_title.as_deref())
        .bind(u.employee_id.as_deref())
        .bind(u.enabled)
        .bind(u.password_hash.as_deref())
        .bind(u.totp_secret_sealed.as_deref())
        .bind(u.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| classify(e, || upn_taken(u), || format!("tenant {}", u.tenant_id)))?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("user {}", u.id)));
        }
        Ok(())
    }

    /// The tenant's users, ordered by UPN.
    pub async fn list_users(&self, tenant: Uuid) -> Result<Vec<User>> {
        let sql = format!("SELECT {COLS} FROM users WHERE tenant_id = $1 ORDER BY upn_key, id");
        let rows = sqlx::query(&sql).bind(id(tenant)).fetch_all(&self.pool).await?;
        rows.iter().map(user_from).collect()
    }

    /// Deletes a user with its group memberships, app assignments and sessions. Sign-in records
    /// stay.
    pub async fn delete_user(&self, tenant: Uuid, user: Uuid) -> Result<()> {
        let r = sqlx::query("DELETE FROM users WHERE tenant_id = $1 AND id = $2")
            .bind(id(tenant))
            .bind(id(user))
            .execute(&self.pool)
            .await?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("user {user}")));
        }
        Ok(())
    }
}
