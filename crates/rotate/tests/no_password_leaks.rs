//! A planted password appears in no error text (Display or Debug) and in no log line, on the
//! failure paths (wrong functional password, unreachable host, nonexistent role or user) and on
//! success. Logs are captured at TRACE for every target, including the `log` records of russh and
//! sqlx (bridged into tracing).

use std::io::Write;
use std::sync::{Arc, Mutex};

use rotate::{Registry, RotateError, RotationRequest};
use testkit::free_port;
use testkit::postgres::Pg;
use testkit::rotation::request;
use testkit::ssh::{LinuxUser, Sshd};
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

/// Captures every event of this thread (the tests run on a current-thread runtime).
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let out = Captured::default();
    let writer = out.clone();
    let guard = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .set_default();
    (out, guard)
}

/// Asserts that none of `secrets` is in the error's Display or Debug.
fn assert_clean(err: &RotateError, secrets: &[&str], what: &str) {
    let shown = format!("{err} {err:?}");
    for s in secrets {
        assert!(!shown.contains(s), "{what}: a password is in the error: {shown}");
    }
}

fn assert_log_clean(log: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!log.contains(s), "a password is in the log:\n{log}");
    }
}

#[test]
fn request_debug_shows_no_password() {
    let req =
        request("postgresql", 1, "acct", "Planted-Cur-1", "Planted-New-1", Some(("adm", "Planted-Fun-1")));
    let shown = format!("{req:?}");
    assert!(shown.contains("acct") && shown.contains("adm"), "{shown}");
    for s in ["Planted-Cur-1", "Planted-New-1", "Planted-Fun-1"] {
        assert!(!shown.contains(s), "{shown}");
    }
}

#[tokio::test]
async fn postgresql_failures_and_success_leak_no_password() {
    let pg = Pg::start().await;
    let current = "Planted-Current-pg-7Qz";
    let new = "Planted-New-pg-8Wx";
    let wrong_functional = "Planted-Wrong-functional-9Er";
    pg.create_role("leaky", current, "").await;
    // Captured from here: the test kit's own set-up statements carry passwords in clear.
    let (log, _guard) = capture();
    let registry = Registry::builtin();
    let secrets = [current, new, wrong_functional, pg.super_password.as_str()];

    let cases: Vec<(RotationRequest, &str)> = vec![
        (
            request("postgresql", pg.port, "leaky", current, new, Some(("postgres", wrong_functional))),
            "PCR011",
        ),
        (request("postgresql", pg.port, "leaky", wrong_functional, new, None), "PCR011"),
        (
            request(
                "postgresql",
                pg.port,
                "no_such_role",
                current,
                new,
                Some(("postgres", &pg.super_password)),
            ),
            "PCR012",
        ),
        (
            request("postgresql", free_port(), "leaky", current, new, Some(("postgres", &pg.super_password))),
            "PCR010",
        ),
    ];
    for (req, code) in &cases {
        let err = registry.rotate(req).await.expect_err("must fail");
        assert_eq!(err.code(), *code, "{err}");
        assert_clean(&err, &secrets, code);
    }
    registry
        .rotate(&request(
            "postgresql",
            pg.port,
            "leaky",
            current,
            new,
            Some(("postgres", &pg.super_password)),
        ))
        .await
        .expect("rotation");
    // The server log (log_statement = all) never sees the clear new password (the current one
    // is there: the test's own CREATE ROLE set it in clear).
    assert_log_clean(&pg.server_log(), &[new]);

    let text = log.text();
    assert!(text.contains("postgresql password rotated and verified"), "the capture saw nothing:\n{text}");
    assert_log_clean(&text, &secrets);
    // Not even the verifier: the rotator turns sqlx's statement logging off.
    assert!(!text.contains("SCRAM-SHA-256$"), "the ALTER ROLE statement was logged:\n{text}");
}

#[tokio::test]
async fn linux_ssh_unreachable_host_leaks_no_password() {
    let (log, _guard) = capture();
    let registry = Registry::builtin();
    let unreachable = request(
        "linux-ssh",
        free_port(),
        "someone",
        "Planted-a-1",
        "Planted-b-2",
        Some(("x", "Planted-c-3")),
    );
    let err = registry.rotate(&unreachable).await.expect_err("closed port");
    assert_eq!(err.code(), "PCR010", "{err}");
    assert_clean(&err, &["Planted-a-1", "Planted-b-2", "Planted-c-3"], "unreachable");
    assert_log_clean(&log.text(), &["Planted-a-1", "Planted-b-2", "Planted-c-3"]);
}

#[tokio::test]
#[ignore = "needs root"]
async fn linux_ssh_failures_and_success_leak_no_password() {
    let (log, _guard) = capture();
    let registry = Registry::builtin();
    let sshd = Sshd::start();
    let (fun_pw, cur_pw, new_pw, wrong) = (
        "Planted-Functional-ssh-1Aa",
        "Planted-Current-ssh-2Bb",
        "Planted-New-ssh-3Cc",
        "Planted-Wrong-ssh-4Dd",
    );
    let mut admin = LinuxUser::create("pclk", fun_pw);
    admin.allow_sudo(false);
    let account = LinuxUser::create("pclk", cur_pw);
    let secrets = [fun_pw, cur_pw, new_pw, wrong];
    let cases = [
        (
            request("linux-ssh", sshd.port, &account.name, cur_pw, new_pw, Some((&admin.name, wrong))),
            "PCR011",
        ),
        (request("linux-ssh", sshd.port, &account.name, wrong, new_pw, None), "PCR011"),
        (
            request("linux-ssh", sshd.port, "pcnosuchuser", cur_pw, new_pw, Some((&admin.name, fun_pw))),
            "PCR012",
        ),
    ];
    for (req, code) in &cases {
        let err = registry.rotate(req).await.expect_err("must fail");
        assert_eq!(err.code(), *code, "{err}");
        assert_clean(&err, &secrets, code);
    }
    registry
        .rotate(&request("linux-ssh", sshd.port, &account.name, cur_pw, new_pw, Some((&admin.name, fun_pw))))
        .await
        .expect("rotation");

    let text = log.text();
    assert!(text.contains("linux-ssh password rotated and verified"), "the capture saw nothing:\n{text}");
    assert!(text.contains("SHA256:"), "the host key fingerprint is logged:\n{text}");
    assert_log_clean(&text, &secrets);
    assert_log_clean(&sshd.log(), &secrets);
}
