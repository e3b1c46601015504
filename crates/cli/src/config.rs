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
//!
//! [smtp]                                                 # optional: see `mail.rs`
//! host = "smtp.example.com"
//! from = "Portcullis <portcullis@example.com>"
//! ```
//!
//! The `[smtp]` keys can also come from PORTCULLIS_SMTP_HOST, PORTCULLIS_SMTP_PORT,
//! PORTCULLIS_SMTP_SECURITY, PORTCULLIS_SMTP_FROM and PORTCULLIS_SMTP_USERNAME; the password only
//! from PORTCULLIS_SMTP_PASSWORD.
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
    pub smtp: Option<crate::mail::SmtpConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpConfig {
    pub listen: Option<String>,
    pub base_url: Option<String>,
}

impl Config {
    /// The SMTP settings: the file's `[smtp]` with PORTCULLIS_SMTP_* overrides; none when no
    /// host is given either way.
    pub fn smtp(&self) -> Result<Option<crate::mail::SmtpConfig>> {
        let env = |k: &str| std::env::var(format!("PORTCULLIS_SMTP_{k}")).ok().filter(|v| !v.is_empty());
        let mut c = match (self.smtp.clone(), env("HOST")) {
            (Some(c), _) => c,
            (None, Some(host)) => crate::mail::SmtpConfig {
                host,
                port: None,
                security: Default::default(),
                from: String::new(),
                username: None,
            },
            (None, None) => return Ok(None),
        };
        if let Some(v) = env("HOST") {
            c.host = v;
        }
        if let Some(v) = env("PORT") {
            c.port = Some(v.parse().with_context(|| format!("PORTCULLIS_SMTP_PORT={v:?} is not a port"))?);
        }
        if let Some(v) = env("SECURITY") {
            c.security = match v.to_ascii_lowercase().as_str() {
                "starttls" => crate::mail::SmtpSecurity::Starttls,
                "tls" => crate::mail::SmtpSecurity::Tls,
                "none" => crate::mail::SmtpSecurity::None,
                _ => anyhow::bail!("PORTCULLIS_SMTP_SECURITY={v:?}: use starttls, tls or none"),
            };
        }
        if let Some(v) = env("FROM") {
            c.from = v;
        }
        if let Some(v) = env("USERNAME") {
            c.username = Some(v);
        }
        if c.from.is_empty() {
            anyhow::bail!("SMTP is configured without a sender: set [smtp] from or PORTCULLIS_SMTP_FROM");
        }
        Ok(Some(c))
    }

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

    #[test]
    fn reads_the_smtp_section() {
        let c: Config = toml::from_str(
            "[smtp]\nhost = \"smtp.example.com\"\nport = 2525\nsecurity = \"tls\"\nfrom = \"P <p@example.com>\"\n",
        )
        .unwrap();
        let smtp = c.smtp.as_ref().unwrap();
        assert_eq!((smtp.host.as_str(), smtp.port), ("smtp.example.com", Some(2525)));
        assert_eq!(smtp.security, crate::mail::SmtpSecurity::Tls);
        assert!(
            toml::from_str::<Config>("[smtp]\nhost = \"h\"\nfrom = \"f\"\nsecurity = \"plain\"\n").is_err()
        );
        assert!(
            toml::from_str::<Config>("[smtp]\nhost = \"h\"\nfrom = \"f\"\npassword = \"x\"\n").is_err(),
            "no password in the file"
        );
    }
}
