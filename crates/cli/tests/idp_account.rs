//! The account page over HTTP against `portcullis up` (issue 14, item 9): a signed-in user
//! changes their password (CSRF-protected; the current password and the policy are checked;
//! every other session ends) and enrols a TOTP authenticator (in effect only once a code is
//! confirmed; removing it needs a code).

mod support;

use support::*;

const UPN: &str = "erin@contoso.test";
const NEW_PASSWORD: &str = "Erin's much longer passphrase";

/// RFC 4648 base32 without padding (the otpauth URI's secret).
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base32 character") as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// The TOTP code of `secret` at the current time step plus `ahead` steps.
fn code(secret: &[u8], ahead: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    idp::totp::code(secret, now as i64 + ahead * 30, 6)
}

/// The `secret=` of the otpauth URI on an enrolment page.
fn secret_of(page: &Page) -> String {
    let at = page.body.find("secret=").unwrap_or_else(|| panic!("no otpauth URI:\n{}", page.body));
    page.body[at + 7..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect()
}

fn account_url(server: &Server, rest: &str) -> String {
    format!("{}/{}/account{rest}", server.base, server.tenant)
}

#[test]
fn a_signed_in_user_changes_their_password_and_every_other_session_ends() {
    let server = Server::start(PORTCULLIS);
    server.create_user(UPN, "Erin", "Example", &[]);
    let mut here = Browser::new();
    let page = here.get(&account_url(&server, ""));
    assert!(page.is_sign_in(), "the account page needs a session:\n{}", page.body);
    let page = here.sign_in(&page, UPN, PASSWORD, &server.base);
    assert_eq!(page.status, 200, "back on the account page after signing in:\n{}", page.body);
    assert!(
        page.body.contains("Change your password") && page.body.contains("Authenticator app"),
        "{}",
        page.body
    );
    let my_apps = here.get(&server.my_apps_url());
    assert!(my_apps.body.contains(&format!("/{}/account", server.tenant)), "My Apps links the account page");
    let mut elsewhere = Browser::new();
    let page = elsewhere.get(&server.my_apps_url());
    elsewhere.sign_in(&page, UPN, PASSWORD, &server.base);

    let url = account_url(&server, "/password");
    let csrf = page_csrf(&mut here, &server);
    let form = |csrf: &str, current: &str, new: &str, confirm: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("current".to_string(), current.to_string()),
            ("new".to_string(), new.to_string()),
            ("confirm".to_string(), confirm.to_string()),
        ]
    };
    let post = |b: &mut Browser, fields: Vec<(String, String)>| {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        b.post_form(&url, &pairs)
    };
    let forged = post(&mut here, form("forged", PASSWORD, NEW_PASSWORD, NEW_PASSWORD));
    assert_eq!(forged.status, 403, "{}", forged.body);
    let wrong = post(&mut here, form(&csrf, "not it", NEW_PASSWORD, NEW_PASSWORD));
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("the current password is incorrect"), "{}", wrong.body);
    let short = post(&mut here, form(&csrf, PASSWORD, "short", "short"));
    assert_eq!(short.status, 400);
    assert!(short.body.contains("at least 12 characters"), "{}", short.body);

    let changed = post(&mut here, form(&csrf, PASSWORD, NEW_PASSWORD, NEW_PASSWORD));
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert!(changed.body.contains("Your password was changed"), "{}", changed.body);
    assert!(
        changed.headers.iter().any(|(n, v)| n == "set-cookie" && v.starts_with("pcs_session=")),
        "this browser gets a new session: {:?}",
        changed.headers
    );
    assert_eq!(here.get(&account_url(&server, "")).status, 200, "this browser stays signed in");
    assert!(elsewhere.get(&server.my_apps_url()).is_sign_in(), "the other session ended");
    let mut again = Browser::new();
    let page = again.get(&server.my_apps_url());
    let old = again.sign_in(&page, UPN, PASSWORD, &server.base);
    assert_eq!(old.status, 401, "the old password no longer signs in");
    let new = again.sign_in(&old, UPN, NEW_PASSWORD, &server.base);
    assert_eq!(new.status, 200, "{}", new.body);
}

/// The CSRF token of the account page in `browser`'s session.
fn page_csrf(browser: &mut Browser, server: &Server) -> String {
    let page = browser.get(&account_url(server, ""));
    page.field("csrf").unwrap_or_else(|| panic!("no csrf field:\n{}", page.body))
}

#[test]
fn a_signed_in_user_enrols_totp_with_a_confirmed_code_and_removes_it_with_one() {
    let server = Server::start(PORTCULLIS);
    server.create_user(UPN, "Erin", "Example", &[]);
    let mut browser = Browser::new();
    let page = browser.get(&account_url(&server, ""));
    browser.sign_in(&page, UPN, PASSWORD, &server.base);

    let enrol = browser.get(&account_url(&server, "/totp"));
    assert_eq!(enrol.status, 200, "{}", enrol.body);
    assert!(enrol.body.contains("otpauth://totp/Portcullis:erin@contoso.test"), "{}", enrol.body);
    let key = secret_of(&enrol);
    assert!(enrol.body.contains(&format!(">{key}</code>")), "the key as text too:\n{}", enrol.body);
    let secret = base32_decode(&key);
    let (csrf, pending) = (enrol.field("csrf").unwrap(), enrol.field("pending").unwrap());
    let confirm = |b: &mut Browser, csrf: &str, otp: &str| {
        b.post_form(&account_url(&server, "/totp"), &[("csrf", csrf), ("pending", &pending), ("otp", otp)])
    };
    assert_eq!(confirm(&mut browser, "forged", &code(&secret, 0)).status, 403);
    let wrong = confirm(&mut browser, &csrf, "000000");
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert_eq!(secret_of(&wrong), key, "a wrong code keeps the key the app already has");
    // Not in effect before the code is confirmed: the password alone signs in.
    let mut other = Browser::new();
    let page = other.get(&server.my_apps_url());
    assert!(!other.sign_in(&page, UPN, PASSWORD, &server.base).body.contains("name=\"otp\""));

    let on = confirm(&mut browser, &csrf, &code(&secret, 0));
    assert_eq!(on.status, 200, "{}", on.body);
    assert!(
        on.body.contains("Your authenticator app is set up") && on.body.contains("Turn off"),
        "{}",
        on.body
    );
    let mut other = Browser::new();
    let page = other.get(&server.my_apps_url());
    assert!(
        other.sign_in(&page, UPN, PASSWORD, &server.base).body.contains("name=\"otp\""),
        "now the code is asked"
    );

    let remove = |b: &mut Browser, otp: &str| {
        b.post_form(&account_url(&server, "/totp/remove"), &[("csrf", &csrf), ("otp", otp)])
    };
    let refused = remove(&mut browser, "123456");
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(refused.body.contains("Turn off"), "still on:\n{}", refused.body);
    let off = remove(&mut browser, &code(&secret, 1));
    assert_eq!(off.status, 200, "{}", off.body);
    assert!(
        off.body.contains("was removed") && off.body.contains("Set up an authenticator app"),
        "{}",
        off.body
    );
}
