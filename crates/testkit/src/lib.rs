//! The test kit of Portcullis's integration tests (a dev-dependency only; never published).
//!
//! - The binary's servers, each on a temporary data directory and a free port, read from what
//!   they print and killed when dropped: [`Server`] (`portcullis up`, with the CLI against its
//!   data directory), [`Demo`] (`portcullis sp-demo`), [`VaultServer`] (`portcullis vault serve`).
//!   The binary's path comes from the test crate (`env!("CARGO_BIN_EXE_portcullis")` exists only
//!   in the CLI crate's tests), so every starter takes it as its first argument.
//! - [`Browser`]: reqwest with a cookie jar and no automatic redirects (SAML flows read the
//!   `Location` headers and the auto-posting forms themselves; [`Browser::follow`] follows those
//!   that stay on the IdP), and [`Http`], the same client without cookies, for API calls.
//! - [`peers`]: the third-party programs of `tests/interop` — the SP libraries (pysaml2,
//!   python3-saml, node-saml), the peer IdPs (pysaml2, samlify) and an SMTP sink.
//! - [`postgres`], [`ssh`] and [`rotation`]: a password-protected PostgreSQL server, Debian's
//!   sshd, throw-away Linux users and rotation requests, for the rotators and the vault.
//! - [`pki`]: a test CA and a server certificate for 127.0.0.1 and localhost.
//! - [`db`] and [`on_both_backends!`]: a fresh, migrated store on SQLite and on PostgreSQL (the
//!   store's own kit, `store::testkit`, which the store's tests use too).
//!
//! A missing peer or tool is a test failure that says how to install it, never a skip. Tests
//! that need root (sshd, useradd) are `#[ignore = "needs root"]`; CI runs them.
#![forbid(unsafe_code)]

mod browser;
pub mod peers;
pub mod pki;
mod portcullis;
pub mod postgres;
pub mod rotation;
mod server;
mod sp_demo;
pub mod ssh;
pub mod terminal;
mod vault_serve;

use std::path::{Path, PathBuf};
use std::process::Output;

pub use browser::{unescape, Browser, Http, Page, PostForm};
pub use peers::{Accepted, Login, Peer, Sp};
pub use portcullis::{portcullis, run_cli};
pub use server::Server;
pub use sp_demo::Demo;
pub use vault_serve::VaultServer;

/// Runs each listed `async fn NAME(store: Store)` on SQLite and on PostgreSQL.
pub use store::on_both_backends;
/// Fresh, migrated stores on both backends (the store's test kit).
pub use store::testkit as db;

pub const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
pub const EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// The namespace of the default claim set.
pub const CLAIMS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";
/// The password [`Server::create_user`] gives every user.
pub const PASSWORD: &str = "correct horse battery staple 42";

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// A process's exit code, stdout and stderr, for failure messages.
pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A loopback port nothing listens on (bound, then released): for a server that binds it
/// itself, or as a closed port.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Fails the test: `what` is missing, and scripts/install-test-deps installs it.
fn missing(what: &str) -> ! {
    panic!("{what} is not installed: run scripts/install-test-deps (it installs every test peer)")
}

/// Whether `program` is an executable file in a directory of PATH.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}
