//! The privileged credential vault: managed systems and accounts, vault users and groups with
//! roles per scope, access policies, API registrations and OAuth clients, release requests with
//! check-in and rotation after use, Secrets Safe folders and secrets, a hash-chained audit log,
//! and an HTTP API that Password Safe v3 clients use unchanged ([`web::router`]).
//!
//! Every secret at rest passes the store's one encryption barrier ([`store::seal::Sealer`]) with
//! an AAD naming the record; keys, client secrets, tokens and session IDs are kept only as keyed
//! hashes ([`crypto`]); user passwords as argon2id. Time comes from an injected [`Clock`].
#![forbid(unsafe_code)]

pub mod admin;
pub mod audit;
mod crypto;
pub mod error;
pub mod ip;
pub mod model;
pub mod psauth;
pub mod requests;
pub mod rotation;
pub mod secrets_safe;
pub mod serve;
pub mod session;
pub mod web;

use std::path::Path;
use std::sync::Arc;

use sqlx::Row;
use store::seal::{MasterKey, Sealer};
use store::Store;
use zeroize::Zeroizing;

pub use error::{Result, VaultError};

/// Seconds since the Unix epoch, from a source the tests can fix.
pub trait Clock: Send + Sync {
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// A clock the tests move by hand.
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn new(now: i64) -> ManualClock {
        ManualClock(std::sync::atomic::AtomicI64::new(now))
    }
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The vault service. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    sealer: Sealer,
    hasher: crypto::Hasher,
    clock: Arc<dyn Clock>,
    rotators: rotate::Registry,
    /// The audit writer's queue, started on first use (it needs the caller's runtime).
    audit: std::sync::OnceLock<audit::Queue>,
    /// This process's rotations take turns per account.
    turns: rotation::Turns,
    /// The audit chain's head as this process last wrote it.
    audit_head: Arc<audit::Head>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("store", &self.inner.store).finish_non_exhaustive()
    }
}

const HASH_KEY_SETTING: &str = "hash_key";

impl Vault {
    /// Opens the vault on a store: unwraps the data key with `master` and loads (or creates) the
    /// key of the keyed hashes.
    pub async fn open(store: Store, master: &MasterKey, clock: Arc<dyn Clock>) -> Result<Vault> {
        Vault::open_with(store, master, clock, rotate::Registry::builtin()).await
    }

    /// [`Vault::open`] with a chosen set of rotators (tests register fakes).
    pub async fn open_with(
        store: Store,
        master: &MasterKey,
        clock: Arc<dyn Clock>,
        rotators: rotate::Registry,
    ) -> Result<Vault> {
        let sealer = Sealer::for_store(&store, master).await?;
        let aad = format!("vault/settings/{HASH_KEY_SETTING}");
        let key = match get_setting(&store, HASH_KEY_SETTING).await? {
            Some(sealed) => sealer.open(aad.as_bytes(), &sealed)?,
            None => {
                let fresh = ::web::token::random_bytes::<32>()?;
                let sealed = sealer.seal(aad.as_bytes(), &fresh[..])?;
                sqlx::query(
                    "INSERT INTO vault_settings (name, value_sealed) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                )
                .bind(HASH_KEY_SETTING)
                .bind(sealed)
                .execute(store.pool())
                .await?;
                // Read back: another process may have stored its key first.
                let sealed = get_setting(&store, HASH_KEY_SETTING).await?.ok_or_else(|| {
                    VaultError::Store(store::StoreError::Database(
                        "the vault's hash key vanished right after it was stored: check the database".into(),
                    ))
                })?;
                sealer.open(aad.as_bytes(), &sealed)?
            }
        };
        let hasher = crypto::Hasher::new(&key);
        Ok(Vault {
            inner: Arc::new(Inner {
                store,
                sealer,
                hasher,
                clock,
                rotators,
                audit: std::sync::OnceLock::new(),
                turns: rotation::Turns::default(),
                audit_head: Arc::default(),
            }),
        })
    }

    /// Opens the vault of a data directory (SQLite there, or `database_url`), with the master key
    /// from `PORTCULLIS_MASTER_KEY` or the directory's key file, on the system clock.
    pub async fn open_data_dir(dir: &Path, database_url: Option<&str>) -> Result<Vault> {
        std::fs::create_dir_all(dir).map_err(|e| {
            error::invalid(format!(
                "cannot create the data directory {} ({e}): check permissions",
                dir.display()
            ))
        })?;
        let store = match database_url {
            Some(url) => Store::open(url).await?,
            None => Store::open_data_dir(dir).await?,
        };
        let master = MasterKey::for_data_dir(dir)?;
        Vault::open(store, &master, Arc::new(SystemClock)).await
    }

    /// The store underneath.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Now, from the injected clock.
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    pub(crate) fn pool(&self) -> &sqlx::AnyPool {
        self.inner.store.pool()
    }

    pub(crate) fn seal(&self, aad: &str, plain: &[u8]) -> Result<Vec<u8>> {
        Ok(self.inner.sealer.seal(aad.as_bytes(), plain)?)
    }

    pub(crate) fn open_sealed(&self, aad: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        Ok(self.inner.sealer.open(aad.as_bytes(), sealed)?)
    }

    pub(crate) fn open_string(&self, aad: &str, sealed: &[u8]) -> Result<Zeroizing<String>> {
        let bytes = self.open_sealed(aad, sealed)?;
        String::from_utf8(bytes.to_vec()).map(Zeroizing::new).map_err(|_| {
            VaultError::Store(store::StoreError::Sealed(format!("{aad} is not UTF-8: the record is damaged")))
        })
    }

    pub(crate) fn hasher(&self) -> &crypto::Hasher {
        &self.inner.hasher
    }

    pub(crate) fn audit_queue(&self) -> &audit::Queue {
        self.inner
            .audit
            .get_or_init(|| audit::start_writer(self.inner.store.clone(), self.inner.audit_head.clone()))
    }

    pub(crate) fn rotators(&self) -> &rotate::Registry {
        &self.inner.rotators
    }

    pub(crate) fn audit_head(&self) -> &audit::Head {
        &self.inner.audit_head
    }

    pub(crate) fn turns(&self) -> &rotation::Turns {
        &self.inner.turns
    }
}

async fn get_setting(store: &Store, name: &str) -> Result<Option<Vec<u8>>> {
    let row = sqlx::query("SELECT value_sealed FROM vault_settings WHERE name = $1")
        .bind(name)
        .fetch_optional(store.pool())
        .await?;
    row.map(|r| Ok(r.try_get::<Vec<u8>, _>("value_sealed")?)).transpose()
}

/// Re-wraps the database's data key under `new` (opened with `old`). Sealed records are not
/// touched (they are sealed with the data key), so running servers keep working: they hold the
/// data key, not the master key. Start them with the new master key from then on.
pub async fn rekey(store: &Store, old: &MasterKey, new: &MasterKey) -> Result<()> {
    use store::seal::{DataKey, DATA_KEY_SETTING};
    let wrapped = store
        .get_setting(DATA_KEY_SETTING)
        .await?
        .ok_or_else(|| error::not_found("this database has no data key yet: there is nothing to re-key"))?;
    let data = DataKey::unwrap_with(&wrapped, old)?;
    let rewrapped = data.wrap(new)?;
    // Prove the new wrapping opens before replacing the old one.
    DataKey::unwrap_with(&rewrapped, new)?;
    store.put_setting(DATA_KEY_SETTING, &rewrapped).await?;
    Ok(())
}
