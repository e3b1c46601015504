//! Directory roles and admin API tokens: who may administer what.
//!
//! A user holds zero or more directory roles. A token (`pat_` + 32 random bytes, base64url) is
//! shown once and stored only as its SHA-256; it acts with its owner's roles *at the time of use*,
//! so a disabled owner, or one who lost a role, loses that access at once.

use crate::error::{IdpError, Result};
use crate::service::Idp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use store::admin::ApiToken;
use store::model::User;
use uuid::Uuid;
use zeroize::Zeroizing;

/// The prefix of every admin API token (then 32 random bytes, base64url).
pub const TOKEN_PREFIX: &str = "pat_";
/// Validity of a new token unless another is asked for.
pub const DEFAULT_TOKEN_DAYS: u32 = 90;
/// The longest validity a token may be given.
pub const MAX_TOKEN_DAYS: u32 = 3650;
/// `last_used_at` is written at most this often per token (saves a write per request).
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A directory role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryRole {
    /// Everything.
    GlobalAdministrator,
    /// Enterprise apps (their SAML configuration, claims, certificates and assignments) and the
    /// sign-in logs; not users, groups, roles or other people's tokens.
    ApplicationAdministrator,
}

impl DirectoryRole {
    pub const ALL: [DirectoryRole; 2] = [Self::GlobalAdministrator, Self::ApplicationAdministrator];

    /// The stable name (stored, and used in the API).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GlobalAdministrator => "global_administrator",
            Self::ApplicationAdministrator => "application_administrator",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Self::GlobalAdministrator => "Global Administrator",
            Self::ApplicationAdministrator => "Application Administrator",
        }
    }

    /// Whether this role allows `p`.
    pub fn allows(self, p: Permission) -> bool {
        match self {
            Self::GlobalAdministrator => true,
            Self::ApplicationAdministrator => matches!(p, Permission::ManageApps | Permission::ReadSignIns),
        }
    }
}

impl fmt::Display for DirectoryRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DirectoryRole {
    type Err = IdpError;
    /// Accepts `global_administrator`, `global-administrator` and `Global Administrator`.
    fn from_str(s: &str) -> Result<Self> {
        let key = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL.into_iter().find(|r| r.as_str() == key).ok_or_else(|| {
            IdpError::Invalid(format!(
                "unknown directory role {s:?}; use global-administrator or application-administrator"
            ))
        })
    }
}

/// What an administrative operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Users and groups.
    ManageDirectory,
    /// Granting and revoking directory roles; other users' API tokens.
    ManageRoles,
    /// Enterprise apps, their SAML configuration, claims, certificates and assignments.
    ManageApps,
    /// The sign-in logs.
    ReadSignIns,
}

impl Permission {
    fn describe(self) -> &'static str {
        match self {
            Self::ManageDirectory => "manage users and groups (Global Administrator)",
            Self::ManageRoles => "manage directory roles and API tokens (Global Administrator)",
            Self::ManageApps => {
                "manage enterprise applications (Global Administrator or Application Administrator)"
            }
            Self::ReadSignIns => "read the sign-in logs (Global Administrator or Application Administrator)",
        }
    }
}

/// Who an authenticated admin request acts as.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: Uuid,
    pub user: User,
    pub roles: Vec<DirectoryRole>,
    /// The token the request came with (`None` for a browser session).
    pub token_id: Option<Uuid>,
}

impl Principal {
    /// Ok when one of the principal's roles allows `p`; Forbidden (403) otherwise.
    pub fn require(&self, p: Permission) -> Result<()> {
        if self.roles.iter().any(|r| r.allows(p)) {
            return Ok(());
        }
        Err(IdpError::Forbidden(format!(
            "{} may not {}; a Global Administrator can grant a role with `portcullis idp role grant`",
            self.user.upn,
            p.describe()
        )))
    }
}

/// A newly created token: the record and the secret, which is shown once.
#[derive(Debug)]
pub struct NewToken {
    pub record: ApiToken,
    pub secret: Zeroizing<String>,
}

/// Whether `token` has the shape of one of ours (before any database look-up).
fn well_formed(token: &str) -> bool {
    token.strip_prefix(TOKEN_PREFIX).is_some_and(|body| {
        body.len() == 43 && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn unauthenticated() -> IdpError {
    IdpError::Unauthenticated(
        "the API token is missing, unknown, expired or revoked, or its owner is disabled: send \
         `Authorization: Bearer pat_…` with a token from `portcullis idp token create`"
            .into(),
    )
}

impl Idp {
    /// The directory roles a user holds now (unknown stored names are ignored).
    pub async fn roles_of(&self, tenant: Uuid, user: Uuid) -> Result<Vec<DirectoryRole>> {
        Ok(self.store.roles_of(tenant, user).await?.iter().filter_map(|r| r.parse().ok()).collect())
    }

    /// Gives a user (UPN or object ID) a directory role. Returns the user.
    pub async fn grant_role(&self, tenant: Uuid, upn_or_id: &str, role: DirectoryRole) -> Result<User> {
        let u = self.find_user(tenant, upn_or_id).await?;
        self.store.grant_role(tenant, u.id, role.as_str(), self.unix_now()).await?;
        Ok(u)
    }

    /// Takes a directory role from a user. Refuses to remove the last enabled Global
    /// Administrator, so that the directory always has one.
    pub async fn revoke_role(&self, tenant: Uuid, upn_or_id: &str, role: DirectoryRole) -> Result<User> {
        let u = self.find_user(tenant, upn_or_id).await?;
        if role == DirectoryRole::GlobalAdministrator {
            let mut others = 0;
            for g in self.store.list_role_grants(tenant).await? {
                if g.role == role.as_str() && g.user_id != u.id {
                    if let Some(other) = self.store.get_user(tenant, g.user_id).await? {
                        others += usize::from(other.enabled);
                    }
                }
            }
            let holds = self.roles_of(tenant, u.id).await?.contains(&role);
            if holds && others == 0 {
                return Err(IdpError::Conflict(format!(
                    "{} is the last enabled Global Administrator; grant the role to someone else first",
                    u.upn
                )));
            }
        }
        if !self.store.revoke_role(tenant, u.id, role.as_str()).await? {
            return Err(IdpError::NotFound { what: format!("role {} of {}", role.display_name(), u.upn) });
        }
        Ok(u)
    }

    /// Every (user, role) of the tenant.
    pub async fn role_assignments(&self, tenant: Uuid) -> Result<Vec<(User, DirectoryRole)>> {
        let mut out = Vec::new();
        for g in self.store.list_role_grants(tenant).await? {
            let (Ok(role), Some(user)) = (g.role.parse(), self.store.get_user(tenant, g.user_id).await?)
            else {
                continue;
            };
            out.push((user, role));
        }
        Ok(out)
    }

    /// Creates an API token for a user (UPN or object ID), valid `days` days (default
    /// [`DEFAULT_TOKEN_DAYS`]). The secret is in the answer and nowhere else.
    pub async fn create_api_token(
        &self,
        tenant: Uuid,
        owner: &str,
        name: Option<&str>,
        days: Option<u32>,
    ) -> Result<NewToken> {
        let user = self.find_user(tenant, owner).await?;
        let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or("API token");
        if name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(IdpError::Invalid("a token name must have 1 to 100 printable characters".into()));
        }
        let days = days.unwrap_or(DEFAULT_TOKEN_DAYS);
        if days == 0 || days > MAX_TOKEN_DAYS {
            return Err(IdpError::Invalid(format!("a token is valid for 1 to {MAX_TOKEN_DAYS} days")));
        }
        let secret = Zeroizing::new(format!("{TOKEN_PREFIX}{}", web::token::random_token()?));
        let at = self.unix_now();
        let record = ApiToken {
            id: Uuid::new_v4(),
            tenant_id: tenant,
            user_id: user.id,
            name: name.to_string(),
            token_hash: web::token::sha256_hex(secret.as_bytes()),
            created_at: at,
            expires_at: Some(at + i64::from(days) * 86_400),
            last_used_at: None,
            revoked_at: None,
        };
        self.store.create_api_token(&record).await?;
        Ok(NewToken { record, secret })
    }

    /// The tenant's tokens (never their secrets: the store has none).
    pub async fn list_api_tokens(&self, tenant: Uuid) -> Result<Vec<ApiToken>> {
        Ok(self.store.list_api_tokens(tenant).await?)
    }

    /// Revokes a token at once. Revoking a revoked token is fine.
    pub async fn revoke_api_token(&self, tenant: Uuid, token: &str) -> Result<()> {
        let id = Uuid::parse_str(token.trim())
            .map_err(|_| IdpError::Invalid(format!("{token:?} is not a token ID (see `idp token list`)")))?;
        self.store.revoke_api_token(tenant, id, self.unix_now()).await?;
        Ok(())
    }

    /// Checks a presented API token and returns who it acts as: its owner with the roles the owner
    /// holds now. Every failure is the same Unauthenticated error (401), so a caller learns
    /// nothing about which check failed. The look-up is by SHA-256 and the stored hash is then
    /// compared in constant time.
    pub async fn authorize(&self, token: &str) -> Result<Principal> {
        let token = token.trim();
        if !well_formed(token) {
            return Err(unauthenticated());
        }
        let hash = web::token::sha256_hex(token);
        let Some(record) = self.store.find_api_token_by_hash(&hash).await? else {
            return Err(unauthenticated());
        };
        if !web::token::constant_time_eq(record.token_hash.as_bytes(), hash.as_bytes()) {
            return Err(unauthenticated());
        }
        let at = self.unix_now();
        if record.revoked_at.is_some() || record.expires_at.is_some_and(|e| e <= at) {
            return Err(unauthenticated());
        }
        let user = match self.store.get_user(record.tenant_id, record.user_id).await? {
            Some(u) if u.enabled => u,
            _ => return Err(unauthenticated()),
        };
        if record.last_used_at.is_none_or(|t| at - t >= TOUCH_EVERY_SECONDS) {
            self.store.touch_api_token(record.id, at).await?;
        }
        let roles = self.roles_of(record.tenant_id, user.id).await?;
        Ok(Principal { tenant: record.tenant_id, user, roles, token_id: Some(record.id) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_parse_in_every_spelling_and_serialize_snake_case() {
        for s in ["global_administrator", "global-administrator", "Global Administrator"] {
            assert_eq!(s.parse::<DirectoryRole>().unwrap(), DirectoryRole::GlobalAdministrator);
        }
        assert_eq!(
            "application-administrator".parse::<DirectoryRole>().unwrap().as_str(),
            "application_administrator"
        );
        assert_eq!("root".parse::<DirectoryRole>().unwrap_err().code(), "PCS90001");
        assert_eq!(
            serde_json::to_string(&DirectoryRole::ApplicationAdministrator).unwrap(),
            "\"application_administrator\""
        );
    }

    #[test]
    fn application_administrators_manage_apps_and_read_sign_ins_only() {
        let app_admin = DirectoryRole::ApplicationAdministrator;
        assert!(app_admin.allows(Permission::ManageApps) && app_admin.allows(Permission::ReadSignIns));
        assert!(!app_admin.allows(Permission::ManageDirectory) && !app_admin.allows(Permission::ManageRoles));
        for p in [
            Permission::ManageApps,
            Permission::ReadSignIns,
            Permission::ManageDirectory,
            Permission::ManageRoles,
        ] {
            assert!(DirectoryRole::GlobalAdministrator.allows(p));
        }
    }

    #[test]
    fn only_well_formed_tokens_reach_the_database() {
        let good = format!("{TOKEN_PREFIX}{}", "A".repeat(43));
        assert!(well_formed(&good));
        assert!(!well_formed(&good[..good.len() - 1]));
        assert!(!well_formed(&format!("{TOKEN_PREFIX}{}", "=".repeat(43))));
        assert!(!well_formed(&format!("tok_{}", "A".repeat(43))));
    }
}
