//! Making the Response for a signed-in user: the assignment check, the claims, the NameID,
//! the audience and the signature (SAML profiles 4.1.4.2); and the signed error Response for a
//! passive request without a session.

use super::{Client, SsoStep};
use crate::cache::View;
use crate::error::{IdpError, Result};
use crate::model::{AppConfig, NameIdFormat};
use crate::service::Idp;
use crate::sso::IncomingRequest;
use crate::{claims, issue, nameid};
use saml::model::{NameId, Status};
use store::model::{App, PrincipalKind, Session, User};
use time::OffsetDateTime;
use uuid::Uuid;

/// Where and how to answer: the reply URL, the request being answered (none for IdP-initiated
/// SSO), the RelayState to return, the NameID format asked for and the identifier the request
/// came from.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub acs: &'a str,
    pub in_response_to: Option<&'a str>,
    pub relay_state: Option<&'a str>,
    pub requested: Option<NameIdFormat>,
    pub audience: Option<&'a str>,
}

impl<'a> Answer<'a> {
    /// The answer to an AuthnRequest, at its resolved reply URL in its NameID format.
    pub fn to_request(acs: &'a str, incoming: &'a IncomingRequest, format: NameIdFormat) -> Answer<'a> {
        Answer {
            acs,
            in_response_to: Some(&incoming.request.id),
            relay_state: incoming.relay_state.as_deref(),
            requested: Some(format),
            audience: incoming.request.issuer.as_deref(),
        }
    }

    /// An unsolicited Response (IdP-initiated SSO) to `acs`, with the app's Relay State.
    pub fn unsolicited(acs: &'a str, relay_state: Option<&'a str>) -> Answer<'a> {
        Answer { acs, in_response_to: None, relay_state, requested: None, audience: None }
    }

    /// The step that posts `response_xml` here.
    fn post(&self, response_xml: String) -> SsoStep {
        SsoStep::Post {
            acs: self.acs.to_string(),
            response_xml,
            relay_state: self.relay_state.map(str::to_string),
        }
    }
}

impl Idp {
    /// The signed Response for `user` to post to `to.acs`, or why there is none; either way
    /// written to the sign-in log.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn answer(
        &self,
        view: &View<'_>,
        app: &App,
        config: &AppConfig,
        user: &User,
        session: &Session,
        to: &Answer<'_>,
        client: &Client,
    ) -> SsoStep {
        let tenant = app.tenant_id;
        match self.make_response(view, app, config, user, session, to).await {
            Ok(response_xml) => {
                self.log_sign_in(tenant, Some(user), None, Some(app), client, Ok(()), Uuid::new_v4()).await;
                to.post(response_xml)
            }
            Err(e) => self.fail(tenant, Some(user), Some(app), client, e).await,
        }
    }

    async fn make_response(
        &self,
        view: &View<'_>,
        app: &App,
        config: &AppConfig,
        user: &User,
        session: &Session,
        to: &Answer<'_>,
    ) -> Result<String> {
        let tenant = app.tenant_id;
        if !user.enabled {
            return Err(IdpError::UserDisabled(user.upn.clone()));
        }
        if !config.enabled {
            return Err(IdpError::AppDisabled(app.name.clone()));
        }
        // The form posts here: an address a browser may be sent to (registered reply URLs
        // always are; this keeps a `javascript:` action out whatever the configuration says).
        saml::bindings::check_endpoint_url(to.acs)?;
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
        let (format, value) = nameid::name_id_value(&config.name_id, to.requested, user, app.id, &secret)?;
        let audience = audience(app, config, to.audience)?;
        let m = view.signing_material(app).await?;
        let issuer = self.endpoints(tenant).entity_id();
        let now = self.now();
        let authn_instant = OffsetDateTime::from_unix_timestamp(session.authn_instant).unwrap_or(now);
        // The session index is derived from the session's hash, not its secret: apps see it.
        let session_index = format!("_{}", session.id_hash.get(..32).unwrap_or(&session.id_hash));
        let mut name_id = NameId::new(value, format.uri());
        if format == NameIdFormat::Persistent {
            name_id.name_qualifier = None;
        }
        let params = issue::ResponseParams {
            issuer: &issuer,
            audience: &audience,
            acs_url: to.acs,
            in_response_to: to.in_response_to,
            name_id,
            attributes,
            authn_instant,
            session_index: &session_index,
            authn_context: None,
            now,
            signing: config.signing,
            algorithm: config.signing_algorithm,
        };
        Ok(issue::signed_response(&params, &m.key, &m.cert)?)
    }

    /// The answer to a passive request without a session (core 3.4.1.1): a signed Response with
    /// the status Responder/NoPassive, posted to the app, which decides what to do.
    pub(crate) async fn no_passive(
        &self,
        view: &View<'_>,
        app: &App,
        config: &AppConfig,
        to: &Answer<'_>,
        client: &Client,
    ) -> SsoStep {
        let tenant = app.tenant_id;
        let e = IdpError::InteractionRequired;
        self.log_sign_in(tenant, None, None, Some(app), client, Err(&e), Uuid::new_v4()).await;
        let built = async {
            saml::bindings::check_endpoint_url(to.acs)?;
            let m = view.signing_material(app).await?;
            let issuer = self.endpoints(tenant).entity_id();
            let p = issue::ErrorParams {
                issuer: &issuer,
                acs_url: to.acs,
                in_response_to: to.in_response_to,
                status: Status::new(Status::RESPONDER).with_sub_code(Status::NO_PASSIVE),
                now: self.now(),
                algorithm: config.signing_algorithm,
            };
            Ok::<_, IdpError>(issue::error_response(&p, &m.key, &m.cert)?)
        };
        match built.await {
            Ok(response_xml) => to.post(response_xml),
            Err(e) => self.fail(tenant, None, Some(app), client, e).await,
        }
    }
}

/// The Audience: the identifier the request came from (an app may have several, e.g. while it
/// migrates its entity ID), else the app's default one.
fn audience(app: &App, config: &AppConfig, requested: Option<&str>) -> Result<String> {
    match requested {
        Some(a) if config.identifiers.iter().any(|i| i.value == a) => Ok(a.to_string()),
        _ => config
            .identifiers
            .iter()
            .find(|i| i.is_default)
            .or(config.identifiers.first())
            .map(|i| i.value.clone())
            .ok_or_else(|| IdpError::Invalid(format!("app {} has no identifier", app.name))),
    }
}
