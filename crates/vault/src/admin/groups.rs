//! Groups: members, roles per scope (everything, a system, an account), and the access policy
//! and API registration a group uses; the roles a user holds through them.

use sqlx::Row;
use store::row::{fold, int, opt_int, text};

use super::check_name;
use crate::error::{not_found, unique, Result};
use crate::model::{Account, Group, GroupRole, Role, Scope};
use crate::Vault;

impl Vault {
    pub async fn create_group(&self, name: &str) -> Result<Group> {
        check_name("group", name)?;
        let id: i64 = sqlx::query(
            "INSERT INTO vault_groups (name, name_key, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name.trim())
        .bind(fold(name.trim()))
        .bind(self.now())
        .fetch_one(self.pool())
        .await
        .map_err(|e| unique(e, || format!("a vault group named {name:?} already exists")))?
        .try_get("id")?;
        self.group(&id.to_string()).await
    }

    pub async fn group(&self, name_or_id: &str) -> Result<Group> {
        let r = sqlx::query(
            "SELECT id, name, policy_id, registration_id FROM vault_groups WHERE name_key = $1 OR CAST(id AS TEXT) = $2 \
             ORDER BY name_key = $1 DESC LIMIT 1",
        )
        .bind(fold(name_or_id.trim()))
        .bind(name_or_id.trim())
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| not_found(format!("no vault group {name_or_id:?}: see `vault group list`")))?;
        let id = int(&r, "id")?;
        let members = sqlx::query(
            "SELECT u.name FROM vault_group_members m JOIN vault_users u ON u.id = m.user_id WHERE m.group_id = $1 ORDER BY u.name_key",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| text(r, "name"))
        .collect::<Result<Vec<_>, _>>()?;
        let roles = sqlx::query("SELECT scope_kind, scope_id, role FROM vault_group_roles WHERE group_id = $1 ORDER BY scope_kind, scope_id")
            .bind(id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(GroupRole {
                    scope: Scope::from_parts(&text(r, "scope_kind")?, int(r, "scope_id")?),
                    role: Role::parse(&text(r, "role")?)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Group {
            id,
            name: text(&r, "name")?,
            policy_id: opt_int(&r, "policy_id")?,
            registration_id: opt_int(&r, "registration_id")?,
            members,
            roles,
        })
    }

    pub async fn list_groups(&self) -> Result<Vec<Group>> {
        let ids: Vec<i64> = sqlx::query("SELECT id FROM vault_groups ORDER BY id")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| int(r, "id"))
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for id in ids {
            out.push(self.group(&id.to_string()).await?);
        }
        Ok(out)
    }

    /// Attaches an access policy and/or an API registration to a group (`Some(None)` detaches).
    pub async fn set_group(
        &self,
        name: &str,
        policy: Option<Option<String>>,
        registration: Option<Option<String>>,
    ) -> Result<Group> {
        let g = self.group(name).await?;
        let policy_id = match policy {
            Some(Some(p)) => Some(self.policy(&p).await?.id),
            Some(None) => None,
            None => g.policy_id,
        };
        let reg_id = match registration {
            Some(Some(r)) => Some(self.registration(&r).await?.id),
            Some(None) => None,
            None => g.registration_id,
        };
        sqlx::query("UPDATE vault_groups SET policy_id = $1, registration_id = $2 WHERE id = $3")
            .bind(policy_id)
            .bind(reg_id)
            .bind(g.id)
            .execute(self.pool())
            .await?;
        self.group(&g.id.to_string()).await
    }

    pub async fn add_member(&self, group: &str, user: &str) -> Result<()> {
        let g = self.group(group).await?;
        let u = self.user(user).await?;
        sqlx::query(
            "INSERT INTO vault_group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(g.id)
        .bind(u.id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn remove_member(&self, group: &str, user: &str) -> Result<()> {
        let g = self.group(group).await?;
        let u = self.user(user).await?;
        sqlx::query("DELETE FROM vault_group_members WHERE group_id = $1 AND user_id = $2")
            .bind(g.id)
            .bind(u.id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn grant_role(&self, group: &str, scope: Scope, role: Role) -> Result<()> {
        let g = self.group(group).await?;
        let (kind, id) = scope.parts();
        sqlx::query(
            "INSERT INTO vault_group_roles (group_id, scope_kind, scope_id, role) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(g.id)
        .bind(kind)
        .bind(id)
        .bind(role.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn revoke_role(&self, group: &str, scope: Scope, role: Role) -> Result<()> {
        let g = self.group(group).await?;
        let (kind, id) = scope.parts();
        sqlx::query("DELETE FROM vault_group_roles WHERE group_id = $1 AND scope_kind = $2 AND scope_id = $3 AND role = $4")
            .bind(g.id)
            .bind(kind)
            .bind(id)
            .bind(role.as_str())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn delete_group(&self, name: &str) -> Result<()> {
        let g = self.group(name).await?;
        sqlx::query("DELETE FROM vault_groups WHERE id = $1").bind(g.id).execute(self.pool()).await?;
        Ok(())
    }

    /// The roles `user_id` holds on `account` through its groups, with each group's policy.
    pub(crate) async fn roles_on_account(
        &self,
        user_id: i64,
        account: &Account,
    ) -> Result<Vec<(Role, Option<i64>)>> {
        let rows = sqlx::query(
            "SELECT r.role, g.policy_id FROM vault_group_members m JOIN vault_groups g ON g.id = m.group_id \
             JOIN vault_group_roles r ON r.group_id = g.id WHERE m.user_id = $1 AND \
             (r.scope_kind = 'all' OR (r.scope_kind = 'system' AND r.scope_id = $2) OR (r.scope_kind = 'account' AND r.scope_id = $3))",
        )
        .bind(user_id)
        .bind(account.system_id)
        .bind(account.id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok((Role::parse(&text(r, "role")?)?, opt_int(r, "policy_id")?))).collect()
    }

    /// Whether `user_id` is an Administrator on everything.
    pub(crate) async fn is_admin(&self, user_id: i64) -> Result<bool> {
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM vault_group_members m JOIN vault_group_roles r ON r.group_id = m.group_id \
             WHERE m.user_id = $1 AND r.scope_kind = 'all' AND r.role = $2",
        )
        .bind(user_id)
        .bind(Role::Administrator.as_str())
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        Ok(n > 0)
    }
}
