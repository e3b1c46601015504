//! Self-service for the signed-in user: changing their password (the current one, then a new
//! one that meets [`PASSWORD_POLICY`]; every session of the user ends and the browser gets a new
//! one) and enrolling a TOTP authenticator (a new secret takes effect only once a code from it
//! is confirmed; removing it needs a code). Wrong passwords and codes count against the same
//! lockout as the sign-in ([`super::lockout`]).
//!
//! The pending enrolment travels in the form, sealed under the store's data key with the user's
//! ID as associated data and its issue time inside, so that nothing is stored before the code is
//! confirmed and a pending secret cannot be moved to another user or kept for later.

use super::lockout::lock_key;
use super::NewSession;
use crate::directory::{otpauth_uri, totp_aad};
use crate::error::{IdpError, Result};
use crate::service::Idp;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use store::model::{Session, User};
use uuid::Uuid;
use zeroize::Zeroizing;

/// How long a pending TOTP enrolment may wait for its confirming code.
pub const ENROLMENT_SECONDS: i64 = 600;

/// What a self-chosen password must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_chars: usize,
    pub max_chars: usize,
}

/// The policy of self-service password changes: 12 to 256 characters, not the current password,
/// not the user name (or the part of it before the @).
pub const PASSWORD_POLICY: PasswordPolicy = PasswordPolicy { min_chars: 12, max_chars: 256 };

impl PasswordPolicy {
    /// Why `new` is refused for `user` whose current password is `current`, if it is.
    pub fn check(&self, user: &User, current: &str, new: &str) -> std::result::Result<(), String> {
        let n = new.chars().count();
        if n < self.min_chars {
            return Err(format!("the new password must have at least {} characters", self.min_chars));
        }
        if n > self.max_chars {
            return Err(format!("the new password must have at most {} characters", self.max_chars));
        }
        if new.trim().is_empty() || new.chars().any(char::is_control) {
            return Err("the new password must not be blank or hold control characters".into());
        }
        if web::token::constant_time_eq(new.as_bytes(), current.as_bytes()) {
            return Err("the new password must differ from the current one".into());
        }
        let upn = user.upn.to_lowercase();
        let local = upn.split('@').next().unwrap_or_default();
        let lower = new.to_lowercase();
        if lower == upn || lower == local {
            return Err("the new password must not be your user name".into());
        }
        Ok(())
    }
}

/// A TOTP secret waiting for its confirming code.
#[derive(Debug)]
pub struct TotpEnrolment {
    /// The `otpauth://` URI (for a link or a QR code).
    pub uri: Zeroizing<String>,
    /// The secret in base32, for typing into an authenticator app.
    pub secret_base32: Zeroizing<String>,
    /// The sealed pending secret, for the confirmation form.
    pub pending: String,
}

fn enrolment_aad(user: Uuid) -> String {
    format!("user/{user}/totp-enrolment")
}

impl Idp {
    /// Whether the user has TOTP on.
    pub fn has_totp(&self, user: &User) -> bool {
        user.totp_secret_sealed.is_some()
    }

    /// Changes the password of `user` (signed in with `session`): `current` must be right (a
    /// wrong one counts as a failed sign-in), `new` must meet [`PASSWORD_POLICY`] and equal
    /// `confirm`. Every session of the user ends, this browser's too: the answer is its new
    /// session.
    pub async fn change_own_password(
        &self,
        session: &Session,
        user: &User,
        current: &str,
        new: &str,
        confirm: &str,
    ) -> Result<NewSession> {
        let lock = lock_key(user.tenant_id, &user.upn);
        if let Some(seconds) = self.locked_for(&lock).await {
            return Err(IdpError::LockedOut(seconds));
        }
        let right = match user.password_hash.as_deref() {
            Some(hash) => web::password::verify(current, hash),
            None => {
                web::password::verify_dummy(current);
                false
            }
        };
        if !right {
            self.sign_in_failed(&lock).await;
            tracing::warn!(tenant = %user.tenant_id, user = %user.id, "password change refused: wrong current password");
            return Err(IdpError::BadCredentials);
        }
        if !web::token::constant_time_eq(new.as_bytes(), confirm.as_bytes()) {
            return Err(IdpError::Invalid("the new password and its confirmation differ".into()));
        }
        PASSWORD_POLICY.check(user, current, new).map_err(IdpError::Invalid)?;
        self.sign_in_succeeded(&lock).await;
        let mut u = user.clone();
        u.password_hash = Some(web::password::hash(new)?);
        u.updated_at = self.unix_now();
        self.store.update_user(&u).await?;
        let ended = self.store.delete_sessions_of_user(u.tenant_id, u.id).await?;
        tracing::info!(tenant = %u.tenant_id, user = %u.id, sessions_ended = ended, "the user changed their password");
        self.start_session(&u, session.mfa).await
    }

    /// A new TOTP secret for `user`, not yet in effect (see [`Self::confirm_totp_enrolment`]).
    pub fn begin_totp_enrolment(&self, user: &User) -> Result<TotpEnrolment> {
        let secret = Zeroizing::new(web::token::random_bytes::<20>()?);
        let mut plain = Zeroizing::new(self.unix_now().to_be_bytes().to_vec());
        plain.extend_from_slice(&secret[..]);
        let sealed = self.sealer.seal(enrolment_aad(user.id).as_bytes(), &plain)?;
        Ok(TotpEnrolment {
            uri: otpauth_uri(&user.upn, &secret[..]),
            secret_base32: Zeroizing::new(data_encoding::BASE32_NOPAD.encode(&secret[..])),
            pending: B64URL.encode(sealed),
        })
    }

    /// Turns TOTP on for `user` with the pending secret of [`Self::begin_totp_enrolment`], once
    /// `code` is one of its current codes. A wrong code counts as a failed sign-in; a pending
    /// enrolment older than [`ENROLMENT_SECONDS`] or not the user's is refused.
    pub async fn confirm_totp_enrolment(&self, user: &User, pending: &str, code: &str) -> Result<()> {
        let lock = lock_key(user.tenant_id, &user.upn);
        if let Some(seconds) = self.locked_for(&lock).await {
            return Err(IdpError::LockedOut(seconds));
        }
        let plain = self.open_enrolment(user, pending)?;
        let secret = &plain[8..];
        let Some(step) = crate::totp::verify(secret, self.unix_now(), code) else {
            self.sign_in_failed(&lock).await;
            return Err(IdpError::BadOtp);
        };
        // The confirming code cannot sign in afterwards.
        self.store.claim_totp_step(user.id, step).await?;
        self.sign_in_succeeded(&lock).await;
        let mut u = user.clone();
        u.totp_secret_sealed = Some(self.sealer.seal(totp_aad(u.id).as_bytes(), secret)?);
        u.updated_at = self.unix_now();
        self.store.update_user(&u).await?;
        tracing::info!(tenant = %u.tenant_id, user = %u.id, "the user enrolled a TOTP authenticator");
        Ok(())
    }

    /// The pending enrolment again (after a wrong code: the same key, so the account the user
    /// added to their app stays right), or `Invalid` when it expired or is not the user's.
    pub fn resume_totp_enrolment(&self, user: &User, pending: &str) -> Result<TotpEnrolment> {
        let plain = self.open_enrolment(user, pending)?;
        let secret = &plain[8..];
        Ok(TotpEnrolment {
            uri: otpauth_uri(&user.upn, secret),
            secret_base32: Zeroizing::new(data_encoding::BASE32_NOPAD.encode(secret)),
            pending: pending.trim().to_string(),
        })
    }

    /// The issue time (8 bytes, big-endian) and the secret of a pending enrolment of `user`
    /// that has not expired.
    fn open_enrolment(&self, user: &User, pending: &str) -> Result<Zeroizing<Vec<u8>>> {
        let expired = || IdpError::Invalid("the enrolment expired or is not yours; start again".into());
        let sealed = B64URL.decode(pending.trim()).map_err(|_| expired())?;
        let plain = self.sealer.open(enrolment_aad(user.id).as_bytes(), &sealed).map_err(|_| expired())?;
        let issued: [u8; 8] = plain.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(expired)?;
        let age = self.unix_now() - i64::from_be_bytes(issued);
        if plain.len() <= 8 || !(0..=ENROLMENT_SECONDS).contains(&age) {
            return Err(expired());
        }
        Ok(plain)
    }

    /// Turns TOTP off for `user`, who proves they hold it with a current `code`.
    pub async fn remove_own_totp(&self, user: &User, code: &str) -> Result<()> {
        let lock = lock_key(user.tenant_id, &user.upn);
        if let Some(seconds) = self.locked_for(&lock).await {
            return Err(IdpError::LockedOut(seconds));
        }
        if !self.check_otp(user, code).await {
            self.sign_in_failed(&lock).await;
            return Err(IdpError::BadOtp);
        }
        self.sign_in_succeeded(&lock).await;
        let mut u = user.clone();
        u.totp_secret_sealed = None;
        u.updated_at = self.unix_now();
        self.store.update_user(&u).await?;
        tracing::info!(tenant = %u.tenant_id, user = %u.id, "the user removed their TOTP authenticator");
        Ok(())
    }
}
