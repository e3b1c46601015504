//! User mapping: which vault user a console user acts as.
//!
//! The console sends a username (`joe.user`, `ACME\joe.user` or `joe.user@acme-inc.com`, see
//! [`crate::names`]) and, from LDAP security providers, a distinguished name
//! (`uid=joe.user,ou=HelpDesk,dc=acme-inc,dc=com`, see [`crate::dn`]). The vault user is derived
//! by these rules, in this order:
//!
//! 1. The username is split into name and domain; a name that cannot be read is a user-mapping
//!    failure (`PCB010`). A DN, when sent, must parse too.
//! 2. **Name**: with `use_dn = true` (the default) and a DN that has a `uid`, the first `uid`;
//!    else its first `cn`; else the name from the username.
//! 3. **Domain**: the username's domain (`ACME`, `acme-inc.com`); else the DN's `dc` components
//!    joined with `.`; else none.
//! 4. **Domain rules** (`[[mapping.domains]]`): the first entry one of whose `names` equals the
//!    domain (ASCII case-insensitive) gives a `prefix` and `suffix`. A domain that no entry lists
//!    is refused when `unlisted_domains = "refuse"` (a name without a domain never is).
//! 5. **Form**: `domain = "strip"` (the default) gives `prefix + name + suffix`; `domain =
//!    "keep"` keeps the domain in the form it came in (`ACME\joe.user`, `joe.user@acme-inc.com`;
//!    a domain from the DN is written `name@domain`), between the prefix and suffix.
//! 6. `lowercase = true` lower-cases the result.
//! 7. `[vault] run_as`, when set, replaces the result: every console user runs as that one vault
//!    user (steps 1–6 still run, so an unreadable name is still refused, and the mapped name is
//!    still what the log and the request's reason show).
//!
//! The result must be 1 to 256 characters with no control character, no `;` (it becomes
//! `runas=` of the PS-Auth header, where `;` ends the field), no surrounding space, and not only
//! digits (the vault reads an all-digit run-as user as a user ID).

use serde::Deserialize;

use crate::error::{config, BrokerError, Result};
use crate::protocol::ConsoleUser;
use crate::{dn, names};

/// The `[mapping]` rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MappingRules {
    pub use_dn: bool,
    pub domain: DomainForm,
    pub lowercase: bool,
    pub unlisted_domains: Unlisted,
    pub domains: Vec<DomainRule>,
}

impl Default for MappingRules {
    fn default() -> Self {
        MappingRules {
            use_dn: true,
            domain: DomainForm::Strip,
            lowercase: false,
            unlisted_domains: Unlisted::Allow,
            domains: Vec::new(),
        }
    }
}

/// What becomes of the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DomainForm {
    #[default]
    Strip,
    Keep,
}

/// What happens to a domain no `[[mapping.domains]]` entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Unlisted {
    #[default]
    Allow,
    Refuse,
}

/// One `[[mapping.domains]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainRule {
    /// The spellings of the domain (`ACME`, `acme-inc.com`).
    pub names: Vec<String>,
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub suffix: String,
}

/// The vault user a console user acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultUser {
    /// The `runas=` of the PS-Auth header.
    pub name: String,
    /// The name the rules derived (differs from `name` only under `[vault] run_as`).
    pub mapped: String,
    /// The console user's domain, if any.
    pub domain: Option<String>,
}

impl MappingRules {
    pub(crate) fn check(&self) -> Result<()> {
        for d in &self.domains {
            if d.names.iter().all(|n| n.trim().is_empty()) {
                return Err(config("a [[mapping.domains]] entry has no names"));
            }
        }
        Ok(())
    }

    /// Maps a console user to a vault user by the rules of this module.
    pub fn map(&self, user: &ConsoleUser, run_as: Option<&str>) -> Result<VaultUser> {
        let fail = |why: String| BrokerError::UserMapping { input: user.username.clone(), why };
        let parsed = names::parse(&user.username).map_err(|e| fail(e.to_string()))?;
        let dn = match user.dn.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => Some(dn::parse(d).map_err(|e| fail(e.to_string()))?),
            None => None,
        };
        let dn_name =
            dn.as_ref().filter(|_| self.use_dn).and_then(|d| d.first("uid").or_else(|| d.first("cn")));
        let name = dn_name.unwrap_or(&parsed.name).to_string();
        let domain = parsed.domain.clone().or_else(|| dn.as_ref().and_then(dn::Dn::dns_domain));
        let rule = domain.as_deref().and_then(|d| {
            self.domains.iter().find(|r| r.names.iter().any(|n| n.trim().eq_ignore_ascii_case(d)))
        });
        if let (Some(d), None, Unlisted::Refuse) = (&domain, rule, self.unlisted_domains) {
            return Err(fail(format!(
                "domain {d:?} is not listed in [[mapping.domains]] and unlisted_domains = \"refuse\""
            )));
        }
        let core = match (self.domain, &domain) {
            (DomainForm::Strip, _) | (DomainForm::Keep, None) => name,
            (DomainForm::Keep, Some(d)) if parsed.form == names::Form::DownLevel => format!("{d}\\{name}"),
            (DomainForm::Keep, Some(d)) => format!("{name}@{d}"),
        };
        let (prefix, suffix) = rule.map(|r| (r.prefix.as_str(), r.suffix.as_str())).unwrap_or(("", ""));
        let mut mapped = format!("{prefix}{core}{suffix}");
        if self.lowercase {
            mapped = mapped.to_lowercase();
        }
        check_vault_user(&mapped).map_err(|why| fail(format!("the mapped vault user {mapped:?} {why}")))?;
        Ok(VaultUser { name: run_as.unwrap_or(&mapped).to_string(), mapped, domain })
    }
}

/// Whether `name` can be sent as `runas=` (see the module's last paragraph).
pub(crate) fn check_vault_user(name: &str) -> std::result::Result<(), &'static str> {
    if name.is_empty() || name.len() > 256 {
        return Err("must be 1 to 256 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("holds a control character");
    }
    if name.contains(';') {
        return Err("holds a `;`, which the PS-Auth header cannot carry");
    }
    if name.trim() != name {
        return Err("starts or ends with a space");
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err("is only digits, which the vault would read as a user ID");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn user(name: &str, dn: Option<&str>) -> ConsoleUser {
        ConsoleUser { username: name.into(), dn: dn.map(Into::into) }
    }

    fn rules(toml_text: &str) -> MappingRules {
        toml::from_str(toml_text).unwrap()
    }

    const DN: &str = "uid=joe.user,ou=HelpDesk,dc=acme-inc,dc=com";

    #[test]
    fn every_form_maps_as_documented() {
        let strip = MappingRules::default();
        for (name, dn, want, domain) in [
            ("joe.user", None, "joe.user", None),
            (r"ACME\joe.user", None, "joe.user", Some("ACME")),
            ("joe.user@acme-inc.com", None, "joe.user", Some("acme-inc.com")),
            ("jdoe", Some(DN), "joe.user", Some("acme-inc.com")),
            ("jdoe", Some("cn=Joe User,dc=x"), "Joe User", Some("x")),
        ] {
            let got = strip.map(&user(name, dn), None).unwrap();
            assert_eq!((got.name.as_str(), got.domain.as_deref()), (want, domain), "{name} {dn:?}");
        }
        let keep = rules("domain = \"keep\"\n");
        assert_eq!(keep.map(&user(r"ACME\joe.user", None), None).unwrap().name, r"ACME\joe.user");
        assert_eq!(
            keep.map(&user("joe.user@acme-inc.com", None), None).unwrap().name,
            "joe.user@acme-inc.com"
        );
        assert_eq!(keep.map(&user("joe.user", Some(DN)), None).unwrap().name, "joe.user@acme-inc.com");
        assert_eq!(keep.map(&user("joe.user", None), None).unwrap().name, "joe.user");
        let no_dn = rules("use_dn = false\n");
        assert_eq!(no_dn.map(&user("jdoe", Some(DN)), None).unwrap().name, "jdoe");
    }

    #[test]
    fn domain_rules_prefix_suffix_refuse_lowercase_and_run_as() {
        let r = rules(
            "lowercase = true\nunlisted_domains = \"refuse\"\n[[domains]]\nnames = [\"ACME\", \"acme-inc.com\"]\nprefix = \"acme_\"\nsuffix = \".sra\"\n",
        );
        assert_eq!(r.map(&user(r"acme\Joe.User", None), None).unwrap().name, "acme_joe.user.sra");
        assert_eq!(r.map(&user("Joe.User@ACME-INC.COM", None), None).unwrap().name, "acme_joe.user.sra");
        assert_eq!(r.map(&user("x", Some(DN)), None).unwrap().name, "acme_joe.user.sra");
        assert_eq!(r.map(&user("local", None), None).unwrap().name, "local", "no domain, no rule");
        let e = r.map(&user(r"EVIL\joe.user", None), None).unwrap_err();
        assert_eq!(e.code(), "PCB010");
        assert!(e.to_string().contains("EVIL"), "{e}");
        let fixed = MappingRules::default().map(&user(r"ACME\joe.user", None), Some("svc-sra")).unwrap();
        assert_eq!((fixed.name.as_str(), fixed.mapped.as_str()), ("svc-sra", "joe.user"));
    }

    #[test]
    fn unmappable_names_are_user_mapping_failures() {
        let r = MappingRules::default();
        for (name, dn) in [
            ("", None),
            (r"A\B\c", None),
            ("joe;key=x", None),
            ("12345", None),
            ("joe", Some("not a dn")),
            ("@acme", None),
        ] {
            let e = r.map(&user(name, dn), None).unwrap_err();
            assert_eq!(e.class(), crate::Class::UserMapping, "{name:?}: {e}");
        }
        assert_eq!(r.map(&user("joe", Some("  ")), None).unwrap().name, "joe", "a blank DN is no DN");
    }

    proptest! {
        /// The three username forms of one person map to the same vault user under `strip`, and
        /// each keeps its own spelling under `keep`.
        #[test]
        fn forms_agree_under_strip(name in "[a-z][a-z0-9._-]{0,20}", domain in "[A-Za-z][A-Za-z0-9-]{0,10}") {
            let strip = MappingRules::default();
            let plain = strip.map(&user(&name, None), None).unwrap().name;
            prop_assert_eq!(&plain, &name);
            prop_assert_eq!(&strip.map(&user(&format!("{domain}\\{name}"), None), None).unwrap().name, &name);
            prop_assert_eq!(&strip.map(&user(&format!("{name}@{domain}.com"), None), None).unwrap().name, &name);
            prop_assert_eq!(&strip.map(&user("someone-else", Some(&format!("uid={name},dc={domain},dc=com"))), None).unwrap().name, &name);
            let keep = rules("domain = \"keep\"\n");
            let dl = format!("{domain}\\{name}");
            prop_assert_eq!(&keep.map(&user(&dl, None), None).unwrap().name, &dl);
        }

        /// Whatever arrives, mapping answers a vault user that the PS-Auth header can carry, or a
        /// user-mapping failure; it never panics.
        #[test]
        fn anything_maps_safely_or_fails_as_user_mapping(name in "\\PC{0,80}", dn in proptest::option::of("\\PC{0,80}")) {
            match MappingRules::default().map(&user(&name, dn.as_deref()), None) {
                Ok(v) => prop_assert!(check_vault_user(&v.name).is_ok()),
                Err(e) => prop_assert_eq!(e.class(), crate::Class::UserMapping),
            }
        }
    }
}
