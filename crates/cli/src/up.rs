//! `portcullis up`: starts Portcullis on its embedded defaults: SQLite and keys
//! in the data directory, the identity provider (sign-in, SSO, My Apps,
//! federation metadata), a health check and the SAML decoder API. On first run it
//! creates the data directory, the default tenant and a first administrator, whose generated
//! password it prints once — exactly what `portcullis init` does without starting the server.

use crate::args::up::{InitArgs, UpArgs};
use crate::{input, summary};
use anyhow::{Context, Result};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use saml::xml::{self, Limits};
use serde_json::json;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use zeroize::Zeroizing;

/// The file in the data directory that records the public base URL, so that the
/// CLI writes the same entity IDs and URLs as the running server.
const BASE_URL_FILE: &str = "base-url";

/// The base URL `up` last ran with (default `http://127.0.0.1:8080`).
pub fn recorded_base_url(data: &Path) -> String {
    std::fs::read_to_string(data.join(BASE_URL_FILE))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "http://127.0.0.1:8080".into())
}

/// The UPN of the first administrator `up` creates.
const FIRST_ADMIN: &str = "admin@portcullis.local";

pub fn run(
    data: &Path,
    database_url: Option<&str>,
    args: UpArgs,
    config: &crate::config::Config,
) -> Result<ExitCode> {
    let file = &config.up;
    let sender = config.smtp()?.map(|c| crate::mail::Sender::new(&c)).transpose()?;
    let listen: SocketAddr = match (args.listen, &file.listen) {
        (Some(l), _) => l,
        (None, Some(l)) => {
            l.parse().with_context(|| format!("listen = {l:?} in the configuration file is not ADDR:PORT"))?
        }
        (None, None) => SocketAddr::from(([127, 0, 0, 1], 8080)),
    };
    let base_url = args.base_url.clone().or_else(|| file.base_url.clone());
    create_data_dir(data)?;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| {
            format!("cannot listen on {listen}: is another process using it? Pass --listen ADDR:PORT")
        })?;
        // With port 0 the system picks the port; report the real one.
        let bound = listener.local_addr().context("reading the bound address")?;
        let base = base_url.clone().unwrap_or_else(|| format!("http://{bound}"));
        let base = base.trim_end_matches('/').to_string();
        record_base_url(data, &base)?;

        let FirstRun { idp, tenant, vault, first_admin } = first_run(data, database_url, &base).await?;
        tokio::spawn(vault.clone().run_rotation_worker(std::time::Duration::from_secs(15)));
        // The IdP's hourly upkeep (certificate-expiry notices, expired sessions, old throttle
        // entries), and delivery of the outbox when SMTP is configured.
        let upkeep = idp.clone();
        tokio::spawn(async move {
            loop {
                upkeep.hourly_maintenance(time::OffsetDateTime::now_utc()).await;
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            }
        });
        if let Some(sender) = sender {
            tokio::spawn(crate::mail::run_delivery(idp.store.clone(), sender));
        }
        let app = router().merge(idp::web::router(idp.clone())).merge(vault::web::router(vault));

        println!("Portcullis is running at {base}/");
        println!("  data directory:   {}", data.display());
        println!("  tenant:           {} ({})", tenant.name, tenant.id);
        println!("  sign-in:          {base}/{}/login", tenant.id);
        println!("  My Apps:          {base}/myapps");
        println!("  SAML endpoint:    {base}/{}/saml2", tenant.id);
        println!("  health check:     {base}/healthz");
        println!("  admin API:        {base}/api/v1/ (OpenAPI: {base}/api/v1/openapi.json)");
        println!("  vault API:        {base}{}/", vault::web::BASE);
        print_first_admin(data, &idp, tenant.id, first_admin.as_ref());
        println!("Press Ctrl-C to stop.");
        tracing::info!(listen = %bound, base_url = %base, tenant = %tenant.id, "server started");
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("HTTP server failed")?;
        // Sign-in records are written a few milliseconds after their response: write the last ones.
        idp.flush_sign_ins().await;
        tracing::info!("server stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// `portcullis init`: creates the data directory, its database and master key, the default
/// tenant and the first administrator (printed once), as the first `up` does, and stops.
pub fn init(
    data: &Path,
    database_url: Option<&str>,
    args: InitArgs,
    config: &crate::config::Config,
) -> Result<ExitCode> {
    if crate::data_dir::is_initialised(data) {
        anyhow::bail!(
            "{} already holds a Portcullis data directory: start it with `portcullis up --data {}`",
            data.display(),
            data.display()
        );
    }
    create_data_dir(data)?;
    let base = match args.base_url.or_else(|| config.up.base_url.clone()) {
        Some(b) => b.trim().trim_end_matches('/').to_string(),
        None => recorded_base_url(data),
    };
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        anyhow::bail!("--base-url {base:?} is not an http:// or https:// URL");
    }
    record_base_url(data, &base)?;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async move {
        let FirstRun { idp, tenant, first_admin, .. } = first_run(data, database_url, &base).await?;
        println!("Portcullis data directory created: {}", data.display());
        println!("  tenant:           {} ({})", tenant.name, tenant.id);
        println!("  sign-in:          {base}/{}/login", tenant.id);
        print_first_admin(data, &idp, tenant.id, first_admin.as_ref());
        println!("Start it with:      portcullis up --data {}", data.display());
        tracing::info!(data = %data.display(), tenant = %tenant.id, "data directory initialised");
        Ok(ExitCode::SUCCESS)
    })
}

fn create_data_dir(data: &Path) -> Result<()> {
    std::fs::create_dir_all(data).with_context(|| format!("creating the data directory {}", data.display()))
}

fn record_base_url(data: &Path, base: &str) -> Result<()> {
    std::fs::write(data.join(BASE_URL_FILE), format!("{base}\n"))
        .with_context(|| format!("writing {}", data.join(BASE_URL_FILE).display()))
}

/// What opening a data directory the first time (or any time) makes sure of.
struct FirstRun {
    idp: idp::service::Idp,
    tenant: store::model::Tenant,
    vault: vault::Vault,
    /// The first administrator's generated password, when this run created them.
    first_admin: Option<Zeroizing<String>>,
}

/// Opens the data directory's IdP and vault, creating the database, the master key, the
/// default tenant and the first administrator where missing (`init` and every `up`).
async fn first_run(data: &Path, database_url: Option<&str>, base: &str) -> Result<FirstRun> {
    let idp = idp::service::Idp::open(data, database_url, base).await?;
    let tenant = idp.ensure_default_tenant().await?;
    let first_admin = create_first_admin(&idp, tenant.id).await?;
    let master = store::seal::MasterKey::for_data_dir(data)?;
    let vault =
        vault::Vault::open(idp.store.clone(), &master, std::sync::Arc::new(vault::SystemClock)).await?;
    Ok(FirstRun { idp, tenant, vault, first_admin })
}

/// The first administrator's sign-in (when just created) and how to get an API token.
fn print_first_admin(
    data: &Path,
    idp: &idp::service::Idp,
    tenant: uuid::Uuid,
    password: Option<&Zeroizing<String>>,
) {
    if let Some(password) = password {
        let account = idp.endpoints(tenant).account_url();
        println!("First administrator, a Global Administrator (the password is shown once):");
        println!("  user name:        {FIRST_ADMIN}");
        println!("  password:         {}", password.as_str());
        println!("  change it at:     {account} (after signing in)");
    }
    println!(
        "Admin API token:    portcullis --data {} idp token create --user {FIRST_ADMIN}",
        data.display()
    );
}

/// Ctrl-C or SIGTERM (what service managers and container runtimes send to stop a process).
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Creates the first Global Administrator when the tenant has no user yet;
/// returns the generated password (to print once).
async fn create_first_admin(
    idp: &idp::service::Idp,
    tenant: uuid::Uuid,
) -> Result<Option<Zeroizing<String>>> {
    let has_global = idp
        .role_assignments(tenant)
        .await?
        .iter()
        .any(|(_, r)| *r == idp::roles::DirectoryRole::GlobalAdministrator);
    if has_global {
        return Ok(None);
    }
    // Nobody administers the directory (a new one, or one filled by the CLI before the
    // first `up`): make sure the first administrator exists and holds the role.
    if idp.store.find_user_by_upn(tenant, FIRST_ADMIN).await?.is_some() {
        idp.grant_role(tenant, FIRST_ADMIN, idp::roles::DirectoryRole::GlobalAdministrator).await?;
        return Ok(None);
    }
    let password = Zeroizing::new(generate_password());
    let new = idp::directory::NewUser {
        upn: FIRST_ADMIN.into(),
        given_name: Some("Portcullis".into()),
        surname: Some("Administrator".into()),
        display_name: Some("Global Administrator".into()),
        ..Default::default()
    };
    let admin = idp.create_user(tenant, new, Some(password.clone())).await?;
    idp.grant_role(tenant, &admin.id.to_string(), idp::roles::DirectoryRole::GlobalAdministrator).await?;
    Ok(Some(password))
}

/// 20 characters from an alphabet without look-alikes (about 116 bits), drawn
/// without modulo bias (bytes at or above the largest multiple of the alphabet
/// size are discarded).
fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let limit = 256 - 256 % ALPHABET.len();
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator failed");
        for b in bytes.iter().map(|b| *b as usize).filter(|b| *b < limit) {
            if out.len() < 20 {
                out.push(ALPHABET[b % ALPHABET.len()] as char);
            }
        }
    }
    out
}

fn router() -> Router {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/saml/decode", post(decode))
}

/// The server's front page: where to go from here.
#[derive(askama::Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: web::page::Layout,
    my_apps: &'static str,
}

async fn home() -> Response {
    let layout = web::page::Layout::new("Portcullis", "", "/");
    web::page::render(StatusCode::OK, &HomePage { layout, my_apps: "/myapps" })
}

/// Decodes a pasted SAML message; answers the same summary as `saml decode --json`.
async fn decode(body: String) -> impl IntoResponse {
    let result = input::decode(&body).and_then(|msg| {
        let doc = xml::parse(&msg.xml, &Limits::MESSAGE)?;
        let mut s = summary::summarize(&doc);
        s["encoding"] = json!(msg.encoding.describe());
        s["relay_state"] = json!(msg.relay_state);
        s["xml"] = json!(xml::pretty(doc.root()));
        Ok(s)
    });
    match result {
        Ok(s) => (StatusCode::OK, Json(s)),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": format!("{e:#}")}))),
    }
}
