//! The CLI crate's integration tests use the workspace's test kit (crates/testkit) with the
//! binary Cargo builds for them.

pub use testkit::*;

/// The binary under test (`CARGO_BIN_EXE_portcullis` exists only in this crate's tests).
pub const PORTCULLIS: &str = env!("CARGO_BIN_EXE_portcullis");
