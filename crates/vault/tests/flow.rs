//! The vault's rules end to end through its library API, on SQLite and on PostgreSQL: release
//! requests with their negative paths, check-in with rotation (and a failing rotation that keeps
//! the stored password), the request lifecycle under concurrent approve/deny and check-ins,
//! rotation settings refused where no rotator exists, sign-in rules, Secrets Safe, and the audit
//! chain against tampering.

mod support;

use std::net::IpAddr;
use std::sync::Arc;

use store::seal::MasterKey;
use store::Store;
use support::FakeTarget;
use vault::admin::{AccountChanges, NewAccount, NewPolicy, NewSystem, SraKey, SraSettings, SRA_GROUP};
use vault::audit::Verdict;
use vault::ip::IpRule;
use vault::model::{Actor, RequestStatus, Role, Scope};
use vault::requests::{ConflictOption, NewRequest, Outcome};
use vault::{ManualClock, Vault, VaultError};
use zeroize::Zeroizing;

const PLANTED: &str = "Planted-Secret-7f3a9c";
const T0: i64 = 1_800_000_000;

/// A rotator for the stand-in target's platform that always fails, saying whether the change may have happened.
struct Failing(bool);

impl rotate::Rotator for Failing {
    fn platform(&self) -> &'static str {
        FakeTarget::PLATFORM
    }
    fn rotate<'a>(&'a self, _req: &'a rotate::RotationRequest) -> rotate::RotateFuture<'a> {
        let maybe = self.0;
        Box::pin(async move {
            if maybe {
                Err(rotate::RotateError::OutcomeUnknown {
                    host: "h".into(),
                    account: "a".into(),
                    detail: "lost".into(),
                })
            } else {
                Err(rotate::RotateError::ChangeRefused {
                    host: "h".into(),
                    account: "a".into(),
                    detail: "no".into(),
                })
            }
        })
    }
}

async fn vault_on(store: Store, registry: rotate::Registry) -> (Vault, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let v = Vault::open_with(store, &MasterKey::from_bytes([7; 32]), clock.clone(), registry).await.unwrap();
    (v, clock)
}

fn localhost() -> IpAddr {
    "127.0.0.1".parse().unwrap()
}

fn req(account_id: i64, minutes: i64, conflict: ConflictOption) -> NewRequest {
    NewRequest {
        system_id: None,
        account_id,
        duration_minutes: minutes,
        reason: "test".into(),
        access_type: "View".into(),
        conflict,
        rotate_on_checkin: None,
    }
}

/// Fills a vault as the reference document does: one system with an API-enabled account that
/// rotates after release, one that is not API-enabled, a requester in the SRA group, an outsider.
async fn seed(v: &Vault) -> (i64, i64, Zeroizing<String>) {
    v.create_system(NewSystem {
        name: "bi server".into(),
        host: "10.0.0.5".into(),
        platform: FakeTarget::PLATFORM.into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let api = v
        .create_account(NewAccount {
            system: "bi server".into(),
            name: "rob".into(),
            password: Some(Zeroizing::new(PLANTED.into())),
            api_enabled: true,
            change_after_release: true,
            max_release_minutes: Some(120),
            ..Default::default()
        })
        .await
        .unwrap();
    let hidden = v
        .create_account(NewAccount {
            system: "bi server".into(),
            name: "hidden".into(),
            password: Some(Zeroizing::new("other".into())),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!hidden.api_enabled, "API access is off by default");
    v.create_user("alice", Some("alice-pw"), None).await.unwrap();
    v.create_user("mallory", Some("mallory-pw"), None).await.unwrap();
    let SraKey::Created(key) = v
        .connect_sra(SraSettings {
            host: "console.example".into(),
            port: 443,
            client_id: "c".repeat(36),
            client_secret: Some(Zeroizing::new("s".repeat(40))),
            release_minutes: 360,
            rotate_key: false,
        })
        .await
        .unwrap()
    else {
        panic!("a first connection creates the key")
    };
    v.add_member(vault::admin::SRA_GROUP, "alice").await.unwrap();
    (api.id, hidden.id, key)
}

async fn release_flow_and_negative_paths(store: Store) {
    let target = FakeTarget::default();
    let (v, clock) = vault_on(store, target.registry()).await;
    let (api, hidden, key) = seed(&v).await;
    assert_eq!(key.len(), 128);
    // connect-sra stored the broker's configuration (sealed), pointing at the new registration.
    let broker = v.broker_config().await.unwrap().expect("broker configuration");
    assert_eq!(
        (broker.console_host.as_str(), broker.console_port, broker.release_minutes),
        ("console.example", 443, 360)
    );
    assert_eq!(broker.api_key, key.as_str());
    assert_eq!(broker.registration_id, v.registration(vault::admin::SRA_REGISTRATION).await.unwrap().id);
    assert!(!format!("{broker:?}").contains(key.as_str()), "Debug hides the key");

    // Sign-in with the key as alice; mallory is outside the requesters group.
    let (alice, _session) =
        v.sign_in(&format!("PS-Auth key={}; runas=alice;", key.as_str()), localhost()).await.unwrap();
    let err =
        v.sign_in(&format!("PS-Auth key={}; runas=mallory;", key.as_str()), localhost()).await.unwrap_err();
    assert!(matches!(err, VaultError::Unauthorized(_)), "{err}");
    let mallory = v.user("mallory").await.unwrap();

    // Only the API-enabled account is visible.
    let visible: Vec<i64> = v.requestable_accounts(alice.id).await.unwrap().iter().map(|a| a.id).collect();
    assert_eq!(visible, vec![api]);
    assert!(matches!(
        v.create_request(&alice, req(hidden, 10, ConflictOption::None)).await,
        Err(VaultError::NotFound(_))
    ));
    assert!(matches!(
        v.create_request(&mallory, req(api, 10, ConflictOption::None)).await,
        Err(VaultError::Forbidden(_))
    ));

    // Duration bounds: 1..=120 (the account's maximum).
    for bad in [0, -5, 121] {
        assert!(
            matches!(
                v.create_request(&alice, req(api, bad, ConflictOption::None)).await,
                Err(VaultError::Invalid(_))
            ),
            "{bad}"
        );
    }
    let Outcome::Created(r1) = v.create_request(&alice, req(api, 120, ConflictOption::None)).await.unwrap()
    else {
        panic!("a first request is created")
    };
    assert!(matches!(
        v.create_request(&alice, req(api, 10, ConflictOption::None)).await,
        Err(VaultError::Conflict(_))
    ));
    assert_eq!(
        v.create_request(&alice, req(api, 10, ConflictOption::Reuse)).await.unwrap(),
        Outcome::Reused(r1)
    );
    let Outcome::Created(r2) = v.create_request(&alice, req(api, 10, ConflictOption::Renew)).await.unwrap()
    else {
        panic!("renew creates a new request")
    };
    assert_ne!(r1, r2);
    assert!(
        matches!(v.credential(&alice, r1).await, Err(VaultError::Forbidden(_))),
        "renew closed the old request"
    );

    // The credential is the stored one, for its owner only.
    assert_eq!(v.credential(&alice, r2).await.unwrap().1.as_str(), PLANTED);
    assert!(matches!(v.credential(&mallory, r2).await, Err(VaultError::Forbidden(_))));

    // Check-in: the credential is gone and the password rotates on the target.
    v.check_in(Actor::User(&alice), r2).await.unwrap();
    assert!(matches!(v.credential(&alice, r2).await, Err(VaultError::Forbidden(_))));
    v.rotation_pass().await.unwrap();
    let Outcome::Created(r3) = v.create_request(&alice, req(api, 1, ConflictOption::None)).await.unwrap()
    else {
        panic!()
    };
    let rotated = v.credential(&alice, r3).await.unwrap().1;
    assert_ne!(rotated.as_str(), PLANTED, "the password changed after check-in");
    assert_eq!(target.password("rob").as_deref(), Some(rotated.as_str()), "the target has the new one");
    assert_eq!(rotated.len(), 32, "generated under the default policy");

    // Expiry ends the credential too.
    clock.advance(61);
    assert!(matches!(v.credential(&alice, r3).await, Err(VaultError::Forbidden(_))));

    // A registration whose IP rule excludes 127.0.0.1 refuses the sign-in.
    v.set_registration(
        vault::admin::SRA_REGISTRATION,
        None,
        Some(vec![IpRule::from_text("10.1.0.0/16").unwrap()]),
        None,
        None,
    )
    .await
    .unwrap();
    let err =
        v.sign_in(&format!("PS-Auth key={}; runas=alice", key.as_str()), localhost()).await.unwrap_err();
    assert!(matches!(err, VaultError::Unauthorized(_)), "{err}");
    assert!(v
        .sign_in(&format!("PS-Auth key={}; runas=alice", key.as_str()), "10.1.2.3".parse().unwrap())
        .await
        .is_ok());
}

async fn failed_rotation_keeps_the_stored_password(store: Store) {
    let mut reg = rotate::Registry::builtin();
    reg.register(Box::new(Failing(false)));
    let (v, _clock) = vault_on(store, reg).await;
    let (api, _, _) = seed(&v).await;
    let err = v.rotate_account(Actor::Operator, api, None).await.unwrap_err();
    assert!(matches!(err, VaultError::Rotation(_)), "{err}");
    let a = v.account(api).await.unwrap();
    assert_eq!(a.rotation_attempts, 1);
    assert!(a.rotation_error.as_deref().unwrap_or("").contains("PCR012"), "{:?}", a.rotation_error);
    assert!(!a.rotation_pending, "a refused change drops the pending password");
    assert!(a.rotation_due_at.is_some(), "a retry is scheduled");
    let alice = v.user("alice").await.unwrap();
    let Outcome::Created(r) = v.create_request(&alice, req(api, 5, ConflictOption::None)).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(v.credential(&alice, r).await.unwrap().1.as_str(), PLANTED);

    // When the change may have happened, the pending password is kept for the next attempt.
    let mut reg = rotate::Registry::builtin();
    reg.register(Box::new(Failing(true)));
    let (v2, _) = vault_on(v.store().clone(), reg).await;
    v2.rotate_account(Actor::Operator, api, None).await.unwrap_err();
    assert!(v2.account(api).await.unwrap().rotation_pending);
    // The next attempt (a working rotator) proves the pending one and promotes it.
    let (v3, _) = vault_on(v.store().clone(), FakeTarget::default().registry()).await;
    v3.rotate_account(Actor::Operator, api, None).await.unwrap();
    let a = v3.account(api).await.unwrap();
    assert!(!a.rotation_pending && a.rotation_error.is_none() && a.rotation_attempts == 0);
    assert_ne!(v3.credential(&alice, r).await.unwrap().1.as_str(), PLANTED);
}

async fn oauth_and_sessions(store: Store) {
    let (v, clock) = vault_on(store, FakeTarget::default().registry()).await;
    seed(&v).await;
    let (id, secret) = v.create_oauth_client("alice").await.unwrap();
    assert!((36..=40).contains(&id.len()) && (36..=64).contains(&secret.len()));
    assert!(v.issue_token(&id, "wrong").await.is_err());
    let t = v.issue_token(&id, &secret).await.unwrap();
    let (user, session) =
        v.sign_in(&format!("Bearer {}", t.access_token.as_str()), localhost()).await.unwrap();
    assert_eq!(user.name, "alice");
    assert_eq!(v.session_user(&session).await.unwrap().name, "alice");
    clock.advance(19 * 60);
    assert!(v.session_user(&session).await.is_ok(), "19 idle minutes keep the session");
    clock.advance(20 * 60);
    assert!(v.session_user(&session).await.is_err(), "20 idle minutes end it");
    let (_, s2) = v.sign_in(&format!("Bearer {}", t.access_token.as_str()), localhost()).await.unwrap();
    v.sign_out(&s2).await.unwrap();
    assert!(v.session_user(&s2).await.is_err(), "signed out");
    clock.advance(t.expires_in);
    assert!(
        v.sign_in(&format!("Bearer {}", t.access_token.as_str()), localhost()).await.is_err(),
        "token expired"
    );
}

async fn audit_chain_detects_tampering(store: Store) {
    let (v, _) = vault_on(store.clone(), FakeTarget::default().registry()).await;
    for i in 0..5 {
        v.audit(vault::audit::Event {
            actor: "a",
            action: &format!("act{i}"),
            source: "cli",
            result: "ok",
            ..Default::default()
        })
        .await
        .unwrap();
    }
    assert_eq!(v.verify_audit().await.unwrap(), Verdict::Intact { rows: 5 });
    let pool = store.pool();
    // Modified.
    sqlx::query("UPDATE vault_audit SET actor = 'eve' WHERE seq = 3").execute(pool).await.unwrap();
    assert!(matches!(v.verify_audit().await.unwrap(), Verdict::Broken { seq: 3, .. }));
    sqlx::query("UPDATE vault_audit SET actor = 'a' WHERE seq = 3").execute(pool).await.unwrap();
    assert_eq!(v.verify_audit().await.unwrap(), Verdict::Intact { rows: 5 });
    // Reordered: rows 2 and 4 swap their contents.
    sqlx::query("UPDATE vault_audit SET seq = 100 WHERE seq = 2").execute(pool).await.unwrap();
    sqlx::query("UPDATE vault_audit SET seq = 2 WHERE seq = 4").execute(pool).await.unwrap();
    sqlx::query("UPDATE vault_audit SET seq = 4 WHERE seq = 100").execute(pool).await.unwrap();
    assert!(matches!(v.verify_audit().await.unwrap(), Verdict::Broken { seq: 2, .. }));
    sqlx::query("UPDATE vault_audit SET seq = 100 WHERE seq = 2").execute(pool).await.unwrap();
    sqlx::query("UPDATE vault_audit SET seq = 2 WHERE seq = 4").execute(pool).await.unwrap();
    sqlx::query("UPDATE vault_audit SET seq = 4 WHERE seq = 100").execute(pool).await.unwrap();
    assert_eq!(v.verify_audit().await.unwrap(), Verdict::Intact { rows: 5 });
    // Deleted in the middle, and at the end.
    sqlx::query("DELETE FROM vault_audit WHERE seq = 5").execute(pool).await.unwrap();
    assert!(matches!(v.verify_audit().await.unwrap(), Verdict::Broken { seq: 5, .. }));
    sqlx::query("DELETE FROM vault_audit WHERE seq = 2").execute(pool).await.unwrap();
    assert!(matches!(v.verify_audit().await.unwrap(), Verdict::Broken { seq: 2, .. }));
}

async fn secrets_safe_by_path(store: Store) {
    let (v, _) = vault_on(store, FakeTarget::default().registry()).await;
    seed(&v).await;
    let alice = v.user("alice").await.unwrap();
    let mallory = v.user("mallory").await.unwrap();
    let top = v.create_folder(&alice, "Team", None, "").await.unwrap();
    let sub = v.create_folder(&alice, "Prod", Some(&top.id), "").await.unwrap();
    v.create_secret(
        &alice,
        &sub.id,
        "db",
        "",
        "",
        vault::secrets_safe::SecretValue::Credential {
            username: "u".into(),
            password: Zeroizing::new(PLANTED.into()),
        },
    )
    .await
    .unwrap();
    v.create_secret(
        &alice,
        &sub.id,
        "cert.pem",
        "",
        "",
        vault::secrets_safe::SecretValue::File {
            name: "cert.pem".into(),
            content: Zeroizing::new(b"file-bytes".to_vec()),
        },
    )
    .await
    .unwrap();
    let found = v.find_secrets(&alice, Some("team/prod"), "/", Some("db")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(v.secret_value(&alice, &found[0].id).await.unwrap().1.as_slice(), PLANTED.as_bytes());
    assert_eq!(v.find_secrets(&alice, Some("Team"), "/", None).await.unwrap().len(), 2);
    assert!(
        v.find_secrets(&mallory, Some("Team"), "/", None).await.unwrap().is_empty(),
        "another user's secrets are invisible"
    );
}

async fn rekey_rewraps_the_data_key(store: Store) {
    let (v, _) = vault_on(store.clone(), FakeTarget::default().registry()).await;
    let (api, _, _) = seed(&v).await;
    let old = MasterKey::from_bytes([7; 32]);
    let new = MasterKey::from_bytes([8; 32]);
    vault::rekey(&store, &old, &new).await.unwrap();
    // The running vault keeps working (it holds the data key), a new one opens with the new key.
    let alice = v.user("alice").await.unwrap();
    let Outcome::Created(r) = v.create_request(&alice, req(api, 5, ConflictOption::None)).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(v.credential(&alice, r).await.unwrap().1.as_str(), PLANTED);
    let clock = Arc::new(ManualClock::new(T0));
    let reopened = Vault::open(store.clone(), &new, clock.clone()).await.unwrap();
    assert_eq!(reopened.credential(&alice, r).await.unwrap().1.as_str(), PLANTED);
    assert!(
        Vault::open(store.clone(), &old, clock).await.is_err(),
        "the old master key no longer opens the data key"
    );
}

async fn concurrent_requests_open_only_one(store: Store) {
    let (v, _) = vault_on(store, FakeTarget::default().registry()).await;
    let (api, _, _) = seed(&v).await;
    let alice = v.user("alice").await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (v, alice) = (v.clone(), alice.clone());
        tasks.push(tokio::spawn(
            async move { v.create_request(&alice, req(api, 5, ConflictOption::None)).await },
        ));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(Outcome::Created(_)) => created += 1,
            Err(VaultError::Conflict(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(created, 1, "exactly one of eight concurrent requests opens");
}

async fn registration_requiring_the_user_password(store: Store) {
    let (v, _) = vault_on(store, FakeTarget::default().registry()).await;
    let pw = "p;w]d [x]; runas=eve";
    v.create_user("carol", Some(pw), None).await.unwrap();
    v.create_user("dave", None, None).await.unwrap();
    let (_, key) = v
        .create_registration(vault::admin::NewRegistration {
            name: "strict".into(),
            ip_rules: vec![IpRule::from_text("127.0.0.0/8").unwrap()],
            token_minutes: 10,
            user_password_required: true,
        })
        .await
        .unwrap();
    v.create_group("strict").await.unwrap();
    v.set_group("strict", None, Some(Some("strict".into()))).await.unwrap();
    v.add_member("strict", "carol").await.unwrap();
    v.add_member("strict", "dave").await.unwrap();
    let k = key.as_str();
    let (u, _) = v.sign_in(&format!("PS-Auth key={k}; runas=carol; pwd=[{pw}];"), localhost()).await.unwrap();
    assert_eq!(u.name, "carol", "a password holding ; ] [ and runas= still signs in");
    for bad in [
        format!("PS-Auth key={k}; runas=carol; pwd=[wrong];"),
        format!("PS-Auth key={k}; runas=carol;"),
        format!("PS-Auth key={k}; runas=dave; pwd=[];"),
        format!("PS-Auth key={k}x; runas=carol; pwd=[{pw}];"),
        format!("PS-Auth key={k}; pwd=[{pw}];"),
    ] {
        assert!(matches!(v.sign_in(&bad, localhost()).await, Err(VaultError::Unauthorized(_))), "{bad}");
    }
    v.set_registration("strict", Some(false), None, None, None).await.unwrap();
    assert!(
        v.sign_in(&format!("PS-Auth key={k}; runas=carol; pwd=[{pw}];"), localhost()).await.is_err(),
        "inactive"
    );
}

async fn concurrent_audit_events_form_one_chain(store: Store) {
    let (v, _) = vault_on(store, FakeTarget::default().registry()).await;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let v = v.clone();
        tasks.push(tokio::spawn(async move {
            let action = format!("concurrent{i}");
            v.audit(vault::audit::Event {
                actor: "t",
                action: &action,
                source: "test",
                result: "ok",
                ..Default::default()
            })
            .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    // Every caller returned after its row was committed: all 60 are there, in one intact chain.
    assert_eq!(v.verify_audit().await.unwrap(), Verdict::Intact { rows: 60 });
    let mut actions: Vec<String> = v.audit_rows(100).await.unwrap().into_iter().map(|r| r.action).collect();
    actions.sort();
    actions.dedup();
    assert_eq!(actions.len(), 60);
}

async fn expiry_without_checkin_rotates_in_the_background_pass(store: Store) {
    let (v, clock) = vault_on(store, FakeTarget::default().registry()).await;
    let (api, _, _) = seed(&v).await;
    let alice = v.user("alice").await.unwrap();
    let Outcome::Created(r) = v.create_request(&alice, req(api, 2, ConflictOption::None)).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(v.credential(&alice, r).await.unwrap().1.as_str(), PLANTED);
    assert_eq!(v.rotation_pass().await.unwrap(), 0, "nothing is due while the release lasts");
    clock.advance(2 * 60);
    assert_eq!(v.rotation_pass().await.unwrap(), 1, "the expired release rotates the account");
    assert_eq!(v.request(r).await.unwrap().status, vault::model::RequestStatus::Expired);
    let Outcome::Created(r2) = v.create_request(&alice, req(api, 2, ConflictOption::None)).await.unwrap()
    else {
        panic!()
    };
    assert_ne!(v.credential(&alice, r2).await.unwrap().1.as_str(), PLANTED);
    assert_eq!(v.rotation_pass().await.unwrap(), 0, "and only once");
}

/// "rita", who may request `account` under a policy that needs `approvals` approvals.
async fn reviewed_requester(v: &Vault, account: i64, approvals: i64) -> vault::model::User {
    v.create_policy(NewPolicy {
        name: "reviewed".into(),
        auto_approve: false,
        approvals_required: approvals,
        all_day: true,
        window_start: 0,
        window_end: 1440,
        max_minutes: 60,
    })
    .await
    .unwrap();
    let rita = v.create_user("rita", None, None).await.unwrap();
    v.create_group("reviewed").await.unwrap();
    v.set_group("reviewed", Some(Some("reviewed".into())), None).await.unwrap();
    v.grant_role("reviewed", Scope::Account(account), Role::Requestor).await.unwrap();
    v.add_member("reviewed", "rita").await.unwrap();
    rita
}

/// How often each race below is run: enough to interleave both ways on both backends.
const RACES: usize = 25;

/// Approve and deny of one pending request, run together again and again: exactly one wins each
/// time, the other is told PCV008 (409), and the request ends in the winner's state — a deny
/// racing an approval never ends "approved" after the deny was answered with success.
async fn approve_and_deny_race_exactly_one_wins(store: Store) {
    let (v, _) = vault_on(store, FakeTarget::default().registry()).await;
    let (api, _, _) = seed(&v).await;
    let rita = reviewed_requester(&v, api, 1).await;
    let ann = v.create_user("ann", None, None).await.unwrap();
    v.create_group("approvers").await.unwrap();
    v.grant_role("approvers", Scope::All, Role::Approver).await.unwrap();
    v.add_member("approvers", "ann").await.unwrap();
    let (mut approvals, mut denials) = (0, 0);
    for _ in 0..RACES {
        let Outcome::Created(r) = v.create_request(&rita, req(api, 5, ConflictOption::Renew)).await.unwrap()
        else {
            panic!("a new request")
        };
        assert_eq!(v.request(r).await.unwrap().status, RequestStatus::Pending);
        let approve = tokio::spawn({
            let (v, ann) = (v.clone(), ann.clone());
            async move { v.approve(Actor::User(&ann), r).await }
        });
        let deny = tokio::spawn({
            let (v, ann) = (v.clone(), ann.clone());
            async move { v.deny(Actor::User(&ann), r).await }
        });
        let (approved, denied) = (approve.await.unwrap(), deny.await.unwrap());
        let status = v.request(r).await.unwrap().status;
        match (approved, denied) {
            (Ok(true), Err(e)) => {
                assert_eq!(e.code(), "PCV008", "{e}");
                assert_eq!(status, RequestStatus::Approved);
                approvals += 1;
            }
            (Err(e), Ok(())) => {
                assert_eq!(e.code(), "PCV008", "{e}");
                assert_eq!(status, RequestStatus::Denied);
                denials += 1;
            }
            other => panic!("exactly one of approve and deny must win: {other:?} ({status:?})"),
        }
    }
    assert_eq!(approvals + denials, RACES);
    // Each winner wrote its audit row in its own transaction; the losers wrote none.
    let rows = v.audit_rows(10_000).await.unwrap();
    let count = |action: &str| rows.iter().filter(|r| r.action == action && r.actor == "ann").count();
    assert_eq!((count("request.approve"), count("request.deny")), (approvals, denials));
    assert_eq!(v.verify_audit().await.unwrap(), Verdict::Intact { rows: rows.len() as i64 });
}

/// Two check-ins of one request at once, and the background pass beside them, again and again:
/// exactly one check-in wins, the other is told PCV008, and the release rotates the password
/// exactly once — and the vault then holds the password the target has.
async fn concurrent_check_ins_rotate_exactly_once(store: Store) {
    let target = FakeTarget::default();
    let (v, _) = vault_on(store, target.registry()).await;
    let (api, _, _) = seed(&v).await;
    let alice = v.user("alice").await.unwrap();
    for i in 0..RACES {
        let Outcome::Created(r) = v.create_request(&alice, req(api, 5, ConflictOption::None)).await.unwrap()
        else {
            panic!("a new request")
        };
        let before = target.calls();
        let check_in = || {
            let (v, alice) = (v.clone(), alice.clone());
            tokio::spawn(async move { v.check_in(Actor::User(&alice), r).await })
        };
        let (first, second) = (check_in(), check_in());
        let pass = tokio::spawn({
            let v = v.clone();
            async move { v.rotation_pass().await }
        });
        let outcomes = [first.await.unwrap(), second.await.unwrap()];
        pass.await.unwrap().unwrap();
        let won = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(won, 1, "round {i}: exactly one check-in wins: {outcomes:?}");
        let lost = outcomes.iter().find_map(|o| o.as_ref().err()).unwrap();
        assert_eq!(lost.code(), "PCV008", "{lost}");
        assert_eq!(target.calls(), before + 1, "round {i}: one rotation per check-in");
    }
    let Outcome::Created(r) = v.create_request(&alice, req(api, 5, ConflictOption::None)).await.unwrap()
    else {
        panic!()
    };
    let held = v.credential(&alice, r).await.unwrap().1;
    assert_eq!(
        target.password("rob").as_deref(),
        Some(held.as_str()),
        "the vault holds the target's password"
    );
    let rows = v.audit_rows(10_000).await.unwrap();
    let count = |action: &str, result: &str| {
        rows.iter().filter(|r| r.action == action && r.result == result && r.account_id == Some(api)).count()
    };
    assert_eq!(count("request.checkin", "ok"), RACES);
    assert_eq!(count("account.rotate", "ok"), RACES);
}

/// Issue 14, item 1: `--change-after-release` on a `generic` account was accepted; at check-in
/// the vault generated a password it could set nowhere, audited `account.rotate … ok`, and the
/// next release handed out a password the system did not have. Rotation settings are refused
/// where no rotator exists (PCV009) at create and set time, rotating such an account is refused,
/// and an account stored with the setting before keeps its password and says why.
async fn rotation_settings_are_refused_where_no_rotator_can_change_the_password(store: Store) {
    let (v, clock) = vault_on(store.clone(), FakeTarget::default().registry()).await;
    seed(&v).await;
    v.create_system(NewSystem {
        name: "files".into(),
        host: "10.0.0.7".into(),
        platform: "generic".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let account = |change_after_release, rotation_days| NewAccount {
        system: "files".into(),
        name: "svc".into(),
        password: Some(Zeroizing::new(PLANTED.into())),
        api_enabled: true,
        change_after_release,
        rotation_days,
        ..Default::default()
    };
    for (car, days) in [(true, None), (false, Some(30))] {
        let err = v.create_account(account(car, days)).await.unwrap_err();
        assert_eq!(err.code(), "PCV009", "{err}");
        assert!(err.to_string().contains("generic"), "{err}");
    }
    let svc = v.create_account(account(false, None)).await.unwrap();
    for changes in [
        AccountChanges { change_after_release: Some(true), ..Default::default() },
        AccountChanges { rotation_days: Some(Some(7)), ..Default::default() },
    ] {
        assert_eq!(v.update_account(svc.id, changes).await.unwrap_err().code(), "PCV009");
    }
    assert!(!v.account(svc.id).await.unwrap().change_after_release, "a refused change changes nothing");
    let other = AccountChanges { description: Some("file server".into()), ..Default::default() };
    v.update_account(svc.id, other).await.expect("other settings still change");
    assert_eq!(v.rotate_account(Actor::Operator, svc.id, None).await.unwrap_err().code(), "PCV009");

    // Stored with the setting before the refusal: check-in and the background pass leave the
    // password as the system has it, and the audit log says it was not rotated, never "ok".
    sqlx::query("UPDATE vault_accounts SET change_after_release = $1, rotation_days = 1 WHERE id = $2")
        .bind(true)
        .bind(svc.id)
        .execute(store.pool())
        .await
        .unwrap();
    v.grant_role(SRA_GROUP, Scope::Account(svc.id), Role::Requestor).await.unwrap();
    let alice = v.user("alice").await.unwrap();
    let Outcome::Created(r) = v.create_request(&alice, req(svc.id, 5, ConflictOption::None)).await.unwrap()
    else {
        panic!()
    };
    v.check_in(Actor::User(&alice), r).await.expect("the check-in itself succeeds");
    clock.advance(3 * 86_400);
    assert_eq!(v.rotation_pass().await.unwrap(), 0, "nothing to rotate on a generic system");
    assert_eq!(v.account(svc.id).await.unwrap().rotation_due_at, None);
    let Outcome::Created(r2) = v.create_request(&alice, req(svc.id, 5, ConflictOption::None)).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(v.credential(&alice, r2).await.unwrap().1.as_str(), PLANTED, "the password is unchanged");
    let rows = v.audit_rows(10_000).await.unwrap();
    let rotations: Vec<&str> = rows
        .iter()
        .filter(|r| r.action == "account.rotate" && r.account_id == Some(svc.id))
        .map(|r| r.result.as_str())
        .collect();
    assert_eq!(rotations, vec!["PCV009"], "one honest row, no rotation recorded as ok");
}

/// Issue 14, item 10: a request on an account that is not API-enabled answered "not found". A
/// caller who could request it is now told it is not API-enabled (PCV010); a caller without a
/// role on it still cannot tell that it exists.
async fn an_account_not_api_enabled_says_so_only_to_who_could_request_it(store: Store) {
    let (v, _) = vault_on(store, FakeTarget::default().registry()).await;
    let (_, hidden, _) = seed(&v).await;
    let alice = v.user("alice").await.unwrap();
    let mallory = v.user("mallory").await.unwrap();
    let err = v.create_request(&alice, req(hidden, 5, ConflictOption::None)).await.unwrap_err();
    assert_eq!(err.code(), "PCV001", "no role on it: invisible ({err})");
    v.grant_role(SRA_GROUP, Scope::Account(hidden), Role::Requestor).await.unwrap();
    let err = v.create_request(&alice, req(hidden, 5, ConflictOption::None)).await.unwrap_err();
    assert_eq!(err.code(), "PCV010", "{err}");
    assert!(
        err.to_string().contains("not API-enabled") && err.to_string().contains("--api-enabled"),
        "{err}"
    );
    let err = v.create_request(&mallory, req(hidden, 5, ConflictOption::None)).await.unwrap_err();
    assert_eq!(err.code(), "PCV001", "{err}");
}

/// The operator's approval and denial (the CLI) are written by the domain with the operator as
/// actor, in the same transaction as the change.
async fn operator_changes_are_audited_by_the_domain(store: Store) {
    let (v, _) = vault_on(store, FakeTarget::default().registry()).await;
    let (api, _, _) = seed(&v).await;
    let rita = reviewed_requester(&v, api, 2).await;
    let Outcome::Created(r) = v.create_request(&rita, req(api, 5, ConflictOption::None)).await.unwrap()
    else {
        panic!()
    };
    assert!(v.approve(Actor::Operator, r).await.unwrap(), "the operator approves outright");
    assert_eq!(v.approve(Actor::Operator, r).await.unwrap_err().code(), "PCV008", "not pending any more");
    assert_eq!(v.deny(Actor::Operator, r).await.unwrap_err().code(), "PCV008");
    let rows = v.audit_rows(10_000).await.unwrap();
    let create = rows.iter().find(|e| e.action == "request.create" && e.actor == "rita").expect("create row");
    assert!(create.detail.contains(&format!("request {r}")), "{}", create.detail);
    let approve = rows.iter().find(|e| e.action == "request.approve").expect("approve row");
    assert_eq!(
        (approve.actor.as_str(), approve.source.as_str(), approve.account_id),
        ("cli", "cli", Some(api))
    );
    assert!(approve.detail.contains("pending -> approved"), "{}", approve.detail);
}

/// Issue 14, item 2: re-running `connect-sra` silently replaced the API key (the broker's old key
/// then got 401) and the stored settings could not be read back. A re-run updates the settings
/// and keeps the key (and the stored client secret when none is given); only `rotate_key`
/// replaces it; the settings read back without any secret.
async fn reconnecting_sra_keeps_the_key_unless_asked_and_reads_back(store: Store) {
    let (v, _) = vault_on(store, FakeTarget::default().registry()).await;
    let (_, _, key) = seed(&v).await;
    let signs_in = |k: String| {
        let v = v.clone();
        async move { v.sign_in(&format!("PS-Auth key={k}; runas=alice;"), localhost()).await.is_ok() }
    };
    let shown = v.sra_settings().await.unwrap().expect("stored settings");
    assert_eq!(
        (shown.console_host.as_str(), shown.console_port, shown.release_minutes),
        ("console.example", 443, 360)
    );
    assert_eq!(shown.registration, vault::admin::SRA_REGISTRATION);
    assert_eq!(shown.requesters, vec!["alice".to_string()]);
    let text = format!("{shown:?} {}", serde_json::to_string(&shown).unwrap());
    assert!(!text.contains(key.as_str()) && !text.contains(&"s".repeat(40)), "no secret is shown: {text}");

    let again = SraSettings {
        host: "console2.example".into(),
        port: 8443,
        client_id: "d".repeat(36),
        client_secret: None,
        release_minutes: 120,
        rotate_key: false,
    };
    assert!(matches!(v.connect_sra(again).await.unwrap(), SraKey::Kept));
    assert!(signs_in(key.to_string()).await, "the broker's key still signs in");
    let broker = v.broker_config().await.unwrap().unwrap();
    assert_eq!(
        (broker.console_host.as_str(), broker.console_port, broker.release_minutes),
        ("console2.example", 8443, 120)
    );
    assert_eq!(broker.api_key, key.as_str(), "the key is kept");
    assert_eq!(broker.console_client_secret, "s".repeat(40), "the stored secret is kept");

    let rotate = SraSettings {
        host: "console2.example".into(),
        port: 8443,
        client_id: "d".repeat(36),
        client_secret: None,
        release_minutes: 120,
        rotate_key: true,
    };
    let SraKey::Replaced(new_key) = v.connect_sra(rotate).await.unwrap() else {
        panic!("replaced when asked")
    };
    assert_ne!(new_key.as_str(), key.as_str());
    assert!(!signs_in(key.to_string()).await, "the old key no longer signs in");
    assert!(signs_in(new_key.to_string()).await);
    assert_eq!(v.broker_config().await.unwrap().unwrap().api_key, new_key.as_str());
}

/// Two vaults on one database (a server and the CLI, or two servers on PostgreSQL) append to
/// one chain, each with its own idea of the head: it stays whole.
async fn two_vaults_on_one_store_keep_one_chain(store: Store) {
    let (a, _) = vault_on(store.clone(), FakeTarget::default().registry()).await;
    let (b, _) = vault_on(store, FakeTarget::default().registry()).await;
    let event = |action: &'static str| vault::audit::Event {
        actor: "t",
        action,
        source: "test",
        result: "ok",
        ..Default::default()
    };
    for _ in 0..10 {
        let (x, y) = tokio::join!(a.audit(event("a")), b.audit(event("b")));
        x.unwrap();
        y.unwrap();
        a.audit(event("a again")).await.unwrap();
    }
    assert_eq!(a.verify_audit().await.unwrap(), Verdict::Intact { rows: 30 });
    assert_eq!(b.verify_audit().await.unwrap(), Verdict::Intact { rows: 30 });
}

store::on_both_backends!(
    two_vaults_on_one_store_keep_one_chain,
    reconnecting_sra_keeps_the_key_unless_asked_and_reads_back,
    approve_and_deny_race_exactly_one_wins,
    concurrent_check_ins_rotate_exactly_once,
    rotation_settings_are_refused_where_no_rotator_can_change_the_password,
    an_account_not_api_enabled_says_so_only_to_who_could_request_it,
    operator_changes_are_audited_by_the_domain,
    expiry_without_checkin_rotates_in_the_background_pass,
    concurrent_audit_events_form_one_chain,
    registration_requiring_the_user_password,
    concurrent_requests_open_only_one,
    rekey_rewraps_the_data_key,
    release_flow_and_negative_paths,
    failed_rotation_keeps_the_stored_password,
    oauth_and_sessions,
    audit_chain_detects_tampering,
    secrets_safe_by_path,
);
