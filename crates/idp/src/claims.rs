//! The claims engine: from a user, their groups and an app's claim rules to the
//! SAML attributes of the assertion, the way the large hosted directory emits them.
//!
//! - One `saml:Attribute` per claim rule, named [`ClaimRule::attribute_name`], with no
//!   `NameFormat` (the directory emits none on its claims) and `xs:string` values.
//! - A source with no value (unset, empty or blank) leaves the attribute out rather
//!   than sending an empty value.
//! - Transformations apply to every value: `ToLowercase`, `ToUppercase`,
//!   `ExtractMailPrefix` (the part before the first `@`; a value without `@` is kept
//!   whole) and `Join` (value, separator, other attribute's value; when the other
//!   attribute has no value the claim is the value alone, without a dangling
//!   separator; when the claim's own source has none, the claim is left out).
//! - The groups claim ([`GROUPS_CLAIM`]) carries group object IDs per
//!   [`GroupsClaim`], computed over the user's transitive memberships.
//! - A claim rule with source `user.groups` is the groups claim under a custom name, as
//!   in the directory, where the groups claim is the `user.groups` row of the claims
//!   list and renaming it (BeyondTrust's `Groups`) replaces the default claim type: so
//!   when such a rule exists, the groups are sent under the rule's name and not a
//!   second time under [`GROUPS_CLAIM`]. The rule carries the set the app's setting
//!   selects; when the setting is `None` it carries every group of the user (the
//!   administrator asked for groups by adding the rule, and "all" hides nothing).
//! - More than [`GROUPS_LIMIT`] groups: the group values are not sent at all (neither
//!   in the groups claim nor in a `user.groups` rule); instead one overage claim
//!   [`GROUPS_LINK_CLAIM`] is sent whose single value is the URL where the app can read
//!   the user's groups. The directory sends a Graph URL there
//!   (`https://graph.windows.net/{tenant}/users/{user}/getMemberObjects`); we send our
//!   own admin API path `{base_url}/api/v1/users/{user object id}/groups`.
//! - A role claim ([`ROLE_CLAIM`]) carries the value of the user's app role, unless it
//!   is the default role ("Default Access"), for which the directory sends none.
//! - Order: the claim rules in configuration order, then the groups claim (or the
//!   overage claim), then the role claim. Group IDs are sorted, so the output is
//!   deterministic.

use crate::model::{
    default_roles, AppConfig, ClaimRule, ClaimSource, GroupsClaim, SourceAttribute, Transform,
};
use saml::model::Attribute;
use std::collections::BTreeSet;
use store::model::{Group, User};
use thiserror::Error;
use uuid::Uuid;

/// The claim type of the groups claim.
pub const GROUPS_CLAIM: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups";
/// The claim type of the groups overage claim.
pub const GROUPS_LINK_CLAIM: &str = "http://schemas.microsoft.com/claims/groups.link";
/// The claim type of the role claim.
pub const ROLE_CLAIM: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";
/// Most groups a SAML token carries; beyond this, the overage claim is sent instead.
pub const GROUPS_LIMIT: usize = 150;

/// What the claims engine needs to know about the signed-in user.
#[derive(Debug, Clone, Copy)]
pub struct UserClaimsInput<'a> {
    pub user: &'a User,
    /// The user's groups, transitive memberships included (nested groups resolved).
    pub groups: &'a [Group],
    /// The groups assigned to the app (for [`GroupsClaim::AssignedGroups`]).
    pub assigned_group_ids: &'a [Uuid],
    /// The app role of the user's assignment (its name or value); `None` = default.
    pub role: Option<&'a str>,
    /// The IdP's public base URL (`https://idp.example.com`), for the groups overage claim.
    pub base_url: &'a str,
}

/// A claim or NameID that cannot be produced. Each has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ClaimsError {
    #[error("user {user:?} has no value for {attribute}, which the app's name identifier needs ({reason}); set it on the user or choose another source attribute")]
    NameIdUnavailable { user: String, attribute: String, reason: String },
    #[error("user {user:?} has {attribute} = {value:?}, which is not an e-mail address, so it cannot be the emailAddress name identifier; fix the attribute or choose another source or format")]
    NameIdNotEmail { user: String, attribute: String, value: String },
    #[error("claim {claim:?} cannot be built: {reason}; fix the claim in Attributes & Claims")]
    InvalidClaimRule { claim: String, reason: String },
    #[error("the name identifier could not be derived: {0}")]
    Crypto(String),
}

impl ClaimsError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NameIdUnavailable { .. } => "PCS75012",
            Self::NameIdNotEmail { .. } => "PCS75013",
            Self::InvalidClaimRule { .. } => "PCS75014",
            Self::Crypto(_) => "PCS75018",
        }
    }
}

/// The value of a single-valued source attribute; `None` when the user has none (unset,
/// empty or blank) and for `user.groups`, which is multi-valued.
pub fn source_value(attribute: SourceAttribute, user: &User) -> Option<String> {
    let v = match attribute {
        SourceAttribute::UserPrincipalName => Some(user.upn.clone()),
        SourceAttribute::Mail => user.mail.clone(),
        SourceAttribute::GivenName => user.given_name.clone(),
        SourceAttribute::Surname => user.surname.clone(),
        SourceAttribute::DisplayName => Some(user.display_name.clone()),
        SourceAttribute::ObjectId => Some(user.id.hyphenated().to_string()),
        SourceAttribute::Department => user.department.clone(),
        SourceAttribute::JobTitle => user.job_title.clone(),
        SourceAttribute::EmployeeId => user.employee_id.clone(),
        SourceAttribute::Groups => None,
    };
    v.filter(|s| !s.trim().is_empty())
}

/// The object IDs of the groups a groups claim with this setting carries, sorted and
/// without duplicates. `None` carries nothing.
pub fn group_ids(setting: GroupsClaim, input: &UserClaimsInput<'_>) -> Vec<Uuid> {
    let set: BTreeSet<Uuid> = match setting {
        GroupsClaim::None => BTreeSet::new(),
        GroupsClaim::SecurityGroups => {
            input.groups.iter().filter(|g| g.security_enabled).map(|g| g.id).collect()
        }
        GroupsClaim::AllGroups => input.groups.iter().map(|g| g.id).collect(),
        GroupsClaim::AssignedGroups => {
            input.groups.iter().map(|g| g.id).filter(|id| input.assigned_group_ids.contains(id)).collect()
        }
    };
    set.into_iter().collect()
}

/// The URL the groups overage claim points at: `{base_url}/api/v1/users/{id}/groups`.
pub fn groups_link(base_url: &str, user_id: Uuid) -> String {
    format!("{}/api/v1/users/{}/groups", base_url.trim_end_matches('/'), user_id.hyphenated())
}

/// Whether a role is the app's default role ("Default Access"), which sends no role claim.
pub fn is_default_role(role: &str) -> bool {
    let role = role.trim();
    role.is_empty()
        || default_roles()
            .iter()
            .any(|d| d.name.eq_ignore_ascii_case(role) || d.value.eq_ignore_ascii_case(role))
}

/// The attributes of the assertion for this user and app (see the module docs).
pub fn build_attributes(
    config: &AppConfig,
    input: &UserClaimsInput<'_>,
) -> Result<Vec<Attribute>, ClaimsError> {
    let mut out: Vec<Attribute> = Vec::new();
    let mut overage = false;

    // The groups a `user.groups` rule carries.
    let rule_groups_setting = match config.groups_claim {
        GroupsClaim::None => GroupsClaim::AllGroups,
        other => other,
    };
    let mut rule_groups: Option<Vec<String>> = None;

    for rule in &config.claims {
        let values = match &rule.source {
            ClaimSource::Attribute(SourceAttribute::Groups) => {
                if matches!(rule.transform, Some(Transform::Join { .. })) {
                    return Err(invalid(rule, "user.groups is multi-valued and cannot be joined"));
                }
                let groups = rule_groups.get_or_insert_with(|| {
                    group_ids(rule_groups_setting, input)
                        .iter()
                        .map(|id| id.hyphenated().to_string())
                        .collect()
                });
                if groups.len() > GROUPS_LIMIT {
                    overage = true;
                    continue;
                }
                groups.clone()
            }
            ClaimSource::Attribute(a) => source_value(*a, input.user).into_iter().collect(),
            ClaimSource::Constant(c) => {
                Some(c.clone()).filter(|c| !c.trim().is_empty()).into_iter().collect()
            }
        };
        let values = values
            .into_iter()
            .map(|v| transform(rule, v, input.user))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|v| !v.trim().is_empty())
            .collect::<Vec<_>>();
        if values.is_empty() {
            continue;
        }
        out.push(attribute(rule.attribute_name(), values));
    }

    let renamed = config.claims.iter().any(|r| r.source == ClaimSource::Attribute(SourceAttribute::Groups));
    if config.groups_claim != GroupsClaim::None && !renamed {
        let ids = group_ids(config.groups_claim, input);
        if ids.len() > GROUPS_LIMIT {
            overage = true;
        } else if !ids.is_empty() && !out.iter().any(|a| a.name == GROUPS_CLAIM) {
            out.push(attribute(
                GROUPS_CLAIM.to_string(),
                ids.iter().map(|id| id.hyphenated().to_string()).collect(),
            ));
        }
    }
    if overage {
        out.push(attribute(GROUPS_LINK_CLAIM.to_string(), vec![groups_link(input.base_url, input.user.id)]));
    }

    if let Some(role) = input.role.filter(|r| !is_default_role(r)) {
        let role = role.trim();
        let value = config
            .roles
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(role) || r.value.eq_ignore_ascii_case(role))
            .map_or(role, |r| r.value.as_str());
        if !value.trim().is_empty() && !out.iter().any(|a| a.name == ROLE_CLAIM) {
            out.push(attribute(ROLE_CLAIM.to_string(), vec![value.to_string()]));
        }
    }
    Ok(out)
}

fn attribute(name: String, values: Vec<String>) -> Attribute {
    // No NameFormat: the large directory emits none on its claims.
    Attribute { name, name_format: None, friendly_name: None, values, complex_values: Vec::new() }
}

fn invalid(rule: &ClaimRule, reason: &str) -> ClaimsError {
    ClaimsError::InvalidClaimRule { claim: rule.attribute_name(), reason: reason.to_string() }
}

/// Applies the rule's transformation to one value.
fn transform(rule: &ClaimRule, value: String, user: &User) -> Result<String, ClaimsError> {
    Ok(match &rule.transform {
        None => value,
        Some(Transform::ToLowercase) => value.to_lowercase(),
        Some(Transform::ToUppercase) => value.to_uppercase(),
        Some(Transform::ExtractMailPrefix) => match value.split_once('@') {
            Some((prefix, _)) => prefix.to_string(),
            None => value,
        },
        Some(Transform::Join { separator, other }) => {
            if *other == SourceAttribute::Groups {
                return Err(invalid(rule, "user.groups is multi-valued and cannot be joined"));
            }
            match source_value(*other, user) {
                Some(o) => format!("{value}{separator}{o}"),
                None => value,
            }
        }
    })
}
