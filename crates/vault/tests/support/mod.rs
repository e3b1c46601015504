//! A stand-in target for the vault's tests that rotate without a real server: a rotator for
//! platform `postgresql` that keeps the password it was told to set per account, as the target
//! would, and counts its calls. (The real targets are in tests/rotation.rs.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What the stand-in target holds: the password of each account, and how often it was changed.
#[derive(Clone, Default)]
pub struct FakeTarget {
    passwords: Arc<Mutex<HashMap<String, String>>>,
    calls: Arc<AtomicUsize>,
}

impl FakeTarget {
    /// The platform it serves.
    pub const PLATFORM: &'static str = "postgresql";

    /// The built-in registry with this target serving [`FakeTarget::PLATFORM`].
    pub fn registry(&self) -> rotate::Registry {
        let mut r = rotate::Registry::builtin();
        r.register(Box::new(self.clone()));
        r
    }

    /// The password the target has for `account`, if it was ever set.
    pub fn password(&self, account: &str) -> Option<String> {
        self.passwords.lock().unwrap().get(account).cloned()
    }

    /// How many rotations reached the target.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl rotate::Rotator for FakeTarget {
    fn platform(&self) -> &'static str {
        Self::PLATFORM
    }
    fn rotate<'a>(&'a self, req: &'a rotate::RotationRequest) -> rotate::RotateFuture<'a> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            // Give a concurrent caller the chance to overlap, as a real target's round trips would.
            tokio::task::yield_now().await;
            self.passwords.lock().unwrap().insert(req.account.clone(), req.new_password.to_string());
            Ok(())
        })
    }
}
