//! Rotation requests for the rotators' tests, and random names for what a test creates.

use rotate::{Login, RotationRequest, Target};
use zeroize::Zeroizing;

/// A short random lowercase suffix for names (Linux users, roles, directories).
pub fn suffix() -> String {
    uuid::Uuid::new_v4().as_bytes()[..8].iter().map(|b| char::from(b'a' + b % 26)).collect()
}

/// A request to rotate `account` on `platform` at 127.0.0.1:`port` from `current` to `new`,
/// through the `functional` account (user, password) when given.
pub fn request(
    platform: &str,
    port: u16,
    account: &str,
    current: &str,
    new: &str,
    functional: Option<(&str, &str)>,
) -> RotationRequest {
    RotationRequest {
        target: Target { platform: platform.into(), host: "127.0.0.1".into(), port: Some(port) },
        account: account.into(),
        current_password: Zeroizing::new(current.into()),
        new_password: Zeroizing::new(new.into()),
        functional: functional.map(|(u, p)| Login { user: u.into(), password: Zeroizing::new(p.into()) }),
    }
}
