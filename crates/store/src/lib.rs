//! Persistence for Portcullis. One API per aggregate over SQLite (the embedded
//! default) and PostgreSQL (scale-out), with migrations for both.
#![forbid(unsafe_code)]

pub mod model;
