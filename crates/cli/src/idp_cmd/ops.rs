//! `portcullis idp signins|role|token|notify|outbox`: sign-in logs, directory roles, API
//! tokens and the server's mail.

use super::unix_rfc3339;
use crate::args::idp::*;
use anyhow::Result;
use idp::service::Idp;
use serde_json::json;
use std::collections::BTreeMap;

pub(super) async fn notify(idp: &Idp, a: NotifyArgs) -> Result<()> {
    let now = match &a.now {
        Some(t) => saml::clock::parse_time("--now", t).map_err(|e| {
            anyhow::anyhow!("--now {t:?}: {e} (use RFC 3339 in UTC, e.g. 2029-01-01T00:00:00Z)")
        })?,
        None => time::OffsetDateTime::now_utc(),
    };
    let queued = idp.queue_certificate_notices(now).await?;
    if a.json {
        let v: Vec<_> = queued
            .iter()
            .map(|q| json!({"app_id": q.app_id, "cert_id": q.cert_id, "recipient": q.recipient, "days_left": q.days_left}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if queued.is_empty() {
        println!("no notice due");
    } else {
        for q in &queued {
            println!(
                "queued for {}: app {} certificate {} ({} days left)",
                q.recipient, q.app_id, q.cert_id, q.days_left
            );
        }
    }
    Ok(())
}

pub(super) async fn outbox(idp: &Idp, a: OutboxArgs) -> Result<()> {
    let rows = idp.store.list_mail(a.limit).await?;
    let at = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t).map(saml::clock::format_time).unwrap_or_default()
    };
    if a.json {
        let v: Vec<_> = rows
            .iter()
            .map(|m| {
                json!({"id": m.id, "created_at": at(m.created_at), "recipient": m.recipient, "subject": m.subject,
                    "body": m.body, "status": if m.sent_at.is_some() { "sent" } else { "queued" },
                    "sent_at": m.sent_at.map(at), "attempts": m.attempts, "last_error": m.last_error})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    for m in rows {
        let status = match (m.sent_at, &m.last_error) {
            (Some(t), _) => format!("sent {}", at(t)),
            (None, Some(e)) => format!("queued, {} failed attempts, last: {e}", m.attempts),
            (None, None) => "queued".into(),
        };
        println!("{}  to {}  {}  [{status}]", at(m.created_at), m.recipient, m.subject);
        if a.full {
            println!("{}\n", m.body);
        }
    }
    Ok(())
}

pub(super) async fn signins(idp: &Idp, tenant: uuid::Uuid, a: SigninsArgs) -> Result<()> {
    let mut filter = store::SignInFilter::tenant(tenant);
    if let Some(app) = &a.app {
        filter.app_id = Some(idp.app(tenant, app).await?.0.id);
    }
    filter.upn = a.user.clone();
    filter.limit = Some(a.limit);
    idp.flush_sign_ins().await;
    let rows = idp.store.list_sign_ins(&filter).await?;
    // Apps by name; a deleted app's sign-ins keep its ID.
    let names: BTreeMap<uuid::Uuid, String> =
        idp.store.list_apps(tenant).await?.into_iter().map(|a| (a.id, a.name)).collect();
    let app_name =
        |id: Option<uuid::Uuid>| id.map(|id| names.get(&id).cloned().unwrap_or_else(|| id.to_string()));
    let fmt = time::format_description::well_known::Rfc3339;
    let at = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .and_then(|d| d.format(&fmt).ok())
            .unwrap_or_default()
    };
    if a.json {
        let v: Vec<_> = rows
            .iter()
            .map(|s| {
                json!({"id": s.id, "at": at(s.at), "user_id": s.user_id, "upn": s.upn, "app_id": s.app_id,
                "app": app_name(s.app_id), "ip": s.ip,
                "result": s.result_code, "correlation_id": s.correlation_id, "detail": s.detail})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for s in rows {
            println!(
                "{}  {:<10} {:<32} app={} ip={} correlation={}{}",
                at(s.at),
                s.result_code,
                s.upn.as_deref().unwrap_or("-"),
                app_name(s.app_id).map(|n| format!("{n:?}")).unwrap_or_else(|| "-".into()),
                s.ip.as_deref().unwrap_or("-"),
                s.correlation_id,
                s.detail.map(|d| format!("  {d}")).unwrap_or_default()
            );
        }
    }
    Ok(())
}

pub(super) async fn role(idp: &Idp, tenant: uuid::Uuid, c: RoleCommand) -> Result<()> {
    match c {
        RoleCommand::Grant { user, role } => {
            let role = idp::roles::DirectoryRole::from(role);
            let u = idp.grant_role(tenant, &user, role).await?;
            println!("{} is now a {}", u.upn, role.display_name());
        }
        RoleCommand::Revoke { user, role } => {
            let role = idp::roles::DirectoryRole::from(role);
            let u = idp.revoke_role(tenant, &user, role).await?;
            println!("{} is no longer a {}", u.upn, role.display_name());
        }
        RoleCommand::List { json } => {
            let all = idp.role_assignments(tenant).await?;
            if json {
                let v: Vec<_> =
                    all.iter().map(|(u, r)| json!({"user_id": u.id, "upn": u.upn, "role": r})).collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for (u, r) in all {
                    println!("{:<28} {}  {}", r.display_name(), u.id, u.upn);
                }
            }
        }
    }
    Ok(())
}

pub(super) async fn token(idp: &Idp, tenant: uuid::Uuid, c: TokenCommand) -> Result<()> {
    match c {
        TokenCommand::Create { user, name, days } => {
            let t = idp.create_api_token(tenant, &user, name.as_deref(), days).await?;
            println!("token ID:  {}", t.record.id);
            println!(
                "expires:   {}",
                t.record.expires_at.map(unix_rfc3339).unwrap_or_else(|| "never".into())
            );
            println!("Use it as `Authorization: Bearer <token>`. It is shown only now; keep it secret:");
            println!("{}", t.secret.as_str());
        }
        TokenCommand::List { json } => {
            let tokens = idp.list_api_tokens(tenant).await?;
            let mut owners = BTreeMap::new();
            for u in idp.store.list_users(tenant).await? {
                owners.insert(u.id, u.upn);
            }
            let owner = |id: &uuid::Uuid| owners.get(id).cloned().unwrap_or_default();
            if json {
                let v: Vec<_> = tokens
                    .iter()
                    .map(|t| json!({"id": t.id, "name": t.name, "user_id": t.user_id, "upn": owner(&t.user_id),
                        "created_at": unix_rfc3339(t.created_at), "expires_at": t.expires_at.map(unix_rfc3339),
                        "last_used_at": t.last_used_at.map(unix_rfc3339), "revoked": t.revoked_at.is_some(),
                        "revoked_at": t.revoked_at.map(unix_rfc3339)}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for t in tokens {
                    println!(
                        "{}  {:<20} {}  expires {}{}",
                        t.id,
                        t.name,
                        owner(&t.user_id),
                        t.expires_at.map(unix_rfc3339).unwrap_or_else(|| "never".into()),
                        if t.revoked_at.is_some() { "  (revoked)" } else { "" }
                    );
                }
            }
        }
        TokenCommand::Revoke { id } => {
            idp.revoke_api_token(tenant, &id).await?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}
