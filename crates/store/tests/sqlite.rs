//! SQLite specifics: the data directory, its PRAGMAs, and sharing one file between a running
//! server and the CLI (two handles, two processes).

mod common;

use std::time::{Duration, Instant};

use common::*;
use store::model::PrincipalKind;
use store::{Backend, SignInFilter, Store};

#[tokio::test]
async fn open_data_dir_creates_the_file_in_wal_mode_with_foreign_keys_and_a_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    assert!(dir.path().join(store::DATA_DIR_DB_FILE).is_file());
    // Check several pooled connections, not only the first one.
    let mut conns = Vec::new();
    for _ in 0..3 {
        let mut c = store.raw_pool().acquire().await.unwrap();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *c).await.unwrap();
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut *c).await.unwrap();
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(&mut *c).await.unwrap();
        assert_eq!((journal.as_str(), fk, busy), ("wal", 1, 5000));
        conns.push(c);
    }
}

#[tokio::test]
async fn open_data_dir_refuses_a_missing_directory_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let e = Store::open_data_dir(&missing).await.unwrap_err();
    assert_eq!(e.code(), "STORE_DATABASE");
    assert!(e.to_string().contains("does not exist"), "{e}");
}

#[tokio::test]
async fn data_dirs_with_awkward_names_work() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("my data #1 ?x=%20");
    std::fs::create_dir(&odd).unwrap();
    let store = Store::open_data_dir(&odd).await.unwrap();
    new_tenant(&store).await;
    assert!(odd.join(store::DATA_DIR_DB_FILE).is_file());
}

#[tokio::test]
async fn open_accepts_sqlite_urls_and_refuses_other_schemes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let store = Store::open(&url).await.unwrap();
    new_tenant(&store).await;
    store.close().await;
    let again = Store::open(&url).await.unwrap();
    assert_eq!(again.list_tenants().await.unwrap().len(), 1, "reopening keeps the data");
    let e = Store::open("mysql://localhost/x").await.unwrap_err();
    assert!(e.to_string().contains("sqlite://"), "{e}");
}

/// `sqlite::memory:` works too, for quick tests: the data written by one call (and by a
/// transaction) is there for the next ones, which would not hold if each pooled connection had
/// its own in-memory database.
#[tokio::test]
async fn an_in_memory_database_keeps_its_data_across_calls() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    let t = new_tenant(&store).await;
    let g = new_group(&store, &t, "g").await;
    let u = new_user(&store, &t, "u@x").await;
    store.add_member(g.id, u.id, PrincipalKind::User).await.unwrap();
    let (a, b) = tokio::join!(store.list_users(t.id), store.groups_of_user(t.id, u.id, true));
    assert_eq!(a.unwrap().len(), 1);
    assert_eq!(b.unwrap(), vec![g]);
    let other = Store::open("sqlite::memory:").await.unwrap();
    assert!(other.list_tenants().await.unwrap().is_empty(), "each in-memory store is private");
}

/// The server and the CLI starting at the same moment on a new data directory: both create
/// and migrate the same file, and both end up with a working store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_creating_a_new_database_at_once_both_succeed() {
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = tokio::join!(Store::open_data_dir(dir.path()), Store::open_data_dir(dir.path()));
        let (a, b) = (a.unwrap(), b.unwrap());
        let t = new_tenant(&a).await;
        assert_eq!(b.default_tenant().await.unwrap(), Some(t));
    }
}

/// The server and the CLI each open the data directory: what one writes, the other reads at
/// once, without a restart or a cache to invalidate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_handle_is_visible_to_another_immediately() {
    let dir = tempfile::tempdir().unwrap();
    let server = Store::open_data_dir(dir.path()).await.unwrap();
    let cli = Store::open_data_dir(dir.path()).await.unwrap();
    let t = new_tenant(&cli).await;
    assert_eq!(server.default_tenant().await.unwrap().as_ref(), Some(&t));
    let u = new_user(&cli, &t, "new@x").await;
    assert_eq!(server.find_user_by_upn(t.id, "NEW@x").await.unwrap().map(|u| u.id), Some(u.id));
    let mut disabled = u.clone();
    disabled.enabled = false;
    server.update_user(&disabled).await.unwrap();
    assert!(!cli.get_user(t.id, u.id).await.unwrap().unwrap().enabled);
}

/// Two handles writing at the same time (transactions included) never fail with "database is
/// locked": writers wait for each other (busy timeout) and every write lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_on_one_file_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open_data_dir(dir.path()).await.unwrap();
    let b = Store::open_data_dir(dir.path()).await.unwrap();
    let t = new_tenant(&a).await;
    let g = new_group(&a, &t, "g").await;
    let mut tasks = Vec::new();
    for (n, s) in [a.clone(), b.clone(), a.clone(), b.clone()].into_iter().enumerate() {
        let t = t.clone();
        let g = g.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let u = new_user(&s, &t, &format!("u{n}-{i}@x")).await;
                s.add_member(g.id, u.id, PrincipalKind::User).await.unwrap();
                s.record_sign_in(&sign_in(&t, i, "OK")).await.unwrap();
                let app = new_app(&s, &t, "app", &[&format!("urn:{n}:{i}")]).await;
                s.activate_signing_cert(app.id, uuid::Uuid::new_v4()).await.unwrap_err();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(b.list_users(t.id).await.unwrap().len(), 100);
    assert_eq!(a.members(g.id).await.unwrap().len(), 100);
    assert_eq!(b.list_sign_ins(&SignInFilter::tenant(t.id)).await.unwrap().len(), 100);
}

/// A writer that finds the file locked by a long transaction of the other handle waits for it
/// (up to the 5 s busy timeout) instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_waits_for_the_other_handles_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open_data_dir(dir.path()).await.unwrap();
    let b = Store::open_data_dir(dir.path()).await.unwrap();
    let t = new_tenant(&a).await;
    let mut tx = a.raw_pool().begin_with("BEGIN IMMEDIATE").await.unwrap();
    sqlx::query("UPDATE tenants SET name = 'locked' WHERE id = $1")
        .bind(t.id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let started = Instant::now();
    let writer = tokio::spawn(async move {
        new_user(&b, &t, "waiting@x").await;
        started.elapsed()
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    tx.commit().await.unwrap();
    let waited = writer.await.unwrap();
    assert!(waited >= Duration::from_millis(600), "the writer should have waited, took {waited:?}");
    assert_eq!(a.list_users(a.default_tenant().await.unwrap().unwrap().id).await.unwrap().len(), 1);
}

/// The real deployment: another process (this test binary re-run as a child, standing in for
/// the CLI) writes to the data directory while this one (the server) has it open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_writes_and_this_one_reads_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Store::open_data_dir(dir.path()).await.unwrap();
    let t = new_tenant(&server).await;
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process_writer", "--test-threads=1", "--quiet"])
        .env("PORTCULLIS_CHILD_DATA_DIR", dir.path())
        .env("PORTCULLIS_CHILD_TENANT", t.id.to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the child process failed");
    let users = server.list_users(t.id).await.unwrap();
    assert_eq!(users.iter().map(|u| u.upn.as_str()).collect::<Vec<_>>(), vec!["from-child@x"]);
}

/// Does nothing unless run as the child of the test above.
#[tokio::test]
async fn child_process_writer() {
    let (Ok(dir), Ok(tenant)) =
        (std::env::var("PORTCULLIS_CHILD_DATA_DIR"), std::env::var("PORTCULLIS_CHILD_TENANT"))
    else {
        return;
    };
    let cli = Store::open_data_dir(std::path::Path::new(&dir)).await.unwrap();
    let t = cli.get_tenant(tenant.parse().unwrap()).await.unwrap().expect("the server's tenant");
    new_user(&cli, &t, "from-child@x").await;
}

/// Every migration file is embedded, and both backends have the same versions.
#[test]
fn every_migration_file_is_embedded_for_both_backends() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for (backend, folder) in [(Backend::Sqlite, "sqlite"), (Backend::Postgres, "postgres")] {
        let mut versions: Vec<i64> = std::fs::read_dir(root.join(folder))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sql"))
            .map(|n| n.split('_').next().unwrap().parse().unwrap())
            .collect();
        versions.sort();
        assert_eq!(
            store::STORE_MIGRATIONS.embedded_versions(backend),
            versions,
            "{folder}: list the file in STORE_MIGRATIONS (lib.rs)"
        );
    }
    assert_eq!(
        store::STORE_MIGRATIONS.embedded_versions(Backend::Sqlite),
        store::STORE_MIGRATIONS.embedded_versions(Backend::Postgres)
    );
}
