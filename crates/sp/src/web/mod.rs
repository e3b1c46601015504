//! The SP's web side as an axum [`Router`]: `/saml/login` (SP-initiated),
//! `/saml/acs` (HTTP-POST ACS: validation, one-time use in the store, JIT
//! provisioning, policies, a local session), `/saml/metadata`, and a small
//! signed-in landing page. Every ACS failure is a page with its code, and a log
//! line with the same code.

pub mod admin;
mod admin_pages;
#[cfg(test)]
mod corpus_tests;
pub mod error;
mod pages;
mod slo;
#[cfg(test)]
mod slo_tests;

use crate::db::SpDb;
use crate::db::{AccessRequest, LocalUser, Provider, RequestStatus, SamlUser, SpApp, SpSession, WantSigned};
use crate::login::{check_return_url, start_login, LoginStep, RequestSigner, SpEndpoints};
use crate::metadata::{sp_metadata_xml, SpDescription};
use crate::providers::trust;
use crate::provision::provision;
use crate::store_replay::StoreReplayCache;
use crate::{accept_response, decode_response_input, DecryptionKey, SpConfig};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
pub use error::{SiteError, SiteResult};
use saml::crypto::{Certificate, SigningKey};
use saml::Clock;
use serde::Deserialize;
use std::sync::Arc;
use store::seal::Sealer;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// The browser-binding cookie: ties an outstanding AuthnRequest to the browser that started it.
pub const BROWSER_COOKIE: &str = "sp_browser";
/// The local session cookie.
pub const SESSION_COOKIE: &str = "sp_session";
/// The permission to file a "new user" access request for a user in the waiting room.
pub const PERMISSION_REQUEST: &str = "users:request";
/// The permission to see the application's settings and its SAML users.
pub const PERMISSION_SETTINGS: &str = "settings:view";
/// The permission to approve or reject access requests.
pub const PERMISSION_APPROVE: &str = "users:approve";
/// How long a local session lasts at most (the IdP's SessionNotOnOrAfter can shorten it).
pub const SESSION_LIFETIME: Duration = Duration::hours(8);

/// The AAD a sealed SP key of `app` is bound to (`use` is `signing` or `encryption`).
pub fn key_aad(app: uuid::Uuid, use_: &str) -> String {
    format!("sp/app/{app}/{use_}")
}

/// Gives the application a signing and an encryption key (RSA-2048, self-signed
/// certificates for 3 years), sealed, unless it has them.
pub async fn ensure_keys(db: &SpDb, app: &mut SpApp, sealer: &Sealer, now: OffsetDateTime) -> SiteResult<()> {
    let mut changed = false;
    for use_ in ["signing", "encryption"] {
        let (sealed, cert) = match use_ {
            "signing" => (&mut app.signing_key_sealed, &mut app.signing_cert),
            _ => (&mut app.encryption_key_sealed, &mut app.encryption_cert),
        };
        if sealed.is_some() && cert.is_some() {
            continue;
        }
        let key = SigningKey::generate(2048)?;
        let c = Certificate::self_signed(&key, &format!("{} SP {use_}", app.name), now, 3 * 365)?;
        *sealed = Some(sealer.seal(key_aad(app.id, use_).as_bytes(), key.pkcs8_der())?);
        *cert = Some(c.to_pem());
        changed = true;
    }
    if changed {
        db.update_app(app).await?;
    }
    Ok(())
}

/// One application's SP site.
pub struct Site {
    db: SpDb,
    app: SpApp,
    signing: Option<(SigningKey, Certificate)>,
    /// PKCS#8 of the decryption key (loaded per Response: `DecryptionKey` is not Clone).
    decryption: Option<(Zeroizing<Vec<u8>>, Certificate)>,
    clock: Arc<dyn Clock>,
    allowed_return_origins: Vec<String>,
    secure_cookies: bool,
    /// Offered on the discovery page when no provider serves the e-mail's domain.
    local_sign_in_url: Option<String>,
    /// SHA-256 of the one-time setup token (see `admin`); dropped once a provider exists.
    setup_token_hash: std::sync::Mutex<Option<String>>,
    /// The entity ID and ACS URL overrides, changed at run time by the admin pages.
    overrides: std::sync::RwLock<(Option<String>, Option<String>)>,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site").field("app", &self.app).finish_non_exhaustive()
    }
}

impl Site {
    /// Loads application `app` (its keys opened with `sealer`). Return URLs may
    /// point at this site or at `allowed_return_origins`.
    pub async fn load(
        db: SpDb,
        app: uuid::Uuid,
        sealer: Option<&Sealer>,
        clock: Arc<dyn Clock>,
        allowed_return_origins: Vec<String>,
    ) -> SiteResult<Site> {
        let app = db.app(app).await?;
        let open = |use_: &str, sealed: &Option<Vec<u8>>, cert: &Option<String>| -> SiteResult<_> {
            match (sealed, cert, sealer) {
                (Some(sealed), Some(cert), Some(sealer)) => {
                    let der = sealer.open(key_aad(app.id, use_).as_bytes(), sealed)?;
                    let cert = Certificate::load(cert.as_bytes())?;
                    Ok(Some((der, cert)))
                }
                (Some(_), _, None) => Err(SiteError::KeyUnusable(format!(
                    "the {use_} key is sealed and no sealer was given: open the site with the data directory's key"
                ))),
                _ => Ok(None),
            }
        };
        let signing = match open("signing", &app.signing_key_sealed, &app.signing_cert)? {
            Some((der, cert)) => {
                Some((SigningKey::load(&der).map_err(|e| SiteError::KeyUnusable(e.to_string()))?, cert))
            }
            None => None,
        };
        let decryption = open("encryption", &app.encryption_key_sealed, &app.encryption_cert)?;
        let secure_cookies = app.base_url.starts_with("https://");
        Ok(Site {
            db,
            signing,
            decryption,
            clock,
            allowed_return_origins,
            secure_cookies,
            local_sign_in_url: None,
            setup_token_hash: std::sync::Mutex::new(None),
            overrides: std::sync::RwLock::new((app.entity_id.clone(), app.acs_url.clone())),
            app,
        })
    }

    /// Where users whose e-mail domain no provider serves can sign in locally.
    pub fn with_local_sign_in(mut self, url: Option<String>) -> Self {
        self.local_sign_in_url = url;
        self
    }

    pub fn app(&self) -> &SpApp {
        &self.app
    }

    /// The SP entity ID: the override, else `{base_url}/saml/metadata`.
    pub fn entity_id(&self) -> String {
        self.endpoint_overrides().0.unwrap_or_else(|| format!("{}/saml/metadata", self.app.base_url))
    }

    /// The ACS URL: the override, else `{base_url}/saml/acs`.
    pub fn acs_url(&self) -> String {
        self.endpoint_overrides().1.unwrap_or_else(|| format!("{}/saml/acs", self.app.base_url))
    }

    /// The (entity ID, ACS URL) overrides now in force.
    pub fn endpoint_overrides(&self) -> (Option<String>, Option<String>) {
        self.overrides.read().map(|o| o.clone()).unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    fn set_endpoint_overrides(&self, entity_id: Option<String>, acs_url: Option<String>) {
        let mut o = self.overrides.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        *o = (entity_id, acs_url);
    }

    /// The SP metadata XML. `AuthnRequestsSigned` says whether a provider signs its requests
    /// (the signing certificate is listed either way: logout messages are signed with it).
    pub async fn metadata_xml(&self) -> String {
        let signs = match self.db.providers(self.app.id).await {
            Ok(providers) => providers.iter().any(|p| p.sign_requests),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the providers; the metadata says requests are signed");
                true
            }
        };
        sp_metadata_xml(&SpDescription {
            entity_id: self.entity_id(),
            acs_url: self.acs_url(),
            slo_url: Some(self.slo_url()),
            authn_requests_signed: signs && self.signing.is_some(),
            signing_cert: self.signing.as_ref().map(|(_, c)| c.clone()),
            encryption_cert: self.decryption.as_ref().map(|(_, c)| c.clone()),
            want_assertions_signed: true,
        })
    }

    fn cookie(&self, name: &str, value: &str, same_site: &str) -> String {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}{secure}")
    }

    async fn provider_for_login(&self, name: Option<&str>) -> SiteResult<Provider> {
        match name.filter(|n| !n.is_empty()) {
            Some(n) => self
                .db
                .provider_by_name(self.app.id, n)
                .await?
                .ok_or_else(|| SiteError::ProviderUnknown(n.into())),
            None => {
                let mut all = self.db.providers(self.app.id).await?;
                match all.len() {
                    1 => Ok(all.remove(0)),
                    _ => Err(SiteError::ProviderUnknown(String::new())),
                }
            }
        }
    }

    async fn login(&self, headers: &HeaderMap, q: LoginQuery) -> SiteResult<Response> {
        let return_url = check_return_url(
            q.r#return.as_deref().unwrap_or(""),
            &self.app.base_url,
            &self.allowed_return_origins,
        )?;
        let provider = self.provider_for_login(q.provider.as_deref()).await?;
        let (browser, new_cookie) = match cookie_value(headers, BROWSER_COOKIE) {
            Some(v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => (v, false),
            _ => (random_hex()?, true),
        };
        let signer = self.signing.as_ref().map(|(key, cert)| RequestSigner { key, cert });
        let (entity_id, acs_url) = (self.entity_id(), self.acs_url());
        let start = start_login(
            &self.db,
            &provider,
            SpEndpoints { entity_id: &entity_id, acs_url: &acs_url },
            &return_url,
            &hash(&browser),
            signer,
            self.clock.now(),
        )
        .await?;
        // The ACS is reached by a cross-site POST from the IdP: over https the binding cookie
        // must be SameSite=None (with Secure) to come along; over plain http (development on one
        // host) Lax is what browsers accept.
        let same_site = if self.secure_cookies { "None" } else { "Lax" };
        let mut resp = match start.step {
            LoginStep::Redirect(url) => redirect(&url),
            LoginStep::PostForm(html) => Html(html).into_response(),
        };
        if new_cookie {
            set_cookie(&mut resp, &self.cookie(BROWSER_COOKIE, &browser, same_site));
        }
        no_store(&mut resp);
        Ok(resp)
    }

    async fn acs(&self, headers: &HeaderMap, form: AcsForm) -> SiteResult<Response> {
        let posted = form.saml_response.filter(|s| !s.is_empty()).ok_or(SiteError::FormMissingResponse)?;
        let xml = decode_response_input(posted.as_bytes())?;
        let now = self.clock.now();
        let pending = match form.relay_state.as_deref().filter(|r| !r.is_empty()) {
            Some(relay) => self.db.take_request(relay, now.unix_timestamp()).await?,
            None => None,
        };
        let (provider, request_id, return_url) = match pending {
            Some(req) => {
                let ours = cookie_value(headers, BROWSER_COOKIE).map(|c| hash(&c));
                if ours.as_deref() != Some(req.browser.as_str()) {
                    return Err(SiteError::BrowserMismatch);
                }
                (self.db.provider(req.provider_id).await?, Some(req.request_id), req.return_url)
            }
            // No request of ours is outstanding: IdP-initiated (or a replay of a request already
            // answered). The Issuer only picks which provider's keys to verify with; validation
            // then checks it. An unsolicited login always lands on "/" (RelayState is not a URL).
            None => {
                let issuer = peek_issuer(&xml)?;
                let provider = self
                    .db
                    .provider_by_entity_id(self.app.id, &issuer)
                    .await?
                    .ok_or(SiteError::IssuerUnknown(issuer))?;
                (provider, None, "/".to_string())
            }
        };
        let mut cfg = SpConfig::new(self.entity_id(), self.acs_url(), trust(&provider)?);
        cfg.allow_unsolicited = provider.allow_idp_initiated;
        cfg.allow_sha1 = provider.allow_sha1;
        cfg.skew = Duration::seconds(provider.skew_seconds.max(0));
        cfg.want = match provider.want_signed {
            WantSigned::Either => crate::Want::Either,
            WantSigned::Response => crate::Want::SignedResponse,
            WantSigned::Assertion => crate::Want::SignedAssertion,
        };
        if let Some((der, _)) = &self.decryption {
            cfg.decryption_key = Some(DecryptionKey::load(der)?);
        }
        let cache = StoreReplayCache::new(self.db.clone());
        let login = accept_response(&xml, &cfg, request_id.as_deref(), self.clock.as_ref(), &cache).await?;
        let user = provision(&self.db, &provider, &login, now.unix_timestamp()).await?;
        if user.saml_user.waiting {
            tracing::info!(provider = %provider.name, user = %user.local_user.username, "SAML user in the waiting room");
            let mut resp = Html(pages::waiting(&self.app.name, &user.local_user)).into_response();
            no_store(&mut resp);
            return Ok(resp);
        }
        let token = random_hex()?;
        let mut expires = now + SESSION_LIFETIME;
        if let Some(t) = login.session_not_on_or_after {
            expires = expires.min(t);
        }
        self.db
            .create_session(&SpSession {
                token_hash: hash(&token),
                saml_user_id: user.saml_user.id,
                session_index: login.session_index.clone(),
                expires_at: expires.unix_timestamp(),
            })
            .await?;
        tracing::info!(provider = %provider.name, user = %user.local_user.username,
            first_login = user.first_login, "SAML login accepted");
        let mut resp = redirect(&return_url);
        set_cookie(&mut resp, &self.cookie(SESSION_COOKIE, &token, "Lax"));
        Ok(resp)
    }

    /// The sign-on page: asks for an e-mail address, finds the provider that serves
    /// its domain and offers "Log in with <provider>"; an unknown domain gets a clear
    /// message (and local sign-in when configured).
    async fn discovery(&self, q: DiscoveryQuery) -> SiteResult<Response> {
        let return_url = check_return_url(
            q.r#return.as_deref().unwrap_or(""),
            &self.app.base_url,
            &self.allowed_return_origins,
        )?;
        let email = q.email.unwrap_or_default().trim().to_string();
        let found = if email.is_empty() {
            pages::Discovery::Ask
        } else {
            let domain = email.rsplit_once('@').map(|(_, d)| d.trim().to_lowercase()).unwrap_or_default();
            let providers = self.db.providers(self.app.id).await?;
            match providers.into_iter().find(|p| !domain.is_empty() && p.email_domains.contains(&domain)) {
                Some(p) => pages::Discovery::Found(p.name),
                None => pages::Discovery::Unknown(domain),
            }
        };
        let html =
            pages::discovery(&self.app.name, &email, &return_url, found, self.local_sign_in_url.as_deref());
        Ok(Html(html).into_response())
    }

    /// The signed-in user of this request (session token, SAML user, local user).
    async fn current(&self, headers: &HeaderMap) -> SiteResult<(String, SamlUser, LocalUser)> {
        let now = self.clock.now().unix_timestamp();
        let token = cookie_value(headers, SESSION_COOKIE).ok_or(SiteError::NotSignedIn)?;
        let session = self.db.session(&hash(&token), now).await?.ok_or(SiteError::NotSignedIn)?;
        let saml_user = self.db.saml_user_by_id(session.saml_user_id).await?;
        let local = self.db.local_user(saml_user.local_user_id).await?;
        Ok((token, saml_user, local))
    }

    /// The signed-in user, who must hold `permission`, and the CSRF token of their forms.
    async fn authorized(
        &self,
        headers: &HeaderMap,
        permission: &str,
    ) -> SiteResult<(String, SamlUser, LocalUser)> {
        let (token, saml_user, local) = self.current(headers).await?;
        if !saml_user.permissions.iter().any(|p| p == permission) {
            return Err(SiteError::Forbidden(permission.into()));
        }
        Ok((csrf_token(&token), saml_user, local))
    }

    /// The settings page: SP endpoints, providers, policies, group mappings and the
    /// SAML users (who appear only after their first successful login).
    async fn settings(&self, headers: &HeaderMap) -> SiteResult<Response> {
        self.authorized(headers, PERMISSION_SETTINGS).await?;
        let view = pages::SettingsView {
            entity_id: self.entity_id(),
            acs_url: self.acs_url(),
            slo_url: self.slo_url(),
            providers: self.db.providers(self.app.id).await?,
            policies: self.db.policies(self.app.id).await?,
            mappings: self.db.group_policies(self.app.id).await?,
            users: self.db.saml_users(self.app.id).await?,
        };
        let mut resp = Html(pages::settings(&self.app.name, &view)).into_response();
        no_store(&mut resp);
        Ok(resp)
    }

    async fn waiting_room(&self, headers: &HeaderMap) -> SiteResult<Response> {
        let (csrf, _, _) = self.authorized(headers, PERMISSION_REQUEST).await?;
        let users: Vec<_> =
            self.db.saml_users(self.app.id).await?.into_iter().filter(|(s, _)| s.waiting).collect();
        let policies = self.db.policies(self.app.id).await?;
        Ok(Html(pages::waiting_room(&self.app.name, &users, &policies, &csrf)).into_response())
    }

    async fn request_access(&self, headers: &HeaderMap, form: Vec<(String, String)>) -> SiteResult<Response> {
        let (csrf, requester, _) = self.authorized(headers, PERMISSION_REQUEST).await?;
        let field = |name: &str| form.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_string());
        if field("csrf").as_deref() != Some(csrf.as_str()) {
            return Err(SiteError::Csrf);
        }
        let user = field("user")
            .and_then(|u| uuid::Uuid::parse_str(&u).ok())
            .ok_or_else(|| SiteError::Invalid("the request names no user".into()))?;
        let subject = self.db.saml_user_by_id(user).await?;
        let provider = self.db.provider(subject.provider_id).await?;
        if provider.app_id != self.app.id {
            return Err(SiteError::Invalid("the user belongs to another application".into()));
        }
        let policy_name = field("policy").unwrap_or_default();
        let policy =
            self.db.policy_by_name(self.app.id, &policy_name).await?.ok_or_else(|| {
                SiteError::Invalid(format!("no access level (policy) named {policy_name:?}"))
            })?;
        let sites: Vec<String> = field("sites")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let request = AccessRequest {
            id: uuid::Uuid::new_v4(),
            app_id: self.app.id,
            saml_user_id: subject.id,
            requested_by: requester.id,
            policy_id: policy.id,
            sites,
            status: RequestStatus::Pending,
            created_at: self.clock.now().unix_timestamp(),
            decided_by: None,
            decided_at: None,
        };
        self.db.create_access_request(&request).await?;
        tracing::info!(request = %request.id, user = %subject.id, policy = %policy.name, "access request filed");
        Ok(redirect("/admin/waiting-room"))
    }

    async fn access_requests(&self, headers: &HeaderMap) -> SiteResult<Response> {
        let (csrf, _, _) = self.authorized(headers, PERMISSION_APPROVE).await?;
        let policies = self.db.policies(self.app.id).await?;
        let users = self.db.saml_users(self.app.id).await?;
        let rows = self
            .db
            .access_requests(self.app.id, Some(RequestStatus::Pending))
            .await?
            .into_iter()
            .map(|r| {
                let user =
                    users.iter().find(|(s, _)| s.id == r.saml_user_id).map(|(_, u)| u.username.clone());
                let policy = policies.iter().find(|p| p.id == r.policy_id).map(|p| p.name.clone());
                (r, user.unwrap_or_default(), policy.unwrap_or_default())
            })
            .collect::<Vec<_>>();
        Ok(Html(pages::access_requests(&self.app.name, &rows, &csrf)).into_response())
    }

    async fn decide(&self, headers: &HeaderMap, form: Vec<(String, String)>) -> SiteResult<Response> {
        let (csrf, admin, _) = self.authorized(headers, PERMISSION_APPROVE).await?;
        let field = |name: &str| form.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_string());
        if field("csrf").as_deref() != Some(csrf.as_str()) {
            return Err(SiteError::Csrf);
        }
        let id = field("id")
            .and_then(|u| uuid::Uuid::parse_str(&u).ok())
            .ok_or_else(|| SiteError::Invalid("the decision names no request".into()))?;
        let approve = match field("decision").as_deref() {
            Some("approve") => true,
            Some("reject") => false,
            _ => return Err(SiteError::Invalid("the decision must be approve or reject".into())),
        };
        let now = self.clock.now().unix_timestamp();
        // Only this application's requests.
        let mine = self.db.access_requests(self.app.id, None).await?.into_iter().any(|r| r.id == id);
        if !mine {
            return Err(SiteError::Invalid(format!("access request {id} is not one of this application's")));
        }
        let decided = self.db.decide_access_request(id, approve, admin.id, now).await?;
        let user = self.db.saml_user_by_id(decided.saml_user_id).await?;
        let local = self.db.local_user(user.local_user_id).await?;
        let verdict = if approve { "approved" } else { "rejected" };
        let body = if approve {
            let policy = self.db.policies(self.app.id).await?.into_iter().find(|p| p.id == decided.policy_id);
            format!(
                "Hello {},\n\nYour access request for {} was approved: access level {}, sites {}.\n\
                 Sign in again to use it: {}/\n",
                local.first_name,
                self.app.name,
                policy.map(|p| p.name).unwrap_or_default(),
                decided.sites.join(", "),
                self.app.base_url
            )
        } else {
            format!(
                "Hello {},\n\nYour access request for {} was rejected. Ask your administrator if you \
                 think this is a mistake.\n",
                local.first_name, self.app.name
            )
        };
        if !local.email.is_empty() {
            self.db
                .store()
                .enqueue_mail(&store::model::Mail {
                    id: uuid::Uuid::new_v4(),
                    created_at: now,
                    recipient: local.email.clone(),
                    subject: format!("Your access request for {} was {verdict}", self.app.name),
                    body,
                    dedup_key: Some(format!("sp/access-request/{id}")),
                    sent_at: None,
                    attempts: 0,
                    last_error: None,
                })
                .await?;
        }
        tracing::info!(request = %id, user = %local.username, verdict, "access request decided");
        Ok(redirect("/admin/access-requests"))
    }

    async fn landing(&self, headers: &HeaderMap) -> SiteResult<Response> {
        let providers = self.db.providers(self.app.id).await?;
        let now = self.clock.now().unix_timestamp();
        let session = match cookie_value(headers, SESSION_COOKIE) {
            Some(token) => self.db.session(&hash(&token), now).await?,
            None => None,
        };
        let Some(session) = session else {
            return Ok(Html(pages::signed_out(&self.app.name, &providers)).into_response());
        };
        let saml_user = self.db.saml_user_by_id(session.saml_user_id).await?;
        let local = self.db.local_user(saml_user.local_user_id).await?;
        let provider = providers.iter().find(|p| p.id == saml_user.provider_id);
        let mut resp = Html(pages::signed_in(&self.app.name, provider, &saml_user, &local)).into_response();
        no_store(&mut resp);
        Ok(resp)
    }
}

#[derive(Debug, Deserialize)]
struct DiscoveryQuery {
    email: Option<String>,
    r#return: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    provider: Option<String>,
    r#return: Option<String>,
}

#[derive(Debug)]
struct AcsForm {
    saml_response: Option<String>,
    relay_state: Option<String>,
}

impl AcsForm {
    /// The POST binding's two fields; either given twice is refused (which one would count?).
    fn from_fields(fields: Vec<(String, String)>) -> SiteResult<AcsForm> {
        let mut form = AcsForm { saml_response: None, relay_state: None };
        for (name, value) in fields {
            let slot = match name.as_str() {
                "SAMLResponse" => &mut form.saml_response,
                "RelayState" => &mut form.relay_state,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(SiteError::Invalid(format!("the ACS form carries {name} more than once")));
            }
        }
        Ok(form)
    }
}

/// The router of `site`.
pub fn router(site: Arc<Site>) -> Router {
    Router::new()
        .route("/", get(landing))
        .route("/login", get(discovery))
        .route("/saml/login", get(login))
        .route("/saml/acs", post(acs))
        .route("/saml/metadata", get(metadata))
        .route("/saml/logout", get(logout))
        .route("/saml/slo", get(slo))
        .route("/admin", get(settings))
        .route("/admin/waiting-room", get(waiting_room))
        .route("/admin/access-requests", get(access_requests).post(request_access))
        .route("/admin/access-requests/decide", post(decide))
        .merge(admin::routes())
        .with_state(site)
}

async fn landing(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    site.landing(&headers).await.unwrap_or_else(|e| error_page("", &e))
}

async fn login(State(site): State<Arc<Site>>, headers: HeaderMap, Query(q): Query<LoginQuery>) -> Response {
    site.login(&headers, q).await.unwrap_or_else(|e| error_page("login", &e))
}

async fn acs(
    State(site): State<Arc<Site>>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(fields)) => AcsForm::from_fields(fields),
        Err(e) => Err(SiteError::Invalid(format!("the ACS form cannot be read ({e})"))),
    };
    match form {
        Ok(form) => site.acs(&headers, form).await.unwrap_or_else(|e| error_page("acs", &e)),
        Err(e) => error_page("acs", &e),
    }
}

async fn discovery(State(site): State<Arc<Site>>, Query(q): Query<DiscoveryQuery>) -> Response {
    site.discovery(q).await.unwrap_or_else(|e| error_page("discovery", &e))
}

async fn logout(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    site.logout(&headers).await.unwrap_or_else(|e| error_page("logout", &e))
}

async fn slo(State(site): State<Arc<Site>>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let query = uri.query().unwrap_or("");
    site.slo(&headers, query).await.unwrap_or_else(|e| error_page("slo", &e))
}

async fn settings(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    site.settings(&headers).await.unwrap_or_else(|e| error_page("settings", &e))
}

async fn waiting_room(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    site.waiting_room(&headers).await.unwrap_or_else(|e| error_page("waiting-room", &e))
}

async fn access_requests(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    site.access_requests(&headers).await.unwrap_or_else(|e| error_page("access-requests", &e))
}

async fn request_access(
    State(site): State<Arc<Site>>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let result = match form {
        Ok(Form(fields)) => site.request_access(&headers, fields).await,
        Err(e) => Err(SiteError::Invalid(format!("the form cannot be read ({e})"))),
    };
    result.unwrap_or_else(|e| error_page("request-access", &e))
}

async fn decide(
    State(site): State<Arc<Site>>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let result = match form {
        Ok(Form(fields)) => site.decide(&headers, fields).await,
        Err(e) => Err(SiteError::Invalid(format!("the form cannot be read ({e})"))),
    };
    result.unwrap_or_else(|e| error_page("decide", &e))
}

async fn metadata(State(site): State<Arc<Site>>) -> Response {
    let mut resp = site.metadata_xml().await.into_response();
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
    resp
}

/// The page of a failure: its code and message; logged with the same code.
fn error_page(step: &str, e: &SiteError) -> Response {
    let status = match e {
        SiteError::Store(store::StoreError::Database(_) | store::StoreError::Sealed(_)) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        SiteError::FormMissingResponse
        | SiteError::ReturnUrlRefused(_)
        | SiteError::ProviderUnknown(_)
        | SiteError::Invalid(_) => StatusCode::BAD_REQUEST,
        // A duplicate name on an admin page (another provider or policy has it).
        SiteError::Store(store::StoreError::Conflict { .. }) => StatusCode::CONFLICT,
        SiteError::NotSignedIn => StatusCode::UNAUTHORIZED,
        SiteError::Forbidden(_) => StatusCode::FORBIDDEN,
        _ => StatusCode::FORBIDDEN,
    };
    tracing::warn!(step, code = e.code(), error = %e, "SP request refused");
    let mut resp = (status, Html(pages::error(e.code(), &e.to_string()))).into_response();
    no_store(&mut resp);
    resp
}

fn redirect(url: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(url) {
        resp.headers_mut().insert(LOCATION, v);
    }
    resp
}

fn set_cookie(resp: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

fn no_store(resp: &mut Response) {
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The value of cookie `name` in the request.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
}

/// 256 random bits, hex.
fn random_hex() -> SiteResult<String> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| SiteError::KeyUnusable("no randomness available".into()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The CSRF token of a session's forms: derived from the session token, which
/// only this browser holds (HttpOnly), so another site cannot know it.
fn csrf_token(session_token: &str) -> String {
    hash(&format!("csrf:{session_token}"))
}

/// SHA-256 hex: only hashes of cookie values are stored (a pending request's
/// `browser` is this of the browser-binding cookie).
pub fn hash(value: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The Issuer of a Response, read without trusting it: only to choose the
/// provider whose keys then verify it.
fn peek_issuer(xml: &str) -> SiteResult<String> {
    let doc = saml::xml::parse(xml, &saml::xml::Limits::MESSAGE)?;
    let root = doc.root_element();
    let issuer = saml::xml::child(root, saml::xml::NS_SAML, "Issuer")
        .or_else(|| {
            root.children()
                .filter(|n| n.is_element())
                .find(|n| n.tag_name().name() == "Assertion")
                .and_then(|a| saml::xml::child(a, saml::xml::NS_SAML, "Issuer"))
        })
        .and_then(|n| n.text())
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    Ok(issuer)
}
