//! Cookies: read with axum-extra's [`CookieJar`], written with one attribute policy.
//!
//! Every cookie Portcullis sets is `HttpOnly` and `Path=/`, `Secure` whenever the service is
//! reached over https, and carries an explicit `SameSite`. [`CookiePolicy`] builds them, so a
//! service cannot set a cookie that lacks one of these.

use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};
pub use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

/// How this service's cookies are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookiePolicy {
    /// Whether cookies get `Secure` (the service is reached over https).
    pub secure: bool,
}

impl CookiePolicy {
    /// The policy for a service whose public base URL is `base_url`.
    pub fn for_base_url(base_url: &str) -> CookiePolicy {
        CookiePolicy { secure: base_url.trim().to_ascii_lowercase().starts_with("https://") }
    }

    /// A cookie with `same_site`, alive for `max_age_seconds` (a browser-session cookie when `None`).
    pub fn build(
        &self,
        name: &str,
        value: &str,
        same_site: SameSite,
        max_age_seconds: Option<i64>,
    ) -> Cookie<'static> {
        let mut c = Cookie::new(name.to_string(), value.to_string());
        c.set_path("/");
        c.set_http_only(true);
        c.set_secure(self.secure);
        c.set_same_site(same_site);
        if let Some(seconds) = max_age_seconds {
            c.set_max_age(time::Duration::seconds(seconds));
        }
        c
    }

    /// A `SameSite=Lax` cookie: sessions, which must survive a top-level navigation from an app.
    pub fn lax(&self, name: &str, value: &str, max_age_seconds: Option<i64>) -> Cookie<'static> {
        self.build(name, value, SameSite::Lax, max_age_seconds)
    }

    /// A `SameSite=Strict` cookie: administration, never sent on a cross-site request.
    pub fn strict(&self, name: &str, value: &str, max_age_seconds: Option<i64>) -> Cookie<'static> {
        self.build(name, value, SameSite::Strict, max_age_seconds)
    }

    /// A cookie that must come back on the IdP's cross-site POST to an ACS: `SameSite=None` over
    /// https (browsers require `Secure` for it), `Lax` over plain http.
    pub fn cross_site(&self, name: &str, value: &str, max_age_seconds: Option<i64>) -> Cookie<'static> {
        let same_site = if self.secure { SameSite::None } else { SameSite::Lax };
        self.build(name, value, same_site, max_age_seconds)
    }

    /// What removes cookie `name` from the browser (same attributes, empty, `Max-Age=0`).
    pub fn removal(&self, name: &str) -> Cookie<'static> {
        self.build(name, "", SameSite::Lax, Some(0))
    }
}

/// The value of cookie `name` in the request headers.
pub fn read<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// Appends `cookie` as a `Set-Cookie` header (a cookie whose text is not a valid header value,
/// which [`CookiePolicy`] never builds, is dropped).
pub fn append(headers: &mut HeaderMap, cookie: &Cookie<'_>) {
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        headers.append(SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_carry_the_policy_attributes() {
        let https = CookiePolicy::for_base_url("https://idp.example.com");
        let c = https.lax("pcs_session", "abc", Some(60)).to_string();
        for part in ["pcs_session=abc", "HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=60"] {
            assert!(c.contains(part), "{c} lacks {part}");
        }
        let http = CookiePolicy::for_base_url("http://127.0.0.1:8080");
        let c = http.strict("admin", "x", None).to_string();
        assert!(c.contains("SameSite=Strict") && !c.contains("Secure") && !c.contains("Max-Age"), "{c}");
        assert!(https.cross_site("b", "1", None).to_string().contains("SameSite=None"));
        assert!(http.cross_site("b", "1", None).to_string().contains("SameSite=Lax"));
        let gone = https.removal("pcs_session").to_string();
        assert!(gone.starts_with("pcs_session=;") && gone.contains("Max-Age=0"), "{gone}");
    }

    #[test]
    fn reads_one_cookie_from_every_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(axum::http::header::COOKIE, HeaderValue::from_static("a=1; pcs_sessionx=2"));
        h.append(axum::http::header::COOKIE, HeaderValue::from_static("pcs_session=xyz"));
        assert_eq!(read(&h, "pcs_session"), Some("xyz"));
        assert_eq!(read(&h, "a"), Some("1"));
        assert_eq!(read(&h, "b"), None);
        let mut out = HeaderMap::new();
        append(&mut out, &CookiePolicy { secure: false }.lax("s", "v", None));
        append(&mut out, &CookiePolicy { secure: false }.lax("t", "w", None));
        assert_eq!(out.get_all(SET_COOKIE).iter().count(), 2);
    }
}
