//! Keeps passwords out of error texts: anything a target says (a server message, a command's
//! output) goes through `scrub` before it is put in a `RotateError`.

use crate::RotationRequest;

/// `text` with every password of `req` replaced by `[redacted]`, cut to a readable length.
pub fn scrub(text: &str, req: &RotationRequest) -> String {
    let mut out = text.to_owned();
    let secrets =
        [Some(&req.current_password), Some(&req.new_password), req.functional.as_ref().map(|f| &f.password)];
    for secret in secrets.into_iter().flatten() {
        if !secret.is_empty() {
            out = out.replace(secret.as_str(), "[redacted]");
        }
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
