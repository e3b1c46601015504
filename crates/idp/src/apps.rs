//! Enterprise applications: creation from the gallery, Basic SAML
//! Configuration, SP metadata import, claims, assignment, signing certificates
//! and federation metadata.

use crate::error::{IdpError, Result};
use crate::gallery;
use crate::model::{
    AppConfig, ClaimRule, ClaimSource, GroupsClaim, Identifier, NameIdFormat, ReplyUrl, SigningAlgorithm,
    SigningOption, SourceAttribute,
};
use crate::service::Idp;
use saml::crypto::{Certificate, SigningKey};
use std::collections::BTreeMap;
use store::model::{App, Assignment, PrincipalKind, SigningCert};
use time::OffsetDateTime;
use uuid::Uuid;

/// Subject of the signing certificates we generate (as the large directory names its own).
pub const CERT_SUBJECT: &str = "Portcullis Federated SSO Certificate";
/// Validity of a generated signing certificate: 3 years.
pub const CERT_DAYS: u32 = 3 * 365;
/// Warn when the active certificate expires within this many days.
pub const CERT_WARNING_DAYS: i64 = 60;

/// What `app set-saml` changes (`None` / empty = keep).
#[derive(Debug, Default, Clone)]
pub struct SamlChanges {
    /// Added if new, and made the default identifier.
    pub identifier: Option<String>,
    /// Replaces the reply URLs (index 0.., the first is the default).
    pub reply_urls: Vec<String>,
    pub sign_on_url: Option<String>,
    pub relay_state: Option<String>,
    pub logout_url: Option<String>,
    pub name_id_format: Option<NameIdFormat>,
    pub name_id_source: Option<SourceAttribute>,
    pub signing: Option<SigningOption>,
    /// SHA-256 unless set to SHA-1 explicitly, for a legacy app that accepts nothing else.
    pub signing_algorithm: Option<SigningAlgorithm>,
    /// Where certificate-expiry notices go ("" clears it).
    pub notification_email: Option<String>,
}

/// What `app set` changes in the app's Properties (`None` = keep). Also the
/// body of the API's `PATCH /apps/{id}`.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropertyChanges {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub assignment_required: Option<bool>,
    pub visible: Option<bool>,
    pub require_signed_requests: Option<bool>,
    pub allow_sha1_requests: Option<bool>,
}

/// A certificate download format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertFormat {
    /// PEM with its BEGIN/END lines.
    Pem,
    /// The base64 body alone, on one line ("Certificate (Base64)").
    Base64,
    /// DER bytes ("Certificate (Raw)").
    Der,
}

/// One row of `cert list`.
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub id: Uuid,
    pub active: bool,
    pub thumbprint: String,
    pub sha256_thumbprint: String,
    pub subject: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// Set when the certificate expires within [`CERT_WARNING_DAYS`] (or has).
    pub warning: Option<String>,
}

fn none_if_empty(v: Option<String>) -> Option<Option<String>> {
    v.map(|s| {
        let s = s.trim().to_string();
        (!s.is_empty()).then_some(s)
    })
}

impl Idp {
    /// Reads an app by ID (or by its unique display name) and its configuration.
    pub async fn app(&self, tenant: Uuid, app_ref: &str) -> Result<(App, AppConfig)> {
        let app = match Uuid::parse_str(app_ref.trim()) {
            Ok(id) => self.store.get_app(tenant, id).await?,
            Err(_) => {
                let mut by_name: Vec<App> = self
                    .store
                    .list_apps(tenant)
                    .await?
                    .into_iter()
                    .filter(|a| a.name == app_ref.trim())
                    .collect();
                if by_name.len() > 1 {
                    return Err(IdpError::Invalid(format!(
                        "several apps are named {app_ref:?}; use the app ID"
                    )));
                }
                by_name.pop()
            }
        }
        .ok_or_else(|| IdpError::NotFound { what: format!("app {app_ref:?}") })?;
        let config: AppConfig = serde_json::from_str(&app.config_json).map_err(|e| {
            IdpError::Internal(format!("app {} has an unreadable configuration: {e}", app.id))
        })?;
        Ok((app, config))
    }

    async fn save_app(&self, mut app: App, config: &AppConfig) -> Result<App> {
        app.config_json = serde_json::to_string(config).map_err(|e| IdpError::Internal(e.to_string()))?;
        app.updated_at = self.unix_now();
        let ids: Vec<String> = config.identifiers.iter().map(|i| i.value.clone()).collect();
        self.store.update_app(&app, &ids).await?;
        Ok(app)
    }

    /// Creates an app from a gallery template (`generic-saml` for a custom app),
    /// with a new active signing certificate.
    pub async fn create_app(
        &self,
        tenant: Uuid,
        template: &str,
        name: Option<&str>,
        params: &BTreeMap<String, String>,
    ) -> Result<App> {
        let t = gallery::find(template)?;
        let config = t.instantiate(params)?;
        if t.is_fixed_identifier() {
            if let Some(existing) =
                self.store.list_apps(tenant).await?.into_iter().find(|a| a.template == t.name)
            {
                return Err(IdpError::Conflict(format!(
                    "template {} has a fixed identifier and app {} ({}) already uses it; a tenant can have it once",
                    t.name, existing.name, existing.id
                )));
            }
        }
        let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&t.display_name).to_string();
        let at = self.unix_now();
        let mut app = App {
            id: Uuid::new_v4(),
            tenant_id: tenant,
            name,
            template: t.name.clone(),
            config_json: String::new(),
            created_at: at,
            updated_at: at,
        };
        app.config_json = serde_json::to_string(&config).map_err(|e| IdpError::Internal(e.to_string()))?;
        let ids: Vec<String> = config.identifiers.iter().map(|i| i.value.clone()).collect();
        self.store.create_app(&app, &ids).await?;
        let cert = self.new_signing_cert(app.id).await?;
        self.store.activate_signing_cert(app.id, cert).await?;
        Ok(app)
    }

    /// Changes the app's Properties: name, enabled for sign-in, assignment
    /// required, visible in My Apps, signed requests required.
    pub async fn set_properties(&self, tenant: Uuid, app_ref: &str, c: PropertyChanges) -> Result<App> {
        let (mut app, mut config) = self.app(tenant, app_ref).await?;
        if let Some(name) = c.name {
            let name = name.trim();
            if name.is_empty() || name.len() > 256 {
                return Err(IdpError::Invalid("an app name must have 1 to 256 characters".into()));
            }
            app.name = name.to_string();
        }
        if let Some(v) = c.enabled {
            config.enabled = v;
        }
        if let Some(v) = c.assignment_required {
            config.assignment_required = v;
        }
        if let Some(v) = c.visible {
            config.visible = v;
        }
        if let Some(v) = c.require_signed_requests {
            if v && config.request_verification_certs.is_empty() {
                return Err(IdpError::Invalid(
                    "the app has no request-signing certificate: import the SP's metadata first".into(),
                ));
            }
            config.require_signed_requests = v;
        }
        if let Some(v) = c.allow_sha1_requests {
            config.allow_sha1_requests = v;
        }
        self.save_app(app, &config).await
    }

    /// Changes the Basic SAML Configuration and the NameID and signing settings.
    pub async fn set_saml(&self, tenant: Uuid, app_ref: &str, c: SamlChanges) -> Result<App> {
        let (app, mut config) = self.app(tenant, app_ref).await?;
        if let Some(id) = c.identifier {
            let id = id.trim().to_string();
            crate::urls::validate_identifier(&id).map_err(|e| IdpError::Invalid(e.to_string()))?;
            for i in &mut config.identifiers {
                i.is_default = false;
            }
            match config.identifiers.iter_mut().find(|i| i.value == id) {
                Some(existing) => existing.is_default = true,
                None => config.identifiers.insert(0, Identifier { value: id, is_default: true }),
            }
        }
        if !c.reply_urls.is_empty() {
            let mut urls = Vec::new();
            for (i, u) in c.reply_urls.iter().enumerate() {
                let u = u.trim().to_string();
                crate::urls::validate_reply_url(&u).map_err(|e| IdpError::Invalid(e.to_string()))?;
                if urls.iter().any(|r: &ReplyUrl| r.url == u) {
                    return Err(IdpError::Invalid(format!("reply URL {u:?} is given twice")));
                }
                urls.push(ReplyUrl { url: u, index: i as u16, is_default: i == 0 });
            }
            config.reply_urls = urls;
        }
        for (field, value) in [
            (&mut config.sign_on_url, none_if_empty(c.sign_on_url)),
            (&mut config.logout_url, none_if_empty(c.logout_url)),
        ] {
            if let Some(v) = value {
                if let Some(url) = &v {
                    crate::urls::validate_url(url).map_err(|e| IdpError::Invalid(e.to_string()))?;
                }
                *field = v;
            }
        }
        if let Some(rs) = none_if_empty(c.relay_state) {
            config.relay_state = rs;
        }
        if let Some(f) = c.name_id_format {
            config.name_id.format = f;
        }
        if let Some(s) = c.name_id_source {
            config.name_id.source = s;
        }
        if let Some(s) = c.signing {
            config.signing = s;
        }
        if let Some(a) = c.signing_algorithm {
            if a == SigningAlgorithm::Sha1 && config.signing_algorithm != a {
                tracing::warn!(app = %app.id, "RSA-SHA1 signing turned on: SHA-1 is deprecated, use it only for an app that accepts nothing else");
            }
            config.signing_algorithm = a;
        }
        if let Some(mail) = none_if_empty(c.notification_email) {
            if let Some(m) = &mail {
                crate::directory::validate_upn(m).map_err(|_| {
                    IdpError::Invalid(format!("notification e-mail {m:?} is not an e-mail address"))
                })?;
            }
            config.notification_email = mail;
        }
        self.save_app(app, &config).await
    }

    /// Fills the Basic SAML Configuration from the SP's metadata: entity ID,
    /// assertion consumer services (index and default kept), single logout
    /// service and request-signing certificates. A Sign-on URL the template derived from a
    /// placeholder is refilled from the imported values, or cleared when they do not give it
    /// (see [`gallery::Template::sign_on_url_after_import`]).
    pub async fn import_sp_metadata(&self, tenant: Uuid, app_ref: &str, xml: &str) -> Result<App> {
        let (app, mut config) = self.app(tenant, app_ref).await?;
        let entities = saml::model::parse_metadata(xml)
            .map_err(|e| IdpError::Invalid(format!("the SP metadata is not valid: [{}] {e}", e.code())))?;
        let mut sps: Vec<_> = entities.into_iter().filter(|e| e.sp.is_some()).collect();
        let entity = match sps.len() {
            1 => sps.remove(0),
            0 => {
                return Err(IdpError::Invalid("the metadata has no SPSSODescriptor (is it an IdP's?)".into()))
            }
            n => {
                return Err(IdpError::Invalid(format!(
                    "the metadata describes {n} service providers; import one"
                )))
            }
        };
        let Some(sp) = entity.sp else { unreachable!("filtered above") };
        crate::urls::validate_identifier(&entity.entity_id).map_err(|e| IdpError::Invalid(e.to_string()))?;
        let acs: Vec<_> = sp
            .assertion_consumer_services
            .iter()
            .filter(|a| a.binding == saml::xml::BINDING_HTTP_POST)
            .collect();
        if acs.is_empty() {
            return Err(IdpError::Invalid(
                "the SP metadata has no AssertionConsumerService with the HTTP-POST binding".into(),
            ));
        }
        let default_index = saml::model::IndexedEndpoint::select_default(&sp.assertion_consumer_services)
            .filter(|d| d.binding == saml::xml::BINDING_HTTP_POST)
            .map(|d| d.index)
            .unwrap_or(acs[0].index);
        let mut reply_urls = Vec::new();
        for a in acs {
            crate::urls::validate_reply_url(&a.location).map_err(|e| IdpError::Invalid(e.to_string()))?;
            reply_urls.push(ReplyUrl {
                url: a.location.clone(),
                index: a.index,
                is_default: a.index == default_index,
            });
        }
        for i in &mut config.identifiers {
            i.is_default = false;
        }
        match config.identifiers.iter_mut().find(|i| i.value == entity.entity_id) {
            Some(existing) => existing.is_default = true,
            None => {
                config.identifiers.insert(0, Identifier { value: entity.entity_id.clone(), is_default: true })
            }
        }
        config.reply_urls = reply_urls;
        // A Sign-on URL the template made from a placeholder follows the imported values (or is
        // cleared): My Apps never sends the browser to the placeholder's guess.
        if let (Some(t), Some(current)) = (gallery::get(&app.template), config.sign_on_url.clone()) {
            let acs: Vec<&str> = config.reply_urls.iter().map(|r| r.url.as_str()).collect();
            if let Some(next) = t.sign_on_url_after_import(&current, &[entity.entity_id.as_str()], &acs) {
                if next.as_deref() != Some(current.as_str()) {
                    tracing::info!(app = %app.id, from = %current, to = ?next, "the template's Sign-on URL follows the imported SP metadata");
                }
                config.sign_on_url = next;
            }
        }
        if let Some(slo) = sp
            .slo_service(saml::xml::BINDING_HTTP_REDIRECT)
            .or_else(|| sp.slo_service(saml::xml::BINDING_HTTP_POST))
        {
            config.logout_url = Some(slo.location.clone());
        }
        config.request_verification_certs = sp.signing_certificates().map(|c| c.to_pem()).collect();
        self.save_app(app, &config).await
    }

    /// Adds or replaces the claim called `name` (in `namespace`): its value
    /// from a user attribute or a constant, optionally transformed.
    pub async fn set_claim(
        &self,
        tenant: Uuid,
        app_ref: &str,
        name: &str,
        source: ClaimSource,
        namespace: Option<String>,
        transform: Option<crate::model::Transform>,
    ) -> Result<App> {
        let (app, mut config) = self.app(tenant, app_ref).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(IdpError::Invalid(format!("claim name {name:?} must be non-empty, without spaces")));
        }
        let namespace = namespace.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        if let Some(ns) = &namespace {
            crate::urls::validate_identifier(ns)
                .map_err(|e| IdpError::Invalid(format!("claim namespace: {e}")))?;
        }
        if let ClaimSource::Constant(v) = &source {
            if v.is_empty() || v.len() > 1024 {
                return Err(IdpError::Invalid(
                    "a constant claim value must have 1 to 1024 characters".into(),
                ));
            }
        }
        let groups = |s: &ClaimSource| matches!(s, ClaimSource::Attribute(SourceAttribute::Groups));
        if let Some(crate::model::Transform::Join { other, .. }) = &transform {
            if groups(&source) || *other == SourceAttribute::Groups {
                return Err(IdpError::Invalid("user.groups is multi-valued and cannot be joined".into()));
            }
        }
        let rule = ClaimRule { name: name.into(), namespace, source, transform };
        match config.claims.iter_mut().find(|r| r.name == rule.name && r.namespace == rule.namespace) {
            Some(existing) => *existing = rule,
            None => config.claims.push(rule),
        }
        self.save_app(app, &config).await
    }

    /// Removes the claim called `name` (its short name or full attribute name).
    pub async fn remove_claim(&self, tenant: Uuid, app_ref: &str, name: &str) -> Result<App> {
        let (app, mut config) = self.app(tenant, app_ref).await?;
        let before = config.claims.len();
        config.claims.retain(|r| r.name != name && r.attribute_name() != name);
        if config.claims.len() == before {
            return Err(IdpError::NotFound { what: format!("claim {name:?} of app {}", app.name) });
        }
        self.save_app(app, &config).await
    }

    /// Sets which groups the groups claim carries.
    pub async fn set_groups_claim(&self, tenant: Uuid, app_ref: &str, setting: GroupsClaim) -> Result<App> {
        let (app, mut config) = self.app(tenant, app_ref).await?;
        config.groups_claim = setting;
        self.save_app(app, &config).await
    }

    /// Assigns a user or group to the app with one of its roles.
    pub async fn assign(
        &self,
        tenant: Uuid,
        app_ref: &str,
        principal: &str,
        kind: PrincipalKind,
        role: Option<&str>,
    ) -> Result<Assignment> {
        let (app, config) = self.app(tenant, app_ref).await?;
        let role = match role {
            None => config.roles.first().map(|r| r.name.clone()).unwrap_or_else(|| "Default Access".into()),
            Some(r) => config
                .roles
                .iter()
                .find(|x| x.name.eq_ignore_ascii_case(r) || x.value.eq_ignore_ascii_case(r))
                .map(|x| x.name.clone())
                .ok_or_else(|| {
                    let names: Vec<&str> = config.roles.iter().map(|x| x.name.as_str()).collect();
                    IdpError::Invalid(format!(
                        "app {} has no role {r:?}; its roles: {}",
                        app.name,
                        names.join(", ")
                    ))
                })?,
        };
        let principal_id = match kind {
            PrincipalKind::User => self.find_user(tenant, principal).await?.id,
            PrincipalKind::Group => self.find_group(tenant, principal).await?.id,
        };
        let a = Assignment {
            app_id: app.id,
            principal_id,
            principal_kind: kind,
            role,
            created_at: self.unix_now(),
        };
        self.store.assign(&a).await?;
        Ok(a)
    }

    /// Generates a new, inactive signing certificate (RSA-2048, 3 years).
    pub async fn new_signing_cert(&self, app: Uuid) -> Result<Uuid> {
        let key = SigningKey::generate(2048)?;
        let cert = Certificate::self_signed(&key, CERT_SUBJECT, self.now(), CERT_DAYS)?;
        let id = Uuid::new_v4();
        let record = SigningCert {
            id,
            app_id: app,
            active: false,
            cert_der: cert.der().to_vec(),
            key_sealed: self.sealer.seal(cert_aad(app, id).as_bytes(), key.pkcs8_der())?,
            thumbprint: cert.sha1_thumbprint(),
            not_before: cert.not_before().unix_timestamp(),
            not_after: cert.not_after().unix_timestamp(),
            created_at: self.unix_now(),
        };
        self.store.add_signing_cert(&record).await?;
        Ok(id)
    }

    /// `cert new` for an app reference.
    pub async fn create_cert(&self, tenant: Uuid, app_ref: &str) -> Result<Uuid> {
        let (app, _) = self.app(tenant, app_ref).await?;
        self.new_signing_cert(app.id).await
    }

    /// Makes a certificate (by ID or thumbprint) the one that signs.
    pub async fn activate_cert(&self, tenant: Uuid, app_ref: &str, cert_ref: &str) -> Result<()> {
        let (app, _) = self.app(tenant, app_ref).await?;
        let cert = self.find_cert(app.id, cert_ref).await?;
        self.store.activate_signing_cert(app.id, cert.id).await?;
        Ok(())
    }

    async fn find_cert(&self, app: Uuid, cert_ref: &str) -> Result<SigningCert> {
        let r = cert_ref.trim();
        self.store
            .list_signing_certs(app)
            .await?
            .into_iter()
            .find(|c| c.id.to_string() == r.to_ascii_lowercase() || c.thumbprint.eq_ignore_ascii_case(r))
            .ok_or_else(|| IdpError::NotFound { what: format!("certificate {cert_ref:?}") })
    }

    /// The app's certificates, active first, with expiry warnings.
    pub async fn list_certs(&self, tenant: Uuid, app_ref: &str) -> Result<Vec<CertInfo>> {
        let (app, _) = self.app(tenant, app_ref).await?;
        let now = self.now();
        self.store
            .list_signing_certs(app.id)
            .await?
            .into_iter()
            .map(|c| {
                let cert = Certificate::from_der(&c.cert_der)?;
                let days_left = (cert.not_after() - now).whole_days();
                let warning = if days_left < 0 {
                    Some("expired".to_string())
                } else if days_left <= CERT_WARNING_DAYS {
                    Some(format!("expires in {days_left} days: create a new certificate and activate it"))
                } else {
                    None
                };
                Ok(CertInfo {
                    id: c.id,
                    active: c.active,
                    thumbprint: c.thumbprint.clone(),
                    sha256_thumbprint: cert.sha256_thumbprint(),
                    subject: cert.subject().to_string(),
                    not_before: cert.not_before(),
                    not_after: cert.not_after(),
                    warning,
                })
            })
            .collect()
    }

    /// A certificate (the active one when `cert_ref` is `None`) in a download format.
    pub async fn download_cert(
        &self,
        tenant: Uuid,
        app_ref: &str,
        cert_ref: Option<&str>,
        format: CertFormat,
    ) -> Result<Vec<u8>> {
        let (app, _) = self.app(tenant, app_ref).await?;
        let record = match cert_ref {
            Some(r) => self.find_cert(app.id, r).await?,
            None => self
                .store
                .active_signing_cert(app.id)
                .await?
                .ok_or_else(|| IdpError::NoSigningCertificate(app.name.clone()))?,
        };
        let cert = Certificate::from_der(&record.cert_der)?;
        Ok(match format {
            CertFormat::Pem => cert.to_pem().into_bytes(),
            CertFormat::Base64 => format!("{}\n", cert.to_base64()).into_bytes(),
            CertFormat::Der => cert.der().to_vec(),
        })
    }

    /// The active signing key and certificate of an app, unsealed (cached).
    pub async fn signing_material(
        &self,
        app: &App,
    ) -> Result<std::sync::Arc<crate::service::SigningMaterial>> {
        let record = self
            .store
            .active_signing_cert(app.id)
            .await?
            .ok_or_else(|| IdpError::NoSigningCertificate(app.name.clone()))?;
        if let Some(m) = self.signing_keys.lock().unwrap_or_else(|e| e.into_inner()).get(&record.id) {
            return Ok(m.clone());
        }
        let der = self.sealer.open(cert_aad(app.id, record.id).as_bytes(), &record.key_sealed)?;
        let material = std::sync::Arc::new(crate::service::SigningMaterial {
            key: SigningKey::from_der(&der)?,
            cert: Certificate::from_der(&record.cert_der)?,
        });
        self.signing_keys.lock().unwrap_or_else(|e| e.into_inner()).insert(record.id, material.clone());
        Ok(material)
    }

    /// The app's federation metadata XML: every certificate, the active one
    /// first, signed with the active key.
    pub async fn app_metadata(&self, tenant: Uuid, app_ref: &str) -> Result<String> {
        let (app, config) = self.app(tenant, app_ref).await?;
        let certs: Vec<Certificate> = self
            .store
            .list_signing_certs(app.id)
            .await?
            .iter()
            .map(|c| Certificate::from_der(&c.cert_der))
            .collect::<saml::Result<_>>()?;
        let m = self.signing_material(&app).await?;
        Ok(crate::metadata::federation_metadata(
            &self.endpoints(tenant),
            &certs,
            Some((&m.key, &m.cert)),
            config.name_id.format.uri(),
        )?)
    }

    /// Deletes an app (ID or name) with its identifiers, signing certificates and assignments.
    /// Its SAML endpoint answers "unknown app identifier" from the next request on.
    pub async fn delete_app(&self, tenant: Uuid, app_ref: &str) -> Result<App> {
        let (app, _) = self.app(tenant, app_ref).await?;
        self.store.delete_app(tenant, app.id).await?;
        Ok(app)
    }

    /// Removes the assignment of a user (UPN or ID) or group (ID or name) from an app; NotFound
    /// when it had none.
    pub async fn unassign(
        &self,
        tenant: Uuid,
        app_ref: &str,
        principal: &str,
        kind: PrincipalKind,
    ) -> Result<()> {
        let (app, _) = self.app(tenant, app_ref).await?;
        let (principal_id, label) = match kind {
            PrincipalKind::User => {
                let u = self.find_user(tenant, principal).await?;
                (u.id, format!("user {}", u.upn))
            }
            PrincipalKind::Group => {
                let g = self.find_group(tenant, principal).await?;
                (g.id, format!("group {}", g.name))
            }
        };
        if !self.store.unassign(app.id, principal_id).await? {
            return Err(IdpError::NotFound { what: format!("an assignment of {label} to app {}", app.name) });
        }
        Ok(())
    }
}

/// An app's configuration, read from its record.
pub fn config_of(app: &App) -> Result<AppConfig> {
    serde_json::from_str(&app.config_json)
        .map_err(|e| IdpError::Internal(format!("app {} has an unreadable configuration: {e}", app.id)))
}

/// The associated data a signing key is sealed with: the key cannot be moved to
/// another app or certificate record.
fn cert_aad(app: Uuid, cert: Uuid) -> String {
    format!("app/{app}/signing-cert/{cert}")
}
