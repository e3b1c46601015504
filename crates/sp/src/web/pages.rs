//! The few HTML pages of the SP site (no templates, everything escaped).

use crate::db::{AccessRequest, LocalUser, Policy, Provider, SamlUser};

/// HTML-escapes text for element content and double-quoted attributes.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Query-component encoding for links.
fn q(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body>\n{body}\n</body></html>\n",
        esc(title)
    )
}

pub(crate) fn error(code: &str, message: &str) -> String {
    page(
        "Sign-in failed",
        &format!(
            "<h1>Sign-in failed</h1>\n<p>Error code: <span class=\"code\">{}</span></p>\n<p class=\"message\">{}</p>\n\
             <p><a href=\"/\">Back</a></p>",
            esc(code),
            esc(message)
        ),
    )
}

pub(crate) fn signed_out(app: &str, providers: &[Provider]) -> String {
    let links: String = providers
        .iter()
        .map(|p| {
            format!(
                "<li><a href=\"/saml/login?provider={}\">Log in with {}</a></li>\n",
                q(&p.name),
                esc(&p.name)
            )
        })
        .collect();
    if providers.is_empty() {
        return page(
            app,
            &format!(
                "<h1>{}</h1>\n<p>You are not signed in, and no identity provider is configured yet: the \
                 administrator adds one on <a href=\"/admin/setup\">the first-setup page</a> with the \
                 setup token the app printed at start (or starts it with <code>--idp-metadata \
                 FILE_OR_URL</code>).</p>",
                esc(app)
            ),
        );
    }
    page(app, &format!("<h1>{}</h1>\n<p>You are not signed in.</p>\n<ul>\n{links}</ul>", esc(app)))
}

fn list(id: &str, items: &[String]) -> String {
    let lis: String = items.iter().map(|i| format!("<li>{}</li>", esc(i))).collect();
    format!("<ul id=\"{id}\">{lis}</ul>")
}

pub(crate) fn signed_in(app: &str, provider: Option<&Provider>, s: &SamlUser, u: &LocalUser) -> String {
    page(
        app,
        &format!(
            "<h1>{}</h1>\n<p>Signed in as <span id=\"username\">{}</span> through <span id=\"provider\">{}</span>.</p>\n\
             <dl>\n<dt>First name</dt><dd id=\"first-name\">{}</dd>\n<dt>Last name</dt><dd id=\"last-name\">{}</dd>\n\
             <dt>E-mail</dt><dd id=\"email\">{}</dd>\n<dt>NameID</dt><dd id=\"name-id\">{}</dd>\n</dl>\n\
             <h2>Groups</h2>\n{}\n<h2>Effective permissions</h2>\n{}\n<h2>Sites</h2>\n{}\n<p><a href=\"/admin\">Administration</a></p>",
            esc(app),
            esc(&u.username),
            esc(provider.map(|p| p.name.as_str()).unwrap_or("")),
            esc(&u.first_name),
            esc(&u.last_name),
            esc(&u.email),
            esc(&s.name_id),
            list("groups", &s.groups),
            list("permissions", &s.permissions),
            list("sites", &s.granted_sites),
        ),
    )
}

pub(crate) fn waiting(app: &str, u: &LocalUser) -> String {
    page(
        app,
        &format!(
            "<h1>Waiting room</h1>\n<p id=\"waiting\">Welcome, {}. Your account is in the waiting room: someone \
             with access must request access for you and an administrator must approve it. You will get an \
             e-mail at {} when that is decided; then sign in again.</p>",
            esc(&u.username),
            esc(&u.email)
        ),
    )
}

/// The waiting users, each with a "new user" access request form.
pub(crate) fn waiting_room(
    app: &str,
    users: &[(SamlUser, LocalUser)],
    policies: &[Policy],
    csrf: &str,
) -> String {
    let options: String = policies
        .iter()
        .map(|p| format!("<option value=\"{}\">{}</option>", esc(&p.name), esc(&p.name)))
        .collect();
    let rows: String = users
        .iter()
        .map(|(s, u)| {
            format!(
                "<li class=\"waiting-user\" data-user=\"{id}\">{} ({})\n<form method=\"post\" \
                 action=\"/admin/access-requests\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"hidden\" name=\"user\" value=\"{id}\"><label>Access level <select \
                 name=\"policy\">{options}</select></label> <label>Sites <input name=\"sites\" \
                 placeholder=\"site-a, site-b\"></label> <button>Request access</button></form></li>\n",
                esc(&u.username),
                esc(&u.email),
                id = s.id,
                csrf = esc(csrf),
            )
        })
        .collect();
    page(app, &format!("<h1>Waiting room</h1>\n<ul id=\"waiting-users\">\n{rows}</ul>"))
}

/// Pending access requests with approve/reject forms.
pub(crate) fn access_requests(app: &str, requests: &[(AccessRequest, String, String)], csrf: &str) -> String {
    let rows: String = requests
        .iter()
        .map(|(r, user, policy)| {
            let form = |decision: &str, label: &str| {
                format!(
                    "<form method=\"post\" action=\"/admin/access-requests/decide\"><input type=\"hidden\" \
                     name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"id\" value=\"{}\"><input \
                     type=\"hidden\" name=\"decision\" value=\"{decision}\"><button>{label}</button></form>",
                    esc(csrf),
                    r.id
                )
            };
            format!(
                "<li class=\"access-request\" data-request=\"{}\">{} — {} — {}\n{}{}</li>\n",
                r.id,
                esc(user),
                esc(policy),
                esc(&r.sites.join(", ")),
                form("approve", "Approve"),
                form("reject", "Reject")
            )
        })
        .collect();
    page(app, &format!("<h1>Access requests</h1>\n<ul id=\"access-requests\">\n{rows}</ul>"))
}

/// What the discovery page found.
pub(crate) enum Discovery {
    Ask,
    /// The provider's name.
    Found(String),
    Unknown(String),
}

pub(crate) fn discovery(app: &str, email: &str, ret: &str, found: Discovery, local: Option<&str>) -> String {
    let form = format!(
        "<form method=\"get\" action=\"/login\"><label>E-mail address <input type=\"email\" name=\"email\" \
         value=\"{}\"></label><input type=\"hidden\" name=\"return\" value=\"{}\"> <button>Continue</button></form>",
        esc(email),
        esc(ret)
    );
    let answer = match found {
        Discovery::Ask => String::new(),
        Discovery::Found(name) => format!(
            "<p><a id=\"provider-login\" href=\"/saml/login?provider={}&amp;return={}\">Log in with {}</a></p>",
            q(&name),
            q(ret),
            esc(&name)
        ),
        Discovery::Unknown(domain) => {
            let local = local
                .map(|u| format!(" <a id=\"local-sign-in\" href=\"{}\">Sign in with a local account</a>", esc(u)))
                .unwrap_or_default();
            format!(
                "<p id=\"unknown-domain\">No identity provider is set up for the domain {:?}: check the address, \
                 or ask your administrator to register the domain with your organisation's provider.{local}</p>",
                esc(&domain)
            )
        }
    };
    page(app, &format!("<h1>Sign in to {}</h1>\n{form}\n{answer}", esc(app)))
}

pub(crate) fn signed_out_complete(app: &str, provider: &str) -> String {
    page(
        app,
        &format!(
            "<h1>Signed out</h1>\n<p id=\"signed-out\">You are signed out of {} and of {}.</p>\n<p><a href=\"/\">Home</a></p>",
            esc(app),
            esc(provider)
        ),
    )
}

/// What the settings page shows.
pub(crate) struct SettingsView {
    pub entity_id: String,
    pub acs_url: String,
    pub slo_url: String,
    pub providers: Vec<Provider>,
    pub policies: Vec<Policy>,
    pub mappings: Vec<(String, Policy)>,
    pub users: Vec<(SamlUser, LocalUser)>,
}

pub(crate) fn settings(app: &str, v: &SettingsView) -> String {
    let providers: String = v
        .providers
        .iter()
        .map(|p| {
            format!(
                "<tr class=\"provider\"><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td></tr>\n",
                esc(&p.name),
                esc(&p.idp_entity_id),
                esc(&p.sso_url),
                p.sso_binding.as_str(),
                esc(p.slo_url.as_deref().unwrap_or("")),
                p.signing_certs.len(),
                esc(&p.email_domains.join(", ")),
                if p.allow_idp_initiated { "yes" } else { "no" },
                if p.waiting_room { "yes" } else { "no" },
            )
        })
        .collect();
    let policies: String = v
        .policies
        .iter()
        .map(|p| format!("<li class=\"policy\">{}: {}</li>\n", esc(&p.name), esc(&p.permissions.join(", "))))
        .collect();
    let mappings: String = v
        .mappings
        .iter()
        .map(|(g, p)| format!("<li class=\"mapping\">{} → {}</li>\n", esc(g), esc(&p.name)))
        .collect();
    let users: String = v
        .users
        .iter()
        .map(|(s, u)| {
            format!(
                "<tr class=\"saml-user\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(&u.username),
                esc(&u.email),
                esc(&s.name_id),
                if s.waiting { "waiting" } else { "active" },
                esc(&s.permissions.join(", "))
            )
        })
        .collect();
    page(
        app,
        &format!(
            "<h1>{} settings</h1>\n<h2>Service provider</h2>\n<dl><dt>Entity ID</dt><dd id=\"sp-entity-id\">{}</dd>\
             <dt>ACS URL</dt><dd id=\"sp-acs-url\">{}</dd><dt>SLO URL</dt><dd>{}</dd></dl>\n\
             <p><a href=\"/saml/metadata\">SP metadata</a></p>\n<p id=\"admin-links\">Change the settings \
             (<code>settings:write</code>): <a href=\"/admin/providers\">SAML providers</a>, <a \
             href=\"/admin/policies\">group policies</a>, <a href=\"/admin/groups\">available groups</a>, <a \
             href=\"/admin/sp\">SP settings</a></p>\n<h2>SAML providers</h2>\n<table id=\"providers\">\
             <tr><th>Name</th><th>IdP entity ID</th><th>SSO URL</th><th>SLO URL</th><th>Certificates</th>\
             <th>Domains</th><th>IdP-initiated</th><th>Waiting room</th></tr>\n{providers}</table>\n\
             <h2>Group policies</h2>\n<ul id=\"policies\">{policies}</ul>\n<h2>Available groups</h2>\n\
             <ul id=\"mappings\">{mappings}</ul>\n<h2>SAML users</h2>\n<table id=\"saml-users\"><tr><th>User</th>\
             <th>E-mail</th><th>NameID</th><th>Status</th><th>Permissions</th></tr>\n{users}</table>",
            esc(app),
            esc(&v.entity_id),
            esc(&v.acs_url),
            esc(&v.slo_url),
        ),
    )
}
