//! Browser sessions. The browser holds a random secret (the session cookie's value); the store
//! keeps only its SHA-256, so a leaked database holds no usable session.

use crate::error::Result;
use crate::service::Idp;
use store::model::{Session, User};
use uuid::Uuid;
use zeroize::Zeroizing;

/// How long an IdP session lasts without a new sign-in.
pub const SESSION_SECONDS: i64 = 8 * 3600;

/// What the store keeps for a session secret: its SHA-256, hex.
pub fn session_hash(secret: &str) -> String {
    web::token::sha256_hex(secret)
}

/// A session a sign-in has just started: the secret for the browser (and nothing else), the
/// stored record and its user.
pub struct NewSession {
    secret: Zeroizing<String>,
    pub session: Session,
    pub user: User,
}

impl NewSession {
    /// The secret, for the session cookie.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("secret", &"[redacted]")
            .field("user", &self.user.upn)
            .field("expires_at", &self.session.expires_at)
            .finish()
    }
}

/// How the flow finds the browser's session.
#[derive(Debug, Clone, Copy)]
pub enum SessionRef<'a> {
    /// The session cookie's value, if the browser sent one (looked up with the directory's
    /// change counter, in one round trip).
    Cookie(Option<&'a str>),
    /// The session this request's sign-in started: the user has just authenticated.
    New(&'a NewSession),
}

impl Idp {
    /// Starts a session for `user` (`mfa`: with the second factor).
    pub async fn start_session(&self, user: &User, mfa: bool) -> Result<NewSession> {
        let secret = Zeroizing::new(web::token::random_token()?);
        let at = self.unix_now();
        let session = Session {
            id_hash: session_hash(&secret),
            tenant_id: user.tenant_id,
            user_id: user.id,
            authn_instant: at,
            expires_at: at + SESSION_SECONDS,
            mfa,
        };
        self.store.create_session(&session).await?;
        Ok(NewSession { secret, session, user: user.clone() })
    }

    /// Ends the session whose cookie value is `secret` (wherever it was used).
    pub async fn end_session(&self, secret: &str) -> Result<()> {
        self.store.delete_session(&session_hash(secret)).await?;
        Ok(())
    }

    /// The signed-in user of the browser whose session cookie is `secret`, in `tenant`, if the
    /// session is valid and the user enabled.
    pub async fn signed_in_user(
        &self,
        tenant: Uuid,
        secret: Option<&str>,
    ) -> Result<Option<(Session, User)>> {
        let view = self.view_with_session(secret).await?;
        let found = view.session_user(tenant, secret).await?;
        Ok(found.map(|(session, user)| (session, User::clone(&user))))
    }
}
