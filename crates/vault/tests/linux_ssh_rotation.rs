//! Check-in with "change password after release" on a `linux-ssh` managed system changes the
//! Linux account's password behind a real OpenSSH server (Debian's sshd, started by the test),
//! through a functional sudo account: the new password logs in (russh and OpenSSH's own client),
//! the old one is refused, and the vault hands out the new one. Needs root (sshd, useradd), as CI
//! runs; elsewhere it prints why it skipped.

#[path = "../../rotate/tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use store::seal::MasterKey;
use store::Store;
use support::{openssh_login_works, ssh_login_works, ssh_skip_reason, LinuxUser, Sshd};
use vault::admin::{NewAccount, NewPolicy, NewSystem};
use vault::model::{Role, Scope};
use vault::requests::{ConflictOption, NewRequest, Outcome};
use vault::{SystemClock, Vault};
use zeroize::Zeroizing;

const OLD: &str = "Old-Ssh-Password-7b1d";
const FUNCTIONAL: &str = "Functional-Ssh-Password-42e0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkin_rotates_a_linux_account_over_ssh_and_the_old_password_no_longer_logs_in() {
    if let Some(reason) = ssh_skip_reason() {
        eprintln!("{reason}");
        return;
    }
    let sshd = Sshd::start();
    let mut functional = LinuxUser::create("pcvf", FUNCTIONAL);
    functional.allow_sudo(false);
    let account = LinuxUser::create("pcva", OLD);
    assert!(ssh_login_works(sshd.port, &account.name, OLD).await, "the account starts with the old password");

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let v = Vault::open(store, &MasterKey::from_bytes([7; 32]), Arc::new(SystemClock)).await.unwrap();
    let sys = v
        .create_system(NewSystem {
            name: "web01".into(),
            host: "127.0.0.1".into(),
            platform: "linux-ssh".into(),
            port: Some(sshd.port),
            workgroup: None,
        })
        .await
        .unwrap();
    v.set_functional_account(sys.id, &functional.name, FUNCTIONAL).await.unwrap();
    let managed = v
        .create_account(NewAccount {
            system: "web01".into(),
            name: account.name.clone(),
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
    v.create_group("ops").await.unwrap();
    v.set_group("ops", Some(Some("auto".into())), None).await.unwrap();
    v.grant_role("ops", Scope::System(sys.id), Role::Requestor).await.unwrap();
    v.add_member("ops", "alice").await.unwrap();

    let new_request = |minutes| NewRequest {
        system_id: Some(sys.id),
        account_id: managed.id,
        duration_minutes: minutes,
        reason: "patching".into(),
        access_type: "View".into(),
        conflict: ConflictOption::None,
        rotate_on_checkin: None,
    };
    let Outcome::Created(r1) = v.create_request(&alice, new_request(10)).await.unwrap() else { panic!() };
    assert_eq!(v.credential(&alice, r1).await.unwrap().1.as_str(), OLD);
    v.check_in(Some(&alice), r1).await.unwrap();

    let a = v.account(managed.id).await.unwrap();
    assert!(a.rotation_error.is_none(), "rotation failed: {:?}\nsshd log:\n{}", a.rotation_error, sshd.log());
    let Outcome::Created(r2) = v.create_request(&alice, new_request(10)).await.unwrap() else { panic!() };
    let new = v.credential(&alice, r2).await.unwrap().1;
    assert_ne!(new.as_str(), OLD);
    assert!(ssh_login_works(sshd.port, &account.name, &new).await, "the new password logs in (russh)");
    assert!(!ssh_login_works(sshd.port, &account.name, OLD).await, "the old password is refused (russh)");
    assert!(openssh_login_works(sshd.port, &account.name, &new), "the new password logs in (OpenSSH)");
    assert!(!openssh_login_works(sshd.port, &account.name, OLD), "the old password is refused (OpenSSH)");
}
