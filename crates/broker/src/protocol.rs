//! The broker channel between a broker and the console: the messages, as serde types, that both
//! sides use (the console crate depends on this module).
//!
//! Transport: a WebSocket the broker opens to the console (`wss://HOST/console/api/ecm`; `ws://`
//! on loopback only), authenticated with `Authorization: Bearer TOKEN`, the token from the
//! console's `POST /oauth2/token` (client credentials of an API account with the Endpoint
//! Credential Manager permission). Every WebSocket text frame is one JSON object, tagged by
//! `"type"`; binary frames are a protocol error.
//!
//! The conversation:
//! 1. broker → [`BrokerMessage::Register`] (name, version, ECM group, protocol version);
//!    console → [`ConsoleMessage::Registered`] or [`ConsoleMessage::Refused`] (then closes).
//! 2. Then, concurrently: the broker sends [`BrokerMessage::KeepAlive`] every
//!    `keepalive_seconds` (the console answers [`ConsoleMessage::KeepAliveAck`]; either side
//!    drops a channel that stays silent for three intervals); the console sends
//!    [`ConsoleMessage::Search`], [`ConsoleMessage::Retrieve`] and
//!    [`ConsoleMessage::SessionEnded`], each with a `request` number of its choosing, and the
//!    broker answers each, in any order, with the same number:
//!    [`BrokerMessage::SearchResult`], [`BrokerMessage::Retrieved`], [`BrokerMessage::CheckedIn`]
//!    or [`BrokerMessage::Failed`].
//!
//! [`BrokerMessage::Retrieved`] is the one message that carries a password; its `Debug` (like
//! every [`Secret`]'s) shows `<redacted>`. The [`ReleaseHandle`] it carries is all a broker needs
//! to check the request in, so any broker of the group can serve the `SessionEnded`.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::Class;
use crate::secret::Secret;

/// The protocol version this module speaks; the console refuses a broker with another.
pub const PROTOCOL_VERSION: u32 = 1;

/// The console user a request is for (the reference document's "Console User Information").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleUser {
    /// `joe.user`, `ACME\joe.user` or `joe.user@acme-inc.com`.
    pub username: String,
    /// The LDAP distinguished name, when the security provider gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dn: Option<String>,
}

/// What kind of jump item a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemType {
    /// An SSH (or other host) session: matched by host name / IP.
    Ssh,
    /// A web jump item: matched by its URL's host.
    Web,
    /// An application on a host (RDP + SecureApp): matched by the application name.
    App,
}

impl ItemType {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::Ssh => "ssh",
            ItemType::Web => "web",
            ItemType::App => "app",
        }
    }
}

/// The endpoint a request is for (the reference document's "Jump Item Information").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JumpItem {
    #[serde(rename = "type")]
    pub item_type: ItemType,
    /// Host name or IP address (empty for a web item that has only a URL).
    #[serde(default)]
    pub host: String,
    /// The machine's other addresses (a jump client's public and private IPs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_ips: Vec<IpAddr>,
    /// The application name of an `app` item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// The URL of a `web` item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One credential offered for a (user, jump item): never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// `vaultuser\accountId\system\account`, e.g. `joe.user\3124\App01\helpdesk-01`.
    pub id: String,
    /// `system\account`, e.g. `App01\helpdesk-01`.
    pub display_name: String,
}

/// What identifies a released credential's request, to check it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseHandle {
    /// The vault's release request ID.
    pub request_id: i64,
    /// The vault user the request was made as.
    pub vault_user: String,
}

/// The console session a retrieval is for; it names the session in the request's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRef {
    pub id: String,
    /// The jump item's name, for the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jump_item: Option<String>,
}

/// A failure, as the broker reports it to the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    /// The broker's stable code (`PCB…`).
    pub code: String,
    pub class: Class,
    /// The sentence that says what went wrong and what to do.
    pub message: String,
}

impl From<&crate::BrokerError> for WireError {
    fn from(e: &crate::BrokerError) -> WireError {
        WireError { code: e.code().into(), class: e.class(), message: e.to_string() }
    }
}

/// Broker → console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BrokerMessage {
    Register {
        name: String,
        version: String,
        ecm_group: String,
        protocol: u32,
    },
    KeepAlive {
        seq: u64,
    },
    SearchResult {
        request: u64,
        credentials: Vec<Credential>,
    },
    Retrieved {
        request: u64,
        release: ReleaseHandle,
        /// The account name to log in as.
        username: String,
        /// The account's domain, for domain accounts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        domain: Option<String>,
        secret: Secret,
    },
    CheckedIn {
        request: u64,
    },
    Failed {
        request: u64,
        error: WireError,
    },
}

/// Console → broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConsoleMessage {
    Registered {
        /// The console's ID for this broker connection.
        broker_id: String,
    },
    Refused {
        reason: String,
    },
    KeepAliveAck {
        seq: u64,
    },
    Search {
        request: u64,
        user: ConsoleUser,
        item: JumpItem,
    },
    Retrieve {
        request: u64,
        user: ConsoleUser,
        /// An ID from a `SearchResult` for the same user.
        credential: String,
        session: SessionRef,
    },
    SessionEnded {
        request: u64,
        release: ReleaseHandle,
        session: SessionRef,
    },
}

/// The JSON of one frame.
pub fn encode<T: Serialize>(message: &T) -> String {
    // These types hold only strings, numbers, enums and vectors: serialization cannot fail.
    serde_json::to_string(message).unwrap_or_else(|_| String::from("{}"))
}

/// Reads one frame; the error says what is wrong with it without echoing it (a frame may hold a
/// password).
pub fn decode<'a, T: Deserialize<'a>>(frame: &'a str) -> Result<T, String> {
    serde_json::from_str(frame)
        .map_err(|e| format!("unreadable frame at column {}: {}", e.column(), e.classify_name()))
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "not a message of this protocol version",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> ConsoleUser {
        ConsoleUser { username: r"ACME\joe.user".into(), dn: Some("uid=joe.user,dc=acme-inc,dc=com".into()) }
    }

    fn every_broker_message() -> Vec<BrokerMessage> {
        vec![
            BrokerMessage::Register {
                name: "b1".into(),
                version: "0.1.0".into(),
                ecm_group: "Default".into(),
                protocol: 1,
            },
            BrokerMessage::KeepAlive { seq: 7 },
            BrokerMessage::SearchResult {
                request: 1,
                credentials: vec![Credential {
                    id: r"joe.user\3124\App01\helpdesk-01".into(),
                    display_name: r"App01\helpdesk-01".into(),
                }],
            },
            BrokerMessage::SearchResult { request: 2, credentials: vec![] },
            BrokerMessage::Retrieved {
                request: 3,
                release: ReleaseHandle { request_id: 42, vault_user: "joe.user".into() },
                username: "helpdesk-01".into(),
                domain: None,
                secret: Secret::new("Planted-Wire-Pw"),
            },
            BrokerMessage::CheckedIn { request: 4 },
            BrokerMessage::Failed {
                request: 5,
                error: WireError { code: "PCB050".into(), class: Class::Permission, message: "m".into() },
            },
        ]
    }

    fn every_console_message() -> Vec<ConsoleMessage> {
        vec![
            ConsoleMessage::Registered { broker_id: "x".into() },
            ConsoleMessage::Refused { reason: "five brokers are connected".into() },
            ConsoleMessage::KeepAliveAck { seq: 7 },
            ConsoleMessage::Search {
                request: 1,
                user: user(),
                item: JumpItem {
                    item_type: ItemType::Ssh,
                    host: "app01".into(),
                    additional_ips: vec!["10.0.0.5".parse().unwrap(), "::1".parse().unwrap()],
                    application: None,
                    url: None,
                },
            },
            ConsoleMessage::Search {
                request: 2,
                user: ConsoleUser { username: "joe".into(), dn: None },
                item: JumpItem {
                    item_type: ItemType::Web,
                    host: String::new(),
                    additional_ips: vec![],
                    application: None,
                    url: Some("https://app01/x".into()),
                },
            },
            ConsoleMessage::Retrieve {
                request: 3,
                user: user(),
                credential: r"joe.user\3124\App01\helpdesk-01".into(),
                session: SessionRef { id: "s-1".into(), jump_item: Some("App01 ssh".into()) },
            },
            ConsoleMessage::SessionEnded {
                request: 4,
                release: ReleaseHandle { request_id: 42, vault_user: "joe.user".into() },
                session: SessionRef { id: "s-1".into(), jump_item: None },
            },
        ]
    }

    #[test]
    fn every_message_round_trips() {
        for m in every_broker_message() {
            assert_eq!(decode::<BrokerMessage>(&encode(&m)).unwrap(), m);
        }
        for m in every_console_message() {
            assert_eq!(decode::<ConsoleMessage>(&encode(&m)).unwrap(), m);
        }
    }

    #[test]
    fn the_wire_form_is_stable() {
        let m = ConsoleMessage::Search {
            request: 9,
            user: ConsoleUser { username: "joe.user".into(), dn: None },
            item: JumpItem {
                item_type: ItemType::Ssh,
                host: "h".into(),
                additional_ips: vec![],
                application: None,
                url: None,
            },
        };
        assert_eq!(
            encode(&m),
            r#"{"type":"search","request":9,"user":{"username":"joe.user"},"item":{"type":"ssh","host":"h"}}"#
        );
        let f: BrokerMessage = decode(
            r#"{"type":"failed","request":1,"error":{"code":"PCB060","class":"no-match","message":"m"}}"#,
        )
        .unwrap();
        assert!(matches!(f, BrokerMessage::Failed { error: WireError { class: Class::NoMatch, .. }, .. }));
    }

    #[test]
    fn debug_hides_the_secret_and_decode_errors_do_not_echo() {
        let m = &every_broker_message()[4];
        assert!(!format!("{m:?}").contains("Planted-Wire-Pw"));
        assert!(encode(m).contains("Planted-Wire-Pw"), "the wire carries it to the console");
        let bad = r#"{"type":"retrieved","secret":"Planted-Wire-Pw"}"#;
        let e = decode::<BrokerMessage>(bad).unwrap_err();
        assert!(!e.contains("Planted"), "{e}");
    }
}
