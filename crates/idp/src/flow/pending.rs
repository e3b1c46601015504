//! What the browser was doing when it had to sign in, carried through the sign-in form.
//!
//! It holds nothing secret and nothing trusted: an AuthnRequest in it is decoded and checked
//! again, against its app, when the flow goes on after the sign-in.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A step that waits for the browser to sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    /// An AuthnRequest over HTTP-Redirect: the raw query string as received.
    Redirect { query: String },
    /// An AuthnRequest over HTTP-POST: its form fields.
    Post { saml_request: String, relay_state: Option<String> },
    /// Signing in to My Apps itself.
    MyApps,
    /// A My Apps tile (IdP-initiated SSO).
    Launch { app: Uuid },
    /// An administrator's "Test this application".
    Test { app: Uuid },
    /// The user's account page (password change, TOTP enrolment).
    Account,
}

impl Pending {
    /// The form field's value: base64url of the JSON.
    pub fn encode(&self) -> String {
        B64URL.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// The step a form field names; `None` when it is not one of ours.
    pub fn decode(s: &str) -> Option<Pending> {
        serde_json::from_slice(&B64URL.decode(s.trim()).ok()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_form_and_refuses_anything_else() {
        for p in [
            Pending::Redirect { query: "SAMLRequest=abc&RelayState=x".into() },
            Pending::Post { saml_request: "PHI+".into(), relay_state: None },
            Pending::MyApps,
            Pending::Launch { app: Uuid::from_u128(7) },
            Pending::Test { app: Uuid::from_u128(8) },
            Pending::Account,
        ] {
            assert_eq!(Pending::decode(&p.encode()), Some(p));
        }
        assert_eq!(Pending::decode("not base64!"), None);
        assert_eq!(Pending::decode(&B64URL.encode(br#"{"kind":"other"}"#)), None);
    }
}
