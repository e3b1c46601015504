//! Check-in with "change password after release" on a `postgresql` managed system changes the
//! role's password on a real PostgreSQL (Debian's, with scram-sha-256): the new password logs in,
//! the old one is refused, and the vault hands out the new one.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{ConnectOptions, Connection, Executor};
use store::seal::MasterKey;
use store::Store;
use vault::admin::{NewAccount, NewPolicy, NewSystem};
use vault::model::{Role, Scope};
use vault::requests::{ConflictOption, NewRequest, Outcome};
use vault::{SystemClock, Vault};
use zeroize::Zeroizing;

const OLD: &str = "Old-Pg-Password-3c9e";

struct Pg {
    port: u16,
    super_password: String,
    dir: PathBuf,
}

impl Pg {
    /// A server of this test alone (scripts/pg-test-server), switched from trust to scram-sha-256.
    async fn start() -> Pg {
        let dir = std::env::temp_dir().join(format!(
            "portcullis-vault-pg-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-server");
        let out = Command::new(script)
            .args(["start", "--dir"])
            .arg(&dir)
            .args(["--watch-pid", &std::process::id().to_string()])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
        assert!(
            out.status.success(),
            "this test needs Debian's PostgreSQL server (run scripts/install-test-deps): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let port =
            url.rsplit(':').next().and_then(|r| r.split('/').next()).and_then(|p| p.parse().ok()).unwrap();
        let pg = Pg { port, super_password: format!("Super-{}", uuid::Uuid::new_v4().simple()), dir };
        let mut c = pg.options("postgres", None).connect().await.expect("trust connection");
        c.execute(format!("ALTER ROLE postgres PASSWORD '{}'", pg.super_password).as_str()).await.unwrap();
        c.execute(format!("CREATE ROLE app_user LOGIN PASSWORD '{OLD}'").as_str()).await.unwrap();
        std::fs::write(
            pg.dir.join("data/pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n",
        )
        .unwrap();
        c.execute("SELECT pg_reload_conf()").await.unwrap();
        c.close().await.ok();
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

    async fn login(&self, user: &str, password: &str) -> Result<PgConnection, sqlx::Error> {
        self.options(user, Some(password)).connect().await
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-server");
        let _ = Command::new(script).arg("stop").arg(&self.dir).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkin_rotates_a_postgresql_role_and_the_old_password_no_longer_logs_in() {
    let pg = Pg::start().await;
    assert!(pg.login("app_user", OLD).await.is_ok(), "the role starts with the old password");

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let v = Vault::open(store, &MasterKey::from_bytes([9; 32]), Arc::new(SystemClock)).await.unwrap();
    let sys = v
        .create_system(NewSystem {
            name: "db".into(),
            host: "127.0.0.1".into(),
            platform: "postgresql".into(),
            port: Some(pg.port),
            workgroup: None,
        })
        .await
        .unwrap();
    v.set_functional_account(sys.id, "postgres", &pg.super_password).await.unwrap();
    let account = v
        .create_account(NewAccount {
            system: "db".into(),
            name: "app_user".into(),
            password: Some(Zeroizing::new(OLD.into())),
            api_enabled: true,
            change_after_release: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let alice = v.create_user("alice", None, None).await.unwrap();
    v.create_policy(NewPolicy {
        name: "auto".into(),
        auto_approve: true,
        approvals_required: 0,
        all_day: true,
        window_start: 0,
        window_end: 1440,
        max_minutes: 60,
    })
    .await
    .unwrap();
    v.create_group("dbas").await.unwrap();
    v.set_group("dbas", Some(Some("auto".into())), None).await.unwrap();
    v.grant_role("dbas", Scope::System(sys.id), Role::Requestor).await.unwrap();
    v.add_member("dbas", "alice").await.unwrap();

    let new_request = |minutes| NewRequest {
        system_id: Some(sys.id),
        account_id: account.id,
        duration_minutes: minutes,
        reason: "maintenance".into(),
        access_type: "View".into(),
        conflict: ConflictOption::None,
        rotate_on_checkin: None,
    };
    let Outcome::Created(r1) = v.create_request(&alice, new_request(10)).await.unwrap() else { panic!() };
    assert_eq!(v.credential(&alice, r1).await.unwrap().1.as_str(), OLD);
    v.check_in(Some(&alice), r1).await.unwrap();

    let a = v.account(account.id).await.unwrap();
    assert!(a.rotation_error.is_none(), "rotation failed: {:?}", a.rotation_error);
    let Outcome::Created(r2) = v.create_request(&alice, new_request(10)).await.unwrap() else { panic!() };
    let new = v.credential(&alice, r2).await.unwrap().1;
    assert_ne!(new.as_str(), OLD);
    assert!(pg.login("app_user", &new).await.is_ok(), "the new password logs in");
    assert!(pg.login("app_user", OLD).await.is_err(), "the old password is refused");
    assert!(
        v.verify_audit().await.unwrap() == vault::audit::Verdict::Intact { rows: 1 },
        "the rotation is audited"
    );
}
