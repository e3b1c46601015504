//! The terminal page: the shared layout around an xterm.js terminal.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use web::page::{render, Layout, Message};

use super::{valid_id, Console};
use crate::ConsoleError;

#[derive(Template)]
#[template(path = "terminal.html")]
struct TerminalPage {
    layout: Layout,
    heading: String,
    socket_path: String,
    /// Allows the `<style>` elements xterm.js creates (see [`policy`]).
    nonce: String,
}

fn layout(title: &str) -> Layout {
    Layout::new(title, "Console", "/console/").wide()
}

/// The page's Content-Security-Policy: the shared one, except that styles may also come from
/// `<style>` elements carrying this response's nonce (xterm.js's renderer makes them; our
/// script stamps the nonce on them) and from `style` attributes (xterm.js sets contrast-adjusted
/// colours that way). Scripts stay `'self'` only.
fn policy(nonce: &str) -> String {
    web::headers::DEFAULT_CSP.replace(
        "style-src 'self'",
        &format!("style-src 'self' 'nonce-{nonce}'; style-src-attr 'unsafe-inline'"),
    )
}

fn error_page(e: &ConsoleError) -> Response {
    let status = match e {
        ConsoleError::UnknownSession { .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let page = Message::new(layout("Session not available"), "This session is not available")
        .paragraph(e.to_string())
        .code(e.code(), None)
        .link("Back to the console", "/console/");
    render(status, &page)
}

/// `GET /console/sessions/{id}`.
pub(super) async fn terminal(
    State(console): State<Console>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !valid_id(&id) {
        return error_page(&ConsoleError::UnknownSession { id });
    }
    let info = match console.sessions.describe(&id, &headers).await {
        Ok(info) => info,
        Err(e) => {
            tracing::info!(session = %id, code = e.code(), error = %e, "terminal page refused");
            return error_page(&e);
        }
    };
    let nonce = match web::token::random_token() {
        Ok(nonce) => nonce,
        Err(e) => {
            tracing::error!(code = e.code(), error = %e, "no nonce for the terminal page");
            return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
        }
    };
    let page = TerminalPage {
        layout: layout(&info.title),
        heading: info.title,
        socket_path: format!("/console/sessions/{id}/ws"),
        nonce,
    };
    let mut response = render(StatusCode::OK, &page);
    match HeaderValue::from_str(&policy(&page.nonce)) {
        Ok(csp) => {
            response.headers_mut().insert(CONTENT_SECURITY_POLICY, csp);
            response
        }
        // A token is base64url, always a valid header value; refuse rather than serve unprotected.
        Err(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "the page's security policy could not be set").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_adds_the_nonce_to_styles_only() {
        let csp = policy("abc_-1");
        assert!(csp.contains("style-src 'self' 'nonce-abc_-1'; style-src-attr 'unsafe-inline';"), "{csp}");
        assert!(csp.contains("script-src 'self';") && csp.contains("connect-src 'self';"), "{csp}");
        assert_eq!(csp.matches("nonce-").count(), 1, "{csp}");
    }
}
