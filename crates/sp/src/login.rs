//! SP-initiated login: an AuthnRequest to the provider's SSO URL over its
//! binding (HTTP-Redirect or HTTP-POST), signed when the provider asks for it.
//! RelayState carries only an opaque reference to the stored request, which
//! holds the return URL (checked against an allow list here, so the ACS never
//! redirects anywhere a link could choose) and the browser that started it.

use crate::db::SpDb;
use crate::db::{PendingRequest, Provider, SsoBinding};
use crate::web::error::{SiteError, SiteResult};
use saml::bindings::post::post_form;
use saml::bindings::redirect::{redirect_url, QuerySigner};
use saml::bindings::MessageParam;
use saml::crypto::{Certificate, SignatureAlgorithm, SigningKey};
use saml::dsig::{sign_element, SignOptions};
use saml::model::authn_request::{AuthnRequest, NameIdPolicy};
use saml::model::new_id;
use time::{Duration, OffsetDateTime};

const BINDING_HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// How long a started login may take (the IdP sign-in included).
pub const REQUEST_LIFETIME: Duration = Duration::minutes(15);

/// The origin (`scheme://host[:port]`, lowercase) of an absolute http(s) URL.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains(['@', '\\']) {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// Checks a return URL: a path on this site (`/…`, not `//…` or `/\…`, which
/// browsers read as another host), or an absolute URL on this site's origin or
/// one of `allowed_origins`. Empty means `/`. Anything else is refused.
pub fn check_return_url(url: &str, base_url: &str, allowed_origins: &[String]) -> SiteResult<String> {
    if url.is_empty() {
        return Ok("/".into());
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) || url.contains('\\') {
        return Err(SiteError::ReturnUrlRefused(url.into()));
    }
    if url.starts_with('/') {
        return if url.starts_with("//") {
            Err(SiteError::ReturnUrlRefused(url.into()))
        } else {
            Ok(url.into())
        };
    }
    let Some(o) = origin(url) else { return Err(SiteError::ReturnUrlRefused(url.into())) };
    let ours = origin(base_url);
    let allowed = ours.as_deref() == Some(o.as_str())
        || allowed_origins.iter().any(|a| origin(a).as_deref() == Some(o.as_str()));
    if allowed {
        Ok(url.into())
    } else {
        Err(SiteError::ReturnUrlRefused(url.into()))
    }
}

/// The SP's key and certificate for signing AuthnRequests.
#[derive(Debug, Clone, Copy)]
pub struct RequestSigner<'a> {
    pub key: &'a SigningKey,
    pub cert: &'a Certificate,
}

/// What the browser must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginStep {
    /// Redirect (303) to this URL (HTTP-Redirect binding).
    Redirect(String),
    /// Show this auto-posting HTML form (HTTP-POST binding).
    PostForm(String),
}

/// A started login.
#[derive(Debug, Clone)]
pub struct LoginStart {
    pub request_id: String,
    /// The opaque RelayState reference.
    pub relay: String,
    pub step: LoginStep,
}

/// The SP's side of a login request.
#[derive(Debug, Clone, Copy)]
pub struct SpEndpoints<'a> {
    pub entity_id: &'a str,
    pub acs_url: &'a str,
}

/// Builds the AuthnRequest, records it (with `return_url`, already checked by
/// [`check_return_url`], and the hash of the browser's binding cookie) and says
/// how to send it.
pub async fn start_login(
    db: &SpDb,
    provider: &Provider,
    sp: SpEndpoints<'_>,
    return_url: &str,
    browser_hash: &str,
    signer: Option<RequestSigner<'_>>,
    now: OffsetDateTime,
) -> SiteResult<LoginStart> {
    let signer = if provider.sign_requests {
        Some(signer.ok_or_else(|| {
            SiteError::KeyUnusable(format!(
                "provider {:?} signs AuthnRequests but the application has no signing key",
                provider.name
            ))
        })?)
    } else {
        None
    };
    let request = AuthnRequest {
        id: new_id()?,
        issue_instant: now,
        destination: Some(provider.sso_url.clone()),
        consent: None,
        issuer: Some(sp.entity_id.to_string()),
        subject: None,
        name_id_policy: Some(NameIdPolicy {
            format: None,
            sp_name_qualifier: None,
            allow_create: Some(true),
        }),
        conditions: None,
        requested_authn_context: None,
        force_authn: None,
        is_passive: None,
        protocol_binding: Some(BINDING_HTTP_POST.into()),
        assertion_consumer_service_index: None,
        assertion_consumer_service_url: Some(sp.acs_url.to_string()),
        attribute_consuming_service_index: None,
        provider_name: None,
    };
    // new_id is 160 random bits: unguessable, and short enough for RelayState (80 bytes).
    let relay = new_id()?;
    let xml = request.to_xml();
    let step = match provider.sso_binding {
        SsoBinding::Redirect => LoginStep::Redirect(redirect_url(
            &provider.sso_url,
            MessageParam::Request,
            &xml,
            Some(&relay),
            signer.map(|s| QuerySigner { key: s.key, algorithm: SignatureAlgorithm::RsaSha256 }),
        )?),
        SsoBinding::Post => {
            let xml = match signer {
                Some(s) => sign_element(&xml, &request.id, s.key, Some(s.cert), &SignOptions::default())?,
                None => xml,
            };
            LoginStep::PostForm(post_form(&provider.sso_url, MessageParam::Request, &xml, Some(&relay))?)
        }
    };
    db.put_request(&PendingRequest {
        relay: relay.clone(),
        request_id: request.id.clone(),
        provider_id: provider.id,
        browser: browser_hash.to_string(),
        return_url: return_url.to_string(),
        expires_at: (now + REQUEST_LIFETIME).unix_timestamp(),
    })
    .await?;
    Ok(LoginStart { request_id: request.id, relay, step })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_urls_stay_on_this_site_or_allowed_origins() {
        let base = "https://app.test";
        let allow = vec!["https://docs.app.test".to_string()];
        for ok in
            ["", "/", "/dashboard?x=1", "https://app.test/x", "HTTPS://APP.TEST/y", "https://docs.app.test/a"]
        {
            assert!(check_return_url(ok, base, &allow).is_ok(), "{ok:?} must be allowed");
        }
        for bad in [
            "//evil.test/x",
            "/\\evil.test",
            "https://evil.test/",
            "https://app.test.evil.test/",
            "https://app.test@evil.test/",
            "javascript:alert(1)",
            "evil.test",
            "/a\nb",
            "http://app.test/",
        ] {
            let e = check_return_url(bad, base, &allow).expect_err(bad);
            assert_eq!(e.code(), "SPW_RETURN_URL_REFUSED");
        }
    }
}
