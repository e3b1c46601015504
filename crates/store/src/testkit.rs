//! Test kit for crates whose tests run on both backends (feature `testkit`, for
//! dev-dependencies only): a fresh, migrated database per test on SQLite (temp dir) or
//! PostgreSQL (one database per test on a server started once per test run by
//! scripts/pg-test-server, or on the server named by PORTCULLIS_TEST_PG_URL), and
//! [`on_both_backends!`](crate::on_both_backends) to run each test body on both.

use std::process::Command;
use std::sync::OnceLock;

use sqlx::Connection;
use uuid::Uuid;

use crate::Store;

/// A store on a fresh, migrated database; the temp dir (SQLite) lives as long as this.
pub struct TestDb {
    pub store: Store,
    pub dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_data_dir(dir.path()).await.expect("open SQLite store");
    TestDb { store, dir: Some(dir) }
}

pub async fn postgres() -> TestDb {
    let store = Store::open(&empty_postgres_url().await).await.expect("open PostgreSQL store");
    TestDb { store, dir: None }
}

/// The URL of a new, empty database on the test PostgreSQL server (nothing migrated): for the
/// tests of a migration set applied alone or over an older schema.
pub async fn empty_postgres_url() -> String {
    let base = pg_base_url();
    let name = format!("portcullis_test_{}", Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(base)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL server at {base}: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("CREATE DATABASE");
    admin.close().await.ok();
    with_database(base, &name)
}

/// The URL of the server the PostgreSQL tests use (started on first use).
pub fn pg_base_url() -> &'static str {
    static URL: OnceLock<Result<String, String>> = OnceLock::new();
    match URL.get_or_init(start_pg) {
        Ok(url) => url,
        Err(e) => panic!("{e}"),
    }
}

fn start_pg() -> Result<String, String> {
    if let Ok(url) = std::env::var("PORTCULLIS_TEST_PG_URL") {
        if !url.is_empty() {
            return Ok(url);
        }
    }
    match std::env::var("NEXTEST_RUN_ID") {
        // nextest runs every test in its own process: share one server per nextest run instead
        // of starting one per test. It stops when nextest (our parent) exits.
        Ok(run) if !run.is_empty() => shared_pg(&run),
        _ => {
            let name = format!("portcullis-pg-{}-{}", std::process::id(), Uuid::new_v4().simple());
            start_pg_server(&std::env::temp_dir().join(name), std::process::id())
        }
    }
}

/// One server for all the test processes of a nextest run: the first process to create the
/// run's directory starts it and publishes its URL (or its error) there; the others wait for it.
fn shared_pg(run: &str) -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!("portcullis-pg-run-{run}"));
    let url_file = dir.join("url");
    let err_file = dir.join("error");
    if std::fs::create_dir(&dir).is_ok() {
        // The cluster lives in the same directory, so stopping it removes the URL file too.
        let result = start_pg_server(&dir, std::os::unix::process::parent_id());
        let (file, text) = match &result {
            Ok(url) => (&url_file, url.clone()),
            Err(e) => (&err_file, e.clone()),
        };
        let tmp = dir.join("publish.tmp");
        std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, file)).map_err(|e| e.to_string())?;
        return result;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        if let Ok(url) = std::fs::read_to_string(&url_file) {
            return Ok(url);
        }
        if let Ok(e) = std::fs::read_to_string(&err_file) {
            return Err(e);
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "waited 120 s for another test process to start PostgreSQL ({})",
                dir.display()
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Starts a PostgreSQL server of its own in `dir` with scripts/pg-test-server (trust
/// authentication on loopback); it stops when process `watch` exits or on
/// `scripts/pg-test-server stop DIR`. Returns the superuser's URL.
pub fn start_pg_server(dir: &std::path::Path, watch: u32) -> Result<String, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-server");
    let out = Command::new(script)
        .arg("start")
        .arg("--dir")
        .arg(dir)
        .arg("--watch-pid")
        .arg(watch.to_string())
        .output()
        .map_err(|e| format!("cannot run {script}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "the PostgreSQL tests need a PostgreSQL server and none could be started.\n\
             Run scripts/install-test-deps (it installs Debian's `postgresql`), or point \
             PORTCULLIS_TEST_PG_URL at a server whose user may create databases.\n\
             scripts/pg-test-server said:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !url.starts_with("postgres://") {
        return Err(format!("scripts/pg-test-server printed {url:?} instead of a postgres:// URL"));
    }
    Ok(url)
}

/// `base` with its database path replaced by `name`.
fn with_database(base: &str, name: &str) -> String {
    let (main, query) = match base.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (base, None),
    };
    let scheme_end = main.find("://").map_or(0, |i| i + 3);
    let authority_end = main[scheme_end..].find('/').map_or(main.len(), |i| scheme_end + i);
    let mut url = format!("{}/{name}", &main[..authority_end]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Runs each listed `async fn NAME(store: Store)` as `sqlite::NAME` and `postgres::NAME`,
/// each on a fresh database.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::testkit::sqlite().await;
                    assert_eq!(db.store.backend(), $crate::Backend::Sqlite);
                    super::$name(db.store.clone()).await;
                    db.store.close().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::testkit::postgres().await;
                    assert_eq!(db.store.backend(), $crate::Backend::Postgres);
                    super::$name(db.store.clone()).await;
                    db.store.close().await;
                }
            )*
        }
    };
}
