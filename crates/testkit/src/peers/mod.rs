//! The third-party peers of `tests/interop`, run as subprocesses: any peer script
//! ([`run_py`], [`run_node`]) or tool ([`tool`]), the SP libraries (pysaml2, python3-saml,
//! node-saml) as one-shot commands, the peer IdPs ([`idp`]) and an SMTP
//! server ([`smtp`]) as servers. A missing peer fails the test with how to install it.

pub mod idp;
pub mod smtp;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::{describe, missing, on_path, repo_root, CLAIMS};

/// The program `name` of `tests/interop/.venv`, the Python peers' venv (pysaml2, python3-saml,
/// aiosmtpd, the BeyondTrust library and CLI, schemathesis).
pub fn venv_bin(name: &str) -> PathBuf {
    let bin = repo_root().join("tests/interop/.venv/bin").join(name);
    if !bin.exists() {
        missing(&format!("{name} of the Python peers' venv (tests/interop/.venv)"));
    }
    bin
}

/// The venv's Python.
pub fn venv_python() -> PathBuf {
    venv_bin("python")
}

/// A program from PATH that the tests need (xmlsec1, xmllint, node).
pub fn tool(name: &str) -> Command {
    if !on_path(name) {
        missing(name);
    }
    Command::new(name)
}

/// A script of `tests/interop` (`py/…`, `node/…`).
pub fn peer_script(rel: &str) -> PathBuf {
    repo_root().join("tests/interop").join(rel)
}

/// Runs the Python peer script `script` (under `tests/interop`) with `args`.
pub fn run_py(script: &str, args: &[&str]) -> Output {
    Command::new(venv_python())
        .arg(peer_script(script))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run python peer")
}

/// Runs the Node peer script `script` (under `tests/interop`) with `args`.
pub fn run_node(script: &str, args: &[&str]) -> Output {
    if !repo_root().join("tests/interop/node_modules").exists() {
        missing("the Node peers (tests/interop/node_modules)");
    }
    tool("node").arg(peer_script(script)).args(args).stdin(Stdio::null()).output().expect("run node peer")
}

/// `node`, with `tests/interop/node_modules/PACKAGE` in place.
fn node(package: &str) -> Command {
    if !repo_root().join("tests/interop/node_modules").join(package).exists() {
        missing(&format!("the Node peers (tests/interop/node_modules with {package})"));
    }
    tool("node")
}

/// `xmlsec1`, pysaml2's signature backend, must be on PATH.
fn xmlsec1_on_path() {
    if !on_path("xmlsec1") {
        missing("xmlsec1 (pysaml2's signature backend)");
    }
}

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

impl Peer {
    pub fn name(self) -> &'static str {
        match self {
            Peer::Pysaml2 => "pysaml2",
            Peer::Python3Saml => "python3-saml",
            Peer::NodeSaml => "node-saml",
        }
    }

    fn command(self) -> Command {
        match self {
            Peer::Pysaml2 => {
                xmlsec1_on_path();
                let mut c = Command::new(venv_python());
                c.arg(peer_script("py/sp_pysaml2.py"));
                c
            }
            Peer::Python3Saml => {
                let mut c = Command::new(venv_python());
                c.arg(peer_script("py/sp_python3saml.py"));
                c
            }
            Peer::NodeSaml => {
                let mut c = node("@node-saml/node-saml");
                c.arg(peer_script("node/sp_nodesaml.js"));
                c
            }
        }
    }

    /// Runs the peer's command line with `args`; returns its output.
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
