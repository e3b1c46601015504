//! A running `portcullis vault serve` (the Password Safe API) over HTTPS.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use crate::portcullis;

/// The vault's API server on a free port, killed when dropped; its log (debug level) is
/// `DATA/serve.log`.
pub struct VaultServer {
    child: Child,
    log: PathBuf,
    /// The API's base URL as printed (`https://127.0.0.1:PORT/…`), without a trailing slash.
    pub api_url: String,
}

impl VaultServer {
    /// `BIN --data DATA vault serve --listen 127.0.0.1:0` with the TLS certificate and key.
    pub fn start(bin: impl AsRef<Path>, data: &Path, cert: &Path, key: &Path) -> VaultServer {
        let log = data.join("serve.log");
        let mut child = portcullis(bin.as_ref())
            .arg("--data")
            .arg(data)
            .args(["vault", "serve", "--listen", "127.0.0.1:0", "--tls-cert"])
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .env("PORTCULLIS_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("vault serve log"))
            .spawn()
            .expect("start portcullis vault serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = lines.next().and_then(Result::ok).unwrap_or_default();
        let Some(url) = line.trim().strip_prefix("Password Safe API: ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("vault serve printed {line:?}; log: {}", std::fs::read_to_string(&log).unwrap_or_default())
        };
        let api_url = url.trim_end_matches('/').to_string();
        assert!(api_url.starts_with("https://127.0.0.1:"), "{api_url}");
        std::thread::spawn(move || lines.for_each(drop));
        VaultServer { child, log, api_url }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for VaultServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- vault serve log ----\n{}", self.log());
        }
    }
}
