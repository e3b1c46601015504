//! The browser SSO flow, as the IdP's domain: no HTML, no HTTP, and time from the IdP's clock.
//!
//! Each entry point reads the way crewjam/saml's `ServeSSO` does — parse the request, validate
//! it against its app, find the browser's session, make the assertion, write the answer — and
//! returns a typed step: [`SsoStep`] for SSO, [`SignIn`] and [`OtpStep`] for the sign-in form,
//! [`Portal`] for My Apps. The web layer ([`crate::web`]) only turns those into pages, redirects
//! and cookies; it hands the flow the session cookie's value, or the session a sign-in has just
//! started ([`SessionRef`]).
//!
//! - [`sso`]: SP-initiated SSO (an AuthnRequest over HTTP-Redirect or HTTP-POST), and going on
//!   after the sign-in form;
//! - [`launch`]: IdP-initiated SSO from a My Apps tile, and an administrator's "Test this
//!   application";
//! - [`assertion`]: assignment, claims, NameID, audience and signing: the Response;
//! - [`sign_in`]: the password and TOTP steps, throttled by [`lockout`];
//! - [`session`]: browser sessions (the store keeps only their hashes);
//! - [`logout`]: front-channel single logout;
//! - [`portal`]: what My Apps lists;
//! - [`pending`]: what the sign-in form carries while the browser signs in.
//!
//! Every refusal is written to the sign-in log with a correlation ID before it is returned
//! ([`Failure`]), so the page that shows it and the log agree.

pub mod account;
pub mod assertion;
pub mod launch;
pub mod lockout;
pub mod logout;
pub mod pending;
pub mod portal;
pub mod session;
pub mod sign_in;
pub mod sso;

pub use pending::Pending;
pub use portal::{Portal, Tile};
pub use session::{NewSession, SessionRef, SESSION_SECONDS};
pub use sign_in::{MfaToken, OtpStep, SignIn};

use crate::error::IdpError;
use crate::service::Idp;
use store::model::{App, SignIn as SignInRecord, User};
use uuid::Uuid;

/// What the flow records about the browser: where it connects from (for the sign-in log).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    pub ip: Option<String>,
}

/// What the browser is shown next.
#[derive(Debug)]
pub enum SsoStep {
    /// The browser must sign in first; the sign-in form carries `pending` and names `app`.
    NeedSignIn { pending: Pending, app: Option<String> },
    /// A signed Response (an assertion, or an error status such as NoPassive) to post to the
    /// app's reply URL, with the RelayState to return.
    Post { acs: String, response_xml: String, relay_state: Option<String> },
    /// Go to another URL (an app's Sign-on URL, or a page of the IdP after signing in).
    Redirect(String),
    /// Single logout ended the browser's session: forget it, and go to `location` (the app's
    /// Logout URL with the signed LogoutResponse).
    SignedOut { location: String },
    /// Refused or failed; already in the sign-in log.
    Fail(Failure),
}

/// A refused or failed step, written to the sign-in log under `correlation_id`.
#[derive(Debug)]
pub struct Failure {
    /// The app the browser was signing in to, when known.
    pub app: Option<String>,
    pub error: IdpError,
    pub correlation_id: Uuid,
}

impl Idp {
    /// Records one sign-in attempt: a line in the server log now, a row in the sign-in log a few
    /// milliseconds later (group commit, see `signin_log.rs`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn log_sign_in(
        &self,
        tenant: Uuid,
        user: Option<&User>,
        upn: Option<&str>,
        app: Option<&App>,
        client: &Client,
        result: std::result::Result<(), &IdpError>,
        correlation_id: Uuid,
    ) {
        let entry = SignInRecord {
            id: Uuid::new_v4(),
            tenant_id: tenant,
            at: self.unix_now(),
            user_id: user.map(|u| u.id),
            upn: user.map(|u| u.upn.clone()).or_else(|| upn.map(str::to_string)),
            app_id: app.map(|a| a.id),
            ip: client.ip.clone(),
            result_code: match result {
                Ok(()) => "OK".into(),
                Err(e) => e.code().into(),
            },
            correlation_id,
            detail: result.err().map(|e| e.to_string()),
        };
        match result {
            Ok(()) => {
                tracing::info!(%tenant, upn = ?entry.upn, app = ?entry.app_id, %correlation_id, "sign-in succeeded")
            }
            Err(e) => {
                tracing::warn!(%tenant, upn = ?entry.upn, app = ?entry.app_id, %correlation_id, code = e.code(), error = %e, "sign-in failed")
            }
        }
        self.queue_sign_in(entry).await;
    }

    /// Logs `error` as a failed sign-in (of `user`, to `app`, when known) under a fresh
    /// correlation ID, and returns it as a [`Failure`] to show.
    pub async fn failure(
        &self,
        tenant: Uuid,
        user: Option<&User>,
        app: Option<&App>,
        client: &Client,
        error: IdpError,
    ) -> Failure {
        let correlation_id = Uuid::new_v4();
        self.log_sign_in(tenant, user, None, app, client, Err(&error), correlation_id).await;
        Failure { app: app.map(|a| a.name.clone()), error, correlation_id }
    }

    /// [`Idp::failure`] as a step.
    pub(crate) async fn fail(
        &self,
        tenant: Uuid,
        user: Option<&User>,
        app: Option<&App>,
        client: &Client,
        error: IdpError,
    ) -> SsoStep {
        SsoStep::Fail(self.failure(tenant, user, app, client, error).await)
    }
}
