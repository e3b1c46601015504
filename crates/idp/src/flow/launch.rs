//! A My Apps tile, and an administrator's "Test this application".
//!
//! A tile of an app that supports SP-initiated sign-on and has a Sign-on URL sends the browser
//! there, so that the app starts the sign-in it expects (as the large directories do); an app
//! without one gets IdP-initiated sign-on: an unsolicited Response with its Relay State at its
//! default reply URL. "Test this application" runs IdP-initiated sign-on whenever the app
//! supports it (it tests this IdP's side), and the Sign-on URL otherwise.

use super::assertion::Answer;
use super::{Client, Pending, SsoStep};
use crate::error::IdpError;
use crate::model::AppConfig;
use crate::roles::{Permission, Principal};
use crate::service::Idp;
use store::model::App;
use uuid::Uuid;

impl Idp {
    /// A My Apps tile of app `app_id`, for the browser whose session cookie is `session_cookie`:
    /// the app's Sign-on URL when it supports SP-initiated sign-on and has one, IdP-initiated
    /// sign-on otherwise.
    pub async fn launch(
        &self,
        tenant: Uuid,
        app_id: Uuid,
        session_cookie: Option<&str>,
        client: &Client,
    ) -> SsoStep {
        let (app, config) = match self.app(tenant, &app_id.to_string()).await {
            Ok(x) => x,
            Err(e) => return self.fail(tenant, None, None, client, e).await,
        };
        let Ok(Some((session, user))) = self.signed_in_user(tenant, session_cookie).await else {
            return SsoStep::NeedSignIn { pending: Pending::Launch { app: app_id }, app: Some(app.name) };
        };
        if let (true, Some(url)) = (config.sso_modes.sp_initiated, &config.sign_on_url) {
            return SsoStep::Redirect(url.clone());
        }
        if let Some(step) = self.sp_initiated_only(&app, &config, &user, client).await {
            return step;
        }
        let acs = match crate::sso::default_reply_url(&app.name, &config) {
            Ok(a) => a,
            Err(e) => return self.fail(tenant, Some(&user), Some(&app), client, e).await,
        };
        self.unsolicited(&app, &config, &acs, &user, &session, client).await
    }

    /// "Test this application": a Global or Application Administrator runs IdP-initiated SSO
    /// to any app (or is sent to its Sign-on URL) without being assigned to it. Everything else
    /// (enabled app, enabled user, signing) is checked exactly as for a tile.
    pub async fn test_app(
        &self,
        tenant: Uuid,
        app_id: Uuid,
        session_cookie: Option<&str>,
        client: &Client,
    ) -> SsoStep {
        let (app, config) = match self.app(tenant, &app_id.to_string()).await {
            Ok(x) => x,
            Err(e) => return self.fail(tenant, None, None, client, e).await,
        };
        let Ok(Some((session, user))) = self.signed_in_user(tenant, session_cookie).await else {
            // After signing in the administrator comes back to this test.
            return SsoStep::NeedSignIn { pending: Pending::Test { app: app_id }, app: Some(app.name) };
        };
        let roles = match self.roles_of(tenant, user.id).await {
            Ok(r) => r,
            Err(e) => return self.fail(tenant, Some(&user), Some(&app), client, e).await,
        };
        let who = Principal { tenant, user: user.clone(), roles, token_id: None };
        if let Err(e) = who.require(Permission::ManageApps) {
            return self.fail(tenant, Some(&user), Some(&app), client, e).await;
        }
        if let Some(step) = self.sp_initiated_only(&app, &config, &user, client).await {
            return step;
        }
        let acs = match crate::sso::default_reply_url(&app.name, &config) {
            Ok(a) => a,
            Err(e) => return self.fail(tenant, Some(&user), Some(&app), client, e).await,
        };
        // The test runs for an unassigned administrator too; nothing else is relaxed.
        let mut test_config = config;
        test_config.assignment_required = false;
        tracing::info!(tenant = %tenant, app = %app.id, admin = %user.id, "admin tested an application");
        self.unsolicited(&app, &test_config, &acs, &user, &session, client).await
    }

    /// For an app without IdP-initiated sign-on: its Sign-on URL, or the refusal when it has
    /// none. `None` for an app that supports it.
    async fn sp_initiated_only(
        &self,
        app: &App,
        config: &AppConfig,
        user: &store::model::User,
        client: &Client,
    ) -> Option<SsoStep> {
        if config.sso_modes.idp_initiated {
            return None;
        }
        Some(match &config.sign_on_url {
            Some(url) => SsoStep::Redirect(url.clone()),
            None => {
                let e = IdpError::IdpInitiatedNotSupported(app.name.clone());
                self.fail(app.tenant_id, Some(user), Some(app), client, e).await
            }
        })
    }

    /// The unsolicited Response to `acs`, with the app's Relay State.
    async fn unsolicited(
        &self,
        app: &App,
        config: &AppConfig,
        acs: &str,
        user: &store::model::User,
        session: &store::model::Session,
        client: &Client,
    ) -> SsoStep {
        let view = match self.view().await {
            Ok(v) => v,
            Err(e) => return self.fail(app.tenant_id, Some(user), Some(app), client, e).await,
        };
        let to = Answer::unsolicited(acs, config.relay_state.as_deref());
        self.answer(&view, app, config, user, session, &to, client).await
    }
}
