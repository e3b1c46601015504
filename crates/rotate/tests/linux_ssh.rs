//! The `linux-ssh` rotator against a real OpenSSH server (Debian's sshd, started per test on
//! 127.0.0.1) and throw-away Linux users. Needs root, so every test is
//! `#[ignore = "needs root"]`; CI runs as root and runs them (`--run-ignored all`).

use rotate::{generate_password, PasswordPolicy, Registry};
use testkit::rotation::request;
use testkit::ssh::{openssh_login_works, ssh_login_works, LinuxUser, Sshd};

/// Rotates `account` through `functional` and proves: before, the old password logs in; after,
/// the new one does and the old one does not.
async fn rotate_and_prove(sshd: &Sshd, account: &LinuxUser, old: &str, functional: (&str, &str)) {
    assert!(ssh_login_works(sshd.port, &account.name, old).await, "precondition: old password logs in");
    let new = generate_password(&PasswordPolicy::default()).unwrap();
    let req = request("linux-ssh", sshd.port, &account.name, old, &new, Some(functional));

    let result = Registry::builtin().rotate(&req).await;

    assert!(result.is_ok(), "rotation failed: {:?}\nsshd log:\n{}", result, sshd.log());
    assert!(ssh_login_works(sshd.port, &account.name, &new).await, "the new password logs in over SSH");
    assert!(!ssh_login_works(sshd.port, &account.name, old).await, "the old password no longer logs in");
    // The same with OpenSSH's own client.
    assert!(openssh_login_works(sshd.port, &account.name, &new), "ssh: the new password logs in");
    assert!(!openssh_login_works(sshd.port, &account.name, old), "ssh: the old password is refused");
}

/// A functional account that must give its password to sudo (`sudo -S`).
#[tokio::test]
#[ignore = "needs root"]
async fn functional_sudo_user_rotates_an_account_new_password_logs_in_and_old_fails() {
    let sshd = Sshd::start();
    let mut admin = LinuxUser::create("pcfa", "Admin-pw-1!");
    admin.allow_sudo(false);
    let account = LinuxUser::create("pcac", "Old-pw-2#x");
    rotate_and_prove(&sshd, &account, "Old-pw-2#x", (&admin.name, "Admin-pw-1!")).await;
}

/// A functional account whose sudo needs no password (`sudo -n`).
#[tokio::test]
#[ignore = "needs root"]
async fn functional_nopasswd_sudo_user_rotates_an_account() {
    let sshd = Sshd::start();
    let mut admin = LinuxUser::create("pcfn", "Admin-pw-3!");
    admin.allow_sudo(true);
    let account = LinuxUser::create("pcac", "Old-pw-4#y");
    rotate_and_prove(&sshd, &account, "Old-pw-4#y", (&admin.name, "Admin-pw-3!")).await;
}

/// A functional account with uid 0 runs chpasswd directly (a uid-0 alias, so that root's own
/// password is never touched by the test).
#[tokio::test]
#[ignore = "needs root"]
async fn functional_uid0_account_rotates_an_account_with_chpasswd() {
    let sshd = Sshd::start();
    let root = LinuxUser::create_uid0_alias("Root-alias-pw-5");
    let account = LinuxUser::create("pcac", "Old-pw-6#z");
    rotate_and_prove(&sshd, &account, "Old-pw-6#z", (&root.name, "Root-alias-pw-5")).await;
}

/// A functional account that may not use sudo: PCR012, nothing changed.
#[tokio::test]
#[ignore = "needs root"]
async fn a_functional_account_without_sudo_is_refused_and_the_old_password_stays() {
    let sshd = Sshd::start();
    let admin = LinuxUser::create("pcfx", "Admin-pw-7!");
    let account = LinuxUser::create("pcac", "Old-pw-8#w");
    let req = request(
        "linux-ssh",
        sshd.port,
        &account.name,
        "Old-pw-8#w",
        "New-pw-9#v",
        Some((&admin.name, "Admin-pw-7!")),
    );

    let err = Registry::builtin().rotate(&req).await.expect_err("no sudo");
    println!("got: {err}");

    assert_eq!(err.code(), "PCR012", "{err}");
    assert!(!err.may_have_changed());
    assert!(ssh_login_works(sshd.port, &account.name, "Old-pw-8#w").await, "old password still logs in");
    assert!(!ssh_login_works(sshd.port, &account.name, "New-pw-9#v").await);
}

/// An account that does not exist: chpasswd refuses, PCR012.
#[tokio::test]
#[ignore = "needs root"]
async fn a_missing_account_is_refused() {
    let sshd = Sshd::start();
    let root = LinuxUser::create_uid0_alias("Root-alias-pw-10");
    let req = request(
        "linux-ssh",
        sshd.port,
        "pcnosuchuser",
        "x",
        "New-pw-11#u",
        Some((&root.name, "Root-alias-pw-10")),
    );

    let err = Registry::builtin().rotate(&req).await.expect_err("no such user");
    println!("got: {err}");

    assert_eq!(err.code(), "PCR012", "{err}");
    assert!(err.to_string().contains("pcnosuchuser"), "{err}");
}

/// Without a functional account: the account logs in with its current password and runs
/// `passwd` on a PTY; afterwards the new password logs in and the old one does not.
#[tokio::test]
#[ignore = "needs root"]
async fn the_account_changes_its_own_password_with_passwd_when_there_is_no_functional_account() {
    let sshd = Sshd::start();
    let account = LinuxUser::create("pcow", "Own-old-pw-12");
    let new = generate_password(&PasswordPolicy::default()).unwrap();
    let req = request("linux-ssh", sshd.port, &account.name, "Own-old-pw-12", &new, None);

    let result = Registry::builtin().rotate(&req).await;

    assert!(result.is_ok(), "rotation failed: {:?}\nsshd log:\n{}", result, sshd.log());
    assert!(ssh_login_works(sshd.port, &account.name, &new).await, "the new password logs in over SSH");
    assert!(!ssh_login_works(sshd.port, &account.name, "Own-old-pw-12").await, "the old one no longer does");
    assert!(openssh_login_works(sshd.port, &account.name, &new), "ssh: the new password logs in");
    assert!(
        !openssh_login_works(sshd.port, &account.name, "Own-old-pw-12"),
        "ssh: the old password is refused"
    );
}

/// A wrong current password (no functional account): PCR011, nothing changed.
#[tokio::test]
#[ignore = "needs root"]
async fn a_wrong_current_password_is_a_refused_login() {
    let sshd = Sshd::start();
    let account = LinuxUser::create("pcow", "Own-old-pw-13");
    let req = request("linux-ssh", sshd.port, &account.name, "Not-the-password", "New-pw-14#t", None);

    let err = Registry::builtin().rotate(&req).await.expect_err("wrong password");
    println!("got: {err}");

    assert_eq!(err.code(), "PCR011", "{err}");
    assert!(!err.may_have_changed());
    assert!(ssh_login_works(sshd.port, &account.name, "Own-old-pw-13").await, "old password still logs in");
}

/// A server that takes passwords only through PAM's keyboard-interactive dialogue: both the
/// functional login and the proof login fall back to it (checked with OpenSSH's client).
#[tokio::test]
#[ignore = "needs root"]
async fn a_keyboard_interactive_only_server_is_rotated_too() {
    let sshd = Sshd::start_keyboard_interactive_only();
    let mut admin = LinuxUser::create("pcfk", "Admin-pw-15!");
    admin.allow_sudo(false);
    let account = LinuxUser::create("pcac", "Old-pw-16#s");
    assert!(!ssh_login_works(sshd.port, &account.name, "Old-pw-16#s").await, "the password method is off");
    assert!(
        openssh_login_works(sshd.port, &account.name, "Old-pw-16#s"),
        "precondition: old password logs in"
    );
    let new = generate_password(&PasswordPolicy::default()).unwrap();
    let req = request(
        "linux-ssh",
        sshd.port,
        &account.name,
        "Old-pw-16#s",
        &new,
        Some((&admin.name, "Admin-pw-15!")),
    );

    let result = Registry::builtin().rotate(&req).await;

    assert!(result.is_ok(), "rotation failed: {:?}\nsshd log:\n{}", result, sshd.log());
    assert!(openssh_login_works(sshd.port, &account.name, &new), "ssh: the new password logs in");
    assert!(
        !openssh_login_works(sshd.port, &account.name, "Old-pw-16#s"),
        "ssh: the old password is refused"
    );

    let wrong = request(
        "linux-ssh",
        sshd.port,
        &account.name,
        "x",
        "New-pw-17#r",
        Some((&admin.name, "Wrong-pw-18")),
    );
    let err = Registry::builtin().rotate(&wrong).await.expect_err("wrong functional password");
    assert_eq!(err.code(), "PCR011", "{err}");
}

/// The connection drops while chpasswd runs (the functional account's shell kills its own sshd
/// session): the outcome is unknown, so the error is PCR013 and says the change may have
/// happened — the vault then tries the pending password first.
#[tokio::test]
#[ignore = "needs root"]
async fn a_connection_lost_during_the_change_may_have_changed_the_password() {
    let sshd = Sshd::start();
    let mut root = LinuxUser::create_uid0_alias("Root-alias-pw-19");
    root.set_session_killing_shell("chpasswd");
    let account = LinuxUser::create("pcac", "Old-pw-20#q");
    let req = request(
        "linux-ssh",
        sshd.port,
        &account.name,
        "Old-pw-20#q",
        "New-pw-21#p",
        Some((&root.name, "Root-alias-pw-19")),
    );

    let err = Registry::builtin().rotate(&req).await.expect_err("connection lost");
    println!("got: {err}");

    assert_eq!(err.code(), "PCR013", "{err}");
    assert!(err.may_have_changed());
}

/// The host key is remembered on first use: after the server comes back with another key on the
/// same address, the same rotator refuses to talk to it (PCR017) and sends nothing.
#[tokio::test]
#[ignore = "needs root"]
async fn a_changed_host_key_is_refused_after_the_first_use() {
    let sshd = Sshd::start();
    let port = sshd.port;
    let root = LinuxUser::create_uid0_alias("Root-alias-pw-22");
    let account = LinuxUser::create("pcac", "Old-pw-23#o");
    let registry = Registry::builtin();
    let first = request(
        "linux-ssh",
        port,
        &account.name,
        "Old-pw-23#o",
        "Mid-pw-24#n",
        Some((&root.name, "Root-alias-pw-22")),
    );
    registry.rotate(&first).await.expect("first rotation");
    drop(sshd);
    let other = Sshd::start_on_port(port);
    let second = request(
        "linux-ssh",
        port,
        &account.name,
        "Mid-pw-24#n",
        "New-pw-25#m",
        Some((&root.name, "Root-alias-pw-22")),
    );

    let err = registry.rotate(&second).await.expect_err("another host key");
    println!("got: {err}");

    assert_eq!(err.code(), "PCR017", "{err}");
    assert!(!err.may_have_changed());
    assert!(ssh_login_works(other.port, &account.name, "Mid-pw-24#n").await, "the password was not changed");
    // A fresh rotator (no memory of the first key) goes through.
    Registry::builtin().rotate(&second).await.expect("rotation with a new rotator");
}

/// The vault checks whether a pending password is already live by rotating with current = new.
/// Without a functional account `passwd` would refuse an unchanged password, so that request is a
/// plain login: Ok for the live password, PCR011 (nothing changed) for another.
#[tokio::test]
#[ignore = "needs root"]
async fn current_equal_to_new_without_functional_account_proves_the_password() {
    let sshd = Sshd::start();
    let account = LinuxUser::create("pcow", "Live-pw-26");
    let registry = Registry::builtin();

    registry
        .rotate(&request("linux-ssh", sshd.port, &account.name, "Live-pw-26", "Live-pw-26", None))
        .await
        .expect("live");
    let err = registry
        .rotate(&request("linux-ssh", sshd.port, &account.name, "Other-pw-27", "Other-pw-27", None))
        .await
        .expect_err("not live");

    assert_eq!(err.code(), "PCR011", "{err}");
    assert!(!err.may_have_changed());
    assert!(openssh_login_works(sshd.port, &account.name, "Live-pw-26"), "the password is unchanged");
}
