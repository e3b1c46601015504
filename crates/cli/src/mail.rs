//! The mail worker: delivers the store's outbox over SMTP (lettre, rustls) when `[smtp]` is
//! configured. Without SMTP the messages stay queued and `portcullis idp outbox` shows them.
//!
//! ```toml
//! [smtp]
//! host = "smtp.contoso.example"
//! port = 587                       # default: 587 for starttls, 465 for tls, 25 for none
//! security = "starttls"            # starttls (default) | tls | none (loopback relays only)
//! from = "Portcullis <portcullis@contoso.example>"
//! username = "portcullis"          # optional; the password comes from PORTCULLIS_SMTP_PASSWORD
//! ```

use anyhow::{bail, Context, Result};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use std::time::Duration;
use store::Store;

/// The environment variable with the SMTP password (kept out of the configuration file).
pub const SMTP_PASSWORD_ENV: &str = "PORTCULLIS_SMTP_PASSWORD";

/// How often the outbox is looked at.
const DELIVERY_INTERVAL: Duration = Duration::from_secs(5);
/// A message is given up after this many failed attempts (it stays listed with its error).
const MAX_ATTEMPTS: i64 = 20;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: Option<u16>,
    #[serde(default)]
    pub security: SmtpSecurity,
    pub from: String,
    pub username: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    #[default]
    Starttls,
    Tls,
    None,
}

/// An SMTP sender built from the configuration.
pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Sender {
    pub fn new(c: &SmtpConfig) -> Result<Sender> {
        let from: Mailbox =
            c.from.parse().with_context(|| format!("[smtp] from = {:?} is not a mailbox", c.from))?;
        let mut builder = match c.security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.host)
                .with_context(|| format!("[smtp] host = {:?}", c.host))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&c.host)
                .with_context(|| format!("[smtp] host = {:?}", c.host))?,
            SmtpSecurity::None => {
                if !is_loopback(&c.host) {
                    bail!(
                        "[smtp] security = \"none\" sends mail and passwords in clear: it is allowed only for a relay on \
                         this machine (localhost); use starttls or tls for {}",
                        c.host
                    );
                }
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host)
            }
        };
        if let Some(port) = c.port {
            builder = builder.port(port);
        } else if c.security == SmtpSecurity::None {
            builder = builder.port(25);
        }
        if let Some(user) = &c.username {
            let password = std::env::var(SMTP_PASSWORD_ENV).with_context(|| {
                format!("[smtp] username is set: put the password in the {SMTP_PASSWORD_ENV} environment variable")
            })?;
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Sender { transport: builder.timeout(Some(Duration::from_secs(30))).build(), from })
    }

    /// Sends every queued message; returns how many went out. A failure is recorded on the
    /// message (which stays queued) and does not stop the others.
    pub async fn deliver(&self, store: &Store) -> Result<usize> {
        let mut sent = 0;
        for mail in store.unsent_mail(100).await? {
            if mail.attempts >= MAX_ATTEMPTS {
                continue;
            }
            let result = async {
                let to: Mailbox = mail.recipient.parse().context("the recipient is not an e-mail address")?;
                let message = Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(mail.subject.clone())
                    .body(mail.body.clone())
                    .context("building the message")?;
                self.transport.send(message).await.context("SMTP")?;
                anyhow::Ok(())
            };
            match result.await {
                Ok(()) => {
                    store.mark_mail_sent(mail.id, time::OffsetDateTime::now_utc().unix_timestamp()).await?;
                    tracing::info!(mail = %mail.id, "mail sent");
                    sent += 1;
                }
                Err(e) => {
                    tracing::warn!(mail = %mail.id, error = %format!("{e:#}"), "mail not sent; will retry");
                    store.mark_mail_failed(mail.id, &format!("{e:#}")).await?;
                }
            }
        }
        Ok(sent)
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

/// Runs forever: delivers the outbox every few seconds.
pub async fn run_delivery(store: Store, sender: Sender) {
    loop {
        if let Err(e) = sender.deliver(&store).await {
            tracing::warn!(error = %format!("{e:#}"), "mail delivery failed; will retry");
        }
        tokio::time::sleep(DELIVERY_INTERVAL).await;
    }
}
