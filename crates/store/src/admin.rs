//! Administration: directory roles held by users, and admin API tokens (only their SHA-256 is
//! stored). The IdP decides what a role allows and how a token is checked; the store keeps rows.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::error::classify;
use crate::row::{id, int, text, uuid};
use crate::{touched, Result, Store, StoreError};

/// A directory role held by a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGrant {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    /// The IdP's stable role name (`global_administrator`, …).
    pub role: String,
    pub created_at: i64,
}

/// An admin API token. The token itself is shown once when it is created and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The owner: the token acts with this user's roles at the time of use.
    pub user_id: Uuid,
    pub name: String,
    /// SHA-256 of the token, lowercase hex.
    pub token_hash: String,
    pub created_at: i64,
    /// `None` = does not expire.
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// Set when revoked; a revoked token never authenticates again.
    pub revoked_at: Option<i64>,
}

const TOKEN_COLS: &str =
    "id, tenant_id, user_id, name, token_hash, created_at, expires_at, last_used_at, revoked_at";

fn opt_int(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    use sqlx::Row;
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

fn token_from(row: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: uuid(row, "id")?,
        tenant_id: uuid(row, "tenant_id")?,
        user_id: uuid(row, "user_id")?,
        name: text(row, "name")?,
        token_hash: text(row, "token_hash")?,
        created_at: int(row, "created_at")?,
        expires_at: opt_int(row, "expires_at")?,
        last_used_at: opt_int(row, "last_used_at")?,
        revoked_at: opt_int(row, "revoked_at")?,
    })
}

fn grant_from(row: &AnyRow) -> Result<RoleGrant> {
    Ok(RoleGrant {
        tenant_id: uuid(row, "tenant_id")?,
        user_id: uuid(row, "user_id")?,
        role: text(row, "role")?,
        created_at: int(row, "created_at")?,
    })
}

impl Store {
    /// Gives `user` of `tenant` the directory role `role`. Returns false when the user already
    /// held it (nothing changes); NotFound when the user is not in the tenant.
    pub async fn grant_role(&self, tenant: Uuid, user: Uuid, role: &str, at: i64) -> Result<bool> {
        if self.get_user(tenant, user).await?.is_none() {
            return Err(StoreError::not_found(format!("user {user}")));
        }
        // The user's row supplies both ids, so a grant can never name a user of another tenant.
        let r = sqlx::query(
            "INSERT INTO directory_roles (tenant_id, user_id, role, created_at) \
             SELECT tenant_id, id, CAST($3 AS TEXT), $4 FROM users WHERE tenant_id = $1 AND id = $2 \
             ON CONFLICT (tenant_id, user_id, role) DO NOTHING",
        )
        .bind(id(tenant))
        .bind(id(user))
        .bind(role)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            classify(e, || format!("user {user} already holds {role}"), || format!("user {user}"))
        })?;
        Ok(touched(&r))
    }

    /// Takes the role `role` from a user. Returns false when the user did not hold it.
    pub async fn revoke_role(&self, tenant: Uuid, user: Uuid, role: &str) -> Result<bool> {
        let r =
            sqlx::query("DELETE FROM directory_roles WHERE tenant_id = $1 AND user_id = $2 AND role = $3")
                .bind(id(tenant))
                .bind(id(user))
                .bind(role)
                .execute(&self.pool)
                .await?;
        Ok(touched(&r))
    }

    /// The roles a user holds, sorted by name.
    pub async fn roles_of(&self, tenant: Uuid, user: Uuid) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT tenant_id, user_id, role, created_at FROM directory_roles \
             WHERE tenant_id = $1 AND user_id = $2 ORDER BY role",
        )
        .bind(id(tenant))
        .bind(id(user))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(grant_from(r)?.role)).collect()
    }

    /// Every role grant of the tenant, by role then user.
    pub async fn list_role_grants(&self, tenant: Uuid) -> Result<Vec<RoleGrant>> {
        let rows = sqlx::query(
            "SELECT tenant_id, user_id, role, created_at FROM directory_roles WHERE tenant_id = $1 \
             ORDER BY role, user_id",
        )
        .bind(id(tenant))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(grant_from).collect()
    }

    /// Stores a new API token. Its owner must be a user of its tenant (NotFound otherwise); a
    /// repeated ID or hash is a Conflict.
    pub async fn create_api_token(&self, t: &ApiToken) -> Result<()> {
        let r = sqlx::query(
            "INSERT INTO api_tokens (id, tenant_id, user_id, name, token_hash, created_at, expires_at, \
             last_used_at, revoked_at) \
             SELECT CAST($1 AS TEXT), tenant_id, id, CAST($4 AS TEXT), CAST($5 AS TEXT), $6, $7, $8, $9 \
             FROM users WHERE tenant_id = $2 AND id = $3",
        )
        .bind(id(t.id))
        .bind(id(t.tenant_id))
        .bind(id(t.user_id))
        .bind(t.name.as_str())
        .bind(t.token_hash.as_str())
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.last_used_at)
        .bind(t.revoked_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            classify(
                e,
                || "an API token with this ID or hash already exists: generate a new token".into(),
                || format!("user {}", t.user_id),
            )
        })?;
        if !touched(&r) {
            return Err(StoreError::not_found(format!("user {}", t.user_id)));
        }
        Ok(())
    }

    /// The token whose SHA-256 (hex) is `token_hash`, revoked or expired or not: the caller
    /// checks. Looked up by the hash, never by the token.
    pub async fn find_api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1");
        let row = sqlx::query(&sql).bind(token_hash).fetch_optional(&self.pool).await?;
        row.as_ref().map(token_from).transpose()
    }

    /// The tenant's tokens (revoked ones too), oldest first.
    pub async fn list_api_tokens(&self, tenant: Uuid) -> Result<Vec<ApiToken>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE tenant_id = $1 ORDER BY seq");
        let rows = sqlx::query(&sql).bind(id(tenant)).fetch_all(&self.pool).await?;
        rows.iter().map(token_from).collect()
    }

    /// Revokes a token of the tenant at `at`. Returns false when it was already revoked;
    /// NotFound when the tenant has no such token.
    pub async fn revoke_api_token(&self, tenant: Uuid, token: Uuid, at: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(id(tenant))
        .bind(id(token))
        .bind(at)
        .execute(&self.pool)
        .await?;
        if touched(&r) {
            return Ok(true);
        }
        let exists = sqlx::query("SELECT id FROM api_tokens WHERE tenant_id = $1 AND id = $2")
            .bind(id(tenant))
            .bind(id(token))
            .fetch_optional(&self.pool)
            .await?;
        match exists {
            Some(_) => Ok(false),
            None => Err(StoreError::not_found(format!("API token {token}"))),
        }
    }

    /// Records that a token was used at `at`.
    pub async fn touch_api_token(&self, token: Uuid, at: i64) -> Result<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id(token))
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
