//! Access policies: auto-approve or N approvals, a daily time window, a maximum duration.

use sqlx::any::AnyRow;
use store::row::{boolean, fold, int, text};

use super::check_name;
use crate::error::{invalid, not_found, unique, Result};
use crate::model::Policy;
use crate::Vault;

/// A new access policy.
#[derive(Debug, Clone)]
pub struct NewPolicy {
    pub name: String,
    pub auto_approve: bool,
    pub approvals_required: i64,
    pub all_day: bool,
    pub window_start: i64,
    pub window_end: i64,
    pub max_minutes: i64,
}

fn policy_row(r: &AnyRow) -> Result<Policy> {
    Ok(Policy {
        id: int(r, "id")?,
        name: text(r, "name")?,
        auto_approve: boolean(r, "auto_approve")?,
        approvals_required: int(r, "approvals_required")?,
        all_day: boolean(r, "all_day")?,
        window_start: int(r, "window_start")?,
        window_end: int(r, "window_end")?,
        max_minutes: int(r, "max_minutes")?,
    })
}

impl Vault {
    pub async fn create_policy(&self, p: NewPolicy) -> Result<Policy> {
        check_name("policy", &p.name)?;
        if !(1..=525_600).contains(&p.max_minutes) {
            return Err(invalid("the policy's maximum duration must be 1 to 525600 minutes"));
        }
        if !p.auto_approve && p.approvals_required < 1 {
            return Err(invalid("a policy that does not auto-approve needs at least 1 approval"));
        }
        for m in [p.window_start, p.window_end] {
            if !(0..=1440).contains(&m) {
                return Err(invalid("window times are minutes after midnight UTC, 0 to 1440"));
            }
        }
        let r = sqlx::query(
            "INSERT INTO vault_policies (name, name_key, auto_approve, approvals_required, all_day, window_start, \
             window_end, max_minutes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
        )
        .bind(p.name.trim())
        .bind(fold(p.name.trim()))
        .bind(p.auto_approve)
        .bind(p.approvals_required.max(0))
        .bind(p.all_day)
        .bind(p.window_start)
        .bind(p.window_end)
        .bind(p.max_minutes)
        .bind(self.now())
        .fetch_one(self.pool())
        .await
        .map_err(|e| unique(e, || format!("an access policy named {:?} already exists", p.name)))?;
        policy_row(&r)
    }

    pub async fn list_policies(&self) -> Result<Vec<Policy>> {
        let rows = sqlx::query("SELECT * FROM vault_policies ORDER BY id").fetch_all(self.pool()).await?;
        rows.iter().map(policy_row).collect()
    }

    pub async fn policy(&self, name_or_id: &str) -> Result<Policy> {
        let r = sqlx::query(
            "SELECT * FROM vault_policies WHERE name_key = $1 OR CAST(id AS TEXT) = $2 ORDER BY name_key = $1 DESC LIMIT 1",
        )
        .bind(fold(name_or_id.trim()))
        .bind(name_or_id.trim())
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| not_found(format!("no access policy {name_or_id:?}: see `vault policy list`")))?;
        policy_row(&r)
    }

    pub async fn set_policy(
        &self,
        name: &str,
        auto_approve: Option<bool>,
        approvals_required: Option<i64>,
        max_minutes: Option<i64>,
    ) -> Result<Policy> {
        let p = self.policy(name).await?;
        let max = max_minutes.unwrap_or(p.max_minutes);
        if !(1..=525_600).contains(&max) {
            return Err(invalid("the policy's maximum duration must be 1 to 525600 minutes"));
        }
        sqlx::query(
            "UPDATE vault_policies SET auto_approve = $1, approvals_required = $2, max_minutes = $3 WHERE id = $4",
        )
        .bind(auto_approve.unwrap_or(p.auto_approve))
        .bind(approvals_required.unwrap_or(p.approvals_required).max(0))
        .bind(max)
        .bind(p.id)
        .execute(self.pool())
        .await?;
        self.policy(&p.id.to_string()).await
    }

    pub async fn delete_policy(&self, name: &str) -> Result<()> {
        let p = self.policy(name).await?;
        sqlx::query("DELETE FROM vault_policies WHERE id = $1").bind(p.id).execute(self.pool()).await?;
        Ok(())
    }
}
