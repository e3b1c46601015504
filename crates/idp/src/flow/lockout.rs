//! Throttling password and code guessing per account.

use crate::service::Idp;
use store::throttle::LockoutPolicy;
use uuid::Uuid;

/// After 5 failures in a row, each further failure locks the account for twice as long as the
/// last (from 30 s up to 15 min). Success clears the count. Kept in the store, so every node of
/// a cluster counts the same failures.
pub const LOCKOUT: LockoutPolicy =
    LockoutPolicy { free_attempts: 5, first_lock_seconds: 30, max_lock_seconds: 900 };

/// The counter's key: per tenant and case-insensitive user name.
pub(crate) fn lock_key(tenant: Uuid, username: &str) -> String {
    format!("{tenant}/{}", username.to_lowercase())
}

impl Idp {
    /// Seconds left on a lock for `key`, if locked. A store error is logged and counts as
    /// locked for a minute (fail closed: a throttle that a broken database turns off is none).
    pub(crate) async fn locked_for(&self, key: &str) -> Option<u64> {
        let now = self.unix_now();
        match self.store.locked_until(key, now).await {
            Ok(until) => until.map(|u| u64::try_from(u - now).unwrap_or(1).max(1)),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the sign-in throttle");
                Some(60)
            }
        }
    }

    /// Records a failed attempt for `key`.
    pub(crate) async fn sign_in_failed(&self, key: &str) {
        if let Err(e) = self.store.record_failed_sign_in(key, self.unix_now(), &LOCKOUT).await {
            tracing::error!(error = %e, "cannot record a failed sign-in in the throttle");
        }
    }

    /// Clears the failures of `key` after a successful sign-in.
    pub(crate) async fn sign_in_succeeded(&self, key: &str) {
        if let Err(e) = self.store.clear_failed_sign_ins(key).await {
            tracing::error!(error = %e, "cannot clear the sign-in throttle");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_starts_after_free_attempts_and_doubles_to_the_cap() {
        assert_eq!(LOCKOUT.lock_seconds(4), None);
        assert_eq!(LOCKOUT.lock_seconds(5), Some(30));
        assert_eq!(LOCKOUT.lock_seconds(6), Some(60));
        assert_eq!(LOCKOUT.lock_seconds(10), Some(900));
        assert_eq!(LOCKOUT.lock_seconds(u32::MAX), Some(900));
        let t = Uuid::from_u128(1);
        assert_eq!(lock_key(t, "Alice@Contoso.com"), lock_key(t, "alice@contoso.com"));
        assert_ne!(lock_key(t, "alice@contoso.com"), lock_key(Uuid::from_u128(2), "alice@contoso.com"));
    }
}
