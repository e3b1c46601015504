//! The Command API: jump items (list and get with read access; create, update and delete with
//! full access), jump groups and sessions (read).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

use super::{json_answer, Api, ApiError, ApiResult, Caller, ChangeCommands, ReadCommands};
use crate::db::{rfc3339, SessionRecord};
use crate::items::{ItemType, JumpGroup, JumpItem, JumpItemUpdate, NewJumpItem};
use crate::ConsoleError;

pub(super) fn item_json(i: &JumpItem) -> Value {
    json!({
        "id": i.id,
        "name": i.name,
        "type": i.item_type.as_str(),
        "host": i.host,
        "port": i.port,
        "url": i.url,
        "application": i.application,
        "jump_group": i.jump_group,
        "tag": i.tag,
        "created": rfc3339(i.created_at),
        "updated": rfc3339(i.updated_at),
    })
}

fn group_json(g: &JumpGroup) -> Value {
    json!({"id": g.id, "name": g.name, "created": rfc3339(g.created_at)})
}

pub(super) fn session_summary(s: &SessionRecord) -> Value {
    json!({
        "id": s.id,
        "representative": s.representative,
        "jump_item": {"id": s.jump_item_id, "name": s.jump_item_name},
        "credential_display_name": s.credential_display_name,
        "start_time": rfc3339(s.started_at),
        "end_time": s.ended_at.map(rfc3339),
    })
}

/// Parses a JSON body (unknown fields refused) with our error shape.
fn body<T: DeserializeOwned>(raw: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(raw).map_err(|e| {
        ApiError(ConsoleError::InvalidInput {
            reason: format!("the request body is not valid JSON for this call ({e})"),
        })
    })
}

/// `Some(value)` for a present field, including `null` (which clears it).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateItem {
    name: String,
    #[serde(rename = "type")]
    item_type: String,
    host: Option<String>,
    port: Option<u16>,
    url: Option<String>,
    application: Option<String>,
    jump_group: Option<String>,
    tag: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateItem {
    name: Option<String>,
    host: Option<String>,
    #[serde(default, deserialize_with = "present")]
    port: Option<Option<u16>>,
    #[serde(default, deserialize_with = "present")]
    url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    application: Option<Option<String>>,
    jump_group: Option<String>,
    #[serde(default, deserialize_with = "present")]
    tag: Option<Option<String>>,
}

pub(super) async fn list_items(State(api): State<Api>, _: Caller<ReadCommands>) -> ApiResult {
    let items: Vec<Value> = api.db.jump_items().await?.iter().map(item_json).collect();
    json_answer(StatusCode::OK, json!({ "jump_items": items }))
}

pub(super) async fn get_item(
    State(api): State<Api>,
    _: Caller<ReadCommands>,
    Path(id): Path<String>,
) -> ApiResult {
    json_answer(StatusCode::OK, item_json(&api.db.jump_item(&id).await?))
}

pub(super) async fn create_item(
    State(api): State<Api>,
    who: Caller<ChangeCommands>,
    raw: Bytes,
) -> ApiResult {
    let c: CreateItem = body(&raw)?;
    let new = NewJumpItem {
        name: c.name,
        item_type: c.item_type.parse::<ItemType>()?,
        host: c.host,
        port: c.port,
        url: c.url,
        application: c.application,
        jump_group: c.jump_group,
        tag: c.tag,
    };
    let item = api.db.create_jump_item(&new).await?;
    tracing::info!(api_account = %who.name, jump_item = %item.name, "jump item created through the Command API");
    let mut r = json_answer(StatusCode::CREATED, item_json(&item))?;
    if let Ok(l) = HeaderValue::from_str(&format!("/console/api/command/jump-items/{}", item.id)) {
        r.headers_mut().insert(header::LOCATION, l);
    }
    Ok(r)
}

pub(super) async fn update_item(
    State(api): State<Api>,
    who: Caller<ChangeCommands>,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let u: UpdateItem = body(&raw)?;
    let update = JumpItemUpdate {
        name: u.name,
        host: u.host,
        port: u.port,
        url: u.url,
        application: u.application,
        jump_group: u.jump_group,
        tag: u.tag,
    };
    let item = api.db.update_jump_item(&id, &update).await?;
    tracing::info!(api_account = %who.name, jump_item = %item.name, "jump item changed through the Command API");
    json_answer(StatusCode::OK, item_json(&item))
}

pub(super) async fn delete_item(
    State(api): State<Api>,
    who: Caller<ChangeCommands>,
    Path(id): Path<String>,
) -> ApiResult {
    let item = api.db.delete_jump_item(&id).await?;
    tracing::info!(api_account = %who.name, jump_item = %item.name, "jump item deleted through the Command API");
    let mut r = axum::response::IntoResponse::into_response(StatusCode::NO_CONTENT);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

pub(super) async fn list_groups(State(api): State<Api>, _: Caller<ReadCommands>) -> ApiResult {
    let groups: Vec<Value> = api.db.jump_groups().await?.iter().map(group_json).collect();
    json_answer(StatusCode::OK, json!({ "jump_groups": groups }))
}

pub(super) async fn list_sessions(
    State(api): State<Api>,
    _: Caller<ReadCommands>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let window = Window::parse(q.as_deref())?;
    let sessions: Vec<Value> = api
        .db
        .sessions(window.since, window.until, window.limit)
        .await?
        .iter()
        .map(session_summary)
        .collect();
    json_answer(StatusCode::OK, json!({ "sessions": sessions }))
}

/// `?since=UNIX&until=UNIX&limit=N` of the session lists: started at or after `since`, before
/// `until`, newest first, at most `limit` (1 to 1000, default 100).
pub(super) struct Window {
    pub since: i64,
    pub until: i64,
    pub limit: u32,
}

impl Window {
    pub fn parse(query: Option<&str>) -> Result<Window, ApiError> {
        let mut w = Window { since: 0, until: i64::MAX, limit: 100 };
        let invalid = |reason: String| ApiError(ConsoleError::InvalidInput { reason });
        for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let number =
                || v.parse::<i64>().map_err(|_| invalid(format!("{k} must be a whole number, not {v:?}")));
            match k.as_ref() {
                "since" => w.since = number()?,
                "until" => w.until = number()?,
                "limit" => match number()? {
                    n @ 1..=1000 => w.limit = n as u32,
                    n => return Err(invalid(format!("limit {n} is out of range; use 1 to 1000"))),
                },
                other => {
                    return Err(invalid(format!(
                        "unknown query parameter {other:?}; use since, until and limit"
                    )))
                }
            }
        }
        Ok(w)
    }
}
