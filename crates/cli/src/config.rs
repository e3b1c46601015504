//! The optional configuration file (`--config FILE` or `PORTCULLIS_CONFIG`), TOML:
//!
//! ```toml
//! data = "/var/lib/portcullis"
//! database_url = "postgres://portcullis@db/portcullis"   # optional; SQLite in `data` otherwise
//! log_format = "json"                                     # text | json
//! log = "info,portcullis=debug"                           # a tracing filter
//!
//! [up]
//! listen = "0.0.0.0:8443"
//! base_url = "https://login.example.com"
//! ```
//!
//! Precedence, highest first: command-line flag, environment variable, this file,
//! built-in default.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data: Option<PathBuf>,
    pub database_url: Option<String>,
    pub log_format: Option<String>,
    pub log: Option<String>,
    #[serde(default)]
    pub up: UpConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpConfig {
    pub listen: Option<String>,
    pub base_url: Option<String>,
}

impl Config {
    /// Reads the file; a missing or malformed file is an error that names it.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the configuration file {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("{} is not a valid Portcullis configuration", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key_and_refuses_unknown_ones() {
        let c: Config = toml::from_str(
            "data = \"/d\"\ndatabase_url = \"postgres://x\"\nlog_format = \"json\"\nlog = \"debug\"\n[up]\nlisten = \"0.0.0.0:1\"\nbase_url = \"https://l\"\n",
        )
        .unwrap();
        assert_eq!(c.data.as_deref(), Some(Path::new("/d")));
        assert_eq!(c.up.listen.as_deref(), Some("0.0.0.0:1"));
        assert!(toml::from_str::<Config>("dta = 1").is_err());
    }
}
