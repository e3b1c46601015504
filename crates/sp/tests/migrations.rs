//! The SP toolkit's own migration set (`sp::db::MIGRATIONS`): applied alone on an empty
//! database (an application that embeds only the SP toolkit), over a database of a build from
//! before the set existed (the SP's tables were the store's migration 3), and kept in step
//! between the two backends. Each on SQLite and on PostgreSQL.

use std::collections::BTreeSet;

use sp::db::{
    AttributeNames, LocalUser, Provider, SamlUser, SpApp, SpDb, SpSession, SsoBinding, WantSigned,
    GENERAL_MEMBERS, MIGRATIONS,
};
use store::{Backend, MigrationSet, Store};
use uuid::Uuid;

/// The store's migrations as the builds before the SP's own set shipped them: 1–7, with the
/// SP's tables as version 3 (a verbatim copy of that file in tests/fixtures; 1, 2 and 4–7 are
/// still the store's files).
static OLD_STORE: MigrationSet = MigrationSet {
    name: "store",
    versions: 1..=9_999,
    retired: &[],
    sqlite: &[
        (1, "directory", include_str!("../../store/migrations/sqlite/0001_directory.sql")),
        (2, "admin", include_str!("../../store/migrations/sqlite/0002_admin.sql")),
        (3, "sp", include_str!("fixtures/store-v3/sqlite/0003_sp.sql")),
        (4, "vault", include_str!("../../store/migrations/sqlite/0004_vault.sql")),
        (5, "change_counter", include_str!("../../store/migrations/sqlite/0005_change_counter.sql")),
        (6, "outbox", include_str!("../../store/migrations/sqlite/0006_outbox.sql")),
        (7, "throttle", include_str!("../../store/migrations/sqlite/0007_throttle.sql")),
    ],
    postgres: &[
        (1, "directory", include_str!("../../store/migrations/postgres/0001_directory.sql")),
        (2, "admin", include_str!("../../store/migrations/postgres/0002_admin.sql")),
        (3, "sp", include_str!("fixtures/store-v3/postgres/0003_sp.sql")),
        (4, "vault", include_str!("../../store/migrations/postgres/0004_vault.sql")),
        (5, "change_counter", include_str!("../../store/migrations/postgres/0005_change_counter.sql")),
        (6, "outbox", include_str!("../../store/migrations/postgres/0006_outbox.sql")),
        (7, "throttle", include_str!("../../store/migrations/postgres/0007_throttle.sql")),
    ],
};

/// A new, empty database: (its URL, the temp dir that holds it on SQLite).
async fn empty(backend: Backend) -> (String, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("sp.db").display());
            (url, Some(dir))
        }
        Backend::Postgres => (store::testkit::empty_postgres_url().await, None),
    }
}

async fn versions(store: &Store) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(store.pool())
        .await
        .expect("read the applied migrations")
}

async fn has_table(store: &Store, table: &str) -> bool {
    // Portable: a query on a missing table fails on both backends.
    sqlx::query(&format!("SELECT 1 FROM {table} WHERE 1 = 0")).fetch_all(store.pool()).await.is_ok()
}

fn app() -> SpApp {
    SpApp {
        id: Uuid::new_v4(),
        name: "Embedded".into(),
        base_url: "https://embedded.test".into(),
        entity_id: None,
        acs_url: None,
        signing_key_sealed: None,
        signing_cert: None,
        encryption_key_sealed: None,
        encryption_cert: None,
        created_at: 10,
    }
}

fn provider(app: Uuid) -> Provider {
    Provider {
        id: Uuid::new_v4(),
        app_id: app,
        name: "Contoso".into(),
        idp_entity_id: "https://idp.contoso.test".into(),
        sso_url: "https://idp.contoso.test/sso".into(),
        sso_binding: SsoBinding::Post,
        slo_url: None,
        signing_certs: vec!["AAAA".into()],
        metadata_url: None,
        want_signed: WantSigned::Assertion,
        allow_sha1: false,
        skew_seconds: 60,
        allow_idp_initiated: false,
        sign_requests: true,
        waiting_room: false,
        email_domains: vec!["contoso.test".into()],
        attributes: AttributeNames::default(),
        default_policy_id: None,
        created_at: 20,
    }
}

/// An application that embeds only the SP toolkit: `Store::connect` and the SP's set, none of
/// the store's tables; every aggregate can be written and read.
async fn the_sp_set_runs_alone_on_an_empty_database(backend: Backend) {
    let (url, _dir) = empty(backend).await;
    let store = Store::connect(&url).await.expect("connect");
    let db = SpDb::open(store.clone()).await.expect("the SP migrations alone");
    assert_eq!(versions(&store).await, [10_001]);
    assert!(!has_table(&store, "tenants").await, "no directory table");
    assert!(has_table(&store, "sp_apps").await);

    let a = app();
    db.create_app(&a).await.expect("app");
    let p = provider(a.id);
    db.create_provider(&p).await.expect("provider");
    assert_eq!(db.provider_by_entity_id(a.id, &p.idp_entity_id).await.expect("read"), Some(p.clone()));
    let local = LocalUser {
        id: Uuid::new_v4(),
        app_id: a.id,
        username: "alice".into(),
        first_name: "Alice".into(),
        last_name: "Liddell".into(),
        email: "alice@contoso.test".into(),
        created_at: 30,
    };
    let saml = SamlUser {
        id: Uuid::new_v4(),
        provider_id: p.id,
        name_id: "nid".into(),
        local_user_id: local.id,
        groups: vec![],
        permissions: vec!["profile:read".into()],
        waiting: false,
        granted_policy_id: None,
        granted_sites: vec![],
        created_at: 30,
        last_login_at: 30,
    };
    db.create_first_login(Some(&local), &saml).await.expect("first login");
    let session =
        SpSession { token_hash: "h".into(), saml_user_id: saml.id, session_index: None, expires_at: 100 };
    db.create_session(&session).await.expect("session");
    assert_eq!(db.session("h", 50).await.expect("session"), Some(session));
    assert!(db.remember_assertion("_a1", 100, 50).await.expect("replay"));
    assert_eq!(db.policies(a.id).await.expect("policies")[0].name, GENERAL_MEMBERS);

    // Opening again applies nothing and keeps the rows.
    let again = SpDb::open(store.clone()).await.expect("again");
    assert_eq!(again.saml_user(p.id, "nid").await.expect("read"), Some(saml));
    store.close().await;
}

/// A database of a build from before the SP's own set (the store's migrations 1–7, SP rows in
/// the tables of migration 3) opens with this build: the store's set leaves the retired
/// version 3 alone, the SP's 10,001 finds its tables and keeps every row.
async fn a_database_of_an_older_build_upgrades_in_place(backend: Backend) {
    let (url, _dir) = empty(backend).await;
    let old = Store::connect(&url).await.expect("connect");
    old.migrate_set(&OLD_STORE).await.expect("the old store migrations");
    let a = app();
    let p = provider(a.id);
    let (local_id, saml_id) = (Uuid::new_v4(), Uuid::new_v4());
    // Written as the old build's store wrote them (SQL, not this crate's API).
    let pool = old.pool();
    sqlx::query(
        "INSERT INTO sp_apps (id, name, base_url, created_at, signing_key_sealed, signing_cert) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(a.id.to_string())
    .bind(a.name.as_str())
    .bind(a.base_url.as_str())
    .bind(a.created_at)
    .bind(vec![7u8, 8, 9])
    .bind("PEM")
    .execute(pool)
    .await
    .expect("old app");
    sqlx::query(
        "INSERT INTO sp_providers (id, app_id, name, name_key, idp_entity_id, sso_url, sso_binding, \
         signing_certs, want_signed, allow_sha1, skew_seconds, allow_idp_initiated, sign_requests, \
         waiting_room, email_domains, attr_username, attr_first_name, attr_last_name, attr_email, \
         attr_groups, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'post', 'AAAA', 'assertion', $7, 60, $8, \
         $9, $10, 'contoso.test', 'Username', 'FirstName', 'LastName', 'Email', 'Groups', 20)",
    )
    .bind(p.id.to_string())
    .bind(a.id.to_string())
    .bind(p.name.as_str())
    .bind("contoso")
    .bind(p.idp_entity_id.as_str())
    .bind(p.sso_url.as_str())
    .bind(false)
    .bind(false)
    .bind(true)
    .bind(false)
    .execute(pool)
    .await
    .expect("old provider");
    sqlx::query(
        "INSERT INTO sp_local_users (id, app_id, username, first_name, last_name, email, email_key, \
         created_at) VALUES ($1, $2, 'alice', 'Alice', 'Liddell', 'Alice@Contoso.test', 'alice@contoso.test', 30)",
    )
    .bind(local_id.to_string())
    .bind(a.id.to_string())
    .execute(pool)
    .await
    .expect("old local user");
    sqlx::query(
        "INSERT INTO sp_saml_users (id, provider_id, name_id, local_user_id, groups, permissions, waiting, \
         granted_sites, created_at, last_login_at) VALUES ($1, $2, 'nid', $3, 'g1', 'profile:read', $4, '', 30, 40)",
    )
    .bind(saml_id.to_string())
    .bind(p.id.to_string())
    .bind(local_id.to_string())
    .bind(false)
    .execute(pool)
    .await
    .expect("old SAML user");
    sqlx::query("INSERT INTO sp_sessions (token_hash, saml_user_id, expires_at) VALUES ('h', $1, 100)")
        .bind(saml_id.to_string())
        .execute(pool)
        .await
        .expect("old session");
    old.close().await;

    // This build: the store's set (3 retired), then the SP's.
    let store = Store::open(&url).await.expect("this build opens the old database");
    let db = SpDb::open(store.clone()).await.expect("the SP migrations over the old tables");
    assert_eq!(versions(&store).await, [1, 2, 3, 4, 5, 6, 7, 10_001]);
    let read = db.app_by_name("Embedded").await.expect("read app").expect("the old app is kept");
    assert_eq!(read.id, a.id);
    assert_eq!(read.signing_key_sealed.as_deref(), Some(&[7u8, 8, 9][..]));
    let providers = db.providers(a.id).await.expect("providers");
    assert_eq!(providers.len(), 1);
    assert_eq!((providers[0].id, providers[0].want_signed), (p.id, WantSigned::Assertion));
    assert!(providers[0].sign_requests && !providers[0].waiting_room);
    let saml = db.saml_user(p.id, "nid").await.expect("read").expect("the old SAML user is kept");
    assert_eq!((saml.id, saml.groups.as_slice(), saml.last_login_at), (saml_id, &["g1".to_string()][..], 40));
    assert_eq!(db.local_user(local_id).await.expect("local").email, "Alice@Contoso.test");
    assert_eq!(db.session("h", 50).await.expect("session").map(|s| s.saml_user_id), Some(saml_id));
    // New rows go into the same tables.
    db.create_policy(&sp::db::Policy {
        id: Uuid::new_v4(),
        app_id: a.id,
        name: "Admins".into(),
        permissions: vec!["settings:write".into()],
    })
    .await
    .expect("a new policy");
    assert_eq!(db.policies(a.id).await.expect("policies").len(), 1);
    store.close().await;

    // And again: nothing more to apply.
    let store = Store::open(&url).await.expect("reopen");
    SpDb::open(store.clone()).await.expect("reopen the SP set");
    assert_eq!(versions(&store).await, [1, 2, 3, 4, 5, 6, 7, 10_001]);
    store.close().await;
}

/// The SP's tables, columns and indexes are the same on both backends.
async fn sp_columns_and_indexes(backend: Backend) -> (BTreeSet<(String, String)>, BTreeSet<String>) {
    let (url, _dir) = empty(backend).await;
    let store = Store::connect(&url).await.expect("connect");
    SpDb::open(store.clone()).await.expect("migrate");
    let (cols, idx) = match backend {
        Backend::Sqlite => (
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name LIKE 'sp_%'",
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'",
        ),
        Backend::Postgres => (
            "SELECT CAST(table_name AS TEXT) AS t, CAST(column_name AS TEXT) AS c FROM \
             information_schema.columns WHERE table_schema = 'public' AND table_name LIKE 'sp_%'",
            "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = 'public' \
             AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key' AND tablename LIKE 'sp_%'",
        ),
    };
    let cols = sqlx::query_as(cols).fetch_all(store.pool()).await.expect("columns").into_iter().collect();
    let idx = sqlx::query_scalar(idx).fetch_all(store.pool()).await.expect("indexes").into_iter().collect();
    store.close().await;
    (cols, idx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_sp_schemas_match() {
    let (lite_cols, lite_idx) = sp_columns_and_indexes(Backend::Sqlite).await;
    let (pg_cols, pg_idx) = sp_columns_and_indexes(Backend::Postgres).await;
    assert!(lite_cols.len() > 60, "the query should see the SP's tables: {lite_cols:?}");
    assert_eq!(lite_cols, pg_cols);
    assert!(!lite_idx.is_empty());
    assert_eq!(lite_idx, pg_idx);
}

/// Every file in migrations/ is embedded, with the same versions on both backends.
#[test]
fn every_migration_file_is_embedded_for_both_backends() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for (backend, folder) in [(Backend::Sqlite, "sqlite"), (Backend::Postgres, "postgres")] {
        let mut versions: Vec<i64> = std::fs::read_dir(root.join(folder))
            .expect("migrations folder")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
            .filter(|n| n.ends_with(".sql"))
            .map(|n| n.split('_').next().and_then(|v| v.parse().ok()).expect("VERSION_name.sql"))
            .collect();
        versions.sort();
        assert_eq!(MIGRATIONS.embedded_versions(backend), versions, "{folder}: list the file in MIGRATIONS");
    }
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(store::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(store::Backend::Postgres).await }
            )*
        }
    };
}

both!(the_sp_set_runs_alone_on_an_empty_database, a_database_of_an_older_build_upgrades_in_place);
