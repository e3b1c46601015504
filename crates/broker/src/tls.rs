//! The broker's TLS client configuration, for the vault and the console alike: rustls on
//! AWS-LC, TLS 1.2 and 1.3, the system's trusted CAs plus those of an optional PEM file (a vault
//! or console with a certificate from a private CA), HTTP/1.1 over ALPN.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::error::{config, Result};

/// Builds the client configuration. `ca_file` must hold at least one usable certificate; the
/// system store may be empty (a minimal container) as long as `ca_file` is given.
pub fn client_config(ca_file: Option<&Path>, setting: &str) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| {
                config(format!(
                    "{setting} {} cannot be read ({e}): give a PEM file of CA certificates",
                    path.display()
                ))
            })?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| config(format!("{setting} {} is not valid PEM ({e})", path.display())))?;
        if certs.is_empty() {
            return Err(config(format!("{setting} {} holds no CERTIFICATE block", path.display())));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| {
                config(format!("{setting} {} holds a certificate rustls cannot use ({e})", path.display()))
            })?;
        }
    } else if added == 0 {
        tracing::warn!(
            "the system's trusted CA store is empty or unreadable: set {setting} to trust the server's CA"
        );
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut c = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| config(format!("TLS setup failed ({e})")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(c)
}
