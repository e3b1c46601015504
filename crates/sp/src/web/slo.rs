//! Single logout over HTTP-Redirect: the SP-initiated LogoutRequest (local session
//! ended first, then the IdP's), the IdP's LogoutResponse to it (signed, from the
//! provider, answering the request this browser started), and an IdP-initiated
//! LogoutRequest (signed; the user's sessions end; a LogoutResponse goes back).

use super::pages::SignedOutCompletePage;
use super::respond::{no_store, redirect};
use super::{Site, BROWSER_COOKIE, SESSION_COOKIE};
use crate::db::{PendingRequest, Provider};
use crate::login::REQUEST_LIFETIME;
use crate::providers::trust;
use crate::web::error::{SiteError, SiteResult};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use saml::bindings::redirect::{decode_query, redirect_url, QuerySigner, RedirectMessage};
use saml::bindings::MessageParam;
use saml::crypto::SignatureAlgorithm;
use saml::model::{new_id, LogoutRequest, LogoutResponse, Message, NameId, Status};
use web::cookies;
use web::page::render;
use web::token::sha256_hex;

impl Site {
    /// The SP's single-logout endpoint: `{base_url}/saml/slo`.
    pub fn slo_url(&self) -> String {
        format!("{}/saml/slo", self.app.base_url)
    }

    fn signer(&self, provider: &Provider) -> Option<QuerySigner<'_>> {
        match (&self.signing, provider.sign_requests) {
            (Some((key, _)), true) => Some(QuerySigner { key, algorithm: SignatureAlgorithm::RsaSha256 }),
            _ => None,
        }
    }

    /// `/saml/logout`: ends the local session, then sends the IdP a LogoutRequest
    /// for the user (when the provider has an SLO URL).
    pub(super) async fn logout(&self, headers: &HeaderMap) -> SiteResult<Response> {
        let clear = self.cookies.removal(SESSION_COOKIE);
        let (token, saml_user, _) = match self.current(headers).await {
            Ok(v) => v,
            Err(SiteError::NotSignedIn) => {
                let mut resp = redirect("/");
                cookies::append(resp.headers_mut(), &clear);
                return Ok(resp);
            }
            Err(e) => return Err(e),
        };
        let now = self.clock.now();
        let session = self.db.session(&sha256_hex(&token), now.unix_timestamp()).await?;
        self.db.delete_session(&sha256_hex(&token)).await?;
        let provider = self.db.provider(saml_user.provider_id).await?;
        let Some(slo) = provider.slo_url.clone() else {
            let mut resp = redirect("/");
            cookies::append(resp.headers_mut(), &clear);
            return Ok(resp);
        };
        let request = LogoutRequest {
            id: new_id()?,
            issue_instant: now,
            destination: Some(slo.clone()),
            consent: None,
            issuer: Some(self.entity_id()),
            name_id: NameId { value: saml_user.name_id.clone(), ..Default::default() },
            session_indexes: session.and_then(|s| s.session_index).into_iter().collect(),
            not_on_or_after: None,
            reason: Some(LogoutRequest::REASON_USER.into()),
        };
        let (browser, new_cookie) = self.browser_binding(headers)?;
        let relay = new_id()?;
        self.db
            .put_request(&PendingRequest {
                relay: relay.clone(),
                request_id: request.id.clone(),
                provider_id: provider.id,
                browser: sha256_hex(&browser),
                return_url: "/".into(),
                expires_at: (now + REQUEST_LIFETIME).unix_timestamp(),
            })
            .await?;
        let url = redirect_url(
            &slo,
            MessageParam::Request,
            &request.to_xml(),
            Some(&relay),
            self.signer(&provider),
        )?;
        let mut resp = redirect(&url);
        cookies::append(resp.headers_mut(), &clear);
        if new_cookie {
            self.set_browser_binding(&mut resp, &browser);
        }
        no_store(&mut resp);
        Ok(resp)
    }

    /// `/saml/slo`: a LogoutResponse to our request, or an IdP-initiated LogoutRequest.
    pub(super) async fn slo(&self, headers: &HeaderMap, raw_query: &str) -> SiteResult<Response> {
        let msg = decode_query(raw_query)?;
        match saml::model::parse_message(msg.xml())? {
            Message::LogoutResponse(r) => self.logout_response(headers, &msg, &r).await,
            Message::LogoutRequest(r) => self.logout_request(&msg, &r).await,
            _ => Err(SiteError::Logout("expected a LogoutResponse or a LogoutRequest".into())),
        }
    }

    /// Checks what every logout message from `provider` must satisfy: a query
    /// signature by the provider's keys, its Issuer, and our SLO URL as Destination.
    fn check_from(
        &self,
        msg: &RedirectMessage,
        provider: &Provider,
        issuer: Option<&str>,
        destination: Option<&str>,
    ) -> SiteResult<()> {
        let certs = trust(provider)?.signing_certs;
        msg.verify_signature(&certs, provider.allow_sha1)?;
        if issuer != Some(provider.idp_entity_id.as_str()) {
            return Err(SiteError::Logout(format!(
                "the Issuer {issuer:?} is not the provider's entity ID {:?}",
                provider.idp_entity_id
            )));
        }
        if let Some(d) = destination {
            if d != self.slo_url() {
                return Err(SiteError::Logout(format!("the Destination {d:?} is not {:?}", self.slo_url())));
            }
        }
        Ok(())
    }

    async fn logout_response(
        &self,
        headers: &HeaderMap,
        msg: &RedirectMessage,
        r: &LogoutResponse,
    ) -> SiteResult<Response> {
        let now = self.clock.now().unix_timestamp();
        let relay = msg.relay_state().ok_or_else(|| SiteError::Logout("no RelayState".into()))?;
        let pending = self.db.take_request(relay, now).await?.ok_or_else(|| {
            SiteError::Logout("it answers no logout this site started (or one already answered)".into())
        })?;
        if cookies::read(headers, BROWSER_COOKIE).map(sha256_hex).as_deref() != Some(pending.browser.as_str())
        {
            return Err(SiteError::BrowserMismatch);
        }
        let provider = self.db.provider(pending.provider_id).await?;
        self.check_from(msg, &provider, r.issuer.as_deref(), r.destination.as_deref())?;
        if r.in_response_to.as_deref() != Some(pending.request_id.as_str()) {
            return Err(SiteError::Logout(format!(
                "it answers {:?}, not the LogoutRequest {:?}",
                r.in_response_to, pending.request_id
            )));
        }
        if !r.status.is_success() {
            return Err(SiteError::Logout(format!("the IdP did not log out: status {:?}", r.status)));
        }
        tracing::info!(provider = %provider.name, "single logout completed");
        let page = SignedOutCompletePage {
            layout: self.layout("Signed out"),
            app: &self.app.name,
            provider: &provider.name,
        };
        Ok(render(StatusCode::OK, &page))
    }

    async fn logout_request(&self, msg: &RedirectMessage, r: &LogoutRequest) -> SiteResult<Response> {
        let issuer = r.issuer.clone().unwrap_or_default();
        let provider = self
            .db
            .provider_by_entity_id(self.app.id, &issuer)
            .await?
            .ok_or_else(|| SiteError::IssuerUnknown(issuer.clone()))?;
        self.check_from(msg, &provider, r.issuer.as_deref(), r.destination.as_deref())?;
        let slo = provider
            .slo_url
            .clone()
            .ok_or_else(|| SiteError::Logout("the provider has no SLO URL to answer to".into()))?;
        let mut ended = 0;
        if let Some(user) = self.db.saml_user(provider.id, &r.name_id.value).await? {
            if r.session_indexes.is_empty() {
                ended += self.db.delete_sessions_of(user.id, None).await?;
            }
            for index in &r.session_indexes {
                ended += self.db.delete_sessions_of(user.id, Some(index)).await?;
            }
        }
        tracing::info!(provider = %provider.name, ended, "IdP-initiated logout");
        let response = LogoutResponse {
            id: new_id()?,
            in_response_to: Some(r.id.clone()),
            issue_instant: self.clock.now(),
            destination: Some(slo.clone()),
            consent: None,
            issuer: Some(self.entity_id()),
            status: Status::success(),
        };
        let url = redirect_url(
            &slo,
            MessageParam::Response,
            &response.to_xml(),
            msg.relay_state(),
            self.signer(&provider),
        )?;
        Ok(redirect(&url))
    }
}
