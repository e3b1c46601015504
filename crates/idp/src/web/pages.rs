//! Server-rendered pages: sign-in, second factor, errors, My Apps. Every value
//! is HTML-escaped here; no page needs JavaScript.

/// Escapes text for HTML content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0}\
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}\
main.wide{max-width:60rem}h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}\
input[type=text],input[type=password],input[type=email]{width:100%;padding:.5rem;box-sizing:border-box}\
button{margin-top:1.2rem;padding:.6rem 1.4rem}.error{color:#b00020}.code{font-family:monospace;color:#555}\
ul.tiles{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1rem}\
ul.tiles li a{display:block;width:10rem;padding:1rem;border:1px solid #ddd;border-radius:6px;text-decoration:none}";

/// A complete page.
pub fn page(title: &str, body: &str, wide: bool) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body><main{}>{body}</main></body></html>",
        esc(title),
        if wide { " class=\"wide\"" } else { "" }
    )
}

/// The sign-in form. `ctx` carries the pending SSO request through the form.
pub fn sign_in(
    action: &str,
    csrf: &str,
    ctx: &str,
    username: &str,
    error: Option<&str>,
    app: Option<&str>,
) -> String {
    let err = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))).unwrap_or_default();
    let to = app.map(|a| format!("<p>to continue to <strong>{}</strong></p>", esc(a))).unwrap_or_default();
    page(
        "Sign in",
        &format!(
            "<h1>Sign in</h1>{to}{err}<form method=\"post\" action=\"{}\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"ctx\" value=\"{}\">\
<label for=\"username\">User name</label>\
<input type=\"text\" id=\"username\" name=\"username\" value=\"{}\" autocomplete=\"username\" autofocus required>\
<label for=\"password\">Password</label>\
<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\">Sign in</button></form>",
            esc(action),
            esc(csrf),
            esc(ctx),
            esc(username)
        ),
        false,
    )
}

/// The second step when the user has TOTP.
pub fn otp(action: &str, csrf: &str, ctx: &str, pending: &str, error: Option<&str>) -> String {
    let err = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))).unwrap_or_default();
    page(
        "Verify your identity",
        &format!(
            "<h1>Enter the code from your authenticator app</h1>{err}<form method=\"post\" action=\"{}\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"ctx\" value=\"{}\">\
<input type=\"hidden\" name=\"pending\" value=\"{}\">\
<label for=\"otp\">Code</label>\
<input type=\"text\" id=\"otp\" name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" autofocus required>\
<button type=\"submit\">Verify</button></form>",
            esc(action),
            esc(csrf),
            esc(ctx),
            esc(pending)
        ),
        false,
    )
}

/// An error page with the stable code, the sentence for the administrator, and
/// the correlation ID to look up in the sign-in logs.
pub fn error(code: &str, message: &str, correlation_id: &str) -> String {
    page(
        "Sign-in error",
        &format!(
            "<h1>Sorry, but we're having trouble signing you in.</h1>\
<p class=\"code\">{}: {}</p><p>Correlation ID: <span class=\"code\">{}</span></p>\
<p>Send these details to your administrator.</p>",
            esc(code),
            esc(message),
            esc(correlation_id)
        ),
        false,
    )
}

/// One My Apps tile.
pub struct Tile {
    pub name: String,
    pub href: String,
}

/// The My Apps portal.
pub fn my_apps(user: &str, tiles: &[Tile], sign_out: &str) -> String {
    let items: String =
        tiles.iter().map(|t| format!("<li><a href=\"{}\">{}</a></li>", esc(&t.href), esc(&t.name))).collect();
    let list = if tiles.is_empty() {
        "<p>No apps are assigned to you yet.</p>".to_string()
    } else {
        format!("<ul class=\"tiles\">{items}</ul>")
    };
    page(
        "My Apps",
        &format!(
            "<h1>My Apps</h1><p>Signed in as {} · <a href=\"{}\">Sign out</a></p>{list}",
            esc(user),
            esc(sign_out)
        ),
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_escaped() {
        let p = sign_in("/t/login", "c\"", "<ctx>", "a\"><script>", Some("<b>"), Some("App & Co"));
        assert!(!p.contains("<script>") && !p.contains("<ctx>") && !p.contains("<b>"));
        assert!(p.contains("name=\"username\"") && p.contains("name=\"password\""));
        assert!(p.contains("App &amp; Co"));
        let m = my_apps("u", &[Tile { name: "<x>".into(), href: "javascript:\"".into() }], "/out");
        assert!(m.contains("&lt;x&gt;") && m.contains("javascript:&quot;"));
    }
}
