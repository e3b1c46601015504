//! `portcullis vault connect-sra`, `rekey` and `serve`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use super::{audit_cli, read_stdin};
use crate::args::vault::*;
use anyhow::{bail, Context, Result};
use vault::admin::{SraKey, SraSettings};
use vault::Vault;

/// `vault connect-sra`: connects (or re-connects, keeping the API key unless --rotate-key), or
/// with --show prints the stored settings.
pub(super) async fn connect_sra(v: &Vault, a: ConnectSraArgs) -> Result<ExitCode> {
    if a.show {
        let Some(s) = v.sra_settings().await? else {
            bail!("Secure Remote Access is not connected yet: run `vault connect-sra --host … --port … --client-id … --client-secret-stdin --release-minutes …`");
        };
        println!("Console:           {}:{}", s.console_host, s.console_port);
        println!("OAuth client ID:   {} (its secret is stored sealed)", s.console_client_id);
        println!("Release duration:  {} minutes", s.release_minutes);
        println!("Access policy:     {}", s.policy);
        println!(
            "API registration:  {} (ID {}, {}; its key is stored sealed for the broker)",
            s.registration,
            s.registration_id,
            if s.registration_active { "active" } else { "inactive" }
        );
        println!(
            "Requesters group:  {} ({})",
            s.requesters_group,
            if s.requesters.is_empty() { "no members".to_string() } else { s.requesters.join(", ") }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(host), Some(port), Some(client_id), Some(release_minutes)) =
        (a.host, a.port, a.client_id, a.release_minutes)
    else {
        bail!("pass --host, --port, --client-id and --release-minutes (or --show)");
    };
    let client_secret = if a.client_secret_stdin { Some(read_stdin("OAuth client secret")?) } else { None };
    let outcome = v
        .connect_sra(SraSettings {
            host: host.clone(),
            port,
            client_id,
            client_secret,
            release_minutes,
            rotate_key: a.rotate_key,
        })
        .await?;
    let what = match &outcome {
        SraKey::Created(_) => "key created",
        SraKey::Replaced(_) => "key replaced",
        SraKey::Kept => "key kept",
    };
    audit_cli(v, "vault.connect-sra", None, &format!("console {host}:{port}; {what}")).await?;
    println!("Access policy:     {}", vault::admin::SRA_POLICY);
    println!("API registration:  {}", vault::admin::SRA_REGISTRATION);
    println!("Requesters group:  {}", vault::admin::SRA_GROUP);
    match outcome {
        SraKey::Created(key) => {
            println!("Broker configuration stored (sealed); the API key (shown once):");
            println!("{}", key.as_str());
        }
        SraKey::Replaced(key) => {
            println!(
                "Broker configuration stored (sealed). The API key was REPLACED (--rotate-key): the old key"
            );
            println!("no longer signs in; give the broker the new one (shown once):");
            println!("{}", key.as_str());
        }
        SraKey::Kept => {
            println!(
                "Broker configuration updated (sealed). The API key was kept: the broker keeps signing in"
            );
            println!("with it (pass --rotate-key to replace it).");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn rekey(data: &Path, database_url: Option<&str>) -> Result<ExitCode> {
    use store::seal::{MasterKey, MASTER_KEY_ENV, MASTER_KEY_FILE};
    let store = match database_url {
        Some(url) => store::Store::open(url).await?,
        None => store::Store::open_data_dir(data).await?,
    };
    let old = MasterKey::for_data_dir(data)?;
    let text = read_stdin("new master key")?;
    let new = MasterKey::from_base64(text.trim())?;
    vault::rekey(&store, &old, &new).await?;
    if std::env::var_os(MASTER_KEY_ENV).is_some() {
        println!("data key re-wrapped; set {MASTER_KEY_ENV} to the new key before the next start");
    } else {
        let path = data.join(MASTER_KEY_FILE);
        let tmp = data.join(format!("{MASTER_KEY_FILE}.new"));
        {
            use std::io::Write;
            #[cfg(unix)]
            use std::os::unix::fs::OpenOptionsExt;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            opts.mode(0o600);
            let mut f = opts.open(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
            f.write_all(format!("{}\n", text.trim()).as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))?;
        println!("data key re-wrapped; {} now holds the new master key", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn serve(v: Vault, a: ServeArgs) -> Result<ExitCode> {
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(c), Some(k)) => Some(vault::serve::tls_config(c, k)?),
        _ => None,
    };
    let listener = std::net::TcpListener::bind(a.listen).with_context(|| {
        format!("cannot listen on {}: is another process using it? Pass --listen ADDR:PORT", a.listen)
    })?;
    let bound = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("Password Safe API: {scheme}://{bound}{}/", vault::web::BASE);
    let worker = tokio::spawn(v.clone().run_rotation_worker(Duration::from_secs(15)));
    let app = vault::web::router(v);
    tracing::info!(listen = %bound, tls = tls.is_some(), "vault API started");
    vault::serve::serve(listener, app, tls, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the vault API server failed")?;
    worker.abort();
    Ok(ExitCode::SUCCESS)
}
