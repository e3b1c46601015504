//! Certificate-expiry notices, end to end: `idp notify` queues them in the outbox at the 60/30/
//! 7/1-day thresholds and once expired, once each; `portcullis up` delivers the outbox to a
//! real SMTP server (aiosmtpd) configured through PORTCULLIS_SMTP_*.

mod support;

use std::time::{Duration, Instant};
use support::peers::smtp::SmtpSink;
use support::*;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn notify(server: &Server, now: OffsetDateTime) -> Vec<serde_json::Value> {
    let at = now.format(&Rfc3339).expect("format");
    let out = server.cli(&["idp", "notify", "--now", &at, "--json"]);
    serde_json::from_str::<Vec<serde_json::Value>>(&out).expect("json")
}

/// Proves: no notice while the certificate has more than 60 days; one notice at 20 days left,
/// queued once however often the check runs; another once expired; none for an app without a
/// notification address; and `up` delivers both over SMTP to the address, with the app, the
/// certificate and the rollover steps in the text, after which the outbox shows them sent.
#[test]
fn certificate_expiry_notices_are_queued_once_per_threshold_and_delivered_over_smtp() {
    let sink = SmtpSink::start();
    let port = sink.port.to_string();
    let server = Server::start_with_env(
        PORTCULLIS,
        &[
            ("PORTCULLIS_SMTP_HOST", "127.0.0.1"),
            ("PORTCULLIS_SMTP_PORT", &port),
            ("PORTCULLIS_SMTP_SECURITY", "none"),
            ("PORTCULLIS_SMTP_FROM", "Portcullis <idp@contoso.test>"),
        ],
    );
    let app = server.create_app(
        "generic-saml",
        "Payroll",
        &["IDENTIFIER=https://payroll.contoso.test", "REPLY_URL=https://payroll.contoso.test/acs"],
    );
    server.cli(&["idp", "app", "set-saml", "--app", &app, "--notification-email", "ops@contoso.test"]);
    // A second app without a notification address gets no notice.
    server.create_app(
        "generic-saml",
        "Quiet",
        &["IDENTIFIER=https://quiet.contoso.test", "REPLY_URL=https://quiet.contoso.test/acs"],
    );
    let certs: serde_json::Value =
        serde_json::from_str(&server.cli(&["idp", "app", "cert", "list", "--app", &app, "--json"])).unwrap();
    let cert_id = certs[0]["id"].as_str().expect("cert id").to_string();
    let not_after =
        OffsetDateTime::parse(certs[0]["not_after"].as_str().expect("not_after"), &Rfc3339).expect("rfc3339");

    assert_eq!(notify(&server, OffsetDateTime::now_utc()), Vec::<serde_json::Value>::new(), "3 years left");
    let soon = notify(&server, not_after - time::Duration::days(20));
    assert_eq!(soon.len(), 1, "{soon:?}");
    assert_eq!(soon[0]["recipient"], "ops@contoso.test");
    assert_eq!(soon[0]["cert_id"], cert_id.as_str());
    assert!(notify(&server, not_after - time::Duration::days(19)).is_empty(), "same threshold: queued once");
    let expired = notify(&server, not_after + time::Duration::days(1));
    assert_eq!(expired.len(), 1, "{expired:?}");

    let mails = sink.wait_for(2, &server);
    assert_eq!(mails.len(), 2, "{mails:?}");
    for m in &mails {
        assert!(m.contains("X-Envelope-To: ops@contoso.test"), "{m}");
        assert!(m.contains("From: Portcullis <idp@contoso.test>"), "{m}");
        assert!(m.contains(&app), "the notice names the app's ID:\n{m}");
        assert!(m.contains("cert new --app"), "the notice says how to roll over:\n{m}");
    }
    assert!(mails.iter().any(|m| m.contains("expires in 20 days")), "{mails:?}");
    assert!(mails.iter().any(|m| m.contains("has expired")), "{mails:?}");

    // The outbox shows both as sent (the worker marks them after the SMTP server's 250).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let outbox: Vec<serde_json::Value> =
            serde_json::from_str(&server.cli(&["idp", "outbox", "--json"])).expect("json");
        if outbox.len() == 2 && outbox.iter().all(|m| m["status"] == "sent") {
            break;
        }
        assert!(Instant::now() < deadline, "the outbox does not show both sent: {outbox:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
