//! `portcullis up`: starts Portcullis on its embedded defaults: SQLite and keys
//! in the data directory, the identity provider (sign-in, SSO, My Apps,
//! federation metadata), a health check and the SAML decoder API. On first run it
//! creates the data directory, the default tenant and a first administrator, whose generated
//! password it prints once — exactly what `portcullis init` does (`crate::init`) without
//! starting the server.

use crate::args::up::UpArgs;
use crate::init::{create_data_dir, first_run, print_first_admin, record_base_url, FirstRun};
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
        let console = open_console(data, &idp, &base, bound).await?;
        let console_router = console.router().context("building the console's routes")?;
        let app = router()
            .merge(idp::web::router(idp.clone()))
            .merge(vault::web::router(vault))
            .merge(console_router.layer(web::headers::SecurityHeadersLayer::for_base_url(&base)));

        println!("Portcullis is running at {base}/");
        println!("  data directory:   {}", data.display());
        println!("  tenant:           {} ({})", tenant.name, tenant.id);
        println!("  sign-in:          {base}/{}/login", tenant.id);
        println!("  My Apps:          {base}/myapps");
        println!("  SAML endpoint:    {base}/{}/saml2", tenant.id);
        println!("  health check:     {base}/healthz");
        println!("  admin API:        {base}/api/v1/ (OpenAPI: {base}/api/v1/openapi.json)");
        println!("  vault API:        {base}{}/", vault::web::BASE);
        println!("  console:          {base}/console/ (brokers connect to {base}/console/api/ecm)");
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

/// The remote-access console on the same database: its tables, its SAML service provider (keys
/// sealed like every other secret), recordings in `DATA/recordings`. It writes the plain-HTTP
/// address it listens on to `DATA/console.url` for `portcullis console connect`.
async fn open_console(
    data: &Path,
    idp: &idp::service::Idp,
    base: &str,
    bound: SocketAddr,
) -> Result<console::app::App> {
    let db = console::ConsoleStore::open(idp.store.clone()).await?;
    let master = store::seal::MasterKey::for_data_dir(data)?;
    let sealer = store::seal::Sealer::for_store(&idp.store, &master).await?;
    let app = console::app::App::new(console::app::AppConfig {
        db,
        sealer: Some(sealer),
        base_url: base.to_owned(),
        recordings_dir: data.join("recordings"),
        clock: std::sync::Arc::new(console::SystemClock),
        ecm: console::ecm::EcmSettings::default(),
        api: console::api::ApiSettings::default(),
        settings: console::app::AppSettings::default(),
    })
    .await
    .context("starting the console")?;
    let local = match bound.ip() {
        ip if ip.is_unspecified() => SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), bound.port()),
        _ => bound,
    };
    let url_file = data.join(crate::console_cmd::SERVER_URL_FILE);
    std::fs::write(&url_file, format!("http://{local}\n"))
        .with_context(|| format!("writing {}", url_file.display()))?;
    Ok(app)
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
