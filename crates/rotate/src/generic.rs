//! `generic`: systems the vault cannot reach. The vault only stores the new password; a person
//! (or another tool) sets it on the system.

use crate::{RotateFuture, RotationRequest, Rotator};

/// Rotator for the `generic` platform: nothing to change remotely, always succeeds.
#[derive(Clone, Copy, Debug, Default)]
pub struct GenericRotator;

impl Rotator for GenericRotator {
    fn platform(&self) -> &'static str {
        "generic"
    }

    fn rotate<'a>(&'a self, _req: &'a RotationRequest) -> RotateFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}
