//! `linux-ssh`: change a Linux account's password over SSH (russh client).
//!
//! With a functional account: `chpasswd` reads `account:new-password` on stdin — never on the
//! command line, where `ps` and logs would show it — run directly when the functional account is
//! uid 0, else through `sudo` (`sudo -n` when no password is needed, else `sudo -S` fed the
//! functional password on stdin after checking it with `sudo -v`, so a wrong sudo password can
//! never make sudo read the `account:password` line as another attempt). Without one: log in as
//! the account with its current password and run `passwd` on a PTY, answering its prompts. Then
//! a fresh SSH login as the account with the new password proves the change.
//!
//! Host keys go through `HostKeys`: by default the first key seen for a host is remembered in
//! memory and a different one is refused (PCR017); the vault can plug in a persistent store.

use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, AuthResult, Handle, KeyboardInteractiveAuthResponse};
use russh::keys::{HashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, MethodKind};
use zeroize::Zeroizing;

use crate::scrub::scrub;
use crate::{RotateError, RotateFuture, RotationRequest, Rotator};

/// SSH's default port.
pub const DEFAULT_PORT: u16 = 22;

/// Rotator for the `linux-ssh` platform.
#[derive(Clone)]
pub struct SshRotator {
    /// Limit for each network step (connect, authenticate, one remote command).
    pub timeout: Duration,
    /// Which host keys are trusted; by default the first key seen for a host and port is
    /// remembered for the life of this rotator and any other key is refused.
    pub host_keys: Arc<dyn HostKeys>,
}

impl Default for SshRotator {
    fn default() -> Self {
        SshRotator { timeout: Duration::from_secs(30), host_keys: Arc::new(RememberFirstKey::default()) }
    }
}

impl std::fmt::Debug for SshRotator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshRotator").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

/// Decides whether a server's host key is trusted. The vault can plug in a persistent store
/// (record on first use, pin afterwards) by registering an `SshRotator` with its own `HostKeys`.
pub trait HostKeys: Send + Sync {
    /// `fingerprint` is OpenSSH's SHA-256 form (`SHA256:…`). `Ok(())` trusts it; `Err(expected)`
    /// refuses it and names the fingerprint that was expected.
    fn check(&self, host: &str, port: u16, fingerprint: &str) -> Result<(), String>;
}

/// Trust on first use, in memory: the first fingerprint seen for a host and port is kept and
/// any other is refused until the process restarts.
#[derive(Debug, Default)]
pub struct RememberFirstKey {
    seen: std::sync::Mutex<std::collections::HashMap<(String, u16), String>>,
}

impl HostKeys for RememberFirstKey {
    fn check(&self, host: &str, port: u16, fingerprint: &str) -> Result<(), String> {
        // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match seen.get(&(host.to_owned(), port)) {
            Some(known) if known != fingerprint => Err(known.clone()),
            Some(_) => Ok(()),
            None => {
                tracing::info!(host, port, fingerprint, "first SSH host key of this host remembered");
                seen.insert((host.to_owned(), port), fingerprint.to_owned());
                Ok(())
            }
        }
    }
}

impl Rotator for SshRotator {
    fn platform(&self) -> &'static str {
        "linux-ssh"
    }

    fn rotate<'a>(&'a self, req: &'a RotationRequest) -> RotateFuture<'a> {
        Box::pin(self.run(req))
    }
}

/// Checks the server's host key with `HostKeys` and logs its fingerprint; a refusal is kept in
/// `refused` (expected, got) so that the login can report it.
struct HostKeyCheck {
    host: String,
    port: u16,
    keys: Arc<dyn HostKeys>,
    refused: Arc<std::sync::Mutex<Option<(String, String)>>>,
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let fingerprint = key.public_key().fingerprint(HashAlg::Sha256).to_string();
        match self.keys.check(&self.host, self.port, &fingerprint) {
            Ok(()) => {
                tracing::info!(host = %self.host, port = self.port, %fingerprint, "SSH host key accepted");
                Ok(true)
            }
            Err(expected) => {
                tracing::warn!(host = %self.host, port = self.port, %fingerprint, %expected, "SSH host key refused");
                *self.refused.lock().unwrap_or_else(|p| p.into_inner()) = Some((expected, fingerprint));
                Ok(false)
            }
        }
    }
}

/// What a remote command did.
struct Outcome {
    exit: Option<u32>,
    output: String,
}

/// Which step failed, for mapping russh errors.
#[derive(Clone, Copy)]
enum Stage {
    /// Nothing has been sent that could change the password.
    BeforeChange,
    /// The change command may have run.
    Change,
}

impl SshRotator {
    async fn run(&self, req: &RotationRequest) -> Result<(), RotateError> {
        check_request(req)?;
        let Some(functional) = &req.functional else {
            return self.run_own(req).await;
        };
        let host = req.target.host.as_str();
        let session = self.login(req, &functional.user, &functional.password, "functional account").await?;

        let uid = self.exec(req, &session, "id -u", b"", Stage::BeforeChange).await?;
        // The last line: sshd may print a notice (e.g. "Could not chdir to home directory") first.
        let is_root = uid.exit == Some(0)
            && uid.output.lines().rev().map(str::trim).find(|l| !l.is_empty()) == Some("0");
        let line = Zeroizing::new(format!("{}:{}\n", req.account, req.new_password.as_str()));
        let outcome = if is_root {
            self.exec(req, &session, "chpasswd", line.as_bytes(), Stage::Change).await?
        } else {
            let nopass = self.exec(req, &session, "sudo -n true", b"", Stage::BeforeChange).await?;
            if nopass.exit == Some(0) {
                self.exec(req, &session, "sudo -n chpasswd", line.as_bytes(), Stage::Change).await?
            } else {
                let password_line = Zeroizing::new(format!("{}\n", functional.password.as_str()));
                let check = self
                    .exec(req, &session, "sudo -S -k -p '' -v", password_line.as_bytes(), Stage::BeforeChange)
                    .await?;
                if check.exit != Some(0) {
                    return Err(RotateError::ChangeRefused {
                        host: host.into(),
                        account: req.account.clone(),
                        detail: format!(
                            "the functional account {:?} is not root and may not use sudo with its password ({})",
                            functional.user,
                            one_line(&check.output)
                        ),
                    });
                }
                let input = Zeroizing::new(format!("{}{}", password_line.as_str(), line.as_str()));
                self.exec(req, &session, "sudo -S -k -p '' chpasswd", input.as_bytes(), Stage::Change).await?
            }
        };
        let _ = session.disconnect(russh::Disconnect::ByApplication, "", "en").await;
        match outcome.exit {
            Some(0) => {}
            Some(code) => {
                return Err(RotateError::ChangeRefused {
                    host: host.into(),
                    account: req.account.clone(),
                    detail: format!("chpasswd exited with status {code}: {}", one_line(&outcome.output)),
                })
            }
            None => {
                return Err(RotateError::OutcomeUnknown {
                    host: host.into(),
                    account: req.account.clone(),
                    detail: "chpasswd ended without an exit status".into(),
                })
            }
        }
        self.verify(req).await
    }

    /// Without a functional account: log in as the account with its current password and run
    /// `passwd` on a PTY, answering its prompts (current, new, retype).
    async fn run_own(&self, req: &RotationRequest) -> Result<(), RotateError> {
        let host = req.target.host.clone();
        if req.current_password == req.new_password {
            // "Is this password live?" (the vault's check of a pending password): `passwd` would
            // refuse an unchanged password, and a login answers the question by itself.
            let session =
                self.login(req, &req.account, &req.new_password, "account's current password").await?;
            let _ = session.disconnect(russh::Disconnect::ByApplication, "", "en").await;
            return Ok(());
        }
        let session =
            self.login(req, &req.account, &req.current_password, "account's current password").await?;
        let outcome = self.passwd_dialogue(req, &session).await;
        let _ = session.disconnect(russh::Disconnect::ByApplication, "", "en").await;
        let (exit, output, sent_new) = outcome?;
        let output = one_line(&output);
        match exit {
            Some(0) => self.verify(req).await,
            Some(code) if !sent_new => Err(RotateError::ChangeRefused {
                host,
                account: req.account.clone(),
                detail: format!(
                    "passwd exited with status {code} before asking for a new password: {output}"
                ),
            }),
            // passwd asks for the new password twice and only then changes it; a non-zero exit
            // after that (rules refused it) leaves the old one, which pam_unix reports.
            Some(code) => Err(RotateError::ChangeRefused {
                host,
                account: req.account.clone(),
                detail: format!("passwd exited with status {code}: {output}"),
            }),
            None if !sent_new => Err(RotateError::Protocol {
                host,
                detail: format!("passwd ended without an exit status: {output}"),
            }),
            None => Err(RotateError::OutcomeUnknown {
                host,
                account: req.account.clone(),
                detail: format!("passwd ended without an exit status: {output}"),
            }),
        }
    }

    /// Runs `passwd` on a PTY and answers its prompts. Returns the exit status, the scrubbed
    /// output and whether the new password was sent.
    async fn passwd_dialogue(
        &self,
        req: &RotationRequest,
        session: &Handle<HostKeyCheck>,
    ) -> Result<(Option<u32>, String, bool), RotateError> {
        let host = req.target.host.clone();
        let sent_new = std::sync::atomic::AtomicBool::new(false);
        let run = async {
            let mut channel = session.channel_open_session().await.map_err(|e| e.to_string())?;
            channel.request_pty(false, "dumb", 200, 24, 0, 0, &[]).await.map_err(|e| e.to_string())?;
            // C locale: English prompts whatever the account's locale.
            channel.exec(true, "LC_ALL=C LANG=C passwd").await.map_err(|e| e.to_string())?;
            let mut exit = None;
            let mut all = Zeroizing::new(Vec::new());
            let mut pending = Zeroizing::new(Vec::new()); // output since the last answer
            let mut answers = 0usize;
            while let Some(msg) = channel.wait().await {
                match msg {
                    ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => {
                        if all.len() < 64 * 1024 {
                            all.extend_from_slice(&data);
                        }
                        pending.extend_from_slice(&data);
                        let text = String::from_utf8_lossy(&pending).to_lowercase();
                        let last = text.trim_end().rsplit(['\n', '\r']).next().unwrap_or("").to_owned();
                        if !last.ends_with(':') {
                            continue;
                        }
                        let answer: &str = if last.contains("current") || last.contains("old") {
                            &req.current_password
                        } else if last.contains("new") || last.contains("retype") || last.contains("again") {
                            sent_new.store(true, std::sync::atomic::Ordering::SeqCst);
                            &req.new_password
                        } else {
                            return Err(format!("unexpected prompt from passwd: {last:?}"));
                        };
                        answers += 1;
                        if answers > 4 {
                            return Err("passwd kept prompting (the answers were refused)".into());
                        }
                        let line = Zeroizing::new(format!("{answer}\n"));
                        channel.data(line.as_bytes()).await.map_err(|e| e.to_string())?;
                        pending.clear();
                    }
                    ChannelMsg::ExitStatus { exit_status } => exit = Some(exit_status),
                    _ => {}
                }
            }
            Ok::<_, String>((exit, scrub(&String::from_utf8_lossy(&all), req)))
        };
        let result = tokio::time::timeout(self.timeout, run).await;
        let sent = sent_new.load(std::sync::atomic::Ordering::SeqCst);
        let fail = |detail: String| {
            if sent {
                RotateError::OutcomeUnknown { host: host.clone(), account: req.account.clone(), detail }
            } else {
                RotateError::Protocol { host: host.clone(), detail }
            }
        };
        match result {
            Err(_) => Err(fail(format!("passwd got no answer within {:?}", self.timeout))),
            Ok(Err(e)) => Err(fail(scrub(&e, req))),
            Ok(Ok((exit, output))) => Ok((exit, output, sent)),
        }
    }

    /// Proof: a fresh SSH login as the account with the new password.
    async fn verify(&self, req: &RotationRequest) -> Result<(), RotateError> {
        let failed = |detail: String| RotateError::VerifyFailed {
            host: req.target.host.clone(),
            account: req.account.clone(),
            detail,
        };
        match self.login(req, &req.account, &req.new_password, "new password").await {
            Ok(session) => {
                let _ = session.disconnect(russh::Disconnect::ByApplication, "", "en").await;
                tracing::info!(host = %req.target.host, account = %req.account, "linux-ssh password rotated and verified");
                Ok(())
            }
            Err(RotateError::LoginRefused { .. }) => {
                Err(failed("the SSH login with the new password was refused".into()))
            }
            Err(other) => Err(failed(format!("the SSH login with the new password failed: {other}"))),
        }
    }

    /// Connects and authenticates with a password.
    async fn login(
        &self,
        req: &RotationRequest,
        user: &str,
        password: &str,
        which: &'static str,
    ) -> Result<Handle<HostKeyCheck>, RotateError> {
        let host = req.target.host.clone();
        let port = req.target.port.unwrap_or(DEFAULT_PORT);
        let config =
            Arc::new(client::Config { inactivity_timeout: Some(self.timeout), ..Default::default() });
        let refused = Arc::new(std::sync::Mutex::new(None));
        let handler =
            HostKeyCheck { host: host.clone(), port, keys: self.host_keys.clone(), refused: refused.clone() };
        let connected =
            tokio::time::timeout(self.timeout, client::connect(config, (host.as_str(), port), handler)).await;
        if let Some((expected, got)) = refused.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(RotateError::HostKeyChanged { host, port, expected, got });
        }
        let mut session = match connected {
            Err(_) => return Err(RotateError::Timeout { host, stage: "SSH connect and key exchange" }),
            Ok(Err(e)) => {
                return Err(RotateError::Unreachable { host, port, detail: scrub(&e.to_string(), req) })
            }
            Ok(Ok(s)) => s,
        };
        // russh copies the password into its own (non-zeroizing) buffer for the auth packet.
        let remaining =
            match tokio::time::timeout(self.timeout, session.authenticate_password(user, password)).await {
                Err(_) => return Err(RotateError::Timeout { host, stage: "SSH password authentication" }),
                Ok(Err(e)) => return Err(RotateError::Protocol { host, detail: scrub(&e.to_string(), req) }),
                Ok(Ok(AuthResult::Success)) => return Ok(session),
                Ok(Ok(AuthResult::Failure { remaining_methods, .. })) => remaining_methods,
            };
        // Servers that take passwords only through PAM's keyboard-interactive dialogue
        // (`PasswordAuthentication no`, `KbdInteractiveAuthentication yes`).
        if remaining.contains(&MethodKind::KeyboardInteractive) {
            match tokio::time::timeout(self.timeout, keyboard_interactive(&mut session, user, password)).await
            {
                Err(_) => {
                    return Err(RotateError::Timeout {
                        host,
                        stage: "SSH keyboard-interactive authentication",
                    })
                }
                Ok(Err(e)) => return Err(RotateError::Protocol { host, detail: scrub(&e.to_string(), req) }),
                Ok(Ok(true)) => return Ok(session),
                Ok(Ok(false)) => {}
            }
        }
        Err(RotateError::LoginRefused { host, user: user.into(), which })
    }

    /// Runs `command` in a new session channel, feeds `stdin` then EOF, and collects output
    /// (stdout and stderr, scrubbed) and the exit status.
    async fn exec(
        &self,
        req: &RotationRequest,
        session: &Handle<HostKeyCheck>,
        command: &str,
        stdin: &[u8],
        stage: Stage,
    ) -> Result<Outcome, RotateError> {
        let host = req.target.host.clone();
        let fail = |detail: String| match stage {
            Stage::BeforeChange => RotateError::Protocol { host: host.clone(), detail },
            Stage::Change => {
                RotateError::OutcomeUnknown { host: host.clone(), account: req.account.clone(), detail }
            }
        };
        let run = async {
            let mut channel = session.channel_open_session().await.map_err(|e| e.to_string())?;
            channel.exec(true, command).await.map_err(|e| e.to_string())?;
            if !stdin.is_empty() {
                channel.data(stdin).await.map_err(|e| e.to_string())?;
            }
            channel.eof().await.map_err(|e| e.to_string())?;
            let mut exit = None;
            let mut output = Zeroizing::new(Vec::new());
            while let Some(msg) = channel.wait().await {
                match msg {
                    ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. }
                        if output.len() < 64 * 1024 =>
                    {
                        output.extend_from_slice(&data)
                    }
                    ChannelMsg::ExitStatus { exit_status } => exit = Some(exit_status),
                    _ => {}
                }
            }
            Ok::<_, String>(Outcome { exit, output: scrub(&String::from_utf8_lossy(&output), req) })
        };
        match tokio::time::timeout(self.timeout, run).await {
            Err(_) => Err(fail(format!("`{command}` got no answer within {:?}", self.timeout))),
            Ok(Err(e)) => Err(fail(format!("`{command}` failed: {}", scrub(&e, req)))),
            Ok(Ok(o)) => Ok(o),
        }
    }
}

/// Keyboard-interactive authentication answering every hidden (no-echo) prompt with the
/// password; `false` when the server refuses or asks something else.
async fn keyboard_interactive(
    session: &mut Handle<HostKeyCheck>,
    user: &str,
    password: &str,
) -> Result<bool, russh::Error> {
    let mut response = session.authenticate_keyboard_interactive_start(user, None).await?;
    // PAM may send informational rounds without prompts; a password is asked at most once.
    let mut answered = false;
    for _ in 0..5 {
        match response {
            KeyboardInteractiveAuthResponse::Success => return Ok(true),
            KeyboardInteractiveAuthResponse::Failure { .. } => return Ok(false),
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                let mut answers = Vec::with_capacity(prompts.len());
                if !prompts.is_empty() {
                    // A visible prompt asks for something else than a password (a code, a name);
                    // a second hidden one means the password was refused.
                    if answered || prompts.iter().any(|p| p.echo) {
                        return Ok(false);
                    }
                    answered = true;
                }
                for _ in &prompts {
                    answers.push(password.to_owned());
                }
                response = session.authenticate_keyboard_interactive_respond(answers).await?;
            }
        }
    }
    Ok(false)
}

/// Refuses names and passwords that cannot travel safely in a `chpasswd` line or a login.
fn check_request(req: &RotationRequest) -> Result<(), RotateError> {
    let bad_name = req.account.is_empty()
        || req.account.len() > 256
        || req.account.chars().any(|c| c == ':' || c.is_control() || c.is_whitespace());
    if bad_name {
        return Err(RotateError::InvalidRequest {
            reason:
                "a Linux account name must be non-empty, at most 256 bytes, without ':', spaces or control \
                     characters"
                    .into(),
        });
    }
    let passwords =
        [Some(&req.new_password), Some(&req.current_password), req.functional.as_ref().map(|f| &f.password)];
    if passwords.into_iter().flatten().any(|p| p.contains(['\n', '\r', '\0'])) {
        return Err(RotateError::InvalidRequest {
            reason: "a password holds a line break or NUL, which cannot be fed to chpasswd/sudo".into(),
        });
    }
    Ok(())
}

/// A command's output on one line (lines joined with " / ").
fn one_line(text: &str) -> String {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" / ")
}
