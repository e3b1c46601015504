//! A real SMTP server (aiosmtpd, `tests/interop/py/smtp_sink.py`) that keeps what it receives.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{peer_script, venv_python};
use crate::{free_port, Server};

/// aiosmtpd on a free loopback port, writing each message to a folder; killed when dropped.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    out: tempfile::TempDir,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let out = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut child = Command::new(venv_python())
            .arg(peer_script("py/smtp_sink.py"))
            .args(["--port", &port.to_string(), "--out"])
            .arg(out.path())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("ready line");
        if !line.starts_with("ready") {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the SMTP sink did not start: {line:?}");
        }
        SmtpSink { child, port, out }
    }

    /// The messages received so far (raw RFC 5322 text), in arrival order, with folded header
    /// lines unfolded and quoted-printable soft line breaks removed, so that assertions can look
    /// for whole phrases.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(self.out.path())
            .expect("sink folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("message").replace("=\r\n", "").replace("\r\n ", " "))
            .collect()
    }

    /// Waits up to a minute for `n` messages from `server` (whose log a failure shows).
    pub fn wait_for(&self, n: usize, server: &Server) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(Instant::now() < deadline, "{n} messages expected, got {}:\n{}", got.len(), server.log());
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
