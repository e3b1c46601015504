//! Group policies → the jump groups they grant. A representative's sign-in (SAML groups mapped
//! by the SP toolkit, or a local account) gives them policy names; the console stores only
//! `policy name → jump groups`, and a representative may use the jump items of the groups any of
//! their policies grants.

use std::collections::BTreeMap;

use sqlx::Row;
use store::row::fold;

use super::{check_name, ConsoleStore};
use crate::ConsoleError;

/// One policy and the jump groups it grants (names, sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyGrant {
    pub policy: String,
    pub jump_groups: Vec<String>,
}

impl ConsoleStore {
    /// Replaces the jump groups `policy` grants with `groups` (names or IDs of existing groups;
    /// an empty list takes every grant away). All or nothing: an unknown group changes nothing.
    pub async fn set_policy(&self, policy: &str, groups: &[String]) -> Result<PolicyGrant, ConsoleError> {
        let policy = check_name("policy", policy)?;
        let mut resolved = Vec::new();
        for g in groups {
            let group = self.jump_group(g).await?;
            if !resolved.iter().any(|(id, _): &(String, String)| *id == group.id) {
                resolved.push((group.id, group.name));
            }
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM console_policy_jump_groups WHERE policy_key = $1")
            .bind(fold(policy))
            .execute(&mut *tx)
            .await?;
        for (id, _) in &resolved {
            sqlx::query(
                "INSERT INTO console_policy_jump_groups (policy, policy_key, jump_group_id) VALUES ($1, $2, $3)",
            )
            .bind(policy)
            .bind(fold(policy))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| super::classify(e, String::new, || "a jump group (deleted meanwhile)".into()))?;
        }
        tx.commit().await?;
        let mut jump_groups: Vec<String> = resolved.into_iter().map(|(_, name)| name).collect();
        jump_groups.sort_by_key(|n| fold(n));
        tracing::info!(policy, jump_groups = ?jump_groups, "group policy's jump groups set");
        Ok(PolicyGrant { policy: policy.to_owned(), jump_groups })
    }

    /// Every policy that grants a jump group, by name.
    pub async fn policies(&self) -> Result<Vec<PolicyGrant>, ConsoleError> {
        let rows = sqlx::query(
            "SELECT p.policy, p.policy_key, g.name, g.name_key FROM console_policy_jump_groups p \
             JOIN console_jump_groups g ON g.id = p.jump_group_id ORDER BY p.policy_key, g.name_key",
        )
        .fetch_all(self.pool())
        .await?;
        let mut by_policy: BTreeMap<String, PolicyGrant> = BTreeMap::new();
        for r in rows {
            let key: String = r.try_get("policy_key")?;
            let policy: String = r.try_get("policy")?;
            let group: String = r.try_get("name")?;
            by_policy
                .entry(key)
                .or_insert_with(|| PolicyGrant { policy, jump_groups: Vec::new() })
                .jump_groups
                .push(group);
        }
        Ok(by_policy.into_values().collect())
    }
}
