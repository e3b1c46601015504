//! The ACS input as it arrives: the `SAMLResponse` form value (base64, often
//! wrapped at 64 or 76 columns), a whole URL-encoded form body or value, or —
//! for people debugging — the raw XML.

use crate::error::Result;
use percent_encoding::percent_decode_str;
use saml::bindings::post::decode_post_value;

/// Turns what was posted (or pasted) into the Response XML. Raw XML is
/// recognised by its first non-blank character `<`; a form body by
/// `SAMLResponse=`; a value with `%` escapes is URL-decoded first.
pub fn decode_response_input(input: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(input).map_err(|_| saml::Error::NotUtf8)?;
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.starts_with('<') {
        return Ok(text.to_string());
    }
    let value = match text.split('&').find_map(|p| p.strip_prefix("SAMLResponse=")) {
        Some(v) => form_decode(v)?,
        None if text.contains('%') => form_decode(text)?,
        None => text.to_string(),
    };
    Ok(decode_post_value(&value)?)
}

/// `application/x-www-form-urlencoded` value decoding (`+` is a space, which
/// base64 never contains, so a `+` that survived unescaped is kept as `+`).
fn form_decode(v: &str) -> Result<String> {
    let decoded = percent_decode_str(v)
        .decode_utf8()
        .map_err(|_| saml::Error::Url("the form value is not UTF-8 after URL decoding".into()))?;
    Ok(decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const XML: &str = "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>";

    #[test]
    fn accepts_raw_xml_base64_wrapped_base64_and_form_values() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(XML);
        let wrapped: String =
            b64.as_bytes().chunks(10).map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap())).collect();
        let escaped = b64.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
        for input in [
            format!("  {XML}\n"),
            b64.clone(),
            wrapped,
            format!("SAMLResponse={escaped}&RelayState=%2Fapp"),
            escaped.clone(),
        ] {
            assert_eq!(decode_response_input(input.as_bytes()).unwrap(), XML, "{input}");
        }
    }

    #[test]
    fn refuses_garbage_with_the_base64_code() {
        assert_eq!(decode_response_input(b"not base64 $$$").unwrap_err().code(), "BASE64_INVALID");
        assert_eq!(decode_response_input(&[0xff, 0xfe]).unwrap_err().code(), "INPUT_NOT_UTF8");
    }
}
