//! The security headers every response of every service carries, as one tower layer.
//!
//! Set on every response unless the handler set its own value: `X-Content-Type-Options:
//! nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, and a strict
//! `Content-Security-Policy` (our own stylesheet and scripts only, no framing, forms to this
//! origin). A page that needs more (the SAML POST form posts to another origin and runs one
//! hashed script) sets its own `Content-Security-Policy`, which the layer leaves alone. With
//! [`SecurityHeadersLayer::https`], `Strict-Transport-Security` is added too.

use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The default policy: everything from this origin only, nothing inline, no framing.
pub const DEFAULT_CSP: &str =
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Sets the security headers on `headers` where the handler has not.
pub fn apply(headers: &mut HeaderMap, hsts: bool) {
    let defaults: [(_, &'static str); 4] = [
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (X_FRAME_OPTIONS, "DENY"),
        (REFERRER_POLICY, "no-referrer"),
        (CONTENT_SECURITY_POLICY, DEFAULT_CSP),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if hsts && !headers.contains_key(STRICT_TRANSPORT_SECURITY) {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
}

/// The layer: `router.layer(SecurityHeadersLayer::for_base_url(base_url))`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecurityHeadersLayer {
    hsts: bool,
}

impl SecurityHeadersLayer {
    /// For a service reached over plain http (no HSTS).
    pub fn http() -> Self {
        SecurityHeadersLayer { hsts: false }
    }

    /// For a service reached over https (adds HSTS).
    pub fn https() -> Self {
        SecurityHeadersLayer { hsts: true }
    }

    /// HSTS exactly when `base_url` is https.
    pub fn for_base_url(base_url: &str) -> Self {
        SecurityHeadersLayer { hsts: base_url.trim().to_ascii_lowercase().starts_with("https://") }
    }
}

impl<S> tower_layer::Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;
    fn layer(&self, inner: S) -> SecurityHeaders<S> {
        SecurityHeaders { inner, hsts: self.hsts }
    }
}

/// The service [`SecurityHeadersLayer`] wraps around a router.
#[derive(Debug, Clone)]
pub struct SecurityHeaders<S> {
    inner: S,
    hsts: bool,
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for SecurityHeaders<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let response = self.inner.call(req);
        let hsts = self.hsts;
        Box::pin(async move {
            let mut r = response.await?;
            apply(r.headers_mut(), hsts);
            Ok(r)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt as _;

    async fn call(router: Router, path: &str) -> Response<Body> {
        router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap()
    }

    #[tokio::test]
    async fn every_response_gets_the_headers_and_a_handler_may_set_its_own_policy() {
        let router = Router::new()
            .route("/plain", get(|| async { "hi" }))
            .route(
                "/own",
                get(|| async { ([(CONTENT_SECURITY_POLICY, "default-src 'none'; form-action *")], "form") }),
            )
            .layer(SecurityHeadersLayer::http());
        let plain = call(router.clone(), "/plain").await;
        assert_eq!(plain.headers()[X_FRAME_OPTIONS], "DENY");
        assert_eq!(plain.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(plain.headers()[REFERRER_POLICY], "no-referrer");
        assert_eq!(plain.headers()[CONTENT_SECURITY_POLICY], DEFAULT_CSP);
        assert!(!plain.headers().contains_key(STRICT_TRANSPORT_SECURITY));
        let own = call(router.clone(), "/own").await;
        assert_eq!(own.headers()[CONTENT_SECURITY_POLICY], "default-src 'none'; form-action *");
        let missing = call(router, "/nothing-here").await;
        assert_eq!(missing.status(), 404);
        assert_eq!(missing.headers()[X_FRAME_OPTIONS], "DENY", "the fallback too");
    }

    #[tokio::test]
    async fn https_adds_hsts() {
        let router = Router::new()
            .route("/", get(|| async { "hi" }))
            .layer(SecurityHeadersLayer::for_base_url("https://sso.example.com"));
        assert!(call(router, "/").await.headers().contains_key(STRICT_TRANSPORT_SECURITY));
    }
}
