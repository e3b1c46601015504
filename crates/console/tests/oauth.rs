//! Access tokens on both backends: issued to the right client credentials only, stored hashed,
//! checked with the account's permissions as they are now, expired on the injected clock,
//! revoked at once by a disable, a rotation or a deletion; no token and no client secret is
//! ever written to the database or a log.

use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use console::accounts::{CommandAccess, Permissions};
use console::oauth::Need;
use console::{Clock, ConsoleStore};
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
        Duration::ZERO
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

async fn tokens_follow_the_account(store: Store) {
    let (db, clock) = open(store).await;
    let ttl = Duration::from_secs(3600);
    let issued =
        db.create_api_account("Ops", &perms(CommandAccess::Read, false, true, Some("East"))).await.unwrap();
    let (id, secret) = (issued.account.client_id.clone(), issued.client_secret.clone());

    assert_eq!(db.issue_token(&id, "wrong", ttl).await.unwrap_err().code(), "PCC051");
    assert_eq!(db.issue_token("unknown", &secret, ttl).await.unwrap_err().code(), "PCC051");
    let t = db.issue_token(&id, &secret, ttl).await.unwrap();
    assert_eq!(t.expires_in, 3600);
    assert!(!format!("{t:?}").contains(t.access_token.as_str()));

    let who = db.authorize(&t.access_token, Need::CommandRead).await.unwrap();
    assert_eq!((who.name.as_str(), who.ecm_group.as_deref()), ("Ops", Some("East")));
    assert_eq!(db.authorize(&t.access_token, Need::Ecm).await.unwrap().account_id, issued.account.id);
    for need in [Need::CommandFull, Need::Reporting] {
        assert_eq!(db.authorize(&t.access_token, need).await.unwrap_err().code(), "PCC055", "{need:?}");
    }
    for bad in ["", "   ", "not-a-token"] {
        assert_eq!(db.authorize(bad, Need::CommandRead).await.unwrap_err().code(), "PCC054");
    }
    // Tokens are stored hashed.
    let hashes: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM console_access_tokens")
        .fetch_all(db.store().raw_pool())
        .await
        .unwrap();
    assert_eq!(hashes, [web::token::sha256_hex(t.access_token.as_bytes())]);

    // Expiry, on the injected clock.
    clock.advance(3599);
    db.authorize(&t.access_token, Need::CommandRead).await.unwrap();
    clock.advance(1);
    assert_eq!(db.authorize(&t.access_token, Need::CommandRead).await.unwrap_err().code(), "PCC054");

    // Disabling revokes at once and refuses new tokens; enabling does not bring old ones back.
    let t = db.issue_token(&id, &secret, ttl).await.unwrap();
    db.set_api_account_enabled(&id, false).await.unwrap();
    assert_eq!(db.authorize(&t.access_token, Need::CommandRead).await.unwrap_err().code(), "PCC054");
    assert_eq!(db.issue_token(&id, &secret, ttl).await.unwrap_err().code(), "PCC051");
    db.set_api_account_enabled(&id, true).await.unwrap();
    assert_eq!(db.authorize(&t.access_token, Need::CommandRead).await.unwrap_err().code(), "PCC054");

    // Rotation: the old secret and its tokens stop working; the new secret works.
    let t = db.issue_token(&id, &secret, ttl).await.unwrap();
    let rotated = db.rotate_api_account_secret(&id).await.unwrap();
    assert_eq!(db.authorize(&t.access_token, Need::CommandRead).await.unwrap_err().code(), "PCC054");
    assert_eq!(db.issue_token(&id, &secret, ttl).await.unwrap_err().code(), "PCC051");
    let t = db.issue_token(&id, &rotated.client_secret, ttl).await.unwrap();
    db.authorize(&t.access_token, Need::CommandRead).await.unwrap();

    // Permissions are read on every call.
    db.set_api_account_permissions(&id, &perms(CommandAccess::None, true, false, None)).await.unwrap();
    assert_eq!(db.authorize(&t.access_token, Need::CommandRead).await.unwrap_err().code(), "PCC055");
    db.authorize(&t.access_token, Need::Reporting).await.unwrap();

    db.delete_api_account(&id).await.unwrap();
    assert_eq!(db.authorize(&t.access_token, Need::Reporting).await.unwrap_err().code(), "PCC054");
}

async fn the_token_account_is_returned_whatever_its_permissions(store: Store) {
    let (db, _) = open(store).await;
    let issued =
        db.create_api_account("No ECM", &perms(CommandAccess::Read, false, false, None)).await.unwrap();
    let t = db
        .issue_token(&issued.account.client_id, &issued.client_secret, Duration::from_secs(60))
        .await
        .unwrap();
    let account = db.token_account(&t.access_token).await.unwrap();
    assert_eq!((account.id.as_str(), account.permissions.ecm_api), (issued.account.id.as_str(), false));
    assert_eq!(db.authorize(&t.access_token, Need::Ecm).await.unwrap_err().code(), "PCC055");
    assert_eq!(db.token_account("nope").await.unwrap_err().code(), "PCC054");
}

/// Log lines of this test process.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter("trace")
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        logs
    })
    .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_reaches_the_database_files_or_the_logs() {
    let logs = capture_logs();
    let test_db = store::testkit::sqlite().await;
    let (db, clock) = open(test_db.store.clone()).await;
    let ttl = Duration::from_secs(600);
    let issued = db.create_api_account("Ops", &perms(CommandAccess::Full, true, true, None)).await.unwrap();
    let id = issued.account.client_id.clone();
    let mut secrets = vec![issued.client_secret.to_string()];
    let mut tokens = Vec::new();
    for _ in 0..2 {
        tokens.push(db.issue_token(&id, &issued.client_secret, ttl).await.unwrap().access_token.to_string());
    }
    db.authorize(&tokens[0], Need::CommandFull).await.unwrap();
    // Mistakes that put a secret where an ID or a token goes.
    db.issue_token(&issued.client_secret, &issued.client_secret, ttl).await.unwrap_err();
    db.authorize(&issued.client_secret, Need::CommandRead).await.unwrap_err();
    clock.advance(601);
    db.authorize(&tokens[1], Need::CommandRead).await.unwrap_err();
    let rotated = db.rotate_api_account_secret(&id).await.unwrap();
    secrets.push(rotated.client_secret.to_string());
    tokens.push(db.issue_token(&id, &rotated.client_secret, ttl).await.unwrap().access_token.to_string());
    db.authorize(&tokens[0], Need::CommandRead).await.unwrap_err();
    db.set_api_account_enabled(&id, false).await.unwrap();
    test_db.store.close().await;

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("access token issued"), "the logs were captured: {logs}");
    let dir = test_db.dir.as_ref().unwrap().path();
    let files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    assert!(files.iter().any(|(name, bytes)| name.ends_with("portcullis.db") && !bytes.is_empty()));
    for planted in secrets.iter().chain(&tokens) {
        assert!(!logs.contains(planted.as_str()), "a log line holds a secret or token");
        for (name, bytes) in &files {
            assert!(
                !bytes.windows(planted.len()).any(|w| w == planted.as_bytes()),
                "{name} holds a secret or token"
            );
        }
    }
}

store::on_both_backends!(tokens_follow_the_account, the_token_account_is_returned_whatever_its_permissions);
