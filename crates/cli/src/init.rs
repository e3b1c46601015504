//! Opening a data directory for the first time, shared by `portcullis init` (which only does
//! that) and `portcullis up` (which does it on every start): the directory, its SQLite database
//! and master key, the recorded base URL, the default tenant and the first Global
//! Administrator, whose generated password is printed once.

use crate::args::up::InitArgs;
use anyhow::{Context, Result};
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

/// `portcullis init`: creates the data directory, its database and master key, the default
/// tenant and the first administrator (printed once), as the first `up` does, and stops.
pub fn run(
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

pub(crate) fn create_data_dir(data: &Path) -> Result<()> {
    std::fs::create_dir_all(data).with_context(|| format!("creating the data directory {}", data.display()))
}

pub(crate) fn record_base_url(data: &Path, base: &str) -> Result<()> {
    std::fs::write(data.join(BASE_URL_FILE), format!("{base}\n"))
        .with_context(|| format!("writing {}", data.join(BASE_URL_FILE).display()))
}

/// What opening a data directory the first time (or any time) makes sure of.
pub(crate) struct FirstRun {
    pub idp: idp::service::Idp,
    pub tenant: store::model::Tenant,
    pub vault: vault::Vault,
    /// The first administrator's generated password, when this run created them.
    pub first_admin: Option<Zeroizing<String>>,
}

/// Opens the data directory's IdP and vault, creating the database, the master key, the
/// default tenant and the first administrator where missing (`init` and every `up`).
pub(crate) async fn first_run(data: &Path, database_url: Option<&str>, base: &str) -> Result<FirstRun> {
    let idp = idp::service::Idp::open(data, database_url, base).await?;
    let tenant = idp.ensure_default_tenant().await?;
    let first_admin = create_first_admin(&idp, tenant.id).await?;
    let master = store::seal::MasterKey::for_data_dir(data)?;
    let vault =
        vault::Vault::open(idp.store.clone(), &master, std::sync::Arc::new(vault::SystemClock)).await?;
    Ok(FirstRun { idp, tenant, vault, first_admin })
}

/// The first administrator's sign-in (when just created) and how to get an API token.
pub(crate) fn print_first_admin(
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
