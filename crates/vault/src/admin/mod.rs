//! Administration of the vault's records, one module per aggregate: managed systems and
//! accounts, users, groups with roles per scope, access policies, API registrations and OAuth
//! clients, and "Connect to Secure Remote Access". The CLI and the API's admin endpoints both
//! call these.

mod accounts;
mod groups;
mod policies;
mod registrations;
mod sra;
mod systems;
mod users;

pub(crate) use accounts::{account_row, ACCOUNT_COLS};
pub use accounts::{AccountChanges, NewAccount};
pub use policies::NewPolicy;
pub use registrations::NewRegistration;
pub use sra::{BrokerConfig, SraKey, SraSettings, SraView, SRA_GROUP, SRA_POLICY, SRA_REGISTRATION};
pub use systems::NewSystem;

use crate::error::{invalid, Result};

/// The longest release any account allows by default (7 days), as Password Safe's default.
pub const DEFAULT_MAX_RELEASE_MINUTES: i64 = 10_080;

pub(crate) fn account_password_aad(id: i64) -> String {
    format!("vault/account/{id}/password")
}
pub(crate) fn account_pending_aad(id: i64) -> String {
    format!("vault/account/{id}/pending")
}
pub(crate) fn functional_aad(system_id: i64) -> String {
    format!("vault/system/{system_id}/functional_password")
}

fn check_name(what: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() || name.len() > 256 || name.chars().any(char::is_control) {
        return Err(invalid(format!("the {what} name must be 1 to 256 printable characters")));
    }
    Ok(())
}

/// `NAME_OR_ID`: a number is tried as an ID first.
fn id_of(name_or_id: &str) -> Option<i64> {
    name_or_id.trim().parse().ok()
}
