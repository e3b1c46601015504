//! The console's web routes without an endpoint: the terminal page and its assets, the
//! WebSocket's checks (origin, session ID, size) and how a session that cannot be opened is told
//! to the browser.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::{read_until, Seen, Server};
use console::ssh::Session;
use console::web::{SessionInfo, Sessions, SessionsFuture};
use console::{ConsoleError, TermSize};
use tower::ServiceExt as _;

/// Knows one session, "s1" (titled "web <01>"), and cannot open any.
struct NoEndpoint;

impl Sessions for NoEndpoint {
    fn describe<'a>(&'a self, id: &'a str, _caller: &'a HeaderMap) -> SessionsFuture<'a, SessionInfo> {
        let known = id == "s1";
        Box::pin(async move {
            match known {
                true => Ok(SessionInfo { title: "web <01>".into() }),
                false => Err(ConsoleError::UnknownSession { id: id.into() }),
            }
        })
    }

    fn open<'a>(
        &'a self,
        id: &'a str,
        _size: TermSize,
        _caller: &'a HeaderMap,
    ) -> SessionsFuture<'a, Session> {
        Box::pin(async move { Err(ConsoleError::UnknownSession { id: id.into() }) })
    }
}

fn app() -> axum::Router {
    console::web::router(Arc::new(NoEndpoint), "http://127.0.0.1:8080")
        .unwrap()
        .merge(web::page::assets())
        .layer(web::headers::SecurityHeadersLayer::http())
}

async fn get(path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let r = app().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let body = axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

/// The values of `attr="…"` in `html`.
fn attributes<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    html.split(needle.as_str()).skip(1).filter_map(|rest| rest.split('"').next()).collect()
}

#[tokio::test]
async fn the_terminal_page_links_only_served_files_and_allows_xterms_styles_by_nonce() {
    let (status, headers, html) = get("/console/sessions/s1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>web &#60;01&#62;</h1>"), "the title is escaped:\n{html}");
    assert!(html.contains(r#"data-socket="/console/sessions/s1/ws""#), "{html}");
    assert!(!html.contains("<script>") && !html.contains(" style="), "no inline script or style:\n{html}");

    // The page's own policy: the shared one, with this response's nonce for styles.
    let csp = headers["content-security-policy"].to_str().unwrap();
    let nonces = attributes(&html, "nonce");
    assert_eq!(nonces.len(), 1, "one script carries the nonce:\n{html}");
    assert!(nonces[0].len() >= 16, "{nonces:?}");
    assert!(csp.contains(&format!("style-src 'self' 'nonce-{}'", nonces[0])), "{csp}");
    assert!(csp.contains("script-src 'self';") && !csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    let (_, again, html_again) = get("/console/sessions/s1").await;
    assert_ne!(attributes(&html_again, "nonce"), nonces, "a fresh nonce per response");
    assert_ne!(again["content-security-policy"], headers["content-security-policy"]);

    // Every script and stylesheet the page links is served, with its type, from the vendored file.
    let linked: Vec<&str> = attributes(&html, "src").into_iter().chain(attributes(&html, "href")).collect();
    let vendored = [
        ("/console/assets/xterm.js", include_str!("../assets/vendor/xterm/xterm.js")),
        ("/console/assets/xterm.css", include_str!("../assets/vendor/xterm/xterm.css")),
        ("/console/assets/addon-fit.js", include_str!("../assets/vendor/xterm/addon-fit.js")),
    ];
    for (path, body) in vendored {
        assert!(linked.contains(&path), "{path} not linked");
        assert_eq!(get(path).await.2, body, "{path}");
    }
    for path in linked.iter().filter(|p| p.ends_with(".js") || p.ends_with(".css")) {
        let (status, headers, _) = get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let kind = if path.ends_with(".js") { "text/javascript" } else { "text/css" };
        assert!(headers["content-type"].to_str().unwrap().starts_with(kind), "{path}");
    }
}

#[tokio::test]
async fn an_unknown_session_gets_a_coded_page() {
    for path in ["/console/sessions/nope", "/console/sessions/bad%20id"] {
        let (status, _, html) = get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("<code>PCC030</code>"), "{html}");
    }
}

#[tokio::test]
async fn the_websocket_refuses_other_sites_bad_ids_and_bad_sizes() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Error;
    let server = Server::start(Arc::new(NoEndpoint)).await;
    let status = |path: &'static str, origin: Option<&'static str>| {
        let url = server.ws_url(path);
        async move {
            let mut request = url.into_client_request().unwrap();
            if let Some(origin) = origin {
                request.headers_mut().insert("origin", origin.parse().unwrap());
            }
            match tokio_tungstenite::connect_async(request).await {
                Ok(_) => StatusCode::SWITCHING_PROTOCOLS,
                Err(Error::Http(response)) => response.status(),
                Err(e) => panic!("{e}"),
            }
        }
    };
    let evil = Some("http://evil.example");
    assert_eq!(status("/console/sessions/s1/ws", evil).await, StatusCode::FORBIDDEN);
    assert_eq!(status("/console/sessions/s1/ws?cols=0&rows=10", None).await, StatusCode::BAD_REQUEST);
    assert_eq!(status("/console/sessions/s1/ws?cols=80&rows=1001", None).await, StatusCode::BAD_REQUEST);
    assert_eq!(status("/console/sessions/a.b/ws", None).await, StatusCode::NOT_FOUND);
    // No Origin (not a browser) and the page's own origin are let through.
    assert_eq!(status("/console/sessions/s1/ws", None).await, StatusCode::SWITCHING_PROTOCOLS);
}

#[tokio::test]
async fn a_session_that_cannot_be_opened_is_explained_and_closed() {
    let server = Server::start(Arc::new(NoEndpoint)).await;
    let mut socket = server.terminal("gone", 80, 24).await;
    let mut seen = Seen::default();
    read_until(&mut socket, &mut seen, |s| s.closed).await;
    assert_eq!(seen.messages.len(), 1, "{seen:?}");
    assert_eq!(seen.messages[0]["type"], "error");
    assert_eq!(seen.messages[0]["code"], "PCC030");
    assert!(seen.messages[0]["message"].as_str().unwrap().contains("start the session again"), "{seen:?}");
    assert_eq!(seen.close_code, Some(1011));
    assert!(seen.output.is_empty());
}
