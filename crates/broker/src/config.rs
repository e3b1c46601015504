//! The broker's configuration file (`portcullis broker --config FILE`), TOML:
//!
//! ```toml
//! log = "info"                      # a tracing filter; PORTCULLIS_LOG overrides it
//!
//! [vault]                           # what `vault connect-sra` sets up and prints
//! url = "https://vault.example.com/BeyondTrust/api/public/v3"
//! api_key = "…"                     # the registration key; PORTCULLIS_BROKER_API_KEY overrides it
//! ca_file = "/etc/portcullis/vault-ca.pem"   # optional: trust this CA too (self-signed vaults)
//! run_as = "svc-sra"                # optional: run every request as this vault user
//! global_approver = "sra-approver"  # optional: approves requests an access policy holds
//! release_minutes = 360             # 1..=1440, default 360
//! timeout_seconds = 20              # per vault call, default 20
//!
//! [mapping]                         # console user -> vault user (see `mapping.rs`)
//! use_dn = true                     # take the name from the DN's uid (else cn) when one is sent
//! domain = "strip"                  # strip | keep
//! lowercase = false
//! unlisted_domains = "allow"        # allow | refuse
//! [[mapping.domains]]
//! names = ["ACME", "acme-inc.com"]
//! prefix = ""
//! suffix = ".acme"
//!
//! [matching]                        # jump item -> managed systems (see `matching.rs`)
//! short_names = false               # `app01` also matches `app01.acme-inc.com`
//!
//! [console]                         # the broker channel (only `portcullis broker` uses it)
//! url = "https://console.example.com"   # or wss://…/console/api/ecm
//! client_id = "…"
//! client_secret = "…"               # PORTCULLIS_BROKER_CONSOLE_SECRET overrides it
//! ca_file = "/etc/portcullis/console-ca.pem"
//! name = "broker-1"                 # default: the host name
//! ecm_group = "Default"
//! keepalive_seconds = 30
//! ```
//!
//! Unknown keys are refused, so a typo is an error rather than a silently ignored setting.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{config, Result};
use crate::mapping::MappingRules;
use crate::matching::MatchingRules;
use crate::secret::Secret;

/// The environment variable that overrides `[vault] api_key`.
pub const API_KEY_ENV: &str = "PORTCULLIS_BROKER_API_KEY";
/// The environment variable that overrides `[console] client_secret`.
pub const CONSOLE_SECRET_ENV: &str = "PORTCULLIS_BROKER_CONSOLE_SECRET";

/// The default release duration, in minutes (the reference document's default).
pub const DEFAULT_RELEASE_MINUTES: u32 = 360;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub log: Option<String>,
    pub vault: VaultSettings,
    #[serde(default)]
    pub mapping: MappingRules,
    #[serde(default)]
    pub matching: MatchingRules,
    pub console: Option<ConsoleSettings>,
}

/// How the broker reaches the vault.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultSettings {
    /// The Password Safe v3 API's base URL (`https://HOST/BeyondTrust/api/public/v3`); https only.
    pub url: String,
    /// The API registration key.
    pub api_key: Option<Secret>,
    /// A PEM file of CA certificates to trust besides the system's.
    pub ca_file: Option<PathBuf>,
    /// When set, every request runs as this vault user instead of the mapped one.
    pub run_as: Option<String>,
    /// The vault user who approves requests that an access policy holds for approval.
    pub global_approver: Option<String>,
    #[serde(default = "default_release_minutes")]
    pub release_minutes: u32,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

/// How the broker reaches the console.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    /// The console's base URL (`https://HOST`, the OAuth token comes from `{url}/oauth2/token`
    /// and the channel is `{url}/console/api/ecm`), or the channel's `wss://` URL itself.
    pub url: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub ca_file: Option<PathBuf>,
    pub name: Option<String>,
    #[serde(default = "default_ecm_group")]
    pub ecm_group: String,
    #[serde(default = "default_keepalive_seconds")]
    pub keepalive_seconds: u64,
}

fn default_release_minutes() -> u32 {
    DEFAULT_RELEASE_MINUTES
}
fn default_timeout_seconds() -> u64 {
    20
}
fn default_ecm_group() -> String {
    "Default".into()
}
fn default_keepalive_seconds() -> u64 {
    30
}

impl Config {
    /// Reads and checks the file, then applies the environment overrides of the secrets.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| config(format!("cannot read {} ({e})", path.display())))?;
        let mut c = Config::parse(&text).map_err(|e| match e {
            crate::BrokerError::Config(m) => config(format!("{}: {m}", path.display())),
            other => other,
        })?;
        c.apply_env(|k| std::env::var(k).ok());
        c.check()?;
        Ok(c)
    }

    /// Parses TOML text (no environment, no checks).
    pub fn parse(text: &str) -> Result<Config> {
        // toml's message names the key and line; it never echoes a value that did not parse as
        // a string, and a secret that did parse is no error.
        // Only toml's message and the line number: its full Display quotes the line, which may be
        // the one holding the key.
        toml::from_str(text).map_err(|e: toml::de::Error| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
            config(format!("not a valid broker configuration{at}: {}", e.message()))
        })
    }

    /// Environment overrides: the registration key and the console's client secret.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) {
        if let Some(k) = env(API_KEY_ENV).filter(|v| !v.is_empty()) {
            self.vault.api_key = Some(Secret::new(k));
        }
        if let (Some(c), Some(s)) = (self.console.as_mut(), env(CONSOLE_SECRET_ENV).filter(|v| !v.is_empty()))
        {
            c.client_secret = Some(Secret::new(s));
        }
    }

    /// Checks every setting, each refusal saying which key to fix.
    pub fn check(&self) -> Result<()> {
        let v = &self.vault;
        let url = url::Url::parse(v.url.trim())
            .map_err(|e| config(format!("[vault] url {:?} is not a URL ({e})", v.url)))?;
        if url.scheme() != "https" {
            return Err(config(format!(
                "[vault] url {:?} is not https: the broker sends the registration key and receives passwords, so it talks to the vault over TLS only",
                v.url
            )));
        }
        if v.api_key.as_ref().is_none_or(Secret::is_empty) {
            return Err(config(format!("[vault] api_key is not set: put the key `vault connect-sra` printed there, or in {API_KEY_ENV}")));
        }
        if !(1..=1440).contains(&v.release_minutes) {
            return Err(config(format!(
                "[vault] release_minutes = {} is out of range: 1 to 1440 minutes (1 day)",
                v.release_minutes
            )));
        }
        if !(1..=600).contains(&v.timeout_seconds) {
            return Err(config("[vault] timeout_seconds must be 1 to 600"));
        }
        for (key, user) in [("run_as", &v.run_as), ("global_approver", &v.global_approver)] {
            if let Some(u) = user {
                crate::mapping::check_vault_user(u).map_err(|why| {
                    config(format!("[vault] {key} {u:?} is not a usable vault user name: {why}"))
                })?;
            }
        }
        self.mapping.check()?;
        if let Some(c) = &self.console {
            c.channel_url()?;
            if c.client_id.trim().is_empty() {
                return Err(config("[console] client_id is empty: use the API account's OAuth client ID"));
            }
            if c.client_secret.as_ref().is_none_or(Secret::is_empty) {
                return Err(config(format!(
                    "[console] client_secret is not set: put the API account's OAuth client secret there, or in {CONSOLE_SECRET_ENV}"
                )));
            }
            if !(5..=3600).contains(&c.keepalive_seconds) {
                return Err(config("[console] keepalive_seconds must be 5 to 3600"));
            }
        }
        Ok(())
    }
}

impl ConsoleSettings {
    /// The channel's WebSocket URL: `url` itself when it is `wss://` or `ws://`, else
    /// `{url}/console/api/ecm` with `https` → `wss` (`http` → `ws`, for loopback tests).
    pub fn channel_url(&self) -> Result<url::Url> {
        let mut u = url::Url::parse(self.url.trim())
            .map_err(|e| config(format!("[console] url {:?} is not a URL ({e})", self.url)))?;
        let scheme = match u.scheme() {
            "wss" | "https" => "wss",
            "ws" | "http" => "ws",
            other => {
                return Err(config(format!("[console] url has scheme {other:?}: use https:// (or wss://)")))
            }
        };
        if scheme == "ws" && !u.host_str().is_some_and(is_loopback) {
            return Err(config(format!(
                "[console] url {:?} is not TLS: plain ws:// or http:// is only for a console on this host (loopback)",
                self.url
            )));
        }
        if matches!(u.scheme(), "https" | "http") {
            let path = format!("{}/console/api/ecm", u.path().trim_end_matches('/'));
            u.set_path(&path);
        }
        u.set_scheme(scheme).map_err(|_| config("[console] url cannot be turned into a WebSocket URL"))?;
        Ok(u)
    }

    /// The console's base URL for the OAuth token endpoint (`https://HOST[:PORT]`).
    pub fn token_url(&self) -> Result<url::Url> {
        let ws = self.channel_url()?;
        let mut u = ws.clone();
        u.set_scheme(if ws.scheme() == "wss" { "https" } else { "http" })
            .map_err(|_| config("[console] url has no usable host"))?;
        u.set_path("/oauth2/token");
        u.set_query(None);
        Ok(u)
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[vault]\nurl = \"https://v.example/BeyondTrust/api/public/v3\"\napi_key = \"k\"\n";

    #[test]
    fn defaults_and_checks() {
        let c = Config::parse(MINIMAL).unwrap();
        assert_eq!(c.vault.release_minutes, 360);
        c.check().unwrap();
        for (bad, says) in [
            ("[vault]\nurl = \"http://v/x\"\napi_key = \"k\"\n", "not https"),
            ("[vault]\nurl = \"https://v/x\"\n", "api_key is not set"),
            ("[vault]\nurl = \"https://v/x\"\napi_key = \"k\"\nrelease_minutes = 0\n", "1 to 1440"),
            ("[vault]\nurl = \"https://v/x\"\napi_key = \"k\"\nrelease_minutes = 1441\n", "1 to 1440"),
            ("[vault]\nurl = \"https://v/x\"\napi_key = \"k\"\nrun_as = \"a;b\"\n", "run_as"),
        ] {
            let e = Config::parse(bad).and_then(|c| c.check()).unwrap_err();
            assert!(e.to_string().contains(says), "{bad}: {e}");
        }
        assert!(Config::parse("[vault]\nurl = \"https://v\"\napi_key = \"k\"\nrelese_minutes = 5\n").is_err());
    }

    #[test]
    fn environment_overrides_the_secrets_and_debug_hides_them() {
        let mut c = Config::parse(&format!(
            "{MINIMAL}[console]\nurl = \"https://c.example\"\nclient_id = \"id\"\nclient_secret = \"file-secret\"\n"
        ))
        .unwrap();
        c.apply_env(|k| match k {
            API_KEY_ENV => Some("env-key-123".into()),
            CONSOLE_SECRET_ENV => Some("env-secret-456".into()),
            _ => None,
        });
        assert_eq!(c.vault.api_key.as_ref().unwrap().expose(), "env-key-123");
        let console = c.console.as_ref().unwrap();
        assert_eq!(console.client_secret.as_ref().unwrap().expose(), "env-secret-456");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("env-key-123")
                && !shown.contains("env-secret-456")
                && !shown.contains("file-secret")
        );
        assert_eq!(console.channel_url().unwrap().as_str(), "wss://c.example/console/api/ecm");
        assert_eq!(console.token_url().unwrap().as_str(), "https://c.example/oauth2/token");
    }

    #[test]
    fn console_urls() {
        let s = |url: &str| ConsoleSettings {
            url: url.into(),
            client_id: "id".into(),
            client_secret: Some(Secret::new("s")),
            ca_file: None,
            name: None,
            ecm_group: "Default".into(),
            keepalive_seconds: 30,
        };
        assert_eq!(
            s("http://127.0.0.1:9/").channel_url().unwrap().as_str(),
            "ws://127.0.0.1:9/console/api/ecm"
        );
        assert_eq!(s("wss://c/x").channel_url().unwrap().as_str(), "wss://c/x");
        assert!(s("http://c.example").channel_url().is_err(), "plain text off loopback");
        assert!(s("ftp://c").channel_url().is_err());
    }
}
