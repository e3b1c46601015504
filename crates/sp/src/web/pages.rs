//! The SP site's pages for its users: askama templates (`crates/sp/templates`, auto-escaped) on
//! the product's shared layout (`web::page`). Nothing here builds HTML by hand.

use crate::db::{LocalUser, Policy, Provider, SamlUser};
use askama::Template;
use web::page::Layout;

/// Query-component encoding for the links the pages carry.
pub(super) fn q(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A refused request: its stable code and the sentence that says what to do.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub(super) struct ErrorPage<'a> {
    pub layout: Layout,
    pub heading: &'a str,
    pub code: &'a str,
    pub message: &'a str,
}

/// The landing page of a browser without a session: "Log in with …" per provider.
#[derive(Debug, Template)]
#[template(path = "signed_out.html")]
pub(super) struct SignedOutPage<'a> {
    pub layout: Layout,
    pub app: &'a str,
    /// (provider name, login link)
    pub providers: Vec<(String, String)>,
    /// Some provider serves e-mail domains: the discovery page can find it.
    pub discovery: bool,
}

impl<'a> SignedOutPage<'a> {
    pub fn new(layout: Layout, app: &'a str, providers: &[Provider]) -> Self {
        let discovery = providers.len() > 1 && providers.iter().any(|p| !p.email_domains.is_empty());
        let providers = providers
            .iter()
            .map(|p| (p.name.clone(), format!("/saml/login?provider={}", q(&p.name))))
            .collect();
        SignedOutPage { layout, app, providers, discovery }
    }
}

/// The landing page of a signed-in user: who they are, their groups, permissions and sites.
#[derive(Debug, Template)]
#[template(path = "signed_in.html")]
pub(super) struct SignedInPage<'a> {
    pub layout: Layout,
    pub app: &'a str,
    pub provider: Option<&'a str>,
    pub saml: &'a SamlUser,
    pub user: &'a LocalUser,
    /// Whether the "Administration" link leads anywhere for this user.
    pub may_administer: bool,
}

/// What a user in the waiting room sees after signing in.
#[derive(Debug, Template)]
#[template(path = "waiting.html")]
pub(super) struct WaitingPage<'a> {
    pub layout: Layout,
    pub user: &'a LocalUser,
}

/// An access request still waiting for a decision, as the waiting room shows it.
#[derive(Debug)]
pub(super) struct PendingView {
    pub policy: String,
    pub sites: String,
}

/// A user in the waiting room.
#[derive(Debug)]
pub(super) struct WaitingUser<'a> {
    pub saml: &'a SamlUser,
    pub local: &'a LocalUser,
    /// The pending request filed for them: no second one can be filed.
    pub pending: Option<PendingView>,
}

/// The waiting users, each with a "new user" access request form (or its pending request).
#[derive(Debug, Template)]
#[template(path = "waiting_room.html")]
pub(super) struct WaitingRoomPage<'a> {
    pub layout: Layout,
    pub users: Vec<WaitingUser<'a>>,
    pub policies: &'a [Policy],
    pub csrf: &'a str,
}

/// A pending access request with what it asks for.
#[derive(Debug)]
pub(super) struct RequestRow {
    pub id: uuid::Uuid,
    pub user: String,
    pub policy: String,
    pub sites: String,
}

/// The pending access requests with approve/reject forms.
#[derive(Debug, Template)]
#[template(path = "access_requests.html")]
pub(super) struct AccessRequestsPage<'a> {
    pub layout: Layout,
    pub requests: Vec<RequestRow>,
    pub csrf: &'a str,
}

/// What the discovery page found for the e-mail address.
#[derive(Debug)]
pub(super) enum Discovery {
    Ask,
    Found {
        name: String,
        href: String,
    },
    /// The domain no provider serves.
    Unknown(String),
}

/// The sign-on page: asks for an e-mail address and finds its organisation's provider.
#[derive(Debug, Template)]
#[template(path = "discovery.html")]
pub(super) struct DiscoveryPage<'a> {
    pub layout: Layout,
    pub app: &'a str,
    pub email: &'a str,
    pub ret: &'a str,
    pub found: Discovery,
    pub local: Option<&'a str>,
}

/// The end of a single logout.
#[derive(Debug, Template)]
#[template(path = "signed_out_complete.html")]
pub(super) struct SignedOutCompletePage<'a> {
    pub layout: Layout,
    pub app: &'a str,
    pub provider: &'a str,
}

/// The administration overview (`settings:view`).
#[derive(Debug, Template)]
#[template(path = "settings.html")]
pub(super) struct SettingsPage<'a> {
    pub layout: Layout,
    pub app: &'a str,
    pub entity_id: String,
    pub acs_url: String,
    pub slo_url: String,
    pub providers: Vec<Provider>,
    pub policies: Vec<Policy>,
    pub mappings: Vec<(String, Policy)>,
    pub users: Vec<(SamlUser, LocalUser)>,
    /// The viewer may change the settings (links to the editable pages).
    pub may_write: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(email: &str) -> LocalUser {
        LocalUser {
            id: uuid::Uuid::nil(),
            app_id: uuid::Uuid::nil(),
            username: "bob<script>".into(),
            first_name: String::new(),
            last_name: String::new(),
            email: email.into(),
            created_at: 0,
        }
    }

    fn saml(permissions: &[&str]) -> SamlUser {
        SamlUser {
            id: uuid::Uuid::nil(),
            provider_id: uuid::Uuid::nil(),
            name_id: "nid".into(),
            local_user_id: uuid::Uuid::nil(),
            groups: vec![],
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            waiting: false,
            granted_policy_id: None,
            granted_sites: vec![],
            created_at: 0,
            last_login_at: 0,
        }
    }

    /// Issue 14 item 7: the waiting page never reads "You will get an e-mail at  when that
    /// is decided" for a user without an e-mail address.
    #[test]
    fn the_waiting_page_names_the_address_or_says_there_is_none() {
        let layout = || Layout::new("Waiting room", "CRM", "/");
        let page = web::page::html(&WaitingPage { layout: layout(), user: &user("") }).expect("render");
        assert!(!page.contains("e-mail at"), "{page}");
        assert!(page.contains("sent no e-mail address") && page.contains("sign in again later"), "{page}");
        assert!(page.contains("bob&#60;script&#62;") && !page.contains("<script>"), "escaped: {page}");
        let with = user("bob@contoso.test");
        let page = web::page::html(&WaitingPage { layout: layout(), user: &with }).expect("render");
        assert!(
            page.contains("an e-mail at <strong>bob@contoso.test</strong> when that is decided"),
            "{page}"
        );
    }

    /// Issue 14 item 8: the landing page links "Administration" only for users who may see it.
    #[test]
    fn the_administration_link_shows_only_to_administrators() {
        let u = user("bob@contoso.test");
        let render = |s: &SamlUser, may_administer| {
            let page = SignedInPage {
                layout: Layout::new("Home", "CRM", "/"),
                app: "CRM",
                provider: Some("Contoso"),
                saml: s,
                user: &u,
                may_administer,
            };
            web::page::html(&page).expect("render")
        };
        let plain = saml(&["profile:read"]);
        assert!(!render(&plain, false).contains("href=\"/admin\""));
        let admin = saml(&["settings:view"]);
        assert!(render(&admin, true)
            .contains("<a id=\"administration\" class=\"button secondary\" href=\"/admin\">"));
    }
}
