//! "Connect to Secure Remote Access": the approval policy, API registration and requesters group
//! the remote-access console's broker uses, and the broker's configuration (sealed).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{NewPolicy, NewRegistration};
use crate::error::{conflict, invalid, Result};
use crate::model::{Role, Scope};
use crate::Vault;

/// "Connect to Secure Remote Access": the console's address and API account, and the release
/// duration the broker asks for.
pub struct SraSettings {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    pub client_secret: Zeroizing<String>,
    pub release_minutes: i64,
}

/// The broker's configuration, as `connect-sra` writes it (sealed in the vault's settings).
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

pub const SRA_POLICY: &str = "Secure Remote Access Approval Policy";
pub const SRA_REGISTRATION: &str = "Secure Remote Access Integration";
pub const SRA_GROUP: &str = "Secure Remote Access Requesters";
const BROKER_SETTING: &str = "broker_config";

impl Vault {
    /// "Connect to Secure Remote Access": creates (or reuses) the all-day auto-approve policy, the
    /// registration (with a fresh key) and the requesters group — which uses both and holds
    /// Requestor on every API-enabled account — and stores the broker's configuration, sealed.
    /// Returns the registration's key.
    pub async fn connect_sra(&self, s: SraSettings) -> Result<Zeroizing<String>> {
        if s.host.trim().is_empty() {
            return Err(invalid("the Secure Remote Access host is empty: pass --host"));
        }
        if s.client_id.trim().is_empty() {
            return Err(invalid("the OAuth client ID is empty: pass --client-id"));
        }
        if s.client_secret.is_empty() {
            return Err(invalid("the OAuth client secret is empty: give it on standard input"));
        }
        if !(1..=1440).contains(&s.release_minutes) {
            return Err(invalid("the release duration must be 1 to 1440 minutes (1 day)"));
        }
        let policy = match self.policy(SRA_POLICY).await {
            Ok(p) => {
                self.set_policy(SRA_POLICY, Some(true), Some(0), Some(s.release_minutes.max(p.max_minutes)))
                    .await?
            }
            Err(crate::VaultError::NotFound(_)) => {
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
        let key = match self.registration(SRA_REGISTRATION).await {
            Ok(r) => self.rotate_registration_key(&r.id.to_string()).await?,
            Err(crate::VaultError::NotFound(_)) => {
                self.create_registration(NewRegistration {
                    name: SRA_REGISTRATION.into(),
                    ip_rules: Vec::new(),
                    token_minutes: 60,
                    user_password_required: false,
                })
                .await?
                .1
            }
            Err(e) => return Err(e),
        };
        let reg = self.registration(SRA_REGISTRATION).await?;
        match self.group(SRA_GROUP).await {
            Ok(_) => {}
            Err(crate::VaultError::NotFound(_)) => {
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
            console_client_secret: s.client_secret.to_string(),
            registration_id: reg.id,
            api_key: key.to_string(),
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
        Ok(key)
    }

    /// The broker's configuration written by [`Vault::connect_sra`], if any.
    pub async fn broker_config(&self) -> Result<Option<BrokerConfig>> {
        let Some(sealed) = crate::get_setting(self.store(), BROKER_SETTING).await? else {
            return Ok(None);
        };
        let json = self.open_sealed(&format!("vault/settings/{BROKER_SETTING}"), &sealed)?;
        serde_json::from_slice(&json).map(Some).map_err(|_| {
            conflict("the stored broker configuration is damaged: run `vault connect-sra` again")
        })
    }
}
