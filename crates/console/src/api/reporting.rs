//! The Reporting API: access session reports (start, end, representative, jump item, credential
//! display name, approver, vault request ID and the coded audit events) and their recordings
//! (asciicast v2, `application/x-asciicast`).

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde_json::{json, Value};

use super::command::{session_summary, Window};
use super::{json_answer, Api, ApiResult, Caller, Reports};
use crate::db::{rfc3339, SessionEvent, SessionRecord};
use crate::ConsoleError;

fn report_json(s: &SessionRecord, events: Option<&[SessionEvent]>) -> Value {
    let mut v = session_summary(s);
    v["approver"] = json!(s.approver);
    v["vault_request_id"] = json!(s.vault_request_id);
    v["recording"] = json!(s
        .recording_path
        .as_ref()
        .map(|_| format!("/console/api/reporting/sessions/{}/recording", s.id)));
    if let Some(events) = events {
        v["events"] = events
            .iter()
            .map(|e| json!({"seq": e.seq, "time": rfc3339(e.at), "code": e.code, "detail": e.detail}))
            .collect();
    }
    v
}

pub(super) async fn list_reports(
    State(api): State<Api>,
    _: Caller<Reports>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let w = Window::parse(q.as_deref())?;
    let reports: Vec<Value> =
        api.db.sessions(w.since, w.until, w.limit).await?.iter().map(|s| report_json(s, None)).collect();
    json_answer(StatusCode::OK, json!({ "sessions": reports }))
}

pub(super) async fn report(State(api): State<Api>, _: Caller<Reports>, Path(id): Path<String>) -> ApiResult {
    let session = api.db.session(&id).await?;
    let events = api.db.session_events(&session.id).await?;
    json_answer(StatusCode::OK, report_json(&session, Some(&events)))
}

pub(super) async fn recording(
    State(api): State<Api>,
    who: Caller<Reports>,
    Path(id): Path<String>,
) -> ApiResult {
    let session = api.db.session(&id).await?;
    let missing = || ConsoleError::NotFound { what: format!("the recording of session {:?}", session.id) };
    // The path is the console's own (written when the session started), never the caller's.
    let path = session.recording_path.as_deref().ok_or_else(missing)?;
    let bytes = match tokio::fs::read(path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing().into()),
        Err(e) => {
            return Err(ConsoleError::Storage {
                detail: format!("the recording of session {:?} cannot be read: {e}", session.id),
            }
            .into())
        }
    };
    tracing::info!(api_account = %who.name, session = %session.id, "recording downloaded through the Reporting API");
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-asciicast"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"session-{}.cast\"", session.id)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
