//! Which managed accounts a jump item may use.
//!
//! The vault's `GET ManagedAccounts` already returns only what the signed-in vault user may
//! request: API-enabled accounts on which a group of the user holds a Requestor role. Of those,
//! the broker offers the accounts whose managed system matches the jump item:
//!
//! - **Names of the jump item**: its host (for `web` items, also the host of its URL) and every
//!   additional IP. Surrounding space, `[`…`]` around an IPv6 address and a trailing `.` are
//!   removed; host names compare ASCII case-insensitively; IP addresses compare as addresses
//!   (`::1` equals `0:0:0:0:0:0:0:1`), never as text against a host name.
//! - **Names of a managed system**: the account record's `SystemName`, `HostName`, `IPAddress`
//!   and `DnsName` (each when present).
//! - `ssh` and `web`: an account matches when a name of the jump item equals a name of its
//!   system. With `[matching] short_names = true`, a host name without a dot also equals a
//!   dotted host name whose first label it is (`app01` ~ `app01.acme-inc.com`).
//! - `app`: an account matches when its `ApplicationDisplayName` equals the application name
//!   (case-insensitively) and its system matches the host as above; or when its system's
//!   `SystemName` equals the application name (an application the vault models as a managed
//!   system). A host account without that application is not offered for an application.
//!
//! Every offered account appears once, ordered by display name.

use std::net::IpAddr;

use serde::Deserialize;

use crate::error::{BrokerError, Result};
use crate::protocol::{ItemType, JumpItem};
use crate::psapi::ManagedAccount;

/// The `[matching]` rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchingRules {
    pub short_names: bool,
}

/// A normalised endpoint name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Name {
    Ip(IpAddr),
    Host(String),
}

fn name(raw: &str) -> Option<Name> {
    let s = raw.trim();
    let s = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(s);
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(Name::Ip(ip));
    }
    let s = s.trim_end_matches('.');
    (!s.is_empty() && !s.contains(char::is_whitespace)).then(|| Name::Host(s.to_ascii_lowercase()))
}

fn same(a: &Name, b: &Name, short_names: bool) -> bool {
    match (a, b) {
        (Name::Ip(x), Name::Ip(y)) => x == y,
        (Name::Host(x), Name::Host(y)) => {
            x == y
                || (short_names
                    && ((!x.contains('.') && y.split('.').next() == Some(x.as_str()))
                        || (!y.contains('.') && x.split('.').next() == Some(y.as_str()))))
        }
        _ => false,
    }
}

/// The jump item, ready to match.
#[derive(Debug)]
pub(crate) struct Endpoint {
    item_type: ItemType,
    names: Vec<Name>,
    application: Option<String>,
}

impl Endpoint {
    /// Checks that the item has what its type needs: a host (`ssh`), a URL with a host (`web`),
    /// an application name and a host (`app`).
    pub(crate) fn new(item: &JumpItem) -> Result<Endpoint> {
        let bad = |why: &str| BrokerError::InvalidJumpItem { why: why.into() };
        let mut names = Vec::new();
        if !item.host.trim().is_empty() {
            names.push(name(&item.host).ok_or_else(|| bad("the host name holds a space"))?);
        }
        if item.item_type == ItemType::Web {
            let raw = item
                .url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| bad("a web jump item needs its URL"))?;
            let url = url::Url::parse(raw).map_err(|_| bad("the web jump item's URL is not a URL"))?;
            let host =
                url.host_str().and_then(name).ok_or_else(|| bad("the web jump item's URL has no host"))?;
            names.push(host);
        }
        names.extend(item.additional_ips.iter().map(|ip| Name::Ip(*ip)));
        let application =
            item.application.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(String::from);
        match item.item_type {
            ItemType::Ssh if item.host.trim().is_empty() => {
                return Err(bad("an ssh jump item needs its host name or IP address"))
            }
            ItemType::App if application.is_none() => {
                return Err(bad("an app jump item needs its application name"))
            }
            ItemType::App if item.host.trim().is_empty() => {
                return Err(bad("an app jump item needs the host the application runs on"))
            }
            _ => {}
        }
        Ok(Endpoint { item_type: item.item_type, names, application })
    }

    fn host_matches(&self, a: &ManagedAccount, short_names: bool) -> bool {
        let system = [Some(&a.system_name), a.host_name.as_ref(), a.ip_address.as_ref(), a.dns_name.as_ref()];
        system
            .into_iter()
            .flatten()
            .filter_map(|s| name(s))
            .any(|s| self.names.iter().any(|n| same(n, &s, short_names)))
    }

    /// Whether the account may be offered for this jump item (the module's rules).
    pub(crate) fn matches(&self, a: &ManagedAccount, rules: &MatchingRules) -> bool {
        match (self.item_type, &self.application) {
            (ItemType::App, Some(app)) => {
                let linked = a.application.as_deref().is_some_and(|x| x.trim().eq_ignore_ascii_case(app));
                (linked && self.host_matches(a, rules.short_names))
                    || a.system_name.trim().eq_ignore_ascii_case(app)
            }
            _ => self.host_matches(a, rules.short_names),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(system: &str, host: Option<&str>, app: Option<&str>) -> ManagedAccount {
        ManagedAccount {
            account_id: 1,
            account_name: "a".into(),
            system_id: 1,
            system_name: system.into(),
            domain_name: None,
            host_name: host.map(Into::into),
            ip_address: host.map(Into::into),
            dns_name: None,
            application: app.map(Into::into),
        }
    }

    fn item(t: ItemType, host: &str) -> JumpItem {
        JumpItem { item_type: t, host: host.into(), additional_ips: vec![], application: None, url: None }
    }

    #[test]
    fn hosts_ips_and_names() {
        let r = MatchingRules::default();
        let a = account("App01", Some("10.0.0.5"), None);
        for host in ["app01", "APP01.", " App01 ", "10.0.0.5"] {
            assert!(Endpoint::new(&item(ItemType::Ssh, host)).unwrap().matches(&a, &r), "{host}");
        }
        for host in ["app02", "10.0.0.50", "app01.acme-inc.com", "10.0.0"] {
            assert!(!Endpoint::new(&item(ItemType::Ssh, host)).unwrap().matches(&a, &r), "{host}");
        }
        let mut with_ip = item(ItemType::Ssh, "jumpclient-7");
        with_ip.additional_ips = vec!["10.0.0.5".parse().unwrap()];
        assert!(Endpoint::new(&with_ip).unwrap().matches(&a, &r), "an additional IP matches");
        let v6 = account("v6", Some("0:0:0:0:0:0:0:1"), None);
        assert!(Endpoint::new(&item(ItemType::Ssh, "[::1]")).unwrap().matches(&v6, &r));
    }

    #[test]
    fn short_names_only_when_asked() {
        let a = account("db", Some("app01.acme-inc.com"), None);
        let e = Endpoint::new(&item(ItemType::Ssh, "APP01")).unwrap();
        assert!(!e.matches(&a, &MatchingRules::default()));
        assert!(e.matches(&a, &MatchingRules { short_names: true }));
        let e = Endpoint::new(&item(ItemType::Ssh, "app01.other.com")).unwrap();
        assert!(!e.matches(&a, &MatchingRules { short_names: true }), "two dotted names must be equal");
    }

    #[test]
    fn web_and_app_items() {
        let r = MatchingRules::default();
        let mut web = item(ItemType::Web, "");
        web.url = Some("https://App01:8443/admin".into());
        assert!(Endpoint::new(&web).unwrap().matches(&account("App01", None, None), &r));
        web.url = Some("not a url".into());
        assert_eq!(Endpoint::new(&web).unwrap_err().code(), "PCB061");
        let mut app = item(ItemType::App, "app01");
        app.application = Some("SQL Studio".into());
        let e = Endpoint::new(&app).unwrap();
        assert!(e.matches(&account("app01", None, Some("sql studio")), &r));
        assert!(!e.matches(&account("app01", None, None), &r), "the host's own account is not the app's");
        assert!(!e.matches(&account("app02", None, Some("SQL Studio")), &r), "the app on another host");
        assert!(e.matches(&account("SQL Studio", None, None), &r), "the app as a managed system");
        assert_eq!(Endpoint::new(&item(ItemType::App, "app01")).unwrap_err().code(), "PCB061");
        assert_eq!(Endpoint::new(&item(ItemType::Ssh, " ")).unwrap_err().code(), "PCB061");
    }
}
