//! The IdP as one value: the store, the sealer for secrets at rest, the public
//! base URL and the clock. The CLI and the HTTP server both use it,
//! on the same data directory, so the server sees CLI changes at once: what it
//! caches is keyed on the store's change counter, read on every request (see
//! [`crate::cache`]).

use crate::endpoints::TenantEndpoints;
use crate::error::{IdpError, Result};
use saml::clock::{Clock, SystemClock};
use std::path::Path;
use std::sync::Arc;
use store::model::Tenant;
use store::seal::{MasterKey, Sealer};
use store::Store;
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

/// A small shared map from an ID to an unsealed value.
pub(crate) type Cache<T> = Arc<std::sync::Mutex<std::collections::HashMap<Uuid, Arc<T>>>>;

/// The identity provider.
#[derive(Clone)]
pub struct Idp {
    pub store: Store,
    pub(crate) sealer: Sealer,
    /// Unsealed signing keys by certificate ID: unsealing and parsing an RSA key
    /// costs more than signing with it. Entries for replaced certificates are
    /// never used again (lookups go through the store's active certificate).
    pub(crate) signing_keys: Cache<SigningMaterial>,
    /// Unsealed tenant secrets.
    pub(crate) tenant_secrets: Cache<Zeroizing<Vec<u8>>>,
    /// Tenants known to exist (a tenant is never deleted).
    pub(crate) known_tenants: Arc<std::sync::RwLock<std::collections::HashSet<Uuid>>>,
    /// The SSO path's reads, per generation of the change counter.
    pub(crate) directory_cache: Arc<crate::cache::DirectoryCache>,
    /// Group commit of the sign-in log.
    pub(crate) sign_in_writer: Arc<crate::signin_log::SignInWriter>,
    /// Every reading of the time (sessions, lockout, TOTP, request ages, certificates, logs).
    clock: Arc<dyn Clock>,
    base_url: String,
}

impl std::fmt::Debug for Idp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idp").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

/// The display name of the tenant `up` creates.
pub const DEFAULT_TENANT_NAME: &str = "Default Directory";

impl Idp {
    /// Opens the IdP on a data directory: SQLite in it unless `database_url`
    /// names another database (PostgreSQL for scale-out); the master key comes
    /// from the directory (or `PORTCULLIS_MASTER_KEY`) either way.
    pub async fn open(dir: &Path, database_url: Option<&str>, base_url: &str) -> Result<Idp> {
        std::fs::create_dir_all(dir).map_err(|e| {
            IdpError::Invalid(format!("cannot create the data directory {}: {e}", dir.display()))
        })?;
        let store = match database_url {
            Some(url) => Store::open(url).await?,
            None => Store::open_data_dir(dir).await?,
        };
        let master = MasterKey::for_data_dir(dir)?;
        Self::new(store, &master, base_url).await
    }

    /// Opens the IdP on a data directory (SQLite, master key file).
    pub async fn open_data_dir(dir: &Path, base_url: &str) -> Result<Idp> {
        Self::open(dir, None, base_url).await
    }

    /// Opens the IdP on any store, on the system clock.
    pub async fn new(store: Store, master: &MasterKey, base_url: &str) -> Result<Idp> {
        let sealer = Sealer::for_store(&store, master).await?;
        Ok(Idp {
            store,
            sealer,
            signing_keys: Arc::default(),
            tenant_secrets: Arc::default(),
            known_tenants: Arc::default(),
            directory_cache: Arc::default(),
            sign_in_writer: Arc::default(),
            clock: Arc::new(SystemClock),
            base_url: base_url.trim_end_matches('/').into(),
        })
    }

    /// The same IdP reading the time from `clock` (a fixed clock in tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Idp {
        self.clock = clock;
        self
    }

    /// The current instant, from the IdP's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The current instant as Unix seconds (what the store keeps).
    pub fn unix_now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn endpoints(&self, tenant: Uuid) -> TenantEndpoints {
        TenantEndpoints::new(&self.base_url, tenant)
    }

    /// The default tenant, created when the directory is empty.
    pub async fn ensure_default_tenant(&self) -> Result<Tenant> {
        if let Some(t) = self.store.default_tenant().await? {
            return Ok(t);
        }
        let t = Tenant { id: Uuid::new_v4(), name: DEFAULT_TENANT_NAME.into(), created_at: self.unix_now() };
        self.store.create_tenant(&t).await?;
        // Another process may have created one at the same moment; the first wins.
        Ok(self.store.default_tenant().await?.unwrap_or(t))
    }

    /// Whether `tenant` exists (remembered once seen: tenants are never deleted).
    pub async fn has_tenant(&self, tenant: Uuid) -> Result<bool> {
        if self.known_tenants.read().unwrap_or_else(|e| e.into_inner()).contains(&tenant) {
            return Ok(true);
        }
        let found = self.store.get_tenant(tenant).await?.is_some();
        if found {
            self.known_tenants.write().unwrap_or_else(|e| e.into_inner()).insert(tenant);
        }
        Ok(found)
    }

    /// The default tenant; an error that says to run `up` when there is none.
    pub async fn default_tenant(&self) -> Result<Tenant> {
        self.store.default_tenant().await?.ok_or_else(|| {
            IdpError::Invalid(
                "the data directory has no tenant yet: run `portcullis up` once to create it".into(),
            )
        })
    }

    /// The tenant's secret (for persistent NameIDs), created on first use and
    /// kept sealed.
    pub async fn tenant_secret(&self, tenant: Uuid) -> Result<Arc<Zeroizing<Vec<u8>>>> {
        if let Some(s) = self.tenant_secrets.lock().unwrap_or_else(|e| e.into_inner()).get(&tenant) {
            return Ok(s.clone());
        }
        let secret = Arc::new(self.load_tenant_secret(tenant).await?);
        self.tenant_secrets.lock().unwrap_or_else(|e| e.into_inner()).insert(tenant, secret.clone());
        Ok(secret)
    }

    async fn load_tenant_secret(&self, tenant: Uuid) -> Result<Zeroizing<Vec<u8>>> {
        let key = format!("tenant-secret/{tenant}");
        let aad = key.as_bytes();
        if let Some(sealed) = self.store.get_setting(&key).await? {
            return Ok(self.sealer.open(aad, &sealed)?);
        }
        let fresh = web::token::random_bytes::<32>()?;
        self.store.put_setting_if_absent(&key, &self.sealer.seal(aad, &fresh[..])?).await?;
        let sealed =
            self.store.get_setting(&key).await?.ok_or_else(|| IdpError::Internal("tenant secret".into()))?;
        Ok(self.sealer.open(aad, &sealed)?)
    }
}

/// An app's active signing key and its certificate.
pub struct SigningMaterial {
    pub key: saml::crypto::SigningKey,
    pub cert: saml::crypto::Certificate,
}
