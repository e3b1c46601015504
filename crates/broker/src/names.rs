//! The forms a console username arrives in (reference document, "SRA Console Username"):
//! `joe.user`, down-level `ACME\joe.user`, and UPN/e-mail `joe.user@acme-inc.com`.
//!
//! The rules, exactly:
//! - surrounding whitespace is trimmed; an empty name, a name longer than [`MAX_LEN`] bytes,
//!   or one with a control character is refused;
//! - a name with a `\` is down-level: exactly one `\`, with a non-empty domain before it and a
//!   non-empty name after it;
//! - otherwise a name with an `@` is a UPN: split at the last `@`, both sides non-empty;
//! - otherwise the whole name is the user name, with no domain.
//!
//! Depends on `std` only, so the fuzz target includes it by path; nothing panics on any input.

use std::fmt;

/// The longest username accepted.
pub const MAX_LEN: usize = 256;

/// Where the domain of a name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `joe.user`
    Plain,
    /// `ACME\joe.user`
    DownLevel,
    /// `joe.user@acme-inc.com`
    Upn,
}

/// A console username split into name and domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    pub name: String,
    pub domain: Option<String>,
    pub form: Form,
}

/// Why a username cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong,
    ControlCharacter,
    TwoBackslashes,
    EmptyPart,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameError::Empty => "the username is empty",
            NameError::TooLong => "the username is longer than 256 bytes",
            NameError::ControlCharacter => "the username holds a control character",
            NameError::TwoBackslashes => "a down-level username has exactly one `\\` (DOMAIN\\user)",
            NameError::EmptyPart => "the username has an empty name or domain around its `\\` or `@`",
        })
    }
}

/// Splits a console username into name and domain.
pub fn parse(input: &str) -> Result<Username, NameError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(NameError::Empty);
    }
    if s.len() > MAX_LEN {
        return Err(NameError::TooLong);
    }
    if s.chars().any(char::is_control) {
        return Err(NameError::ControlCharacter);
    }
    if let Some((domain, name)) = s.split_once('\\') {
        if name.contains('\\') {
            return Err(NameError::TwoBackslashes);
        }
        let (domain, name) = (domain.trim(), name.trim());
        if domain.is_empty() || name.is_empty() {
            return Err(NameError::EmptyPart);
        }
        return Ok(Username { name: name.into(), domain: Some(domain.into()), form: Form::DownLevel });
    }
    if let Some((name, domain)) = s.rsplit_once('@') {
        let (name, domain) = (name.trim(), domain.trim());
        if domain.is_empty() || name.is_empty() {
            return Err(NameError::EmptyPart);
        }
        return Ok(Username { name: name.into(), domain: Some(domain.into()), form: Form::Upn });
    }
    Ok(Username { name: s.into(), domain: None, form: Form::Plain })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_three_forms() {
        assert_eq!(
            parse(" joe.user ").unwrap(),
            Username { name: "joe.user".into(), domain: None, form: Form::Plain }
        );
        assert_eq!(
            parse(r"ACME\joe.user").unwrap(),
            Username { name: "joe.user".into(), domain: Some("ACME".into()), form: Form::DownLevel }
        );
        assert_eq!(
            parse("joe.user@acme-inc.com").unwrap(),
            Username { name: "joe.user".into(), domain: Some("acme-inc.com".into()), form: Form::Upn }
        );
        assert_eq!(parse("a@b@c").unwrap().name, "a@b");
        assert_eq!(parse(r"ACME\joe@x").unwrap().domain.as_deref(), Some("ACME"));
    }

    #[test]
    fn refuses_the_rest() {
        assert_eq!(parse("  "), Err(NameError::Empty));
        assert_eq!(parse(r"A\B\c"), Err(NameError::TwoBackslashes));
        assert_eq!(parse(r"\joe"), Err(NameError::EmptyPart));
        assert_eq!(parse("joe@"), Err(NameError::EmptyPart));
        assert_eq!(parse("jo\ne"), Err(NameError::ControlCharacter));
        assert_eq!(parse(&"x".repeat(257)), Err(NameError::TooLong));
    }

    proptest! {
        /// Each form round-trips: what is written is what is read.
        #[test]
        fn forms_round_trip(name in "[a-z][a-z0-9._-]{0,30}", domain in "[A-Za-z][A-Za-z0-9.-]{0,30}") {
            prop_assert_eq!(parse(&name).unwrap(), Username { name: name.clone(), domain: None, form: Form::Plain });
            let dl = parse(&format!("{domain}\\{name}")).unwrap();
            prop_assert_eq!((dl.name.as_str(), dl.domain.as_deref(), dl.form), (name.as_str(), Some(domain.as_str()), Form::DownLevel));
            let upn = parse(&format!("{name}@{domain}")).unwrap();
            prop_assert_eq!((upn.name.as_str(), upn.domain.as_deref(), upn.form), (name.as_str(), Some(domain.as_str()), Form::Upn));
        }

        /// Arbitrary input never panics, and what parses has no empty part.
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            if let Ok(u) = parse(&s) {
                prop_assert!(!u.name.is_empty());
                prop_assert!(u.domain.as_deref().is_none_or(|d| !d.is_empty()));
            }
        }
    }
}
