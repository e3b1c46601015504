//! Group policies: effective permissions = the provider's default policy plus the
//! policies mapped to the IdP groups the user is in *at this login*. Nothing is
//! carried over from earlier logins, so removing a user from an IdP group removes
//! the permission at their next login.

use crate::db::SpDb;
use crate::db::{Policy, Provider};
use crate::web::error::SiteResult;
use std::collections::BTreeSet;

/// The permissions granted by `default` and by every policy mapped to one of
/// `groups` (`mappings`: IdP group object ID → policy), sorted and deduplicated.
pub fn effective_permissions(
    default: Option<&Policy>,
    mappings: &[(String, Policy)],
    groups: &[String],
) -> Vec<String> {
    let mut out = BTreeSet::new();
    if let Some(p) = default {
        out.extend(p.permissions.iter().cloned());
    }
    for (object_id, policy) in mappings {
        if groups.iter().any(|g| g == object_id) {
            out.extend(policy.permissions.iter().cloned());
        }
    }
    out.into_iter().collect()
}

/// [`effective_permissions`] with the provider's default policy and the
/// application's mappings read from the store, plus the policy an approved
/// access request granted (`granted`, waiting-room users).
pub async fn permissions_for(
    db: &SpDb,
    provider: &Provider,
    groups: &[String],
    granted: Option<uuid::Uuid>,
) -> SiteResult<Vec<String>> {
    let policies = db.policies(provider.app_id).await?;
    let default = provider.default_policy_id.and_then(|id| policies.iter().find(|p| p.id == id));
    let mappings = db.group_policies(provider.app_id).await?;
    let mut perms = effective_permissions(default, &mappings, groups);
    if let Some(p) = granted.and_then(|id| policies.iter().find(|p| p.id == id)) {
        perms.extend(p.permissions.iter().cloned());
        perms.sort();
        perms.dedup();
    }
    Ok(perms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn policy(name: &str, perms: &[&str]) -> Policy {
        Policy {
            id: Uuid::new_v4(),
            app_id: Uuid::nil(),
            name: name.into(),
            permissions: perms.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn default_plus_mapped_groups_only_for_groups_held_now() {
        let general = policy("General Members", &["dashboard:view", "profile:read"]);
        let admins = policy("Admins", &["users:manage", "profile:read"]);
        let mappings = vec![("g-admins".to_string(), admins)];
        let with = effective_permissions(Some(&general), &mappings, &["g-admins".into()]);
        assert_eq!(with, ["dashboard:view", "profile:read", "users:manage"]);
        let without = effective_permissions(Some(&general), &mappings, &["g-other".into()]);
        assert_eq!(without, ["dashboard:view", "profile:read"]);
        assert!(effective_permissions(None, &mappings, &[]).is_empty());
    }
}
