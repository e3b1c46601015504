//! The broker's two calls and the check-in, over the vault's Password Safe API.
//!
//! - [`Broker::search`]: map the console user, sign in as the vault user, list the accounts the
//!   user may request (`GET ManagedAccounts`), keep those matching the jump item
//!   ([`crate::matching`]), sign out.
//! - [`Broker::retrieve`]: check that the credential ID is this user's, sign in, create one
//!   release request (`POST Requests`, the configured duration, a reason naming the console
//!   session, `ConflictOption: renew` so that every retrieval has its own request: an open
//!   request of the same user on the same account is closed by it), have the global approver
//!   approve it when its access policy holds it, read the password (`GET Credentials/{id}`),
//!   sign out. A request that fails after it was created is checked in again at once.
//! - [`Broker::check_in`]: sign in as the request's user and check it in
//!   (`PUT Requests/{id}/Checkin`); the vault rotates the password when the account says so.
//!
//! A credential ID is `vaultuser\accountId\system\account`. [`Broker::retrieve`] takes the
//! console user again and refuses an ID whose first part is not the vault user that console
//! user maps to now; the account ID is then all the vault needs (it refuses accounts the user
//! may not request). The system and account names are for people.

use crate::config::{Config, VaultSettings};
use crate::error::{BrokerError, Result};
use crate::mapping::{MappingRules, VaultUser};
use crate::matching::{Endpoint, MatchingRules};
use crate::protocol::{ConsoleUser, Credential, JumpItem, ReleaseHandle, SessionRef};
use crate::psapi::{ManagedAccount, Session, VaultClient};
use crate::secret::Secret;

/// A released credential: who to log in as, the password, and what checks it in.
#[derive(Debug)]
pub struct Release {
    pub handle: ReleaseHandle,
    /// The account name.
    pub username: String,
    /// The account's domain, for domain accounts.
    pub domain: Option<String>,
    /// `system\account`.
    pub display_name: String,
    pub secret: Secret,
}

/// The credential broker.
#[derive(Debug)]
pub struct Broker {
    vault: VaultClient,
    settings: VaultSettings,
    mapping: MappingRules,
    matching: MatchingRules,
}

/// The ID of a credential (see the module documentation).
pub fn credential_id(vault_user: &str, account: &ManagedAccount) -> String {
    format!("{vault_user}\\{}\\{}\\{}", account.account_id, account.system_name, account.account_name)
}

/// The display name of a credential: `system\account`, never the secret.
pub fn display_name(account: &ManagedAccount) -> String {
    format!("{}\\{}", account.system_name, account.account_name)
}

/// The account ID of `id` when it belongs to `vault_user`.
pub fn parse_credential_id(id: &str, vault_user: &str) -> Option<i64> {
    let rest = id.strip_prefix(vault_user)?.strip_prefix('\\')?;
    let (account, names) = rest.split_once('\\')?;
    if names.is_empty() || account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    account.parse().ok()
}

impl Broker {
    /// A broker with the settings of `config` (checked again here).
    pub fn new(config: &Config) -> Result<Broker> {
        config.check()?;
        Ok(Broker {
            vault: VaultClient::new(&config.vault)?,
            settings: config.vault.clone(),
            mapping: config.mapping.clone(),
            matching: config.matching.clone(),
        })
    }

    /// The vault user `user` acts as.
    pub fn map_user(&self, user: &ConsoleUser) -> Result<VaultUser> {
        self.mapping.map(user, self.settings.run_as.as_deref())
    }

    /// The credentials `user` may use on `item`; an empty list is a valid answer.
    pub async fn search(&self, user: &ConsoleUser, item: &JumpItem) -> Result<Vec<Credential>> {
        let vu = self.map_user(user)?;
        let endpoint = Endpoint::new(item)?;
        let session = self.vault.sign_in(&vu.name).await?;
        let listed = session.managed_accounts().await;
        session.sign_out().await;
        let mut offered: Vec<ManagedAccount> =
            listed?.into_iter().filter(|a| endpoint.matches(a, &self.matching)).collect();
        offered.sort_by(|a, b| display_name(a).cmp(&display_name(b)).then(a.account_id.cmp(&b.account_id)));
        offered.dedup_by_key(|a| a.account_id);
        tracing::info!(
            console_user = %user.username,
            vault_user = %vu.name,
            item_type = item.item_type.as_str(),
            host = %item.host,
            found = offered.len(),
            "search"
        );
        Ok(offered
            .iter()
            .map(|a| Credential { id: credential_id(&vu.name, a), display_name: display_name(a) })
            .collect())
    }

    /// Releases the credential `id` (from a search for the same user) for `session`.
    pub async fn retrieve(&self, user: &ConsoleUser, id: &str, session: &SessionRef) -> Result<Release> {
        let vu = self.map_user(user)?;
        let account_id = parse_credential_id(id, &vu.name)
            .ok_or_else(|| BrokerError::UnknownCredential { id: id.to_string() })?;
        let reason = reason("console session", user, session);
        let s = self.vault.sign_in(&vu.name).await?;
        let released = self.release(&s, account_id, &reason).await;
        s.sign_out().await;
        let release = released?;
        tracing::info!(
            console_user = %user.username,
            vault_user = %vu.name,
            account_id,
            request_id = release.handle.request_id,
            session = %session.id,
            "credential released"
        );
        Ok(release)
    }

    async fn release(&self, s: &Session<'_>, account_id: i64, reason: &str) -> Result<Release> {
        let request_id = s.create_request(account_id, self.settings.release_minutes, reason).await?;
        let read = async {
            let info = s.request(request_id).await?;
            if info.status.eq_ignore_ascii_case("pending") {
                self.approve(request_id).await?;
            }
            let secret = s.credential(request_id).await?;
            Ok::<_, BrokerError>((info, secret))
        };
        match read.await {
            Ok((info, secret)) => Ok(Release {
                handle: ReleaseHandle { request_id, vault_user: s.user.clone() },
                display_name: format!("{}\\{}", info.system_name, info.account_name),
                username: info.account_name,
                domain: None,
                secret,
            }),
            Err(e) => {
                // Leave nothing open: the request was made but its credential is not handed out.
                if let Err(again) =
                    s.check_in(request_id, "the credential broker could not complete the release").await
                {
                    tracing::warn!(
                        code = again.code(),
                        request_id,
                        "checking in the failed release failed: {again}"
                    );
                }
                Err(e)
            }
        }
    }

    /// The global approver approves a request an access policy holds.
    async fn approve(&self, request_id: i64) -> Result<()> {
        let Some(approver) = self.settings.global_approver.as_deref() else {
            return Err(BrokerError::ApprovalRequired {
                request_id,
                detail: "no [vault] global_approver is set".into(),
            });
        };
        let s = self.vault.sign_in(approver).await?;
        let done = s.approve(request_id).await;
        s.sign_out().await;
        done?;
        tracing::info!(request_id, approver, "request approved by the global approver");
        Ok(())
    }

    /// Checks a released credential's request in (the console session ended).
    pub async fn check_in(&self, release: &ReleaseHandle, session: &SessionRef) -> Result<()> {
        let s = self.vault.sign_in(&release.vault_user).await?;
        let done = s.check_in(release.request_id, &format!("console session {} ended", session.id)).await;
        s.sign_out().await;
        done?;
        tracing::info!(request_id = release.request_id, vault_user = %release.vault_user, session = %session.id, "request checked in");
        Ok(())
    }
}

/// The release request's reason: the console session, its jump item and the console user.
fn reason(what: &str, user: &ConsoleUser, session: &SessionRef) -> String {
    let item = session.jump_item.as_deref().map(|j| format!(" on {j}")).unwrap_or_default();
    format!("Portcullis {what} {}{item} for {}", session.id, user.username)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_documented_form_and_parse_back_only_for_their_user() {
        let a = ManagedAccount {
            account_id: 3124,
            account_name: "helpdesk-01".into(),
            system_id: 9,
            system_name: "App01".into(),
            domain_name: None,
            host_name: None,
            ip_address: None,
            dns_name: None,
            application: None,
        };
        let id = credential_id("joe.user", &a);
        assert_eq!(id, r"joe.user\3124\App01\helpdesk-01");
        assert_eq!(display_name(&a), r"App01\helpdesk-01");
        assert_eq!(parse_credential_id(&id, "joe.user"), Some(3124));
        assert_eq!(parse_credential_id(&id, "jane"), None);
        assert_eq!(parse_credential_id(&id, "joe"), None, "a prefix of the user is not the user");
        assert_eq!(parse_credential_id(r"ACME\joe\77\S\a", r"ACME\joe"), Some(77), "a kept domain");
        assert_eq!(parse_credential_id(r"joe.user\x1\S\a", "joe.user"), None);
        assert_eq!(parse_credential_id(r"joe.user\1", "joe.user"), None);
        assert_eq!(parse_credential_id(r"joe.user\99999999999999999999\S\a", "joe.user"), None);
    }
}
