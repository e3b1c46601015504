//! API registrations (administrators): list, one, create (the key shown once), the key itself
//! (refused: only its keyed hash is kept), and key rotation.

use axum::body::Body;
use axum::extract::{Path, State};
use serde_json::Value;
use web::auth::Authorized;

use super::extract::{id, read_json, Administrator, ApiUser};
use super::shapes::{lower_rules, registration_json};
use super::{created, ok, Answer};
use crate::admin::NewRegistration;
use crate::error::{invalid, VaultError};
use crate::ip::IpRule;
use crate::Vault;

type Admin = Authorized<ApiUser, Administrator>;

/// `GET ApiRegistrations`.
pub(super) async fn list(_admin: Admin, State(vault): State<Vault>) -> Answer {
    ok(vault.list_registrations().await?.iter().map(registration_json).collect::<Vec<_>>())
}

/// `GET ApiRegistrations/{id}`.
pub(super) async fn one(_admin: Admin, State(vault): State<Vault>, Path(rid): Path<String>) -> Answer {
    ok(registration_json(&vault.registration(&id(&rid, "API registration")?.to_string()).await?))
}

/// `POST ApiRegistrations`: the new registration with its `Key` (shown once).
pub(super) async fn create(_admin: Admin, State(vault): State<Vault>, body: Body) -> Answer {
    let body = read_json(body).await?;
    let rules: Vec<IpRule> = match body.get("ipauthenticationrules") {
        None => Vec::new(),
        Some(v) => serde_json::from_value(lower_rules(v.clone()))
            .map_err(|e| invalid(format!("IPAuthenticationRules must be a list of {{Type, Value}} ({e})")))?,
    };
    let (reg, key) = vault
        .create_registration(NewRegistration {
            name: body.str("name").ok_or_else(|| invalid("Name is required"))?,
            ip_rules: rules,
            token_minutes: body.int("accesstokenduration")?.unwrap_or(60),
            user_password_required: body.boolean("userpasswordrequired")?.unwrap_or(false),
        })
        .await?;
    if body.boolean("active")? == Some(false) {
        vault.set_registration(&reg.id.to_string(), Some(false), None, None, None).await?;
    }
    let mut v = registration_json(&vault.registration(&reg.id.to_string()).await?);
    v["Key"] = Value::String(key.to_string());
    created(v)
}

/// `GET ApiRegistrations/{id}/Key`: refused, since only a keyed hash of the key is stored.
pub(super) async fn key(_admin: Admin, State(vault): State<Vault>, Path(rid): Path<String>) -> Answer {
    vault.registration(&id(&rid, "API registration")?.to_string()).await?;
    Err(VaultError::Conflict(
        "the vault keeps only a keyed hash of API keys, so a key is shown once, at creation or rotation: POST ApiRegistrations/{id}/Rotate for a new one".into(),
    ))
}

/// `POST ApiRegistrations/{id}/Rotate`: a new key (shown once); the old one stops working.
pub(super) async fn rotate_key(_admin: Admin, State(vault): State<Vault>, Path(rid): Path<String>) -> Answer {
    let key = vault.rotate_registration_key(&id(&rid, "API registration")?.to_string()).await?;
    ok(Value::String(key.to_string()))
}
