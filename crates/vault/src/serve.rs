//! Serving the API over HTTP or HTTPS (rustls, TLS 1.2 and 1.3, AWS-LC crypto), with the peer
//! address available to handlers (IP rules, audit) and a graceful stop.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{invalid, Result};

/// Builds the TLS configuration from PEM files (certificate chain, private key).
pub fn tls_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| {
            invalid(format!("cannot read the certificate {} ({e}): give a PEM file", cert.display()))
        })?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| invalid(format!("the certificate file {} is not valid PEM ({e})", cert.display())))?;
    if certs.is_empty() {
        return Err(invalid(format!("{} holds no CERTIFICATE block", cert.display())));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        invalid(format!("cannot read the private key {} ({e}): give a PEM file", key.display()))
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| invalid(format!("TLS setup failed ({e})")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid(format!("the certificate and key do not form a usable pair ({e})")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Serves `app` on `listener` (HTTPS when `tls` is given) until `shutdown` completes.
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    tls: Option<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    match tls {
        Some(config) => {
            // Handlers mark the session cookie Secure for requests that came over TLS, and the
            // answers get Strict-Transport-Security on top of the router's security headers.
            let make = app
                .layer(axum::Extension(crate::web::OverTls))
                .layer(web::headers::SecurityHeadersLayer::https())
                .into_make_service_with_connect_info::<SocketAddr>();
            let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
            axum_server::from_tcp_rustls(listener, tls).handle(handle).serve(make).await
        }
        None => {
            let make = app.into_make_service_with_connect_info::<SocketAddr>();
            axum_server::from_tcp(listener).handle(handle).serve(make).await
        }
    }
}
