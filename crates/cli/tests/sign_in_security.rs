//! The sign-in page's defences, over HTTP against `portcullis up`: the TOTP second step, one
//! use per code, and the lockout after repeated failures — both shared by every node of a
//! deployment (two servers on one data directory here).

mod support;

use support::*;

const UPN: &str = "carol@contoso.test";

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

/// RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits) at time step `step`.
fn totp(secret: &[u8], step: u64) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = aws_lc_rs::hmac::sign(&key, &step.to_be_bytes());
    let h = mac.as_ref();
    let offset = usize::from(h[19] & 0x0f);
    let code =
        u32::from_be_bytes([h[offset] & 0x7f, h[offset + 1], h[offset + 2], h[offset + 3]]) % 1_000_000;
    format!("{code:06}")
}

fn now_step() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() / 30
}

/// The password step of My Apps' sign-in on `server`; returns the page it answers.
fn password_step(server: &Server, browser: &mut Browser, password: &str) -> Page {
    let page = browser.get(&server.my_apps_url());
    browser.sign_in(&page, UPN, password, &server.base)
}

/// Posts `code` on the TOTP page `page`.
fn otp_step(server: &Server, browser: &mut Browser, page: &Page, code: &str) -> Page {
    let field = |name: &str| page.field(name).unwrap_or_else(|| panic!("no {name} field on:\n{}", page.body));
    let action = page.form_action().expect("form action");
    let action = if action.starts_with('/') { format!("{}{action}", server.base) } else { action };
    let (csrf, ctx, pending) = (field("csrf"), field("ctx"), field("pending"));
    let answer =
        browser.post_form(&action, &[("otp", code), ("csrf", &csrf), ("ctx", &ctx), ("pending", &pending)]);
    browser.follow(answer, &server.base)
}

const OTP_FIELD: &str = "name=\"otp\"";
const BAD_OTP: &str = "the verification code is incorrect";
const LOCKED: &str = "temporarily locked";

fn is_my_apps(page: &Page) -> bool {
    page.status == 200
        && page.body.contains("/logout")
        && !page.is_sign_in()
        && !page.body.contains(OTP_FIELD)
}

/// Proves: with TOTP on, the right password leads to a second step with an `otp` field (no
/// session yet); a wrong code is refused (PCS50076 in the log); the right code signs in; the same code
/// is refused afterwards on another node of the deployment (one use per code, cluster-wide),
/// and a fresh code from the next time step works there.
#[test]
fn totp_second_step_and_one_use_per_code_across_nodes() {
    let a = Server::start(PORTCULLIS);
    a.create_user(UPN, "Carol", "Chen", &[]);
    let uri = a.cli(&["idp", "user", "totp-enroll", "--user", UPN]);
    let secret =
        uri.split("secret=").nth(1).and_then(|s| s.split('&').next()).expect("secret in the otpauth URI");
    let secret = base32_decode(secret);
    let b = a.second_node();

    let mut browser = Browser::new();
    let second = password_step(&a, &mut browser, PASSWORD);
    assert!(second.body.contains(OTP_FIELD), "no otp step:\n{}", second.body);
    assert!(browser.cookie("pcs_session").is_none(), "a session before the second factor");
    let wrong = otp_step(&a, &mut browser, &second, "000000");
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(wrong.body.contains(BAD_OTP), "{}", wrong.body);

    // Wait for a fresh time step so that the code used below is not close to its end.
    let step = now_step();
    let code = totp(&secret, step);
    let signed_in = otp_step(&a, &mut browser, &wrong, &code);
    assert!(is_my_apps(&signed_in), "the right code must sign in:\n{}", signed_in.body);

    let mut other = Browser::new();
    let second_b = password_step(&b, &mut other, PASSWORD);
    let replay = otp_step(&b, &mut other, &second_b, &code);
    assert_eq!(replay.status, 401, "a used code must be refused on another node:\n{}", replay.body);
    assert!(replay.body.contains(BAD_OTP), "{}", replay.body);
    let codes: Vec<String> =
        a.signins(&["--user", UPN]).iter().filter_map(|r| r["result"].as_str().map(str::to_string)).collect();
    assert_eq!(codes.iter().filter(|c| *c == "PCS50076").count(), 2, "both refusals are logged: {codes:?}");
    while now_step() == step {
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let fresh = otp_step(&b, &mut other, &replay, &totp(&secret, now_step()));
    assert!(is_my_apps(&fresh), "a fresh code signs in on the other node:\n{}", fresh.body);
}

/// Proves: after 5 wrong passwords the account is locked (PCS50053 in the log), also for the
/// right password, on every node of the deployment, the lock is in the sign-in log, and other
/// accounts are not affected.
#[test]
fn repeated_failures_lock_the_account_on_every_node() {
    let a = Server::start(PORTCULLIS);
    a.create_user(UPN, "Carol", "Chen", &[]);
    a.create_user("dave@contoso.test", "Dave", "Doe", &[]);
    let b = a.second_node();
    let mut browser = Browser::new();
    for i in 0..5 {
        let page = password_step(&a, &mut browser, "wrong password");
        assert_eq!(page.status, 401, "attempt {i}: {}", page.body);
        assert!(
            page.body.contains("password is incorrect"),
            "attempt {i} is a wrong password:\n{}",
            page.body
        );
    }
    let mut other = Browser::new();
    let locked = password_step(&b, &mut other, PASSWORD);
    assert_eq!(locked.status, 401, "{}", locked.body);
    assert!(locked.body.contains(LOCKED), "the other node must see the lock:\n{}", locked.body);
    assert!(other.cookie("pcs_session").is_none());
    let locked_a = password_step(&a, &mut browser, PASSWORD);
    assert!(locked_a.body.contains(LOCKED), "{}", locked_a.body);

    let page = b.clone_browser_sign_in("dave@contoso.test");
    assert!(is_my_apps(&page), "another account is not locked:\n{}", page.body);
    let rows = a.signins(&["--user", UPN]);
    assert!(rows.iter().any(|r| r["result"] == "PCS50053"), "{rows:#?}");
}

trait SignInAs {
    fn clone_browser_sign_in(&self, upn: &str) -> Page;
}

impl SignInAs for Server {
    fn clone_browser_sign_in(&self, upn: &str) -> Page {
        let mut browser = Browser::new();
        let page = browser.get(&self.my_apps_url());
        browser.sign_in(&page, upn, PASSWORD, &self.base)
    }
}
