//! What an operator reads and runs: the sign-in logs, the e-mail outbox, the
//! certificate-expiry check.

use super::{body, limit, ok, query, Admin, ApiError, ApiResult, Authenticated, ReadSignIns};
use crate::error::IdpError;
use crate::roles::{DirectoryRole, Principal};
use crate::service::Idp;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use serde::Deserialize;
use serde_json::{json, Value};
use store::model::SignIn;
use uuid::Uuid;

pub(super) fn sign_in_json(s: &SignIn) -> Value {
    json!({"id": s.id, "at": s.at, "user_id": s.user_id, "upn": s.upn, "app_id": s.app_id, "ip": s.ip,
        "result": s.result_code, "correlation_id": s.correlation_id, "detail": s.detail})
}

#[derive(Deserialize)]
struct SignInQuery {
    app: Option<String>,
    user: Option<String>,
    result: Option<String>,
    since: Option<i64>,
    limit: Option<u32>,
}

pub(super) async fn signins(State(idp): State<Idp>, who: Admin<ReadSignIns>, uri: Uri) -> ApiResult {
    let q: SignInQuery = query(&uri)?;
    let mut filter = store::SignInFilter::tenant(who.tenant);
    if let Some(app) = &q.app {
        filter.app_id = Some(idp.app(who.tenant, app).await?.0.id);
    }
    if let Some(u) = q.user.as_deref().map(str::trim) {
        match Uuid::parse_str(u) {
            Ok(id) => filter.user_id = Some(id),
            Err(_) => filter.upn = Some(u.to_string()),
        }
    }
    filter.result_code = q.result;
    filter.since = q.since;
    filter.limit = Some(limit(q.limit)?);
    idp.flush_sign_ins().await;
    ok(Value::Array(idp.store.list_sign_ins(&filter).await?.iter().map(sign_in_json).collect()))
}

/// Only a Global Administrator may read the outbox or run the expiry check (there is no finer
/// permission for the server's own housekeeping).
pub(super) fn require_global(who: &Principal, what: &str) -> Result<(), ApiError> {
    if who.roles.contains(&DirectoryRole::GlobalAdministrator) {
        return Ok(());
    }
    Err(ApiError(IdpError::Forbidden(format!(
        "{} may not {what} (Global Administrator); a Global Administrator can grant the role with \
         `portcullis idp role grant`",
        who.user.upn
    ))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxQuery {
    limit: Option<u32>,
}

pub(super) async fn outbox(State(idp): State<Idp>, who: Admin<Authenticated>, uri: Uri) -> ApiResult {
    require_global(&who, "read the e-mail outbox")?;
    let q: OutboxQuery = query(&uri)?;
    let v: Vec<Value> = idp
        .store
        .list_mail(limit(q.limit)?)
        .await?
        .iter()
        .map(|m| {
            json!({"id": m.id, "created_at": m.created_at, "recipient": m.recipient, "subject": m.subject,
                "body": m.body, "status": if m.sent_at.is_some() { "sent" } else { "queued" },
                "sent_at": m.sent_at, "attempts": m.attempts, "last_error": m.last_error})
        })
        .collect();
    ok(Value::Array(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyBody {
    /// Check as of this instant (RFC 3339) instead of now, as `idp notify --now` does.
    now: Option<String>,
}

pub(super) async fn notify(State(idp): State<Idp>, who: Admin<Authenticated>, raw: Bytes) -> ApiResult {
    require_global(&who, "run the certificate-expiry check")?;
    let b: NotifyBody = body(&raw)?;
    let at = match b.now.as_deref() {
        Some(t) => saml::clock::parse_time("now", t).map_err(|e| {
            ApiError(IdpError::Invalid(format!(
                "\"now\" {t:?}: {e} (use RFC 3339 in UTC, e.g. 2029-01-01T00:00:00Z)"
            )))
        })?,
        None => idp.now(),
    };
    let queued = idp.queue_certificate_notices(at).await?;
    // The check runs for every tenant (as the hourly one does); the answer shows this tenant's.
    let mine: std::collections::BTreeSet<Uuid> =
        idp.store.list_apps(who.tenant).await?.iter().map(|a| a.id).collect();
    let v: Vec<Value> = queued
        .iter()
        .filter(|q| mine.contains(&q.app_id))
        .map(|q| {
            json!({"app_id": q.app_id, "cert_id": q.cert_id, "recipient": q.recipient,
                "days_left": q.days_left})
        })
        .collect();
    ok(Value::Array(v))
}
