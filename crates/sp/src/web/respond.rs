//! How the site answers: the layout of its pages, refusals as pages with their code, redirects
//! and the auto-posting AuthnRequest form.

use super::error::SiteError;
use super::pages::ErrorPage;
use super::{holds, Site, PERMISSION_APPROVE, PERMISSION_REQUEST, PERMISSION_SETTINGS};
use crate::db::{LocalUser, SamlUser};
use crate::web::admin::PERMISSION_SETTINGS_WRITE;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use saml::bindings::post::POST_FORM_SCRIPT_HASH;
use web::page::{render, Layout};

impl Site {
    /// The layout of a page of this site (the app's name next to the brand).
    pub(super) fn layout(&self, title: &str) -> Layout {
        Layout::new(title, self.app.name.clone(), "/")
    }

    /// The layout of a signed-in user's page: a link to each area their permissions open
    /// (and only those), and sign-out. `current` is the path of the page shown.
    pub(super) fn user_layout(
        &self,
        title: &str,
        current: &str,
        saml: &SamlUser,
        user: &LocalUser,
    ) -> Layout {
        let mut layout = self.layout(title).link("Home", "/", current == "/");
        for (permission, label, href) in [
            (PERMISSION_SETTINGS, "Administration", "/admin"),
            (PERMISSION_REQUEST, "Waiting room", "/admin/waiting-room"),
            (PERMISSION_APPROVE, "Access requests", "/admin/access-requests"),
            (PERMISSION_SETTINGS_WRITE, "Settings", "/admin/providers"),
        ] {
            if holds(saml, permission) {
                layout = layout.link(label, href, current == href);
            }
        }
        layout.signed_in(user.username.clone(), Some("/saml/logout".into()))
    }

    /// The page of a failure: its code and message; logged with the same code.
    pub(super) fn refused(&self, step: &str, e: &SiteError) -> Response {
        let status = match e {
            SiteError::Store(store::StoreError::Database(_) | store::StoreError::Sealed(_))
            | SiteError::Web(_) => StatusCode::INTERNAL_SERVER_ERROR,
            SiteError::FormMissingResponse
            | SiteError::ReturnUrlRefused(_)
            | SiteError::ProviderUnknown(_)
            | SiteError::Invalid(_) => StatusCode::BAD_REQUEST,
            // A duplicate name on an admin page (another provider or policy has it).
            SiteError::Store(store::StoreError::Conflict { .. }) => StatusCode::CONFLICT,
            SiteError::NotSignedIn => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        };
        tracing::warn!(step, code = e.code(), error = %e, "SP request refused");
        let heading = match step {
            "" | "login" | "acs" | "discovery" => "Sign-in failed",
            "logout" | "slo" => "Sign-out failed",
            _ => "This request was refused",
        };
        let message = e.to_string();
        let page = ErrorPage { layout: self.layout(heading), heading, code: e.code(), message: &message };
        render(status, &page)
    }
}

/// A 303 to `url`.
pub(super) fn redirect(url: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(url) {
        resp.headers_mut().insert(LOCATION, v);
    }
    resp
}

/// Marks a response that carries personal data or a one-time message as never cached.
pub(super) fn no_store(resp: &mut Response) {
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The auto-posting form that carries an AuthnRequest to the IdP (the `saml` crate builds it),
/// under its own Content-Security-Policy: the one page that posts to another origin, and runs
/// its one script by hash. The security-headers layer keeps a handler's policy.
pub(super) fn post_form(html: String) -> Response {
    let mut resp = Html(html).into_response();
    let csp = format!(
        "default-src 'none'; script-src '{POST_FORM_SCRIPT_HASH}'; form-action *; frame-ancestors 'none'; \
         base-uri 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut().insert(CONTENT_SECURITY_POLICY, v);
    }
    resp
}
