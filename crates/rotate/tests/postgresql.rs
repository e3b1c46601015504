//! The `postgresql` rotator against a real PostgreSQL server (Debian's, started per test with
//! scram-sha-256 password authentication and every statement logged).

use rotate::{generate_password, PasswordPolicy, Registry};
use sqlx::{Connection, Row};
use testkit::postgres::{assert_password_refused, Pg};
use testkit::rotation::request;

/// Through a functional superuser: afterwards the new password logs in, the old one is refused,
/// the server stores a SCRAM verifier, and the server's statement log (log_statement = all) shows
/// the ALTER ROLE but never the clear new password. The role name holds a double quote and a
/// space, so it only works when quoted right.
#[tokio::test]
async fn functional_superuser_rotates_a_role_new_password_logs_in_and_old_is_refused() {
    let pg = Pg::start().await;
    let account = "app \"svc\" user";
    let old = "Old-password-1";
    pg.create_role(account, old, "").await;
    pg.login(account, old).await.expect("precondition: the old password logs in");
    let new = generate_password(&PasswordPolicy::default()).unwrap();
    let req = request("postgresql", pg.port, account, old, &new, Some(("postgres", &pg.super_password)));

    Registry::builtin().rotate(&req).await.expect("rotation");

    let mut c = pg.login(account, &new).await.expect("the new password logs in");
    let who: String = sqlx::query_scalar("SELECT current_user").fetch_one(&mut c).await.unwrap();
    assert_eq!(who, account);
    c.close().await.ok();
    assert_password_refused(pg.login(account, old).await, "old password after rotation");
    // The same with PostgreSQL's own client (libpq).
    assert!(pg.psql_login_works(account, &new), "psql: the new password logs in");
    assert!(!pg.psql_login_works(account, old), "psql: the old password is refused");

    let mut admin = pg.admin().await;
    let stored: String = sqlx::query("SELECT rolpassword FROM pg_authid WHERE rolname = $1")
        .bind(account)
        .fetch_one(&mut admin)
        .await
        .unwrap()
        .get(0);
    assert!(stored.starts_with("SCRAM-SHA-256$4096:"), "{stored}");
    let log = pg.server_log();
    assert!(log.contains("ALTER ROLE \"app \"\"svc\"\" user\" PASSWORD 'SCRAM-SHA-256$4096:"), "{log}");
    assert!(!log.contains(new.as_str()), "the clear password is in the server log");
}

/// Without a functional account the role changes its own password with its current one.
#[tokio::test]
async fn the_account_rotates_its_own_password_when_there_is_no_functional_account() {
    let pg = Pg::start().await;
    let account = "selfservice";
    let old = "Own-old-password-2";
    pg.create_role(account, old, "").await;
    let new = generate_password(&PasswordPolicy { length: 20, ..PasswordPolicy::default() }).unwrap();
    let req = request("postgresql", pg.port, account, old, &new, None);

    Registry::builtin().rotate(&req).await.expect("rotation");

    pg.login(account, &new).await.expect("the new password logs in").close().await.ok();
    assert_password_refused(pg.login(account, old).await, "old password after rotation");
    assert!(pg.psql_login_works(account, &new), "psql: the new password logs in");
    assert!(!pg.psql_login_works(account, old), "psql: the old password is refused");
}

/// The verifier computed here equals the one PostgreSQL computes itself for the same password,
/// salt and iteration count (the server hashes a clear `PASSWORD '…'`; we recompute with its salt).
#[tokio::test]
async fn verifier_equals_the_one_postgresql_computes_for_the_same_salt() {
    use base64::Engine;
    let pg = Pg::start().await;
    let mut admin = pg.admin().await;
    // Includes a non-ASCII character that SASLprep maps (U+00A0 NO-BREAK SPACE -> space).
    for (i, password) in
        ["pencil", "Zx9!#$%&()*+,-./;<=>?@[]^_{|}~", "caf\u{e9}\u{a0}ol\u{e9}"].iter().enumerate()
    {
        let role = format!("verifier_{i}");
        pg.create_role(&role, password, "").await;
        let stored: String = sqlx::query("SELECT rolpassword FROM pg_authid WHERE rolname = $1")
            .bind(&role)
            .fetch_one(&mut admin)
            .await
            .unwrap()
            .get(0);
        let (head, _) = stored.split_once('$').and_then(|(_, rest)| rest.split_once('$')).unwrap();
        let (iterations, salt) = head.split_once(':').unwrap();
        let salt = base64::engine::general_purpose::STANDARD.decode(salt).unwrap();
        let ours = rotate::scram::verifier_with(password, &salt, iterations.parse().unwrap());
        assert_eq!(ours.as_str(), stored, "password #{i}");
    }
}

/// A functional account without the privilege to alter roles: PCR012, nothing changed, the old
/// password still logs in.
#[tokio::test]
async fn a_functional_account_without_privilege_is_refused_and_the_old_password_stays() {
    let pg = Pg::start().await;
    pg.create_role("weak_admin", "Weak-admin-pw-3", "").await;
    pg.create_role("managed", "Managed-old-pw-4", "").await;
    let req = request(
        "postgresql",
        pg.port,
        "managed",
        "Managed-old-pw-4",
        "Managed-new-pw-5",
        Some(("weak_admin", "Weak-admin-pw-3")),
    );

    let err = Registry::builtin().rotate(&req).await.expect_err("no privilege");
    println!("got: {err}");

    assert_eq!(err.code(), "PCR012", "{err}");
    assert!(!err.may_have_changed());
    assert!(err.to_string().contains("permission denied"), "{err}");
    pg.login("managed", "Managed-old-pw-4").await.expect("the old password still logs in").close().await.ok();
    assert_password_refused(pg.login("managed", "Managed-new-pw-5").await, "new password after refusal");
}

/// The vault's "is the pending password live?" request (current = new): without a functional
/// account it succeeds exactly when that password logs in; with one it makes it live.
#[tokio::test]
async fn current_equal_to_new_proves_or_sets_the_pending_password() {
    let pg = Pg::start().await;
    pg.create_role("pending_acct", "Live-pw-1", "").await;
    let registry = Registry::builtin();

    registry
        .rotate(&request("postgresql", pg.port, "pending_acct", "Live-pw-1", "Live-pw-1", None))
        .await
        .expect("live");
    let err = registry
        .rotate(&request("postgresql", pg.port, "pending_acct", "Pending-pw-2", "Pending-pw-2", None))
        .await
        .expect_err("not live");
    assert_eq!(err.code(), "PCR011", "{err}");
    assert!(pg.psql_login_works("pending_acct", "Live-pw-1"), "unchanged");

    let functional = Some(("postgres", pg.super_password.as_str()));
    registry
        .rotate(&request("postgresql", pg.port, "pending_acct", "Pending-pw-2", "Pending-pw-2", functional))
        .await
        .expect("set through the functional account");
    assert!(pg.psql_login_works("pending_acct", "Pending-pw-2"));
    assert!(!pg.psql_login_works("pending_acct", "Live-pw-1"));
}
