//! A PostgreSQL server of one test alone with password authentication: started by
//! scripts/pg-test-server (through the store's kit), then pg_hba switched from trust to
//! scram-sha-256, with every statement logged; and logins over TCP and with `psql` to prove which
//! password works.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{ConnectOptions, Connection, Executor};

use crate::rotation::suffix;

/// A PostgreSQL server of this test alone, with scram-sha-256 on TCP and `log_statement = all`.
pub struct Pg {
    pub port: u16,
    pub super_password: String,
    pub dir: PathBuf,
}

static PG_COUNT: AtomicU32 = AtomicU32::new(0);

impl Pg {
    /// Starts a server. It never uses PORTCULLIS_TEST_PG_URL or the nextest-shared server: the
    /// test must switch authentication from trust to passwords, which would break other tests.
    pub async fn start() -> Pg {
        let dir = std::env::temp_dir().join(format!(
            "portcullis-rotate-pg-{}-{}-{}",
            std::process::id(),
            PG_COUNT.fetch_add(1, Ordering::SeqCst),
            suffix()
        ));
        let url = crate::db::start_pg_server(&dir, std::process::id()).unwrap_or_else(|e| panic!("{e}"));
        let port: u16 = url
            .rsplit(':')
            .next()
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {url:?}"));
        let pg = Pg { port, super_password: format!("Super-{}-pw", suffix()), dir };

        // Still trust: give the superuser a password, log every statement, then require passwords.
        let mut c = pg.options("postgres", None).connect().await.expect("trust connection");
        c.execute(format!("ALTER ROLE postgres PASSWORD '{}'", pg.super_password).as_str())
            .await
            .expect("set password");
        c.execute("ALTER SYSTEM SET log_statement = 'all'").await.expect("log_statement");
        std::fs::write(
            pg.dir.join("data/pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
        c.execute("SELECT pg_reload_conf()").await.expect("reload");
        c.close().await.ok();
        // The reload is asynchronous: wait until a password-less login is refused.
        let deadline = Instant::now() + Duration::from_secs(20);
        while pg.options("postgres", None).connect().await.is_ok() {
            assert!(Instant::now() < deadline, "the server still trusts logins after pg_reload_conf()");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        pg
    }

    fn options(&self, user: &str, password: Option<&str>) -> PgConnectOptions {
        let o = PgConnectOptions::new_without_pgpass()
            .host("127.0.0.1")
            .port(self.port)
            .username(user)
            .database("postgres")
            .ssl_mode(PgSslMode::Disable);
        match password {
            Some(p) => o.password(p),
            None => o,
        }
    }

    /// Logs in as `user` with `password` over TCP (scram-sha-256).
    pub async fn login(&self, user: &str, password: &str) -> Result<PgConnection, sqlx::Error> {
        self.options(user, Some(password)).connect().await
    }

    /// A superuser connection.
    pub async fn admin(&self) -> PgConnection {
        self.login("postgres", &self.super_password).await.expect("superuser login")
    }

    /// Creates a login role with a password (the server hashes it).
    pub async fn create_role(&self, name: &str, password: &str, extra: &str) {
        let ident = rotate::postgres::quote_identifier(name).expect("quotable");
        let mut c = self.admin().await;
        c.execute(format!("CREATE ROLE {ident} LOGIN {extra} PASSWORD '{password}'").as_str())
            .await
            .expect("CREATE ROLE");
        c.close().await.ok();
    }

    /// The server's log so far.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// The request target.
    pub fn target_port(&self) -> u16 {
        self.port
    }
}

/// Asserts that a login failed because the password was refused (SQLSTATE 28P01).
pub fn assert_password_refused(r: Result<PgConnection, sqlx::Error>, what: &str) {
    match r {
        Ok(_) => panic!("{what}: the login succeeded"),
        Err(sqlx::Error::Database(db)) => assert_eq!(db.code().as_deref(), Some("28P01"), "{what}: {db}"),
        Err(e) => panic!("{what}: expected a refused password, got {e}"),
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let script = crate::repo_root().join("scripts/pg-test-server");
        let _ = Command::new(script).arg("stop").arg(&self.dir).stderr(Stdio::null()).status();
    }
}

impl Pg {
    /// Whether `psql` (PostgreSQL's own client, libpq) logs in as `user` with `password`.
    /// `false` only for a refused password; any other failure panics.
    pub fn psql_login_works(&self, user: &str, password: &str) -> bool {
        let bin = std::fs::read_to_string(self.dir.join("bin")).expect("bin dir of the cluster");
        let psql = Path::new(bin.trim()).join("psql");
        let conn = format!("host=127.0.0.1 port={} dbname=postgres sslmode=disable", self.port);
        let out = Command::new(psql)
            .args([conn.as_str(), "-w", "-X", "-A", "-t", "-c", "SELECT current_user"])
            .env("PGUSER", user)
            .env("PGPASSWORD", password)
            .stdin(Stdio::null())
            .output()
            .expect("run psql");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), user);
            return true;
        }
        assert!(
            stderr.contains("password authentication failed"),
            "psql failed for another reason: {stderr}"
        );
        false
    }
}
