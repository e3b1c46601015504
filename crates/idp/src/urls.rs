//! The rules for the URLs and identifiers of an app's Basic SAML Configuration: what a gallery
//! template produces, what `set-saml` and SP metadata import accept. Each refusal says what is
//! wrong with the value (code PCS91005).

use crate::gallery::placeholders;
use std::fmt;
use thiserror::Error;

/// Longest Reply URL accepted (the large directory's limit).
pub const MAX_REPLY_URL_LEN: usize = 256;
/// Longest Identifier, Sign-on or Logout URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// What kind of value a URL check was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlKind {
    Identifier,
    ReplyUrl,
    Url,
}

impl fmt::Display for UrlKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Identifier => "Identifier",
            Self::ReplyUrl => "Reply URL",
            Self::Url => "URL",
        })
    }
}

/// A value refused by [`validate_identifier`], [`validate_reply_url`] or [`validate_url`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the {kind} {value:?} is not valid: {reason}")]
pub struct UrlError {
    pub kind: UrlKind,
    pub value: String,
    pub reason: String,
}

impl UrlError {
    /// The stable code (the same as [`GalleryError::InvalidUrl`]).
    pub fn code(&self) -> &'static str {
        "PCS91005"
    }
}

/// An Identifier (entity ID): an absolute `http`/`https` URL or a URN (`urn:NID:NSS`).
/// Entity IDs are names, not addresses, so plain `http` is accepted, as the large
/// directory does.
pub fn validate_identifier(value: &str) -> Result<(), UrlError> {
    let fail = |reason: &str| Err(err(UrlKind::Identifier, value, reason));
    common_checks(UrlKind::Identifier, value, MAX_URL_LEN)?;
    // `get`, not slicing: the fourth byte may be inside a multi-byte character (a panic, found
    // by schemathesis through PUT /api/v1/apps/{id}/saml).
    if let Some(rest) = value.get(..4).filter(|p| p.eq_ignore_ascii_case("urn:")).map(|_| &value[4..]) {
        let Some((nid, nss)) = rest.split_once(':') else {
            return fail("a URN looks like urn:NAMESPACE:VALUE");
        };
        let nid_ok = !nid.is_empty()
            && nid.len() <= 32
            && nid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && nid.starts_with(|c: char| c.is_ascii_alphanumeric());
        if !nid_ok {
            return fail("the URN namespace (after urn:) must be 1 to 32 letters, digits or hyphens");
        }
        if nss.is_empty() {
            return fail("the URN has nothing after its namespace");
        }
        return Ok(());
    }
    check_web_url(UrlKind::Identifier, value, true)
}

/// A Reply URL (ACS): an absolute `https` URL, or `http` on `localhost` / `127.0.0.1` /
/// `[::1]`; no wildcard, at most [`MAX_REPLY_URL_LEN`] characters.
pub fn validate_reply_url(value: &str) -> Result<(), UrlError> {
    common_checks(UrlKind::ReplyUrl, value, MAX_REPLY_URL_LEN)?;
    if value.contains('*') {
        return Err(err(UrlKind::ReplyUrl, value, "wildcards are not allowed in a Reply URL"));
    }
    check_web_url(UrlKind::ReplyUrl, value, false)
}

/// A Sign-on or Logout URL: an absolute `https` URL, or `http` on `localhost` /
/// `127.0.0.1` / `[::1]`.
pub fn validate_url(value: &str) -> Result<(), UrlError> {
    common_checks(UrlKind::Url, value, MAX_URL_LEN)?;
    check_web_url(UrlKind::Url, value, false)
}

fn err(kind: UrlKind, value: &str, reason: &str) -> UrlError {
    UrlError { kind, value: value.to_string(), reason: reason.to_string() }
}

fn common_checks(kind: UrlKind, value: &str, max_len: usize) -> Result<(), UrlError> {
    if value.is_empty() {
        return Err(err(kind, value, "it is empty"));
    }
    if value.len() > max_len {
        return Err(err(kind, value, &format!("it is longer than {max_len} characters")));
    }
    if let Some(p) = placeholders(value).into_iter().next() {
        return Err(err(kind, value, &format!("it still contains the placeholder <{p}>; replace it")));
    }
    if value.chars().any(char::is_whitespace) {
        return Err(err(kind, value, "it contains a space or another blank character"));
    }
    if value.chars().any(char::is_control) {
        return Err(err(kind, value, "it contains a control character"));
    }
    if value.contains(['<', '>', '"']) {
        return Err(err(kind, value, "it contains <, > or \""));
    }
    if value.contains('#') {
        return Err(err(kind, value, "it has a fragment (#...); remove it"));
    }
    Ok(())
}

fn check_web_url(kind: UrlKind, value: &str, http_anywhere: bool) -> Result<(), UrlError> {
    let url = url::Url::parse(value).map_err(|e| {
        let reason = match e {
            url::ParseError::RelativeUrlWithoutBase => {
                "it is not an absolute URL; start it with https://".to_string()
            }
            other => format!("it is not a valid URL ({other})"),
        };
        err(kind, value, &reason)
    })?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if http_anywhere || local => {}
        "http" => {
            return Err(err(
                kind,
                value,
                "it must use https (http is only accepted for localhost and 127.0.0.1)",
            ))
        }
        _ if kind == UrlKind::Identifier => {
            return Err(err(kind, value, "an Identifier must be an http(s) URL or a URN (urn:...)"))
        }
        _ => return Err(err(kind, value, "it must be an https URL")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(err(kind, value, "it has no host name"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(err(kind, value, "it must not carry a user name or password"));
    }
    Ok(())
}
