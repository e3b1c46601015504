//! Turning whatever a person pastes into a SAML message: raw XML, base64 (as
//! posted by the HTTP-POST binding), base64+DEFLATE (as carried by the
//! HTTP-Redirect binding), a whole redirect URL or query string, or a POST form
//! body — from an argument, a file, or standard input.

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use saml::bindings::redirect::{self, RedirectMessage};
use std::io::Read;
use std::path::Path;

/// How the message arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Xml,
    Base64,
    Base64Deflate,
    RedirectQuery,
    PostForm,
}

impl Encoding {
    pub fn describe(self) -> &'static str {
        match self {
            Encoding::Xml => "XML",
            Encoding::Base64 => "base64 (HTTP-POST binding)",
            Encoding::Base64Deflate => "base64 + DEFLATE (HTTP-Redirect binding)",
            Encoding::RedirectQuery => "HTTP-Redirect URL / query string",
            Encoding::PostForm => "HTTP-POST form body",
        }
    }
}

/// A message and what came with it.
pub struct Message {
    pub xml: String,
    pub encoding: Encoding,
    pub relay_state: Option<String>,
    /// Set when the input was a redirect URL/query (for its query signature).
    pub redirect: Option<RedirectMessage>,
}

/// Reads INPUT: `-` or nothing means standard input; an existing file path
/// means the file; anything else is the message itself.
pub fn read(arg: Option<&str>) -> Result<String> {
    match arg {
        None | Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).context("reading standard input")?;
            Ok(s)
        }
        Some(a) if a.len() < 4096 && Path::new(a).is_file() => {
            let bytes = std::fs::read(a).with_context(|| format!("reading {a}"))?;
            String::from_utf8(bytes).with_context(|| format!("{a} is not UTF-8 text"))
        }
        Some(a) => {
            let looks_like_path = !a.contains('<')
                && !a.contains('=')
                && (a.starts_with("./")
                    || a.starts_with("../")
                    || [".xml", ".b64", ".txt", ".saml"].iter().any(|ext| a.ends_with(ext)));
            if looks_like_path {
                anyhow::bail!(
                    "{a}: no such file (pass the message itself, a file path, or - for standard input)"
                );
            }
            Ok(a.to_string())
        }
    }
}

/// Recognises the encoding and returns the XML.
pub fn decode(text: &str) -> Result<Message> {
    let t = text.trim().trim_start_matches('\u{feff}');
    if t.is_empty() {
        bail!("the input is empty: pass a SAML message as XML, base64, a redirect URL, or a file path");
    }
    if t.starts_with('<') {
        return Ok(Message {
            xml: t.to_string(),
            encoding: Encoding::Xml,
            relay_state: None,
            redirect: None,
        });
    }
    if t.contains("SAMLRequest=") || t.contains("SAMLResponse=") {
        // A redirect URL or query string carries DEFLATEd messages; a POST form body
        // carries plain base64. Try the redirect binding first.
        match redirect::decode_query(t) {
            Ok(m) => {
                return Ok(Message {
                    xml: m.xml().to_string(),
                    encoding: Encoding::RedirectQuery,
                    relay_state: m.relay_state().map(str::to_string),
                    redirect: Some(m),
                })
            }
            Err(redirect_err) => {
                let query = t.split_once('?').map(|(_, q)| q).unwrap_or(t);
                let mut value = None;
                let mut relay_state = None;
                for (k, v) in form_pairs(query) {
                    match k.as_str() {
                        "SAMLRequest" | "SAMLResponse" => value = Some(v),
                        "RelayState" => relay_state = Some(v),
                        _ => {}
                    }
                }
                if let Some(v) = value {
                    if let Ok(xml) = saml::bindings::post::decode_post_value(&v) {
                        return Ok(Message {
                            xml,
                            encoding: Encoding::PostForm,
                            relay_state,
                            redirect: None,
                        });
                    }
                }
                bail!("the input looks like a SAML URL or form but could not be decoded: {redirect_err}");
            }
        }
    }
    // Bare base64, possibly URL-encoded (%2B, %2F, %3D) by a copy from a URL.
    let unescaped = if t.contains('%') {
        percent_encoding::percent_decode_str(t).decode_utf8_lossy().into_owned()
    } else {
        t.to_string()
    };
    let compact: String = unescaped.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact.trim_end_matches('=')))
        .context("the input is neither XML, a URL, nor valid base64")?;
    let starts_xml = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
    if starts_xml {
        let xml = String::from_utf8(bytes).context("the decoded message is not UTF-8")?;
        return Ok(Message { xml, encoding: Encoding::Base64, relay_state: None, redirect: None });
    }
    // Not XML: try it as the DEFLATEd value of a redirect binding parameter, through
    // the same bounded decoder the binding uses.
    let as_query = format!(
        "SAMLRequest={}",
        percent_encoding::utf8_percent_encode(&compact, percent_encoding::NON_ALPHANUMERIC)
    );
    let m =
        redirect::decode_query(&as_query).context("the base64 decodes to neither XML nor DEFLATE data")?;
    Ok(Message { xml: m.into_xml(), encoding: Encoding::Base64Deflate, relay_state: None, redirect: None })
}

/// `application/x-www-form-urlencoded` pairs (`+` is a space).
fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}
