//! `portcullis up`: starts Portcullis on its embedded defaults: SQLite and keys
//! in the data directory, the identity provider (sign-in, SSO, My Apps,
//! federation metadata), a health check and the SAML decoder API. On first run it
//! creates the default tenant and a first administrator, whose generated
//! password it prints once.

use crate::{input, summary};
use anyhow::{Context, Result};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Args;
use saml::xml::{self, Limits};
use serde_json::json;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct UpArgs {
    /// Address to listen on. [default: 127.0.0.1:8080]
    #[arg(long, env = "PORTCULLIS_LISTEN")]
    listen: Option<SocketAddr>,
    /// Public base URL (default: http://LISTEN).
    #[arg(long, env = "PORTCULLIS_BASE_URL")]
    base_url: Option<String>,
}

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
    std::fs::create_dir_all(data)
        .with_context(|| format!("creating the data directory {}", data.display()))?;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| {
            format!("cannot listen on {listen}: is another process using it? Pass --listen ADDR:PORT")
        })?;
        // With port 0 the system picks the port; report the real one.
        let bound = listener.local_addr().context("reading the bound address")?;
        let base = base_url.clone().unwrap_or_else(|| format!("http://{bound}"));
        let base = base.trim_end_matches('/').to_string();
        std::fs::write(data.join(BASE_URL_FILE), format!("{base}\n"))
            .with_context(|| format!("writing {}", data.join(BASE_URL_FILE).display()))?;

        let idp = idp::service::Idp::open(data, database_url, &base).await?;
        let tenant = idp.ensure_default_tenant().await?;
        let first_admin = create_first_admin(&idp, tenant.id).await?;
        let master = store::seal::MasterKey::for_data_dir(data)?;
        let vault =
            vault::Vault::open(idp.store.clone(), &master, std::sync::Arc::new(vault::SystemClock)).await?;
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
        if let Some(password) = first_admin {
            println!("First administrator, a Global Administrator (shown once; change it after signing in):");
            println!("  user name:        {FIRST_ADMIN}");
            println!("  password:         {}", password.as_str());
        }
        println!(
            "Admin API token:    portcullis --data {} idp token create --user {FIRST_ADMIN}",
            data.display()
        );
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
) -> Result<Option<zeroize::Zeroizing<String>>> {
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
    let password = zeroize::Zeroizing::new(generate_password());
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

async fn home() -> Html<&'static str> {
    Html(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Portcullis</title></head>\
<body><h1>Portcullis</h1><p>Self-hosted single sign-on and privileged access.</p>\
<ul><li><code>GET /healthz</code> health check</li>\
<li><code>POST /api/saml/decode</code> decode a SAML message (XML, base64, redirect URL)</li></ul></body></html>",
    )
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
