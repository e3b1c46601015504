//! The editable admin pages: SAML providers (add from metadata, refresh, edit,
//! delete), group policies, available groups and their mappings, and the SP's own
//! endpoint overrides. Every change goes through the store API.
//!
//! Who may administer: a signed-in SAML user whose effective permissions include
//! [`PERMISSION_SETTINGS_WRITE`], or — only while the application has no provider
//! yet — the holder of the one-time setup token the operator got at start (kept
//! here only as its hash, compared in constant time). Every form carries a CSRF
//! token derived from that credential (the session token or the setup token, both
//! only in this browser's HttpOnly cookies); the setup form itself, before any
//! credential, uses a double-submit cookie.

use super::admin_pages as view;
use super::respond::{no_store, redirect};
use super::{holds, Site, PERMISSION_SETTINGS};
use crate::db::{AttributeNames, LocalUser, Policy, SamlUser, SsoBinding, WantSigned};
use crate::providers::{create_provider, refresh_provider, MetadataSource, ProviderSettings};
use crate::web::error::{SiteError, SiteResult};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use uuid::Uuid;
use web::cookies;
use web::page::{render, Layout};
use web::token::{constant_time_eq, random_hex, sha256_hex};
use zeroize::Zeroizing;

/// The permission to change the application's settings through the admin pages.
pub const PERMISSION_SETTINGS_WRITE: &str = "settings:write";
/// Holds the setup token in the browser that presented it (first setup only).
pub const SETUP_COOKIE: &str = "sp_setup";
/// The double-submit cookie of the setup form.
pub const SETUP_CSRF_COOKIE: &str = "sp_setup_csrf";

/// A new one-time setup token (256 random bits, hex). The caller prints it and
/// hands it to [`Site::with_setup_token`], which keeps only its hash.
pub fn new_setup_token() -> SiteResult<Zeroizing<String>> {
    Ok(Zeroizing::new(random_hex()?))
}

fn same(a: &str, b: &str) -> bool {
    constant_time_eq(a.as_bytes(), b.as_bytes())
}

/// Who administers in this request, and the CSRF token of their forms.
struct Admin {
    csrf: String,
    /// The signed-in SAML user; `None` for the holder of the setup token.
    user: Option<(SamlUser, LocalUser)>,
}

/// The fields of a posted form.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_string())
    }
    fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default()
    }
    /// A checkbox: present means on.
    fn on(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| !v.is_empty())
    }
    fn id(&self, name: &str) -> SiteResult<Uuid> {
        self.get(name)
            .and_then(|v| Uuid::parse_str(&v).ok())
            .ok_or_else(|| SiteError::Invalid(format!("the form field {name:?} must be an ID")))
    }
    /// A comma- or newline-separated list, trimmed, without empty items.
    fn list(&self, name: &str) -> Vec<String> {
        self.text(name).split([',', '\n']).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
    }
}

impl Site {
    /// Keeps the hash of the one-time setup token (valid while no provider exists).
    pub fn with_setup_token(self, token: &str) -> Self {
        *self.setup_token_hash.lock().unwrap_or_else(|p| p.into_inner()) = Some(sha256_hex(token));
        self
    }

    /// Whether `token` is the setup token and the application has no provider yet. Once a
    /// provider exists the token is forgotten, so deleting every provider does not revive it.
    async fn setup_token_valid(&self, token: &str) -> SiteResult<bool> {
        let expected = self.setup_token_hash.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(expected) = expected else { return Ok(false) };
        if !self.db.providers(self.app.id).await?.is_empty() {
            *self.setup_token_hash.lock().unwrap_or_else(|p| p.into_inner()) = None;
            return Ok(false);
        }
        Ok(same(&sha256_hex(token), &expected))
    }

    /// The administrator of this request and the CSRF token of their forms: a
    /// signed-in user with `settings:write`, else the holder of a still-valid setup token.
    async fn admin(&self, headers: &HeaderMap) -> SiteResult<Admin> {
        match self.current(headers).await {
            Ok((token, saml_user, local)) => {
                if holds(&saml_user, PERMISSION_SETTINGS_WRITE) {
                    return Ok(Admin {
                        csrf: web::csrf::session_token(&token),
                        user: Some((saml_user, local)),
                    });
                }
                Err(SiteError::Forbidden(PERMISSION_SETTINGS_WRITE.into()))
            }
            Err(SiteError::NotSignedIn) => match cookies::read(headers, SETUP_COOKIE) {
                Some(t) if self.setup_token_valid(t).await? => {
                    Ok(Admin { csrf: web::csrf::session_token(&format!("setup:{t}")), user: None })
                }
                Some(_) => Err(SiteError::SetupTokenInvalid),
                None => Err(SiteError::NotSignedIn),
            },
            Err(e) => Err(e),
        }
    }

    /// [`Site::admin`] for a form: the posted `csrf` must be the token of this credential.
    async fn admin_form(&self, headers: &HeaderMap, f: &Fields) -> SiteResult<Admin> {
        let admin = self.admin(headers).await?;
        match f.get(web::csrf::FIELD) {
            Some(given) if same(&given, &admin.csrf) => Ok(admin),
            _ => Err(SiteError::Csrf),
        }
    }

    /// The layout of an admin page: the admin pages, the overview when the administrator
    /// may see it, and who administers.
    fn admin_layout(&self, title: &str, current: &str, admin: &Admin) -> Layout {
        let mut layout = self.layout(title).wide().link("Home", "/", false);
        if admin.user.as_ref().is_some_and(|(s, _)| holds(s, PERMISSION_SETTINGS)) {
            layout = layout.link("Overview", "/admin", false);
        }
        for (label, href) in [
            ("SAML providers", "/admin/providers"),
            ("Group policies", "/admin/policies"),
            ("Available groups", "/admin/groups"),
            ("SP settings", "/admin/sp"),
        ] {
            layout = layout.link(label, href, href == current);
        }
        match &admin.user {
            Some((_, local)) => layout.signed_in(local.username.clone(), Some("/saml/logout".into())),
            None => layout.signed_in("First setup (setup token)", None),
        }
    }

    async fn setup_page(&self) -> SiteResult<Response> {
        let csrf = random_hex()?;
        let page = view::SetupPage { layout: self.layout("First setup"), csrf: &csrf };
        let mut resp = render(StatusCode::OK, &page);
        cookies::append(resp.headers_mut(), &self.cookies.strict(SETUP_CSRF_COOKIE, &csrf, None));
        Ok(resp)
    }

    async fn setup(&self, headers: &HeaderMap, f: Fields) -> SiteResult<Response> {
        if !web::csrf::double_submit_ok(
            cookies::read(headers, SETUP_CSRF_COOKIE),
            f.get(web::csrf::FIELD).as_deref(),
        ) {
            return Err(SiteError::Csrf);
        }
        let token = Zeroizing::new(f.text("token"));
        if !self.setup_token_valid(&token).await? {
            tracing::warn!(code = "SPW_SETUP_TOKEN_INVALID", "setup token refused");
            return Err(SiteError::SetupTokenInvalid);
        }
        tracing::info!("setup token accepted: first-setup administration until a provider exists");
        let mut resp = redirect("/admin/providers");
        cookies::append(resp.headers_mut(), &self.cookies.strict(SETUP_COOKIE, &token, None));
        Ok(resp)
    }

    async fn providers_page(&self, headers: &HeaderMap) -> SiteResult<Response> {
        let admin = self.admin(headers).await?;
        let providers = self.db.providers(self.app.id).await?;
        let policies = self.db.policies(self.app.id).await?;
        let providers = providers.into_iter().map(|p| view::ProviderView::new(p, &policies)).collect();
        let page = view::ProvidersPage {
            layout: self.admin_layout("SAML providers", "/admin/providers", &admin),
            providers,
            bindings: view::choices(&view::BINDINGS, "redirect"),
            csrf: &admin.csrf,
        };
        Ok(render(StatusCode::OK, &page))
    }

    async fn add_provider(&self, headers: &HeaderMap, f: Fields) -> SiteResult<Response> {
        self.admin_form(headers, &f).await?;
        let name = f.text("name");
        if name.is_empty() {
            return Err(SiteError::Invalid("give the provider a name".into()));
        }
        let source = metadata_source(&f)?.ok_or_else(|| {
            SiteError::Invalid("paste the IdP's metadata XML or give its http(s) URL".into())
        })?;
        let mut settings = ProviderSettings::new(name);
        settings.sso_binding = binding(&f.text("sso_binding"))?;
        settings.default_policy_id =
            self.db.policy_by_name(self.app.id, crate::db::GENERAL_MEMBERS).await?.map(|p| p.id);
        let p = create_provider(&self.db, self.app.id, &source, settings, self.clock.now().unix_timestamp())
            .await?;
        tracing::info!(provider = %p.name, idp = %p.idp_entity_id, "SAML provider added");
        Ok(redirect("/admin/providers"))
    }

    async fn refresh_provider(&self, headers: &HeaderMap, f: Fields) -> SiteResult<Response> {
        let admin = self.admin_form(headers, &f).await?;
        let p = self.own_provider(f.id("id")?).await?;
        let source = metadata_source(&f)?;
        let report = refresh_provider(&self.db, p.id, source.as_ref()).await?;
        tracing::info!(provider = %p.name, certificates_changed = report.certificates_changed, "metadata refreshed");
        let page = view::RefreshedPage {
            layout: self.admin_layout("Metadata refreshed", "", &admin),
            provider: &p.name,
            report: &report,
        };
        Ok(render(StatusCode::OK, &page))
    }

    async fn edit_provider(&self, headers: &HeaderMap, f: Fields) -> SiteResult<Response> {
        self.admin_form(headers, &f).await?;
        let mut p = self.own_provider(f.id("id")?).await?;
        let name = f.text("name");
        if name.is_empty() {
            return Err(SiteError::Invalid("the provider's name must not be empty".into()));
        }
        p.name = name;
        p.sso_binding = binding(&f.text("sso_binding"))?;
        p.sign_requests = f.on("sign_requests");
        p.want_signed = match f.text("want_signed").as_str() {
            "response" => WantSigned::Response,
            "assertion" => WantSigned::Assertion,
            "either" => WantSigned::Either,
            other => {
                return Err(SiteError::Invalid(format!(
                    "want signed {other:?}: choose response, assertion or either"
                )))
            }
        };
        p.allow_idp_initiated = f.on("allow_idp_initiated");
        p.waiting_room = f.on("waiting_room");
        p.email_domains = f.list("email_domains").into_iter().map(|d| d.to_lowercase()).collect();
        let defaults = AttributeNames::default();
        let attr = |name: &str, default: &str| {
            let v = f.text(name);
            if v.is_empty() {
                default.to_string()
            } else {
                v
            }
        };
        p.attributes = AttributeNames {
            username: attr("attr_username", &defaults.username),
            first_name: attr("attr_first_name", &defaults.first_name),
            last_name: attr("attr_last_name", &defaults.last_name),
            email: attr("attr_email", &defaults.email),
            groups: attr("attr_groups", &defaults.groups),
        };
        p.default_policy_id = match f.text("default_policy").as_str() {
            "" | "none" => None,
            id => Some(
                self.own_policy(Uuid::parse_str(id).map_err(|_| {
                    SiteError::Invalid("the default policy must be a policy of this application".into())
                })?)
                .await?
                .id,
            ),
        };
        self.db.update_provider(&p).await?;
        tracing::info!(provider = %p.name, "SAML provider settings changed");
        Ok(redirect("/admin/providers"))
    }

    async fn delete_provider(&self, headers: &HeaderMap, f: Fields) -> SiteResult<Response> {
        self.admin_form(headers, &f).await?;
        let p = self.own_provider(f.id("id")?).await?;
        self.db.delete_provider(p.id).await?;
        tracing::info!(provider = %p.name, "SAML provider deleted");
        Ok(redirect("/admin/providers"))
    }

    async fn own_provider(&self, id: Uuid) -> SiteResult<crate::db::Provider> {
        let p = self.db.provider(id).await?;
        if p.app_id != self.app.id {
            return Err(SiteError::ProviderUnknown(id.to_string()));
        }
        Ok(p)
    }

    async fn own_policy(&self, id: Uuid) -> SiteResult<Policy> {
        self.db
            .policies(self.app.id)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| SiteError::Invalid(format!("policy {id} is not one of this application's")))
    }

    async fn policies_page(&self, headers: &HeaderMap) -> SiteResult<Response> {
        let admin = self.admin(headers).await?;
        let policies = self.db.policies(self.app.id).await?;
        let page = view::PoliciesPage {
            layout: self.admin_layout("Group policies", "/admin/policies", &admin),
            policies: &policies,
            csrf: &admin.csrf,
        };
        Ok(render(StatusCode::OK, &page))
    }

    async fn create_policy(&self, headers: &HeaderMap, f: Fields) -> SiteResult<Response> {
        self.admin_form(headers, &f).await?;
        let name = f.text("name");
        if name.is_empty() {
            return Err(SiteError::Invalid("give the policy a name".into()));
        }
        let p = Policy { id: Uuid::new_v4(), app_id: self.app.id, name, permissions: f.list("permissions") };
        self.db.create_policy(&p).await?;
        tracing::info!(policy = %p.name, permissions = ?p.permissions, "policy created");
        Ok(redirect("/admin/policies"))
    }

    async fn edit_policy(&self, headers: &HeaderMap, f: Fields) -> SiteResult<Response> {
        self.admin_form(headers, &f).await?;
        let mut p = self.own_policy(f.id("id")?).await?;
        let name = f.text("name");
        if !name.is_empty() {
            p.name = name;
        }
        p.permissions = f.list("permissions");
        self.db.update_policy(&p).await?;
        tracing::info!(policy = %p.name, permissions = ?p.permissions, "policy changed");
        Ok(redirect("/admin/policies"))
    }

    async fn delete_policy(&self, headers: &HeaderMap, f: Fields) -> SiteResult<Response> {
        self.admin_form(headers, &f).await?;
        let p = self.own_policy(f.id("id")?).await?;
        self.db.delete_policy(p.id).await?;
        tracing::info!(policy = %p.name, "policy deleted");
        Ok(redirect("/admin/policies"))
    }

    async fn groups_page(&self, headers: &HeaderMap) -> SiteResult<Response> {
        let admin = self.admin(headers).await?;
        let mappings = self.db.group_policies(self.app.id).await?;
        let policies = self.db.policies(self.app.id).await?;
        let groups = self
            .db
            .groups(self.app.id)
            .await?
            .into_iter()
            .map(|(object_id, display_name)| view::GroupView {
                policies: mappings.iter().filter(|(g, _)| *g == object_id).map(|(_, p)| p.clone()).collect(),
                object_id,
                display_name,
            })
            .collect();
        let page = view::GroupsPage {
            layout: self.admin_layout("Available groups", "/admin/groups", &admin),
            groups,
            policies: &policies,
            csrf: &admin.csrf,
        };
        Ok(render(StatusCode::OK, &page))
    }

    async fn add_group(&self, headers: &HeaderMap, f: Fields) -> SiteResult<Response> {
        self.admin_form(headers, &f).await?;
        let object_id = f.text("object_id");
        if object_id.is_empty() || object_id.contains('\n') {
            return Err(SiteError::Invalid("give the IdP group's object ID (one line)".into()));
        }
        let display = match f.text("display_name") {
            d if d.is_empty() => object_id.clone(),
            d => d,
        };
        self.db.put_group(self.app.id, &object_id, &display).await?;
        tracing::info!(group = %object_id, "available group added");
        Ok(redirect("/admin/groups"))
    }

    async fn map_group(&self, headers: &HeaderMap, f: Fields, map: bool) -> SiteResult<Response> {
        self.admin_form(headers, &f).await?;
        let object_id = f.text("object_id");
        let policy = self.own_policy(f.id("policy")?).await?;
        if map {
            self.db.map_group(self.app.id, &object_id, policy.id).await?;
        } else {
            self.db.unmap_group(self.app.id, &object_id, policy.id).await?;
        }
        tracing::info!(group = %object_id, policy = %policy.name, map, "group mapping changed");
        Ok(redirect("/admin/groups"))
    }

    async fn delete_group(&self, headers: &HeaderMap, f: Fields) -> SiteResult<Response> {
        self.admin_form(headers, &f).await?;
        let object_id = f.text("object_id");
        self.db.delete_group(self.app.id, &object_id).await?;
        tracing::info!(group = %object_id, "available group removed");
        Ok(redirect("/admin/groups"))
    }

    async fn sp_page(&self, headers: &HeaderMap) -> SiteResult<Response> {
        let admin = self.admin(headers).await?;
        let (entity_override, acs_override) = self.endpoint_overrides();
        let (entity_id, acs_url) = (self.entity_id(), self.acs_url());
        let page = view::SpSettingsPage {
            layout: self.admin_layout("SP settings", "/admin/sp", &admin),
            entity_id: &entity_id,
            acs_url: &acs_url,
            entity_override: entity_override.as_deref().unwrap_or(""),
            acs_override: acs_override.as_deref().unwrap_or(""),
            base_url: &self.app.base_url,
            csrf: &admin.csrf,
        };
        Ok(render(StatusCode::OK, &page))
    }

    async fn save_sp(&self, headers: &HeaderMap, f: Fields) -> SiteResult<Response> {
        self.admin_form(headers, &f).await?;
        let entity_id = Some(f.text("entity_id")).filter(|s| !s.is_empty());
        let acs_url = Some(f.text("acs_url")).filter(|s| !s.is_empty());
        if let Some(acs) = &acs_url {
            if !(acs.starts_with("https://") || acs.starts_with("http://")) {
                return Err(SiteError::Invalid("the ACS URL must be an http(s) URL".into()));
            }
        }
        let mut app = self.db.app(self.app.id).await?;
        app.entity_id = entity_id.clone();
        app.acs_url = acs_url.clone();
        self.db.update_app(&app).await?;
        self.set_endpoint_overrides(entity_id, acs_url);
        tracing::info!(entity_id = %self.entity_id(), acs_url = %self.acs_url(), "SP endpoints changed");
        Ok(redirect("/admin/sp"))
    }

    async fn metadata_download(&self, headers: &HeaderMap) -> SiteResult<Response> {
        self.admin(headers).await?;
        let mut resp = self.metadata_xml().await.into_response();
        no_store(&mut resp);
        let h = resp.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
        h.insert(CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"sp-metadata.xml\""));
        Ok(resp)
    }
}

/// Pasted XML wins over a URL; neither is `None`.
fn metadata_source(f: &Fields) -> SiteResult<Option<MetadataSource>> {
    let xml = f.text("metadata_xml");
    let url = f.text("metadata_url");
    if !xml.is_empty() {
        return Ok(Some(MetadataSource::Text(xml)));
    }
    if url.is_empty() {
        return Ok(None);
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(SiteError::Invalid("the metadata URL must start with https:// or http://".into()));
    }
    Ok(Some(MetadataSource::Url(url)))
}

fn binding(s: &str) -> SiteResult<SsoBinding> {
    match s {
        "" | "redirect" => Ok(SsoBinding::Redirect),
        "post" => Ok(SsoBinding::Post),
        other => Err(SiteError::Invalid(format!("SSO binding {other:?}: choose post or redirect"))),
    }
}

type FormResult = Result<Form<Vec<(String, String)>>, FormRejection>;

fn fields(form: FormResult) -> SiteResult<Fields> {
    form.map(|Form(v)| Fields(v)).map_err(|e| SiteError::Invalid(format!("the form cannot be read ({e})")))
}

/// A POST handler: reads the form, runs `$method`, turns a failure into its page.
macro_rules! form_handler {
    ($name:ident, $step:literal, |$site:ident, $h:ident, $f:ident| $call:expr) => {
        async fn $name(State($site): State<Arc<Site>>, $h: HeaderMap, form: FormResult) -> Response {
            let result = match fields(form) {
                Ok($f) => $call.await,
                Err(e) => Err(e),
            };
            result.unwrap_or_else(|e| $site.refused($step, &e))
        }
    };
}

macro_rules! page_handler {
    ($name:ident, $step:literal, $method:ident) => {
        async fn $name(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
            site.$method(&headers).await.unwrap_or_else(|e| site.refused($step, &e))
        }
    };
}

page_handler!(providers_page, "admin-providers", providers_page);
page_handler!(policies_page, "admin-policies", policies_page);
page_handler!(groups_page, "admin-groups", groups_page);
page_handler!(sp_page, "admin-sp", sp_page);
page_handler!(metadata_download, "admin-sp-metadata", metadata_download);
form_handler!(setup, "admin-setup", |site, h, f| site.setup(&h, f));
form_handler!(add_provider, "admin-provider-add", |site, h, f| site.add_provider(&h, f));
form_handler!(refresh, "admin-provider-refresh", |site, h, f| site.refresh_provider(&h, f));
form_handler!(edit_provider, "admin-provider-edit", |site, h, f| site.edit_provider(&h, f));
form_handler!(delete_provider, "admin-provider-delete", |site, h, f| site.delete_provider(&h, f));
form_handler!(create_policy, "admin-policy-create", |site, h, f| site.create_policy(&h, f));
form_handler!(edit_policy, "admin-policy-edit", |site, h, f| site.edit_policy(&h, f));
form_handler!(delete_policy, "admin-policy-delete", |site, h, f| site.delete_policy(&h, f));
form_handler!(add_group, "admin-group-add", |site, h, f| site.add_group(&h, f));
form_handler!(map_group, "admin-group-map", |site, h, f| site.map_group(&h, f, true));
form_handler!(unmap_group, "admin-group-unmap", |site, h, f| site.map_group(&h, f, false));
form_handler!(delete_group, "admin-group-delete", |site, h, f| site.delete_group(&h, f));
form_handler!(save_sp, "admin-sp-save", |site, h, f| site.save_sp(&h, f));

async fn setup_page(State(site): State<Arc<Site>>) -> Response {
    site.setup_page().await.unwrap_or_else(|e| site.refused("admin-setup", &e))
}

/// The admin routes (merged into [`super::router`]).
pub(super) fn routes() -> Router<Arc<Site>> {
    Router::new()
        .route("/admin/setup", get(setup_page).post(setup))
        .route("/admin/providers", get(providers_page).post(add_provider))
        .route("/admin/providers/refresh", post(refresh))
        .route("/admin/providers/edit", post(edit_provider))
        .route("/admin/providers/delete", post(delete_provider))
        .route("/admin/policies", get(policies_page).post(create_policy))
        .route("/admin/policies/edit", post(edit_policy))
        .route("/admin/policies/delete", post(delete_policy))
        .route("/admin/groups", get(groups_page).post(add_group))
        .route("/admin/groups/map", post(map_group))
        .route("/admin/groups/unmap", post(unmap_group))
        .route("/admin/groups/delete", post(delete_group))
        .route("/admin/sp", get(sp_page).post(save_sp))
        .route("/admin/sp/metadata", get(metadata_download))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Fields {
        Fields(pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect())
    }

    #[test]
    fn pasted_xml_wins_and_only_http_urls_are_fetched() {
        let f = form(&[("metadata_xml", " <x/> "), ("metadata_url", "http://idp/m")]);
        assert!(matches!(metadata_source(&f), Ok(Some(MetadataSource::Text(t))) if t == "<x/>"));
        let f = form(&[("metadata_url", "http://idp/m")]);
        assert!(matches!(metadata_source(&f), Ok(Some(MetadataSource::Url(u))) if u == "http://idp/m"));
        let https = metadata_source(&form(&[("metadata_url", "https://idp/m")]));
        assert!(matches!(https, Ok(Some(MetadataSource::Url(u))) if u == "https://idp/m"));
        let file = metadata_source(&form(&[("metadata_url", "/etc/passwd")]));
        assert_eq!(file.map(|_| ()).map_err(|e| e.code()), Err("SPW_INVALID"), "no local files from a form");
        assert!(matches!(metadata_source(&form(&[])), Ok(None)));
    }

    #[test]
    fn lists_split_on_commas_and_lines_and_bindings_are_checked() {
        let f = form(&[("permissions", "a, b\nc,, ")]);
        assert_eq!(f.list("permissions"), ["a", "b", "c"]);
        assert!(matches!(binding("post"), Ok(SsoBinding::Post)));
        assert_eq!(binding("soap").map(|_| ()).map_err(|e| e.code()), Err("SPW_INVALID"));
    }
}
