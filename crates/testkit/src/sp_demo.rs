//! A running `portcullis sp-demo` (the SP toolkit's reference app), started through the
//! contract `portcullis --data DIR sp-demo --listen ADDR --base-url URL [--idp-metadata …]…`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use crate::portcullis;

/// The demo, killed when dropped (its log is printed when a test fails).
pub struct Demo {
    child: Child,
    /// What the demo printed before it was ready.
    pub startup: String,
    pub data: PathBuf,
    log: PathBuf,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base: String,
}

impl Demo {
    /// `BIN sp-demo` on `port` with its own data directory `data`, the IdP metadata at
    /// `metadata` (a file) and `extra` flags.
    pub fn start(bin: impl AsRef<Path>, data: &Path, port: u16, metadata: &Path, extra: &[&str]) -> Demo {
        Demo::start_from(bin, data, port, metadata.to_str().expect("utf-8 path"), extra)
    }

    /// [`Demo::start`] with the metadata as a file path or a URL; "" starts it with none.
    pub fn start_from(bin: impl AsRef<Path>, data: &Path, port: u16, metadata: &str, extra: &[&str]) -> Demo {
        let base = format!("http://127.0.0.1:{port}");
        let log = data.with_extension("log");
        let mut child = portcullis(bin.as_ref())
            .arg("--data")
            .arg(data)
            .args(["sp-demo", "--listen", &format!("127.0.0.1:{port}"), "--base-url", &base])
            .args(if metadata.is_empty() { vec![] } else { vec!["--idp-metadata", metadata] })
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("demo log"))
            .spawn()
            .expect("start portcullis sp-demo");
        let stdout = child.stdout.take().expect("stdout");
        let mut seen = String::new();
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            seen.push_str(&line);
            seen.push('\n');
            if line.starts_with("Press Ctrl-C") {
                // Whatever it prints later is read and dropped (never a closed or full pipe).
                std::thread::spawn(move || lines.for_each(drop));
                return Demo { child, startup: seen, data: data.to_path_buf(), log, base };
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "portcullis sp-demo stopped before it was ready\nstdout:\n{seen}\nstderr:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// The bare contract: no provider, no other flag.
    pub fn bare(bin: impl AsRef<Path>, data: &Path, port: u16) -> Demo {
        Demo::start_from(bin, data, port, "", &[])
    }

    /// The one-time setup token from the startup banner (printed while there is no provider).
    pub fn setup_token(&self) -> Option<String> {
        let line = self.startup.lines().find(|l| l.trim_start().starts_with("setup token:"))?;
        let value = line.split_once(':')?.1.split_whitespace().next()?;
        Some(value.to_string())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The SP's entity ID.
    pub fn entity_id(&self) -> String {
        format!("{}/saml/metadata", self.base)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the demo now (a test that restarts it on the same port and data directory).
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- sp-demo log ----\n{}", self.log());
        }
    }
}
