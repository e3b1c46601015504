//! Group policies (a name and the permissions it grants), the available IdP groups and the
//! group → policy mappings.

use sqlx::any::AnyRow;
use store::row::{fold, id, text, uuid};
use store::{classify, Result, StoreError};
use uuid::Uuid;

use super::{check_list, join, split, touched, SpDb};

/// A group policy: a name and the permissions it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub id: Uuid,
    pub app_id: Uuid,
    pub name: String,
    pub permissions: Vec<String>,
}

fn policy_from(row: &AnyRow) -> Result<Policy> {
    Ok(Policy {
        id: uuid(row, "id")?,
        app_id: uuid(row, "app_id")?,
        name: text(row, "name")?,
        permissions: split(&text(row, "permissions")?),
    })
}

impl SpDb {
    /// Creates a policy. A name already used by the application (any case) is a Conflict.
    pub async fn create_policy(&self, p: &Policy) -> Result<()> {
        check_list("permission", &p.permissions)?;
        sqlx::query(
            "INSERT INTO sp_policies (id, app_id, name, name_key, permissions) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id(p.id))
        .bind(id(p.app_id))
        .bind(p.name.as_str())
        .bind(fold(&p.name))
        .bind(join(&p.permissions))
        .execute(self.store.pool())
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
    pub async fn policies(&self, app: Uuid) -> Result<Vec<Policy>> {
        let rows = sqlx::query(
            "SELECT id, app_id, name, permissions FROM sp_policies WHERE app_id = $1 ORDER BY name_key",
        )
        .bind(id(app))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(policy_from).collect()
    }

    pub async fn policy_by_name(&self, app: Uuid, name: &str) -> Result<Option<Policy>> {
        let row = sqlx::query(
            "SELECT id, app_id, name, permissions FROM sp_policies WHERE app_id = $1 AND name_key = $2",
        )
        .bind(id(app))
        .bind(fold(name))
        .fetch_optional(self.store.pool())
        .await?;
        row.as_ref().map(policy_from).transpose()
    }

    /// Renames a policy and replaces its permissions. A name already used by another policy of
    /// the application is a Conflict.
    pub async fn update_policy(&self, p: &Policy) -> Result<()> {
        check_list("permission", &p.permissions)?;
        let r =
            sqlx::query("UPDATE sp_policies SET name = $2, name_key = $3, permissions = $4 WHERE id = $1")
                .bind(id(p.id))
                .bind(p.name.as_str())
                .bind(fold(&p.name))
                .bind(join(&p.permissions))
                .execute(self.store.pool())
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
    pub async fn delete_policy(&self, policy: Uuid) -> Result<bool> {
        let r = sqlx::query("DELETE FROM sp_policies WHERE id = $1")
            .bind(id(policy))
            .execute(self.store.pool())
            .await?;
        Ok(touched(&r))
    }

    /// Removes an available group and its mappings. Returns false when there was none.
    pub async fn delete_group(&self, app: Uuid, object_id: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM sp_groups WHERE app_id = $1 AND object_id = $2")
            .bind(id(app))
            .bind(object_id)
            .execute(self.store.pool())
            .await?;
        Ok(touched(&r))
    }

    /// Adds (or renames) an available group: an IdP group object ID the application knows.
    pub async fn put_group(&self, app: Uuid, object_id: &str, display_name: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO sp_groups (app_id, object_id, display_name) VALUES ($1, $2, $3) \
             ON CONFLICT (app_id, object_id) DO UPDATE SET display_name = excluded.display_name",
        )
        .bind(id(app))
        .bind(object_id)
        .bind(display_name)
        .execute(self.store.pool())
        .await
        .map_err(|e| classify(e, || "group".into(), || format!("SP application {app}")))?;
        Ok(())
    }

    /// The available groups of an application: (object ID, display name), by object ID.
    pub async fn groups(&self, app: Uuid) -> Result<Vec<(String, String)>> {
        let rows =
            sqlx::query("SELECT object_id, display_name FROM sp_groups WHERE app_id = $1 ORDER BY object_id")
                .bind(id(app))
                .fetch_all(self.store.pool())
                .await?;
        rows.iter().map(|r| Ok((text(r, "object_id")?, text(r, "display_name")?))).collect()
    }

    /// Maps an available group to a policy (idempotent). Returns false when already mapped.
    pub async fn map_group(&self, app: Uuid, object_id: &str, policy: Uuid) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO sp_group_policies (app_id, object_id, policy_id) VALUES ($1, $2, $3) \
             ON CONFLICT (app_id, object_id, policy_id) DO NOTHING",
        )
        .bind(id(app))
        .bind(object_id)
        .bind(id(policy))
        .execute(self.store.pool())
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
    pub async fn unmap_group(&self, app: Uuid, object_id: &str, policy: Uuid) -> Result<bool> {
        let r = sqlx::query(
            "DELETE FROM sp_group_policies WHERE app_id = $1 AND object_id = $2 AND policy_id = $3",
        )
        .bind(id(app))
        .bind(object_id)
        .bind(id(policy))
        .execute(self.store.pool())
        .await?;
        Ok(touched(&r))
    }

    /// Every (object ID, policy) mapping of an application.
    pub async fn group_policies(&self, app: Uuid) -> Result<Vec<(String, Policy)>> {
        let rows = sqlx::query(
            "SELECT gp.object_id, p.id, p.app_id, p.name, p.permissions FROM sp_group_policies gp \
             JOIN sp_policies p ON p.id = gp.policy_id WHERE gp.app_id = $1 ORDER BY gp.object_id, p.name_key",
        )
        .bind(id(app))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(|r| Ok((text(r, "object_id")?, policy_from(r)?))).collect()
    }
}
