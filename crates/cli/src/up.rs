//! `portcullis up`: starts what exists of Portcullis on its embedded defaults.
//!
//! Today that is the HTTP server with a health check and the SAML message
//! decoder as an API; the identity provider, the SP toolkit and the vault mount
//! here as they land (see README.md).

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
    /// Address to listen on.
    #[arg(long, env = "PORTCULLIS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Public base URL (default: http://LISTEN).
    #[arg(long, env = "PORTCULLIS_BASE_URL")]
    base_url: Option<String>,
}

pub fn run(data: &Path, args: UpArgs) -> Result<ExitCode> {
    std::fs::create_dir_all(data)
        .with_context(|| format!("creating the data directory {}", data.display()))?;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| {
            format!("cannot listen on {}: is another process using it? Pass --listen ADDR:PORT", args.listen)
        })?;
        // With port 0 the system picks the port; report the real one.
        let bound = listener.local_addr().context("reading the bound address")?;
        let base = args.base_url.clone().unwrap_or_else(|| format!("http://{bound}"));
        let base = base.trim_end_matches('/').to_string();
        let app = router();
        println!("Portcullis is running at {base}/");
        println!("  data directory:     {}", data.display());
        println!("  health check:       {base}/healthz");
        println!("  SAML decoder (API): POST {base}/api/saml/decode  (body: a SAML message in any encoding)");
        println!("Press Ctrl-C to stop.");
        tracing::info!(listen = %bound, base_url = %base, "server started");
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("HTTP server failed")?;
        tracing::info!("server stopped");
        Ok(ExitCode::SUCCESS)
    })
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
