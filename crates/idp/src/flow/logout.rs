//! Front-channel single logout (SAML profiles 4.4): an app's LogoutRequest ends this browser's
//! session, and the app gets a signed LogoutResponse over HTTP-Redirect at its Logout URL.

use super::session::session_hash;
use super::{Client, SsoStep};
use crate::error::IdpError;
use crate::service::Idp;
use crate::sso::Envelope;
use saml::bindings::redirect::{redirect_url, QuerySigner};
use saml::bindings::MessageParam;
use saml::crypto::SignatureAlgorithm;
use saml::model::{LogoutRequest, LogoutResponse, Status};
use uuid::Uuid;

impl Idp {
    /// Answers `request` (which came in `envelope`) for the browser whose session cookie is
    /// `session_cookie`.
    pub async fn logout(
        &self,
        tenant: Uuid,
        envelope: Envelope,
        request: LogoutRequest,
        session_cookie: Option<&str>,
        client: &Client,
    ) -> SsoStep {
        let Some(issuer) = request.issuer.clone() else {
            let e = IdpError::MalformedRequest("the LogoutRequest has no Issuer".into());
            return self.fail(tenant, None, None, client, e).await;
        };
        let app = match self.store.find_app_by_identifier(tenant, &issuer).await {
            Ok(Some(a)) => a,
            Ok(None) => return self.fail(tenant, None, None, client, IdpError::UnknownApp(issuer)).await,
            Err(e) => return self.fail(tenant, None, None, client, e.into()).await,
        };
        let config = match crate::apps::config_of(&app) {
            Ok(c) => c,
            Err(e) => return self.fail(tenant, None, Some(&app), client, e).await,
        };
        if let Err(e) = envelope.check_for_app(&app.name, &config) {
            return self.fail(tenant, None, Some(&app), client, e).await;
        }
        let Some(logout_url) = config.logout_url.clone() else {
            return self
                .fail(tenant, None, Some(&app), client, IdpError::NoLogoutUrl(app.name.clone()))
                .await;
        };
        if let Some(secret) = session_cookie {
            if let Err(e) = self.store.delete_session(&session_hash(secret)).await {
                return self.fail(tenant, None, Some(&app), client, e.into()).await;
            }
        }
        let built = async {
            let m = self.signing_material(&app).await?;
            let response = LogoutResponse {
                id: saml::model::new_id()?,
                in_response_to: Some(request.id.clone()),
                issue_instant: self.now(),
                destination: Some(logout_url.clone()),
                consent: None,
                issuer: Some(self.endpoints(tenant).entity_id()),
                status: Status::success(),
            };
            let signer = QuerySigner { key: &m.key, algorithm: SignatureAlgorithm::RsaSha256 };
            Ok::<_, IdpError>(redirect_url(
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
                SsoStep::SignedOut { location }
            }
            Err(e) => self.fail(tenant, None, Some(&app), client, e).await,
        }
    }
}
