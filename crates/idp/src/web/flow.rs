//! The browser SSO flow: AuthnRequest in, sign-in when needed, assignment
//! check, claims, signed Response out through an auto-submitting form; and the
//! IdP-initiated variant started from a My Apps tile.

use super::pages;
use super::security::{self, random_token};
use crate::cache::{CachedApp, View};
use crate::error::{IdpError, Result};
use crate::model::{AppConfig, NameIdFormat};
use crate::service::{now, Idp};
use crate::sso::{self, IncomingRequest};
use crate::{claims, issue, nameid};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use saml::bindings::{post, MessageParam};
use saml::model::NameId;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use store::model::{App, PrincipalKind, Session, SignIn, User};
use time::OffsetDateTime;
use uuid::Uuid;

/// The cookie that carries the IdP session.
pub const SESSION_COOKIE: &str = "pcs_session";
/// How long an IdP session lasts without a new sign-in.
pub const SESSION_SECONDS: i64 = 8 * 3600;

/// What the browser was doing when it had to sign in; carried through the
/// sign-in form (it holds nothing secret: the request is checked again after).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    Redirect {
        query: String,
    },
    Post {
        saml_request: String,
        relay_state: Option<String>,
    },
    MyApps,
    Launch {
        app: Uuid,
    },
    /// An administrator's "Test this application".
    Test {
        app: Uuid,
    },
}

impl Pending {
    pub fn encode(&self) -> String {
        B64URL.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(s: &str) -> Option<Pending> {
        serde_json::from_slice(&B64URL.decode(s.trim()).ok()?).ok()
    }
}

/// What a flow step answers: a page, a redirect, or the auto-posting form.
#[derive(Debug)]
pub enum Outcome {
    Html { status: u16, body: String, set_cookies: Vec<String> },
    Redirect { location: String, set_cookies: Vec<String> },
}

/// Request facts the flow needs from HTTP.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    pub cookie_header: Option<String>,
    pub ip: Option<String>,
    pub secure: bool,
}

impl Ctx {
    pub fn cookie(&self, name: &str) -> Option<&str> {
        security::read_cookie(self.cookie_header.as_deref(), name)
    }
}

impl Idp {
    /// The signed-in user of this browser in `tenant`, if the session is valid.
    pub async fn session_user(&self, tenant: Uuid, ctx: &Ctx) -> Result<Option<(Session, User)>> {
        let view = self.view_with_session(ctx.cookie(SESSION_COOKIE)).await?;
        let found = view.session_user(tenant, ctx.cookie(SESSION_COOKIE)).await?;
        Ok(found.map(|(session, user)| (session, User::clone(&user))))
    }

    /// Starts a session for `user`; returns the Set-Cookie value.
    pub async fn start_session(&self, user: &User, mfa: bool, secure: bool) -> Result<(Session, String)> {
        let token = random_token();
        let at = now();
        let session = Session {
            id_hash: security::session_hash(&token),
            tenant_id: user.tenant_id,
            user_id: user.id,
            authn_instant: at,
            expires_at: at + SESSION_SECONDS,
            mfa,
        };
        self.store.create_session(&session).await?;
        Ok((session, security::cookie(SESSION_COOKIE, &token, secure, Some(SESSION_SECONDS))))
    }

    /// Records one sign-in attempt.
    #[allow(clippy::too_many_arguments)]
    pub async fn log_sign_in(
        &self,
        tenant: Uuid,
        user: Option<&User>,
        upn: Option<&str>,
        app: Option<&App>,
        ctx: &Ctx,
        result: std::result::Result<(), &IdpError>,
        correlation_id: Uuid,
    ) {
        let entry = SignIn {
            id: Uuid::new_v4(),
            tenant_id: tenant,
            at: now(),
            user_id: user.map(|u| u.id),
            upn: user.map(|u| u.upn.clone()).or_else(|| upn.map(str::to_string)),
            app_id: app.map(|a| a.id),
            ip: ctx.ip.clone(),
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

    /// The error page for `e`, logged with a fresh correlation ID.
    pub async fn fail(
        &self,
        tenant: Uuid,
        user: Option<&User>,
        app: Option<&App>,
        ctx: &Ctx,
        e: IdpError,
    ) -> Outcome {
        let correlation_id = Uuid::new_v4();
        self.log_sign_in(tenant, user, None, app, ctx, Err(&e), correlation_id).await;
        Outcome::Html {
            status: e.http_status(),
            body: pages::error(e.code(), &e.to_string(), &correlation_id.to_string()),
            set_cookies: Vec::new(),
        }
    }

    /// Handles an AuthnRequest (or resumes one after sign-in, `fresh` = the user
    /// has just authenticated in this browser).
    pub async fn handle_authn_request(
        &self,
        tenant: Uuid,
        pending: Pending,
        ctx: &Ctx,
        fresh: bool,
    ) -> Outcome {
        let incoming = match &pending {
            Pending::Redirect { query } => IncomingRequest::from_redirect(query),
            Pending::Post { saml_request, relay_state } => {
                IncomingRequest::from_post(saml_request, relay_state.clone())
            }
            Pending::MyApps | Pending::Launch { .. } | Pending::Test { .. } => {
                return self
                    .fail(tenant, None, None, ctx, IdpError::Internal("not an AuthnRequest".into()))
                    .await
            }
        };
        match incoming {
            Ok(incoming) => self.handle_incoming(tenant, &pending, incoming, ctx, fresh).await,
            Err(e) => self.fail(tenant, None, None, ctx, e).await,
        }
    }

    /// Handles a decoded AuthnRequest; `pending` is what the sign-in form carries when the
    /// browser has to sign in first.
    pub async fn handle_incoming(
        &self,
        tenant: Uuid,
        pending: &Pending,
        incoming: IncomingRequest,
        ctx: &Ctx,
        fresh: bool,
    ) -> Outcome {
        let view = match self.view_with_session(ctx.cookie(SESSION_COOKIE)).await {
            Ok(v) => v,
            Err(e) => return self.fail(tenant, None, None, ctx, e).await,
        };
        // Route by issuer to the app; check it may sign in and where to answer.
        let cached = match self.app_for_request(&view, tenant, &incoming).await {
            Ok(x) => x,
            Err((app, e)) => return self.fail(tenant, None, app.as_ref(), ctx, e).await,
        };
        let (app, config) = (&cached.app, &cached.config);
        // SAML core 3.2.1: a request addressed elsewhere must be discarded.
        if let Some(destination) = &incoming.request.destination {
            let here = self.endpoints(tenant).sso_url();
            if destination != &here {
                let e = IdpError::WrongDestination { destination: destination.clone(), here };
                return self.fail(tenant, None, Some(app), ctx, e).await;
            }
        }
        // A request is answered only while it is fresh (as Shibboleth's message lifetime does):
        // checked when it arrives, not again when it resumes after the sign-in form.
        if !fresh {
            if let Err(e) = check_request_age(incoming.request.issue_instant, OffsetDateTime::now_utc()) {
                return self.fail(tenant, None, Some(app), ctx, e).await;
            }
        }
        if let Some(binding) = &incoming.request.protocol_binding {
            if binding != saml::xml::BINDING_HTTP_POST {
                let e = IdpError::UnsupportedBinding(binding.clone());
                return self.fail(tenant, None, Some(app), ctx, e).await;
            }
        }
        let acs = match sso::resolve_reply_url(&app.name, config, &incoming.request) {
            Ok(a) => a,
            Err(e) => return self.fail(tenant, None, Some(app), ctx, e).await,
        };
        let format = match sso::name_id_format(config, Some(&incoming.request)) {
            Ok(f) => f,
            Err(e) => return self.fail(tenant, None, Some(app), ctx, e).await,
        };
        let force = incoming.request.force_authn == Some(true) && !fresh;
        let session = match view.session_user(tenant, ctx.cookie(SESSION_COOKIE)).await {
            Ok(s) => s.filter(|_| !force),
            Err(e) => return self.fail(tenant, None, Some(app), ctx, e).await,
        };
        let Some((session, user)) = session else {
            if incoming.request.is_passive == Some(true) {
                // No interaction allowed: answer the app with NoPassive.
                let status = saml::model::Status::new(saml::model::Status::RESPONDER)
                    .with_sub_code(saml::model::Status::NO_PASSIVE);
                return self
                    .post_error_response(
                        &view,
                        tenant,
                        app,
                        config,
                        &acs,
                        incoming.request.id.as_str(),
                        status,
                        incoming.relay_state.as_deref(),
                        ctx,
                    )
                    .await;
            }
            return self.login_page(tenant, pending, Some(&app.name), None, "", ctx);
        };
        let answer = Answer {
            acs: &acs,
            in_response_to: Some(&incoming.request.id),
            relay_state: incoming.relay_state.as_deref(),
            requested: Some(format),
            audience: incoming.request.issuer.as_deref(),
        };
        self.respond(&view, app, config, &user, &session, &answer, ctx).await
    }

    async fn app_for_request(
        &self,
        view: &View<'_>,
        tenant: Uuid,
        incoming: &IncomingRequest,
    ) -> std::result::Result<Arc<CachedApp>, (Option<App>, IdpError)> {
        let issuer = incoming.issuer().map_err(|e| (None, e))?;
        let cached = view
            .app_by_identifier(tenant, issuer)
            .await
            .map_err(|e| (None, e))?
            .ok_or_else(|| (None, IdpError::UnknownApp(issuer.to_string())))?;
        let (app, config) = (&cached.app, &cached.config);
        if !config.enabled {
            return Err((Some(app.clone()), IdpError::AppDisabled(app.name.clone())));
        }
        incoming.check_for_app(&app.name, config).map_err(|e| (Some(app.clone()), e))?;
        Ok(cached)
    }

    /// The sign-in form, carrying `pending`.
    pub fn login_page(
        &self,
        tenant: Uuid,
        pending: &Pending,
        app: Option<&str>,
        error: Option<&str>,
        username: &str,
        ctx: &Ctx,
    ) -> Outcome {
        let csrf = ctx.cookie(CSRF_COOKIE).map(str::to_string).unwrap_or_else(random_token);
        Outcome::Html {
            status: if error.is_some() { 401 } else { 200 },
            body: pages::sign_in(
                &self.endpoints(tenant).login_url(),
                &csrf,
                &pending.encode(),
                username,
                error,
                app,
            ),
            set_cookies: vec![security::cookie(CSRF_COOKIE, &csrf, ctx.secure, None)],
        }
    }

    /// Checks assignment, builds the claims and NameID, signs, and answers with
    /// the auto-posting form to `answer.acs`.
    #[allow(clippy::too_many_arguments)]
    pub async fn respond(
        &self,
        view: &View<'_>,
        app: &App,
        config: &AppConfig,
        user: &User,
        session: &Session,
        answer: &Answer<'_>,
        ctx: &Ctx,
    ) -> Outcome {
        let tenant = app.tenant_id;
        match self.build_response(view, tenant, app, config, user, session, answer).await {
            Ok(xml) => {
                let correlation_id = Uuid::new_v4();
                self.log_sign_in(tenant, Some(user), None, Some(app), ctx, Ok(()), correlation_id).await;
                match post::post_form(answer.acs, MessageParam::Response, &xml, answer.relay_state) {
                    Ok(body) => Outcome::Html { status: 200, body, set_cookies: Vec::new() },
                    Err(e) => self.fail(tenant, Some(user), Some(app), ctx, e.into()).await,
                }
            }
            Err(e) => self.fail(tenant, Some(user), Some(app), ctx, e).await,
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn build_response(
        &self,
        view: &View<'_>,
        tenant: Uuid,
        app: &App,
        config: &AppConfig,
        user: &User,
        session: &Session,
        answer: &Answer<'_>,
    ) -> Result<String> {
        if !user.enabled {
            return Err(IdpError::UserDisabled(user.upn.clone()));
        }
        if !config.enabled {
            return Err(IdpError::AppDisabled(app.name.clone()));
        }
        let groups = view.groups_of_user(tenant, user.id).await?;
        let assignments = view.assignments(app.id).await?;
        let direct =
            assignments.iter().find(|a| a.principal_kind == PrincipalKind::User && a.principal_id == user.id);
        let via_group = assignments.iter().find(|a| {
            a.principal_kind == PrincipalKind::Group && groups.iter().any(|g| g.id == a.principal_id)
        });
        let assignment = direct.or(via_group);
        if config.assignment_required && assignment.is_none() {
            return Err(IdpError::NotAssigned { user: user.upn.clone(), app: app.name.clone() });
        }
        let assigned_group_ids: Vec<Uuid> = assignments
            .iter()
            .filter(|a| a.principal_kind == PrincipalKind::Group)
            .map(|a| a.principal_id)
            .collect();
        let input = claims::UserClaimsInput {
            user,
            groups: &groups,
            assigned_group_ids: &assigned_group_ids,
            role: assignment.map(|a| a.role.as_str()),
            base_url: self.base_url(),
        };
        let attributes = claims::build_attributes(config, &input)?;
        let secret = self.tenant_secret(tenant).await?;
        let (format, value) =
            nameid::name_id_value(&config.name_id, answer.requested, user, app.id, &secret)?;
        // The Audience is the identifier the request came from (an app may have
        // several, e.g. while it migrates its entity ID), else the default one.
        let audience = match answer.audience {
            Some(a) if config.identifiers.iter().any(|i| i.value == a) => a.to_string(),
            _ => config
                .identifiers
                .iter()
                .find(|i| i.is_default)
                .or(config.identifiers.first())
                .map(|i| i.value.clone())
                .ok_or_else(|| IdpError::Invalid(format!("app {} has no identifier", app.name)))?,
        };
        let m = view.signing_material(app).await?;
        let endpoints = self.endpoints(tenant);
        let issuer = endpoints.entity_id();
        let authn_instant =
            OffsetDateTime::from_unix_timestamp(session.authn_instant).unwrap_or(OffsetDateTime::now_utc());
        // The session index is derived from the session, not the cookie: it is sent to apps.
        let session_index = format!("_{}", &session.id_hash[..32]);
        let mut name_id = NameId::new(value, format.uri());
        if format == NameIdFormat::Persistent {
            name_id.name_qualifier = None;
        }
        let params = issue::ResponseParams {
            issuer: &issuer,
            audience: &audience,
            acs_url: answer.acs,
            in_response_to: answer.in_response_to,
            name_id,
            attributes,
            authn_instant,
            session_index: &session_index,
            authn_context: None,
            now: OffsetDateTime::now_utc(),
            signing: config.signing,
            algorithm: config.signing_algorithm,
        };
        Ok(issue::signed_response(&params, &m.key, &m.cert)?)
    }

    #[allow(clippy::too_many_arguments)]
    async fn post_error_response(
        &self,
        view: &View<'_>,
        tenant: Uuid,
        app: &App,
        config: &AppConfig,
        acs: &str,
        in_response_to: &str,
        status: saml::model::Status,
        relay_state: Option<&str>,
        ctx: &Ctx,
    ) -> Outcome {
        let e = IdpError::InteractionRequired;
        let correlation_id = Uuid::new_v4();
        self.log_sign_in(tenant, None, None, Some(app), ctx, Err(&e), correlation_id).await;
        let built = async {
            let m = view.signing_material(app).await?;
            let issuer = self.endpoints(tenant).entity_id();
            let p = issue::ErrorParams {
                issuer: &issuer,
                acs_url: acs,
                in_response_to: Some(in_response_to),
                status,
                now: OffsetDateTime::now_utc(),
                algorithm: config.signing_algorithm,
            };
            let xml = issue::error_response(&p, &m.key, &m.cert)?;
            Ok::<_, IdpError>(post::post_form(acs, MessageParam::Response, &xml, relay_state)?)
        };
        match built.await {
            Ok(body) => Outcome::Html { status: 200, body, set_cookies: Vec::new() },
            Err(e) => self.fail(tenant, None, Some(app), ctx, e).await,
        }
    }
}

impl Idp {
    /// Front-channel single logout: ends this browser's session and answers the
    /// app's LogoutRequest with a signed LogoutResponse, redirected to its Logout URL.
    pub async fn handle_logout(&self, tenant: Uuid, envelope: sso::Envelope, ctx: &Ctx) -> Outcome {
        let request = match envelope.message() {
            Ok(saml::model::Message::LogoutRequest(r)) => *r,
            Ok(_) => {
                return self
                    .fail(
                        tenant,
                        None,
                        None,
                        ctx,
                        IdpError::MalformedRequest("expected a LogoutRequest".into()),
                    )
                    .await
            }
            Err(e) => return self.fail(tenant, None, None, ctx, e).await,
        };
        let Some(issuer) = request.issuer.clone() else {
            return self
                .fail(
                    tenant,
                    None,
                    None,
                    ctx,
                    IdpError::MalformedRequest("the LogoutRequest has no Issuer".into()),
                )
                .await;
        };
        let app = match self.store.find_app_by_identifier(tenant, &issuer).await {
            Ok(Some(a)) => a,
            Ok(None) => return self.fail(tenant, None, None, ctx, IdpError::UnknownApp(issuer)).await,
            Err(e) => return self.fail(tenant, None, None, ctx, e.into()).await,
        };
        let config = match crate::apps::config_of(&app) {
            Ok(c) => c,
            Err(e) => return self.fail(tenant, None, Some(&app), ctx, e).await,
        };
        if let Err(e) = envelope.check_for_app(&app.name, &config) {
            return self.fail(tenant, None, Some(&app), ctx, e).await;
        }
        let Some(logout_url) = config.logout_url.clone() else {
            return self.fail(tenant, None, Some(&app), ctx, IdpError::NoLogoutUrl(app.name.clone())).await;
        };
        if let Some(cookie) = ctx.cookie(SESSION_COOKIE) {
            if let Err(e) = self.store.delete_session(&security::session_hash(cookie)).await {
                return self.fail(tenant, None, Some(&app), ctx, e.into()).await;
            }
        }
        let built = async {
            let m = self.signing_material(&app).await?;
            let response = saml::model::LogoutResponse {
                id: saml::model::new_id()?,
                in_response_to: Some(request.id.clone()),
                issue_instant: OffsetDateTime::now_utc(),
                destination: Some(logout_url.clone()),
                consent: None,
                issuer: Some(self.endpoints(tenant).entity_id()),
                status: saml::model::Status::success(),
            };
            let signer = saml::bindings::redirect::QuerySigner {
                key: &m.key,
                algorithm: saml::crypto::SignatureAlgorithm::RsaSha256,
            };
            Ok::<_, IdpError>(saml::bindings::redirect::redirect_url(
                &logout_url,
                MessageParam::Response,
                &response.to_xml(),
                envelope.relay_state.as_deref(),
                Some(signer),
            )?)
        };
        match built.await {
            Ok(location) => {
                tracing::info!(%tenant, app = %app.id, "single logout");
                Outcome::Redirect {
                    location,
                    set_cookies: vec![security::cookie(SESSION_COOKIE, "", ctx.secure, Some(0))],
                }
            }
            Err(e) => self.fail(tenant, None, Some(&app), ctx, e).await,
        }
    }
}

/// Where and how to answer: the reply URL, the request being answered (none for
/// IdP-initiated SSO), the RelayState to return, the NameID format asked for
/// and the identifier the request came from.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub acs: &'a str,
    pub in_response_to: Option<&'a str>,
    pub relay_state: Option<&'a str>,
    pub requested: Option<NameIdFormat>,
    pub audience: Option<&'a str>,
}

/// How old an AuthnRequest may be when it arrives (plus the clock skew).
pub const REQUEST_LIFETIME_MINUTES: i64 = 5;

/// Refuses a request issued more than [`REQUEST_LIFETIME_MINUTES`] (plus skew) ago, or more
/// than the skew in the future.
fn check_request_age(issued: OffsetDateTime, now: OffsetDateTime) -> Result<()> {
    let skew = saml::DEFAULT_SKEW;
    let oldest = now - time::Duration::minutes(REQUEST_LIFETIME_MINUTES) - skew;
    if issued < oldest || issued > now + skew {
        return Err(IdpError::StaleRequest {
            issued: saml::clock::format_time(issued),
            now: saml::clock::format_time(now),
            minutes: REQUEST_LIFETIME_MINUTES,
        });
    }
    Ok(())
}

/// The cookie of the double-submit CSRF token.
pub const CSRF_COOKIE: &str = "pcs_csrf";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_answered_while_fresh() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let minutes = |m: i64| time::Duration::minutes(m);
        assert!(check_request_age(now, now).is_ok());
        assert!(check_request_age(now - minutes(7), now).is_ok(), "5 minutes + 3 of skew");
        assert!(check_request_age(now + minutes(2), now).is_ok(), "a fast app clock within the skew");
        let old = check_request_age(now - minutes(9), now).unwrap_err();
        assert_eq!(old.code(), "PCS75008");
        assert!(old.to_string().contains("clock"), "{old}");
        assert_eq!(check_request_age(now + minutes(4), now).unwrap_err().code(), "PCS75008");
    }
}
