//! Security groups and their (possibly nested) memberships.

use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::error::classify;
use crate::model::{Group, PrincipalKind};
use crate::row::{boolean, fold, id, int, opt_text, text, uuid};
use crate::{touched, Result, Store, StoreError};

const COLS: &str = "groups.id, groups.tenant_id, groups.name, groups.description, groups.security_enabled, \
                    groups.created_at";

pub(crate) fn group_from(row: &AnyRow) -> Result<Group> {
    Ok(Group {
        id: uuid(row, "id")?,
        tenant_id: uuid(row, "tenant_id")?,
        name: text(row, "name")?,
        description: opt_text(row, "description")?,
        security_enabled: boolean(row, "security_enabled")?,
        created_at: int(row, "created_at")?,
    })
}

/// `WITH RECURSIVE user_groups(id)`: the groups user `$1` is in, directly or through nested
/// groups. `UNION` (not `UNION ALL`) drops rows already found, so the recursion ends even if the
/// data held a cycle (which `add_member` refuses to create).
pub(crate) const USER_GROUPS_CTE: &str = "WITH RECURSIVE user_groups(id) AS ( \
       SELECT group_id FROM group_user_members WHERE user_id = $1 \
       UNION \
       SELECT gg.group_id FROM group_group_members gg JOIN user_groups ug ON gg.member_group_id = ug.id \
     ) ";

impl Store {
    /// Creates a group. A name already used in the tenant (in any letter case) is a Conflict.
    pub async fn create_group(&self, g: &Group) -> Result<()> {
        sqlx::query(
            "INSERT INTO groups (id, tenant_id, name, name_key, description, security_enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id(g.id))
        .bind(id(g.tenant_id))
        .bind(g.name.as_str())
        .bind(fold(&g.name))
        .bind(g.description.as_deref())
        .bind(g.security_enabled)
        .bind(g.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            classify(
                e,
                || {
                    format!(
                        "a group named {:?} already exists in this tenant (names are compared \
                         case-insensitively): choose another name",
                        g.name
                    )
                },
                || format!("tenant {}", g.tenant_id),
            )
        })?;
        Ok(())
    }

    pub async fn get_group(&self, tenant: Uuid, group: Uuid) -> Result<Option<Group>> {
        let sql = format!("SELECT {COLS} FROM groups WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(id(tenant)).bind(id(group)).fetch_optional(&self.pool).await?;
        row.as_ref().map(group_from).transpose()
    }

    /// Finds a group by name, ignoring letter case.
    pub async fn find_group_by_name(&self, tenant: Uuid, name: &str) -> Result<Option<Group>> {
        let sql = format!("SELECT {COLS} FROM groups WHERE tenant_id = $1 AND name_key = $2");
        let row = sqlx::query(&sql).bind(id(tenant)).bind(fold(name)).fetch_optional(&self.pool).await?;
        row.as_ref().map(group_from).transpose()
    }

    /// The tenant's groups, ordered by name.
    pub async fn list_groups(&self, tenant: Uuid) -> Result<Vec<Group>> {
        let sql = format!("SELECT {COLS} FROM groups WHERE tenant_id = $1 ORDER BY name_key, id");
        let rows = sqlx::query(&sql).bind(id(tenant)).fetch_all(&self.pool).await?;
        rows.iter().map(group_from).collect()
    }

    /// Deletes a group with its memberships (both as container and as member) and its app
    /// assignments.
    pub async fn delete_group(&self, tenant: Uuid, group: Uuid) -> Result<()> {
        let r = sqlx::query("DELETE FROM groups WHERE tenant_id = $1 AND id = $2")
            .bind(id(tenant))
            .bind(id(group))
            .execute(&self.pool)
            .await?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("group {group}")));
        }
        Ok(())
    }

    /// Makes `member` (a user or a group of the same tenant) a member of `group`. Returns false
    /// when it already was one. Refuses (Conflict) a group in itself and a membership that would
    /// close a cycle (`group` already inside `member`, at any depth).
    pub async fn add_member(&self, group: Uuid, member: Uuid, kind: PrincipalKind) -> Result<bool> {
        if kind == PrincipalKind::Group && group == member {
            return Err(StoreError::conflict(format!(
                "group {group} cannot be a member of itself: pick another group"
            )));
        }
        let mut tx = self.begin_write().await?;
        let tenant: Option<String> = sqlx::query_scalar("SELECT tenant_id FROM groups WHERE id = $1")
            .bind(id(group))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(tenant) = tenant else {
            return Err(StoreError::not_found(format!("group {group}")));
        };
        // Serialise membership changes of the tenant (a row lock on PostgreSQL; SQLite already
        // holds its write lock), so that two concurrent additions cannot close a cycle together.
        sqlx::query("UPDATE tenants SET membership_rev = membership_rev + 1 WHERE id = $1")
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?;
        let table = match kind {
            PrincipalKind::User => "users",
            PrincipalKind::Group => "groups",
        };
        let same_tenant: Option<i64> =
            sqlx::query_scalar(&format!("SELECT 1 FROM {table} WHERE id = $1 AND tenant_id = $2"))
                .bind(id(member))
                .bind(tenant.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if same_tenant.is_none() {
            return Err(StoreError::not_found(format!("{} {member}", kind.as_str())));
        }
        let insert = match kind {
            PrincipalKind::User => {
                "INSERT INTO group_user_members (group_id, user_id) VALUES ($1, $2) \
                 ON CONFLICT (group_id, user_id) DO NOTHING"
            }
            PrincipalKind::Group => {
                // Would `group` then contain itself? Only if `group` is already among the groups
                // nested in `member` (or is `member`).
                let cycle: Option<i64> = sqlx::query_scalar(
                    "WITH RECURSIVE nested(id) AS ( \
                       SELECT CAST($1 AS TEXT) \
                       UNION \
                       SELECT gg.member_group_id FROM group_group_members gg JOIN nested n ON gg.group_id = n.id \
                     ) SELECT 1 FROM nested WHERE id = $2",
                )
                .bind(id(member))
                .bind(id(group))
                .fetch_optional(&mut *tx)
                .await?;
                if cycle.is_some() {
                    return Err(StoreError::conflict(format!(
                        "adding group {member} to group {group} would create a cycle ({group} is already \
                         inside {member}): nested groups must form a hierarchy"
                    )));
                }
                "INSERT INTO group_group_members (group_id, member_group_id) VALUES ($1, $2) \
                 ON CONFLICT (group_id, member_group_id) DO NOTHING"
            }
        };
        let r = sqlx::query(insert).bind(id(group)).bind(id(member)).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(touched(&r))
    }

    /// Removes a membership. Returns false when there was none.
    pub async fn remove_member(&self, group: Uuid, member: Uuid, kind: PrincipalKind) -> Result<bool> {
        let sql = match kind {
            PrincipalKind::User => "DELETE FROM group_user_members WHERE group_id = $1 AND user_id = $2",
            PrincipalKind::Group => {
                "DELETE FROM group_group_members WHERE group_id = $1 AND member_group_id = $2"
            }
        };
        let r = sqlx::query(sql).bind(id(group)).bind(id(member)).execute(&self.pool).await?;
        Ok(touched(&r))
    }

    /// The direct members of a group: users first, then groups, each by ID.
    pub async fn members(&self, group: Uuid) -> Result<Vec<(Uuid, PrincipalKind)>> {
        let rows = sqlx::query(
            "SELECT user_id AS member, 0 AS kind FROM group_user_members WHERE group_id = $1 \
             UNION ALL \
             SELECT member_group_id AS member, 1 AS kind FROM group_group_members WHERE group_id = $1 \
             ORDER BY kind, member",
        )
        .bind(id(group))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let kind = if int(row, "kind")? == 0 { PrincipalKind::User } else { PrincipalKind::Group };
                Ok((uuid(row, "member")?, kind))
            })
            .collect()
    }

    /// The groups a user is in, ordered by name. With `transitive`, also the groups those groups
    /// are in, at any depth; each group appears once.
    pub async fn groups_of_user(&self, tenant: Uuid, user: Uuid, transitive: bool) -> Result<Vec<Group>> {
        let sql = if transitive {
            format!(
                "{USER_GROUPS_CTE} SELECT {COLS} FROM groups JOIN user_groups ON groups.id = user_groups.id \
                 WHERE groups.tenant_id = $2 ORDER BY groups.name_key, groups.id"
            )
        } else {
            format!(
                "SELECT {COLS} FROM groups JOIN group_user_members m ON groups.id = m.group_id \
                 WHERE m.user_id = $1 AND groups.tenant_id = $2 ORDER BY groups.name_key, groups.id"
            )
        };
        let rows = sqlx::query(&sql).bind(id(user)).bind(id(tenant)).fetch_all(&self.pool).await?;
        rows.iter().map(group_from).collect()
    }
}
