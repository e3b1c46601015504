//! Signing in: the password step, then the TOTP step for users who have a second factor.
//!
//! The policy lives here, not in the form handlers: an account is throttled after repeated
//! failures ([`super::lockout`]), an unknown user name costs the same time as a wrong password,
//! a disabled account is refused, a TOTP code signs in once per time step on any node, and the
//! failure count is cleared only once every factor was right.

use super::lockout::lock_key;
use super::{Client, Failure, NewSession};
use crate::error::{IdpError, Result};
use crate::service::Idp;
use store::model::User;
use uuid::Uuid;

/// How long the second sign-in step may take.
const MFA_STEP_SECONDS: i64 = 300;

/// The answer to the password step.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: a session for the browser.
    Done(Box<NewSession>),
    /// The password was right and the user has TOTP: the code decides.
    NeedOtp(MfaToken),
    /// Wrong user name or password, or the account is locked for a while (logged): the form
    /// again, with this reason.
    Retry(IdpError),
    /// Refused for good (a disabled account) or failed: the error page.
    Refused(Failure),
}

/// The answer to the TOTP step.
#[derive(Debug)]
pub enum OtpStep {
    Done(Box<NewSession>),
    /// The code was refused (wrong or used before, logged; or the account is locked for a
    /// while): enter a code again, with this reason.
    Retry(IdpError),
    /// The first step no longer counts: sign in again. `expired`: because it took too long
    /// (else the account was disabled or deleted meanwhile, which the form does not tell).
    Restart {
        expired: bool,
    },
    /// Failed: the error page.
    Refused(Failure),
}

/// Proof that a user gave the right password, carried to the second step:
/// `user|expiry|HMAC-SHA256(tenant secret)`. It proves the first factor only, for five minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaToken(String);

impl MfaToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Idp {
    /// The password step for `username` in `tenant`.
    pub async fn authenticate(
        &self,
        tenant: Uuid,
        username: &str,
        password: &str,
        client: &Client,
    ) -> SignIn {
        let username = username.trim();
        let lock = lock_key(tenant, username);
        if let Some(seconds) = self.locked_for(&lock).await {
            let e = IdpError::LockedOut(seconds);
            self.log_sign_in(tenant, None, Some(username), None, client, Err(&e), Uuid::new_v4()).await;
            return SignIn::Retry(e);
        }
        let user = self.store.find_user_by_upn(tenant, username).await.ok().flatten();
        let right = match user.as_ref().and_then(|u| u.password_hash.as_deref()) {
            Some(hash) => web::password::verify(password, hash),
            None => {
                web::password::verify_dummy(password);
                false
            }
        };
        let user = match (right, user) {
            (true, Some(u)) => u,
            _ => {
                self.sign_in_failed(&lock).await;
                let e = IdpError::BadCredentials;
                self.log_sign_in(tenant, None, Some(username), None, client, Err(&e), Uuid::new_v4()).await;
                return SignIn::Retry(e);
            }
        };
        if !user.enabled {
            let e = IdpError::UserDisabled(user.upn.clone());
            return SignIn::Refused(self.failure(tenant, Some(&user), None, client, e).await);
        }
        match self.totp_secret(&user) {
            // The lock counter is only cleared once the code is right too.
            Ok(Some(_)) => match self.mfa_token(tenant, user.id).await {
                Ok(token) => SignIn::NeedOtp(token),
                Err(e) => SignIn::Refused(self.failure(tenant, Some(&user), None, client, e).await),
            },
            Ok(None) => {
                self.sign_in_succeeded(&lock).await;
                match self.start_session(&user, false).await {
                    Ok(session) => SignIn::Done(Box::new(session)),
                    Err(e) => SignIn::Refused(self.failure(tenant, Some(&user), None, client, e).await),
                }
            }
            Err(e) => SignIn::Refused(self.failure(tenant, Some(&user), None, client, e).await),
        }
    }

    /// The TOTP step: `code` for the user that `token` (from [`SignIn::NeedOtp`]) names.
    pub async fn verify_otp(&self, tenant: Uuid, token: &str, code: &str, client: &Client) -> OtpStep {
        let Some(user_id) = self.check_mfa_token(tenant, token).await else {
            return OtpStep::Restart { expired: true };
        };
        let user = match self.store.get_user(tenant, user_id).await {
            Ok(Some(u)) if u.enabled => u,
            _ => return OtpStep::Restart { expired: false },
        };
        let lock = lock_key(tenant, &user.upn);
        if let Some(seconds) = self.locked_for(&lock).await {
            return OtpStep::Retry(IdpError::LockedOut(seconds));
        }
        if !self.check_otp(&user, code).await {
            self.sign_in_failed(&lock).await;
            let e = IdpError::BadOtp;
            self.log_sign_in(tenant, Some(&user), None, None, client, Err(&e), Uuid::new_v4()).await;
            return OtpStep::Retry(e);
        }
        self.sign_in_succeeded(&lock).await;
        match self.start_session(&user, true).await {
            Ok(session) => OtpStep::Done(Box::new(session)),
            Err(e) => OtpStep::Refused(self.failure(tenant, Some(&user), None, client, e).await),
        }
    }

    async fn mfa_token(&self, tenant: Uuid, user: Uuid) -> Result<MfaToken> {
        let expires = self.unix_now() + MFA_STEP_SECONDS;
        let body = format!("{user}|{expires}");
        let mac = self.mfa_mac(tenant, &body).await?;
        Ok(MfaToken(format!("{body}|{mac}")))
    }

    /// The user a valid, unexpired [`MfaToken`] names.
    async fn check_mfa_token(&self, tenant: Uuid, token: &str) -> Option<Uuid> {
        let (body, mac) = token.rsplit_once('|')?;
        let expected = self.mfa_mac(tenant, body).await.ok()?;
        web::token::constant_time_eq(expected.as_bytes(), mac.as_bytes()).then_some(())?;
        let (user, expires) = body.split_once('|')?;
        (expires.parse::<i64>().ok()? > self.unix_now()).then_some(())?;
        Uuid::parse_str(user).ok()
    }

    async fn mfa_mac(&self, tenant: Uuid, body: &str) -> Result<String> {
        let secret = self.tenant_secret(tenant).await?;
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
        let tag = aws_lc_rs::hmac::sign(&key, format!("mfa-step|{body}").as_bytes());
        Ok(web::token::hex(tag.as_ref()))
    }

    /// Checks a TOTP code; each time step signs in at most once per user, on any node (the
    /// step is claimed in the store).
    pub(super) async fn check_otp(&self, user: &User, code: &str) -> bool {
        let Ok(Some(secret)) = self.totp_secret(user) else { return false };
        let Some(step) = crate::totp::verify(&secret, self.unix_now(), code) else { return false };
        match self.store.claim_totp_step(user.id, step).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::error!(error = %e, "cannot record the TOTP step; refusing the code");
                false
            }
        }
    }
}
