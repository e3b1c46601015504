//! Secrets at rest: one encryption barrier for every secret column.
//!
//! Key hierarchy:
//! - the **master key** (32 bytes) comes from `PORTCULLIS_MASTER_KEY` (base64) or from the key
//!   file `DIR/master.key` (base64, created mode 0600 with random bytes if missing). It never
//!   touches the database.
//! - the **data key** (32 random bytes) seals the records. It is stored in the settings table
//!   (`data_key`) wrapped (AES-256-GCM) under the master key, so re-keying the master key only
//!   re-wraps one value.
//!
//! Sealed format (version 1): `0x01 ‖ nonce (12 bytes, random per seal) ‖ AES-256-GCM
//! ciphertext ‖ tag (16 bytes)`. The associated data is the version byte followed by the
//! caller's AAD, which names the record (for example `user/<id>/totp`), so that a sealed value
//! copied into another record does not open. Random 96-bit nonces are safe for far more seals
//! than a directory makes under one key (NIST's bound is 2^32).

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use base64::Engine as _;
use zeroize::{Zeroize, Zeroizing};

use crate::{Result, Store, StoreError};

/// The environment variable that carries the master key (standard base64 of 32 bytes). When it
/// is set, the key file is neither read nor created.
pub const MASTER_KEY_ENV: &str = "PORTCULLIS_MASTER_KEY";
/// The key file's name in the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";
/// The settings key under which the wrapped data key is stored.
pub const DATA_KEY_SETTING: &str = "data_key";

const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;
/// Version byte of sealed records (data key, caller's AAD).
const SEAL_V1: u8 = 1;
/// Version byte of the wrapped data key (master key, fixed AAD).
const WRAP_V1: u8 = 1;
const WRAP_AAD: &[u8] = b"portcullis/data_key";

fn random_key() -> Result<Zeroizing<[u8; KEY_LEN]>> {
    let mut k = Zeroizing::new([0u8; KEY_LEN]);
    aws_lc_rs::rand::fill(&mut k[..])
        .map_err(|_| StoreError::Sealed("the system random generator failed: check the OS".into()))?;
    Ok(k)
}

/// AES-256-GCM with a fresh random nonce: `version ‖ nonce ‖ ciphertext ‖ tag`, AAD = `version ‖ aad`.
fn seal_with(key: &RandomizedNonceKey, version: u8, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut in_out = plaintext.to_vec();
    let full_aad = [&[version][..], aad].concat();
    let nonce = key
        .seal_in_place_append_tag(Aad::from(full_aad.as_slice()), &mut in_out)
        .map_err(|_| StoreError::Sealed("sealing failed (AES-256-GCM): this is a bug".into()))?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
    out.push(version);
    out.extend_from_slice(nonce.as_ref());
    out.extend_from_slice(&in_out);
    in_out.zeroize();
    Ok(out)
}

fn open_with(
    key: &RandomizedNonceKey,
    version: u8,
    aad: &[u8],
    sealed: &[u8],
    what: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    let bad = || {
        StoreError::Sealed(format!(
            "{what} cannot be opened: it was altered, belongs to another record, or was sealed under \
             another key (check PORTCULLIS_MASTER_KEY / the data directory's master.key)"
        ))
    };
    if sealed.len() < 1 + NONCE_LEN + TAG_LEN {
        return Err(bad());
    }
    if sealed[0] != version {
        return Err(StoreError::Sealed(format!(
            "{what} has format version {}, which this Portcullis does not know: upgrade Portcullis",
            sealed[0]
        )));
    }
    let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN]).map_err(|_| bad())?;
    let mut in_out = Zeroizing::new(sealed[1 + NONCE_LEN..].to_vec());
    let full_aad = [&[version][..], aad].concat();
    let len = key.open_in_place(nonce, Aad::from(full_aad.as_slice()), &mut in_out).map_err(|_| bad())?.len();
    in_out.truncate(len);
    Ok(in_out)
}

fn aead_key(bytes: &[u8; KEY_LEN]) -> Result<RandomizedNonceKey> {
    RandomizedNonceKey::new(&AES_256_GCM, bytes)
        .map_err(|_| StoreError::Sealed("cannot set up AES-256-GCM: this is a bug".into()))
}

// ---------------------------------------------------------------------- master key

/// The key that wraps the data key. Zeroized on drop; `Debug` shows nothing of it.
pub struct MasterKey(Zeroizing<[u8; KEY_LEN]>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> MasterKey {
        MasterKey(Zeroizing::new(bytes))
    }

    /// Parses the standard base64 of 32 bytes (the format of the key file and of the variable).
    pub fn from_base64(text: &str) -> Result<MasterKey> {
        let bad = || {
            StoreError::Sealed(
                "the master key must be the standard base64 of exactly 32 bytes (for example \
                 `head -c32 /dev/urandom | base64`)"
                    .into(),
            )
        };
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD.decode(text.trim().as_bytes()).map_err(|_| bad())?,
        );
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return Err(bad());
        }
        key.copy_from_slice(&bytes);
        Ok(MasterKey(key))
    }

    /// The master key of a data directory: from `PORTCULLIS_MASTER_KEY` when it is set,
    /// otherwise from `DIR/master.key`, which is created (mode 0600, random) if missing.
    pub fn for_data_dir(dir: &Path) -> Result<MasterKey> {
        match std::env::var(MASTER_KEY_ENV) {
            Ok(text) => MasterKey::from_base64(&text)
                .map_err(|e| StoreError::Sealed(format!("{MASTER_KEY_ENV} is set but unusable: {e}"))),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(StoreError::Sealed(format!("{MASTER_KEY_ENV} is not valid base64 text: fix or unset it")))
            }
            Err(std::env::VarError::NotPresent) => MasterKey::load_or_create_file(&dir.join(MASTER_KEY_FILE)),
        }
    }

    /// Reads the key file, or creates it with a random key if it does not exist. Refuses a key
    /// file that others than its owner may read. Safe when two processes race to create it:
    /// the file appears complete or not at all, and both end up with the one that won.
    pub fn load_or_create_file(path: &Path) -> Result<MasterKey> {
        match read_key_file(path) {
            Ok(Some(key)) => return Ok(key),
            Ok(None) => {}
            Err(e) => return Err(e),
        }
        let key = random_key()?;
        let text =
            Zeroizing::new(format!("{}\n", base64::engine::general_purpose::STANDARD.encode(&key[..])));
        let tmp = temp_name(path)?;
        let write = || -> std::io::Result<()> {
            let mut f = create_private(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            // A hard link fails if `path` exists: create-if-absent with complete contents.
            match std::fs::hard_link(&tmp, path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                Err(e) => Err(e),
            }
        };
        let written = write();
        let _ = std::fs::remove_file(&tmp);
        written.map_err(|e| {
            StoreError::Sealed(format!(
                "cannot create the master key file {} ({e}): check that the directory exists and is \
                 writable, or set {MASTER_KEY_ENV}",
                path.display()
            ))
        })?;
        match read_key_file(path)? {
            Some(key) => Ok(key),
            None => Err(StoreError::Sealed(format!(
                "the master key file {} vanished while it was created",
                path.display()
            ))),
        }
    }
}

fn temp_name(path: &Path) -> Result<PathBuf> {
    let mut suffix = [0u8; 8];
    aws_lc_rs::rand::fill(&mut suffix)
        .map_err(|_| StoreError::Sealed("the system random generator failed: check the OS".into()))?;
    let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{hex}"));
    Ok(path.with_file_name(name))
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)
}

/// `Ok(None)` when the file does not exist.
fn read_key_file(path: &Path) -> Result<Option<MasterKey>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => Zeroizing::new(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(StoreError::Sealed(format!(
                "cannot read the master key file {} ({e}): check its permissions",
                path.display()
            )))
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| StoreError::Sealed(format!("cannot stat {} ({e})", path.display())))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(StoreError::Sealed(format!(
                "the master key file {} can be read by other users (mode {:o}): run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            )));
        }
    }
    MasterKey::from_base64(&text)
        .map(Some)
        .map_err(|e| StoreError::Sealed(format!("the master key file {} is damaged: {e}", path.display())))
}

// ---------------------------------------------------------------------- data key

/// The key that seals records. Zeroized on drop; `Debug` shows nothing of it.
pub struct DataKey(Zeroizing<[u8; KEY_LEN]>);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl DataKey {
    /// 32 fresh random bytes.
    pub fn generate() -> Result<DataKey> {
        Ok(DataKey(random_key()?))
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> DataKey {
        DataKey(Zeroizing::new(bytes))
    }

    /// Wraps this key under the master key (versioned format, see the module docs).
    pub fn wrap(&self, master: &MasterKey) -> Result<Vec<u8>> {
        seal_with(&aead_key(&master.0)?, WRAP_V1, WRAP_AAD, &self.0[..])
    }

    /// Unwraps a key wrapped by [`DataKey::wrap`].
    pub fn unwrap_with(wrapped: &[u8], master: &MasterKey) -> Result<DataKey> {
        let bytes = open_with(&aead_key(&master.0)?, WRAP_V1, WRAP_AAD, wrapped, "the stored data key")
            .map_err(|e| match e {
                StoreError::Sealed(_) if wrapped.first() == Some(&WRAP_V1) => StoreError::Sealed(format!(
                    "the master key does not open this database's data key: use the master key the \
                     database was created with ({MASTER_KEY_ENV} or the data directory's {MASTER_KEY_FILE})"
                )),
                other => other,
            })?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return Err(StoreError::Sealed(
                "the stored data key has the wrong length: the database is damaged".into(),
            ));
        }
        key.copy_from_slice(&bytes);
        Ok(DataKey(key))
    }

    #[cfg(test)]
    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

// ---------------------------------------------------------------------- sealer

/// Seals and opens records with the data key. Cheap to clone.
#[derive(Clone)]
pub struct Sealer {
    key: Arc<RandomizedNonceKey>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(<redacted>)")
    }
}

impl Sealer {
    pub fn new(key: &DataKey) -> Result<Sealer> {
        Ok(Sealer { key: Arc::new(aead_key(&key.0)?) })
    }

    /// The sealer of a store: unwraps the store's data key with `master`, or, on a new
    /// database, creates one and stores it wrapped. Concurrent first calls agree on one key.
    pub async fn for_store(store: &Store, master: &MasterKey) -> Result<Sealer> {
        if let Some(wrapped) = store.get_setting(DATA_KEY_SETTING).await? {
            return Sealer::new(&DataKey::unwrap_with(&wrapped, master)?);
        }
        let fresh = DataKey::generate()?;
        store.put_setting_if_absent(DATA_KEY_SETTING, &fresh.wrap(master)?).await?;
        // Read back: another process may have won the race.
        let wrapped = store.get_setting(DATA_KEY_SETTING).await?.ok_or_else(|| {
            StoreError::Database("the data key vanished right after it was stored: check the database".into())
        })?;
        Sealer::new(&DataKey::unwrap_with(&wrapped, master)?)
    }

    /// Encrypts `plaintext`, bound to `aad` (the record's identity, e.g. `user/<id>/totp`).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        seal_with(&self.key, SEAL_V1, aad, plaintext)
    }

    /// Decrypts what [`Sealer::seal`] made with the same `aad`. Any change to the bytes, another
    /// AAD or another key is an error (`STORE_SEAL`).
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        open_with(&self.key, SEAL_V1, aad, sealed, "a sealed value")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_round_trips_and_uses_a_fresh_nonce_each_time() {
        let sealer = Sealer::new(&DataKey::generate().unwrap()).unwrap();
        let a = sealer.seal(b"user/1/totp", b"JBSWY3DPEHPK3PXP").unwrap();
        let b = sealer.seal(b"user/1/totp", b"JBSWY3DPEHPK3PXP").unwrap();
        assert_ne!(a, b, "two seals of the same value must differ (random nonce)");
        assert_eq!(a[0], SEAL_V1);
        assert_eq!(&sealer.open(b"user/1/totp", &a).unwrap()[..], b"JBSWY3DPEHPK3PXP");
        assert_eq!(&sealer.open(b"user/1/totp", &b).unwrap()[..], b"JBSWY3DPEHPK3PXP");
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let sealer = Sealer::new(&DataKey::generate().unwrap()).unwrap();
        let sealed = sealer.seal(b"aad", b"secret").unwrap();
        for i in 0..sealed.len() {
            for bit in 0..8 {
                let mut t = sealed.clone();
                t[i] ^= 1 << bit;
                let e = sealer.open(b"aad", &t).unwrap_err();
                assert_eq!(e.code(), "STORE_SEAL", "byte {i} bit {bit}");
            }
        }
        for len in 0..sealed.len() {
            assert!(sealer.open(b"aad", &sealed[..len]).is_err(), "truncated to {len}");
        }
    }

    #[test]
    fn wrong_aad_or_wrong_key_does_not_open() {
        let sealer = Sealer::new(&DataKey::generate().unwrap()).unwrap();
        let other = Sealer::new(&DataKey::generate().unwrap()).unwrap();
        let sealed = sealer.seal(b"user/1/totp", b"secret").unwrap();
        assert!(
            sealer.open(b"user/2/totp", &sealed).is_err(),
            "a value moved to another record must not open"
        );
        assert!(sealer.open(b"", &sealed).is_err());
        assert!(other.open(b"user/1/totp", &sealed).is_err(), "another data key must not open it");
    }

    #[test]
    fn keys_are_redacted_in_debug() {
        let key = DataKey::from_bytes([0x41; 32]);
        let master = MasterKey::from_bytes([0x42; 32]);
        let sealer = Sealer::new(&key).unwrap();
        let shown = format!("{key:?} {master:?} {sealer:?}");
        assert!(!shown.contains("65") && !shown.contains("AAAA") && !shown.contains("QUFB"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn data_key_wrap_round_trips_and_needs_the_right_master_key() {
        let master = MasterKey::from_bytes([7; 32]);
        let key = DataKey::generate().unwrap();
        let wrapped = key.wrap(&master).unwrap();
        assert_eq!(wrapped[0], WRAP_V1, "the wrap format is versioned");
        assert!(!contains(&wrapped, key.bytes()), "the wrapped key must not hold the key in clear");
        assert_eq!(DataKey::unwrap_with(&wrapped, &master).unwrap().bytes(), key.bytes());
        let e = DataKey::unwrap_with(&wrapped, &MasterKey::from_bytes([8; 32])).unwrap_err();
        assert!(e.to_string().contains("master key"), "{e}");
        // A record sealed with the data key is not a wrapped key, and vice versa (distinct AADs).
        let sealer = Sealer::new(&key).unwrap();
        assert!(sealer.open(WRAP_AAD, &wrapped).is_err());
    }

    #[test]
    fn master_key_file_is_created_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MASTER_KEY_FILE);
        let first = MasterKey::load_or_create_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let again = MasterKey::load_or_create_file(&path).unwrap();
        assert_eq!(first.0[..], again.0[..], "the second load must read the same key");
        // The file is the same text the environment variable takes.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(MasterKey::from_base64(&text).unwrap().0[..], first.0[..]);
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_master_key_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MASTER_KEY_FILE);
        MasterKey::load_or_create_file(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = MasterKey::load_or_create_file(&path).unwrap_err();
        assert!(e.to_string().contains("chmod 600"), "{e}");
    }

    #[test]
    fn concurrent_creation_of_the_key_file_agrees_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MASTER_KEY_FILE);
        let keys: Vec<MasterKey> = std::thread::scope(|s| {
            let handles: Vec<_> =
                (0..8).map(|_| s.spawn(|| MasterKey::load_or_create_file(&path).unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| k.0[..] == keys[0].0[..]));
    }

    #[test]
    fn bad_master_key_text_is_refused_with_a_hint() {
        for text in ["", "not base64!", "AAAA"] {
            let e = MasterKey::from_base64(text).unwrap_err();
            assert!(e.to_string().contains("32 bytes"), "{e}");
        }
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// The planted TOTP secret, the data key and the master key appear nowhere in the SQLite
    /// files (database, WAL, shared memory) in clear.
    #[tokio::test]
    async fn no_secret_reaches_the_database_files_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        let master = MasterKey::from_bytes(*b"MASTER-KEY-PLANTED-0123456789abc");
        let sealer = Sealer::for_store(&store, &master).await.unwrap();
        let data_key =
            DataKey::unwrap_with(&store.get_setting(DATA_KEY_SETTING).await.unwrap().unwrap(), &master)
                .unwrap();

        let tenant = crate::model::Tenant { id: uuid::Uuid::new_v4(), name: "t".into(), created_at: 1 };
        store.create_tenant(&tenant).await.unwrap();
        let user_id = uuid::Uuid::new_v4();
        let secret = b"PLANTED-TOTP-SECRET-7f3a9c";
        let aad = format!("user/{user_id}/totp");
        let user = crate::model::User {
            id: user_id,
            tenant_id: tenant.id,
            upn: "alice@example.com".into(),
            display_name: "Alice".into(),
            given_name: None,
            surname: None,
            mail: None,
            department: None,
            job_title: None,
            employee_id: None,
            enabled: true,
            password_hash: None,
            totp_secret_sealed: Some(sealer.seal(aad.as_bytes(), secret).unwrap()),
            created_at: 1,
            updated_at: 1,
        };
        store.create_user(&user).await.unwrap();

        // Read back through a second handle with the same master key: it opens.
        let back = store.get_user(tenant.id, user_id).await.unwrap().unwrap();
        let sealer2 = Sealer::for_store(&store, &master).await.unwrap();
        assert_eq!(
            &sealer2.open(aad.as_bytes(), back.totp_secret_sealed.as_ref().unwrap()).unwrap()[..],
            secret
        );

        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
        assert!(files.iter().any(|(p, _)| p.ends_with(crate::DATA_DIR_DB_FILE)));
        let all: Vec<u8> = files.iter().flat_map(|(_, b)| b.iter().copied()).collect();
        assert!(contains(&all, b"alice@example.com"), "the scan must see the rows (sanity check)");
        assert!(!contains(&all, secret), "the TOTP secret is in a database file in clear");
        assert!(!contains(&all, data_key.bytes()), "the data key is in a database file in clear");
        assert!(!contains(&all, b"MASTER-KEY-PLANTED"), "the master key is in a database file");
        store.close().await;
    }

    /// Two stores opening one new database at once end up with the same data key.
    #[tokio::test]
    async fn concurrent_first_use_agrees_on_one_data_key() {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open_data_dir(dir.path()).await.unwrap();
        let b = Store::open_data_dir(dir.path()).await.unwrap();
        let master = MasterKey::from_bytes([9; 32]);
        let (sa, sb) = tokio::join!(Sealer::for_store(&a, &master), Sealer::for_store(&b, &master));
        let (sa, sb) = (sa.unwrap(), sb.unwrap());
        let sealed = sa.seal(b"x", b"shared").unwrap();
        assert_eq!(&sb.open(b"x", &sealed).unwrap()[..], b"shared");
    }
}
