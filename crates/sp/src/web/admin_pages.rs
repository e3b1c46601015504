//! The HTML of the admin pages (no templates; every value escaped with [`esc`]).

use super::pages::esc;
use crate::db::{Policy, Provider, SsoBinding, WantSigned};
use crate::providers::RefreshReport;

fn page(app: &str, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — {}</title></head>\
         <body>\n<nav><a href=\"/\">Home</a> · <a href=\"/admin\">Overview</a> · \
         <a href=\"/admin/providers\">SAML providers</a> · <a href=\"/admin/policies\">Group policies</a> · \
         <a href=\"/admin/groups\">Available groups</a> · <a href=\"/admin/sp\">SP settings</a></nav>\n\
         <h1>{}</h1>\n{body}\n</body></html>\n",
        esc(title),
        esc(app),
        esc(title)
    )
}

fn csrf_field(csrf: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(csrf))
}

/// A one-button form posting `hidden` fields to `action`.
fn button(action: &str, csrf: &str, hidden: &[(&str, &str)], label: &str, class: &str) -> String {
    let fields: String = hidden
        .iter()
        .map(|(n, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(n), esc(v)))
        .collect();
    format!(
        "<form method=\"post\" action=\"{}\" class=\"{}\">{}{fields}<button>{}</button></form>",
        esc(action),
        esc(class),
        csrf_field(csrf),
        esc(label)
    )
}

fn checkbox(name: &str, label: &str, on: bool) -> String {
    format!(
        "<label><input type=\"checkbox\" name=\"{name}\" value=\"on\"{}> {}</label>",
        if on { " checked" } else { "" },
        esc(label)
    )
}

fn options(values: &[(&str, &str)], selected: &str) -> String {
    values
        .iter()
        .map(|(v, label)| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                esc(v),
                if *v == selected { " selected" } else { "" },
                esc(label)
            )
        })
        .collect()
}

pub(crate) fn setup(app: &str, csrf: &str) -> String {
    page(
        app,
        "First setup",
        &format!(
            "<p>Enter the one-time setup token the application printed at start. It works only until the \
             first SAML provider exists; from then on, administrators sign in through SAML and need the \
             <code>settings:write</code> permission.</p>\n<form method=\"post\" action=\"/admin/setup\" \
             id=\"setup\">{}<label>Setup token <input name=\"token\" autocomplete=\"off\"></label> \
             <button>Continue</button></form>",
            csrf_field(csrf)
        ),
    )
}

pub(crate) fn providers(app: &str, providers: &[Provider], policies: &[Policy], csrf: &str) -> String {
    let rows: String = providers.iter().map(|p| provider(p, policies, csrf)).collect();
    let add = format!(
        "<h2>Add a provider</h2>\n<form method=\"post\" action=\"/admin/providers\" id=\"add-provider\">{}\
         <p><label>Name <input name=\"name\" required></label></p>\
         <p><label>IdP metadata XML<br><textarea name=\"metadata_xml\" rows=\"6\" cols=\"80\"></textarea>\
         </label></p><p><label>or its URL <input name=\"metadata_url\" size=\"60\" \
         placeholder=\"http://idp.example/federationmetadata.xml\"></label></p>\
         <p><label>SSO binding <select name=\"sso_binding\">{}</select></label></p>\
         <button>Add provider</button></form>",
        csrf_field(csrf),
        options(&[("redirect", "HTTP-Redirect"), ("post", "HTTP-POST")], "redirect"),
    );
    page(app, "SAML providers", &format!("<div id=\"providers\">\n{rows}</div>\n{add}"))
}

fn provider(p: &Provider, policies: &[Policy], csrf: &str) -> String {
    let id = p.id.to_string();
    let mut policy_opts = vec![("none".to_string(), "(none)".to_string())];
    policy_opts.extend(policies.iter().map(|x| (x.id.to_string(), x.name.clone())));
    let policy_opts: Vec<(&str, &str)> = policy_opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let selected_policy = p.default_policy_id.map(|i| i.to_string()).unwrap_or_else(|| "none".into());
    let binding = match p.sso_binding {
        SsoBinding::Post => "post",
        SsoBinding::Redirect => "redirect",
    };
    let want = match p.want_signed {
        WantSigned::Response => "response",
        WantSigned::Assertion => "assertion",
        WantSigned::Either => "either",
    };
    let text = |name: &str, label: &str, value: &str| {
        format!("<label>{} <input name=\"{name}\" value=\"{}\"></label><br>", esc(label), esc(value))
    };
    let edit = format!(
        "<form method=\"post\" action=\"/admin/providers/edit\" class=\"edit-provider\">{}\
         <input type=\"hidden\" name=\"id\" value=\"{id}\">{}\
         <label>SSO binding <select name=\"sso_binding\">{}</select></label><br>{}<br>\
         <label>Require a signature on <select name=\"want_signed\">{}</select></label><br>{}<br>{}<br>{}\
         <fieldset><legend>User provision attributes</legend>{}{}{}{}{}</fieldset>\
         <label>Default policy <select name=\"default_policy\">{}</select></label><br>\
         <button>Save</button></form>",
        csrf_field(csrf),
        text("name", "Name", &p.name),
        options(&[("redirect", "HTTP-Redirect"), ("post", "HTTP-POST")], binding),
        checkbox("sign_requests", "Sign AuthnRequests", p.sign_requests),
        options(
            &[
                ("either", "the Response or the Assertion"),
                ("response", "the Response"),
                ("assertion", "the Assertion")
            ],
            want
        ),
        checkbox("allow_idp_initiated", "Allow IdP-initiated sign-in", p.allow_idp_initiated),
        checkbox("waiting_room", "New users wait in the waiting room", p.waiting_room),
        text("email_domains", "E-mail domains (comma-separated)", &p.email_domains.join(", ")),
        text("attr_username", "Username", &p.attributes.username),
        text("attr_first_name", "First name", &p.attributes.first_name),
        text("attr_last_name", "Last name", &p.attributes.last_name),
        text("attr_email", "E-mail", &p.attributes.email),
        text("attr_groups", "Groups", &p.attributes.groups),
        options(&policy_opts, &selected_policy),
    );
    let refresh = format!(
        "<form method=\"post\" action=\"/admin/providers/refresh\" class=\"refresh-provider\">{}\
         <input type=\"hidden\" name=\"id\" value=\"{id}\"><label>New metadata XML (empty: fetch from {})<br>\
         <textarea name=\"metadata_xml\" rows=\"3\" cols=\"80\"></textarea></label><br>\
         <button>Refresh metadata</button></form>",
        csrf_field(csrf),
        esc(p.metadata_url.as_deref().unwrap_or("(no URL: paste the metadata)")),
    );
    format!(
        "<section class=\"provider\" data-provider=\"{id}\">\n<h2>{}</h2>\n<dl><dt>IdP entity ID</dt><dd \
         class=\"idp-entity-id\">{}</dd><dt>SSO URL</dt><dd>{} ({})</dd><dt>SLO URL</dt><dd>{}</dd>\
         <dt>Signing certificates</dt><dd class=\"certificates\">{}</dd></dl>\n{edit}\n{refresh}\n{}\n</section>\n",
        esc(&p.name),
        esc(&p.idp_entity_id),
        esc(&p.sso_url),
        p.sso_binding.as_str(),
        esc(p.slo_url.as_deref().unwrap_or("")),
        p.signing_certs.len(),
        button("/admin/providers/delete", csrf, &[("id", &id)], "Delete provider", "delete-provider"),
    )
}

pub(crate) fn refreshed(app: &str, provider: &str, r: &RefreshReport) -> String {
    let list =
        |items: &[String]| -> String { items.iter().map(|t| format!("<li>{}</li>", esc(t))).collect() };
    let certs = if r.certificates_changed {
        format!(
            "<p id=\"certificates-changed\">The signing certificates changed.</p>\n<h2>Added (SHA-256)</h2>\
             <ul id=\"added\">{}</ul>\n<h2>Removed (SHA-256)</h2><ul id=\"removed\">{}</ul>",
            list(&r.added),
            list(&r.removed)
        )
    } else {
        "<p id=\"certificates-unchanged\">The signing certificates did not change.</p>".to_string()
    };
    page(
        app,
        "Metadata refreshed",
        &format!(
            "<p>The metadata of {} was read again.</p>\n{certs}\n<p>SSO URL changed: {}; SLO URL changed: {}.</p>\
             <p><a href=\"/admin/providers\">Back to the providers</a></p>",
            esc(provider),
            if r.sso_url_changed { "yes" } else { "no" },
            if r.slo_url_changed { "yes" } else { "no" },
        ),
    )
}

pub(crate) fn policies(app: &str, policies: &[Policy], csrf: &str) -> String {
    let rows: String = policies
        .iter()
        .map(|p| {
            let id = p.id.to_string();
            format!(
                "<li class=\"policy\" data-policy=\"{id}\"><form method=\"post\" action=\"/admin/policies/edit\">\
                 {}<input type=\"hidden\" name=\"id\" value=\"{id}\"><input name=\"name\" value=\"{}\"> \
                 <input name=\"permissions\" size=\"60\" value=\"{}\"> <button>Save</button></form>{}</li>\n",
                csrf_field(csrf),
                esc(&p.name),
                esc(&p.permissions.join(", ")),
                button("/admin/policies/delete", csrf, &[("id", &id)], "Delete", "delete-policy"),
            )
        })
        .collect();
    page(
        app,
        "Group policies",
        &format!(
            "<p>A policy grants permissions (comma-separated). <code>settings:write</code> lets its holders \
             change these settings.</p>\n<ul id=\"policies\">\n{rows}</ul>\n<h2>Create a policy</h2>\n\
             <form method=\"post\" action=\"/admin/policies\" id=\"create-policy\">{}<label>Name <input \
             name=\"name\" required></label> <label>Permissions <input name=\"permissions\" size=\"60\">\
             </label> <button>Create</button></form>",
            csrf_field(csrf)
        ),
    )
}

pub(crate) fn groups(
    app: &str,
    groups: &[(String, String)],
    mappings: &[(String, Policy)],
    policies: &[Policy],
    csrf: &str,
) -> String {
    let policy_opts: Vec<(String, String)> =
        policies.iter().map(|p| (p.id.to_string(), p.name.clone())).collect();
    let policy_opts: Vec<(&str, &str)> = policy_opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let rows: String = groups
        .iter()
        .map(|(object_id, display)| {
            let mapped: String = mappings
                .iter()
                .filter(|(g, _)| g == object_id)
                .map(|(_, p)| {
                    let pid = p.id.to_string();
                    format!(
                        "<li class=\"mapping\">{} {}</li>",
                        esc(&p.name),
                        button(
                            "/admin/groups/unmap",
                            csrf,
                            &[("object_id", object_id), ("policy", &pid)],
                            "Unmap",
                            "unmap-group"
                        )
                    )
                })
                .collect();
            format!(
                "<li class=\"group\" data-group=\"{}\">{} ({})<ul>{mapped}</ul><form method=\"post\" \
                 action=\"/admin/groups/map\" class=\"map-group\">{}<input type=\"hidden\" name=\"object_id\" \
                 value=\"{}\"><select name=\"policy\">{}</select> <button>Map to policy</button></form>{}</li>\n",
                esc(object_id),
                esc(display),
                esc(object_id),
                csrf_field(csrf),
                esc(object_id),
                options(&policy_opts, ""),
                button("/admin/groups/delete", csrf, &[("object_id", object_id)], "Remove group", "delete-group"),
            )
        })
        .collect();
    page(
        app,
        "Available groups",
        &format!(
            "<p>IdP group object IDs (the values of the groups attribute) and the policies they grant.</p>\n\
             <ul id=\"groups\">\n{rows}</ul>\n<h2>Add a group</h2>\n<form method=\"post\" action=\"/admin/groups\" \
             id=\"add-group\">{}<label>Object ID <input name=\"object_id\" size=\"40\" required></label> \
             <label>Display name <input name=\"display_name\"></label> <button>Add</button></form>",
            csrf_field(csrf)
        ),
    )
}

pub(crate) fn sp_settings(
    app: &str,
    entity_id: &str,
    acs_url: &str,
    entity_override: Option<&str>,
    acs_override: Option<&str>,
    base_url: &str,
    csrf: &str,
) -> String {
    page(
        app,
        "SP settings",
        &format!(
            "<dl><dt>Entity ID</dt><dd id=\"sp-entity-id\">{}</dd><dt>ACS URL</dt><dd id=\"sp-acs-url\">{}</dd></dl>\n\
             <p><a id=\"sp-metadata\" href=\"/admin/sp/metadata\">Download SP metadata</a></p>\n\
             <form method=\"post\" action=\"/admin/sp\" id=\"sp-settings\">{}<p><label>Entity ID override \
             <input name=\"entity_id\" size=\"60\" value=\"{}\" placeholder=\"{}/saml/metadata\"></label></p>\
             <p><label>ACS URL override <input name=\"acs_url\" size=\"60\" value=\"{}\" \
             placeholder=\"{}/saml/acs\"></label></p><p>Leave empty for the default. Change the IdP's \
             configuration (or give it the new SP metadata) after changing these.</p><button>Save</button></form>",
            esc(entity_id),
            esc(acs_url),
            csrf_field(csrf),
            esc(entity_override.unwrap_or("")),
            esc(base_url),
            esc(acs_override.unwrap_or("")),
            esc(base_url),
        ),
    )
}
