//! The SP's web side as an axum [`Router`]: `/saml/login` (SP-initiated), `/saml/acs`
//! (HTTP-POST ACS: validation, one-time use in the database, JIT provisioning, policies, a
//! local session), `/saml/metadata`, discovery, single logout, a landing page showing the
//! signed-in user, the waiting room and the admin pages. Every page is an askama template on the
//! shared layout (`pages`, `admin_pages`); every failure is a page with its code and a log line
//! with the same code. Cookies, CSRF tokens, random tokens and the security headers come from
//! the shared `web` crate.

pub mod admin;
mod admin_pages;
#[cfg(test)]
mod corpus_tests;
pub mod error;
mod pages;
mod respond;
mod slo;
#[cfg(test)]
mod slo_tests;
mod waiting;

use crate::db::{LocalUser, Provider, SamlUser, SpApp, SpDb, SpSession, WantSigned};
use crate::login::{check_return_url, start_login, LoginStep, RequestSigner, SpEndpoints};
use crate::metadata::{sp_metadata_xml, SpDescription};
use crate::providers::trust;
use crate::provision::provision;
use crate::store_replay::StoreReplayCache;
use crate::{accept_response, decode_response_input, DecryptionKey, SpConfig};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
pub use error::{SiteError, SiteResult};
use respond::{no_store, post_form, redirect};
use saml::crypto::{Certificate, SigningKey};
use saml::Clock;
use serde::Deserialize;
use std::sync::Arc;
use store::seal::Sealer;
use time::{Duration, OffsetDateTime};
use web::cookies::{self, CookiePolicy};
use web::headers::SecurityHeadersLayer;
use web::page::render;
use web::token::{random_hex, sha256_hex};
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
    /// Secure exactly when the base URL is https.
    cookies: CookiePolicy,
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
        let cookies = CookiePolicy::for_base_url(&app.base_url);
        Ok(Site {
            db,
            signing,
            decryption,
            clock,
            allowed_return_origins,
            cookies,
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

    /// The browser-binding cookie's value, or a new one (with whether it must be set).
    fn browser_binding(&self, headers: &HeaderMap) -> SiteResult<(String, bool)> {
        Ok(match cookies::read(headers, BROWSER_COOKIE) {
            Some(v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => (v.to_string(), false),
            _ => (random_hex()?, true),
        })
    }

    /// Sets the browser-binding cookie. The ACS is reached by a cross-site POST from the IdP:
    /// over https it must be SameSite=None (with Secure) to come along; over plain http
    /// (development on one host) Lax is what browsers accept.
    fn set_browser_binding(&self, resp: &mut Response, value: &str) {
        cookies::append(resp.headers_mut(), &self.cookies.cross_site(BROWSER_COOKIE, value, None));
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
        let (browser, new_cookie) = self.browser_binding(headers)?;
        let signer = self.signing.as_ref().map(|(key, cert)| RequestSigner { key, cert });
        let (entity_id, acs_url) = (self.entity_id(), self.acs_url());
        let start = start_login(
            &self.db,
            &provider,
            SpEndpoints { entity_id: &entity_id, acs_url: &acs_url },
            &return_url,
            &sha256_hex(&browser),
            signer,
            self.clock.now(),
        )
        .await?;
        let mut resp = match start.step {
            LoginStep::Redirect(url) => redirect(&url),
            LoginStep::PostForm(html) => post_form(html),
        };
        if new_cookie {
            self.set_browser_binding(&mut resp, &browser);
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
                let ours = cookies::read(headers, BROWSER_COOKIE).map(sha256_hex);
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
            let page = pages::WaitingPage { layout: self.layout("Waiting room"), user: &user.local_user };
            return Ok(render(StatusCode::OK, &page));
        }
        let token = random_hex()?;
        let mut expires = now + SESSION_LIFETIME;
        if let Some(t) = login.session_not_on_or_after {
            expires = expires.min(t);
        }
        self.db
            .create_session(&SpSession {
                token_hash: sha256_hex(&token),
                saml_user_id: user.saml_user.id,
                session_index: login.session_index.clone(),
                expires_at: expires.unix_timestamp(),
            })
            .await?;
        tracing::info!(provider = %provider.name, user = %user.local_user.username,
            first_login = user.first_login, "SAML login accepted");
        let mut resp = redirect(&return_url);
        cookies::append(resp.headers_mut(), &self.cookies.lax(SESSION_COOKIE, &token, None));
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
                Some(p) => {
                    let href = format!(
                        "/saml/login?provider={}&return={}",
                        pages::q(&p.name),
                        pages::q(&return_url)
                    );
                    pages::Discovery::Found { name: p.name, href }
                }
                None => pages::Discovery::Unknown(domain),
            }
        };
        let page = pages::DiscoveryPage {
            layout: self.layout("Sign in"),
            app: &self.app.name,
            email: &email,
            ret: &return_url,
            found,
            local: self.local_sign_in_url.as_deref(),
        };
        Ok(render(StatusCode::OK, &page))
    }

    /// The signed-in user of this request (session token, SAML user, local user).
    async fn current(&self, headers: &HeaderMap) -> SiteResult<(String, SamlUser, LocalUser)> {
        let now = self.clock.now().unix_timestamp();
        let token = cookies::read(headers, SESSION_COOKIE).ok_or(SiteError::NotSignedIn)?.to_string();
        let session = self.db.session(&sha256_hex(&token), now).await?.ok_or(SiteError::NotSignedIn)?;
        let saml_user = self.db.saml_user_by_id(session.saml_user_id).await?;
        let local = self.db.local_user(saml_user.local_user_id).await?;
        Ok((token, saml_user, local))
    }

    /// Who is signed in on this request, for an application that embeds the site (the console):
    /// the local and SAML user, the IdP group object IDs of their last login, and the names of
    /// their effective group policies — the provider's default policy, the policies mapped to
    /// those groups, and the one an approved access request granted. A user still in the
    /// waiting room is not signed in (`NotSignedIn`).
    pub async fn signed_in(&self, headers: &HeaderMap) -> SiteResult<SignedIn> {
        let (_, saml_user, local_user) = self.current(headers).await?;
        if saml_user.waiting {
            return Err(SiteError::NotSignedIn);
        }
        let provider = self.db.provider(saml_user.provider_id).await?;
        let all = self.db.policies(self.app.id).await?;
        let mappings = self.db.group_policies(self.app.id).await?;
        let mut policies: Vec<String> = all
            .iter()
            .filter(|p| Some(p.id) == provider.default_policy_id || Some(p.id) == saml_user.granted_policy_id)
            .map(|p| p.name.clone())
            .collect();
        for (object_id, policy) in &mappings {
            if saml_user.groups.iter().any(|g| g == object_id) {
                policies.push(policy.name.clone());
            }
        }
        policies.sort();
        policies.dedup();
        let groups = saml_user.groups.clone();
        Ok(SignedIn { local_user, saml_user, policies, groups })
    }

    /// The signed-in user, who must hold `permission`, and the CSRF token of their forms.
    async fn authorized(
        &self,
        headers: &HeaderMap,
        permission: &str,
    ) -> SiteResult<(String, SamlUser, LocalUser)> {
        let (token, saml_user, local) = self.current(headers).await?;
        if !holds(&saml_user, permission) {
            return Err(SiteError::Forbidden(permission.into()));
        }
        Ok((web::csrf::session_token(&token), saml_user, local))
    }

    async fn landing(&self, headers: &HeaderMap) -> SiteResult<Response> {
        let providers = self.db.providers(self.app.id).await?;
        let (_, saml_user, local) = match self.current(headers).await {
            Ok(user) => user,
            Err(SiteError::NotSignedIn) => {
                let page = pages::SignedOutPage::new(self.layout("Welcome"), &self.app.name, &providers);
                return Ok(render(StatusCode::OK, &page));
            }
            Err(e) => return Err(e),
        };
        let provider = providers.iter().find(|p| p.id == saml_user.provider_id).map(|p| p.name.as_str());
        let page = pages::SignedInPage {
            layout: self.user_layout("Home", "/", &saml_user, &local),
            app: &self.app.name,
            provider,
            saml: &saml_user,
            user: &local,
            may_administer: holds(&saml_user, PERMISSION_SETTINGS),
        };
        Ok(render(StatusCode::OK, &page))
    }
}

/// A signed-in user as [`Site::signed_in`] finds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub local_user: LocalUser,
    pub saml_user: SamlUser,
    /// The names of the user's effective group policies, sorted.
    pub policies: Vec<String>,
    /// The IdP group object IDs of the last login.
    pub groups: Vec<String>,
}

/// Whether the user's effective permissions include `permission`.
fn holds(user: &SamlUser, permission: &str) -> bool {
    user.permissions.iter().any(|p| p == permission)
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

fn routes(site: Arc<Site>) -> Router {
    Router::new()
        .route("/", get(landing))
        .route("/login", get(discovery))
        .route("/saml/login", get(login))
        .route("/saml/acs", post(acs))
        .route("/saml/metadata", get(metadata))
        .route("/saml/logout", get(logout))
        .route("/saml/slo", get(slo))
        .merge(waiting::routes())
        .merge(admin::routes())
        .with_state(site)
}

/// The SAML endpoints alone — `/saml/login`, `/saml/acs`, `/saml/metadata`, `/saml/logout`,
/// `/saml/slo` — without the site's own pages (landing, discovery, waiting room, admin), for an
/// application that has its own pages and nests these under its base URL's path (the console
/// nests them under `/console`). No security headers: the host application adds its own.
pub fn saml_router(site: Arc<Site>) -> Router {
    Router::new()
        .route("/saml/login", get(login))
        .route("/saml/acs", post(acs))
        .route("/saml/metadata", get(metadata))
        .route("/saml/logout", get(logout))
        .route("/saml/slo", get(slo))
        .with_state(site)
}

/// The router of `site`, with the security headers on every response. It does not serve the
/// stylesheet and script the pages link (`/assets/…`): merged next to another service's router
/// (which serves them, as the IdP's does), two copies of those routes would clash. An
/// application that serves the SP alone uses [`router_with_assets`].
pub fn router(site: Arc<Site>) -> Router {
    let headers = SecurityHeadersLayer::for_base_url(&site.app.base_url);
    routes(site).layer(headers)
}

/// [`router`] plus the shared stylesheet and script: for an application that serves the SP
/// site alone (`portcullis sp-demo`).
pub fn router_with_assets(site: Arc<Site>) -> Router {
    let headers = SecurityHeadersLayer::for_base_url(&site.app.base_url);
    routes(site).merge(web::page::assets()).layer(headers)
}

async fn landing(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    site.landing(&headers).await.unwrap_or_else(|e| site.refused("", &e))
}

async fn login(State(site): State<Arc<Site>>, headers: HeaderMap, Query(q): Query<LoginQuery>) -> Response {
    site.login(&headers, q).await.unwrap_or_else(|e| site.refused("login", &e))
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
        Ok(form) => site.acs(&headers, form).await.unwrap_or_else(|e| site.refused("acs", &e)),
        Err(e) => site.refused("acs", &e),
    }
}

async fn discovery(State(site): State<Arc<Site>>, Query(q): Query<DiscoveryQuery>) -> Response {
    site.discovery(q).await.unwrap_or_else(|e| site.refused("discovery", &e))
}

async fn logout(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    site.logout(&headers).await.unwrap_or_else(|e| site.refused("logout", &e))
}

async fn slo(State(site): State<Arc<Site>>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let query = uri.query().unwrap_or("");
    site.slo(&headers, query).await.unwrap_or_else(|e| site.refused("slo", &e))
}

async fn metadata(State(site): State<Arc<Site>>) -> Response {
    let mut resp = site.metadata_xml().await.into_response();
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
    resp
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
