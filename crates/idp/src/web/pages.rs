//! The IdP's pages: askama templates (`crates/idp/templates`, auto-escaped) on the product's
//! shared layout. None needs JavaScript.

use askama::Template;
use web::page::Layout;

/// The product area the IdP's pages show next to the brand.
pub const AREA: &str = "My Apps";

/// The sign-in form. `ctx` carries the pending step ([`crate::flow::Pending`]) through it.
#[derive(Debug, Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage<'a> {
    pub layout: Layout,
    pub action: &'a str,
    pub csrf: &'a str,
    pub ctx: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
    /// The app the browser is signing in to.
    pub app: Option<&'a str>,
}

/// The second step, for users with TOTP.
#[derive(Debug, Template)]
#[template(path = "otp.html")]
pub struct OtpPage<'a> {
    pub layout: Layout,
    pub action: &'a str,
    pub csrf: &'a str,
    pub ctx: &'a str,
    /// The proof of the first step ([`crate::flow::MfaToken`]).
    pub pending: &'a str,
    pub error: Option<&'a str>,
}

/// A refused sign-in: the stable code, the sentence for the administrator, and the correlation
/// ID to look up in the sign-in log.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub layout: Layout,
    pub code: &'a str,
    pub message: &'a str,
    pub app: Option<&'a str>,
    pub correlation_id: &'a str,
}

/// One My Apps tile.
#[derive(Debug)]
pub struct TileLink {
    pub name: String,
    pub href: String,
    /// What the tile shows as its logo: the name's first letter.
    pub initial: String,
}

impl TileLink {
    pub fn new(name: String, href: String) -> TileLink {
        let initial = name
            .chars()
            .find(|c| c.is_alphanumeric())
            .map(|c| c.to_uppercase().collect())
            .unwrap_or_default();
        TileLink { name, href, initial }
    }
}

/// The My Apps portal.
#[derive(Debug, Template)]
#[template(path = "my_apps.html")]
pub struct MyAppsPage {
    pub layout: Layout,
    pub tiles: Vec<TileLink>,
}

/// The signed-in user's account page: password change and the TOTP authenticator.
#[derive(Debug, Template)]
#[template(path = "account.html")]
pub struct AccountPage<'a> {
    pub layout: Layout,
    pub upn: &'a str,
    /// The session's CSRF token ([`web::csrf::session_token`]).
    pub csrf: &'a str,
    pub password_action: &'a str,
    pub remove_action: &'a str,
    pub enrol_href: &'a str,
    pub my_apps: &'a str,
    pub has_totp: bool,
    pub min_chars: usize,
    pub max_chars: usize,
    /// What the last form did.
    pub done: Option<&'a str>,
    pub password_error: Option<&'a str>,
    pub totp_error: Option<&'a str>,
}

/// A pending TOTP enrolment: the secret as a URI and as text, and the confirmation form.
#[derive(Debug, Template)]
#[template(path = "totp_enrol.html")]
pub struct TotpEnrolPage<'a> {
    pub layout: Layout,
    pub uri: &'a str,
    pub secret: &'a str,
    pub csrf: &'a str,
    pub action: &'a str,
    /// The sealed pending secret ([`crate::flow::account::TotpEnrolment::pending`]).
    pub pending: &'a str,
    pub back: &'a str,
    pub error: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout::new("Sign in", AREA, "/t/myapps")
    }

    #[test]
    fn everything_is_escaped() {
        let p = SignInPage {
            layout: layout(),
            action: "/t/login",
            csrf: "c\"",
            ctx: "<ctx>",
            username: "a\"><script>",
            error: Some("<b>"),
            app: Some("App & Co"),
        };
        let p = web::page::html(&p).unwrap();
        assert!(!p.contains("<script>") && !p.contains("<ctx>") && !p.contains("<b>"), "{p}");
        assert!(p.contains("name=\"username\"") && p.contains("name=\"password\""));
        assert!(p.contains("App &#38; Co"), "{p}");
        let m = MyAppsPage {
            layout: layout(),
            tiles: vec![
                TileLink::new("<x>".into(), "javascript:\"".into()),
                TileLink::new("élan".into(), "/e".into()),
            ],
        };
        let m = web::page::html(&m).unwrap();
        assert!(m.contains("&#60;x&#62;") && m.contains("javascript:&#34;"), "{m}");
        assert!(
            m.contains(r#"data-initial="X">&#60;x&#62;</a>"#) && m.contains(r#"data-initial="É">élan</a>"#),
            "{m}"
        );
    }

    #[test]
    fn the_account_pages_escape_and_put_the_csrf_token_in_every_form() {
        let p = AccountPage {
            layout: layout(),
            upn: "a\"<b>@contoso.test",
            csrf: "tok\"en",
            password_action: "/t/account/password",
            remove_action: "/t/account/totp/remove",
            enrol_href: "/t/account/totp",
            my_apps: "/t/myapps",
            has_totp: true,
            min_chars: 12,
            max_chars: 256,
            done: Some("<done>"),
            password_error: None,
            totp_error: Some("<bad>"),
        };
        let p = web::page::html(&p).unwrap();
        assert!(!p.contains("<b>") && !p.contains("<done>") && !p.contains("<bad>"), "{p}");
        assert_eq!(p.matches("<form method=\"post\"").count(), 2, "{p}");
        assert_eq!(p.matches(r#"name="csrf" value="tok&#34;en""#).count(), 2, "{p}");
        assert!(p.contains(r#"minlength="12""#) && p.contains("Turn off"), "{p}");
        let e = TotpEnrolPage {
            layout: layout(),
            uri: "otpauth://totp/Portcullis:a?secret=ABC&issuer=Portcullis",
            secret: "ABC",
            csrf: "tok",
            action: "/t/account/totp",
            pending: "sealed<x>",
            back: "/t/account",
            error: None,
        };
        let e = web::page::html(&e).unwrap();
        assert!(e.contains("secret=ABC&#38;issuer") && e.contains(">ABC</code>"), "{e}");
        assert!(
            e.contains(r#"name="pending" value="sealed&#60;x&#62;""#)
                && e.contains(r#"name="csrf" value="tok""#),
            "{e}"
        );
    }

    #[test]
    fn the_error_page_shows_code_message_and_correlation_id() {
        let p = ErrorPage {
            layout: layout(),
            code: "PCS50105",
            message: "user \"a\" is not assigned",
            app: Some("Portal"),
            correlation_id: "0c1d",
        };
        let p = web::page::html(&p).unwrap();
        assert!(p.contains(r#"Error code: <span class="code">PCS50105</span>"#), "{p}");
        assert!(p.contains("Application: <strong>Portal</strong>"), "{p}");
        assert!(p.contains("Correlation ID: <span class=\"code\">0c1d</span>"), "{p}");
        assert!(p.contains("user &#34;a&#34; is not assigned"), "{p}");
    }
}
