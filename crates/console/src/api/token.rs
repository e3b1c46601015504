//! `POST /oauth2/token`: the client-credentials grant (RFC 6749 §4.4).
//!
//! The request is `application/x-www-form-urlencoded` with `grant_type=client_credentials`; the
//! client authenticates with HTTP Basic (client ID and secret each form-urlencoded, then joined
//! with `:` and base64-encoded, §2.3.1) or with `client_id` and `client_secret` in the body —
//! not both (§2.3). A parameter given twice is refused (§3.2); one without a value counts as
//! absent. The answer is `{access_token, token_type: "Bearer", expires_in}` (§5.1) or an error
//! (§5.2): `invalid_request` (400), `invalid_client` (401, `WWW-Authenticate: Basic`),
//! `unsupported_grant_type` (400), `invalid_scope` (400: the console grants no scopes, the API
//! account's permissions decide). Both kinds carry `Cache-Control: no-store`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;
use zeroize::Zeroizing;

use super::Api;
use crate::ConsoleError;

/// The client's credentials as presented.
struct ClientCredentials {
    id: String,
    secret: Zeroizing<String>,
}

pub(super) async fn token(State(api): State<Api>, headers: HeaderMap, body: Bytes) -> Response {
    match grant(&api, &headers, &body).await {
        Ok(r) => r,
        Err(e) => error_answer(&e),
    }
}

async fn grant(api: &Api, headers: &HeaderMap, body: &[u8]) -> Result<Response, ConsoleError> {
    let invalid = |reason: &str| ConsoleError::TokenRequest { reason: reason.into() };
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !form_type {
        return Err(invalid("the body must be application/x-www-form-urlencoded"));
    }
    let mut form: HashMap<String, Zeroizing<String>> = HashMap::new();
    for (name, value) in form_urlencoded::parse(body) {
        if form.insert(name.to_string(), Zeroizing::new(value.into_owned())).is_some() {
            return Err(ConsoleError::TokenRequest {
                reason: format!("the parameter {} is repeated", printable(&name)),
            });
        }
    }
    // §3.2: a parameter without a value is treated as omitted.
    form.retain(|_, v| !v.is_empty());
    let field = |name: &str| form.get(name).map(|v| v.as_str());

    let grant_type = field("grant_type").ok_or_else(|| invalid("grant_type is missing"))?;
    if grant_type != "client_credentials" {
        return Err(ConsoleError::UnsupportedGrant { grant: printable(grant_type) });
    }
    if field("scope").is_some() {
        return Err(ConsoleError::InvalidScope);
    }
    let client = match (headers.get(header::AUTHORIZATION), field("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "the client authenticated twice: use HTTP Basic or client_secret in the body, not both",
            ))
        }
        (Some(h), None) => {
            let creds = basic_credentials(h).ok_or(ConsoleError::ClientAuth)?;
            if field("client_id").is_some_and(|id| id != creds.id) {
                return Err(invalid("client_id in the body differs from the one in HTTP Basic"));
            }
            creds
        }
        (None, Some(secret)) => ClientCredentials {
            id: field("client_id").ok_or(ConsoleError::ClientAuth)?.to_owned(),
            secret: Zeroizing::new(secret.to_owned()),
        },
        (None, None) => return Err(ConsoleError::ClientAuth),
    };
    let issued = api.db.issue_token(&client.id, &client.secret, api.settings.token_ttl).await?;
    let body = Zeroizing::new(
        json!({
            "access_token": issued.access_token.as_str(),
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
        })
        .to_string(),
    );
    let mut r = (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.as_str().to_owned())
        .into_response();
    no_store(r.headers_mut());
    Ok(r)
}

/// `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`; `None` when it is not.
fn basic_credentials(value: &HeaderValue) -> Option<ClientCredentials> {
    let (scheme, encoded) = value.to_str().ok()?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = Zeroizing::new(STANDARD.decode(encoded.trim()).ok()?);
    let text = std::str::from_utf8(&decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let id = form_decode(id)?;
    let secret = form_decode(secret)?;
    (!id.is_empty() && !secret.is_empty()).then(|| ClientCredentials { id: id.to_string(), secret })
}

/// One `application/x-www-form-urlencoded` value (`+` is a space).
fn form_decode(s: &str) -> Option<Zeroizing<String>> {
    let spaced = Zeroizing::new(s.replace('+', " "));
    let decoded = percent_encoding::percent_decode_str(&spaced).decode_utf8().ok()?;
    Some(Zeroizing::new(decoded.into_owned()))
}

/// At most 40 characters of a client's value, in the characters an `error_description` may hold
/// (RFC 6749 §5.2: printable ASCII without `"` and `\`).
fn printable(s: &str) -> String {
    s.chars()
        .take(40)
        .map(|c| if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' { c } else { '?' })
        .collect()
}

fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// An RFC 6749 §5.2 error answer.
fn error_answer(e: &ConsoleError) -> Response {
    let (status, error) = match e {
        ConsoleError::TokenRequest { .. } => (StatusCode::BAD_REQUEST, "invalid_request"),
        ConsoleError::ClientAuth => (StatusCode::UNAUTHORIZED, "invalid_client"),
        ConsoleError::UnsupportedGrant { .. } => (StatusCode::BAD_REQUEST, "unsupported_grant_type"),
        ConsoleError::InvalidScope => (StatusCode::BAD_REQUEST, "invalid_scope"),
        other => {
            tracing::error!(code = other.code(), error = %other, "token request failed");
            return super::ApiError(ConsoleError::Storage { detail: "the token could not be issued".into() })
                .into_response();
        }
    };
    let description = printable_sentence(&e.to_string());
    let mut r =
        (status, axum::Json(json!({"error": error, "error_description": description}))).into_response();
    let h = r.headers_mut();
    no_store(h);
    if status == StatusCode::UNAUTHORIZED {
        // §5.2 requires it when the client used HTTP Basic; any 401 needs a challenge (RFC 9110),
        // and Basic is the scheme this endpoint supports.
        h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"portcullis-console\""));
    }
    r
}

/// A sentence in the characters `error_description` allows.
fn printable_sentence(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c == ' ' || c.is_ascii_graphic() => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(raw: &str) -> HeaderValue {
        HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(raw))).unwrap()
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let c = basic_credentials(&basic("my%20id:a%3Ab+c")).unwrap();
        assert_eq!((c.id.as_str(), c.secret.as_str()), ("my id", "a:b c"));
        for bad in [basic("no-colon"), basic(":secret"), basic("id:"), HeaderValue::from_static("Basic !!!")]
        {
            assert!(basic_credentials(&bad).is_none(), "{bad:?}");
        }
        assert!(basic_credentials(&HeaderValue::from_static("Bearer abc")).is_none());
    }

    #[test]
    fn descriptions_hold_only_allowed_characters() {
        assert_eq!(printable("a\"b\\c\u{e9}\n"), "a?b?c??");
        assert_eq!(printable_sentence("say \"x\" \\ \u{e9}"), "say 'x' / ?");
    }
}
