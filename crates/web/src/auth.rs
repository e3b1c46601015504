//! An extractor for an authorised principal: a handler that takes
//! `Authorized<Principal, ManageApps>` runs only for a caller holding that permission, so the
//! check cannot be forgotten or done with the wrong permission in the body.
//!
//! A service plugs in its own credentials (bearer tokens, session cookies, OAuth access tokens)
//! by implementing [`Authority`] for its principal type, and names its permissions as marker
//! types with [`requirements!`](crate::requirements):
//!
//! ```
//! use axum::http::request::Parts;
//! use web::auth::{Authority, Authorized};
//!
//! #[derive(Clone, Copy, PartialEq, Debug)]
//! enum Permission { Read, Write }
//! struct Admin { name: String }
//! #[derive(Clone)]
//! struct AppState;
//!
//! impl Authority<AppState> for Admin {
//!     type Permission = Permission;
//!     type Rejection = (axum::http::StatusCode, &'static str);
//!     async fn authorize(parts: &mut Parts, _: &AppState, needed: Option<Permission>) -> Result<Self, Self::Rejection> {
//!         let token = parts.headers.get("authorization").ok_or((axum::http::StatusCode::UNAUTHORIZED, "sign in"))?;
//!         if needed == Some(Permission::Write) && token != "Bearer writer" {
//!             return Err((axum::http::StatusCode::FORBIDDEN, "needs write"));
//!         }
//!         Ok(Admin { name: "alice".into() })
//!     }
//! }
//!
//! web::requirements!(Permission { CanRead => Permission::Read, CanWrite => Permission::Write });
//!
//! async fn update(who: Authorized<Admin, CanWrite>) -> String {
//!     format!("updated by {}", who.name)
//! }
//! let _router: axum::Router = axum::Router::new().route("/", axum::routing::post(update)).with_state(AppState);
//! ```

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;

/// How a service finds out who is calling and whether they hold a permission.
pub trait Authority<S>: Sized + Send {
    /// The service's permissions.
    type Permission: Copy + Send + Sync + 'static;
    /// What an unauthenticated (401) or unauthorised (403) caller gets.
    type Rejection: IntoResponse;

    /// The principal behind the request's credentials, if it holds `needed` (`None`: any
    /// authenticated principal).
    fn authorize(
        parts: &mut Parts,
        state: &S,
        needed: Option<Self::Permission>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send;
}

/// A permission named as a type, for [`Authorized`]'s second parameter.
pub trait Requirement<P>: 'static {
    /// The permission required (`None`: authentication alone).
    const NEEDED: Option<P>;
}

/// Any authenticated principal, whatever it may do.
#[derive(Debug)]
pub struct Authenticated;

impl<P> Requirement<P> for Authenticated {
    const NEEDED: Option<P> = None;
}

/// The principal `A`, authorised for requirement `R`.
pub struct Authorized<A, R> {
    /// Who is calling.
    pub principal: A,
    _requirement: PhantomData<fn() -> R>,
}

impl<A, R> Authorized<A, R> {
    /// The principal, for a handler that keeps it.
    pub fn into_inner(self) -> A {
        self.principal
    }
}

impl<A, R> Deref for Authorized<A, R> {
    type Target = A;
    fn deref(&self) -> &A {
        &self.principal
    }
}

impl<A: std::fmt::Debug, R> std::fmt::Debug for Authorized<A, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorized")
            .field("principal", &self.principal)
            .field("requirement", &std::any::type_name::<R>())
            .finish()
    }
}

impl<S, A, R> FromRequestParts<S> for Authorized<A, R>
where
    S: Send + Sync,
    A: Authority<S>,
    R: Requirement<A::Permission>,
{
    type Rejection = A::Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let principal = A::authorize(parts, state, R::NEEDED).await?;
        Ok(Authorized { principal, _requirement: PhantomData })
    }
}

/// Declares marker types for a service's permissions:
/// `requirements!(Permission { ManageApps => Permission::ManageApps, … })` makes `ManageApps` a
/// [`Requirement`] of `Permission::ManageApps`.
#[macro_export]
macro_rules! requirements {
    ($permission:ty { $( $(#[$meta:meta])* $name:ident => $value:expr ),* $(,)? }) => {
        $(
            $(#[$meta])*
            #[derive(Debug)]
            pub struct $name;
            impl $crate::auth::Requirement<$permission> for $name {
                const NEEDED: Option<$permission> = Some($value);
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt as _;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Perm {
        Read,
        Write,
    }

    #[derive(Debug)]
    struct Who(&'static str);

    #[derive(Clone)]
    struct State;

    impl Authority<State> for Who {
        type Permission = Perm;
        type Rejection = StatusCode;
        async fn authorize(parts: &mut Parts, _: &State, needed: Option<Perm>) -> Result<Self, StatusCode> {
            let who = match parts.headers.get("x-user").and_then(|v| v.to_str().ok()) {
                Some("reader") => Who("reader"),
                Some("writer") => Who("writer"),
                _ => return Err(StatusCode::UNAUTHORIZED),
            };
            match (needed, who.0) {
                (Some(Perm::Write), "reader") => Err(StatusCode::FORBIDDEN),
                _ => Ok(who),
            }
        }
    }

    crate::requirements!(Perm { CanRead => Perm::Read, CanWrite => Perm::Write });

    async fn status(router: Router, path: &str, user: Option<&str>) -> StatusCode {
        let mut req = Request::get(path);
        if let Some(u) = user {
            req = req.header("x-user", u);
        }
        router.oneshot(req.body(Body::empty()).unwrap()).await.unwrap().status()
    }

    #[tokio::test]
    async fn handlers_run_only_for_principals_holding_their_permission() {
        let router = Router::new()
            .route("/me", get(|w: Authorized<Who, Authenticated>| async move { w.0 }))
            .route("/read", get(|w: Authorized<Who, CanRead>| async move { w.0 }))
            .route("/write", get(|w: Authorized<Who, CanWrite>| async move { w.0 }))
            .with_state(State);
        assert_eq!(status(router.clone(), "/me", None).await, StatusCode::UNAUTHORIZED);
        assert_eq!(status(router.clone(), "/me", Some("reader")).await, StatusCode::OK);
        assert_eq!(status(router.clone(), "/read", Some("reader")).await, StatusCode::OK);
        assert_eq!(status(router.clone(), "/write", Some("reader")).await, StatusCode::FORBIDDEN);
        assert_eq!(status(router.clone(), "/write", Some("writer")).await, StatusCode::OK);
        assert_eq!(status(router, "/write", None).await, StatusCode::UNAUTHORIZED);
        assert_eq!(<CanWrite as Requirement<Perm>>::NEEDED, Some(Perm::Write));
    }
}
