//! The console's tables on both backends: migrations, API accounts, jump items and groups,
//! policies, host-key pins, sessions and their events, connected brokers.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use console::accounts::{CommandAccess, Permissions};
use console::db::{EventKind, NewBroker, NewSession, BROKER_KEEPALIVE};
use console::items::{ItemType, JumpItemUpdate, NewJumpItem};
use console::ssh::{HostKey, HostKeyPins, PinCheck};
use console::{Clock, ConsoleStore, MIGRATIONS};
use store::Store;

/// A wall clock the test moves.
#[derive(Default)]
struct TestClock(AtomicI64);

impl TestClock {
    fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn unix_seconds(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
    fn monotonic(&self) -> Duration {
        Duration::from_secs(self.0.load(Ordering::SeqCst).max(0) as u64)
    }
}

async fn open(store: Store) -> (ConsoleStore, Arc<TestClock>) {
    let clock = Arc::new(TestClock(AtomicI64::new(1_800_000_000)));
    let db = ConsoleStore::open(store).await.expect("console tables").with_clock(clock.clone());
    (db, clock)
}

fn perms(command: CommandAccess, reporting: bool, ecm: bool, group: Option<&str>) -> Permissions {
    Permissions {
        command_api: command,
        reporting_api: reporting,
        ecm_api: ecm,
        ecm_group: group.map(Into::into),
    }
}

#[test]
fn every_migration_file_is_embedded() {
    for (backend, dir, embedded) in [
        (store::Backend::Sqlite, "sqlite", MIGRATIONS.sqlite),
        (store::Backend::Postgres, "postgres", MIGRATIONS.postgres),
    ] {
        let path = format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<String> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let versions: Vec<i64> =
            files.iter().map(|f| f.split('_').next().unwrap().parse().unwrap()).collect();
        assert_eq!(versions, MIGRATIONS.embedded_versions(backend), "{dir}");
        assert!(versions.iter().all(|v| MIGRATIONS.versions.contains(v)));
        assert_eq!(embedded.len(), files.len());
    }
}

async fn migrations_are_idempotent(store: Store) {
    ConsoleStore::open(store.clone()).await.unwrap();
    ConsoleStore::open(store.clone()).await.unwrap();
    store.migrate_set(&MIGRATIONS).await.unwrap();
}

async fn api_accounts_are_created_listed_changed_and_deleted(store: Store) {
    let (db, _) = open(store).await;
    let issued =
        db.create_api_account(" Reporter ", &perms(CommandAccess::Read, true, false, None)).await.unwrap();
    let a = &issued.account;
    assert_eq!(a.name, "Reporter");
    assert!(a.enabled);
    assert_eq!(a.client_id.len(), 32);
    assert_eq!(issued.client_secret.len(), 43);
    assert!(!format!("{issued:?}").contains(issued.client_secret.as_str()));

    // ECM without a group serves the default one; a group without ECM is refused.
    let ecm = db.create_api_account("Broker", &perms(CommandAccess::None, false, true, None)).await.unwrap();
    assert_eq!(ecm.account.permissions.ecm_group.as_deref(), Some("Default"));
    let e =
        db.create_api_account("X", &perms(CommandAccess::None, false, false, Some("G"))).await.unwrap_err();
    assert_eq!(e.code(), "PCC043");
    let e = db.create_api_account("reporter", &Permissions::default()).await.unwrap_err();
    assert_eq!(e.code(), "PCC042", "names are unique without regard to case: {e}");
    assert_eq!(db.create_api_account("", &Permissions::default()).await.unwrap_err().code(), "PCC043");

    let names: Vec<String> = db.api_accounts().await.unwrap().into_iter().map(|a| a.name).collect();
    assert_eq!(names, ["Broker", "Reporter"]);
    for key in [a.id.as_str(), a.client_id.as_str(), "REPORTER"] {
        assert_eq!(db.api_account(key).await.unwrap().id, a.id, "{key}");
    }
    assert_eq!(db.api_account("nobody").await.unwrap_err().code(), "PCC041");

    assert!(!db.set_api_account_enabled("Reporter", false).await.unwrap().enabled);
    assert!(db.set_api_account_enabled("Reporter", true).await.unwrap().enabled);
    let changed = db
        .set_api_account_permissions("Reporter", &perms(CommandAccess::Full, false, true, Some("East")))
        .await
        .unwrap();
    assert_eq!(changed.permissions, perms(CommandAccess::Full, false, true, Some("East")));

    let rotated = db.rotate_api_account_secret(&a.client_id).await.unwrap();
    assert_ne!(rotated.client_secret.as_str(), issued.client_secret.as_str());
    assert_eq!(rotated.account.client_id, a.client_id);

    db.delete_api_account("Reporter").await.unwrap();
    assert_eq!(db.api_account(&a.id).await.unwrap_err().code(), "PCC041");
    // The database holds the secret's hash, never the secret.
    let raw: Vec<String> = sqlx::query_scalar("SELECT secret_hash FROM console_api_accounts")
        .fetch_all(db.store().raw_pool())
        .await
        .unwrap();
    assert_eq!(raw, [web::token::sha256_hex(ecm.client_secret.as_bytes())]);
}

async fn jump_items_groups_and_policies(store: Store) {
    let (db, _) = open(store).await;
    let ssh = db.create_jump_item(&NewJumpItem::ssh("web-01", "10.0.0.5")).await.unwrap();
    assert_eq!((ssh.port, ssh.jump_group.as_str()), (Some(22), "Default"));
    assert_eq!(ssh.endpoint().unwrap().port(), 22);
    let mut new = NewJumpItem::ssh("db-01", "db01.example");
    new.port = Some(2222);
    new.jump_group = Some("Databases".into());
    new.tag = Some("prod".into());
    let db1 = db.create_jump_item(&new).await.unwrap();
    assert_eq!(
        (db1.port, db1.jump_group.as_str(), db1.tag.as_deref()),
        (Some(2222), "Databases", Some("prod"))
    );
    let web = db
        .create_jump_item(&NewJumpItem {
            name: "intranet".into(),
            item_type: ItemType::Web,
            host: None,
            port: None,
            url: Some("https://intranet.example:8443/login".into()),
            application: None,
            jump_group: Some("databases".into()),
            tag: None,
        })
        .await
        .unwrap();
    assert_eq!((web.host.as_str(), web.jump_group.as_str()), ("intranet.example", "Databases"));
    assert_eq!(web.endpoint().unwrap_err().code(), "PCC001");
    let new_url = JumpItemUpdate { url: Some(Some("https://portal.example/".into())), ..Default::default() };
    assert_eq!(db.update_jump_item(&web.id, &new_url).await.unwrap().host, "portal.example");
    let back = JumpItemUpdate {
        url: Some(Some("https://intranet.example:8443/login".into())),
        ..Default::default()
    };
    db.update_jump_item(&web.id, &back).await.unwrap();
    assert_eq!(db.create_jump_item(&NewJumpItem::ssh("WEB-01", "h")).await.unwrap_err().code(), "PCC042");
    assert_eq!(db.create_jump_item(&NewJumpItem::ssh("x", "bad host")).await.unwrap_err().code(), "PCC043");

    let groups: Vec<String> = db.jump_groups().await.unwrap().into_iter().map(|g| g.name).collect();
    assert_eq!(groups, ["Databases", "Default"]);
    assert_eq!(db.create_jump_group("default").await.unwrap_err().code(), "PCC042");
    db.create_jump_group("Empty").await.unwrap();
    let names: Vec<String> = db.jump_items().await.unwrap().into_iter().map(|i| i.name).collect();
    assert_eq!(names, ["db-01", "intranet", "web-01"]);
    assert_eq!(db.jump_item("Web-01").await.unwrap().id, ssh.id);
    assert_eq!(db.jump_item(&ssh.id).await.unwrap().name, "web-01");

    // Policies → groups → items.
    assert_eq!(
        db.set_policy("DBAs", &["Databases".into(), "nope".into()]).await.unwrap_err().code(),
        "PCC041"
    );
    assert!(db.policies().await.unwrap().is_empty(), "an unknown group changes nothing");
    let grant =
        db.set_policy("DBAs", &["Databases".into(), "Empty".into(), "databases".into()]).await.unwrap();
    assert_eq!(grant.jump_groups, ["Databases", "Empty"]);
    db.set_policy("Helpdesk", &["Default".into()]).await.unwrap();
    let for_dbas: Vec<String> =
        db.jump_items_for_policies(&["dbas".into()]).await.unwrap().into_iter().map(|i| i.name).collect();
    assert_eq!(for_dbas, ["db-01", "intranet"]);
    let for_both = db.jump_items_for_policies(&["DBAs".into(), "Helpdesk".into()]).await.unwrap();
    assert_eq!(for_both.len(), 3);
    assert!(db.jump_items_for_policies(&[]).await.unwrap().is_empty());
    db.set_policy("DBAs", &[]).await.unwrap();
    let left: Vec<String> = db.policies().await.unwrap().into_iter().map(|p| p.policy).collect();
    assert_eq!(left, ["Helpdesk"]);

    // Update: a new address drops the pin; the name stays unique.
    let key = HostKey { algorithm: "ssh-ed25519".into(), fingerprint: "SHA256:a".into() };
    assert_eq!(db.check(&ssh.id, &key).await.unwrap(), PinCheck::PinnedNow);
    let renamed = db
        .update_jump_item(
            &ssh.id,
            &JumpItemUpdate { name: Some("web-1".into()), tag: Some(Some("t".into())), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!((renamed.name.as_str(), renamed.tag.as_deref()), ("web-1", Some("t")));
    assert!(db.pinned(&ssh.id).await.unwrap().is_some(), "a rename keeps the pin");
    let moved = db
        .update_jump_item(
            &ssh.id,
            &JumpItemUpdate { port: Some(Some(2200)), tag: Some(None), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!((moved.port, moved.tag), (Some(2200), None));
    assert!(db.pinned(&ssh.id).await.unwrap().is_none(), "a new port drops the pin");
    let e = db
        .update_jump_item(&ssh.id, &JumpItemUpdate { name: Some("DB-01".into()), ..Default::default() })
        .await;
    assert_eq!(e.unwrap_err().code(), "PCC042");
    let with_url = JumpItemUpdate { url: Some(Some("https://x".into())), ..Default::default() };
    assert_eq!(db.update_jump_item(&ssh.id, &with_url).await.unwrap_err().code(), "PCC043");

    db.delete_jump_item("web-1").await.unwrap();
    assert_eq!(db.jump_item(&ssh.id).await.unwrap_err().code(), "PCC041");
    assert_eq!(db.delete_jump_item("web-1").await.unwrap_err().code(), "PCC041");
}

async fn host_keys_are_pinned_once_even_under_concurrency(store: Store) {
    let (db, _) = open(store).await;
    let item = db.create_jump_item(&NewJumpItem::ssh("web-01", "10.0.0.5")).await.unwrap();
    let key = |fp: &str| HostKey { algorithm: "ssh-ed25519".into(), fingerprint: fp.into() };
    let mut tasks = Vec::new();
    for n in 0..8 {
        let (db, id) = (db.clone(), item.id.clone());
        tasks.push(tokio::spawn(async move { db.check(&id, &key(&format!("SHA256:{n}"))).await.unwrap() }));
    }
    let mut pinned_now = 0;
    for t in tasks {
        match t.await.unwrap() {
            PinCheck::PinnedNow => pinned_now += 1,
            PinCheck::Changed { .. } => {}
            PinCheck::Matches => panic!("every task offered another key"),
        }
    }
    assert_eq!(pinned_now, 1);
    let pinned = db.pinned(&item.id).await.unwrap().unwrap();
    assert_eq!(db.check(&item.id, &pinned).await.unwrap(), PinCheck::Matches);
    assert_eq!(
        db.check(&item.id, &key("SHA256:other")).await.unwrap(),
        PinCheck::Changed { pinned: pinned.clone() }
    );
    let other_algorithm = HostKey { algorithm: "ecdsa-sha2-nistp256".into(), ..pinned };
    assert!(matches!(db.check(&item.id, &other_algorithm).await.unwrap(), PinCheck::Changed { .. }));
    // No jump item, no pin: the check fails closed.
    assert_eq!(db.check("no-such-item", &key("SHA256:x")).await.unwrap_err().code(), "PCC013");
}

async fn sessions_and_their_events(store: Store) {
    let (db, clock) = open(store).await;
    let item = db.create_jump_item(&NewJumpItem::ssh("web-01", "10.0.0.5")).await.unwrap();
    let s = db
        .start_session(&NewSession { representative: "joe.user".into(), jump_item: "web-01".into() })
        .await
        .unwrap();
    assert_eq!((s.jump_item_id.as_deref(), s.jump_item_name.as_str()), (Some(item.id.as_str()), "web-01"));
    assert_eq!(s.ended_at, None);
    clock.advance(5);
    db.session_credential(&s.id, r"App01\helpdesk-01", Some(42), Some("approver.ann")).await.unwrap();
    db.session_event(&s.id, EventKind::CredentialInjected, "password login of helpdesk-01").await.unwrap();
    db.session_recording(&s.id, "/var/lib/portcullis/recordings/x.cast").await.unwrap();
    clock.advance(60);
    db.end_session(&s.id, "the representative closed the terminal").await.unwrap();
    db.end_session(&s.id, "again").await.unwrap();

    let got = db.session(&s.id).await.unwrap();
    assert_eq!(got.credential_display_name.as_deref(), Some(r"App01\helpdesk-01"));
    assert_eq!((got.vault_request_id, got.approver.as_deref()), (Some(42), Some("approver.ann")));
    assert_eq!(got.ended_at, Some(s.started_at + 65));
    assert_eq!(got.recording_path.as_deref(), Some("/var/lib/portcullis/recordings/x.cast"));
    let codes: Vec<String> = db.session_events(&s.id).await.unwrap().into_iter().map(|e| e.code).collect();
    assert_eq!(codes, ["session.started", "credential.released", "credential.injected", "session.ended"]);

    for e in [
        db.session_event("nope", EventKind::Failed, "x").await.unwrap_err(),
        db.session_credential("nope", "d", None, None).await.unwrap_err(),
        db.end_session("nope", "x").await.unwrap_err(),
        db.session("nope").await.unwrap_err(),
    ] {
        assert_eq!(e.code(), "PCC030");
    }
    assert_eq!(
        db.start_session(&NewSession { representative: "joe".into(), jump_item: "nope".into() })
            .await
            .unwrap_err()
            .code(),
        "PCC041"
    );

    // A second session; lists are newest first within the window.
    clock.advance(10);
    let s2 = db
        .start_session(&NewSession { representative: "ann".into(), jump_item: item.id.clone() })
        .await
        .unwrap();
    let all: Vec<String> = db.sessions(0, i64::MAX, 100).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(all, [s2.id.clone(), s.id.clone()]);
    assert_eq!(db.sessions(0, i64::MAX, 1).await.unwrap().len(), 1);
    assert_eq!(db.sessions(s2.started_at, i64::MAX, 10).await.unwrap().len(), 1);
    assert!(db.sessions(0, s.started_at, 10).await.unwrap().is_empty());

    // The report outlives its jump item.
    db.delete_jump_item(&item.id).await.unwrap();
    let kept = db.session(&s.id).await.unwrap();
    assert_eq!((kept.jump_item_id, kept.jump_item_name.as_str()), (None, "web-01"));
    assert_eq!(db.session_events(&s.id).await.unwrap().len(), 4);
}

async fn brokers_are_listed_oldest_first_while_seen(store: Store) {
    let (db, clock) = open(store).await;
    let account = db.create_api_account("ECM", &perms(CommandAccess::None, false, true, None)).await.unwrap();
    let new = |name: &str| NewBroker {
        id: format!("conn-{name}"),
        connected_at: clock.unix_seconds(),
        name: name.into(),
        version: "0.1.0".into(),
        ecm_group: "Default".into(),
        api_account_id: Some(account.account.id.clone()),
        node: "node-a".into(),
    };
    // Two in the same second keep their registration order.
    let b1 = db.broker_connected(&new("b1")).await.unwrap();
    assert_eq!((b1.id.as_str(), b1.connected_at, b1.last_seen), ("conn-b1", 1_800_000_000, 1_800_000_000));
    let b2 = db.broker_connected(&new("b2")).await.unwrap();
    clock.advance(1);
    let b3 = db.broker_connected(&new("b3")).await.unwrap();
    assert_eq!(b1.api_account.as_deref(), Some("ECM"));
    let names = |v: Vec<console::db::BrokerRow>| v.into_iter().map(|b| b.name).collect::<Vec<_>>();
    assert_eq!(names(db.connected_brokers(BROKER_KEEPALIVE).await.unwrap()), ["b1", "b2", "b3"]);

    // b2 stops being seen: after three intervals it is no longer listed.
    clock.advance(60);
    assert!(db.broker_seen(&b1.id, clock.unix_seconds()).await.unwrap());
    assert!(db.broker_seen(&b3.id, clock.unix_seconds()).await.unwrap());
    clock.advance(30);
    assert_eq!(names(db.connected_brokers(BROKER_KEEPALIVE).await.unwrap()), ["b1", "b3"]);
    assert_eq!(names(db.connected_brokers(Duration::from_secs(60)).await.unwrap()), ["b1", "b2", "b3"]);

    db.broker_disconnected(&b1.id).await.unwrap();
    db.broker_disconnected(&b1.id).await.unwrap();
    assert!(!db.broker_seen(&b1.id, clock.unix_seconds()).await.unwrap());
    // Registering under an ID that has a row replaces the row.
    let again = db.broker_connected(&new("b3")).await.unwrap();
    assert_eq!(again.connected_at, clock.unix_seconds());
    // Deleting the account keeps the broker's row without it.
    db.delete_api_account(&account.account.id).await.unwrap();
    let left = db.connected_brokers(BROKER_KEEPALIVE).await.unwrap();
    assert_eq!((left[0].name.as_str(), left[0].api_account_id.as_deref()), ("b3", None));

    // A row unseen for an hour is removed when another broker registers.
    clock.advance(3601);
    let later = NewBroker { api_account_id: None, connected_at: clock.unix_seconds(), ..new("b4") };
    db.broker_connected(&later).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM console_brokers")
        .fetch_one(db.store().raw_pool())
        .await
        .unwrap();
    assert_eq!(rows, 1);
    assert_eq!(b2.node, "node-a");
}

/// The endpoint's ed25519 host key as OpenSSH's own tools see it.
fn host_key_of(port: u16) -> HostKey {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let scan = Command::new("ssh-keyscan")
        .args(["-t", "ed25519", "-p", &port.to_string(), "127.0.0.1"])
        .stderr(Stdio::null())
        .output()
        .expect("run ssh-keyscan");
    let mut keygen = Command::new("ssh-keygen")
        .args(["-l", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run ssh-keygen");
    keygen.stdin.take().expect("stdin").write_all(&scan.stdout).expect("write");
    let out = keygen.wait_with_output().expect("ssh-keygen -l");
    let text = String::from_utf8_lossy(&out.stdout);
    let fingerprint = text.split_whitespace().nth(1).unwrap_or_else(|| panic!("no fingerprint in {text:?}"));
    HostKey { algorithm: "ssh-ed25519".into(), fingerprint: fingerprint.into() }
}

/// The database's pins guard a real SSH connection: the first key is stored, a reinstalled
/// endpoint's new key is refused before anything is sent, and the pin stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root"]
async fn the_database_pins_a_real_endpoints_host_key() {
    use console::ssh::SshConnector;
    use console::{Credential, PtyRequest, TermSize};
    use testkit::ssh::{LinuxUser, Sshd};

    let test_db = store::testkit::sqlite().await;
    let (db, _) = open(test_db.store.clone()).await;
    let sshd = Sshd::start();
    let port = sshd.port;
    let user = LinuxUser::create("pcd", "Db-pinned-pw-1");
    let item = db
        .create_jump_item(&NewJumpItem { port: Some(port), ..NewJumpItem::ssh("web-01", "127.0.0.1") })
        .await
        .unwrap();
    let connector = SshConnector::new(Arc::new(db.clone()));
    let pty = PtyRequest::xterm(TermSize::new(80, 24).unwrap());
    let login = || Credential::password(&user.name, zeroize::Zeroizing::new("Db-pinned-pw-1".into()));

    drop(connector.open(&item.endpoint().unwrap(), login(), &pty).await.expect("first login"));
    let pinned = db.pinned(&item.id).await.unwrap().expect("pinned on first use");
    assert_eq!(pinned, host_key_of(port));
    drop(connector.open(&item.endpoint().unwrap(), login(), &pty).await.expect("second login, same key"));

    drop(sshd);
    let sshd = Sshd::start_on_port(port);
    let e = connector.open(&item.endpoint().unwrap(), login(), &pty).await.expect_err("a new key is refused");
    assert_eq!(e.code(), "PCC012", "{e}");
    assert_eq!(db.pinned(&item.id).await.unwrap(), Some(pinned));
    let log = sshd.log();
    assert!(!log.contains("Accepted") && !log.contains("Failed password"), "nothing was sent: {log}");
}

store::on_both_backends!(
    migrations_are_idempotent,
    api_accounts_are_created_listed_changed_and_deleted,
    jump_items_groups_and_policies,
    host_keys_are_pinned_once_even_under_concurrency,
    sessions_and_their_events,
    brokers_are_listed_oldest_first_while_seen,
);
