//! Injected time. Nothing in this crate reads the system clock directly, so that
//! validity windows can be tested at fixed instants.

use crate::error::{Error, Result};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// The clock skew allowed by default when checking validity windows (3 minutes).
pub const DEFAULT_SKEW: Duration = Duration::minutes(3);

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current instant, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system's real-time clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock stopped at one instant, for tests and for offline checks (`--now`).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// Parses a SAML time value: an `xs:dateTime` in UTC with the `Z` designator
/// (SAML core 1.3.3). Offsets such as `+00:00` and local times are refused.
pub fn parse_time(what: &str, value: &str) -> Result<OffsetDateTime> {
    let bad = || Error::InvalidTime { what: what.to_string(), value: value.to_string() };
    if !value.ends_with('Z') || value.len() > 64 {
        return Err(bad());
    }
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| bad())
}

/// Formats an instant the way SAML wants it: `2024-01-02T03:04:05Z` (UTC, whole
/// seconds; sub-second precision is dropped because peers disagree on it).
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Checks `now` against an optional `[not_before, not_on_or_after)` window with
/// `skew` allowed on both ends. `what` names the element in the error.
pub fn check_window(
    what: &str,
    not_before: Option<OffsetDateTime>,
    not_on_or_after: Option<OffsetDateTime>,
    now: OffsetDateTime,
    skew: Duration,
) -> Result<()> {
    if let Some(nb) = not_before {
        if now + skew < nb {
            return Err(Error::NotYetValid {
                what: what.to_string(),
                not_before: format_time(nb),
                now: format_time(now),
                skew_seconds: skew.whole_seconds(),
            });
        }
    }
    if let Some(noa) = not_on_or_after {
        if now - skew >= noa {
            return Err(Error::Expired {
                what: what.to_string(),
                not_on_or_after: format_time(noa),
                now: format_time(now),
                skew_seconds: skew.whole_seconds(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn parses_utc_with_and_without_fraction() {
        assert_eq!(parse_time("t", "2024-01-02T03:04:05Z").unwrap(), datetime!(2024-01-02 03:04:05 UTC));
        assert_eq!(
            parse_time("t", "2024-01-02T03:04:05.123Z").unwrap(),
            datetime!(2024-01-02 03:04:05.123 UTC)
        );
    }

    #[test]
    fn refuses_offsets_and_local_times() {
        for v in ["2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05", "2024-01-02", "", "Z"] {
            assert_eq!(parse_time("t", v).unwrap_err().code(), "SAML_INVALID_TIME", "{v}");
        }
    }

    #[test]
    fn formats_round_trip() {
        let t = datetime!(2030-12-31 23:59:58 UTC);
        assert_eq!(format_time(t), "2030-12-31T23:59:58Z");
        assert_eq!(parse_time("t", &format_time(t)).unwrap(), t);
    }

    #[test]
    fn window_honours_skew_on_both_ends() {
        let nb = datetime!(2024-01-01 10:00:00 UTC);
        let noa = datetime!(2024-01-01 10:05:00 UTC);
        let skew = DEFAULT_SKEW;
        // Inside.
        check_window("w", Some(nb), Some(noa), datetime!(2024-01-01 10:01:00 UTC), skew).unwrap();
        // Early, but within skew.
        check_window("w", Some(nb), Some(noa), datetime!(2024-01-01 09:57:00 UTC), skew).unwrap();
        // Too early.
        let e = check_window("w", Some(nb), Some(noa), datetime!(2024-01-01 09:56:59 UTC), skew).unwrap_err();
        assert_eq!(e.code(), "TIME_NOT_YET_VALID");
        // Late, but within skew (NotOnOrAfter is exclusive).
        check_window("w", Some(nb), Some(noa), datetime!(2024-01-01 10:07:59 UTC), skew).unwrap();
        let e = check_window("w", Some(nb), Some(noa), datetime!(2024-01-01 10:08:00 UTC), skew).unwrap_err();
        assert_eq!(e.code(), "TIME_EXPIRED");
        // Zero skew: NotOnOrAfter itself is already expired.
        let e = check_window("w", None, Some(noa), noa, Duration::ZERO).unwrap_err();
        assert_eq!(e.code(), "TIME_EXPIRED");
    }
}
