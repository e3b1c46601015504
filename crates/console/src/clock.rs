//! Time for recordings, from a source tests can drive. A recording needs two kinds: the wall-clock
//! start for its header, and a monotonic clock for the offsets of its events, so that a wall-clock
//! step (NTP, a manual change) during a session cannot make events go backwards. (The saml and
//! vault crates' clocks give wall-clock time only.)

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where a recording's times come from.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch (the header's `timestamp`).
    fn unix_seconds(&self) -> i64;
    /// A monotonic reading since an arbitrary fixed origin; only differences are used.
    fn monotonic(&self) -> Duration;
}

/// The system's clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_seconds(&self) -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }

    fn monotonic(&self) -> Duration {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        ORIGIN.get_or_init(Instant::now).elapsed()
    }
}
