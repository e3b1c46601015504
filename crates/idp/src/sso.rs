//! Taking in an AuthnRequest (SAML profiles 4.1.4.1) and deciding where, and in
//! which NameID format, the Response goes. Pure: the HTTP layer decodes the
//! binding with these functions and looks the app up in the store.

use crate::error::{IdpError, Result};
use crate::model::{AppConfig, NameIdFormat};
use saml::bindings::{post, redirect};
use saml::crypto::Certificate;
use saml::dsig::{self, VerifyOptions};
use saml::model::{AuthnRequest, Message};
use saml::xml::{self, Limits, NAMEID_UNSPECIFIED};

/// How a request arrived; the signature check depends on it.
#[derive(Debug, Clone)]
enum Carrier {
    Redirect(redirect::RedirectMessage),
    /// `signed`: the document holds a ds:Signature anywhere.
    Post {
        signed: bool,
    },
}

/// A request message as it came over a binding, not yet trusted.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub relay_state: Option<String>,
    xml: String,
    carrier: Carrier,
}

impl Envelope {
    /// From the HTTP-Redirect binding: the raw query string as received.
    pub fn from_redirect(raw_query: &str) -> Result<Self> {
        let m = redirect::decode_query(raw_query).map_err(malformed)?;
        if m.param() != saml::bindings::MessageParam::Request {
            return Err(IdpError::MalformedRequest("expected SAMLRequest, got SAMLResponse".into()));
        }
        Ok(Envelope {
            relay_state: m.relay_state().map(str::to_string),
            xml: m.xml().to_string(),
            carrier: Carrier::Redirect(m),
        })
    }

    /// From the HTTP-POST binding: the `SAMLRequest` and `RelayState` form fields.
    pub fn from_post(saml_request: &str, relay_state: Option<String>) -> Result<Self> {
        let xml = post::decode_post_value(saml_request).map_err(malformed)?;
        let doc = xml::parse(&xml, &Limits::MESSAGE).map_err(malformed)?;
        let signed = doc.descendants().any(|n| xml::is_element(n, saml::xml::NS_DS, "Signature"));
        drop(doc);
        Ok(Envelope { relay_state, xml, carrier: Carrier::Post { signed } })
    }

    /// The message inside.
    pub fn message(&self) -> Result<Message> {
        saml::model::parse_message(&self.xml).map_err(malformed)
    }

    /// Whether the request carries a signature (query string or XML).
    pub fn is_signed(&self) -> bool {
        match &self.carrier {
            Carrier::Redirect(m) => m.is_signed(),
            Carrier::Post { signed } => *signed,
        }
    }

    /// Checks the request's signature against the app's verification
    /// certificates: verified when the app has certificates and the request is
    /// signed, required when `required`. An unsigned request to an app without
    /// certificates is accepted (most SPs do not sign).
    pub fn check_signature(
        &self,
        app: &str,
        certs: &[Certificate],
        required: bool,
        allow_sha1: bool,
    ) -> Result<()> {
        if !self.is_signed() {
            return if required { Err(IdpError::UnsignedRequest(app.into())) } else { Ok(()) };
        }
        if certs.is_empty() {
            // Signed, but nothing to check it with: not a failure unless required.
            return if required {
                Err(IdpError::BadRequestSignature("the app has no verification certificate".into()))
            } else {
                Ok(())
            };
        }
        match &self.carrier {
            Carrier::Redirect(m) => {
                m.verify_signature(certs, allow_sha1)
                    .map_err(|e| IdpError::BadRequestSignature(e.code().into()))?;
            }
            Carrier::Post { .. } => {
                let doc = xml::parse(&self.xml, &Limits::MESSAGE).map_err(malformed)?;
                let verified = dsig::verify(&doc, &VerifyOptions { certs, allow_sha1 })
                    .map_err(|e| IdpError::BadRequestSignature(e.code().into()))?;
                if !verified.iter().any(|v| v.element.id() == doc.root_element().id()) {
                    return Err(IdpError::BadRequestSignature(
                        "the signature does not cover the request".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Envelope {
    /// Checks the request's signature as the app's configuration says: its
    /// request-signing certificates, whether signing is required, whether SHA-1
    /// is allowed.
    pub fn check_for_app(&self, app: &str, config: &AppConfig) -> Result<()> {
        let certs: Vec<Certificate> = config
            .request_verification_certs
            .iter()
            .filter_map(|pem| Certificate::load(pem.as_bytes()).ok())
            .collect();
        self.check_signature(app, &certs, config.require_signed_requests, config.allow_sha1_requests)
    }
}

/// A decoded, not yet trusted AuthnRequest.
#[derive(Debug, Clone)]
pub struct IncomingRequest {
    pub request: AuthnRequest,
    pub relay_state: Option<String>,
    envelope: Envelope,
}

impl IncomingRequest {
    /// From the HTTP-Redirect binding: the raw query string as received.
    pub fn from_redirect(raw_query: &str) -> Result<Self> {
        Self::from_envelope(Envelope::from_redirect(raw_query)?)
    }

    /// From the HTTP-POST binding: the `SAMLRequest` and `RelayState` form fields.
    pub fn from_post(saml_request: &str, relay_state: Option<String>) -> Result<Self> {
        Self::from_envelope(Envelope::from_post(saml_request, relay_state)?)
    }

    fn from_envelope(envelope: Envelope) -> Result<Self> {
        let message = envelope.message()?;
        Self::from_parts(envelope, message)
    }

    /// From an envelope whose message the caller has already parsed (to route it).
    pub fn from_parts(envelope: Envelope, message: Message) -> Result<Self> {
        match message {
            Message::AuthnRequest(r) => {
                Ok(IncomingRequest { request: *r, relay_state: envelope.relay_state.clone(), envelope })
            }
            _ => Err(IdpError::MalformedRequest("expected an AuthnRequest".into())),
        }
    }

    /// The requesting app's entity ID.
    pub fn issuer(&self) -> Result<&str> {
        self.request
            .issuer
            .as_deref()
            .ok_or_else(|| IdpError::MalformedRequest("the AuthnRequest has no Issuer".into()))
    }

    /// See [`Envelope::check_for_app`].
    pub fn check_for_app(&self, app: &str, config: &AppConfig) -> Result<()> {
        self.envelope.check_for_app(app, config)
    }
}

fn malformed(e: saml::Error) -> IdpError {
    IdpError::MalformedRequest(format!("[{}] {e}", e.code()))
}

/// The reply URL to post the Response to: the request's AssertionConsumerServiceURL
/// when it is registered (exact match), the registered URL with the requested
/// index, or the app's default reply URL.
pub fn resolve_reply_url(app: &str, config: &AppConfig, request: &AuthnRequest) -> Result<String> {
    if let Some(url) = &request.assertion_consumer_service_url {
        return config
            .reply_urls
            .iter()
            .find(|r| &r.url == url)
            .map(|r| r.url.clone())
            .ok_or_else(|| IdpError::ReplyUrlMismatch { app: app.into(), url: url.clone() });
    }
    if let Some(index) = request.assertion_consumer_service_index {
        return config
            .reply_urls
            .iter()
            .find(|r| r.index == index)
            .map(|r| r.url.clone())
            .ok_or(IdpError::ReplyUrlIndexUnknown { app: app.into(), index });
    }
    default_reply_url(app, config)
}

/// The app's default reply URL (the one marked default, else the first).
pub fn default_reply_url(app: &str, config: &AppConfig) -> Result<String> {
    config
        .reply_urls
        .iter()
        .find(|r| r.is_default)
        .or_else(|| config.reply_urls.first())
        .map(|r| r.url.clone())
        .ok_or_else(|| IdpError::NoReplyUrl(app.into()))
}

/// The NameID format of the Response: a NameIDPolicy format we support wins over
/// the app's configured one; `unspecified` (or no policy) means "no preference"
/// and keeps the configured format; anything else is refused.
pub fn name_id_format(config: &AppConfig, request: Option<&AuthnRequest>) -> Result<NameIdFormat> {
    let requested = request.and_then(|r| r.name_id_policy.as_ref()).and_then(|p| p.format.as_deref());
    match requested {
        None | Some(NAMEID_UNSPECIFIED) => Ok(config.name_id.format),
        Some(uri) => {
            NameIdFormat::from_uri(uri).ok_or_else(|| IdpError::UnsupportedNameIdFormat(uri.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pysaml2-signed HTTP-Redirect AuthnRequest with RSA-SHA1 (from the saml
    /// crate's known-answer data): refused unless the app allows SHA-1.
    #[test]
    fn sha1_request_signatures_need_the_apps_permission() {
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../saml/tests/data/redirect/");
        let url = std::fs::read_to_string(format!("{data}pysaml2_rsa_sha1.url")).unwrap();
        let cert = Certificate::load(&std::fs::read(format!("{data}pysaml2_cert.pem")).unwrap()).unwrap();
        let envelope = Envelope::from_redirect(url.trim()).unwrap();
        assert!(envelope.is_signed());
        let refused = envelope.check_signature("app", std::slice::from_ref(&cert), false, false).unwrap_err();
        assert_eq!(refused.code(), "PCS75016");
        envelope.check_signature("app", std::slice::from_ref(&cert), false, true).unwrap();
        // Unsigned requests: fine unless required.
        let unsigned = url.trim().split("&SigAlg=").next().unwrap().to_string();
        let plain = Envelope::from_redirect(&unsigned).unwrap();
        plain.check_signature("app", &[], false, false).unwrap();
        assert_eq!(plain.check_signature("app", &[], true, false).unwrap_err().code(), "PCS75017");
    }
}
