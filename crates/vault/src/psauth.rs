//! The `Authorization: PS-Auth key=…; runas=…; pwd=[…];` header of Password Safe's SignAppIn.
//!
//! Clients write it loosely: spaces after `;` or none, a trailing `;` or none, and the password
//! in brackets may itself hold `;` and `]`. The password runs to the last `]` after which only
//! further `key=`/`runas=` fields (or nothing) follow, so any password round-trips when it is the
//! last field, as every known client writes it.

use std::fmt;

use zeroize::Zeroizing;

/// A parsed PS-Auth header. `Debug` shows neither the key nor the password.
pub struct PsAuth {
    pub key: Zeroizing<String>,
    pub runas: Option<String>,
    pub pwd: Option<Zeroizing<String>>,
}

impl fmt::Debug for PsAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PsAuth")
            .field("key", &"<redacted>")
            .field("runas", &self.runas)
            .field("pwd", &self.pwd.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Why a header is not a PS-Auth header we can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PsAuthError {
    NotPsAuth,
    MissingKey,
    Malformed(&'static str),
}

impl fmt::Display for PsAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PsAuthError::NotPsAuth => f.write_str("the Authorization header is not `PS-Auth key=…` or `Bearer …`"),
            PsAuthError::MissingKey => f.write_str("the PS-Auth header has no key=: send `PS-Auth key=<API key>; runas=<user>;`"),
            PsAuthError::Malformed(why) => write!(f, "the PS-Auth header is malformed ({why}): send `PS-Auth key=<API key>; runas=<user>; pwd=[<password>];`"),
        }
    }
}

/// Parses the full header value (starting with `PS-Auth`, any case).
pub fn parse(header: &str) -> Result<PsAuth, PsAuthError> {
    let h = header.trim_start();
    if h.len() < 7 || !h.is_char_boundary(7) || !h[..7].eq_ignore_ascii_case("ps-auth") {
        return Err(PsAuthError::NotPsAuth);
    }
    let rest = &h[7..];
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return Err(PsAuthError::NotPsAuth);
    }
    let mut key = None;
    let mut runas = None;
    let mut pwd = None;
    let mut s = rest;
    loop {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        if s.is_empty() {
            break;
        }
        let eq = s.find('=').ok_or(PsAuthError::Malformed("a field without `=`"))?;
        let name = s[..eq].trim().to_ascii_lowercase();
        let after = s[eq + 1..].trim_start();
        match name.as_str() {
            "pwd" => {
                let Some(inner) = after.strip_prefix('[') else {
                    // Unbracketed: up to the next `;`.
                    let end = after.find(';').unwrap_or(after.len());
                    pwd = Some(Zeroizing::new(after[..end].trim_end().to_string()));
                    s = &after[end..];
                    continue;
                };
                let close =
                    last_closing_bracket(inner).ok_or(PsAuthError::Malformed("`pwd=[` without its `]`"))?;
                pwd = Some(Zeroizing::new(inner[..close].to_string()));
                s = &inner[close + 1..];
            }
            "key" | "runas" => {
                let end = after.find(';').unwrap_or(after.len());
                let value = after[..end].trim().to_string();
                if name == "key" {
                    key = Some(Zeroizing::new(value));
                } else {
                    runas = Some(value).filter(|v| !v.is_empty());
                }
                s = &after[end..];
            }
            _ => {
                // Unknown fields are skipped up to the next `;`.
                let end = after.find(';').unwrap_or(after.len());
                s = &after[end..];
            }
        }
    }
    let key = key.filter(|k| !k.is_empty()).ok_or(PsAuthError::MissingKey)?;
    Ok(PsAuth { key, runas, pwd })
}

/// The index of the `]` that closes `pwd=[`: the last one after which only `key=`/`runas=`
/// fields, separators and spaces follow.
fn last_closing_bracket(inner: &str) -> Option<usize> {
    let mut candidates: Vec<usize> = inner.match_indices(']').map(|(i, _)| i).collect();
    candidates.reverse();
    candidates.into_iter().find(|&i| tail_is_plain_fields(&inner[i + 1..]))
}

fn tail_is_plain_fields(tail: &str) -> bool {
    let t = tail.trim_start();
    if t.is_empty() {
        return true;
    }
    if !t.starts_with(';') {
        return false;
    }
    t.split(';').map(str::trim).filter(|f| !f.is_empty()).all(|f| {
        f.split_once('=').is_some_and(|(n, v)| {
            let n = n.trim().to_ascii_lowercase();
            (n == "key" || n == "runas") && !v.contains(']') && !v.contains('[')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_documented_forms() {
        let a = parse("PS-Auth key=abc; runas=jdoe; pwd=[p;w]d];").unwrap();
        assert_eq!(*a.key, "abc");
        assert_eq!(a.runas.as_deref(), Some("jdoe"));
        assert_eq!(a.pwd.as_deref().map(|s| s.as_str()), Some("p;w]d"));
        let b = parse("ps-auth key=abc;runas=jdoe").unwrap();
        assert_eq!(b.runas.as_deref(), Some("jdoe"));
        assert!(b.pwd.is_none());
        let c = parse("PS-Auth key=abc").unwrap();
        assert!(c.runas.is_none());
        assert_eq!(parse("PS-Auth runas=x;").unwrap_err(), PsAuthError::MissingKey);
        assert_eq!(parse("Bearer abc").unwrap_err(), PsAuthError::NotPsAuth);
        assert_eq!(parse("PS-Authkey=abc").unwrap_err(), PsAuthError::NotPsAuth);
        assert!(parse("PS-Auth key=abc; pwd=[open").is_err());
        let d = parse("PS-Auth key=abc; pwd=[x]; runas=u").unwrap();
        assert_eq!(d.pwd.as_deref().map(|s| s.as_str()), Some("x"));
        assert_eq!(d.runas.as_deref(), Some("u"));
    }

    #[test]
    fn debug_hides_key_and_password() {
        let a = parse("PS-Auth key=SECRETKEY; runas=u; pwd=[SECRETPWD]").unwrap();
        let shown = format!("{a:?}");
        assert!(!shown.contains("SECRETKEY") && !shown.contains("SECRETPWD"), "{shown}");
    }

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-z0-9._@\\\\-][A-Za-z0-9._@\\\\ -]{0,20}[A-Za-z0-9._@\\\\-]"
    }

    proptest! {
        /// Whatever spacing and trailing `;` a client uses, and whatever the password holds
        /// (`;`, `]`, `[`, spaces, `=`), the three fields come back exactly.
        #[test]
        fn round_trips_every_spelling(
            key in "[0-9a-f]{1,128}",
            runas in name(),
            pwd in "[ -~]{0,40}",
            space in prop::bool::ANY,
            trailing in prop::bool::ANY,
            prefix in prop::sample::select(vec!["PS-Auth", "ps-auth", "PS-AUTH"]),
        ) {
            let sep = if space { "; " } else { ";" };
            let header = format!(
                "{prefix} key={key}{sep}runas={runas}{sep}pwd=[{pwd}]{}",
                if trailing { ";" } else { "" }
            );
            let got = parse(&header).unwrap();
            prop_assert_eq!(got.key.as_str(), key.as_str());
            prop_assert_eq!(got.runas.as_deref(), Some(runas.as_str()));
            prop_assert_eq!(got.pwd.as_deref().map(|s| s.as_str()), Some(pwd.as_str()));
        }

        /// Without a password both other fields still round-trip, in either order.
        #[test]
        fn round_trips_without_password(key in "[0-9a-f]{1,128}", runas in name(), swap in prop::bool::ANY) {
            let header = if swap { format!("PS-Auth runas={runas};key={key}") } else { format!("PS-Auth key={key}; runas={runas};") };
            let got = parse(&header).unwrap();
            prop_assert_eq!(got.key.as_str(), key.as_str());
            prop_assert_eq!(got.runas.as_deref(), Some(runas.as_str()));
            prop_assert!(got.pwd.is_none());
        }

        /// Arbitrary input never panics.
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s);
            let _ = parse(&format!("PS-Auth {s}"));
        }
    }
}
