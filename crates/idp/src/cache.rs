//! What the SSO path reads on every request (the app behind an issuer, the user, their
//! transitive groups, the app's assignments, the active signing key), cached per generation of
//! the store's change counter.
//!
//! Every committed write to those tables moves the counter (database triggers, so no code path
//! can forget it, and writes by the CLI or another node count too). A request reads the counter
//! once — one indexed single-row read instead of six queries — and uses the snapshot of that
//! generation, or starts an empty one when the counter has moved. Nothing cached can therefore be
//! older than the request's own read of the counter: a disabled user, a removed assignment, an
//! activated certificate take effect on the next request, as without the cache.
//!
//! Data loaded after the counter was read may be newer than the snapshot's generation; that is
//! harmless (it is never older). Each map is bounded: when full it is emptied, not grown.

use crate::error::Result;
use crate::model::AppConfig;
use crate::service::{Idp, SigningMaterial};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, RwLock};
use store::model::{App, Assignment, Group, Session, User};
use uuid::Uuid;

/// Entries per map before it is emptied (bounds memory with a very large directory).
const MAX_ENTRIES: usize = 50_000;

/// A bounded map behind a mutex (held only to copy an `Arc` in or out).
struct Memo<K, V>(Mutex<HashMap<K, Arc<V>>>);

impl<K: Eq + Hash, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + Hash, V> Memo<K, V> {
    fn get(&self, k: &K) -> Option<Arc<V>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(k).cloned()
    }

    fn put(&self, k: K, v: Arc<V>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(k, v);
    }
}

/// An app with its parsed configuration.
pub struct CachedApp {
    pub app: App,
    pub config: AppConfig,
}

/// Everything cached at one generation.
#[derive(Default)]
pub struct Snapshot {
    generation: i64,
    apps_by_identifier: Memo<(Uuid, String), CachedApp>,
    users: Memo<Uuid, User>,
    groups_of_user: Memo<Uuid, Vec<Group>>,
    assignments: Memo<Uuid, Vec<Assignment>>,
    signing: Memo<Uuid, SigningMaterial>,
}

/// The current snapshot, replaced when the counter moves forward.
#[derive(Default)]
pub(crate) struct DirectoryCache {
    current: RwLock<Arc<Snapshot>>,
}

impl DirectoryCache {
    /// The snapshot for `generation`: the current one, or a fresh empty one that replaces it
    /// (never replacing a newer one with an older one: a slow request then gets a private,
    /// empty snapshot that it fills and drops).
    fn at(&self, generation: i64) -> Arc<Snapshot> {
        {
            let current = self.current.read().unwrap_or_else(|e| e.into_inner());
            if current.generation == generation {
                return current.clone();
            }
        }
        let fresh = Arc::new(Snapshot { generation, ..Snapshot::default() });
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if current.generation < generation {
            *current = fresh.clone();
        } else if current.generation == generation {
            return current.clone();
        }
        fresh
    }
}

/// The directory as one request sees it: reads go through the snapshot of the generation read
/// when the view was made.
pub struct View<'a> {
    idp: &'a Idp,
    snap: Arc<Snapshot>,
    /// The session read with the counter: `(cookie hash, session)`.
    session: Option<(String, Option<Session>)>,
}

impl Idp {
    /// A view of the directory for one request (one read of the change counter).
    pub async fn view(&self) -> Result<View<'_>> {
        let generation = self.store.generation().await?;
        Ok(View { idp: self, snap: self.directory_cache.at(generation), session: None })
    }

    /// A view of the directory, and the browser's session read in the same statement (the SSO
    /// path's one database round trip).
    pub async fn view_with_session(&self, session_cookie: Option<&str>) -> Result<View<'_>> {
        let Some(cookie) = session_cookie else { return self.view().await };
        let hash = crate::flow::session::session_hash(cookie);
        let (generation, session) = self.store.generation_and_session(&hash).await?;
        Ok(View { idp: self, snap: self.directory_cache.at(generation), session: Some((hash, session)) })
    }
}

impl View<'_> {
    /// The app that has `identifier` among its Identifiers in `tenant`, with its configuration.
    pub async fn app_by_identifier(&self, tenant: Uuid, identifier: &str) -> Result<Option<Arc<CachedApp>>> {
        let key = (tenant, identifier.to_string());
        if let Some(hit) = self.snap.apps_by_identifier.get(&key) {
            return Ok(Some(hit));
        }
        let Some(app) = self.idp.store.find_app_by_identifier(tenant, identifier).await? else {
            return Ok(None);
        };
        let config = crate::apps::config_of(&app)?;
        let cached = Arc::new(CachedApp { app, config });
        self.snap.apps_by_identifier.put(key, cached.clone());
        Ok(Some(cached))
    }

    /// A user of `tenant` by object ID.
    pub async fn user(&self, tenant: Uuid, id: Uuid) -> Result<Option<Arc<User>>> {
        if let Some(hit) = self.snap.users.get(&id).filter(|u| u.tenant_id == tenant) {
            return Ok(Some(hit));
        }
        let Some(user) = self.idp.store.get_user(tenant, id).await? else { return Ok(None) };
        let user = Arc::new(user);
        self.snap.users.put(id, user.clone());
        Ok(Some(user))
    }

    /// The user's groups, nested memberships resolved.
    pub async fn groups_of_user(&self, tenant: Uuid, user: Uuid) -> Result<Arc<Vec<Group>>> {
        if let Some(hit) = self.snap.groups_of_user.get(&user) {
            return Ok(hit);
        }
        let groups = Arc::new(self.idp.store.groups_of_user(tenant, user, true).await?);
        self.snap.groups_of_user.put(user, groups.clone());
        Ok(groups)
    }

    /// The app's user and group assignments.
    pub async fn assignments(&self, app: Uuid) -> Result<Arc<Vec<Assignment>>> {
        if let Some(hit) = self.snap.assignments.get(&app) {
            return Ok(hit);
        }
        let list = Arc::new(self.idp.store.assignments(app).await?);
        self.snap.assignments.put(app, list.clone());
        Ok(list)
    }

    /// The app's active signing key and certificate.
    pub async fn signing_material(&self, app: &App) -> Result<Arc<SigningMaterial>> {
        if let Some(hit) = self.snap.signing.get(&app.id) {
            return Ok(hit);
        }
        let material = self.idp.signing_material(app).await?;
        self.snap.signing.put(app.id, material.clone());
        Ok(material)
    }

    /// The signed-in user of this browser in `tenant`, if the session is valid and the user
    /// enabled. The session itself is read from the store with the view, or now (it is not
    /// cached: signing out anywhere ends it at once).
    pub async fn session_user(
        &self,
        tenant: Uuid,
        session_cookie: Option<&str>,
    ) -> Result<Option<(Session, Arc<User>)>> {
        let Some(cookie) = session_cookie else { return Ok(None) };
        let hash = crate::flow::session::session_hash(cookie);
        let session = match &self.session {
            Some((read, session)) if *read == hash => session.clone(),
            _ => self.idp.store.get_session(&hash).await?,
        };
        let Some(session) = session else { return Ok(None) };
        if session.tenant_id != tenant || session.expires_at <= self.idp.unix_now() {
            return Ok(None);
        }
        match self.user(tenant, session.user_id).await? {
            Some(u) if u.enabled => Ok(Some((session, u))),
            _ => Ok(None),
        }
    }
}
