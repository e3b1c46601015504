//! SAML providers (IdPs) of an application, created from the IdP's metadata
//! (a file, a string or a URL), which fills in the entity ID, SSO and SLO URLs and
//! every signing certificate; a refresh re-reads the metadata and reports whether
//! the certificates changed (rollover) so an administrator notices.

use crate::db::SpDb;
use crate::db::{AttributeNames, Provider, SsoBinding, WantSigned};
use crate::web::error::{SiteError, SiteResult};
use crate::IdpTrust;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use saml::crypto::Certificate;
use saml::model::metadata::parse_metadata;
use std::path::PathBuf;
use std::time::Duration;
use uuid::Uuid;

const BINDING_HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const BINDING_HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// Where IdP metadata comes from.
#[derive(Debug, Clone)]
pub enum MetadataSource {
    File(PathBuf),
    Text(String),
    /// An `http://` or `https://` URL (kept for refresh).
    Url(String),
}

impl MetadataSource {
    /// A URL when `s` starts with `http://` or `https://`, else a file path.
    pub fn file_or_url(s: &str) -> Self {
        if s.starts_with("http://") || s.starts_with("https://") {
            MetadataSource::Url(s.to_string())
        } else {
            MetadataSource::File(PathBuf::from(s))
        }
    }

    /// The metadata text and, for a URL, the URL to refresh from.
    pub async fn load(&self) -> SiteResult<(String, Option<String>)> {
        match self {
            MetadataSource::Text(t) => Ok((t.clone(), None)),
            MetadataSource::File(p) => {
                let text = tokio_fs_read(p).await.map_err(|reason| SiteError::MetadataFetch {
                    source_name: p.display().to_string(),
                    reason,
                })?;
                Ok((text, None))
            }
            MetadataSource::Url(u) => {
                let text = http_get(u)
                    .await
                    .map_err(|reason| SiteError::MetadataFetch { source_name: u.clone(), reason })?;
                Ok((text, Some(u.clone())))
            }
        }
    }
}

async fn tokio_fs_read(p: &std::path::Path) -> Result<String, String> {
    let p = p.to_path_buf();
    let bytes = tokio::task::spawn_blocking(move || std::fs::read(p))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())
}

/// The most metadata we read from a URL (aggregates of many IdPs are refused anyway).
const MAX_METADATA_BYTES: u64 = 4 << 20;

/// GET with reqwest (rustls on aws-lc-rs, the system's trusted CAs; at most 3 redirects, 20 s),
/// reading at most [`MAX_METADATA_BYTES`].
async fn http_get(url: &str) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(3))
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
    let mut resp = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/samlmetadata+xml, application/xml, */*")
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    if !resp.status().is_success() {
        return Err(format!("the server answered {}, not 200", resp.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| format!("{e}"))? {
        if (body.len() + chunk.len()) as u64 > MAX_METADATA_BYTES {
            return Err(format!("the answer is larger than {MAX_METADATA_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| "the answer is not UTF-8 text".to_string())
}

/// What the administrator chooses (the metadata fills in the rest).
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub name: String,
    /// The binding for the AuthnRequest; falls back to the other one when the
    /// metadata offers only that.
    pub sso_binding: SsoBinding,
    /// Which signature the ACS requires.
    pub want_signed: WantSigned,
    /// Accept RSA-SHA1 (legacy IdPs only).
    pub allow_sha1: bool,
    /// Clock skew allowed on every time window, in seconds.
    pub skew_seconds: i64,
    pub allow_idp_initiated: bool,
    pub sign_requests: bool,
    pub waiting_room: bool,
    pub email_domains: Vec<String>,
    pub attributes: AttributeNames,
    pub default_policy_id: Option<Uuid>,
}

impl ProviderSettings {
    /// SP-initiated only over HTTP-Redirect, unsigned requests, either signature
    /// (no SHA-1), the default skew, no waiting room, default attribute names.
    pub fn new(name: impl Into<String>) -> Self {
        ProviderSettings {
            name: name.into(),
            sso_binding: SsoBinding::Redirect,
            want_signed: WantSigned::Either,
            allow_sha1: false,
            skew_seconds: saml::DEFAULT_SKEW.whole_seconds(),
            allow_idp_initiated: false,
            sign_requests: false,
            waiting_room: false,
            email_domains: Vec::new(),
            attributes: AttributeNames::default(),
            default_policy_id: None,
        }
    }
}

/// What IdP metadata says about the IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpFacts {
    pub entity_id: String,
    pub sso_url: String,
    pub sso_binding: SsoBinding,
    pub slo_url: Option<String>,
    /// Base64 DER of every signing certificate.
    pub signing_certs: Vec<String>,
}

/// Reads the facts from IdP metadata (one IdP, or the one named by `entity_id`),
/// preferring `binding` for the SSO URL.
pub fn idp_facts(xml: &str, entity_id: Option<&str>, binding: SsoBinding) -> SiteResult<IdpFacts> {
    // IdpTrust applies the rules on which entity and which certificates count.
    let trust = IdpTrust::from_metadata(xml, entity_id)?;
    let entities = parse_metadata(xml).map_err(crate::Error::from)?;
    let idp = entities
        .iter()
        .find(|e| e.entity_id == trust.entity_id)
        .and_then(|e| e.idp.as_ref())
        .ok_or(crate::Error::MetadataNoIdp)?;
    let (first, second) = match binding {
        SsoBinding::Redirect => {
            ((BINDING_HTTP_REDIRECT, SsoBinding::Redirect), (BINDING_HTTP_POST, SsoBinding::Post))
        }
        SsoBinding::Post => {
            ((BINDING_HTTP_POST, SsoBinding::Post), (BINDING_HTTP_REDIRECT, SsoBinding::Redirect))
        }
    };
    let (sso_url, sso_binding) = idp
        .sso_service(first.0)
        .map(|e| (e.location.clone(), first.1))
        .or_else(|| idp.sso_service(second.0).map(|e| (e.location.clone(), second.1)))
        .ok_or_else(|| {
            SiteError::Invalid(
                "the IdP metadata offers no SingleSignOnService over HTTP-Redirect or HTTP-POST".into(),
            )
        })?;
    let slo_url = idp
        .slo_service(BINDING_HTTP_REDIRECT)
        .or_else(|| idp.slo_service(BINDING_HTTP_POST))
        .map(|e| e.location.clone());
    Ok(IdpFacts {
        entity_id: trust.entity_id,
        sso_url,
        sso_binding,
        slo_url,
        signing_certs: trust.signing_certs.iter().map(|c| B64.encode(c.der())).collect(),
    })
}

/// Creates a provider of `app` from metadata and stores it.
pub async fn create_provider(
    db: &SpDb,
    app: Uuid,
    source: &MetadataSource,
    settings: ProviderSettings,
    now: i64,
) -> SiteResult<Provider> {
    let (xml, url) = source.load().await?;
    let facts = idp_facts(&xml, None, settings.sso_binding)?;
    let domains: Vec<String> = settings.email_domains.iter().map(|d| d.trim().to_lowercase()).collect();
    let p = Provider {
        id: Uuid::new_v4(),
        app_id: app,
        name: settings.name,
        idp_entity_id: facts.entity_id,
        sso_url: facts.sso_url,
        sso_binding: facts.sso_binding,
        slo_url: facts.slo_url,
        signing_certs: facts.signing_certs,
        metadata_url: url,
        want_signed: settings.want_signed,
        allow_sha1: settings.allow_sha1,
        skew_seconds: settings.skew_seconds,
        allow_idp_initiated: settings.allow_idp_initiated,
        sign_requests: settings.sign_requests,
        waiting_room: settings.waiting_room,
        email_domains: domains,
        attributes: settings.attributes,
        default_policy_id: settings.default_policy_id,
        created_at: now,
    };
    db.create_provider(&p).await?;
    Ok(p)
}

/// What a refresh changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshReport {
    /// The set of signing certificates differs from the stored one.
    pub certificates_changed: bool,
    /// SHA-256 thumbprints (hex) of certificates now trusted that were not before.
    pub added: Vec<String>,
    /// … and of certificates no longer trusted.
    pub removed: Vec<String>,
    pub sso_url_changed: bool,
    pub slo_url_changed: bool,
}

/// Re-reads the provider's metadata (from `source`, or its stored URL) and stores
/// the new URLs and certificates. The IdP's entity ID must stay the same.
pub async fn refresh_provider(
    db: &SpDb,
    provider: Uuid,
    source: Option<&MetadataSource>,
) -> SiteResult<RefreshReport> {
    let mut p = db.provider(provider).await?;
    let source = match (source, &p.metadata_url) {
        (Some(s), _) => s.clone(),
        (None, Some(url)) => MetadataSource::Url(url.clone()),
        (None, None) => {
            return Err(SiteError::Invalid(
                "the provider was created from a file or text: pass the new metadata to refresh it".into(),
            ))
        }
    };
    let (xml, _) = source.load().await?;
    let facts = idp_facts(&xml, Some(&p.idp_entity_id), p.sso_binding)?;
    let thumb = |b64: &String| thumbprint(b64);
    let old: Vec<String> = p.signing_certs.iter().map(thumb).collect();
    let new: Vec<String> = facts.signing_certs.iter().map(thumb).collect();
    let report = RefreshReport {
        added: new.iter().filter(|t| !old.contains(t)).cloned().collect(),
        removed: old.iter().filter(|t| !new.contains(t)).cloned().collect(),
        certificates_changed: false,
        sso_url_changed: p.sso_url != facts.sso_url,
        slo_url_changed: p.slo_url != facts.slo_url,
    };
    let report = RefreshReport {
        certificates_changed: !report.added.is_empty() || !report.removed.is_empty(),
        ..report
    };
    p.sso_url = facts.sso_url;
    p.sso_binding = facts.sso_binding;
    p.slo_url = facts.slo_url;
    p.signing_certs = facts.signing_certs;
    db.update_provider(&p).await?;
    if report.certificates_changed {
        tracing::warn!(provider = %p.name, added = ?report.added, removed = ?report.removed,
            "the IdP's signing certificates changed at metadata refresh");
    }
    Ok(report)
}

fn thumbprint(b64: &String) -> String {
    let der = B64.decode(b64).unwrap_or_default();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The trust (entity ID and certificates) the ACS validates this provider's
/// Responses with.
pub fn trust(p: &Provider) -> SiteResult<IdpTrust> {
    let signing_certs = p
        .signing_certs
        .iter()
        .map(|b64| Certificate::from_base64(b64))
        .collect::<Result<Vec<_>, _>>()
        .map_err(crate::Error::from)?;
    if signing_certs.is_empty() {
        return Err(crate::Error::MetadataNoSigningCertificate.into());
    }
    Ok(IdpTrust { entity_id: p.idp_entity_id.clone(), signing_certs })
}
