//! A real `portcullis up` on a temporary data directory and a free port, and the real CLI
//! against that directory.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::portcullis::run_cli;
use crate::{describe, portcullis, PASSWORD};

/// A running `portcullis up`, killed when dropped (its log is printed when a test fails).
pub struct Server {
    bin: PathBuf,
    child: Child,
    dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base: String,
    pub tenant: String,
    pub admin_password: String,
    files: AtomicUsize,
}

impl Server {
    /// Starts `BIN up --data DIR --listen 127.0.0.1:0` and reads the printed base URL, tenant
    /// and first administrator password.
    pub fn start(bin: impl AsRef<Path>) -> Server {
        Server::start_with_env(bin, &[])
    }

    /// [`Server::start`] with extra environment variables (e.g. `PORTCULLIS_SMTP_*`).
    pub fn start_with_env(bin: impl AsRef<Path>, env: &[(&str, &str)]) -> Server {
        Server::start_node(bin.as_ref(), None, env)
    }

    /// A second `portcullis up` on this server's data directory: another node of the same
    /// deployment (SQLite shared through WAL), with its own port and log.
    pub fn second_node(&self) -> Server {
        Server::start_node(&self.bin, Some(&self.data()), &[])
    }

    fn start_node(bin: &Path, shared_data: Option<&Path>, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        if let Some(shared) = shared_data {
            std::os::unix::fs::symlink(shared, dir.path().join("data"))
                .expect("link the shared data directory");
        }
        let data = dir.path().join("data");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("server log");
        let mut child = portcullis(bin)
            .arg("up")
            .arg("--data")
            .arg(&data)
            .args(["--listen", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start portcullis up");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let (mut base, mut tenant, mut password) = (None, None, None);
        let mut seen = String::new();
        loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
                panic!("portcullis up stopped before it was ready\nstdout:\n{seen}\nstderr:\n{log}");
            };
            seen.push_str(&line);
            seen.push('\n');
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("Portcullis is running at ") {
                base = Some(rest.trim_end_matches('/').to_string());
            } else if let Some(rest) = t.strip_prefix("tenant:") {
                let inner = rest.rsplit_once('(').and_then(|(_, r)| r.strip_suffix(')'));
                tenant = inner.map(str::to_string);
            } else if let Some(rest) = t.strip_prefix("password:") {
                password = Some(rest.trim().to_string());
            } else if t.starts_with("Press Ctrl-C") {
                break;
            }
        }
        // Whatever the server prints later is read and dropped, so that it never writes to a
        // closed or full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        // A second node finds the first administrator in place and prints no password.
        let password = if shared_data.is_some() { password.or(Some(String::new())) } else { password };
        let (Some(base), Some(tenant), Some(admin_password)) = (base, tenant, password) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("portcullis up did not print its base URL, tenant and first password:\n{seen}");
        };
        Server {
            bin: bin.to_path_buf(),
            child,
            dir,
            base,
            tenant,
            admin_password,
            files: AtomicUsize::new(0),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// A fresh file path in the test's temporary directory.
    pub fn file(&self, name: &str) -> PathBuf {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        self.dir.path().join(format!("{n:03}-{name}"))
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.file(name);
        std::fs::write(&p, contents).expect("write test file");
        p
    }

    pub fn sso_url(&self) -> String {
        format!("{}/{}/saml2", self.base, self.tenant)
    }

    pub fn login_url(&self) -> String {
        format!("{}/{}/login", self.base, self.tenant)
    }

    pub fn my_apps_url(&self) -> String {
        format!("{}/{}/myapps", self.base, self.tenant)
    }

    /// The IdP's entity ID (the Issuer of its Responses).
    pub fn entity_id(&self) -> String {
        format!("{}/{}/", self.base, self.tenant)
    }

    /// Runs `portcullis --data DIR ARGS…` with `stdin`; returns the output.
    pub fn cli_output(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run_cli(&self.bin, &self.data(), args, stdin)
    }

    /// Runs the CLI, which must succeed; returns its standard output, trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.cli_output(args, None);
        assert!(out.status.success(), "portcullis {}\n{}", args.join(" "), describe(&out));
        String::from_utf8(out.stdout).expect("utf-8 stdout").trim().to_string()
    }

    /// Creates a user with the password [`PASSWORD`]; returns the object ID.
    pub fn create_user(&self, upn: &str, given: &str, surname: &str, extra: &[&str]) -> String {
        let mut args =
            vec!["idp", "user", "create", "--upn", upn, "--given-name", given, "--surname", surname];
        args.extend_from_slice(extra);
        args.push("--password-stdin");
        let out = self.cli_output(&args, Some(&format!("{PASSWORD}\n")));
        assert!(out.status.success(), "user create\n{}", describe(&out));
        String::from_utf8(out.stdout).expect("utf-8").trim().to_string()
    }

    /// Creates an app from the gallery; returns its ID.
    pub fn create_app(&self, template: &str, name: &str, params: &[&str]) -> String {
        let mut args = vec!["idp", "app", "create", "--template", template, "--name", name];
        for p in params {
            args.push("--param");
            args.push(p);
        }
        self.cli(&args)
    }

    /// The app's federation metadata, written to a file.
    pub fn metadata(&self, app: &str) -> PathBuf {
        let xml = self.cli(&["idp", "app", "metadata", "--app", app]);
        assert!(xml.contains("IDPSSODescriptor"), "not IdP metadata:\n{xml}");
        self.write("idp-metadata.xml", &xml)
    }

    /// `idp signins --json [ARGS…]`.
    pub fn signins(&self, args: &[&str]) -> Vec<Value> {
        let mut all = vec!["idp", "signins", "--json"];
        all.extend_from_slice(args);
        let out = self.cli(&all);
        match serde_json::from_str(&out) {
            Ok(Value::Array(rows)) => rows,
            other => panic!("idp signins --json printed {other:?}:\n{out}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- portcullis up log ----\n{}", self.log());
        }
    }
}
