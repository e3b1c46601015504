//! Check-in with "change password after release" changes the account's password on the real
//! target, through the system's functional account, and the vault hands out the new one: a
//! PostgreSQL role on Debian's PostgreSQL (scram-sha-256), and a Linux account behind Debian's
//! OpenSSH server (a functional sudo account). Each time the new password logs in and the old one
//! is refused, checked by independent clients. The servers and throw-away users come from the
//! workspace's test kit. The SSH test needs root (sshd, useradd): it is `#[ignore = "needs
//! root"]`, and CI, which runs as root, runs it.

use std::sync::Arc;

use store::seal::MasterKey;
use store::Store;
use testkit::postgres::Pg;
use testkit::ssh::{openssh_login_works, ssh_login_works, LinuxUser, Sshd};
use vault::admin::{NewAccount, NewPolicy, NewSystem};
use vault::model::{Role, Scope};
use vault::requests::{ConflictOption, NewRequest, Outcome};
use vault::{SystemClock, Vault};
use zeroize::Zeroizing;

/// A vault on a fresh data directory with one managed `platform` system at 127.0.0.1:`port`
/// (its functional account set) and one API-enabled account `account` that changes its
/// password after release; "alice" may request it under an all-day auto-approve policy.
/// Returns the vault (and its directory), the system ID, the account ID and alice.
async fn vault_with_account(
    platform: &str,
    port: u16,
    functional: (&str, &str),
    account: &str,
    password: &str,
) -> (Vault, tempfile::TempDir, i64, i64, vault::model::User) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let v = Vault::open(store, &MasterKey::from_bytes([9; 32]), Arc::new(SystemClock)).await.unwrap();
    let sys = v
        .create_system(NewSystem {
            name: "target".into(),
            host: "127.0.0.1".into(),
            platform: platform.into(),
            port: Some(port),
            workgroup: None,
        })
        .await
        .unwrap();
    v.set_functional_account(sys.id, functional.0, functional.1).await.unwrap();
    let managed = v
        .create_account(NewAccount {
            system: "target".into(),
            name: account.into(),
            password: Some(Zeroizing::new(password.into())),
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
    v.create_group("requesters").await.unwrap();
    v.set_group("requesters", Some(Some("auto".into())), None).await.unwrap();
    v.grant_role("requesters", Scope::System(sys.id), Role::Requestor).await.unwrap();
    v.add_member("requesters", "alice").await.unwrap();
    (v, dir, sys.id, managed.id, alice)
}

/// Releases the account to alice, checks that the vault hands out `old`, checks the account in
/// (which rotates it), and returns the password released next.
async fn release_check_in_release(
    v: &Vault,
    system: i64,
    account: i64,
    alice: &vault::model::User,
    old: &str,
    log: impl Fn() -> String,
) -> Zeroizing<String> {
    let release = || NewRequest {
        system_id: Some(system),
        account_id: account,
        duration_minutes: 10,
        reason: "maintenance".into(),
        access_type: "View".into(),
        conflict: ConflictOption::None,
        rotate_on_checkin: None,
    };
    let Outcome::Created(r1) = v.create_request(alice, release()).await.unwrap() else {
        panic!("no request")
    };
    assert_eq!(v.credential(alice, r1).await.unwrap().1.as_str(), old);
    v.check_in(vault::model::Actor::User(alice), r1).await.unwrap();
    let a = v.account(account).await.unwrap();
    assert!(a.rotation_error.is_none(), "rotation failed: {:?}\n{}", a.rotation_error, log());
    let Outcome::Created(r2) = v.create_request(alice, release()).await.unwrap() else {
        panic!("no request")
    };
    let new = v.credential(alice, r2).await.unwrap().1;
    assert_ne!(new.as_str(), old);
    new
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkin_rotates_a_postgresql_role_and_the_old_password_no_longer_logs_in() {
    const OLD: &str = "Old-Pg-Password-3c9e";
    let pg = Pg::start().await;
    pg.create_role("app_user", OLD, "").await;
    assert!(pg.login("app_user", OLD).await.is_ok(), "the role starts with the old password");
    let (v, _dir, sys, account, alice) =
        vault_with_account("postgresql", pg.port, ("postgres", &pg.super_password), "app_user", OLD).await;
    let new = release_check_in_release(&v, sys, account, &alice, OLD, || pg.server_log()).await;
    assert!(pg.login("app_user", &new).await.is_ok(), "the new password logs in");
    assert!(pg.login("app_user", OLD).await.is_err(), "the old password is refused");
    assert!(pg.psql_login_works("app_user", &new), "the new password logs in with psql");
    let rows = v.audit_rows(100).await.unwrap();
    let rotations: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r.action == "account.rotate")
        .map(|r| (r.actor.as_str(), r.result.as_str()))
        .collect();
    assert_eq!(rotations, vec![("vault", "ok")], "the rotation is audited once");
    assert_eq!(v.verify_audit().await.unwrap(), vault::audit::Verdict::Intact { rows: rows.len() as i64 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root"]
async fn checkin_rotates_a_linux_account_over_ssh_and_the_old_password_no_longer_logs_in() {
    const OLD: &str = "Old-Ssh-Password-7b1d";
    const FUNCTIONAL: &str = "Functional-Ssh-Password-42e0";
    let sshd = Sshd::start();
    let mut functional = LinuxUser::create("pcvf", FUNCTIONAL);
    functional.allow_sudo(false);
    let user = LinuxUser::create("pcva", OLD);
    assert!(ssh_login_works(sshd.port, &user.name, OLD).await, "the account starts with the old password");
    let (v, _dir, sys, account, alice) =
        vault_with_account("linux-ssh", sshd.port, (&functional.name, FUNCTIONAL), &user.name, OLD).await;
    let new = release_check_in_release(&v, sys, account, &alice, OLD, || sshd.log()).await;
    assert!(ssh_login_works(sshd.port, &user.name, &new).await, "the new password logs in (russh)");
    assert!(!ssh_login_works(sshd.port, &user.name, OLD).await, "the old password is refused (russh)");
    assert!(openssh_login_works(sshd.port, &user.name, &new), "the new password logs in (OpenSSH)");
    assert!(!openssh_login_works(sshd.port, &user.name, OLD), "the old password is refused (OpenSSH)");
}
