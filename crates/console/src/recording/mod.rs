//! Session recordings in asciicast v2 (<https://docs.asciinema.org/manual/asciicast/v2/>), the
//! format asciinema-player plays: a JSON header line, then one JSON array per event —
//! `[seconds, "o", text]` for output, `[seconds, "i", text]` for input (only when the policy asks
//! for it: input can hold what a representative types, such as a sudo password) and
//! `[seconds, "r", "COLSxROWS"]` for a resize.
//!
//! [`Recording`] says where a session's recording goes and how; the session writes each event as
//! one line the moment it happens, so a crash of the console loses at most the line being
//! written. [`Asciicast`] reads a recording back (the report viewer, tests).

mod read;
mod utf8;
mod write;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use read::{Asciicast, Event, EventData};
pub(crate) use write::Recorder;
pub use write::Recording;

/// The first line of an asciicast v2 file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always 2.
    pub version: u8,
    /// The terminal's columns when the recording started.
    pub width: u16,
    /// The terminal's rows when the recording started.
    pub height: u16,
    /// When the recording started, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The session's environment as the player should know it (`TERM`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
}
