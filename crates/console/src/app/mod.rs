//! The console application: everything a representative and a broker meet at
//! `{base}/console/`, in one [`App`] whose [`App::router`] the server mounts.
//!
//! - sign-in ([`identity`]): local representative accounts ([`representatives`], a form with
//!   CSRF and a session cookie) or SAML through the console's own SP ([`sp`]);
//! - the credential path ([`live`]): the jump items a representative's policies allow, the
//!   credentials the brokers offer for one (display names only), the pick, then the terminal:
//!   the broker releases the credential, SSH logs in with it, the session is recorded, and when
//!   it ends the broker checks the credential in;
//! - the pages (`pages`): items, an item's offers, sessions and their reports with the
//!   recording player, the connected brokers;
//! - `portcullis console connect` ([`ConnectMessage`]): the same path over a WebSocket authenticated by
//!   a one-time ticket the CLI writes into the console's tables;
//! - the broker channel's glue ([`glue`]): tokens checked against the API accounts, the broker
//!   list kept in `console_brokers`.

pub mod client;
mod connect;
pub mod glue;
pub mod identity;
mod live;
mod pages;
pub mod representatives;
pub mod sp;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use store::seal::Sealer;

pub use connect::ConnectMessage;

use crate::api::ApiSettings;
use crate::ecm::{Brokers, EcmSettings, Registry, DEFAULT_GROUP};
use crate::ssh::SshConnector;
use crate::{Clock, ConsoleError, ConsoleStore};

/// How the console's sessions behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSettings {
    /// The ECM group whose brokers serve the console's sessions.
    pub ecm_group: String,
    /// Whether recordings hold what representatives type too (they may type a sudo password).
    pub record_input: bool,
}

impl Default for AppSettings {
    fn default() -> AppSettings {
        AppSettings { ecm_group: DEFAULT_GROUP.to_owned(), record_input: false }
    }
}

/// What the console application is built from.
pub struct AppConfig {
    pub db: ConsoleStore,
    /// Opens the console SP's sealed keys; `None` serves local sign-in only.
    pub sealer: Option<Sealer>,
    /// The service's public base URL (`https://host`); the console is `{base_url}/console`.
    pub base_url: String,
    /// Where recordings are written (created, owner-only).
    pub recordings_dir: PathBuf,
    pub clock: Arc<dyn Clock>,
    pub ecm: EcmSettings,
    pub api: ApiSettings,
    pub settings: AppSettings,
}

/// The state every route shares.
pub(crate) struct Inner {
    db: ConsoleStore,
    site: Option<Arc<::sp::web::Site>>,
    /// The SP's tables (the sign-in page lists the console SP's providers).
    sp_db: Option<::sp::db::SpDb>,
    registry: Registry,
    brokers: Brokers,
    connector: SshConnector,
    recordings: PathBuf,
    clock: Arc<dyn Clock>,
    settings: AppSettings,
    base_url: String,
    cookies: web::cookies::CookiePolicy,
    live: live::Live,
}

/// The console application.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
    auth: Arc<glue::StoreAuth>,
    api: ApiSettings,
}

impl App {
    /// Builds the application: clears this node's stale broker rows, opens (or creates) the
    /// console's SP application when a sealer is given, creates the recordings directory.
    pub async fn new(config: AppConfig) -> Result<App, ConsoleError> {
        let AppConfig { db, sealer, base_url, recordings_dir, clock, ecm, api, settings } = config;
        let base_url = base_url.trim_end_matches('/').to_owned();
        let presence = Arc::new(glue::StorePresence::new(db.clone(), glue::hostname()));
        presence.clear_stale().await?;
        let registry = Registry::new(ecm, presence, clock.clone());
        create_private_dir(&recordings_dir)?;
        let (site, sp_db) = match &sealer {
            Some(sealer) => {
                let spdb = ::sp::db::SpDb::open(db.store().clone()).await?;
                let app = sp::console_sp_app(&spdb, sealer, &base_url).await?;
                let site = ::sp::web::Site::load(
                    spdb.clone(),
                    app.id,
                    Some(sealer),
                    Arc::new(saml::SystemClock),
                    Vec::new(),
                )
                .await
                .map_err(sp::sp_failed)?;
                (Some(Arc::new(site)), Some(spdb))
            }
            None => (None, None),
        };
        let inner = Inner {
            connector: SshConnector::new(Arc::new(db.clone())),
            brokers: registry.brokers(),
            registry,
            site,
            sp_db,
            recordings: recordings_dir,
            clock,
            settings,
            cookies: web::cookies::CookiePolicy::for_base_url(&base_url),
            base_url,
            db: db.clone(),
            live: live::Live::default(),
        };
        Ok(App { inner: Arc::new(inner), auth: Arc::new(glue::StoreAuth::new(db)), api })
    }

    /// The connected brokers' registry.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The console's SP site, when SAML sign-in is configured.
    pub fn site(&self) -> Option<&Arc<::sp::web::Site>> {
        self.inner.site.as_ref()
    }

    /// Every route of the console: the broker channel, `/oauth2/token` and the APIs, the
    /// terminal, the pages and the SP's `/console/saml/…` — without `web::page::assets()` (the
    /// IdP's router serves those) and without security headers (the host adds its
    /// `SecurityHeadersLayer`).
    pub fn router(&self) -> Result<Router, ConsoleError> {
        let console_url = sp::console_url(&self.inner.base_url);
        let sessions = Arc::new(live::AppSessions(self.inner.clone()));
        let mut router = Router::new()
            .merge(crate::ecm::router(self.inner.registry.clone(), self.auth.clone()))
            .merge(crate::api::router(self.inner.db.clone(), self.api)?)
            .merge(crate::web::router(sessions, &console_url)?)
            .merge(pages::router(self.inner.clone()))
            .merge(connect::router(self.inner.clone()));
        if let Some(site) = &self.inner.site {
            // The SP's routes are `/saml/…`: under `/console` they do not meet the console's own.
            router = router.nest("/console", ::sp::web::saml_router(site.clone()));
        }
        Ok(router)
    }
}

fn create_private_dir(dir: &std::path::Path) -> Result<(), ConsoleError> {
    let failed = |e: std::io::Error| ConsoleError::RecordingWrite {
        detail: format!("cannot create the recordings directory {}: {e}", dir.display()),
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(failed)?;
    }
    Ok(())
}
