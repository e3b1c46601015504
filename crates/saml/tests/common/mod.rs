//! Shared helpers for the integration tests: where the repository and the
//! third-party peers are. A missing peer is a test failure with a message that
//! says how to install it, never a silent skip.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

fn missing(what: &str) -> ! {
    panic!("{what} is not installed: run scripts/install-test-deps (it installs every test peer)")
}

/// The Python of the interop venv, with lxml, signxml, pysaml2 and python3-saml.
pub fn peer_python() -> PathBuf {
    let py = repo_root().join("tests/interop/.venv/bin/python");
    if !py.exists() {
        missing("the Python peer venv (tests/interop/.venv)");
    }
    py
}

pub fn peer_script(rel: &str) -> PathBuf {
    repo_root().join("tests/interop").join(rel)
}

/// A command from PATH that the tests need (xmlsec1, xmllint, node).
pub fn tool(name: &str) -> Command {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false);
    if !found {
        missing(name);
    }
    Command::new(name)
}

/// Runs a Python peer script with arguments; returns its output.
pub fn run_py(script: &str, args: &[&str]) -> Output {
    Command::new(peer_python())
        .arg(peer_script(script))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run python peer")
}

/// Runs a Node peer script with arguments; returns its output.
pub fn run_node(script: &str, args: &[&str]) -> Output {
    if !repo_root().join("tests/interop/node_modules").exists() {
        missing("the Node peers (tests/interop/node_modules)");
    }
    tool("node").arg(peer_script(script)).args(args).stdin(Stdio::null()).output().expect("run node peer")
}

pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
