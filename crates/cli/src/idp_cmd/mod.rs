//! `portcullis idp …`: the directory and enterprise apps from the command line.
//! Works on the data directory whether or not the server runs (SQLite in WAL
//! mode; the server reads the store on every request).

mod apps;
mod directory;
mod ops;
mod text;

use crate::args::idp::*;
use anyhow::{bail, Context, Result};
use idp::service::Idp;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use zeroize::Zeroizing;

fn read_password() -> Result<Zeroizing<String>> {
    let mut s = Zeroizing::new(String::new());
    std::io::stdin().read_to_string(&mut s).context("reading the password from standard input")?;
    let p = Zeroizing::new(s.trim_end_matches(['\r', '\n']).to_string());
    if p.is_empty() {
        bail!("the password on standard input is empty");
    }
    Ok(p)
}

/// The base URL `up` recorded (so entity IDs match the running server).
pub async fn open(data: &Path, database_url: Option<&str>) -> Result<Idp> {
    let base = crate::init::recorded_base_url(data);
    Ok(Idp::open(data, database_url, &base).await?)
}

pub fn run(data: &Path, database_url: Option<&str>, cmd: IdpCommand) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async move {
        let idp = open(data, database_url).await?;
        let tenant = idp.ensure_default_tenant().await?.id;
        match cmd {
            IdpCommand::User(c) => directory::user(&idp, tenant, c).await,
            IdpCommand::Group(c) => directory::group(&idp, tenant, c).await,
            IdpCommand::App(c) => apps::app(&idp, tenant, c).await,
            IdpCommand::Signins(a) => ops::signins(&idp, tenant, a).await,
            IdpCommand::Notify(a) => ops::notify(&idp, a).await,
            IdpCommand::Outbox(a) => ops::outbox(&idp, a).await,
            IdpCommand::Role(c) => ops::role(&idp, tenant, c).await,
            IdpCommand::Token(c) => ops::token(&idp, tenant, c).await,
        }?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Unix seconds as RFC 3339 (empty when out of range).
fn unix_rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}
