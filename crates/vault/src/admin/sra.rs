//! "Connect to Secure Remote Access": the approval policy, API registration and requesters group
//! the remote-access console's broker uses, and the broker's configuration (sealed).
//!
//! Re-running it updates the settings and keeps the registration's API key, which the broker
//! signs in with; the key is replaced only when asked ([`SraSettings::rotate_key`]), since the
//! broker's old key then stops working.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::{NewPolicy, NewRegistration};
use crate::error::{conflict, invalid, Result};
use crate::model::{Role, Scope};
use crate::{Vault, VaultError};

/// "Connect to Secure Remote Access": the console's address and API account, and the release
/// duration the broker asks for.
pub struct SraSettings {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    /// The console's OAuth client secret; `None` keeps the stored one (needed the first time).
    pub client_secret: Option<Zeroizing<String>>,
    pub release_minutes: i64,
    /// Replace the registration's API key (the broker's old key then gets 401).
    pub rotate_key: bool,
}

/// What [`Vault::connect_sra`] did with the registration's API key.
#[derive(Debug)]
pub enum SraKey {
    /// A first connection: the new key (shown once).
    Created(Zeroizing<String>),
    /// Replaced as asked: the new key (shown once); the old one no longer signs in.
    Replaced(Zeroizing<String>),
    /// Kept: the broker keeps signing in with it.
    Kept,
}

/// The broker's configuration, as `connect-sra` writes it (sealed in the vault's settings).
/// `Debug` shows neither secret, and both are wiped from memory when it is dropped.
#[derive(Serialize, Deserialize)]
pub struct BrokerConfig {
    pub console_host: String,
    pub console_port: u16,
    pub console_client_id: String,
    pub console_client_secret: String,
    pub registration_id: i64,
    pub api_key: String,
    pub release_minutes: i64,
    pub requesters_group: String,
}

impl std::fmt::Debug for BrokerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerConfig")
            .field("console_host", &self.console_host)
            .field("console_port", &self.console_port)
            .field("console_client_id", &self.console_client_id)
            .field("registration_id", &self.registration_id)
            .field("release_minutes", &self.release_minutes)
            .finish_non_exhaustive()
    }
}

impl Drop for BrokerConfig {
    fn drop(&mut self) {
        self.console_client_secret.zeroize();
        self.api_key.zeroize();
    }
}

/// The stored settings as `vault connect-sra --show` prints them: no secret.
#[derive(Debug, Clone, Serialize)]
pub struct SraView {
    pub console_host: String,
    pub console_port: u16,
    pub console_client_id: String,
    pub release_minutes: i64,
    pub policy: String,
    pub registration: String,
    pub registration_id: i64,
    pub registration_active: bool,
    pub requesters_group: String,
    pub requesters: Vec<String>,
}

pub const SRA_POLICY: &str = "Secure Remote Access Approval Policy";
pub const SRA_REGISTRATION: &str = "Secure Remote Access Integration";
pub const SRA_GROUP: &str = "Secure Remote Access Requesters";
const BROKER_SETTING: &str = "broker_config";

impl Vault {
    /// "Connect to Secure Remote Access": creates (or updates) the all-day auto-approve policy,
    /// the registration and the requesters group — which uses both and holds Requestor on every
    /// API-enabled account — and stores the broker's configuration, sealed. A first connection
    /// creates the registration's key; a re-run keeps it unless `rotate_key` asks for a new one.
    pub async fn connect_sra(&self, s: SraSettings) -> Result<SraKey> {
        if s.host.trim().is_empty() {
            return Err(invalid("the Secure Remote Access host is empty: pass --host"));
        }
        if s.client_id.trim().is_empty() {
            return Err(invalid("the OAuth client ID is empty: pass --client-id"));
        }
        if s.client_secret.as_ref().is_some_and(|c| c.is_empty()) {
            return Err(invalid("the OAuth client secret is empty: give it on standard input"));
        }
        if !(1..=1440).contains(&s.release_minutes) {
            return Err(invalid("the release duration must be 1 to 1440 minutes (1 day)"));
        }
        let stored = match self.broker_config().await {
            Ok(c) => c,
            // A damaged configuration is replaced as a whole: a new secret and a new key.
            Err(VaultError::Conflict(_)) if s.rotate_key && s.client_secret.is_some() => None,
            Err(e) => return Err(e),
        };
        let secret = match (&s.client_secret, &stored) {
            (Some(new), _) => new.clone(),
            (None, Some(old)) => Zeroizing::new(old.console_client_secret.clone()),
            (None, None) => return Err(invalid(
                "the first connection needs the console's OAuth client secret: pass --client-secret-stdin",
            )),
        };
        let policy = match self.policy(SRA_POLICY).await {
            Ok(p) => {
                self.set_policy(SRA_POLICY, Some(true), Some(0), Some(s.release_minutes.max(p.max_minutes)))
                    .await?
            }
            Err(VaultError::NotFound(_)) => {
                self.create_policy(NewPolicy {
                    name: SRA_POLICY.into(),
                    auto_approve: true,
                    approvals_required: 0,
                    all_day: true,
                    window_start: 0,
                    window_end: 1440,
                    max_minutes: s.release_minutes.max(1440),
                })
                .await?
            }
            Err(e) => return Err(e),
        };
        let (outcome, api_key) = match self.registration(SRA_REGISTRATION).await {
            Ok(r) if s.rotate_key => {
                let key = self.rotate_registration_key(&r.id.to_string()).await?;
                let copy = key.to_string();
                (SraKey::Replaced(key), copy)
            }
            Ok(r) => match &stored {
                Some(c) if c.registration_id == r.id => (SraKey::Kept, c.api_key.clone()),
                _ => {
                    return Err(conflict(format!(
                        "API registration {SRA_REGISTRATION:?} exists but the vault holds no copy of its key (only a \
                         keyed hash): re-run with --rotate-key to give it a new one (whoever signs in with the old key \
                         then gets 401)"
                    )))
                }
            },
            Err(VaultError::NotFound(_)) => {
                let (_, key) = self
                    .create_registration(NewRegistration {
                        name: SRA_REGISTRATION.into(),
                        ip_rules: Vec::new(),
                        token_minutes: 60,
                        user_password_required: false,
                    })
                    .await?;
                let copy = key.to_string();
                (SraKey::Created(key), copy)
            }
            Err(e) => return Err(e),
        };
        let reg = self.registration(SRA_REGISTRATION).await?;
        match self.group(SRA_GROUP).await {
            Ok(_) => {}
            Err(VaultError::NotFound(_)) => {
                self.create_group(SRA_GROUP).await?;
            }
            Err(e) => return Err(e),
        }
        self.set_group(SRA_GROUP, Some(Some(policy.id.to_string())), Some(Some(reg.id.to_string()))).await?;
        for a in self.list_accounts(None).await?.into_iter().filter(|a| a.api_enabled) {
            self.grant_role(SRA_GROUP, Scope::Account(a.id), Role::Requestor).await?;
        }
        let config = BrokerConfig {
            console_host: s.host.trim().into(),
            console_port: s.port,
            console_client_id: s.client_id.clone(),
            console_client_secret: secret.to_string(),
            registration_id: reg.id,
            api_key,
            release_minutes: s.release_minutes,
            requesters_group: SRA_GROUP.into(),
        };
        let json = Zeroizing::new(serde_json::to_vec(&config).map_err(|e| invalid(e.to_string()))?);
        drop(config);
        let sealed = self.seal(&format!("vault/settings/{BROKER_SETTING}"), &json)?;
        sqlx::query(
            "INSERT INTO vault_settings (name, value_sealed) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value_sealed = EXCLUDED.value_sealed",
        )
        .bind(BROKER_SETTING)
        .bind(sealed)
        .execute(self.pool())
        .await?;
        Ok(outcome)
    }

    /// The broker's configuration written by [`Vault::connect_sra`], if any.
    pub async fn broker_config(&self) -> Result<Option<BrokerConfig>> {
        let Some(sealed) = crate::get_setting(self.store(), BROKER_SETTING).await? else {
            return Ok(None);
        };
        let json = self.open_sealed(&format!("vault/settings/{BROKER_SETTING}"), &sealed)?;
        serde_json::from_slice(&json).map(Some).map_err(|_| {
            conflict(
                "the stored broker configuration is damaged: run `vault connect-sra … --client-secret-stdin --rotate-key` \
                 to write a new one",
            )
        })
    }

    /// The stored Secure Remote Access settings without their secrets (`connect-sra --show`);
    /// `None` before the first connection.
    pub async fn sra_settings(&self) -> Result<Option<SraView>> {
        let Some(c) = self.broker_config().await? else {
            return Ok(None);
        };
        let registration = self.registration(&c.registration_id.to_string()).await?;
        let group = self.group(&c.requesters_group).await?;
        Ok(Some(SraView {
            console_host: c.console_host.clone(),
            console_port: c.console_port,
            console_client_id: c.console_client_id.clone(),
            release_minutes: c.release_minutes,
            policy: SRA_POLICY.into(),
            registration: registration.name,
            registration_id: registration.id,
            registration_active: registration.active,
            requesters_group: group.name,
            requesters: group.members,
        }))
    }
}
