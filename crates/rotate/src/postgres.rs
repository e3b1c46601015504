//! `postgresql`: `ALTER ROLE … PASSWORD '<SCRAM verifier>'` through the functional account.

use std::time::Duration;

use crate::{RotateError, RotateFuture, RotationRequest, Rotator};

/// Rotator for the `postgresql` platform.
#[derive(Clone, Debug)]
pub struct PostgresRotator {
    /// Limit for each network step (connect, statement).
    pub timeout: Duration,
}

impl Default for PostgresRotator {
    fn default() -> Self {
        PostgresRotator { timeout: Duration::from_secs(30) }
    }
}

impl Rotator for PostgresRotator {
    fn platform(&self) -> &'static str {
        "postgresql"
    }

    fn rotate<'a>(&'a self, _req: &'a RotationRequest) -> RotateFuture<'a> {
        Box::pin(async { Err(RotateError::NotImplemented { platform: "postgresql", what: "ALTER ROLE" }) })
    }
}
