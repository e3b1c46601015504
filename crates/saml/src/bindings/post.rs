//! HTTP-POST binding (SAML 2.0 bindings, section 3.5).
//!
//! Producing: [`post_form`] returns a small HTML5 page whose form posts the
//! base64 of the XML (`SAMLRequest` or `SAMLResponse`) and the RelayState to the
//! endpoint. A script submits it at once; without JavaScript, a `<noscript>`
//! block shows a **Continue** button.
//!
//! ## Content-Security-Policy
//!
//! The script is one fixed line, so a strict CSP can allow it by hash with no
//! nonce: send `script-src 'sha256-…'` using [`POST_FORM_SCRIPT_HASH`], plus a
//! `form-action` that allows the endpoint (or leave `form-action` unset). Pages
//! served under a nonce-based policy use [`post_form_with_nonce`] instead. The
//! page has no inline styles or event-handler attributes. Serve it with
//! `Cache-Control: no-store`: it carries a bearer assertion.
//!
//! ## RelayState
//!
//! The RelayState is escaped with the XML writer's attribute escaping, which is
//! valid HTML too (CR, LF and tab as character references, so newline
//! normalisation cannot drop them) and comes back exactly as given, with
//! two exceptions that no page can avoid: browsers send every line break as
//! CRLF when they serialise a form, and U+0000 becomes U+FFFD in HTML.

use super::{check_endpoint_url, decode_base64, encode_base64, MessageParam, MAX_MESSAGE_BYTES};
use crate::error::{Error, Result};
use crate::xml::escape_attr;
use std::fmt::Write as _;

/// The auto-submit script, byte for byte.
const SCRIPT: &str = "document.forms[0].submit();";

/// CSP source expression (without quotes) that allows the page's script:
/// `script-src 'sha256-8lDeP0UDwCO6/RhblgeH/ctdBzjVpJxrXizsnIk3cEQ='`.
pub const POST_FORM_SCRIPT_HASH: &str = "sha256-8lDeP0UDwCO6/RhblgeH/ctdBzjVpJxrXizsnIk3cEQ=";

/// Largest form value [`decode_post_value`] looks at: 2 MiB, enough for the
/// base64 of a [`MAX_MESSAGE_BYTES`] message wrapped at 76 columns.
pub const MAX_POST_VALUE_BYTES: usize = 2 << 20;

/// The auto-submitting page that posts `xml` to `action` (an ACS or SSO/SLO
/// endpoint) as `param`, with an optional RelayState.
///
/// `action` must be an absolute http(s) URL ([`super::check_endpoint_url`]),
/// else [`Error::Url`]: it usually comes from a peer's metadata, and a
/// `javascript:` action would run script in our origin.
pub fn post_form(action: &str, param: MessageParam, xml: &str, relay_state: Option<&str>) -> Result<String> {
    render(action, param, xml, relay_state, None)
}

/// Like [`post_form`], with `nonce="…"` on the script tag for a nonce-based CSP.
pub fn post_form_with_nonce(
    action: &str,
    param: MessageParam,
    xml: &str,
    relay_state: Option<&str>,
    nonce: &str,
) -> Result<String> {
    render(action, param, xml, relay_state, Some(nonce))
}

fn render(
    action: &str,
    param: MessageParam,
    xml: &str,
    relay_state: Option<&str>,
    nonce: Option<&str>,
) -> Result<String> {
    check_endpoint_url(action)?;
    let value = encode_base64(xml.as_bytes());
    let mut page = String::with_capacity(value.len() + 800);
    page.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>Continue</title>\n</head>\n<body>\n",
    );
    // Writing to a String cannot fail.
    let _ = writeln!(page, "<form method=\"post\" action=\"{}\">", escape_attr(action));
    let _ =
        writeln!(page, "<input type=\"hidden\" name=\"{}\" value=\"{}\">", param.name(), escape_attr(&value));
    if let Some(rs) = relay_state {
        let _ = writeln!(page, "<input type=\"hidden\" name=\"RelayState\" value=\"{}\">", escape_attr(rs));
    }
    page.push_str(
        "<noscript>\n<p>JavaScript is turned off in this browser. Select Continue to go on.</p>\n\
         <button type=\"submit\">Continue</button>\n</noscript>\n</form>\n",
    );
    match nonce {
        Some(n) => {
            let _ = writeln!(page, "<script nonce=\"{}\">{SCRIPT}</script>", escape_attr(n));
        }
        None => {
            let _ = writeln!(page, "<script>{SCRIPT}</script>");
        }
    }
    page.push_str("</body>\n</html>\n");
    Ok(page)
}

/// Decodes a `SAMLRequest`/`SAMLResponse` value received on the HTTP-POST
/// binding: the form value (already form-decoded by the web framework) is
/// base64 of the XML.
///
/// ASCII whitespace anywhere is ignored (IdPs wrap at 64 or 76 columns with CRLF)
/// and missing padding is accepted; anything else outside the standard base64
/// alphabet is [`Error::Base64`]. Values over [`MAX_POST_VALUE_BYTES`] and XML over
/// [`MAX_MESSAGE_BYTES`] are [`Error::InputTooLarge`]; XML that is not UTF-8 is
/// [`Error::NotUtf8`].
pub fn decode_post_value(value: &str) -> Result<String> {
    if value.len() > MAX_POST_VALUE_BYTES {
        return Err(Error::InputTooLarge { size: value.len(), limit: MAX_POST_VALUE_BYTES });
    }
    let bytes = decode_base64(value, "the POST binding value", false, |b| b.is_ascii_whitespace())?;
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(Error::InputTooLarge { size: bytes.len(), limit: MAX_MESSAGE_BYTES });
    }
    String::from_utf8(bytes).map_err(|_| Error::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str =
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_r\">é</samlp:Response>";

    /// Reads back the value of the hidden input `name` the way an HTML parser
    /// would for the escapes we produce.
    fn input_value(page: &str, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = page.find(&marker)? + marker.len();
        let raw = &page[start..start + page[start..].find('"')?];
        Some(
            raw.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#xD;", "\r")
                .replace("&#xA;", "\n")
                .replace("&#x9;", "\t")
                .replace("&amp;", "&"),
        )
    }

    #[test]
    fn page_posts_base64_and_relay_state_with_script_and_noscript_button() {
        let page =
            post_form("https://sp.example.org/acs?a=1&b=2", MessageParam::Response, XML, Some("r")).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<form method=\"post\" action=\"https://sp.example.org/acs?a=1&amp;b=2\">"));
        let value = input_value(&page, "SAMLResponse").unwrap();
        assert_eq!(decode_post_value(&value).unwrap(), XML);
        assert_eq!(input_value(&page, "RelayState").as_deref(), Some("r"));
        assert!(page.contains("<noscript>") && page.contains("<button type=\"submit\">Continue</button>"));
        assert!(page.contains("<script>document.forms[0].submit();</script>"));
        // No inline handlers or styles that a strict CSP would block.
        assert!(!page.contains("onload") && !page.contains("style="));

        let page = post_form("https://idp.example.com/sso", MessageParam::Request, XML, None).unwrap();
        assert!(input_value(&page, "SAMLRequest").is_some());
        assert!(!page.contains("RelayState"));
    }

    #[test]
    fn relay_state_is_escaped_and_preserved_exactly() {
        let rs = "\"><script>alert('x')</script>&amp;\r\n\té 𝄞 &#13;";
        let page = post_form("https://sp.example.org/acs", MessageParam::Response, XML, Some(rs)).unwrap();
        assert!(!page.contains("<script>alert"));
        assert_eq!(page.matches("<script").count(), 1);
        assert!(!page.contains('\r'));
        assert_eq!(input_value(&page, "RelayState").as_deref(), Some(rs));
    }

    #[test]
    fn nonce_variant_and_script_hash() {
        let page =
            post_form_with_nonce("https://sp.example.org/acs", MessageParam::Response, XML, None, "n0\"nce")
                .unwrap();
        assert!(page.contains("<script nonce=\"n0&quot;nce\">document.forms[0].submit();</script>"));
        let digest = crate::crypto::DigestAlgorithm::Sha256.digest(SCRIPT.as_bytes());
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest);
        assert_eq!(POST_FORM_SCRIPT_HASH, format!("sha256-{b64}"));
    }

    #[test]
    fn action_must_be_http_or_https() {
        for bad in ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "/acs", ""] {
            let err = post_form(bad, MessageParam::Response, XML, None).unwrap_err();
            assert_eq!(err.code(), "URL_INVALID", "{bad}");
        }
    }

    #[test]
    fn decode_tolerates_wrapping_and_missing_padding() {
        let b64 = encode_base64(XML.as_bytes());
        let wrapped: Vec<&str> = b64.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
        assert_eq!(decode_post_value(&wrapped.join("\r\n")).unwrap(), XML);
        assert_eq!(decode_post_value(&format!("  {}\n\t", wrapped.join("\n"))).unwrap(), XML);
        assert_eq!(decode_post_value(b64.trim_end_matches('=')).unwrap(), XML);
    }

    #[test]
    fn decode_refuses_bad_input_with_typed_errors() {
        assert_eq!(decode_post_value("PHI+").unwrap(), "<r>");
        let cases = [
            ("PHI-", "BASE64_INVALID"),   // URL-safe alphabet
            ("PHI%2B", "BASE64_INVALID"), // still URL-encoded
            ("A", "BASE64_INVALID"),      // truncated
            ("/w==", "INPUT_NOT_UTF8"),   // 0xff
        ];
        for (v, want) in cases {
            assert_eq!(decode_post_value(v).unwrap_err().code(), want, "{v}");
        }
        // Empty decodes to empty; the XML parser is the one to refuse it.
        assert_eq!(decode_post_value("").unwrap(), "");
        let big = "A".repeat(MAX_POST_VALUE_BYTES + 1);
        assert_eq!(decode_post_value(&big).unwrap_err().code(), "INPUT_TOO_LARGE");
        let over = encode_base64(&vec![b'a'; MAX_MESSAGE_BYTES + 1]);
        assert_eq!(decode_post_value(&over).unwrap_err().code(), "INPUT_TOO_LARGE");
        assert_eq!(
            decode_post_value(&encode_base64(&vec![b'a'; MAX_MESSAGE_BYTES])).unwrap().len(),
            MAX_MESSAGE_BYTES
        );
    }
}
