//! A test kit for end-to-end SSO tests: a real `portcullis up` on a temporary data
//! directory and a free port, the real CLI against that directory, a small
//! cookie-keeping HTTP/1.1 client that plays the browser, and the third-party
//! service providers of `tests/interop` (pysaml2, python3-saml, node-saml) as
//! subprocesses. A missing peer is a test failure that says how to install it,
//! never a skip.
#![allow(dead_code)]

pub mod sp_demo;

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
pub const EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// The namespace of the default claim set.
pub const CLAIMS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";
pub const PASSWORD: &str = "correct horse battery staple 42";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

fn missing(what: &str) -> ! {
    panic!("{what} is not installed: run scripts/install-test-deps (it installs every test peer)")
}

pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn portcullis() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    // Only the arguments configure the binary under test.
    for var in ["PORTCULLIS_DATA", "PORTCULLIS_LISTEN", "PORTCULLIS_BASE_URL", "PORTCULLIS_DATABASE_URL"] {
        c.env_remove(var);
    }
    c.env("PORTCULLIS_LOG", "info");
    c
}

// ------------------------------------------------------------------ the server

/// A running `portcullis up`, killed when dropped.
pub struct Server {
    child: Child,
    dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base: String,
    pub tenant: String,
    pub admin_password: String,
    files: AtomicUsize,
}

impl Server {
    /// Starts `portcullis up --data DIR --listen 127.0.0.1:0` and reads the
    /// printed base URL, tenant and first administrator password.
    pub fn start() -> Server {
        Server::start_with_env(&[])
    }

    /// [`Server::start`] with extra environment variables (e.g. `PORTCULLIS_SMTP_*`).
    pub fn start_with_env(env: &[(&str, &str)]) -> Server {
        Server::start_node(None, env)
    }

    /// A second `portcullis up` on this server's data directory: another node of the same
    /// deployment (SQLite shared through WAL), with its own port and log.
    pub fn second_node(&self) -> Server {
        Server::start_node(Some(&self.data()), &[])
    }

    fn start_node(shared_data: Option<&Path>, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        if let Some(shared) = shared_data {
            std::os::unix::fs::symlink(shared, dir.path().join("data"))
                .expect("link the shared data directory");
        }
        let data = dir.path().join("data");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("server log");
        let mut child = portcullis()
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
        // A second node finds the first administrator in place and prints no password.
        let password = if shared_data.is_some() { password.or(Some(String::new())) } else { password };
        let (Some(base), Some(tenant), Some(admin_password)) = (base, tenant, password) else {
            panic!("portcullis up did not print its base URL, tenant and first password:\n{seen}");
        };
        // The rest of stdout is not read; nothing more is printed there.
        drop(lines);
        Server { child, dir, base, tenant, admin_password, files: AtomicUsize::new(0) }
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
        let mut child = portcullis()
            .arg("--data")
            .arg(self.data())
            .args(args)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run portcullis");
        if let Some(input) = stdin {
            child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("wait for portcullis")
    }

    /// Runs the CLI, which must succeed; returns its standard output, trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.cli_output(args, None);
        assert!(out.status.success(), "portcullis {}\n{}", args.join(" "), describe(&out));
        String::from_utf8(out.stdout).expect("utf-8 stdout").trim().to_string()
    }

    /// Creates a user with a password; returns the object ID.
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

// ------------------------------------------------------------------ the browser

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Page {
    pub url: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The value of the form field `name` (`<input … name="NAME" value="…">`), unescaped.
    pub fn field(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\"");
        let at = self.body.find(&needle)?;
        let tag_start = self.body[..at].rfind('<')?;
        let tag_end = at + self.body[at..].find('>')?;
        attribute(&self.body[tag_start..tag_end], "value")
    }

    /// The action of the first form, unescaped.
    pub fn form_action(&self) -> Option<String> {
        let at = self.body.find("<form")?;
        let end = at + self.body[at..].find('>')?;
        attribute(&self.body[at..end], "action")
    }

    /// Whether this is the sign-in form.
    pub fn is_sign_in(&self) -> bool {
        self.field("ctx").is_some() && self.body.contains("name=\"password\"")
    }

    /// The error code on an error page (`PCS…:`).
    pub fn error_code(&self) -> Option<String> {
        let at = self.body.find("class=\"code\">PCS")? + "class=\"code\">".len();
        let code: String = self.body[at..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        Some(code)
    }

    /// The correlation ID on an error page.
    pub fn correlation_id(&self) -> Option<String> {
        let at = self.body.find("Correlation ID: <span class=\"code\">")?
            + "Correlation ID: <span class=\"code\">".len();
        Some(self.body[at..].chars().take_while(|c| *c != '<').collect())
    }

    /// The hrefs of the page's links.
    pub fn links(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut rest = self.body.as_str();
        while let Some(at) = rest.find("<a ") {
            rest = &rest[at..];
            let Some(end) = rest.find('>') else { break };
            let href = attribute(&rest[..end], "href").unwrap_or_default();
            let text_end = rest.find("</a>").unwrap_or(end + 1);
            let text = unescape(rest.get(end + 1..text_end).unwrap_or(""));
            out.push((href, text));
            rest = &rest[end..];
        }
        out
    }
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let at = tag.find(&needle)? + needle.len();
    let end = at + tag[at..].find('"')?;
    Some(unescape(&tag[at..end]))
}

/// HTML character references as the IdP writes them.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => {
                u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32)
            }
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A browser: keeps cookies (one host), remembers every page it was shown.
#[derive(Default)]
pub struct Browser {
    cookies: BTreeMap<String, String>,
    pub history: Vec<Page>,
}

impl Browser {
    pub fn new() -> Browser {
        Browser::default()
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub fn get(&mut self, url: &str) -> Page {
        self.request("GET", url, None)
    }

    pub fn post_form(&mut self, url: &str, fields: &[(&str, &str)]) -> Page {
        use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
        let body = fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, NON_ALPHANUMERIC),
                    utf8_percent_encode(v, NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        self.request("POST", url, Some(body))
    }

    /// Follows redirects that stay on `base` (the IdP); a redirect elsewhere is
    /// returned as is (nothing outside the IdP is fetched).
    pub fn follow(&mut self, mut page: Page, base: &str) -> Page {
        for _ in 0..10 {
            if !(300..400).contains(&page.status) {
                return page;
            }
            let Some(location) = page.header("location").map(str::to_string) else { return page };
            let url = if location.starts_with('/') { format!("{base}{location}") } else { location };
            if !url.starts_with(base) {
                return page;
            }
            page = self.get(&url);
        }
        panic!("too many redirects, last: {}", page.url)
    }

    /// Fills and posts the sign-in form of `page`, then follows redirects on the IdP.
    pub fn sign_in(&mut self, page: &Page, username: &str, password: &str, base: &str) -> Page {
        assert!(
            page.is_sign_in(),
            "expected the sign-in form at {}, got {}:\n{}",
            page.url,
            page.status,
            page.body
        );
        let csrf = page.field("csrf").expect("csrf field");
        let ctx = page.field("ctx").expect("ctx field");
        let action = page.form_action().expect("form action");
        let action = if action.starts_with('/') { format!("{base}{action}") } else { action };
        let answer = self.post_form(
            &action,
            &[("username", username), ("password", password), ("csrf", &csrf), ("ctx", &ctx)],
        );
        self.follow(answer, base)
    }

    /// Whether any page this browser was shown carried a SAML Response.
    pub fn saw_saml_response(&self) -> bool {
        self.history.iter().any(|p| p.body.contains("SAMLResponse"))
    }

    fn request(&mut self, method: &str, url: &str, body: Option<String>) -> Page {
        let rest = url.strip_prefix("http://").unwrap_or_else(|| panic!("only http:// URLs: {url}"));
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let mut stream = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
        stream.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        req.push_str("User-Agent: portcullis-idp-sso-test\r\nAccept: text/html\r\n");
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        if let Some(b) = &body {
            req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
            req.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        req.push_str("\r\n");
        if let Some(b) = &body {
            req.push_str(b);
        }
        stream.write_all(req.as_bytes()).expect("send request");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read response");
        let page = parse_response(url, &raw);
        for (name, value) in &page.headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                self.set_cookie(value);
            }
        }
        self.history.push(page.clone());
        page
    }

    fn set_cookie(&mut self, header: &str) {
        let mut parts = header.split(';').map(str::trim);
        let Some((name, value)) = parts.next().and_then(|kv| kv.split_once('=')) else { return };
        let expired = parts.any(|p| p.eq_ignore_ascii_case("max-age=0"));
        if expired || value.is_empty() {
            self.cookies.remove(name);
        } else {
            self.cookies.insert(name.to_string(), value.to_string());
        }
    }
}

fn parse_response(url: &str, raw: &[u8]) -> Page {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| {
        panic!("no HTTP header end in the answer from {url}: {:?}", String::from_utf8_lossy(raw))
    });
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Page { url: url.to_string(), status, headers, body: String::from_utf8_lossy(&body).to_string() }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
        data = &data[eol + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[(size + 2).min(data.len())..];
    }
    out
}

// ------------------------------------------------------------------ the service providers

/// The third-party SP libraries of `tests/interop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Pysaml2,
    Python3Saml,
    NodeSaml,
}

/// What an SP is configured with.
#[derive(Debug, Clone)]
pub struct Sp {
    pub peer: Peer,
    pub entity_id: String,
    pub acs_url: String,
    /// The IdP metadata file the SP loaded.
    pub idp_metadata: PathBuf,
}

/// An AuthnRequest the SP made: the redirect URL and the request ID.
#[derive(Debug, Clone)]
pub struct Login {
    pub url: String,
    pub request_id: String,
}

/// What the SP accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub name_id: String,
    pub name_id_format: Option<String>,
    pub attributes: BTreeMap<String, Vec<String>>,
    pub session_index: Option<String>,
    pub raw: Value,
}

impl Accepted {
    pub fn attr(&self, name: &str) -> Vec<String> {
        self.attributes.get(name).cloned().unwrap_or_default()
    }

    /// One value of a default-set claim (`emailaddress`, `givenname`, `name`, `surname`).
    pub fn claim(&self, short: &str) -> Vec<String> {
        self.attr(&format!("{CLAIMS}/{short}"))
    }
}

pub fn venv_python() -> PathBuf {
    let py = repo_root().join("tests/interop/.venv/bin/python");
    if !py.exists() {
        missing("the Python peer venv (tests/interop/.venv with pysaml2 and python3-saml)");
    }
    py
}

fn node() -> Command {
    if !repo_root().join("tests/interop/node_modules/@node-saml/node-saml").exists() {
        missing("the Node peers (tests/interop/node_modules with @node-saml/node-saml)");
    }
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("node").is_file()))
        .unwrap_or(false);
    if !found {
        missing("node");
    }
    Command::new("node")
}

fn xmlsec1_on_path() {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("xmlsec1").is_file()))
        .unwrap_or(false);
    if !found {
        missing("xmlsec1 (pysaml2's signature backend)");
    }
}

impl Peer {
    pub fn name(self) -> &'static str {
        match self {
            Peer::Pysaml2 => "pysaml2",
            Peer::Python3Saml => "python3-saml",
            Peer::NodeSaml => "node-saml",
        }
    }

    fn command(self) -> Command {
        let root = repo_root().join("tests/interop");
        match self {
            Peer::Pysaml2 => {
                xmlsec1_on_path();
                let mut c = Command::new(venv_python());
                c.arg(root.join("py/sp_pysaml2.py"));
                c
            }
            Peer::Python3Saml => {
                let mut c = Command::new(venv_python());
                c.arg(root.join("py/sp_python3saml.py"));
                c
            }
            Peer::NodeSaml => {
                let mut c = node();
                c.arg(root.join("node/sp_nodesaml.js"));
                c
            }
        }
    }

    pub fn run(self, args: &[&str]) -> Output {
        self.command().args(args).stdin(Stdio::null()).output().expect("run the SP peer")
    }
}

impl Sp {
    pub fn new(peer: Peer, entity_id: &str, acs_url: &str, idp_metadata: &Path) -> Sp {
        Sp {
            peer,
            entity_id: entity_id.to_string(),
            acs_url: acs_url.to_string(),
            idp_metadata: idp_metadata.to_path_buf(),
        }
    }

    /// The same SP with another IdP metadata file loaded.
    pub fn with_metadata(&self, idp_metadata: &Path) -> Sp {
        Sp { idp_metadata: idp_metadata.to_path_buf(), ..self.clone() }
    }

    fn base_args(&self, command: &str) -> Vec<String> {
        vec![
            command.to_string(),
            "--idp-metadata".into(),
            self.idp_metadata.to_string_lossy().into_owned(),
            "--sp-entity-id".into(),
            self.entity_id.clone(),
            "--acs-url".into(),
            self.acs_url.clone(),
        ]
    }

    /// A fresh AuthnRequest (HTTP-Redirect) built by the SP library.
    pub fn login(&self, relay_state: Option<&str>, nameid_format: Option<&str>) -> Login {
        self.login_with(relay_state, nameid_format, &[])
    }

    /// `login` with extra peer arguments (e.g. python3-saml's `--sp-key`/`--sp-cert`).
    pub fn login_with(
        &self,
        relay_state: Option<&str>,
        nameid_format: Option<&str>,
        extra: &[&str],
    ) -> Login {
        let mut args = self.base_args("login");
        if let Some(rs) = relay_state {
            args.extend(["--relay-state".into(), rs.into()]);
        }
        if let Some(f) = nameid_format {
            args.extend(["--nameid-format".into(), f.into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.peer.run(&args);
        assert!(out.status.success(), "{} login\n{}", self.peer.name(), describe(&out));
        let v: Value = serde_json::from_slice(&out.stdout).expect("login JSON");
        Login {
            url: v["url"].as_str().expect("url").to_string(),
            request_id: v["request_id"].as_str().expect("request_id").to_string(),
        }
    }

    /// Posts the SAMLResponse (base64, as in the form) to the SP's ACS: Ok with
    /// what it accepted, Err with its reason.
    pub fn acs(
        &self,
        request_id: Option<&str>,
        saml_response: &str,
        scratch: &Path,
    ) -> Result<Accepted, String> {
        std::fs::write(scratch, saml_response).expect("write SAMLResponse");
        let mut args = self.base_args("acs");
        if let Some(id) = request_id {
            args.extend(["--request-id".into(), id.into()]);
        }
        args.push(scratch.to_string_lossy().into_owned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.peer.run(&args);
        match out.status.code() {
            Some(0) => {}
            Some(1) => return Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
            _ => panic!("{} acs: usage error or crash\n{}", self.peer.name(), describe(&out)),
        }
        let v: Value = serde_json::from_slice(&out.stdout).expect("acs JSON");
        let attributes = v["attributes"]
            .as_object()
            .expect("attributes")
            .iter()
            .map(|(k, vals)| {
                let vals = vals
                    .as_array()
                    .expect("attribute values are a list")
                    .iter()
                    .map(|x| x.as_str().unwrap_or_default().to_string())
                    .collect();
                (k.clone(), vals)
            })
            .collect();
        Ok(Accepted {
            name_id: v["name_id"].as_str().expect("name_id").to_string(),
            name_id_format: v["name_id_format"].as_str().map(str::to_string),
            attributes,
            session_index: v["session_index"].as_str().map(str::to_string),
            raw: v,
        })
    }
}

/// The auto-posting form the IdP answers with: where it posts, and what.
#[derive(Debug, Clone)]
pub struct PostForm {
    pub action: String,
    pub saml_response: String,
    pub relay_state: Option<String>,
}

impl PostForm {
    /// Reads the form from a page, which must be one.
    pub fn from_page(page: &Page) -> PostForm {
        let Some(saml_response) = page.field("SAMLResponse") else {
            panic!(
                "expected the auto-posting SAMLResponse form, got {} at {}:\n{}",
                page.status, page.url, page.body
            )
        };
        PostForm {
            action: page.form_action().expect("form action"),
            saml_response,
            relay_state: page.field("RelayState"),
        }
    }

    /// The decoded Response XML.
    pub fn xml(&self) -> String {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD.decode(&self.saml_response).expect("base64");
        String::from_utf8(bytes).expect("utf-8 Response")
    }
}
