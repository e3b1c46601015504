//! SP-initiated SSO (SAML profiles 4.1.4): an AuthnRequest in, a step out.
//!
//! [`Idp::serve_sso`] goes the way crewjam/saml's `ServeSSO` does: the request is parsed (by
//! the caller, once), validated against its app (`Idp::validate`: one check per rule, each
//! with its own error code), the session is found, the assertion made and the answer written
//! (`Idp::answer`).

use super::assertion::Answer;
use super::{Client, NewSession, Pending, SessionRef, SsoStep};
use crate::cache::{CachedApp, View};
use crate::error::{IdpError, Result};
use crate::model::NameIdFormat;
use crate::service::Idp;
use crate::sso::{self as intake, Envelope, IncomingRequest};
use saml::model::Message;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

/// How old an AuthnRequest may be when it arrives (plus the clock skew).
pub const REQUEST_LIFETIME_MINUTES: i64 = 5;

/// A request that passed every check against its app: where and in which NameID format to answer.
struct Validated {
    app: Arc<CachedApp>,
    acs: String,
    format: NameIdFormat,
}

/// A check that failed, with the app when the request got as far as naming one.
type Refusal = (Option<Arc<CachedApp>>, IdpError);

impl Idp {
    /// A message on the HTTP-Redirect binding (the raw query string as received): an
    /// AuthnRequest, or a LogoutRequest ([`Idp::logout`]). Decoded and parsed once, then routed
    /// by message type.
    pub async fn saml_redirect(
        &self,
        tenant: Uuid,
        query: String,
        session_cookie: Option<&str>,
        client: &Client,
    ) -> SsoStep {
        let decoded = Envelope::from_redirect(&query).and_then(|e| e.message().map(|m| (e, m)));
        match decoded {
            Ok((envelope, Message::LogoutRequest(request))) => {
                self.logout(tenant, envelope, *request, session_cookie, client).await
            }
            Ok((envelope, message)) => match IncomingRequest::from_parts(envelope, message) {
                Ok(incoming) => {
                    let pending = Pending::Redirect { query };
                    self.serve_sso(tenant, pending, incoming, SessionRef::Cookie(session_cookie), client)
                        .await
                }
                Err(e) => self.fail(tenant, None, None, client, e).await,
            },
            Err(e) => self.fail(tenant, None, None, client, e).await,
        }
    }

    /// An AuthnRequest on the HTTP-POST binding: the `SAMLRequest` and `RelayState` fields.
    pub async fn saml_post(
        &self,
        tenant: Uuid,
        saml_request: Option<String>,
        relay_state: Option<String>,
        session_cookie: Option<&str>,
        client: &Client,
    ) -> SsoStep {
        let Some(saml_request) = saml_request else {
            let e = IdpError::MalformedRequest("the form has no SAMLRequest".into());
            return self.fail(tenant, None, None, client, e).await;
        };
        let pending = Pending::Post { saml_request, relay_state };
        self.serve_pending(tenant, pending, SessionRef::Cookie(session_cookie), client).await
    }

    /// After the sign-in form: goes on with what the browser was doing, in the new session.
    pub async fn continue_after_sign_in(
        &self,
        tenant: Uuid,
        pending: Pending,
        session: &NewSession,
        client: &Client,
    ) -> SsoStep {
        let endpoints = self.endpoints(tenant);
        match pending {
            Pending::Redirect { .. } | Pending::Post { .. } => {
                self.serve_pending(tenant, pending, SessionRef::New(session), client).await
            }
            Pending::MyApps | Pending::Account => {
                // One sign-in, one log line: when the browser goes on to an app, that step records
                // the outcome with the app (OK, or why the app refused the user); only a sign-in to
                // My Apps (or the account page) itself is recorded here.
                let user = Some(&session.user);
                self.log_sign_in(tenant, user, None, None, client, Ok(()), Uuid::new_v4()).await;
                SsoStep::Redirect(match pending {
                    Pending::Account => endpoints.account_path(),
                    _ => endpoints.my_apps_path(),
                })
            }
            Pending::Launch { app } => SsoStep::Redirect(endpoints.launch_path(app)),
            Pending::Test { app } => SsoStep::Redirect(endpoints.test_path(app)),
        }
    }

    /// Decodes the AuthnRequest a [`Pending`] carries, and serves it.
    async fn serve_pending(
        &self,
        tenant: Uuid,
        pending: Pending,
        session: SessionRef<'_>,
        client: &Client,
    ) -> SsoStep {
        let incoming = match &pending {
            Pending::Redirect { query } => IncomingRequest::from_redirect(query),
            Pending::Post { saml_request, relay_state } => {
                IncomingRequest::from_post(saml_request, relay_state.clone())
            }
            Pending::MyApps | Pending::Account | Pending::Launch { .. } | Pending::Test { .. } => {
                Err(IdpError::Internal("not an AuthnRequest".into()))
            }
        };
        match incoming {
            Ok(incoming) => self.serve_sso(tenant, pending, incoming, session, client).await,
            Err(e) => self.fail(tenant, None, None, client, e).await,
        }
    }

    /// Serves a decoded AuthnRequest; `pending` is what the sign-in form carries when the
    /// browser has to sign in first.
    pub async fn serve_sso(
        &self,
        tenant: Uuid,
        pending: Pending,
        incoming: IncomingRequest,
        session: SessionRef<'_>,
        client: &Client,
    ) -> SsoStep {
        // A session this request started has just authenticated the user: it satisfies
        // ForceAuthn, and the request's age was checked when it first arrived.
        let fresh = matches!(session, SessionRef::New(_));
        let view = match session {
            SessionRef::Cookie(cookie) => self.view_with_session(cookie).await,
            SessionRef::New(_) => self.view().await,
        };
        let view = match view {
            Ok(v) => v,
            Err(e) => return self.fail(tenant, None, None, client, e).await,
        };
        let valid = match self.validate(&view, tenant, &incoming, fresh).await {
            Ok(v) => v,
            Err((app, e)) => return self.fail(tenant, None, app.as_ref().map(|a| &a.app), client, e).await,
        };
        let (app, config) = (&valid.app.app, &valid.app.config);
        let force = incoming.request.force_authn == Some(true) && !fresh;
        let found = match session {
            SessionRef::New(new) => Some((new.session.clone(), Arc::new(new.user.clone()))),
            SessionRef::Cookie(cookie) => match view.session_user(tenant, cookie).await {
                Ok(found) => found.filter(|_| !force),
                Err(e) => return self.fail(tenant, None, Some(app), client, e).await,
            },
        };
        let Some((session, user)) = found else {
            if incoming.request.is_passive == Some(true) {
                // No interaction allowed: answer the app with NoPassive.
                let to = Answer::to_request(&valid.acs, &incoming, valid.format);
                return self.no_passive(&view, app, config, &to, client).await;
            }
            return SsoStep::NeedSignIn { pending, app: Some(app.name.clone()) };
        };
        let to = Answer::to_request(&valid.acs, &incoming, valid.format);
        self.answer(&view, app, config, &user, &session, &to, client).await
    }

    /// The checks of a request against its app, in order: its issuer names an app of the
    /// tenant, which is enabled and whose signature rules the request meets; it is addressed to
    /// this endpoint; it is fresh (when it arrives; not again after the sign-in form); it asks
    /// for the HTTP-POST binding; it names a registered reply URL; its NameID policy is one we
    /// support.
    async fn validate(
        &self,
        view: &View<'_>,
        tenant: Uuid,
        incoming: &IncomingRequest,
        fresh: bool,
    ) -> std::result::Result<Validated, Refusal> {
        let cached = self.app_for_request(view, tenant, incoming).await?;
        let refuse = |e: IdpError| (Some(cached.clone()), e);
        let (name, config) = (&cached.app.name, &cached.config);
        // SAML core 3.2.1: a request addressed elsewhere must be discarded.
        if let Some(destination) = &incoming.request.destination {
            let here = self.endpoints(tenant).sso_url();
            if destination != &here {
                return Err(refuse(IdpError::WrongDestination { destination: destination.clone(), here }));
            }
        }
        // A request is answered only while it is fresh (as Shibboleth's message lifetime does).
        if !fresh {
            check_request_age(incoming.request.issue_instant, self.now()).map_err(refuse)?;
        }
        if let Some(binding) = &incoming.request.protocol_binding {
            if binding != saml::xml::BINDING_HTTP_POST {
                return Err(refuse(IdpError::UnsupportedBinding(binding.clone())));
            }
        }
        let acs = intake::resolve_reply_url(name, config, &incoming.request).map_err(refuse)?;
        let format = intake::name_id_format(config, Some(&incoming.request)).map_err(refuse)?;
        Ok(Validated { app: cached, acs, format })
    }

    /// The app the request's issuer names, if it may sign in and the request's signature
    /// meets its rules.
    async fn app_for_request(
        &self,
        view: &View<'_>,
        tenant: Uuid,
        incoming: &IncomingRequest,
    ) -> std::result::Result<Arc<CachedApp>, Refusal> {
        let issuer = incoming.issuer().map_err(|e| (None, e))?;
        let cached = view
            .app_by_identifier(tenant, issuer)
            .await
            .map_err(|e| (None, e))?
            .ok_or_else(|| (None, IdpError::UnknownApp(issuer.to_string())))?;
        if !cached.config.enabled {
            return Err((Some(cached.clone()), IdpError::AppDisabled(cached.app.name.clone())));
        }
        if let Err(e) = incoming.check_for_app(&cached.app.name, &cached.config) {
            return Err((Some(cached), e));
        }
        Ok(cached)
    }
}

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
