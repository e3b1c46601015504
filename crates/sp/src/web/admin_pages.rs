//! The editable admin pages: askama templates (`crates/sp/templates/admin_*.html`,
//! auto-escaped) on the shared layout.

use crate::db::{Policy, Provider};
use crate::providers::RefreshReport;
use askama::Template;
use web::page::Layout;

/// The SSO bindings a provider can use: (form value, label).
pub(super) const BINDINGS: [(&str, &str); 2] = [("redirect", "HTTP-Redirect"), ("post", "HTTP-POST")];
/// Which signature the ACS can require: (form value, label).
pub(super) const WANT_SIGNED: [(&str, &str); 3] = [
    ("either", "the Response or the Assertion"),
    ("response", "the Response"),
    ("assertion", "the Assertion"),
];

#[derive(Debug, Template)]
#[template(path = "admin_setup.html")]
pub(super) struct SetupPage<'a> {
    pub layout: Layout,
    pub csrf: &'a str,
}

/// One option of a select.
#[derive(Debug)]
pub(super) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// `options` as choices, `selected` chosen.
pub(super) fn choices(options: &[(&str, &str)], selected: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(value, label)| Choice {
            value: value.to_string(),
            label: label.to_string(),
            selected: *value == selected,
        })
        .collect()
}

/// A provider with the choices of its selects.
#[derive(Debug)]
pub(super) struct ProviderView {
    pub provider: Provider,
    pub bindings: Vec<Choice>,
    pub want_signed: Vec<Choice>,
    /// "(none)" and the application's policies, the provider's default chosen.
    pub default_policy: Vec<Choice>,
}

impl ProviderView {
    pub fn new(provider: Provider, policies: &[Policy]) -> ProviderView {
        let mut default_policy = vec![Choice {
            value: "none".into(),
            label: "(none)".into(),
            selected: provider.default_policy_id.is_none(),
        }];
        default_policy.extend(policies.iter().map(|p| Choice {
            value: p.id.to_string(),
            label: p.name.clone(),
            selected: provider.default_policy_id == Some(p.id),
        }));
        ProviderView {
            bindings: choices(&BINDINGS, provider.sso_binding.as_str()),
            want_signed: choices(&WANT_SIGNED, provider.want_signed.as_str()),
            default_policy,
            provider,
        }
    }
}

#[derive(Debug, Template)]
#[template(path = "admin_providers.html")]
pub(super) struct ProvidersPage<'a> {
    pub layout: Layout,
    pub providers: Vec<ProviderView>,
    /// The bindings of the "add a provider" form.
    pub bindings: Vec<Choice>,
    pub csrf: &'a str,
}

#[derive(Debug, Template)]
#[template(path = "admin_refreshed.html")]
pub(super) struct RefreshedPage<'a> {
    pub layout: Layout,
    pub provider: &'a str,
    pub report: &'a RefreshReport,
}

#[derive(Debug, Template)]
#[template(path = "admin_policies.html")]
pub(super) struct PoliciesPage<'a> {
    pub layout: Layout,
    pub policies: &'a [Policy],
    pub csrf: &'a str,
}

/// An available group with the policies mapped to it.
#[derive(Debug)]
pub(super) struct GroupView {
    pub object_id: String,
    pub display_name: String,
    pub policies: Vec<Policy>,
}

#[derive(Debug, Template)]
#[template(path = "admin_groups.html")]
pub(super) struct GroupsPage<'a> {
    pub layout: Layout,
    pub groups: Vec<GroupView>,
    pub policies: &'a [Policy],
    pub csrf: &'a str,
}

#[derive(Debug, Template)]
#[template(path = "admin_sp.html")]
pub(super) struct SpSettingsPage<'a> {
    pub layout: Layout,
    pub entity_id: &'a str,
    pub acs_url: &'a str,
    pub entity_override: &'a str,
    pub acs_override: &'a str,
    pub base_url: &'a str,
    pub csrf: &'a str,
}
