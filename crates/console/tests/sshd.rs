//! Credential injection against a real OpenSSH server (Debian's sshd on a loopback port with its
//! own host key) and throw-away Linux users: password and key logins run `whoami` in the PTY, a
//! wrong password and a changed host key are refused with their codes, the recording replays
//! the session's output, a planted password is in no recording, log line or error, and the
//! WebSocket bridge carries a browser's keystrokes to the shell and its output back.
//!
//! These tests start sshd and create Linux users, so they need root: `cargo test -p
//! portcullis-console --test sshd -- --include-ignored` (CI runs ignored tests as root).

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use console::recording::{Asciicast, EventData, Recording};
use console::ssh::{Endpoint, HostKey, MemoryPins, Output, Session, SessionOutput, SshConnector};
use console::web::{SessionInfo, Sessions, SessionsFuture};
use console::{ConsoleError, Credential, PtyRequest, TermSize};
use testkit::ssh::{LinuxUser, Sshd};
use zeroize::Zeroizing;

fn endpoint(port: u16) -> Endpoint {
    Endpoint::new("web-01", "127.0.0.1", port).expect("endpoint")
}

fn pty(cols: u16, rows: u16) -> PtyRequest {
    PtyRequest::xterm(TermSize::new(cols, rows).expect("size"))
}

/// One test's world: a Linux user, a folder for recordings and a connector with its own pins.
struct Bed {
    user: LinuxUser,
    dir: tempfile::TempDir,
    pins: Arc<MemoryPins>,
    connector: SshConnector,
}

impl Bed {
    /// A user whose password is `user_password`.
    fn new(user_password: &str) -> Bed {
        log();
        let pins = Arc::new(MemoryPins::default());
        Bed {
            user: LinuxUser::create("pcc", user_password),
            dir: tempfile::tempdir().expect("temp dir"),
            connector: SshConnector::new(pins.clone()),
            pins,
        }
    }

    /// A password credential for the user.
    fn password(&self, password: &str) -> Credential {
        Credential::password(&self.user.name, Zeroizing::new(password.into()))
    }

    /// Where the recording called `name` goes.
    fn recording(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.cast"))
    }

    /// A session on `port` with `credential`, recorded (input included) as `name`.
    async fn open(&self, port: u16, credential: Credential, name: &str) -> Result<Session, ConsoleError> {
        let recording = Recording::create_file(&self.recording(name))?.title("web-01").record_input(true);
        self.connector.open(&endpoint(port), credential, &pty(80, 24)).await?.record(recording)
    }

    /// Logs in with `credential`, runs `whoami` once the prompt shows, sees the user, closes.
    async fn whoami(&self, port: u16, credential: Credential, name: &str) {
        let (mut output, input) = self.open(port, credential, name).await.expect("session").split();
        let mut seen = Vec::new();
        read_until(&mut output, &mut seen, PROMPT).await;
        input.send(b"whoami\n").await.expect("send");
        read_until(&mut output, &mut seen, &whoami_line(&self.user)).await;
        input.close().await.expect("close");
    }
}

/// Reads output into `seen` until it contains `what`; panics after 20 s or at the end.
async fn read_until(output: &mut SessionOutput, seen: &mut Vec<u8>, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !String::from_utf8_lossy(seen).contains(what) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, output.recv()).await {
            Err(_) => panic!("no {what:?} in 20 s; the shell said {:?}", String::from_utf8_lossy(seen)),
            Ok(Ok(Some(Output::Data(bytes)))) => seen.extend_from_slice(&bytes),
            Ok(Ok(Some(other))) => panic!("{other:?} before {what:?}: {:?}", String::from_utf8_lossy(seen)),
            Ok(Ok(None)) => panic!("the session ended before {what:?}: {:?}", String::from_utf8_lossy(seen)),
            Ok(Err(e)) => panic!("{e}"),
        }
    }
}

/// Reads output into `seen` until the session ends; returns the shell's exit status.
async fn read_to_end(output: &mut SessionOutput, seen: &mut Vec<u8>) -> Option<u32> {
    let mut status = None;
    let run = async {
        loop {
            match output.recv().await.expect("no failure") {
                Some(Output::Data(bytes)) => seen.extend_from_slice(&bytes),
                Some(Output::Exited(s)) => status = Some(s),
                Some(Output::Killed(signal)) => panic!("killed by {signal}"),
                None => return,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), run).await.expect("the session ends");
    status
}

/// The shell's prompt (`/bin/sh` for a user that is not root): commands are typed once it shows,
/// as a person would, so that their echo and output come after the login banner.
const PROMPT: &str = "$ ";

/// The line `whoami` prints for `user`.
fn whoami_line(user: &LinuxUser) -> String {
    format!("\n{}\r\n", user.name)
}

/// The endpoint's ed25519 host key as OpenSSH's own tools see it (ssh-keyscan, ssh-keygen -l).
fn host_key_of(port: u16) -> HostKey {
    let scan = Command::new("ssh-keyscan")
        .args(["-t", "ed25519", "-p", &port.to_string(), "127.0.0.1"])
        .stderr(Stdio::null())
        .output()
        .expect("run ssh-keyscan");
    let mut keygen = Command::new("ssh-keygen")
        .args(["-l", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run ssh-keygen");
    keygen.stdin.take().expect("stdin").write_all(&scan.stdout).expect("write");
    let out = keygen.wait_with_output().expect("ssh-keygen -l");
    let text = String::from_utf8_lossy(&out.stdout);
    let fingerprint = text.split_whitespace().nth(1).unwrap_or_else(|| panic!("no fingerprint in {text:?}"));
    HostKey { algorithm: "ssh-ed25519".into(), fingerprint: fingerprint.into() }
}

/// Authorizes `public_key` (an OpenSSH public key line) for `user`.
fn authorize(user: &LinuxUser, public_key: &str) {
    let dir = PathBuf::from(format!("/home/{}/.ssh", user.name));
    std::fs::create_dir_all(&dir).expect("~/.ssh");
    std::fs::write(dir.join("authorized_keys"), public_key).expect("authorized_keys");
    let owner = format!("{0}:{0}", user.name);
    let status = Command::new("chown").args(["-R", &owner, &dir.to_string_lossy()]).status().expect("chown");
    assert!(status.success());
}

/// A new ed25519 key pair from OpenSSH's ssh-keygen: (private key PEM, public key line).
fn generate_key(dir: &Path, passphrase: &str) -> (String, String) {
    let path = dir.join("id_ed25519");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", passphrase, "-C", "console-test", "-f"])
        .arg(&path)
        .status()
        .expect("run ssh-keygen");
    assert!(status.success());
    let private = std::fs::read_to_string(&path).expect("private key");
    let public = std::fs::read_to_string(path.with_extension("pub")).expect("public key");
    (private, public)
}

#[tokio::test]
#[ignore = "needs root"]
async fn password_injection_runs_whoami_and_the_recording_replays_the_output() {
    let sshd = Sshd::start();
    let bed = Bed::new("Injected-pw-1a");
    let session = bed.open(sshd.port, bed.password("Injected-pw-1a"), "s1").await.expect("session");
    // Trust on first use: the key OpenSSH's tools see for the endpoint is now the jump item's pin.
    assert_eq!(bed.pins.pinned("web-01"), Some(host_key_of(sshd.port)));

    let (mut output, input) = session.split();
    let mut seen = Vec::new();
    read_until(&mut output, &mut seen, PROMPT).await;
    input.send(b"whoami\n").await.expect("send");
    read_until(&mut output, &mut seen, &whoami_line(&bed.user)).await;
    input.resize(TermSize::new(100, 30).expect("size")).await.expect("resize");
    input.send(b"stty size\n").await.expect("send");
    read_until(&mut output, &mut seen, "30 100\r\n").await;
    input.send(b"exit 3\n").await.expect("send");
    assert_eq!(read_to_end(&mut output, &mut seen).await, Some(3));
    input.close().await.expect("close");

    let text = std::fs::read_to_string(bed.recording("s1")).expect("recording");
    let cast = Asciicast::parse(&text).expect("asciicast");
    assert!(!cast.truncated);
    assert_eq!((cast.header.width, cast.header.height), (80, 24));
    assert_eq!(cast.header.title.as_deref(), Some("web-01"));
    assert_eq!(cast.header.env["TERM"], "xterm-256color");
    // Replaying the recording's output gives exactly what the session showed.
    assert_eq!(cast.output(), String::from_utf8_lossy(&seen));
    let resizes: Vec<_> = cast.events.iter().filter(|e| matches!(e.data, EventData::Resize(_))).collect();
    assert_eq!(resizes.len(), 1);
    assert_eq!(resizes[0].data, EventData::Resize(TermSize::new(100, 30).expect("size")));
    let typed: String = cast
        .events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::Input(text) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(typed, "whoami\nstty size\nexit 3\n");
    assert!(cast.events.windows(2).all(|w| w[0].time <= w[1].time));
}

#[tokio::test]
#[ignore = "needs root"]
async fn a_server_that_takes_passwords_only_by_keyboard_interactive_gets_the_password_there() {
    let sshd = Sshd::start_keyboard_interactive_only();
    let bed = Bed::new("Pam-pw-7a");
    bed.whoami(sshd.port, bed.password("Pam-pw-7a"), "kbd").await;
    let accepted = format!("Accepted keyboard-interactive/pam for {}", bed.user.name);
    assert!(sshd.log().contains(&accepted), "{}", sshd.log());
    let e = bed.open(sshd.port, bed.password("Wrong-pw-7b"), "kbd-wrong").await.expect_err("refused");
    assert_eq!(e.code(), "PCC014", "{e}");
}

#[tokio::test]
#[ignore = "needs root"]
async fn key_injection_runs_whoami_and_a_wrong_passphrase_is_refused() {
    let sshd = Sshd::start_with_public_keys();
    // The user's password is another one: only the key can log in.
    let bed = Bed::new("Unused-pw-2b");
    let keys = tempfile::tempdir().expect("temp dir");
    let (private, public) = generate_key(keys.path(), "Key-passphrase-2c");
    authorize(&bed.user, &public);
    let key = |passphrase: &str| {
        let passphrase = Some(Zeroizing::new(passphrase.to_owned()));
        Credential::private_key(&bed.user.name, Zeroizing::new(private.clone()), passphrase)
    };
    bed.whoami(sshd.port, key("Key-passphrase-2c"), "key").await;
    assert!(sshd.log().contains(&format!("Accepted publickey for {}", bed.user.name)), "{}", sshd.log());

    let e = bed.open(sshd.port, key("Wrong-passphrase"), "wrong-passphrase").await.expect_err("passphrase");
    assert_eq!(e.code(), "PCC002", "{e}");
    assert!(!e.to_string().contains("Wrong-passphrase") && !e.to_string().contains("PRIVATE KEY"), "{e}");

    // A key the endpoint does not know for the user.
    let other = tempfile::tempdir().expect("temp dir");
    let (stranger, _) = generate_key(other.path(), "");
    let credential = Credential::private_key(&bed.user.name, Zeroizing::new(stranger), None);
    let e = bed.open(sshd.port, credential, "stranger").await.expect_err("unknown key");
    assert_eq!(e.code(), "PCC014", "{e}");
    assert!(e.to_string().contains("publickey"), "{e}");
}

#[tokio::test]
#[ignore = "needs root"]
async fn a_wrong_password_is_refused_with_its_code() {
    let sshd = Sshd::start();
    let bed = Bed::new("Right-pw-3a");
    let e = bed.open(sshd.port, bed.password("Wrong-pw-3b"), "s").await.expect_err("refused");
    assert_eq!(e.code(), "PCC014", "{e}");
    assert!(e.to_string().contains(&bed.user.name) && e.to_string().contains("password"), "{e}");
}

#[tokio::test]
#[ignore = "needs root"]
async fn a_changed_host_key_is_refused_with_its_code_and_the_pin_is_kept() {
    let sshd = Sshd::start();
    let port = sshd.port;
    let bed = Bed::new("Pinned-pw-4a");
    bed.whoami(port, bed.password("Pinned-pw-4a"), "first").await;
    let pinned = bed.pins.pinned("web-01").expect("pinned");

    // The endpoint is "reinstalled": the same port, a new host key.
    drop(sshd);
    let sshd = Sshd::start_on_port(port);
    let offered = host_key_of(sshd.port);
    assert_ne!(offered, pinned);
    let e = bed.open(port, bed.password("Pinned-pw-4a"), "second").await.expect_err("refused");
    assert_eq!(e.code(), "PCC012", "{e}");
    let text = e.to_string();
    assert!(text.contains(&pinned.fingerprint) && text.contains(&offered.fingerprint), "{text}");
    assert!(text.contains("replace the jump item's pin"), "says what to do: {text}");
    assert_eq!(bed.pins.pinned("web-01"), Some(pinned), "the pin is not replaced by the new key");
    // Nothing was sent: sshd saw no authentication attempt.
    let log = sshd.log();
    assert!(!log.contains("Accepted") && !log.contains("Failed password"), "{log}");
}

/// Everything every test of this file logs, at TRACE, russh's `log` records included.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
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
        String::from_utf8_lossy(&self.0.lock().expect("log")).into_owned()
    }
}

/// The log of this test process, captured from the first call on. Every test calls it first:
/// one global subscriber (and `log` bridge) installed before any test connects sees every
/// event of every thread, where a per-thread subscriber could miss callsites that a parallel
/// test registered first.
fn log() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let out = Captured::default();
        let writer = out.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("the test's global subscriber");
        out
    })
}

#[tokio::test]
#[ignore = "needs root"]
async fn a_planted_password_is_in_no_recording_log_line_or_error() {
    let planted = "Planted-Secret-pw-5x";
    let sshd = Sshd::start();
    let bed = Bed::new(planted);
    let mut shown = Vec::new();

    // A refused login (the planted one is the account's real password, a variant is sent)...
    let e =
        bed.open(sshd.port, bed.password(&format!("{planted}-wrong")), "refused").await.expect_err("refused");
    assert_eq!(e.code(), "PCC014");
    shown.push(format!("{e} {e:?}"));
    // ...and a full session with input recorded, in which the shell prints its environment.
    let credential = bed.password(planted);
    shown.push(format!("{credential:?}"));
    let (mut output, input) = bed.open(sshd.port, credential, "session").await.expect("session").split();
    let mut seen = Vec::new();
    read_until(&mut output, &mut seen, PROMPT).await;
    input.send(b"whoami; env; echo done-$((6*7))\n").await.expect("send");
    read_until(&mut output, &mut seen, "done-42").await;
    input.send(b"exit\n").await.expect("send");
    read_to_end(&mut output, &mut seen).await;
    input.close().await.expect("close");

    let recorded = std::fs::read_to_string(bed.recording("session")).expect("recording");
    assert!(
        recorded.contains(&bed.user.name) && recorded.contains("done-42"),
        "the recording has the session"
    );
    let logged = log().text();
    let login =
        format!("SSH login with an injected credential jump_item=web-01 host=127.0.0.1 port={}", sshd.port);
    assert!(logged.contains(&login), "the capture saw the console:\n{logged}");
    assert!(logged.contains("russh::client: drop handle"), "the capture saw russh:\n{logged}");
    for (what, text) in
        [("recording", &recorded), ("log", &logged), ("output", &String::from_utf8_lossy(&seen).into_owned())]
    {
        assert!(!text.contains(planted), "the planted password is in the {what}:\n{text}");
    }
    for text in &shown {
        assert!(!text.contains(planted), "the planted password is in an error or Debug: {text}");
    }
}

/// One session, "s1", on the test's endpoint: what the console's session store and the broker
/// will provide. The password stands in for the broker's answer.
struct OneSession {
    connector: SshConnector,
    port: u16,
    user: String,
    password: Zeroizing<String>,
    recording: PathBuf,
}

impl Sessions for OneSession {
    fn describe<'a>(
        &'a self,
        id: &'a str,
        _caller: &'a axum::http::HeaderMap,
    ) -> SessionsFuture<'a, SessionInfo> {
        Box::pin(async move {
            match id {
                "s1" => Ok(SessionInfo { title: "web-01".into() }),
                _ => Err(ConsoleError::UnknownSession { id: id.into() }),
            }
        })
    }

    fn open<'a>(
        &'a self,
        id: &'a str,
        size: TermSize,
        _caller: &'a axum::http::HeaderMap,
    ) -> SessionsFuture<'a, Session> {
        Box::pin(async move {
            if id != "s1" {
                return Err(ConsoleError::UnknownSession { id: id.into() });
            }
            let credential = Credential::password(&self.user, self.password.clone());
            let shell =
                self.connector.open(&endpoint(self.port), credential, &PtyRequest::xterm(size)).await?;
            shell.record(Recording::create_file(&self.recording)?.title("web-01"))
        })
    }
}

#[tokio::test]
#[ignore = "needs root"]
async fn the_websocket_bridge_carries_whoami_to_the_shell_and_back() {
    log();
    let sshd = Sshd::start();
    let user = LinuxUser::create("pcc", "Bridge-pw-6a");
    let dir = tempfile::tempdir().expect("temp dir");
    let recording = dir.path().join("s1.cast");
    let sessions = OneSession {
        connector: SshConnector::new(Arc::new(MemoryPins::default())),
        port: sshd.port,
        user: user.name.clone(),
        password: Zeroizing::new("Bridge-pw-6a".into()),
        recording: recording.clone(),
    };
    let server = common::Server::start(Arc::new(sessions)).await;
    let mut socket = server.terminal("s1", 90, 20).await;
    let mut seen = common::Seen::default();

    common::read_until(&mut socket, &mut seen, |s| s.text().contains(PROMPT)).await;
    // Keystrokes as binary frames, as the page sends them.
    common::type_in(&mut socket, "whoami\n").await;
    let line = whoami_line(&user);
    common::read_until(&mut socket, &mut seen, |s| s.text().contains(&line)).await;
    // A resize, then input as a text control message.
    common::send_text(&mut socket, r#"{"type":"resize","cols":120,"rows":40}"#).await;
    common::send_text(&mut socket, r#"{"type":"input","data":"stty size; exit 7\n"}"#).await;
    common::read_until(&mut socket, &mut seen, |s| s.closed).await;
    assert!(seen.text().contains("40 120\r\n"), "{:?}", seen.text());
    assert_eq!(seen.messages, [serde_json::json!({"type": "exit", "status": 7})]);
    assert_eq!(seen.close_code, Some(1000));

    let cast = Asciicast::parse(&std::fs::read_to_string(&recording).expect("recording")).expect("asciicast");
    assert_eq!((cast.header.width, cast.header.height), (90, 20), "the page's size");
    assert_eq!(cast.output(), seen.text(), "the recording replays what the browser showed");
    assert!(cast.events.iter().any(|e| e.data == EventData::Resize(TermSize::new(120, 40).expect("size"))));
    assert!(!cast.events.iter().any(|e| matches!(e.data, EventData::Input(_))), "input is off by default");
}
