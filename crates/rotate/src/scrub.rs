//! Keeps passwords out of error texts: anything a target says (a server message, a command's
//! output) goes through `scrub` before it is put in a `RotateError`.

use crate::RotationRequest;

/// `text` with every password of `req` replaced by `[redacted]`, cut to a readable length.
pub fn scrub(text: &str, req: &RotationRequest) -> String {
    let mut secrets: Vec<&str> =
        [Some(&req.current_password), Some(&req.new_password), req.functional.as_ref().map(|f| &f.password)]
            .into_iter()
            .flatten()
            .map(|p| p.as_str())
            .filter(|p| !p.is_empty())
            .collect();
    // Longest first: a password that contains another must be replaced whole.
    secrets.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let mut out = text.to_owned();
    for secret in secrets {
        out = out.replace(secret, "[redacted]");
    }
    const MAX: usize = 300;
    if out.len() > MAX {
        let mut cut = MAX;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Login, Target};
    use proptest::prelude::*;
    use zeroize::Zeroizing;

    fn req(current: &str, new: &str, functional: &str) -> RotationRequest {
        RotationRequest {
            target: Target { platform: "generic".into(), host: "h".into(), port: None },
            account: "a".into(),
            current_password: Zeroizing::new(current.into()),
            new_password: Zeroizing::new(new.into()),
            functional: Some(Login { user: "f".into(), password: Zeroizing::new(functional.into()) }),
        }
    }

    proptest! {
        /// Whatever surrounds them, and even when one password contains another, no password
        /// survives scrubbing (passwords of 9+ characters, so none fits inside "[redacted]").
        #[test]
        fn no_password_survives(
            current in "[!-~]{9,40}",
            new_tail in "[!-~]{9,12}",
            functional in "[!-~]{9,40}",
            parts in proptest::collection::vec("[ -~\n]{0,30}", 4),
        ) {
            // The new password contains the current one, the hardest case for plain replacement.
            let new = format!("{current}{new_tail}");
            let text = format!("{}{current}{}{new}{}{functional}{}", parts[0], parts[1], parts[2], parts[3]);
            let out = scrub(&text, &req(&current, &new, &functional));
            prop_assert!(!out.contains(current.as_str()), "{}", out);
            prop_assert!(!out.contains(new.as_str()), "{}", out);
            // Not even the part of the new password after the current one.
            prop_assert!(!out.contains(new_tail.as_str()), "{}", out);
            prop_assert!(!out.contains(functional.as_str()), "{}", out);
        }
    }

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        let out = scrub(&"é".repeat(400), &req("xxxxxxxxx", "yyyyyyyyy", "zzzzzzzzz"));
        assert!(out.len() <= 304 && out.ends_with('…'));
    }
}
