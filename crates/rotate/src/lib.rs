//! Password rotation for the vault: generate a password that follows an account's policy, set it
//! on the real target (PostgreSQL, or a Linux host over SSH) and prove that it works by logging in
//! with it. A platform without a rotator here (the vault's `generic`) cannot be rotated: there is
//! deliberately no rotator that "succeeds" without changing a target.
//!
//! The vault owns the order of writes (store the new password as *pending*, call the rotator,
//! promote on success); this crate only talks to targets. No error, log line or `Debug` output of
//! this crate carries a password.
#![forbid(unsafe_code)]

mod error;
mod password;
pub mod postgres;
pub mod scram;
mod scrub;
pub mod ssh;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use zeroize::Zeroizing;

pub use error::RotateError;
pub use password::{generate_password, PasswordPolicy, MAX_LENGTH, MIN_LENGTH, SYMBOLS};
pub use postgres::PostgresRotator;
pub use ssh::{HostKeys, RememberFirstKey, SshRotator};

/// Where the managed account lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `"postgresql"` or `"linux-ssh"` (the key into [`Registry`]).
    pub platform: String,
    /// Host name or IP address.
    pub host: String,
    /// `None` = the platform's default port (5432 for PostgreSQL, 22 for SSH).
    pub port: Option<u16>,
}

/// A user name and its password. `Debug` never shows the password.
#[derive(Clone)]
pub struct Login {
    pub user: String,
    pub password: Zeroizing<String>,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login").field("user", &self.user).field("password", &"[redacted]").finish()
    }
}

/// One rotation: change `account`'s password on `target` from `current_password` to
/// `new_password`. `Debug` never shows a password.
pub struct RotationRequest {
    pub target: Target,
    /// The managed account's name on the target.
    pub account: String,
    pub current_password: Zeroizing<String>,
    pub new_password: Zeroizing<String>,
    /// The functional (admin) account that changes the password; `None` = the account changes
    /// its own password with `current_password`.
    pub functional: Option<Login>,
}

impl fmt::Debug for RotationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotationRequest")
            .field("target", &self.target)
            .field("account", &self.account)
            .field("current_password", &"[redacted]")
            .field("new_password", &"[redacted]")
            .field("functional", &self.functional)
            .finish()
    }
}

/// The future a rotator returns.
pub type RotateFuture<'a> = Pin<Box<dyn Future<Output = Result<(), RotateError>> + Send + 'a>>;

/// Changes passwords on one kind of target.
pub trait Rotator: Send + Sync {
    /// The platform name this rotator serves (`Target::platform`).
    fn platform(&self) -> &'static str;
    /// Sets `new_password` on the target and proves it works (logs in with it). `Err` leaves the
    /// old one in place whenever the target allows knowing that; [`RotateError::may_have_changed`]
    /// says whether the change may have happened. With `current_password == new_password` the
    /// request means "make sure this password is live" (set again through a functional account,
    /// or only proven by a login without one).
    fn rotate<'a>(&'a self, req: &'a RotationRequest) -> RotateFuture<'a>;
}

/// The rotators by platform name.
pub struct Registry {
    rotators: Vec<Box<dyn Rotator>>,
}

impl Registry {
    /// An empty registry.
    pub fn empty() -> Registry {
        Registry { rotators: Vec::new() }
    }

    /// The built-in rotators: `postgresql`, `linux-ssh`.
    pub fn builtin() -> Registry {
        let mut r = Registry::empty();
        r.register(Box::new(PostgresRotator::default()));
        r.register(Box::new(SshRotator::default()));
        r
    }

    /// The rotator for `platform`, if any.
    pub fn get(&self, platform: &str) -> Option<&dyn Rotator> {
        self.rotators.iter().find(|r| r.platform() == platform).map(|r| r.as_ref())
    }

    /// Adds a rotator; it replaces one registered earlier for the same platform.
    pub fn register(&mut self, r: Box<dyn Rotator>) {
        self.rotators.retain(|old| old.platform() != r.platform());
        self.rotators.push(r);
    }

    /// The platform names served, in registration order.
    pub fn platforms(&self) -> Vec<&'static str> {
        self.rotators.iter().map(|r| r.platform()).collect()
    }

    /// Looks up the request's platform and rotates; [`RotateError::UnknownPlatform`] when no
    /// rotator serves it.
    pub async fn rotate(&self, req: &RotationRequest) -> Result<(), RotateError> {
        match self.get(&req.target.platform) {
            Some(r) => r.rotate(req).await,
            None => Err(RotateError::UnknownPlatform { platform: req.target.platform.clone() }),
        }
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::builtin()
    }
}
