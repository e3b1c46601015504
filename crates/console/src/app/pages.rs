//! The console's pages for representatives (askama templates on the shared layout): sign-in,
//! the jump items their policies allow, an item's credential offers and the pick, their
//! sessions with the access session report and the recording player, and the connected
//! brokers.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use web::page::{render, Layout, Message};

use super::identity::{Representative, CSRF_COOKIE, SESSION_COOKIE};
use super::live::Pending;
use super::representatives::SESSION_SECONDS;
use super::Inner;
use crate::db::{rfc3339, EventKind, NewSession, SessionEvent, SessionRecord};
use crate::ecm::{self, Offer};
use crate::items::{ItemType, JumpItem};
use crate::ConsoleError;

type State_ = State<Arc<Inner>>;

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/console", get(|| async { see_other("/console/") }))
        .route("/console/", get(items))
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/sign-out", get(sign_out))
        .route("/console/items/{id}", get(item))
        .route("/console/items/{id}/sessions", post(pick))
        .route("/console/reports", get(reports))
        .route("/console/reports/{id}", get(report))
        .route("/console/reports/{id}/recording", get(recording))
        .route("/console/status", get(status))
        .with_state(inner)
}

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn layout(title: &str, current: &str, rep: Option<&Representative>) -> Layout {
    let l = Layout::new(title, "Console", "/console/").wide();
    match rep {
        Some(r) => l
            .link("Jump items", "/console/", current == "items")
            .link("Sessions", "/console/reports", current == "reports")
            .link("Status", "/console/status", current == "status")
            .signed_in(r.display_name.clone(), Some("/console/sign-out".into())),
        None => l,
    }
}

fn status_of(e: &ConsoleError) -> StatusCode {
    match e {
        ConsoleError::NotFound { .. } | ConsoleError::UnknownSession { .. } => StatusCode::NOT_FOUND,
        ConsoleError::InvalidInput { .. } | ConsoleError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
        ConsoleError::Forbidden { .. } => StatusCode::FORBIDDEN,
        ConsoleError::Broker(_) => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn error_page(e: &ConsoleError, rep: Option<&Representative>) -> Response {
    let status = status_of(e);
    if status.is_server_error() {
        tracing::error!(code = e.code(), error = %e, "console page failed");
    } else {
        tracing::info!(code = e.code(), error = %e, "console page refused");
    }
    let page = Message::new(layout("Not available", "", rep), "This is not available")
        .paragraph(e.to_string())
        .code(e.code(), None)
        .link("Back to the jump items", "/console/");
    render(status, &page)
}

/// The signed-in representative, or the redirect to the sign-in page.
async fn signed_in(inner: &Inner, headers: &HeaderMap) -> Result<Representative, Response> {
    match inner.representative(headers).await {
        Ok(Some(rep)) => Ok(rep),
        Ok(None) => Err(see_other("/console/sign-in")),
        Err(e) => Err(error_page(&e, None)),
    }
}

/// The jump items `rep`'s policies allow.
async fn allowed_items(inner: &Inner, rep: &Representative) -> Result<Vec<JumpItem>, ConsoleError> {
    inner.db.jump_items_for_policies(&rep.policies).await
}

pub(super) async fn allowed_item(
    inner: &Inner,
    rep: &Representative,
    id: &str,
) -> Result<JumpItem, ConsoleError> {
    allowed_items(inner, rep)
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| ConsoleError::NotFound { what: format!("a jump item {id:?} you may open") })
}

/// What the brokers are told about a jump item.
pub(super) fn ecm_item(item: &JumpItem) -> ecm::JumpItem {
    ecm::JumpItem {
        item_type: match item.item_type {
            ItemType::Ssh => ecm::ItemType::Ssh,
            ItemType::Web => ecm::ItemType::Web,
            ItemType::App => ecm::ItemType::App,
        },
        host: item.host.clone(),
        additional_ips: Vec::new(),
        application: item.application.clone(),
        url: item.url.clone(),
    }
}

// --- sign-in ---

#[derive(Template)]
#[template(path = "console_sign_in.html")]
struct SignInPage {
    layout: Layout,
    csrf: String,
    username: String,
    error: Option<&'static str>,
    /// (provider name, login URL)
    providers: Vec<(String, String)>,
}

async fn sign_in_page(State(inner): State_) -> Response {
    sign_in_form(&inner, String::new(), None, StatusCode::OK).await
}

async fn sign_in_form(
    inner: &Inner,
    username: String,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let csrf = match web::token::random_token() {
        Ok(t) => t,
        Err(e) => return error_page(&ConsoleError::Storage { detail: e.to_string() }, None),
    };
    let mut providers = Vec::new();
    if let (Some(site), Some(db)) = (&inner.site, &inner.sp_db) {
        match db.providers(site.app().id).await {
            Ok(list) => {
                for p in list {
                    let href = format!(
                        "/console/saml/login?provider={}&return=%2Fconsole%2F",
                        percent_encoding::utf8_percent_encode(&p.name, percent_encoding::NON_ALPHANUMERIC)
                    );
                    providers.push((p.name, href));
                }
            }
            Err(e) => tracing::warn!(error = %e, "the console's identity providers cannot be listed"),
        }
    }
    let page =
        SignInPage { layout: layout("Sign in", "", None), csrf: csrf.clone(), username, error, providers };
    let mut r = render(status, &page);
    web::cookies::append(r.headers_mut(), &inner.cookies.strict(CSRF_COOKIE, &csrf, Some(3600)));
    r
}

#[derive(Deserialize)]
struct SignInForm {
    csrf: Option<String>,
    username: String,
    password: String,
}

async fn sign_in(State(inner): State_, headers: HeaderMap, Form(mut f): Form<SignInForm>) -> Response {
    // Wiped when this handler returns, whatever the outcome.
    let password = zeroize::Zeroizing::new(std::mem::take(&mut f.password));
    if !web::csrf::double_submit_ok(web::cookies::read(&headers, CSRF_COOKIE), f.csrf.as_deref()) {
        return sign_in_form(
            &inner,
            f.username,
            Some("the form expired; sign in again"),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let rep = match inner.db.check_representative(&f.username, &password).await {
        Ok(Some(rep)) => rep,
        Ok(None) => {
            tracing::info!(representative = %f.username.trim(), "console sign-in refused");
            return sign_in_form(
                &inner,
                f.username,
                Some("the user name or the password is not right"),
                StatusCode::UNAUTHORIZED,
            )
            .await;
        }
        Err(e) => return error_page(&e, None),
    };
    drop(password);
    let token = match inner.db.start_representative_session(&rep.id).await {
        Ok(t) => t,
        Err(e) => return error_page(&e, None),
    };
    tracing::info!(representative = %rep.username, "console sign-in");
    let mut r = see_other("/console/");
    web::cookies::append(r.headers_mut(), &inner.cookies.lax(SESSION_COOKIE, &token, Some(SESSION_SECONDS)));
    web::cookies::append(r.headers_mut(), &inner.cookies.removal(CSRF_COOKIE));
    r
}

async fn sign_out(State(inner): State_, headers: HeaderMap) -> Response {
    let rep = inner.representative(&headers).await.ok().flatten();
    if let Some(token) = web::cookies::read(&headers, SESSION_COOKIE) {
        if let Err(e) = inner.db.end_representative_session(token).await {
            return error_page(&e, None);
        }
    }
    let to = if rep.as_ref().is_some_and(|r| r.saml) { "/console/saml/logout" } else { "/console/sign-in" };
    let mut r = see_other(to);
    web::cookies::append(r.headers_mut(), &inner.cookies.removal(SESSION_COOKIE));
    r
}

// --- jump items and the pick ---

#[derive(Template)]
#[template(path = "console_items.html")]
struct ItemsPage {
    layout: Layout,
    items: Vec<JumpItem>,
    policies: Vec<String>,
}

async fn items(State(inner): State_, headers: HeaderMap) -> Response {
    let rep = match signed_in(&inner, &headers).await {
        Ok(rep) => rep,
        Err(r) => return r,
    };
    match allowed_items(&inner, &rep).await {
        Ok(items) => render(
            StatusCode::OK,
            &ItemsPage {
                layout: layout("Jump items", "items", Some(&rep)),
                items,
                policies: rep.policies.clone(),
            },
        ),
        Err(e) => error_page(&e, Some(&rep)),
    }
}

#[derive(Template)]
#[template(path = "console_item.html")]
struct ItemPage {
    layout: Layout,
    item: JumpItem,
    offers: Vec<Offer>,
    /// Why no offers could be asked for (no broker, a broker's failure).
    problem: Option<(String, String)>,
    csrf: String,
}

async fn item(State(inner): State_, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let rep = match signed_in(&inner, &headers).await {
        Ok(rep) => rep,
        Err(r) => return r,
    };
    let item = match allowed_item(&inner, &rep, &id).await {
        Ok(item) => item,
        Err(e) => return error_page(&e, Some(&rep)),
    };
    let (offers, problem) =
        match inner.brokers.search(&inner.settings.ecm_group, &rep.console_user(), &ecm_item(&item)).await {
            Ok(offers) => (offers, None),
            Err(e) => {
                tracing::warn!(code = e.code(), error = %e, jump_item = %item.name, "no credential offers");
                (Vec::new(), Some((e.code().to_owned(), e.to_string())))
            }
        };
    let page = ItemPage {
        layout: layout(&item.name, "items", Some(&rep)),
        item,
        offers,
        problem,
        csrf: rep.csrf.clone(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct PickForm {
    csrf: Option<String>,
    credential: String,
}

async fn pick(
    State(inner): State_,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<PickForm>,
) -> Response {
    let rep = match signed_in(&inner, &headers).await {
        Ok(rep) => rep,
        Err(r) => return r,
    };
    if !f.csrf.as_deref().is_some_and(|c| web::token::constant_time_eq(c.as_bytes(), rep.csrf.as_bytes())) {
        let e = ConsoleError::InvalidInput { reason: "the form expired; open the jump item again".into() };
        return error_page(&e, Some(&rep));
    }
    match start(&inner, &rep, &id, &f.credential).await {
        Ok(session) => see_other(&format!("/console/sessions/{session}")),
        Err(e) => error_page(&e, Some(&rep)),
    }
}

/// Starts a session of `rep` on jump item `item_id` with the offered credential `credential`
/// (asked of the brokers again: only an offer of theirs is accepted); the session's ID, waiting
/// for its terminal.
pub(crate) async fn start(
    inner: &Inner,
    rep: &Representative,
    item_id: &str,
    credential: &str,
) -> Result<String, ConsoleError> {
    for old in inner.live.expired() {
        let _ = inner.db.end_session(&old, "the terminal was never opened").await;
    }
    let item = allowed_item(inner, rep, item_id).await?;
    let user = rep.console_user();
    let group = inner.settings.ecm_group.clone();
    let offers = inner.brokers.search(&group, &user, &ecm_item(&item)).await?;
    let offer = offers.into_iter().find(|o| o.id == credential).ok_or_else(|| ConsoleError::NotFound {
        what: "that credential among those offered for this jump item".into(),
    })?;
    let session = inner
        .db
        .start_session(&NewSession { representative: rep.username.clone(), jump_item: item.id.clone() })
        .await?;
    inner
        .db
        .session_event(&session.id, EventKind::CredentialSelected, &format!("picked {}", offer.display_name))
        .await?;
    tracing::info!(session = %session.id, representative = %rep.username, jump_item = %item.name, credential = %offer.display_name, "console session started");
    inner.live.add(
        session.id.clone(),
        Pending {
            owner: rep.owner.clone(),
            user,
            group,
            credential_id: offer.id,
            display_name: offer.display_name,
            item,
            since: std::time::Instant::now(),
        },
    );
    Ok(session.id)
}

// --- sessions and reports ---

/// A session as the pages show it.
struct Row {
    id: String,
    representative: String,
    jump_item: String,
    credential: String,
    approver: String,
    vault_request: String,
    started: String,
    ended: String,
    recorded: bool,
}

fn row(s: &SessionRecord) -> Row {
    Row {
        id: s.id.clone(),
        representative: s.representative.clone(),
        jump_item: s.jump_item_name.clone(),
        credential: s.credential_display_name.clone().unwrap_or_else(|| "—".into()),
        approver: s.approver.clone().unwrap_or_else(|| "—".into()),
        vault_request: s.vault_request_id.map_or_else(|| "—".into(), |r| r.to_string()),
        started: rfc3339(s.started_at),
        ended: s.ended_at.map_or_else(|| "running".into(), rfc3339),
        recorded: s.recording_path.is_some(),
    }
}

#[derive(Template)]
#[template(path = "console_reports.html")]
struct ReportsPage {
    layout: Layout,
    sessions: Vec<Row>,
}

/// The sessions a representative may see: their own.
async fn own_session(inner: &Inner, rep: &Representative, id: &str) -> Result<SessionRecord, ConsoleError> {
    let s = inner.db.session(id).await?;
    if s.representative != rep.username {
        return Err(ConsoleError::UnknownSession { id: id.to_owned() });
    }
    Ok(s)
}

async fn reports(State(inner): State_, headers: HeaderMap) -> Response {
    let rep = match signed_in(&inner, &headers).await {
        Ok(rep) => rep,
        Err(r) => return r,
    };
    match inner.db.sessions(0, i64::MAX, 1000).await {
        Ok(list) => {
            let sessions = list.iter().filter(|s| s.representative == rep.username).map(row).collect();
            render(
                StatusCode::OK,
                &ReportsPage { layout: layout("Sessions", "reports", Some(&rep)), sessions },
            )
        }
        Err(e) => error_page(&e, Some(&rep)),
    }
}

#[derive(Template)]
#[template(path = "console_report.html")]
struct ReportPage {
    layout: Layout,
    session: Row,
    events: Vec<(String, String, String)>,
}

async fn report(State(inner): State_, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let rep = match signed_in(&inner, &headers).await {
        Ok(rep) => rep,
        Err(r) => return r,
    };
    let found = async {
        let s = own_session(&inner, &rep, &id).await?;
        let events = inner.db.session_events(&id).await?;
        Ok::<_, ConsoleError>((s, events))
    };
    match found.await {
        Ok((s, events)) => {
            let events =
                events.into_iter().map(|e: SessionEvent| (rfc3339(e.at), e.code, e.detail)).collect();
            let page = ReportPage {
                layout: layout(&format!("Session on {}", s.jump_item_name), "reports", Some(&rep)),
                session: row(&s),
                events,
            };
            let mut r = render(StatusCode::OK, &page);
            if let Ok(csp) = HeaderValue::from_str(&player_policy()) {
                r.headers_mut().insert(CONTENT_SECURITY_POLICY, csp);
            }
            r
        }
        Err(e) => error_page(&e, Some(&rep)),
    }
}

/// The report page's Content-Security-Policy: the shared one, except that asciinema-player may
/// compile its WebAssembly terminal (`'wasm-unsafe-eval'`: WebAssembly only, not JavaScript
/// `eval`) and set `style` attributes (its cell colours and sizes). Scripts stay `'self'`.
fn player_policy() -> String {
    web::headers::DEFAULT_CSP
        .replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
        .replace("style-src 'self'", "style-src 'self'; style-src-attr 'unsafe-inline'")
}

async fn recording(State(inner): State_, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let rep = match signed_in(&inner, &headers).await {
        Ok(rep) => rep,
        Err(r) => return r,
    };
    let read = async {
        let s = own_session(&inner, &rep, &id).await?;
        let missing = || ConsoleError::NotFound { what: format!("the recording of session {id:?}") };
        let path = s.recording_path.ok_or_else(missing)?;
        tokio::fs::read(&path).await.map_err(|_| missing())
    };
    match read.await {
        Ok(bytes) => {
            let mut r = bytes.into_response();
            r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/x-asciicast"));
            r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => error_page(&e, Some(&rep)),
    }
}

// --- status ---

struct BrokerRow {
    name: String,
    version: String,
    group: String,
    account: String,
    connected: String,
    last_seen: String,
}

#[derive(Template)]
#[template(path = "console_status.html")]
struct StatusPage {
    layout: Layout,
    brokers: Vec<BrokerRow>,
    max: usize,
}

async fn status(State(inner): State_, headers: HeaderMap) -> Response {
    let rep = match signed_in(&inner, &headers).await {
        Ok(rep) => rep,
        Err(r) => return r,
    };
    let brokers = inner
        .registry
        .list()
        .into_iter()
        .map(|b| BrokerRow {
            name: b.name,
            version: b.version,
            group: b.ecm_group,
            account: b.account_name,
            connected: rfc3339(b.connected_at),
            last_seen: rfc3339(b.last_seen),
        })
        .collect();
    render(
        StatusCode::OK,
        &StatusPage { layout: layout("Status", "status", Some(&rep)), brokers, max: ecm::MAX_BROKERS },
    )
}
