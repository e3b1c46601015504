//! A planted password, the registration key and the session cookies appear in no log line at
//! DEBUG (the broker's and the vault's, in one process) while the broker searches, releases the
//! password, checks it in and fails in every way it can, and in no error message.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_planted_password_is_in_no_log_line_at_debug() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let tmp = tempfile::tempdir().unwrap();
    let pki = make_pki(tmp.path());
    let served = Served::start(&tmp.path().join("data"), &pki).await;
    let s = seed(&served.vault).await;
    let b = broker(&served.api_url(), &s.key, Some(&pki.ca), "");
    let found = b.search(&user("joe.user"), &ssh("App01")).await.unwrap();
    let release = b.retrieve(&user("joe.user"), &found[0].id, &session("s1")).await.unwrap();
    assert_eq!(release.secret.expose(), PLANTED, "the test retrieved the planted password");
    tracing::debug!(?release, "a release, formatted with Debug");
    b.check_in(&release.handle, &session("s1")).await.unwrap();
    let mut messages = Vec::new();
    for e in [
        broker(&served.api_url(), &"f".repeat(128), Some(&pki.ca), "")
            .search(&user("joe.user"), &ssh("App01"))
            .await
            .unwrap_err(),
        b.search(&user("outsider"), &ssh("App01")).await.unwrap_err(),
        b.retrieve(&user("joe.user"), &format!("joe.user\\{}\\App01\\hidden", s.hidden), &session("s2"))
            .await
            .unwrap_err(),
        broker(&served.api_url(), &s.key, None, "")
            .search(&user("joe.user"), &ssh("App01"))
            .await
            .unwrap_err(),
    ] {
        e.log("test");
        messages.push(e.to_string());
    }
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("vault API call") && log.contains("credential released"),
        "DEBUG lines were captured:\n{log}"
    );
    for secret in [PLANTED, s.key.as_str()] {
        assert!(!log.contains(secret), "a secret is in the log");
        assert!(messages.iter().all(|m| !m.contains(secret)), "a secret is in an error message");
    }
    assert!(!log.contains("ASP.NET_SessionId="), "a session cookie is in the log");
}
