//! Who the representative of a request is: a local representative (the console's own session
//! cookie) or a SAML user of the console's SP (the SP's session cookie, `Site::signed_in`).
//! Their group policies decide the jump items they may open.

use axum::http::HeaderMap;

use super::Inner;
use crate::ecm::ConsoleUser;
use crate::ConsoleError;

/// The local representatives' session cookie.
pub const SESSION_COOKIE: &str = "console_session";
/// The sign-in form's double-submit CSRF cookie.
pub const CSRF_COOKIE: &str = "console_csrf";

/// A signed-in representative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representative {
    /// Who owns a session: `local:ID` or `saml:ID`.
    pub owner: String,
    /// The console user the brokers are asked for: the local user name, or the SAML user's
    /// user name (their NameID when the IdP sent none).
    pub username: String,
    pub display_name: String,
    pub policies: Vec<String>,
    /// The CSRF token of their forms (bound to their session cookie).
    pub csrf: String,
    /// Signed in through SAML (sign-out goes through the SP's single logout).
    pub saml: bool,
}

impl Representative {
    /// A local representative, whose forms carry `csrf`.
    pub(crate) fn local(rep: &super::representatives::LocalRepresentative, csrf: String) -> Representative {
        Representative {
            owner: format!("local:{}", rep.id),
            username: rep.username.clone(),
            display_name: rep.display_name.clone(),
            policies: rep.policies.clone(),
            csrf,
            saml: false,
        }
    }

    pub fn console_user(&self) -> ConsoleUser {
        ConsoleUser { username: self.username.clone(), dn: None }
    }
}

impl Inner {
    /// The representative of this request, if one is signed in.
    pub(crate) async fn representative(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<Representative>, ConsoleError> {
        if let Some(token) = web::cookies::read(headers, SESSION_COOKIE) {
            if let Some(rep) = self.db.representative_session(token).await? {
                return Ok(Some(Representative::local(&rep, web::csrf::session_token(token))));
            }
        }
        let Some(site) = &self.site else { return Ok(None) };
        let Some(token) = web::cookies::read(headers, sp::web::SESSION_COOKIE) else { return Ok(None) };
        match site.signed_in(headers).await {
            Ok(s) => {
                let username = if s.local_user.username.is_empty() {
                    s.saml_user.name_id.clone()
                } else {
                    s.local_user.username.clone()
                };
                let full = format!("{} {}", s.local_user.first_name, s.local_user.last_name);
                let display_name =
                    if full.trim().is_empty() { username.clone() } else { full.trim().to_owned() };
                Ok(Some(Representative {
                    owner: format!("saml:{}", s.saml_user.id),
                    username,
                    display_name,
                    policies: s.policies,
                    csrf: web::csrf::session_token(token),
                    saml: true,
                }))
            }
            Err(sp::web::SiteError::NotSignedIn) => Ok(None),
            Err(e) => Err(super::sp::sp_failed(e)),
        }
    }
}
