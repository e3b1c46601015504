//! The test browser: reqwest with a cookie jar and no automatic redirects, the answers as
//! [`Page`]s with the readers SSO tests need (form fields, links, error codes), and the
//! IdP's auto-posting form as a [`PostForm`].

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE, USER_AGENT};
use reqwest::Url;

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL that was asked for.
    pub url: String,
    pub status: u16,
    /// Every header, in order (header names in lower case; `set-cookie` once per cookie).
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The value of the form field `name` (`<input … name="NAME" value="…">`), unescaped.
    pub fn field(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\"");
        let at = self.body.find(&needle)?;
        let tag_start = self.body[..at].rfind('<')?;
        let tag_end = at + self.body[at..].find('>')?;
        attribute(&self.body[tag_start..tag_end], "value")
    }

    /// The action of the first form, unescaped.
    pub fn form_action(&self) -> Option<String> {
        let at = self.body.find("<form")?;
        let end = at + self.body[at..].find('>')?;
        attribute(&self.body[at..end], "action")
    }

    /// Whether this is the IdP's sign-in form.
    pub fn is_sign_in(&self) -> bool {
        self.field("ctx").is_some() && self.body.contains("name=\"password\"")
    }

    /// The error code on an IdP error page (`PCS…`).
    pub fn error_code(&self) -> Option<String> {
        let at = self.body.find("class=\"code\">PCS")? + "class=\"code\">".len();
        let code: String = self.body[at..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        Some(code)
    }

    /// The correlation ID on an IdP error page.
    pub fn correlation_id(&self) -> Option<String> {
        let at = self.body.find("Correlation ID: <span class=\"code\">")?
            + "Correlation ID: <span class=\"code\">".len();
        Some(self.body[at..].chars().take_while(|c| *c != '<').collect())
    }

    /// The page's links: (href, text), both unescaped.
    pub fn links(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut rest = self.body.as_str();
        while let Some(at) = rest.find("<a ") {
            rest = &rest[at..];
            let Some(end) = rest.find('>') else { break };
            let href = attribute(&rest[..end], "href").unwrap_or_default();
            let text_end = rest.find("</a>").unwrap_or(end + 1);
            let text = unescape(rest.get(end + 1..text_end).unwrap_or(""));
            out.push((href, text));
            rest = &rest[end..];
        }
        out
    }
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let at = tag.find(&needle)? + needle.len();
    let end = at + tag[at..].find('"')?;
    Some(unescape(&tag[at..end]))
}

/// HTML character references as the IdP and the SP write them.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => {
                u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32)
            }
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// An HTTP client without cookies: no redirect is followed, no proxy is used (the servers are
/// on loopback), and nothing is sent that the caller does not give. For API calls.
pub struct Http {
    client: Client,
}

impl Default for Http {
    fn default() -> Http {
        Http::new()
    }
}

impl Http {
    pub fn new() -> Http {
        Http { client: builder().build().expect("HTTP client") }
    }

    pub fn get(&self, url: &str) -> Page {
        self.request("GET", url, &[], "")
    }

    /// `METHOD url` with `headers` and `body`.
    pub fn request(&self, method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Page {
        send(&self.client, method, url, headers, body)
    }
}

fn builder() -> reqwest::blocking::ClientBuilder {
    Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().timeout(Duration::from_secs(60))
}

fn send(client: &Client, method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Page {
    let verb = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or_else(|e| panic!("{method}: {e}"));
    let mut request = client.request(verb, url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body.to_string()).send().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = response.bytes().unwrap_or_else(|e| panic!("{method} {url}: reading the body: {e}"));
    Page { url: url.to_string(), status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

/// The browser's cookie jar: reqwest's cookie store (domain, path, expiry and `Max-Age=0`
/// removals as a browser applies them), which the tests can also read.
#[derive(Default)]
struct Jar(Mutex<cookie_store::CookieStore>);

impl Jar {
    fn store(&self) -> MutexGuard<'_, cookie_store::CookieStore> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl reqwest::cookie::CookieStore for Jar {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        let cookies = headers
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| cookie_store::RawCookie::parse(v.to_string()).ok());
        self.store().store_response_cookies(cookies, url);
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        let header = self
            .store()
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        if header.is_empty() {
            return None;
        }
        HeaderValue::from_str(&header).ok()
    }
}

/// A browser: keeps cookies, follows no redirect by itself, remembers every page it was shown.
pub struct Browser {
    client: Client,
    jar: Arc<Jar>,
    pub history: Vec<Page>,
}

impl Default for Browser {
    fn default() -> Browser {
        Browser::new()
    }
}

impl Browser {
    pub fn new() -> Browser {
        let jar = Arc::new(Jar::default());
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(USER_AGENT, HeaderValue::from_static("portcullis-testkit-browser"));
        headers.insert(ACCEPT, HeaderValue::from_static("text/html"));
        let client = builder()
            .cookie_provider(Arc::clone(&jar))
            .default_headers(headers)
            .build()
            .expect("browser client");
        Browser { client, jar, history: Vec::new() }
    }

    /// The value of the cookie `name` the browser holds (for any site), if it holds one.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.store().iter_unexpired().find(|c| c.name() == name).map(|c| c.value().to_string())
    }

    pub fn get(&mut self, url: &str) -> Page {
        self.request("GET", url, &[], "")
    }

    /// Posts `fields` as `application/x-www-form-urlencoded`, as a browser submits a form.
    pub fn post_form(&mut self, url: &str, fields: &[(&str, &str)]) -> Page {
        use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
        let body = fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, NON_ALPHANUMERIC),
                    utf8_percent_encode(v, NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let form = [(CONTENT_TYPE.as_str(), "application/x-www-form-urlencoded")];
        self.request("POST", url, &form, &body)
    }

    /// Follows redirects that stay on `base` (the IdP); a redirect elsewhere is
    /// returned as is (nothing outside the IdP is fetched).
    pub fn follow(&mut self, mut page: Page, base: &str) -> Page {
        for _ in 0..10 {
            if !(300..400).contains(&page.status) {
                return page;
            }
            let Some(location) = page.header("location").map(str::to_string) else { return page };
            let url = if location.starts_with('/') { format!("{base}{location}") } else { location };
            if !url.starts_with(base) {
                return page;
            }
            page = self.get(&url);
        }
        panic!("too many redirects, last: {}", page.url)
    }

    /// Fills and posts the IdP's sign-in form of `page`, then follows redirects on the IdP.
    pub fn sign_in(&mut self, page: &Page, username: &str, password: &str, base: &str) -> Page {
        assert!(
            page.is_sign_in(),
            "expected the sign-in form at {}, got {}:\n{}",
            page.url,
            page.status,
            page.body
        );
        let csrf = page.field("csrf").expect("csrf field");
        let ctx = page.field("ctx").expect("ctx field");
        let action = page.form_action().expect("form action");
        let action = if action.starts_with('/') { format!("{base}{action}") } else { action };
        let answer = self.post_form(
            &action,
            &[("username", username), ("password", password), ("csrf", &csrf), ("ctx", &ctx)],
        );
        self.follow(answer, base)
    }

    /// Whether any page this browser was shown carried a SAML Response.
    pub fn saw_saml_response(&self) -> bool {
        self.history.iter().any(|p| p.body.contains("SAMLResponse"))
    }

    /// `METHOD url` with the browser's cookies, `headers` and `body`; the page joins the history.
    pub fn request(&mut self, method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Page {
        let page = send(&self.client, method, url, headers, body);
        self.history.push(page.clone());
        page
    }
}

/// The auto-posting form the IdP answers with: where it posts, and what.
#[derive(Debug, Clone)]
pub struct PostForm {
    pub action: String,
    pub saml_response: String,
    pub relay_state: Option<String>,
}

impl PostForm {
    /// Reads the form from a page, which must be one.
    pub fn from_page(page: &Page) -> PostForm {
        let Some(saml_response) = page.field("SAMLResponse") else {
            panic!(
                "expected the auto-posting SAMLResponse form, got {} at {}:\n{}",
                page.status, page.url, page.body
            )
        };
        PostForm {
            action: page.form_action().expect("form action"),
            saml_response,
            relay_state: page.field("RelayState"),
        }
    }

    /// The decoded Response XML.
    pub fn xml(&self) -> String {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD.decode(&self.saml_response).expect("base64");
        String::from_utf8(bytes).expect("utf-8 Response")
    }
}
