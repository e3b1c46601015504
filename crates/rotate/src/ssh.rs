//! `linux-ssh`: change a Linux account's password over SSH.

use std::time::Duration;

use crate::{RotateError, RotateFuture, RotationRequest, Rotator};

/// Rotator for the `linux-ssh` platform.
#[derive(Clone, Debug)]
pub struct SshRotator {
    /// Limit for each network step (connect, authenticate, command).
    pub timeout: Duration,
}

impl Default for SshRotator {
    fn default() -> Self {
        SshRotator { timeout: Duration::from_secs(30) }
    }
}

impl Rotator for SshRotator {
    fn platform(&self) -> &'static str {
        "linux-ssh"
    }

    fn rotate<'a>(&'a self, _req: &'a RotationRequest) -> RotateFuture<'a> {
        Box::pin(async { Err(RotateError::NotImplemented { platform: "linux-ssh", what: "over SSH" }) })
    }
}
