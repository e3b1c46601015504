//! Who may open the broker channel: the console's API accounts decide, through [`BrokerAuth`]
//! (the OAuth token store implements it). The channel only checks the answer: the account must
//! have the Endpoint Credential Manager permission, and a broker registers for its account's ECM
//! group only.

use std::future::Future;
use std::pin::Pin;

use super::EcmError;

/// The ECM group of an API account that has none set (the broker's default `ecm_group`).
pub const DEFAULT_GROUP: &str = "Default";

/// The future a [`BrokerAuth`] method returns.
pub type AuthFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, EcmError>> + Send + 'a>>;

/// The API account behind a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcmPrincipal {
    /// The account's ID in the console's store.
    pub account_id: String,
    /// The account's name, for logs and the broker list.
    pub name: String,
    /// The account's Endpoint Credential Manager permission ("allow").
    pub ecm_api: bool,
    /// The ECM group the account may serve; `None` is [`DEFAULT_GROUP`].
    pub ecm_group: Option<String>,
}

impl EcmPrincipal {
    /// The group its brokers serve.
    pub fn group(&self) -> &str {
        self.ecm_group.as_deref().unwrap_or(DEFAULT_GROUP)
    }
}

/// Checks the broker channel's bearer tokens.
pub trait BrokerAuth: Send + Sync + 'static {
    /// The account `bearer` (the token, without `Bearer `) was issued to, checked as on every
    /// API call: unknown, expired, of a disabled account or of a rotated secret is
    /// [`EcmError::Unauthenticated`]; a store failure is [`EcmError::AuthUnavailable`]. An
    /// account without the ECM permission is returned as such (`ecm_api: false`): the channel
    /// refuses it with [`EcmError::NotPermitted`].
    fn authorize<'a>(&'a self, bearer: &'a str) -> AuthFuture<'a, EcmPrincipal>;

    /// Whether a connected broker's account may still serve, asked at every keep-alive with the
    /// token the broker connected with. The token's expiry does not end a channel that is
    /// open, so this is the account as it is now: `None` when it was deleted or disabled, or
    /// `bearer` was issued before its secret was rotated. The channel drops the broker when the
    /// answer is `None`, lacks the ECM permission or names another group. A store failure keeps
    /// the broker connected (and is logged).
    fn recheck<'a>(
        &'a self,
        principal: &'a EcmPrincipal,
        bearer: &'a str,
    ) -> AuthFuture<'a, Option<EcmPrincipal>>;
}
