//! Certificate-expiry notices: when an app's active signing certificate comes within 60, 30,
//! 7 or 1 days of its end (or has ended), a notice goes to the app's notification address,
//! once per certificate and threshold, through the outbox (see `store`'s outbox: the mail
//! worker delivers it over SMTP when one is configured). The server runs the check at start
//! and then every hour ([`Idp::hourly_maintenance`]); `idp notify` runs it on demand.

use crate::error::Result;
use crate::service::Idp;
use store::model::Mail;
use time::OffsetDateTime;
use uuid::Uuid;

/// Days before the end at which a notice goes out (the largest first).
pub const NOTICE_DAYS: [i64; 4] = [60, 30, 7, 1];

/// The threshold `days_left` has crossed: the smallest notice day at or above it, or 0 once
/// the certificate has expired. `None` while more than 60 days remain.
fn threshold(days_left: i64) -> Option<i64> {
    if days_left < 0 {
        return Some(0);
    }
    NOTICE_DAYS.iter().rev().copied().find(|&d| days_left <= d)
}

/// One notice queued by [`Idp::queue_certificate_notices`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedNotice {
    pub app_id: Uuid,
    pub cert_id: Uuid,
    pub recipient: String,
    pub days_left: i64,
}

impl Idp {
    /// The server's hourly upkeep: queue the certificate-expiry notices due, drop expired
    /// sessions and sign-in throttle entries idle for a day. Each part is logged and does not
    /// stop the others.
    pub async fn hourly_maintenance(&self, now: OffsetDateTime) {
        if let Err(e) = self.queue_certificate_notices(now).await {
            tracing::warn!(error = %e, "certificate-expiry check failed; will retry in an hour");
        }
        let t = now.unix_timestamp();
        match self.store.purge_expired_sessions(t).await {
            Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
        }
        if let Err(e) = self.store.purge_lockouts(t - 86_400).await {
            tracing::warn!(error = %e, "could not purge the sign-in throttle");
        }
    }

    /// Queues the certificate-expiry notices due at `now` that were not queued before, in
    /// every tenant; returns them.
    pub async fn queue_certificate_notices(&self, now: OffsetDateTime) -> Result<Vec<QueuedNotice>> {
        let mut queued = Vec::new();
        for tenant in self.store.list_tenants().await? {
            for app in self.store.list_apps(tenant.id).await? {
                let config = crate::apps::config_of(&app)?;
                let Some(recipient) = config.notification_email.clone() else { continue };
                let Some(cert) = self.store.active_signing_cert(app.id).await? else { continue };
                let not_after =
                    OffsetDateTime::from_unix_timestamp(cert.not_after).unwrap_or(OffsetDateTime::UNIX_EPOCH);
                let days_left = (not_after - now).whole_days();
                let Some(step) = threshold(days_left) else { continue };
                let end = saml::clock::format_time(not_after);
                let (subject, lead) = if step == 0 {
                    (
                        format!("Portcullis: the SAML signing certificate of {} has expired", app.name),
                        format!("The active SAML signing certificate of \"{}\" expired on {end}.", app.name),
                    )
                } else {
                    (
                        format!("Portcullis: the SAML signing certificate of {} expires in {days_left} days", app.name),
                        format!(
                            "The active SAML signing certificate of \"{}\" expires on {end} ({days_left} days from now).",
                            app.name
                        ),
                    )
                };
                let body = format!(
                    "{lead}\n\n\
                     Application: {name} ({app_id})\n\
                     Certificate: {thumb} (SHA-1 thumbprint)\n\n\
                     To roll it over without an outage:\n\
                     1. create a new certificate:  portcullis idp app cert new --app {app_id}\n\
                     2. give the application the new federation metadata (both certificates are listed\n   \
                        during the switch):  {metadata}\n\
                     3. activate the new one:  portcullis idp app cert activate --app {app_id} --cert NEW_ID\n\n\
                     You receive this because you are the app's notification address.\n",
                    name = app.name,
                    app_id = app.id,
                    thumb = cert.thumbprint,
                    metadata = self.endpoints(tenant.id).metadata_url(app.id),
                );
                let mail = Mail {
                    id: Uuid::new_v4(),
                    created_at: now.unix_timestamp(),
                    recipient: recipient.clone(),
                    subject,
                    body,
                    dedup_key: Some(format!("cert-expiry/{}/{}/{step}", cert.id, recipient.to_lowercase())),
                    sent_at: None,
                    attempts: 0,
                    last_error: None,
                };
                if self.store.enqueue_mail(&mail).await? {
                    tracing::info!(app = %app.id, cert = %cert.id, days_left, "certificate-expiry notice queued");
                    queued.push(QueuedNotice { app_id: app.id, cert_id: cert.id, recipient, days_left });
                }
            }
        }
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::threshold;

    #[test]
    fn thresholds_step_down_to_expired() {
        assert_eq!(threshold(400), None);
        assert_eq!(threshold(61), None);
        assert_eq!(threshold(60), Some(60));
        assert_eq!(threshold(31), Some(60));
        assert_eq!(threshold(30), Some(30));
        assert_eq!(threshold(8), Some(30));
        assert_eq!(threshold(7), Some(7));
        assert_eq!(threshold(2), Some(7));
        assert_eq!(threshold(1), Some(1));
        assert_eq!(threshold(0), Some(1));
        assert_eq!(threshold(-1), Some(0));
    }
}
