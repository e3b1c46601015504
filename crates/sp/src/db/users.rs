//! The application's own (local) users and the SAML users linked to them: a SAML user is
//! keyed by (provider, NameID) and exists from its first login.

use sqlx::any::AnyRow;
use store::row::{boolean, fold, id, int, opt_uuid, text, uuid};
use store::{classify, Result, StoreError};
use uuid::Uuid;

use super::{check_list, join, split, touched, SpDb};

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

impl SpDb {
    pub async fn create_local_user(&self, u: &LocalUser) -> Result<()> {
        let mut conn = self.store.pool().acquire().await?;
        insert_local_user(&mut conn, u).await
    }

    /// Replaces a local user's username, names and e-mail.
    pub async fn update_local_user(&self, u: &LocalUser) -> Result<()> {
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
        .execute(self.store.pool())
        .await?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("local user {}", u.id)));
        }
        Ok(())
    }

    pub async fn local_user(&self, user: Uuid) -> Result<LocalUser> {
        let row = sqlx::query(
            "SELECT id, app_id, username, first_name, last_name, email, created_at FROM sp_local_users \
             WHERE id = $1",
        )
        .bind(id(user))
        .fetch_optional(self.store.pool())
        .await?;
        row.as_ref()
            .map(local_user_from)
            .transpose()?
            .ok_or_else(|| StoreError::not_found(format!("local user {user}")))
    }

    /// The local users of `app` with this e-mail (case-insensitive) that no SAML user is linked
    /// to yet: the pre-provisioned candidates for linking, oldest first.
    pub async fn unlinked_local_users_by_email(&self, app: Uuid, email: &str) -> Result<Vec<LocalUser>> {
        let rows = sqlx::query(
            "SELECT id, app_id, username, first_name, last_name, email, created_at FROM sp_local_users u \
             WHERE app_id = $1 AND email_key = $2 \
             AND NOT EXISTS (SELECT 1 FROM sp_saml_users s WHERE s.local_user_id = u.id) \
             ORDER BY created_at, id",
        )
        .bind(id(app))
        .bind(fold(email))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(local_user_from).collect()
    }

    pub async fn saml_user(&self, provider: Uuid, name_id: &str) -> Result<Option<SamlUser>> {
        let sql =
            format!("SELECT {SAML_USER_COLS} FROM sp_saml_users WHERE provider_id = $1 AND name_id = $2");
        let row =
            sqlx::query(&sql).bind(id(provider)).bind(name_id).fetch_optional(self.store.pool()).await?;
        row.as_ref().map(saml_user_from).transpose()
    }

    pub async fn saml_user_by_id(&self, user: Uuid) -> Result<SamlUser> {
        let sql = format!("SELECT {SAML_USER_COLS} FROM sp_saml_users WHERE id = $1");
        let row = sqlx::query(&sql).bind(id(user)).fetch_optional(self.store.pool()).await?;
        row.as_ref()
            .map(saml_user_from)
            .transpose()?
            .ok_or_else(|| StoreError::not_found(format!("SAML user {user}")))
    }

    /// Creates a SAML user. A second one for the same (provider, NameID) is a Conflict.
    pub async fn create_saml_user(&self, u: &SamlUser) -> Result<()> {
        let mut conn = self.store.pool().acquire().await?;
        insert_saml_user(&mut conn, u).await
    }

    /// A first login in one transaction: the new local user (unless an existing one is being
    /// linked) and the SAML user. When a concurrent first login of the same (provider, NameID)
    /// won, this is a Conflict and nothing is written.
    pub async fn create_first_login(&self, new_local: Option<&LocalUser>, u: &SamlUser) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        if let Some(l) = new_local {
            insert_local_user(&mut tx, l).await?;
        }
        insert_saml_user(&mut tx, u).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a login: the groups seen and the permissions recomputed from them.
    pub async fn record_saml_login(
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
        .execute(self.store.pool())
        .await?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("SAML user {user}")));
        }
        Ok(())
    }

    /// Lets a SAML user out of the waiting room without an access request (its IdP groups are
    /// mapped to a policy). False when the user was not waiting.
    pub async fn leave_waiting_room(&self, user: Uuid) -> Result<bool> {
        let r = sqlx::query("UPDATE sp_saml_users SET waiting = $2 WHERE id = $1 AND waiting = $3")
            .bind(id(user))
            .bind(false)
            .bind(true)
            .execute(self.store.pool())
            .await?;
        Ok(touched(&r))
    }

    /// The SAML users of an application with their local users, by username.
    pub async fn saml_users(&self, app: Uuid) -> Result<Vec<(SamlUser, LocalUser)>> {
        let rows = sqlx::query(
            "SELECT s.id, s.provider_id, s.name_id, s.local_user_id, s.groups, s.permissions, s.waiting, \
             s.granted_policy_id, s.granted_sites, s.created_at, s.last_login_at, u.app_id, u.username, u.first_name, u.last_name, u.email, \
             u.created_at AS local_created_at \
             FROM sp_saml_users s JOIN sp_local_users u ON u.id = s.local_user_id \
             WHERE u.app_id = $1 ORDER BY u.username, s.id",
        )
        .bind(id(app))
        .fetch_all(self.store.pool())
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
