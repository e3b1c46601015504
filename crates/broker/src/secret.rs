//! Secrets the broker holds: the vault's API registration key, the console's OAuth client
//! secret, and released passwords. The text is zeroized when dropped, `Debug` shows
//! `<redacted>`, and there is no `Display`: the only way to the text is [`Secret::expose`], so
//! a secret cannot reach a log line or a format string by accident.

use std::fmt;

use zeroize::Zeroizing;

/// A secret string. Serializing it writes the text: only the broker channel's
/// [`crate::protocol::BrokerMessage::Retrieved`] does that, to hand a password to the console.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(Zeroizing::new(text.into()))
    }

    /// The text, for the one place that must send it (an HTTP header, the wire, an SSH login).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        // Deserialized straight into the zeroizing buffer (no intermediate String left behind).
        let text: Zeroizing<String> = Zeroizing::new(String::deserialize(d)?);
        Ok(Secret(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_serde_round_trips() {
        let s = Secret::new("Hunter2-planted");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(<redacted>))");
        let json = serde_json::to_string(&s).unwrap();
        let back: Secret = serde_json::from_str(&json).unwrap();
        assert_eq!(back.expose(), "Hunter2-planted");
    }
}
