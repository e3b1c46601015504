//! LDAP distinguished names (RFC 4514 string form) as LDAP security providers send them with a
//! console user: `uid=joe.user,ou=HelpDesk,dc=acme-inc,dc=com`.
//!
//! Only what user mapping needs: the RDNs in order, each attribute type lower-cased, each value
//! unescaped (`\,` `\+` `\"` `\\` `\<` `\>` `\;` `\=` `\#` `\ ` and `\XX` hex pairs that form
//! UTF-8). Multi-valued RDNs (`cn=a+uid=b`) yield every pair. `#`-prefixed BER values are kept as
//! written. Any input either parses or returns a [`DnError`]; nothing panics (a fuzz target and
//! property tests hold it to that). Depends on `std` only, so the fuzz target includes it by path.

use std::fmt;

/// A parsed DN: (attribute type lower-cased, value) pairs, in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dn {
    pub attributes: Vec<(String, String)>,
}

/// Why a string is not a DN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnError {
    Empty,
    TooLong,
    MissingEquals,
    BadAttributeType,
    BadEscape,
    NotUtf8,
}

impl fmt::Display for DnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DnError::Empty => "the distinguished name is empty or has an empty component",
            DnError::TooLong => "the distinguished name is longer than 4096 bytes",
            DnError::MissingEquals => "a component of the distinguished name has no `=`",
            DnError::BadAttributeType => {
                "an attribute type of the distinguished name is not a name or an OID"
            }
            DnError::BadEscape => "the distinguished name has a `\\` that escapes nothing valid",
            DnError::NotUtf8 => "an escaped value of the distinguished name is not UTF-8",
        })
    }
}

/// The longest DN accepted.
pub const MAX_LEN: usize = 4096;

impl Dn {
    /// The value of the first attribute of type `ty` (lower-case), if any.
    pub fn first(&self, ty: &str) -> Option<&str> {
        self.attributes.iter().find(|(t, _)| t == ty).map(|(_, v)| v.as_str())
    }

    /// The `dc` components joined with `.` (`acme-inc.com`), if there are any.
    pub fn dns_domain(&self) -> Option<String> {
        let dcs: Vec<&str> =
            self.attributes.iter().filter(|(t, _)| t == "dc").map(|(_, v)| v.as_str()).collect();
        (!dcs.is_empty()).then(|| dcs.join("."))
    }
}

/// Parses the string form of a DN.
pub fn parse(input: &str) -> Result<Dn, DnError> {
    if input.len() > MAX_LEN {
        return Err(DnError::TooLong);
    }
    if input.trim().is_empty() {
        return Err(DnError::Empty);
    }
    let mut attributes = Vec::new();
    let mut rest = input;
    loop {
        let (ty, after_ty) = attribute_type(rest)?;
        let (value, after_value, sep) = value(after_ty)?;
        attributes.push((ty, value));
        match sep {
            None => break,
            Some(_) => rest = after_value,
        }
    }
    Ok(Dn { attributes })
}

/// Reads `  type =` and returns the lower-cased type and what follows the `=`.
fn attribute_type(s: &str) -> Result<(String, &str), DnError> {
    let s = s.trim_start_matches(' ');
    let eq = s.find('=').ok_or(DnError::MissingEquals)?;
    let ty = s[..eq].trim_end_matches(' ');
    if ty.is_empty() {
        return Err(DnError::Empty);
    }
    let descr = ty.starts_with(|c: char| c.is_ascii_alphabetic())
        && ty.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let oid = ty.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !(descr || oid) {
        return Err(DnError::BadAttributeType);
    }
    Ok((ty.to_ascii_lowercase(), &s[eq + 1..]))
}

/// Reads a value up to an unescaped `,`, `;` or `+`; returns the value, the rest after the
/// separator, and the separator.
fn value(s: &str) -> Result<(String, &str, Option<char>), DnError> {
    let s = s.trim_start_matches(' ');
    let mut out: Vec<u8> = Vec::new();
    // Bytes of trailing unescaped spaces, which RFC 4514 drops.
    let mut trailing_spaces = 0usize;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b',' | b';' | b'+' => {
                out.truncate(out.len() - trailing_spaces);
                let v = String::from_utf8(out).map_err(|_| DnError::NotUtf8)?;
                if v.is_empty() {
                    return Err(DnError::Empty);
                }
                return Ok((v, &s[i + 1..], Some(b as char)));
            }
            b'\\' => {
                let next = *bytes.get(i + 1).ok_or(DnError::BadEscape)?;
                if b",+\"\\<>;=# ".contains(&next) {
                    out.push(next);
                    i += 2;
                } else {
                    let hi = hex(next).ok_or(DnError::BadEscape)?;
                    let lo = bytes.get(i + 2).copied().and_then(hex).ok_or(DnError::BadEscape)?;
                    out.push(hi << 4 | lo);
                    i += 3;
                }
                trailing_spaces = 0;
            }
            b' ' => {
                out.push(b);
                trailing_spaces += 1;
                i += 1;
            }
            _ => {
                out.push(b);
                trailing_spaces = 0;
                i += 1;
            }
        }
    }
    out.truncate(out.len() - trailing_spaces);
    let v = String::from_utf8(out).map_err(|_| DnError::NotUtf8)?;
    if v.is_empty() {
        return Err(DnError::Empty);
    }
    Ok((v, "", None))
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_reference_example() {
        let dn = parse("uid=joe.user,ou=HelpDesk,dc=acme-inc,dc=com").unwrap();
        assert_eq!(dn.first("uid"), Some("joe.user"));
        assert_eq!(dn.first("ou"), Some("HelpDesk"));
        assert_eq!(dn.dns_domain().as_deref(), Some("acme-inc.com"));
    }

    #[test]
    fn unescapes_and_trims_as_rfc_4514_says() {
        let dn = parse(r"CN=Doe\, Joe + UID=jdoe , OU=Sales\2C EMEA,DC=example;DC=com").unwrap();
        assert_eq!(
            dn.attributes,
            vec![
                ("cn".into(), "Doe, Joe".into()),
                ("uid".into(), "jdoe".into()),
                ("ou".into(), "Sales, EMEA".into()),
                ("dc".into(), "example".into()),
                ("dc".into(), "com".into()),
            ]
        );
        assert_eq!(parse(r"cn=J\C3\BCrgen").unwrap().first("cn"), Some("Jürgen"));
        assert_eq!(parse(r"cn=trailing\ ").unwrap().first("cn"), Some("trailing "));
        assert_eq!(parse("2.5.4.3=x").unwrap().first("2.5.4.3"), Some("x"));
    }

    #[test]
    fn refuses_what_is_not_a_dn() {
        assert_eq!(parse(""), Err(DnError::Empty));
        assert_eq!(parse("joe.user"), Err(DnError::MissingEquals));
        assert_eq!(parse("uid=joe,"), Err(DnError::MissingEquals));
        assert_eq!(parse("uid=,dc=x"), Err(DnError::Empty));
        assert_eq!(parse("=joe"), Err(DnError::Empty));
        assert_eq!(parse("u id=joe"), Err(DnError::BadAttributeType));
        assert_eq!(parse(r"cn=a\"), Err(DnError::BadEscape));
        assert_eq!(parse(r"cn=a\zz"), Err(DnError::BadEscape));
        assert_eq!(parse(r"cn=\ff"), Err(DnError::NotUtf8));
        assert_eq!(parse(&"cn=a,".repeat(1000)), Err(DnError::TooLong));
    }

    fn value_text() -> impl Strategy<Value = String> {
        "[A-Za-z0-9 ,+;=\\\\<>#\"é.-]{1,20}"
    }

    /// Escapes every special character the way a directory writes it.
    fn escape(v: &str) -> String {
        let mut s = String::new();
        for (i, c) in v.chars().enumerate() {
            let edge = i == 0 || i == v.chars().count() - 1;
            if ",+\"\\<>;=#".contains(c) || (c == ' ' && edge) {
                s.push('\\');
            }
            s.push(c);
        }
        s
    }

    proptest! {
        /// Any values, escaped as RFC 4514 says, come back exactly.
        #[test]
        fn escaped_values_round_trip(uid in value_text(), ou in value_text(), dcs in prop::collection::vec("[a-z0-9-]{1,10}", 0..4)) {
            let mut dn = format!("uid={},ou={}", escape(&uid), escape(&ou));
            for dc in &dcs {
                dn.push_str(&format!(",dc={dc}"));
            }
            let parsed = parse(&dn).unwrap();
            prop_assert_eq!(parsed.first("uid"), Some(uid.as_str()));
            prop_assert_eq!(parsed.first("ou"), Some(ou.as_str()));
            prop_assert_eq!(parsed.dns_domain(), (!dcs.is_empty()).then(|| dcs.join(".")));
        }

        /// Arbitrary input never panics.
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s);
        }
    }
}
