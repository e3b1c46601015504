//! HTTP-Redirect and HTTP-POST bindings (SAML 2.0 bindings, sections 3.4 and 3.5).
//!
//! Both bindings carry one protocol message (`SAMLRequest` or `SAMLResponse`) and an
//! optional opaque `RelayState`:
//!
//! - [`redirect`]: raw DEFLATE, base64, URL-encoding in a query string, optionally
//!   signed over the exact query octets (`SigAlg` + `Signature`). Use
//!   [`redirect_url`] to produce and [`decode_query`] +
//!   [`RedirectMessage::verify_signature`] to consume.
//! - [`post`]: base64 in an auto-submitting HTML form. Use [`post_form`] (or
//!   [`post_form_with_nonce`]) to produce and [`decode_post_value`] to consume.
//!
//! The decoders only unwrap the transport: they return the XML text, which the
//! caller then parses with [`crate::xml::parse`] and, for POST, verifies with
//! [`crate::dsig::verify`]. Inflated and decoded messages are bounded by
//! [`MAX_MESSAGE_BYTES`] (the same bound as [`crate::xml::Limits::MESSAGE`]).
//!
//! ## What the decoders tolerate, and why
//!
//! Strict where it matters for security, lenient only where real peers differ and
//! no ambiguity follows:
//!
//! - Base64 uses the standard alphabet only (not the URL-safe one). Line breaks
//!   (CR, LF) anywhere are ignored, because some stacks wrap at 76 columns (MIME
//!   style); missing `=` padding is accepted; non-zero trailing bits are refused.
//! - Redirect binding only: a space inside a base64 value is read as `+`. A space
//!   can only get there when a peer forgot to percent-encode `+` and form
//!   decoding turned it into a space; base64 never contains spaces otherwise. The
//!   query signature is unaffected because it is checked over the raw octets.
//! - POST binding only: any ASCII whitespace is ignored (the browser has already
//!   form-decoded the value, so `+` arrives intact).
//! - DEFLATE must be raw (RFC 1951, no zlib or gzip header) and must end exactly
//!   at the end of the data: trailing bytes are refused.
//! - The decoded XML must be UTF-8.
//! - A received RelayState longer than the spec's 80 bytes is accepted (many SPs
//!   send longer ones and the IdP must echo them unchanged); only what we produce
//!   on the Redirect binding is held to 80 bytes.

pub mod post;
pub mod redirect;

pub use post::{
    decode_post_value, post_form, post_form_with_nonce, MAX_POST_VALUE_BYTES, POST_FORM_SCRIPT_HASH,
};
pub use redirect::{
    decode_query, redirect_query, redirect_url, QuerySigner, RedirectMessage, MAX_QUERY_BYTES,
    MAX_RELAY_STATE_BYTES,
};

use crate::error::{Error, Result};
use crate::xml::{BINDING_HTTP_POST, BINDING_HTTP_REDIRECT};
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

/// Largest decoded (for Redirect: inflated) message, in bytes: 1 MiB.
pub const MAX_MESSAGE_BYTES: usize = crate::xml::Limits::MESSAGE.max_bytes;

/// The bindings this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Binding {
    /// `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect`
    HttpRedirect,
    /// `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST`
    HttpPost,
}

impl Binding {
    /// The binding's URI, as metadata names it in `Binding="…"`.
    pub fn uri(self) -> &'static str {
        match self {
            Binding::HttpRedirect => BINDING_HTTP_REDIRECT,
            Binding::HttpPost => BINDING_HTTP_POST,
        }
    }

    /// The binding a URI names, or `None` for bindings we do not implement
    /// (SOAP, Artifact, PAOS, …), which metadata readers usually skip.
    pub fn from_uri(uri: &str) -> Option<Self> {
        match uri {
            BINDING_HTTP_REDIRECT => Some(Binding::HttpRedirect),
            BINDING_HTTP_POST => Some(Binding::HttpPost),
            _ => None,
        }
    }
}

/// Which parameter carries the message: `SAMLRequest` or `SAMLResponse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageParam {
    /// `SAMLRequest`: AuthnRequest, LogoutRequest.
    Request,
    /// `SAMLResponse`: Response, LogoutResponse.
    Response,
}

impl MessageParam {
    /// The form / query parameter name.
    pub fn name(self) -> &'static str {
        match self {
            MessageParam::Request => "SAMLRequest",
            MessageParam::Response => "SAMLResponse",
        }
    }
}

/// Checks that `url` can be used as a destination for a browser: an absolute
/// `http` or `https` URL without whitespace or control characters.
///
/// The encoders call this on their endpoint, because an endpoint usually comes
/// from metadata that someone else wrote: a `javascript:` form action would run
/// script in our origin.
pub fn check_endpoint_url(url: &str) -> Result<()> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return Err(Error::Url(format!("endpoint {url:?} must be an absolute http:// or https:// URL")));
    };
    if rest.is_empty() || rest.starts_with(['/', '?', '#']) {
        return Err(Error::Url(format!("endpoint {url:?} has no host")));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::Url(format!("endpoint {url:?} contains whitespace or control characters")));
    }
    Ok(())
}

/// Standard alphabet, padding optional, trailing bits must be zero.
const B64_LENIENT_PADDING: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes base64 after removing the characters `skip` says to ignore and
/// mapping spaces to `+` when `space_is_plus`. `what` names the value in errors.
fn decode_base64(text: &str, what: &str, space_is_plus: bool, skip: fn(u8) -> bool) -> Result<Vec<u8>> {
    let compact: Vec<u8> = text
        .bytes()
        .filter_map(|b| match b {
            b' ' if space_is_plus => Some(b'+'),
            b if skip(b) => None,
            b => Some(b),
        })
        .collect();
    B64_LENIENT_PADDING.decode(&compact).map_err(|e| Error::Base64(format!("{what}: {e}")))
}

/// Standard base64 with padding, one line.
fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_uris_round_trip_and_unknown_bindings_are_none() {
        for b in [Binding::HttpRedirect, Binding::HttpPost] {
            assert_eq!(Binding::from_uri(b.uri()), Some(b));
        }
        assert_eq!(Binding::from_uri("urn:oasis:names:tc:SAML:2.0:bindings:SOAP"), None);
        assert_eq!(MessageParam::Request.name(), "SAMLRequest");
        assert_eq!(MessageParam::Response.name(), "SAMLResponse");
    }

    #[test]
    fn endpoint_urls_must_be_http_or_https_with_a_host() {
        for ok in ["https://idp.example.com/sso", "HTTP://localhost:8080/acs?x=1", "https://h"] {
            check_endpoint_url(ok).unwrap();
        }
        for bad in [
            "javascript:alert(1)",
            " https://idp.example.com/",
            "https://idp.example.com/ x",
            "https:///path",
            "https://",
            "data:text/html,hi",
            "//idp.example.com/sso",
            "/relative",
            "https://idp.example.com/\n",
        ] {
            assert_eq!(check_endpoint_url(bad).unwrap_err().code(), "URL_INVALID", "{bad:?}");
        }
    }

    #[test]
    fn base64_tolerates_line_breaks_and_missing_padding_only() {
        let crlf = |b: u8| b == b'\r' || b == b'\n';
        assert_eq!(decode_base64("aGVsbG8=", "v", false, crlf).unwrap(), b"hello");
        assert_eq!(decode_base64("aGVs\r\nbG8", "v", false, crlf).unwrap(), b"hello");
        // '+' that arrived as a space in a query string.
        assert_eq!(
            decode_base64("++8=", "v", true, crlf).unwrap(),
            decode_base64("  8=", "v", true, crlf).unwrap()
        );
        for bad in ["aGVsbG8-", "aGVs\tbG8=", "aGVsbG9=", "a", "aGVsbG8=="] {
            assert_eq!(decode_base64(bad, "v", false, crlf).unwrap_err().code(), "BASE64_INVALID", "{bad:?}");
        }
    }
}
