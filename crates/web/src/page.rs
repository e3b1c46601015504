//! The layout every HTML page of the product shares, on askama templates (compile-time checked,
//! auto-escaping), and the one stylesheet and script.
//!
//! A service's page is an askama template that starts with `{% extends "base.html" %}`, fills
//! `{% block content %}`, and has a field `layout: Layout`. The service's `askama.toml` lists
//! this crate's `templates` folder after its own:
//!
//! ```toml
//! [general]
//! dirs = ["templates", "../web/templates"]
//! ```
//!
//! [`assets`] serves the stylesheet and script the layout links; merge it into the service's
//! router. [`render`] turns a page into a response that is never cached.

use crate::WebError;
use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Where the layout links the stylesheet.
pub const STYLESHEET_PATH: &str = "/assets/portcullis.css";
/// Where the layout links the script (copy buttons, confirmations; pages work without it).
pub const SCRIPT_PATH: &str = "/assets/portcullis.js";
/// The stylesheet.
pub const STYLESHEET: &str = include_str!("../assets/portcullis.css");
/// The script.
pub const SCRIPT: &str = include_str!("../assets/portcullis.js");

/// How wide the page's main column is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Width {
    /// Forms such as sign-in (28 rem).
    #[default]
    Narrow,
    /// Lists and settings (72 rem).
    Wide,
}

impl Width {
    /// The CSS class of `<main>`.
    pub fn class(&self) -> &'static str {
        match self {
            Width::Narrow => "narrow",
            Width::Wide => "wide",
        }
    }
}

/// A link of the top navigation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavLink {
    pub label: String,
    pub href: String,
    /// The page being shown is this link's (`aria-current="page"`).
    pub current: bool,
}

/// What the layout shows around a page: its title, the product area, the navigation and who is
/// signed in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// The page's title (the browser tab reads "TITLE · Portcullis").
    pub title: String,
    /// The part of the product next to the brand: "My Apps", "Admin center", "Vault", ….
    pub area: String,
    /// Where the brand links to.
    pub home: String,
    pub nav: Vec<NavLink>,
    /// The signed-in user's display name.
    pub user: Option<String>,
    /// Where "Sign out" goes, shown with the user.
    pub sign_out: Option<String>,
    pub width: Width,
}

impl Layout {
    /// A narrow page titled `title` in `area`, whose brand links to `home`.
    pub fn new(title: impl Into<String>, area: impl Into<String>, home: impl Into<String>) -> Layout {
        Layout { title: title.into(), area: area.into(), home: home.into(), ..Layout::default() }
    }

    /// The same page, wide.
    pub fn wide(mut self) -> Layout {
        self.width = Width::Wide;
        self
    }

    /// Adds a navigation link; `current` marks the page being shown.
    pub fn link(mut self, label: impl Into<String>, href: impl Into<String>, current: bool) -> Layout {
        self.nav.push(NavLink { label: label.into(), href: href.into(), current });
        self
    }

    /// Shows `user` as signed in, with a sign-out link to `sign_out`.
    pub fn signed_in(mut self, user: impl Into<String>, sign_out: Option<String>) -> Layout {
        self.user = Some(user.into());
        self.sign_out = sign_out;
        self
    }
}

/// A page with a heading, a few paragraphs, an optional error code with its correlation ID, and
/// an optional link: errors, confirmations, "you signed out".
#[derive(Debug, Template)]
#[template(path = "message.html")]
pub struct Message {
    pub layout: Layout,
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub code: Option<String>,
    pub correlation_id: Option<String>,
    /// (label, href)
    pub link: Option<(String, String)>,
}

impl Message {
    /// A message page titled and headed `heading`.
    pub fn new(layout: Layout, heading: impl Into<String>) -> Message {
        Message {
            layout,
            heading: heading.into(),
            paragraphs: Vec::new(),
            code: None,
            correlation_id: None,
            link: None,
        }
    }

    pub fn paragraph(mut self, text: impl Into<String>) -> Message {
        self.paragraphs.push(text.into());
        self
    }

    pub fn code(mut self, code: impl Into<String>, correlation_id: Option<String>) -> Message {
        self.code = Some(code.into());
        self.correlation_id = correlation_id;
        self
    }

    pub fn link(mut self, label: impl Into<String>, href: impl Into<String>) -> Message {
        self.link = Some((label.into(), href.into()));
        self
    }
}

/// Renders `page` to its HTML text.
pub fn html<T: Template>(page: &T) -> Result<String, WebError> {
    page.render().map_err(|e| WebError::Template(e.to_string()))
}

/// `page` as a response with `status`, `Cache-Control: no-store` (pages carry CSRF tokens and
/// personal data). A template that fails to render is logged and answered with a plain 500.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match html(page) {
        Ok(body) => {
            let mut r = (status, Html(body)).into_response();
            r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(code = e.code(), error = %e, "page rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered; see the server log")
                .into_response()
        }
    }
}

/// The routes of the stylesheet and the script, for any state type.
pub fn assets<S: Clone + Send + Sync + 'static>() -> Router<S> {
    fn asset(content_type: &'static str, body: &'static str) -> Response {
        ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "public, max-age=3600")], body).into_response()
    }
    Router::new()
        .route(STYLESHEET_PATH, get(|| async { asset("text/css; charset=utf-8", STYLESHEET) }))
        .route(SCRIPT_PATH, get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    #[test]
    fn the_layout_escapes_and_links_the_shared_assets() {
        let layout = Layout::new("Sign <in>", "My Apps", "/t/myapps")
            .link("Apps", "/t/myapps", true)
            .link("Profile", "/t/profile", false)
            .signed_in("Alice \"A\" <alice@contoso.com>", Some("/t/logout".into()));
        let page = Message::new(layout, "Hello <b>")
            .paragraph("Fish & <chips>")
            .code("PCS50105", Some("abc".into()))
            .link("Back", "/t/myapps?a=1&b=2");
        let out = html(&page).unwrap();
        assert!(out.contains("<title>Sign &#60;in&#62; · Portcullis</title>"), "{out}");
        assert!(out.contains("Hello &#60;b&#62;") && out.contains("Fish &#38; &#60;chips&#62;"), "{out}");
        assert!(out.contains("Alice &#34;A&#34; &#60;alice@contoso.com&#62;"), "{out}");
        assert!(out.contains(r#"<a href="/t/myapps" aria-current="page">Apps</a>"#), "{out}");
        assert!(out.contains(r#"href="/t/myapps?a=1&#38;b=2""#), "{out}");
        assert!(out.contains(STYLESHEET_PATH) && out.contains(SCRIPT_PATH));
        assert!(out.contains("<code>PCS50105</code>") && out.contains("<main id=\"main\" class=\"narrow\">"));
        assert!(!out.contains("<b>"), "nothing unescaped");
    }

    #[tokio::test]
    async fn pages_are_never_cached_and_assets_are_served() {
        let page = Message::new(Layout::new("Done", "", "/"), "Done");
        let r = render(StatusCode::CREATED, &page);
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
        let router: Router = assets();
        let css = router.oneshot(Request::get(STYLESHEET_PATH).body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(css.status(), StatusCode::OK);
        assert_eq!(css.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    }
}
