//! Host keys pinned per jump item, on first use: the first key an endpoint shows for a jump item
//! is stored, and from then on only that key is accepted for it. The store is a trait so that
//! the console's persistence can take it over; [`MemoryPins`] keeps pins for the life of the
//! process.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use crate::ConsoleError;

/// An endpoint's public host key, as OpenSSH shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostKey {
    /// The key's algorithm (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …).
    pub algorithm: String,
    /// OpenSSH's SHA-256 fingerprint (`SHA256:…`, what `ssh-keygen -l` prints).
    pub fingerprint: String,
}

impl std::fmt::Display for HostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.algorithm, self.fingerprint)
    }
}

/// What a pin store found for an offered key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinCheck {
    /// The jump item's pinned key is this one.
    Matches,
    /// The jump item had no pin; this key is its pin from now on.
    PinnedNow,
    /// The jump item's pinned key is another one.
    Changed { pinned: HostKey },
}

/// The future a [`HostKeyPins`] returns.
pub type PinFuture<'a> = Pin<Box<dyn Future<Output = Result<PinCheck, ConsoleError>> + Send + 'a>>;

/// The store of host-key pins, one per jump item.
pub trait HostKeyPins: Send + Sync {
    /// Compares `offered` with the key pinned for `jump_item` and pins it when there is none.
    /// Check-and-pin must be atomic per jump item: of two first connections at once, one pins and
    /// the other is compared with that pin. A storage failure is `ConsoleError::HostKeyStore`.
    fn check<'a>(&'a self, jump_item: &'a str, offered: &'a HostKey) -> PinFuture<'a>;
}

/// Pins in memory, lost when the process ends.
#[derive(Debug, Default)]
pub struct MemoryPins {
    pins: Mutex<HashMap<String, HostKey>>,
}

impl MemoryPins {
    /// The key pinned for `jump_item`, if any.
    pub fn pinned(&self, jump_item: &str) -> Option<HostKey> {
        self.pins.lock().unwrap_or_else(|p| p.into_inner()).get(jump_item).cloned()
    }
}

impl HostKeyPins for MemoryPins {
    fn check<'a>(&'a self, jump_item: &'a str, offered: &'a HostKey) -> PinFuture<'a> {
        // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
        let mut pins = self.pins.lock().unwrap_or_else(|p| p.into_inner());
        let result = match pins.get(jump_item) {
            Some(pinned) if pinned == offered => PinCheck::Matches,
            Some(pinned) => PinCheck::Changed { pinned: pinned.clone() },
            None => {
                pins.insert(jump_item.to_owned(), offered.clone());
                PinCheck::PinnedNow
            }
        };
        Box::pin(std::future::ready(Ok(result)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(fp: &str) -> HostKey {
        HostKey { algorithm: "ssh-ed25519".into(), fingerprint: fp.into() }
    }

    #[tokio::test]
    async fn the_first_key_is_pinned_per_jump_item_and_another_is_refused() {
        let pins = MemoryPins::default();
        assert_eq!(pins.check("web-01", &key("SHA256:a")).await.unwrap(), PinCheck::PinnedNow);
        assert_eq!(pins.check("web-01", &key("SHA256:a")).await.unwrap(), PinCheck::Matches);
        assert_eq!(
            pins.check("web-01", &key("SHA256:b")).await.unwrap(),
            PinCheck::Changed { pinned: key("SHA256:a") }
        );
        // Another jump item (even to the same host) has its own pin.
        assert_eq!(pins.check("web-02", &key("SHA256:b")).await.unwrap(), PinCheck::PinnedNow);
        assert_eq!(pins.pinned("web-01"), Some(key("SHA256:a")));
        // The same fingerprint under another algorithm is another key.
        let other = HostKey { algorithm: "ecdsa-sha2-nistp256".into(), fingerprint: "SHA256:a".into() };
        assert!(matches!(pins.check("web-01", &other).await.unwrap(), PinCheck::Changed { .. }));
    }
}
