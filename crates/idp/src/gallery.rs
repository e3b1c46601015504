//! The application gallery: one TOML file per app in `crates/idp/gallery/`,
//! compiled in by `build.rs` (adding an app to the gallery is adding a file).
//!
//! A template carries exactly the values of its vendor's published tutorial:
//! Basic SAML Configuration patterns with placeholders such as `<HOSTNAME>` that the
//! administrator fills at creation ([`Template::instantiate`]), the SSO modes, the
//! NameID format, the claims and groups claim, app roles and notes for the admin.
//! Where a tutorial leaves a value out (a "pre-integrated" app), the template says so
//! (`pre_integrated = true`) and asks for it with a placeholder.
//!
//! The file format (unknown keys are refused):
//!
//! ```toml
//! name = "acme-app"                 # must equal the file name without `.toml`
//! display_name = "Acme App"
//! description = "..."
//! publisher = "Acme"
//! reference = "the vendor document the values come from"
//! pre_integrated = false            # the document leaves values out
//! sso_modes = "sp_initiated"        # or "idp_initiated", "both"
//! notes = ["shown to the administrator", "..."]
//!
//! [saml]
//! identifiers = ["https://<HOSTNAME>.acme.com"]   # the first is the default
//! fixed_identifier = false          # true: one instance per tenant
//! reply_urls = ["https://<HOSTNAME>.acme.com/acs"]  # index 0, 1, ...; the first is the default
//! sign_on_url = "https://<HOSTNAME>.acme.com/login"  # optional
//! relay_state = "..."               # optional
//! logout_url = "..."                # optional
//!
//! [name_id]                         # optional: emailAddress from user.userprincipalname
//! format = "persistent"             # persistent, email, unspecified, transient
//! source = "user.userprincipalname"
//!
//! [claims]
//! keep_default = true               # keep the default claim set
//! groups_claim = "none"             # none, security_groups, all_groups, assigned_groups
//! [[claims.extra]]
//! name = "Username"
//! namespace = "..."                 # optional
//! source = "user.userprincipalname" # or: constant = "value"
//! transform = { kind = "to_lowercase" }  # optional; see model::Transform
//!
//! [[roles]]                         # optional, besides "Default Access"
//! name = "Admin"
//! value = "Admin"
//!
//! [[parameters]]                    # one per placeholder
//! name = "HOSTNAME"
//! description = "..."
//! required = true                   # default; an unfilled optional placeholder drops its field
//! example = "acme"                  # optional
//! ```

use crate::model::{
    default_claims, default_roles, AppConfig, AppRole, ClaimRule, ClaimSource, GroupsClaim, Identifier,
    NameIdFormat, NameIdSetting, ReplyUrl, SigningAlgorithm, SigningOption, SourceAttribute, SsoModes,
    Transform,
};
use crate::urls::{validate_identifier, validate_reply_url, validate_url, UrlError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use thiserror::Error;

/// `(file stem, file contents)` of every `gallery/*.toml`, sorted by name.
const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/gallery_files.rs"));

/// The template of custom (non-gallery) apps.
pub const GENERIC_SAML: &str = "generic-saml";

/// A gallery template, as read from its TOML file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The name `app create --template` takes, equal to the file name.
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub publisher: String,
    /// The vendor document the values come from.
    pub reference: String,
    /// The vendor document leaves Basic SAML values out; they are asked for at creation.
    #[serde(default)]
    pub pre_integrated: bool,
    pub sso_modes: SsoSupport,
    /// Worth showing to the administrator when they add the app.
    #[serde(default)]
    pub notes: Vec<String>,
    pub saml: TemplateSaml,
    /// `None`: emailAddress from `user.userprincipalname`, as the large directory does.
    #[serde(default)]
    pub name_id: Option<TemplateNameId>,
    #[serde(default)]
    pub claims: TemplateClaims,
    /// App roles besides "Default Access" (which every app has).
    #[serde(default)]
    pub roles: Vec<AppRole>,
    /// One entry per placeholder used in `saml`.
    #[serde(default)]
    pub parameters: Vec<TemplateParameter>,
}

/// Which SSO flows an app supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SsoSupport {
    SpInitiated,
    IdpInitiated,
    Both,
}

impl SsoSupport {
    pub fn modes(self) -> SsoModes {
        SsoModes {
            sp_initiated: matches!(self, Self::SpInitiated | Self::Both),
            idp_initiated: matches!(self, Self::IdpInitiated | Self::Both),
        }
    }
}

/// The Basic SAML Configuration patterns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSaml {
    #[serde(default)]
    pub identifiers: Vec<String>,
    /// The vendor's identifier is a fixed value: one instance per tenant.
    #[serde(default)]
    pub fixed_identifier: bool,
    #[serde(default)]
    pub reply_urls: Vec<String>,
    #[serde(default)]
    pub sign_on_url: Option<String>,
    #[serde(default)]
    pub relay_state: Option<String>,
    #[serde(default)]
    pub logout_url: Option<String>,
}

/// The NameID the vendor requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateNameId {
    pub format: NameIdFormat,
    pub source: SourceAttribute,
}

/// The claims the vendor expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateClaims {
    /// Keep the default claim set (e-mail address, given name, name, surname).
    #[serde(default = "yes")]
    pub keep_default: bool,
    #[serde(default)]
    pub groups_claim: GroupsClaim,
    #[serde(default)]
    pub extra: Vec<TemplateClaim>,
}

impl Default for TemplateClaims {
    fn default() -> Self {
        TemplateClaims { keep_default: true, groups_claim: GroupsClaim::None, extra: Vec::new() }
    }
}

/// One extra claim: `source` or `constant`, not both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateClaim {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub source: Option<SourceAttribute>,
    #[serde(default)]
    pub constant: Option<String>,
    #[serde(default)]
    pub transform: Option<Transform>,
}

impl TemplateClaim {
    fn rule(&self) -> Option<ClaimRule> {
        let source = match (&self.source, &self.constant) {
            (Some(a), None) => ClaimSource::Attribute(*a),
            (None, Some(c)) => ClaimSource::Constant(c.clone()),
            _ => return None,
        };
        Some(ClaimRule {
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            source,
            transform: self.transform.clone(),
        })
    }
}

/// A placeholder the administrator fills at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateParameter {
    /// Upper case, without angle brackets: `HOSTNAME` for `<HOSTNAME>`.
    pub name: String,
    pub description: String,
    /// When an optional placeholder is not filled, the field holding it is left out.
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default)]
    pub example: Option<String>,
}

fn yes() -> bool {
    true
}

/// What went wrong with a template or its instantiation. Each has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GalleryError {
    #[error("there is no gallery template named {name:?}; use one of {}", .known.join(", "))]
    UnknownTemplate { name: String, known: Vec<String> },
    #[error("template {template:?} needs a value for {}; pass {}{}", describe_missing(.missing), describe_params(.missing), describe_sources(.missing))]
    UnfilledPlaceholders { template: String, missing: Vec<MissingPlaceholder> },
    #[error("template {template:?} has no placeholder {name:?}; its placeholders are {}", describe_known(.known))]
    UnknownParameter { template: String, name: String, known: Vec<String> },
    #[error("the value {value:?} for <{placeholder}> is not valid: {reason}")]
    InvalidParameterValue { placeholder: String, value: String, reason: String },
    #[error("the {field} {:?} is not valid: {}", .error.value, .error.reason)]
    InvalidUrl { field: String, error: UrlError },
    #[error("gallery file {file}.toml is not valid: {reason}")]
    InvalidTemplate { file: String, reason: String },
}

impl GalleryError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownTemplate { .. } => "PCS91001",
            Self::UnfilledPlaceholders { .. } => "PCS91002",
            Self::UnknownParameter { .. } => "PCS91003",
            Self::InvalidParameterValue { .. } => "PCS91004",
            Self::InvalidUrl { .. } => "PCS91005",
            Self::InvalidTemplate { .. } => "PCS91006",
        }
    }
}

/// A required placeholder left unfilled, and the fields it appears in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPlaceholder {
    /// Without angle brackets.
    pub placeholder: String,
    /// `Identifier`, `Reply URL`, `Sign-on URL`, `Relay State`, `Logout URL`.
    pub fields: Vec<String>,
    /// What the value is and where it comes from (the template's parameter description).
    pub description: Option<String>,
}

fn describe_missing(missing: &[MissingPlaceholder]) -> String {
    missing
        .iter()
        .map(|m| format!("<{}> (in the {})", m.placeholder, m.fields.join(", ")))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn describe_params(missing: &[MissingPlaceholder]) -> String {
    missing.iter().map(|m| format!("--param {}=VALUE", m.placeholder)).collect::<Vec<_>>().join(" ")
}

/// Where each missing value comes from, as the template describes its parameters.
fn describe_sources(missing: &[MissingPlaceholder]) -> String {
    missing
        .iter()
        .filter_map(|m| m.description.as_ref().map(|d| format!(". {}: {d}", m.placeholder)))
        .collect()
}

fn describe_known(known: &[String]) -> String {
    if known.is_empty() {
        "none".into()
    } else {
        known.iter().map(|k| format!("<{k}>")).collect::<Vec<_>>().join(", ")
    }
}

// ---------------------------------------------------------------------------------------------
// Placeholders.

/// The placeholders (`<NAME>`, returned without brackets) of a pattern, in order of
/// first appearance.
pub fn placeholders(pattern: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, name) in placeholder_spans(pattern) {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// `(byte offset of '<', name)` of every well-formed placeholder.
fn placeholder_spans(pattern: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut rest = pattern;
    let mut base = 0;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        match after.find('>') {
            Some(end) if is_placeholder_name(&after[..end]) => {
                out.push((base + start, &after[..end]));
                base += start + end + 2;
                rest = &after[end + 1..];
            }
            _ => {
                base += start + 1;
                rest = after;
            }
        }
    }
    out
}

fn is_placeholder_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Where in a pattern a placeholder sits; the value it takes is checked accordingly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// The placeholder is the whole field: the value is checked as the field is.
    Whole,
    /// In the host name of a URL: letters, digits, dots and hyphens only.
    Host,
    /// Elsewhere: a single path segment or word.
    Part,
}

fn position(pattern: &str, offset: usize, name: &str) -> Position {
    if pattern.len() == name.len() + 2 {
        return Position::Whole;
    }
    if let Some(scheme_end) = pattern.find("://") {
        let host_start = scheme_end + 3;
        let host_end = pattern[host_start..].find(['/', '?']).map_or(pattern.len(), |i| host_start + i);
        if offset >= host_start && offset < host_end {
            return Position::Host;
        }
    }
    Position::Part
}

fn check_value(position: Position, placeholder: &str, value: &str) -> Result<(), GalleryError> {
    let bad = |reason: &str| {
        Err(GalleryError::InvalidParameterValue {
            placeholder: placeholder.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        })
    };
    match position {
        Position::Whole => Ok(()),
        Position::Host => {
            if value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                && !value.starts_with(['.', '-'])
                && !value.ends_with(['.', '-'])
            {
                Ok(())
            } else {
                bad("it is part of a host name: use only letters, digits, hyphens and dots")
            }
        }
        Position::Part => {
            if value.chars().any(|c| c.is_whitespace() || c.is_control() || "/?#<>\"@:\\".contains(c)) {
                bad("it is part of a URL: it must not contain spaces or any of / ? # < > \" @ : \\")
            } else {
                Ok(())
            }
        }
    }
}

/// The placeholder values that make `pattern` read `value` (`None` when it does not fit): the
/// inverse of filling, e.g. `https://<HOSTNAME>.bomgar.com/saml` and
/// `https://acme.bomgar.com/saml` give `HOSTNAME=acme`. A placeholder takes at least one
/// character, up to the first occurrence of the text that follows it in the pattern.
pub fn match_pattern(pattern: &str, value: &str) -> Option<BTreeMap<String, String>> {
    let spans = placeholder_spans(pattern);
    let mut literals = Vec::with_capacity(spans.len() + 1);
    let mut last = 0;
    for (offset, name) in &spans {
        literals.push(&pattern[last..*offset]);
        last = offset + name.len() + 2;
    }
    literals.push(&pattern[last..]);
    let mut rest = value.strip_prefix(literals[0])?;
    let mut out = BTreeMap::new();
    for (i, (_, name)) in spans.iter().enumerate() {
        let next = literals[i + 1];
        let captured = if next.is_empty() {
            // Two placeholders side by side cannot be told apart.
            if i + 1 < spans.len() {
                return None;
            }
            std::mem::take(&mut rest)
        } else {
            let at = rest.find(next)?;
            let c = &rest[..at];
            rest = &rest[at + next.len()..];
            c
        };
        if captured.is_empty() {
            return None;
        }
        match out.get(*name) {
            Some(previous) if previous != captured => return None,
            _ => drop(out.insert(name.to_string(), captured.to_string())),
        }
    }
    rest.is_empty().then_some(out)
}

/// One pattern field of the Basic SAML Configuration.
struct Field<'a> {
    label: &'static str,
    pattern: &'a str,
}

impl Template {
    /// Whether the vendor's identifier is a fixed value: such a template can be
    /// instantiated only once per tenant (the IdP checks before creating the app).
    pub fn is_fixed_identifier(&self) -> bool {
        self.saml.fixed_identifier
    }

    /// The app's SSO modes.
    pub fn sso(&self) -> SsoModes {
        self.sso_modes.modes()
    }

    /// Every placeholder of the template (without brackets), in order of appearance.
    pub fn placeholders(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in self.fields() {
            for p in placeholders(f.pattern) {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
        out
    }

    /// After the Identifier and Reply URLs changed (an SP metadata import), the Sign-on URL
    /// `current` if the template made it from placeholders: refilled from the values the new
    /// Identifier and Reply URLs give those placeholders (`Some(Some(url))`), or cleared
    /// (`Some(None)`) when they do not give them — the browser is never sent to a guess. `None`
    /// when `current` is not the template's pattern (the administrator typed it): keep it.
    pub fn sign_on_url_after_import(
        &self,
        current: &str,
        identifiers: &[&str],
        reply_urls: &[&str],
    ) -> Option<Option<String>> {
        let pattern = self.saml.sign_on_url.as_deref()?;
        let spans = placeholder_spans(pattern);
        let whole = spans.iter().any(|(o, n)| position(pattern, *o, n) == Position::Whole);
        if spans.is_empty() || whole {
            return None;
        }
        match_pattern(pattern, current)?;
        let mut values = BTreeMap::new();
        let pairs = self
            .saml
            .identifiers
            .iter()
            .flat_map(|p| identifiers.iter().map(move |v| (p, *v)))
            .chain(self.saml.reply_urls.iter().flat_map(|p| reply_urls.iter().map(move |v| (p, *v))));
        for (p, v) in pairs {
            if let Some(found) = match_pattern(p, v) {
                for (k, val) in found {
                    values.entry(k).or_insert(val);
                }
            }
        }
        let field = Field { label: "Sign-on URL", pattern };
        let filled = match fill(&field, &values) {
            Ok(Some(url)) if validate_url(&url).is_ok() => Some(url),
            _ => None,
        };
        Some(filled)
    }

    /// The placeholders an administrator must fill.
    pub fn required_parameters(&self) -> Vec<&TemplateParameter> {
        self.parameters.iter().filter(|p| p.required).collect()
    }

    fn fields(&self) -> Vec<Field<'_>> {
        let s = &self.saml;
        let mut out = Vec::new();
        out.extend(s.identifiers.iter().map(|p| Field { label: "Identifier", pattern: p }));
        out.extend(s.reply_urls.iter().map(|p| Field { label: "Reply URL", pattern: p }));
        out.extend(s.sign_on_url.iter().map(|p| Field { label: "Sign-on URL", pattern: p }));
        out.extend(s.relay_state.iter().map(|p| Field { label: "Relay State", pattern: p }));
        out.extend(s.logout_url.iter().map(|p| Field { label: "Logout URL", pattern: p }));
        out
    }

    fn parameter(&self, name: &str) -> Option<&TemplateParameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// Makes the app's configuration from the template, filling the placeholders
    /// from `params` (`HOSTNAME=acme` or `<hostname>=acme`: brackets optional, names
    /// case-insensitive). Fails naming every required placeholder left unfilled and
    /// the fields it appears in, on a parameter the template does not have, and on
    /// a resulting value that is not a valid Identifier / Reply URL / URL.
    ///
    /// The result: enabled, assignment required, visible in My Apps, roles "Default
    /// Access" plus the vendor's, assertion signed with SHA-256, the default claim set
    /// (unless the vendor drops it) followed by the vendor's claims, the vendor's
    /// groups claim and NameID (emailAddress from `user.userprincipalname` otherwise).
    pub fn instantiate(&self, params: &BTreeMap<String, String>) -> Result<AppConfig, GalleryError> {
        let values = self.normalize_params(params)?;

        // Every required placeholder must be filled: report all of them at once.
        let mut missing: Vec<MissingPlaceholder> = Vec::new();
        for f in self.fields() {
            for p in placeholders(f.pattern) {
                let required = self.parameter(&p).is_none_or(|d| d.required);
                if required && !values.contains_key(&p) {
                    match missing.iter_mut().find(|m| m.placeholder == p) {
                        Some(m) if !m.fields.iter().any(|l| l == f.label) => m.fields.push(f.label.into()),
                        Some(_) => {}
                        None => {
                            let description = self.parameter(&p).map(|d| d.description.clone());
                            missing.push(MissingPlaceholder {
                                placeholder: p,
                                fields: vec![f.label.into()],
                                description,
                            })
                        }
                    }
                }
            }
        }
        if !missing.is_empty() {
            return Err(GalleryError::UnfilledPlaceholders { template: self.name.clone(), missing });
        }

        let fill_field = |f: &Field<'_>| -> Result<Option<String>, GalleryError> { fill(f, &values) };
        let s = &self.saml;
        let mut identifiers = Vec::new();
        for p in &s.identifiers {
            let field = Field { label: "Identifier", pattern: p };
            if let Some(v) = fill_field(&field)? {
                validate_identifier(&v).map_err(|e| invalid_url("Identifier", e))?;
                identifiers.push(Identifier { value: v, is_default: identifiers.is_empty() });
            }
        }
        let mut reply_urls: Vec<ReplyUrl> = Vec::new();
        for p in &s.reply_urls {
            let field = Field { label: "Reply URL", pattern: p };
            if let Some(v) = fill_field(&field)? {
                validate_reply_url(&v).map_err(|e| invalid_url("Reply URL", e))?;
                let index = u16::try_from(reply_urls.len()).unwrap_or(u16::MAX);
                reply_urls.push(ReplyUrl { url: v, index, is_default: reply_urls.is_empty() });
            }
        }
        let sign_on_url = match &s.sign_on_url {
            Some(p) => fill_field(&Field { label: "Sign-on URL", pattern: p })?,
            None => None,
        };
        if let Some(v) = &sign_on_url {
            validate_url(v).map_err(|e| invalid_url("Sign-on URL", e))?;
        }
        let logout_url = match &s.logout_url {
            Some(p) => fill_field(&Field { label: "Logout URL", pattern: p })?,
            None => None,
        };
        if let Some(v) = &logout_url {
            validate_url(v).map_err(|e| invalid_url("Logout URL", e))?;
        }
        let relay_state = match &s.relay_state {
            Some(p) => fill_field(&Field { label: "Relay State", pattern: p })?,
            None => None,
        };
        if let Some(v) = &relay_state {
            if v.chars().any(char::is_control) || !placeholders(v).is_empty() {
                return Err(GalleryError::InvalidParameterValue {
                    placeholder: "RELAY_STATE".into(),
                    value: v.clone(),
                    reason: "the Relay State must not contain control characters or placeholders".into(),
                });
            }
        }

        let mut claims = if self.claims.keep_default { default_claims() } else { Vec::new() };
        claims.extend(self.claims.extra.iter().filter_map(TemplateClaim::rule));
        let mut roles = default_roles();
        for r in &self.roles {
            if !roles.iter().any(|d| d.name.eq_ignore_ascii_case(&r.name)) {
                roles.push(r.clone());
            }
        }
        let name_id = match &self.name_id {
            Some(n) => NameIdSetting { format: n.format, source: n.source },
            None => default_name_id(),
        };
        Ok(AppConfig {
            identifiers,
            reply_urls,
            sign_on_url,
            relay_state,
            logout_url,
            sso_modes: self.sso(),
            name_id,
            claims,
            groups_claim: self.claims.groups_claim,
            signing: SigningOption::Assertion,
            signing_algorithm: SigningAlgorithm::Sha256,
            notification_email: None,
            enabled: true,
            assignment_required: true,
            visible: true,
            roles,
            request_verification_certs: Vec::new(),
            require_signed_requests: false,
            allow_sha1_requests: false,
        })
    }

    /// `params` keyed by placeholder name (upper case, no brackets); empty values dropped.
    fn normalize_params(
        &self,
        params: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, GalleryError> {
        let known = self.placeholders();
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        for (key, value) in params {
            let k = key.trim();
            let k = k.strip_prefix('<').unwrap_or(k);
            let k = k.strip_suffix('>').unwrap_or(k).trim().to_ascii_uppercase();
            if !known.contains(&k) {
                return Err(GalleryError::UnknownParameter {
                    template: self.name.clone(),
                    name: key.clone(),
                    known: known.clone(),
                });
            }
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if let Some(previous) = out.get(&k) {
                if previous != value {
                    return Err(GalleryError::InvalidParameterValue {
                        placeholder: k,
                        value: value.to_string(),
                        reason: format!("it was also given as {previous:?}; give it once"),
                    });
                }
            }
            out.insert(k, value.to_string());
        }
        Ok(out)
    }

    /// Checks a parsed template: name, placeholders described, URLs well formed
    /// once filled, claims well formed.
    fn validate(&self, file: &str) -> Result<(), GalleryError> {
        let bad = |reason: String| Err(GalleryError::InvalidTemplate { file: file.to_string(), reason });
        if self.name != file {
            return bad(format!("its name {:?} must equal the file name", self.name));
        }
        for (what, v) in [
            ("display_name", &self.display_name),
            ("description", &self.description),
            ("publisher", &self.publisher),
            ("reference", &self.reference),
        ] {
            if v.trim().is_empty() {
                return bad(format!("{what} is empty"));
            }
        }
        let used = self.placeholders();
        for f in self.fields() {
            // A '<' that does not open a well-formed placeholder is a typo.
            let opened = f.pattern.matches('<').count();
            if opened != placeholder_spans(f.pattern).len() {
                return bad(format!(
                    "the {} pattern {:?} has a '<' that is not a placeholder like <HOSTNAME>",
                    f.label, f.pattern
                ));
            }
        }
        for p in &used {
            if self.parameter(p).is_none() {
                return bad(format!("placeholder <{p}> has no [[parameters]] entry"));
            }
        }
        let mut seen = BTreeSet::new();
        for p in &self.parameters {
            if !used.contains(&p.name) {
                return bad(format!("parameter {:?} is used by no pattern", p.name));
            }
            if !seen.insert(p.name.clone()) {
                return bad(format!("parameter {:?} is described twice", p.name));
            }
            if p.description.trim().is_empty() {
                return bad(format!("parameter {:?} has no description", p.name));
            }
        }
        let literal_identifier = !self.saml.identifiers.is_empty()
            && self.saml.identifiers.iter().all(|i| placeholders(i).is_empty());
        if literal_identifier && !self.is_fixed_identifier() {
            return bad("its identifiers have no placeholder, so set fixed_identifier = true".into());
        }
        if self.is_fixed_identifier() && self.saml.identifiers.is_empty() {
            return bad("fixed_identifier = true but there is no identifier".into());
        }
        let mut names = BTreeSet::new();
        let defaults = if self.claims.keep_default { default_claims() } else { Vec::new() };
        for d in &defaults {
            names.insert(d.attribute_name());
        }
        for c in &self.claims.extra {
            let Some(rule) = c.rule() else {
                return bad(format!("claim {:?} needs exactly one of source and constant", c.name));
            };
            if c.name.trim().is_empty() {
                return bad("a claim has an empty name".into());
            }
            let joins_groups = match &c.transform {
                Some(Transform::Join { other, .. }) => {
                    *other == SourceAttribute::Groups || c.source == Some(SourceAttribute::Groups)
                }
                _ => false,
            };
            if joins_groups {
                return bad(format!("claim {:?}: user.groups is multi-valued and cannot be joined", c.name));
            }
            if !names.insert(rule.attribute_name()) {
                return bad(format!("claim {:?} is defined twice", rule.attribute_name()));
            }
        }
        // With every placeholder filled with a sample, each value must be valid.
        let samples: BTreeMap<String, String> = self
            .parameters
            .iter()
            .map(|p| (p.name.clone(), p.example.clone().unwrap_or_else(|| sample_value(self, &p.name))))
            .collect();
        self.instantiate(&samples).map_err(|e| GalleryError::InvalidTemplate {
            file: file.to_string(),
            reason: format!("filled with sample values it fails: {e}"),
        })?;
        Ok(())
    }
}

/// A value that fits wherever the placeholder sits, for the load-time check.
fn sample_value(t: &Template, name: &str) -> String {
    for f in t.fields() {
        for (offset, p) in placeholder_spans(f.pattern) {
            if p == name && position(f.pattern, offset, p) == Position::Whole {
                return match f.label {
                    "Relay State" => "sample".into(),
                    _ => "https://sample.example.com/x".into(),
                };
            }
        }
    }
    "sample".into()
}

fn invalid_url(field: &str, error: UrlError) -> GalleryError {
    GalleryError::InvalidUrl { field: field.to_string(), error }
}

/// Fills a pattern; `None` when it holds an optional placeholder left unfilled (the
/// caller checked that every required one is filled).
fn fill(f: &Field<'_>, values: &BTreeMap<String, String>) -> Result<Option<String>, GalleryError> {
    let mut out = String::with_capacity(f.pattern.len());
    let mut last = 0;
    for (offset, name) in placeholder_spans(f.pattern) {
        let Some(value) = values.get(name) else {
            return Ok(None);
        };
        check_value(position(f.pattern, offset, name), name, value)?;
        out.push_str(&f.pattern[last..offset]);
        out.push_str(value);
        last = offset + name.len() + 2;
    }
    out.push_str(&f.pattern[last..]);
    Ok(Some(out))
}

/// The NameID of an app whose vendor asks for nothing special: emailAddress from
/// `user.userprincipalname`, as the large directory does.
pub fn default_name_id() -> NameIdSetting {
    NameIdSetting { format: NameIdFormat::Email, source: SourceAttribute::UserPrincipalName }
}

/// Parses and checks one template file.
pub fn parse(file: &str, text: &str) -> Result<Template, GalleryError> {
    let t: Template = toml::from_str(text)
        .map_err(|e| GalleryError::InvalidTemplate { file: file.to_string(), reason: e.to_string() })?;
    t.validate(file)?;
    Ok(t)
}

struct Loaded {
    templates: Vec<Template>,
    errors: Vec<GalleryError>,
}

fn loaded() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| {
        let mut templates = Vec::new();
        let mut errors = Vec::new();
        for (file, text) in FILES {
            match parse(file, text) {
                Ok(t) => templates.push(t),
                Err(e) => errors.push(e),
            }
        }
        Loaded { templates, errors }
    })
}

/// Every valid template, sorted by name. A file that fails to load is left out (and
/// reported by [`check`], which the test suite runs).
pub fn all() -> Vec<Template> {
    loaded().templates.clone()
}

/// The template with this name (case-insensitive).
pub fn get(name: &str) -> Option<Template> {
    let name = name.trim();
    loaded().templates.iter().find(|t| t.name.eq_ignore_ascii_case(name)).cloned()
}

/// Like [`get`], with an error listing the templates there are.
pub fn find(name: &str) -> Result<Template, GalleryError> {
    get(name).ok_or_else(|| GalleryError::UnknownTemplate {
        name: name.to_string(),
        known: loaded().templates.iter().map(|t| t.name.clone()).collect(),
    })
}

/// Every gallery file loads and is valid.
pub fn check() -> Result<(), Vec<GalleryError>> {
    let errors = &loaded().errors;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.clone())
    }
}

/// The names of the compiled-in gallery files, sorted.
pub fn file_names() -> Vec<&'static str> {
    FILES.iter().map(|(name, _)| *name).collect()
}
