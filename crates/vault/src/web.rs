//! The Password Safe public API v3 (`/BeyondTrust/api/public/v3/…`) as an axum router.
//!
//! One handler reads every request and dispatches on the method and the lower-cased path
//! segments, so paths are case-insensitive after the prefix (which is accepted as
//! `/BeyondTrust/…` and `/beyondtrust/…`). JSON keys are matched case-insensitively, unknown query
//! parameters (such as `version`) are ignored, and errors are short JSON strings. Each request
//! is written to the audit log before its response is sent; if that write fails the caller gets
//! a 500 instead of an unaudited answer.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use crate::admin::NewRegistration;
use crate::audit::Event;
use crate::error::{forbidden, invalid, not_found, unauthorized, VaultError};
use crate::ip::IpRule;
use crate::model::{Account, Actor, Registration, Request as VRequest, User};
use crate::requests::{ConflictOption, NewRequest, Outcome, Queue};
use crate::secrets_safe::{Folder, Secret, SecretValue};
use crate::Vault;

/// The API's path prefix.
pub const BASE: &str = "/BeyondTrust/api/public/v3";
/// The session cookie (the name Password Safe uses).
pub const COOKIE: &str = "ASP.NET_SessionId";
/// The version `Configuration/Version` reports.
pub const VERSION: &str = "24.3.0.0";
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Marks requests that arrived over TLS (set by [`crate::serve::serve`]), so that the session
/// cookie is `Secure` there.
#[derive(Clone, Copy, Debug)]
pub struct OverTls;

/// The API's router, to serve alone or merge into `portcullis up`.
pub fn router(vault: Vault) -> Router {
    Router::new()
        .route("/BeyondTrust/api/public/v3/{*rest}", any(dispatch))
        .route("/beyondtrust/api/public/v3/{*rest}", any(dispatch))
        // Paths are case-insensitive, the prefix included (`/BEYONDTRUST/Api/…`), which the router's
        // exact matching cannot express: the fallback takes any other spelling. It is the whole
        // app's fallback when merged into `portcullis up`, so everything else stays a 404.
        .fallback(any_case_prefix)
        .with_state(vault)
}

async fn any_case_prefix(State(vault): State<Vault>, req: Request) -> Response {
    let path = req.uri().path();
    let ours = path.len() > BASE.len()
        && path.is_char_boundary(BASE.len())
        && path[..BASE.len()].eq_ignore_ascii_case(BASE)
        && path[BASE.len()..].starts_with('/');
    if ours {
        dispatch(State(vault), req).await
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

/// What the audit row of a request records besides the result.
struct Ctx {
    action: String,
    actor: String,
    account_id: Option<i64>,
    source: IpAddr,
}

type Answer = Result<Response, VaultError>;

fn status_of(e: &VaultError) -> StatusCode {
    StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn error_response(e: &VaultError) -> Response {
    let status = status_of(e);
    let msg = match e {
        // Storage details go to the log, not to the caller.
        VaultError::Store(_) => {
            "the vault could not complete the request; the server log has the details".to_string()
        }
        other => other.to_string(),
    };
    (status, Json(Value::String(msg))).into_response()
}

async fn dispatch(State(vault): State<Vault>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let path = req.uri().path().to_string();
    let rest = path.get(BASE.len()..).unwrap_or("").trim_matches('/').to_string();
    let method = req.method().clone();
    let mut ctx = Ctx {
        action: format!(
            "{method} {}",
            rest.split('/')
                .map(|s| if s.parse::<i64>().is_ok() || s.len() == 36 { "{id}" } else { s })
                .collect::<Vec<_>>()
                .join("/")
        ),
        actor: "-".into(),
        account_id: None,
        source: peer,
    };
    let answer = handle(&vault, &mut ctx, &method, &rest, req).await;
    let (response, result) = match answer {
        Ok(r) => {
            let code = r.status();
            (r, if code.is_success() { "ok".to_string() } else { code.as_u16().to_string() })
        }
        Err(e) => {
            if let VaultError::Store(inner) = &e {
                tracing::error!(code = e.code(), error = %inner, action = %ctx.action, "vault API request failed");
            }
            (error_response(&e), format!("{} {}", status_of(&e).as_u16(), e.code()))
        }
    };
    let audited = vault
        .audit(Event {
            actor: &ctx.actor,
            action: &ctx.action,
            account_id: ctx.account_id,
            source: &ctx.source.to_string(),
            result: &result,
            detail: "",
        })
        .await;
    match audited {
        Ok(()) => response,
        Err(e) => {
            tracing::error!(code = e.code(), error = %e, "writing the audit log failed; the response is withheld");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(Value::String("the audit log could not be written; nothing was returned".into())),
            )
                .into_response()
        }
    }
}

// ---------------------------------------------------------------------- request helpers

/// JSON object with lower-cased keys.
struct Body2(Map<String, Value>);

impl Body2 {
    fn parse(bytes: &[u8]) -> Result<Body2, VaultError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body2(Map::new()));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => {
                Ok(Body2(m.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect()))
            }
            Ok(_) => Err(invalid("the request body must be a JSON object")),
            Err(e) => Err(invalid(format!("the request body is not valid JSON ({e})"))),
        }
    }
    fn get(&self, k: &str) -> Option<&Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }
    fn str(&self, k: &str) -> Option<String> {
        self.get(k).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
    fn int(&self, k: &str) -> Result<Option<i64>, VaultError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                n.as_i64().map(Some).ok_or_else(|| invalid(format!("{k} must be an integer")))
            }
            Some(Value::String(s)) => {
                s.trim().parse().map(Some).map_err(|_| invalid(format!("{k} must be an integer")))
            }
            Some(_) => Err(invalid(format!("{k} must be an integer"))),
        }
    }
    fn boolean(&self, k: &str) -> Result<Option<bool>, VaultError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(invalid(format!("{k} must be true or false"))),
        }
    }
}

fn query(req_uri: &axum::http::Uri) -> Vec<(String, String)> {
    form_urlencoded::parse(req_uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
        .collect()
}

fn q<'a>(qs: &'a [(String, String)], k: &str) -> Option<&'a str> {
    qs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (n, v) = c.trim().split_once('=')?;
            (n == COOKIE).then(|| v.to_string())
        })
}

fn id(seg: &str, what: &str) -> Result<i64, VaultError> {
    seg.parse().map_err(|_| not_found(format!("{what} {seg:?} was not found")))
}

fn no_content() -> Answer {
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn ok<T: serde::Serialize>(v: T) -> Answer {
    Ok((StatusCode::OK, Json(v)).into_response())
}

fn created<T: serde::Serialize>(v: T) -> Answer {
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

fn date(t: Option<i64>) -> Value {
    match t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok()) {
        Some(d) => Value::String(
            d.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
                .trim_end_matches('Z')
                .to_string(),
        ),
        None => Value::Null,
    }
}

// ---------------------------------------------------------------------- shapes

fn account_json(a: &Account, host: &str, platform: &str) -> Value {
    json!({
        "PlatformID": platform_id(platform),
        "SystemId": a.system_id,
        "SystemName": a.system_name,
        "DomainName": a.domain,
        "AccountId": a.id,
        "AccountName": a.name,
        "InstanceName": "",
        "UserPrincipalName": null,
        "ApplicationID": null,
        "ApplicationDisplayName": null,
        "DefaultReleaseDuration": a.max_release_minutes.min(120),
        "MaximumReleaseDuration": a.max_release_minutes,
        "LastChangeDate": date(a.password_changed_at),
        "NextChangeDate": date(a.rotation_due_at),
        "IsChanging": a.rotation_pending,
        "ChangeState": if a.rotation_pending { 1 } else { 0 },
        "IsISAAccess": false,
        "PreferredNodeID": null,
        "AccountDescription": a.description,
        "HostName": host,
        "IPAddress": host,
        "ChangePasswordAfterAnyReleaseFlag": a.change_after_release,
    })
}

fn platform_id(platform: &str) -> i64 {
    match platform {
        "linux-ssh" => 2,
        "postgresql" => 79,
        _ => 4,
    }
}

fn request_json(r: &VRequest) -> Value {
    json!({
        "RequestID": r.id,
        "RequestorName": r.user_name,
        "SystemID": r.system_id,
        "SystemName": r.system_name,
        "AccountID": r.account_id,
        "AccountName": r.account_name,
        "DomainName": null,
        "AliasID": null,
        "ApplicationID": null,
        "RequestReleaseDate": date(Some(r.created_at)),
        "ApprovedDate": if r.approvals > 0 || r.status != crate::model::RequestStatus::Pending { date(Some(r.created_at)) } else { Value::Null },
        "ExpiresDate": date(Some(r.expires_at)),
        "Status": r.status.wire(),
        "AccessType": r.access_type,
        "Reason": r.reason,
        "DurationMinutes": r.duration_minutes,
        "RotateOnCheckin": r.rotate_on_checkin,
    })
}

fn registration_json(r: &Registration) -> Value {
    json!({
        "Id": r.id,
        "Name": r.name,
        "RegistrationType": "ApiKeyPolicy",
        "Active": r.active,
        "Visible": true,
        "MultiFactorAuthenticationEnforced": false,
        "ClientCertificateRequired": false,
        "UserPasswordRequired": r.user_password_required,
        "VerifyPSRunAsUser": true,
        "AccessTokenDuration": r.token_minutes,
        "IPAuthenticationRules": r.ip_rules,
        "PSRunAsUser": null,
        "XForwardedForAuthenticationRules": [],
    })
}

fn policy_json(p: &crate::model::Policy) -> Value {
    json!({
        "AccessPolicyID": p.id,
        "Name": p.name,
        "Description": "",
        "Schedules": [{
            "ScheduleID": p.id,
            "Type": if p.all_day { "AllDay" } else { "Daily" },
            "StartTime": format!("{:02}:{:02}", p.window_start / 60, p.window_start % 60),
            "EndTime": format!("{:02}:{:02}", (p.window_end / 60) % 24, p.window_end % 60),
            "Sessions": [],
            "AutoApprove": p.auto_approve,
            "RequiredApprovers": if p.auto_approve { 0 } else { p.approvals_required },
            "MaximumDuration": p.max_minutes,
        }],
    })
}

fn folder_json(f: &Folder) -> Value {
    json!({ "Id": f.id, "Name": f.name, "Description": f.description, "ParentId": f.parent_id, "UserGroupId": null, "FolderPath": f.path })
}

fn secret_json(s: &Secret, password: Option<&str>, v32: bool) -> Value {
    let mut v = json!({
        "Id": s.id,
        "Title": s.title,
        "Description": s.description,
        "Username": s.username,
        "Password": password,
        "FileName": s.file_name,
        "FileHash": null,
        "Text": if s.secret_type == "Text" { password } else { None },
        "SecretType": s.secret_type,
        "FolderId": s.folder_id,
        "CreatedOn": date(Some(s.created_at)),
        "CreatedBy": s.owner_name,
        "ModifiedOn": date(Some(s.modified_at)),
        "ModifiedBy": s.owner_name,
        "Folder": s.folder_path.rsplit('/').next().unwrap_or(""),
        "FolderPath": s.folder_path,
        "Owners": [{"OwnerId": s.owner_id, "Owner": s.owner_name, "UserId": s.owner_id, "Name": s.owner_name}],
        "Notes": s.notes,
        "Urls": [],
        "IsFavorite": false,
    });
    if v32 {
        v["SecretValueModifiedOn"] = date(Some(s.modified_at));
    }
    v
}

/// `version` ≥ 3.2 asks for `{TotalCount, Data}` list envelopes.
fn wants_v32(qs: &[(String, String)]) -> bool {
    q(qs, "version")
        .and_then(|v| {
            let mut it = v.split('.');
            Some((it.next()?.parse::<u32>().ok()?, it.next().unwrap_or("0").parse::<u32>().ok()?))
        })
        .is_some_and(|(maj, min)| (maj, min) >= (3, 2))
}

// ---------------------------------------------------------------------- dispatch

async fn handle(vault: &Vault, ctx: &mut Ctx, method: &Method, rest: &str, req: Request) -> Answer {
    let segs_orig: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let segs: Vec<String> = segs_orig.iter().map(|s| s.to_ascii_lowercase()).collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let qs = query(req.uri());
    let headers = req.headers().clone();
    let over_tls = req.extensions().get::<OverTls>().is_some();

    // Unauthenticated endpoints.
    match (method, s.as_slice()) {
        (&Method::POST, ["auth", "connect", "token"]) => {
            let body = axum::body::to_bytes(req.into_body(), 64 * 1024)
                .await
                .map_err(|_| invalid("the body is too large"))?;
            return token(vault, ctx, &body).await;
        }
        (&Method::POST, ["auth", "signappin"]) => {
            let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(|| {
                unauthorized("send Authorization: PS-Auth key=<API key>; runas=<user>; or Bearer <token>")
            })?;
            let (user, session) = vault.sign_in(auth, ctx.source).await.inspect_err(|_| {
                ctx.actor = runas_of(auth).unwrap_or_else(|| "-".into());
            })?;
            ctx.actor = user.name.clone();
            let cookie = format!(
                "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict{}",
                session.as_str(),
                if over_tls { "; Secure" } else { "" }
            );
            let mut resp = (StatusCode::OK, Json(user_json(&user))).into_response();
            resp.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).map_err(|_| invalid("cannot build the session cookie"))?,
            );
            return Ok(resp);
        }
        (&Method::POST, ["auth", "signout"]) => {
            if let Some(c) = cookie(&headers) {
                if let Ok(u) = vault.session_user(&c).await {
                    ctx.actor = u.name;
                }
                vault.sign_out(&c).await?;
            }
            return ok(Value::Null).map(|_| StatusCode::OK.into_response());
        }
        (&Method::GET, ["configuration", "version"]) => return ok(json!({ "Version": VERSION })),
        _ => {}
    }

    // Everything else needs a session.
    let session = cookie(&headers).ok_or_else(|| unauthorized("not signed in: call Auth/SignAppIn first"))?;
    let user = vault.session_user(&session).await?;
    ctx.actor = user.name.clone();

    match (method, s.as_slice()) {
        (&Method::GET, ["managedaccounts"]) => managed_accounts(vault, &user, &qs).await,
        (&Method::GET, ["managedsystems", sys, "managedaccounts"]) => {
            let sys = id(sys, "managed system")?;
            let list: Vec<Value> = vault
                .requestable_accounts(user.id)
                .await?
                .into_iter()
                .filter(|a| a.system_id == sys)
                .map(|a| account_json(&a, "", ""))
                .collect();
            ok(list)
        }
        (&Method::POST, ["managedaccounts", aid, "credentials", "change"]) => {
            let aid = id(aid, "managed account")?;
            ctx.account_id = Some(aid);
            require_admin(vault, &user).await?;
            vault.account(aid).await?;
            vault.rotate_account(Actor::User(&user), aid, None).await?;
            no_content()
        }
        (&Method::PUT, ["managedaccounts", aid, "credentials"]) => {
            let aid = id(aid, "managed account")?;
            ctx.account_id = Some(aid);
            require_admin(vault, &user).await?;
            let body = read_json(req).await?;
            let pw = Zeroizing::new(body.str("password").ok_or_else(|| invalid("Password is required"))?);
            if body.boolean("updatesystem")?.unwrap_or(false) {
                vault.rotate_account(Actor::User(&user), aid, Some(pw)).await?;
            } else {
                vault.set_account_password(aid, &pw).await?;
            }
            no_content()
        }
        (&Method::POST, ["requests"]) => {
            let body = read_json(req).await?;
            let account_id = body.int("accountid")?.ok_or_else(|| invalid("AccountID is required"))?;
            ctx.account_id = Some(account_id);
            let duration =
                body.int("durationminutes")?.ok_or_else(|| invalid("DurationMinutes is required"))?;
            let new = NewRequest {
                system_id: body.int("systemid")?,
                account_id,
                duration_minutes: duration,
                reason: body.str("reason").unwrap_or_default(),
                access_type: body.str("accesstype").unwrap_or_else(|| "View".into()),
                conflict: ConflictOption::parse(body.str("conflictoption").as_deref())?,
                rotate_on_checkin: body.boolean("rotateoncheckin")?,
            };
            match vault.create_request(&user, new).await? {
                Outcome::Created(id) => created(id),
                Outcome::Reused(id) => ok(id),
            }
        }
        (&Method::GET, ["requests"]) => {
            let queue = match q(&qs, "queue").map(str::to_ascii_lowercase).as_deref() {
                Some("app") | Some("approver") => Queue::Approver,
                _ => Queue::Requestor,
            };
            let list = vault.list_requests(Some(&user), queue, q(&qs, "status")).await?;
            ok(list.iter().map(request_json).collect::<Vec<_>>())
        }
        (&Method::PUT, ["requests", rid, action]) => {
            let rid = id(rid, "release request")?;
            if let Ok(r) = vault.request(rid).await {
                ctx.account_id = Some(r.account_id);
            }
            match *action {
                "checkin" => {
                    vault.check_in(Actor::User(&user), rid).await?;
                    no_content()
                }
                "approve" => {
                    vault.approve(Actor::User(&user), rid).await?;
                    no_content()
                }
                "deny" => {
                    vault.deny(Actor::User(&user), rid).await?;
                    no_content()
                }
                "rotateoncheckin" => {
                    vault.set_rotate_on_checkin(&user, rid, true).await?;
                    no_content()
                }
                _ => Err(not_found(format!("Requests/{{id}}/{action} is not an endpoint of this API"))),
            }
        }
        (&Method::GET, ["credentials", rid]) => {
            let rid = id(rid, "release request")?;
            if let Ok(r) = vault.request(rid).await {
                if r.user_id == user.id {
                    ctx.account_id = Some(r.account_id);
                }
            }
            match q(&qs, "type").map(str::to_ascii_lowercase).as_deref() {
                None | Some("password") => {}
                Some("dsskey") => {
                    return Err(not_found("this account has no DSS key; ask for type=password"))
                }
                Some(other) => return Err(invalid(format!("type {other:?} is not password or dsskey"))),
            }
            let (_, pw) = vault.credential(&user, rid).await?;
            ok(Value::String(pw.to_string()))
        }
        (&Method::GET, ["accesspolicies"]) => {
            let list = vault.list_policies().await?;
            ok(list.iter().map(policy_json).collect::<Vec<_>>())
        }
        (&Method::POST, ["accesspolicies", "test"]) => {
            let body = read_json(req).await?;
            let account_id = body.int("accountid")?.ok_or_else(|| invalid("AccountId is required"))?;
            ctx.account_id = Some(account_id);
            if !vault.may_request(user.id, account_id).await? {
                return Err(forbidden(format!(
                    "user {:?} may not request managed account {account_id} now",
                    user.name
                )));
            }
            let list = vault.list_policies().await?;
            ok(list.iter().map(policy_json).collect::<Vec<_>>())
        }
        (&Method::GET, ["apiregistrations"]) => {
            require_admin(vault, &user).await?;
            ok(vault.list_registrations().await?.iter().map(registration_json).collect::<Vec<_>>())
        }
        (&Method::GET, ["apiregistrations", rid]) => {
            require_admin(vault, &user).await?;
            ok(registration_json(&vault.registration(&id(rid, "API registration")?.to_string()).await?))
        }
        (&Method::POST, ["apiregistrations"]) => {
            require_admin(vault, &user).await?;
            let body = read_json(req).await?;
            let rules: Vec<IpRule> = match body.get("ipauthenticationrules") {
                None => Vec::new(),
                Some(v) => serde_json::from_value(lower_rules(v.clone())).map_err(|e| {
                    invalid(format!("IPAuthenticationRules must be a list of {{Type, Value}} ({e})"))
                })?,
            };
            let (reg, key) = vault
                .create_registration(NewRegistration {
                    name: body.str("name").ok_or_else(|| invalid("Name is required"))?,
                    ip_rules: rules,
                    token_minutes: body.int("accesstokenduration")?.unwrap_or(60),
                    user_password_required: body.boolean("userpasswordrequired")?.unwrap_or(false),
                })
                .await?;
            if body.boolean("active")? == Some(false) {
                vault.set_registration(&reg.id.to_string(), Some(false), None, None, None).await?;
            }
            let mut v = registration_json(&vault.registration(&reg.id.to_string()).await?);
            v["Key"] = Value::String(key.to_string());
            created(v)
        }
        (&Method::GET, ["apiregistrations", rid, "key"]) => {
            require_admin(vault, &user).await?;
            vault.registration(&id(rid, "API registration")?.to_string()).await?;
            Err(VaultError::Conflict(
                "the vault keeps only a keyed hash of API keys, so a key is shown once, at creation or rotation: POST ApiRegistrations/{id}/Rotate for a new one".into(),
            ))
        }
        (&Method::POST, ["apiregistrations", rid, "rotate"]) => {
            require_admin(vault, &user).await?;
            let key = vault.rotate_registration_key(&id(rid, "API registration")?.to_string()).await?;
            ok(Value::String(key.to_string()))
        }
        (&Method::GET, ["secrets-safe", "folders"]) => {
            let list = vault.list_folders(&user).await?;
            let data: Vec<Value> = list.iter().map(folder_json).collect();
            if wants_v32(&qs) {
                ok(json!({ "TotalCount": data.len(), "Data": data }))
            } else {
                ok(data)
            }
        }
        (&Method::POST, ["secrets-safe", "folders"]) => {
            let body = read_json(req).await?;
            let f = vault
                .create_folder(
                    &user,
                    &body.str("name").ok_or_else(|| invalid("Name is required"))?,
                    body.str("parentid").as_deref(),
                    &body.str("description").unwrap_or_default(),
                )
                .await?;
            created(folder_json(&f))
        }
        (&Method::POST, ["secrets-safe", "folders", _, "secrets", kind @ ..]) => {
            let kind = kind.first().copied();
            create_secret(vault, &user, segs_orig[2], kind, req, wants_v32(&qs)).await
        }
        (&Method::GET, ["secrets-safe", "secrets"]) => {
            let sep = q(&qs, "separator").unwrap_or("/");
            let list = vault.find_secrets(&user, q(&qs, "path"), sep, q(&qs, "title")).await?;
            let v32 = wants_v32(&qs);
            let mut data = Vec::new();
            for s in &list {
                data.push(secret_with_value(vault, &user, s, v32).await?);
            }
            if v32 {
                ok(json!({ "TotalCount": data.len(), "Data": data }))
            } else {
                ok(data)
            }
        }
        (&Method::GET, ["secrets-safe", "secrets", _]) => {
            let s = vault.secret(&user, segs_orig[2]).await?;
            ok(secret_with_value(vault, &user, &s, wants_v32(&qs)).await?)
        }
        (&Method::GET, ["secrets-safe", "secrets", _, "file", "download"]) => {
            let (s, content) = vault.secret_value(&user, segs_orig[2]).await?;
            if s.secret_type != "File" {
                return Err(invalid(format!("secret {} is a {} secret, not a file", s.id, s.secret_type)));
            }
            let name = s.file_name.unwrap_or_else(|| "secret".into()).replace(['"', '\r', '\n'], "_");
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))
                .body(Body::from(content.to_vec()))
                .map_err(|_| invalid("cannot build the download"))
        }
        _ => Err(not_found(format!("{method} {rest} is not an endpoint of this API"))),
    }
}

async fn read_json(req: Request) -> Result<Body2, VaultError> {
    let bytes = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| invalid(format!("the request body is larger than {BODY_LIMIT} bytes")))?;
    Body2::parse(&bytes)
}

async fn require_admin(vault: &Vault, user: &User) -> Result<(), VaultError> {
    if vault.is_admin(user.id).await? {
        Ok(())
    } else {
        Err(forbidden(format!("user {:?} is not an Administrator of the vault", user.name)))
    }
}

fn user_json(u: &User) -> Value {
    json!({
        "UserId": u.id,
        "SID": null,
        "EmailAddress": u.email,
        "UserName": u.name,
        "Name": u.name,
    })
}

/// The runas= of a PS-Auth header, for the audit row of a refused sign-in.
fn runas_of(auth: &str) -> Option<String> {
    crate::psauth::parse(auth).ok().and_then(|a| a.runas)
}

/// Lower-cases the keys of each rule so `type`/`TYPE`/`Type` all read.
fn lower_rules(v: Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(m) => Value::Object(
                        m.into_iter()
                            .map(|(k, v)| {
                                let k = match k.to_ascii_lowercase().as_str() {
                                    "type" => "Type".to_string(),
                                    "value" => "Value".to_string(),
                                    "description" => "Description".to_string(),
                                    _ => k,
                                };
                                (k, v)
                            })
                            .collect(),
                    ),
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}

async fn token(vault: &Vault, ctx: &mut Ctx, body: &[u8]) -> Answer {
    let form: Vec<(String, String)> =
        form_urlencoded::parse(body).map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned())).collect();
    let oauth_error = |status: StatusCode, error: &str, description: &str| -> Answer {
        Ok((status, Json(json!({ "error": error, "error_description": description }))).into_response())
    };
    if q(&form, "grant_type") != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "use grant_type=client_credentials",
        );
    }
    let (Some(id), Some(secret)) = (q(&form, "client_id"), q(&form, "client_secret")) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send client_id and client_secret in the form body",
        );
    };
    ctx.actor = format!("oauth:{id}");
    let secret = Zeroizing::new(secret.to_string());
    match vault.issue_token(id, &secret).await {
        Ok(t) => ok(json!({
            "access_token": t.access_token.as_str(),
            "expires_in": t.expires_in,
            "token_type": "Bearer",
            "scope": "publicapi",
        })),
        Err(VaultError::Unauthorized(m)) => oauth_error(StatusCode::BAD_REQUEST, "invalid_client", &m),
        Err(e) => Err(e),
    }
}

async fn managed_accounts(vault: &Vault, user: &User, qs: &[(String, String)]) -> Answer {
    let accounts = vault.requestable_accounts(user.id).await?;
    let systems = vault.list_systems().await?;
    let sys_of = |id: i64| systems.iter().find(|s| s.id == id);
    let shape = |a: &Account| {
        let s = sys_of(a.system_id);
        account_json(
            a,
            s.map(|s| s.host.as_str()).unwrap_or(""),
            s.map(|s| s.platform.as_str()).unwrap_or(""),
        )
    };
    let system_name = q(qs, "systemname");
    let account_name = q(qs, "accountname");
    if let (Some(sn), Some(an)) = (system_name, account_name) {
        return match accounts.iter().find(|a| {
            a.system_name.to_lowercase() == sn.to_lowercase() && a.name.to_lowercase() == an.to_lowercase()
        }) {
            Some(a) => ok(shape(a)),
            None => Err(not_found(format!("managed account {an:?} on system {sn:?} was not found"))),
        };
    }
    let system_id = q(qs, "systemid")
        .map(|v| v.parse::<i64>().map_err(|_| invalid("systemId must be an integer")))
        .transpose()?;
    let limit = q(qs, "limit")
        .map(|v| v.parse::<usize>().map_err(|_| invalid("limit must be a positive integer")))
        .transpose()?
        .unwrap_or(1000);
    let offset = q(qs, "offset")
        .map(|v| v.parse::<usize>().map_err(|_| invalid("offset must be an integer")))
        .transpose()?
        .unwrap_or(0);
    let workgroup = q(qs, "workgroupname");
    let ip = q(qs, "ipaddress");
    let app = q(qs, "applicationdisplayname");
    let kind = q(qs, "type").map(str::to_ascii_lowercase);
    let list: Vec<Value> = accounts
        .iter()
        .filter(|a| system_name.is_none_or(|sn| a.system_name.eq_ignore_ascii_case(sn)))
        .filter(|a| account_name.is_none_or(|an| a.name.eq_ignore_ascii_case(an)))
        .filter(|a| system_id.is_none_or(|id| a.system_id == id))
        .filter(|a| {
            workgroup.is_none_or(|w| {
                sys_of(a.system_id)
                    .and_then(|s| s.workgroup.as_deref())
                    .is_some_and(|x| x.eq_ignore_ascii_case(w))
            })
        })
        .filter(|a| ip.is_none_or(|ip| sys_of(a.system_id).is_some_and(|s| s.host == ip)))
        .filter(|_| app.is_none())
        .filter(|a| match kind.as_deref() {
            None | Some("system") | Some("recent") => true,
            Some("database") => sys_of(a.system_id).is_some_and(|s| s.platform == "postgresql"),
            Some(_) => false,
        })
        .skip(offset)
        .take(limit)
        .map(shape)
        .collect();
    ok(list)
}

async fn secret_with_value(vault: &Vault, user: &User, s: &Secret, v32: bool) -> Result<Value, VaultError> {
    if s.secret_type == "File" {
        return Ok(secret_json(s, None, v32));
    }
    let (_, value) = vault.secret_value(user, &s.id).await?;
    let text = Zeroizing::new(String::from_utf8_lossy(&value).into_owned());
    Ok(secret_json(s, Some(&text), v32))
}

async fn create_secret(
    vault: &Vault,
    user: &User,
    folder: &str,
    kind: Option<&str>,
    req: Request,
    v32: bool,
) -> Answer {
    match kind {
        None => {
            let body = read_json(req).await?;
            let s = vault
                .create_secret(
                    user,
                    folder,
                    &body.str("title").ok_or_else(|| invalid("Title is required"))?,
                    &body.str("description").unwrap_or_default(),
                    &body.str("notes").unwrap_or_default(),
                    SecretValue::Credential {
                        username: body.str("username").unwrap_or_default(),
                        password: Zeroizing::new(
                            body.str("password").ok_or_else(|| invalid("Password is required"))?,
                        ),
                    },
                )
                .await?;
            created(secret_json(&s, None, v32))
        }
        Some("text") => {
            let body = read_json(req).await?;
            let s = vault
                .create_secret(
                    user,
                    folder,
                    &body.str("title").ok_or_else(|| invalid("Title is required"))?,
                    &body.str("description").unwrap_or_default(),
                    &body.str("notes").unwrap_or_default(),
                    SecretValue::Text(Zeroizing::new(
                        body.str("text").ok_or_else(|| invalid("Text is required"))?,
                    )),
                )
                .await?;
            created(secret_json(&s, None, v32))
        }
        Some("file") => {
            let mut mp = Multipart::from_request(req, &())
                .await
                .map_err(|e| invalid(format!("the body must be multipart/form-data ({e})")))?;
            let mut meta = Body2(Map::new());
            let mut file: Option<(String, Zeroizing<Vec<u8>>)> = None;
            while let Some(field) =
                mp.next_field().await.map_err(|e| invalid(format!("malformed multipart body ({e})")))?
            {
                let name = field.name().unwrap_or("").to_ascii_lowercase();
                let file_name = field.file_name().map(str::to_string);
                let data =
                    field.bytes().await.map_err(|e| invalid(format!("malformed multipart body ({e})")))?;
                if name == "secretmetadata" {
                    meta = Body2::parse(&data)?;
                } else if file_name.is_some() || name == "file" || name == "files" {
                    file = Some((file_name.unwrap_or_else(|| "file".into()), Zeroizing::new(data.to_vec())));
                }
            }
            let (fname, content) = file.ok_or_else(|| invalid("the multipart body has no file part"))?;
            let s = vault
                .create_secret(
                    user,
                    folder,
                    &meta.str("title").unwrap_or_else(|| fname.clone()),
                    &meta.str("description").unwrap_or_default(),
                    &meta.str("notes").unwrap_or_default(),
                    SecretValue::File { name: meta.str("filename").unwrap_or(fname), content },
                )
                .await?;
            created(secret_json(&s, None, v32))
        }
        Some(other) => Err(not_found(format!(
            "Secrets-Safe/Folders/{{id}}/Secrets/{other} is not an endpoint of this API"
        ))),
    }
}
