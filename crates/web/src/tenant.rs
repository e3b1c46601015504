//! An extractor for the tenant named in the path: `Tenant(id)` for routes with a `{tenant}`
//! segment, answered 404 when the segment is not a UUID or names no tenant of the service.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::future::Future;
use uuid::Uuid;

/// The name of the path segment the tenant is read from.
pub const PATH_PARAM: &str = "tenant";

/// A service's tenants, for [`Tenant`].
pub trait TenantDirectory: Send + Sync {
    /// Whether `id` is a tenant of this service. A lookup error counts as unknown (logged by
    /// the implementation).
    fn tenant_exists(&self, id: Uuid) -> impl Future<Output = bool> + Send;
}

/// A tenant that exists, read from the `{tenant}` path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tenant(pub Uuid);

/// The answer for an unknown or malformed tenant (404; says nothing more).
#[derive(Debug)]
pub struct UnknownTenant;

impl IntoResponse for UnknownTenant {
    fn into_response(self) -> Response {
        (StatusCode::NOT_FOUND, "unknown tenant").into_response()
    }
}

impl<S: TenantDirectory> FromRequestParts<S> for Tenant {
    type Rejection = UnknownTenant;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, UnknownTenant> {
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| UnknownTenant)?;
        let raw = params.iter().find(|(k, _)| *k == PATH_PARAM).map(|(_, v)| v).ok_or(UnknownTenant)?;
        let id = Uuid::parse_str(raw).map_err(|_| UnknownTenant)?;
        if state.tenant_exists(id).await {
            Ok(Tenant(id))
        } else {
            Err(UnknownTenant)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt as _;

    const KNOWN: Uuid = Uuid::from_u128(0x1234);

    #[derive(Clone)]
    struct Directory;

    impl TenantDirectory for Directory {
        async fn tenant_exists(&self, id: Uuid) -> bool {
            id == KNOWN
        }
    }

    #[tokio::test]
    async fn only_known_tenants_reach_the_handler() {
        let router = Router::new()
            .route("/{tenant}/page", get(|Tenant(t): Tenant| async move { t.to_string() }))
            .with_state(Directory);
        let status = |path: String| {
            let router = router.clone();
            async move { router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap().status() }
        };
        assert_eq!(status(format!("/{KNOWN}/page")).await, StatusCode::OK);
        assert_eq!(status(format!("/{}/page", Uuid::from_u128(9))).await, StatusCode::NOT_FOUND);
        assert_eq!(status("/not-a-uuid/page".into()).await, StatusCode::NOT_FOUND);
    }
}
