//! The broker against the real vault (its Password Safe API over https, in-process, with a test
//! CA): search offers exactly the accounts the mapped user may request on the jump item's
//! system, every username form maps as documented, retrieve releases the right password in one
//! request that the vault lists as checked in afterwards, and every failure class is produced
//! by the real condition that causes it.

mod common;

use broker::protocol::{ConsoleUser, ItemType, JumpItem};
use broker::{BrokerError, Class};
use common::*;
use vault::model::RequestStatus;
use vault::requests::Queue;

async fn setup() -> (tempfile::TempDir, Pki, Served, Seeded) {
    let tmp = tempfile::tempdir().unwrap();
    let pki = make_pki(tmp.path());
    let served = Served::start(&tmp.path().join("data"), &pki).await;
    let seeded = seed(&served.vault).await;
    (tmp, pki, served, seeded)
}

fn ids(list: &[broker::protocol::Credential]) -> Vec<(String, String)> {
    list.iter().map(|c| (c.id.clone(), c.display_name.clone())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_offers_exactly_what_the_mapped_user_may_request_on_that_host() {
    let (_tmp, pki, served, s) = setup().await;
    let b = broker(&served.api_url(), &s.key, Some(&pki.ca), "");
    let want = vec![
        (format!("joe.user\\{}\\App01\\helpdesk-01", s.helpdesk_01), "App01\\helpdesk-01".to_string()),
        (format!("joe.user\\{}\\App01\\helpdesk-02", s.helpdesk_02), "App01\\helpdesk-02".to_string()),
    ];
    // By system name, by IP, by an additional IP; `hidden` (not API-enabled) and `late-01` (no
    // role of the user) are on the same system and never offered.
    for host in ["App01", "app01", "10.0.0.5"] {
        assert_eq!(ids(&b.search(&user("joe.user"), &ssh(host)).await.unwrap()), want, "{host}");
    }
    let mut jump_client = ssh("WS-4711");
    jump_client.additional_ips = vec!["192.0.2.1".parse().unwrap(), "10.0.0.5".parse().unwrap()];
    assert_eq!(ids(&b.search(&user("joe.user"), &jump_client).await.unwrap()), want);
    // Every username form and the DN map to joe.user.
    for (name, dn) in [
        (r"ACME\joe.user", None),
        ("joe.user@acme-inc.com", None),
        ("jdoe", Some("uid=joe.user,ou=HelpDesk,dc=acme-inc,dc=com")),
    ] {
        let u = ConsoleUser { username: name.into(), dn: dn.map(Into::into) };
        assert_eq!(ids(&b.search(&u, &ssh("10.0.0.5")).await.unwrap()), want, "{name}");
    }
    // The other system by its DNS name, and a web item by its URL's host.
    let app02 = vec![(format!("joe.user\\{}\\App02\\admin", s.app02_admin), "App02\\admin".to_string())];
    assert_eq!(ids(&b.search(&user("joe.user"), &ssh("APP02.acme-inc.com")).await.unwrap()), app02);
    let web = JumpItem {
        item_type: ItemType::Web,
        host: String::new(),
        additional_ips: vec![],
        application: None,
        url: Some("https://app02.acme-inc.com/admin".into()),
    };
    assert_eq!(ids(&b.search(&user("joe.user"), &web).await.unwrap()), app02);
    // An app item whose application the vault models as a managed system.
    let app = JumpItem {
        item_type: ItemType::App,
        host: "10.0.0.99".into(),
        additional_ips: vec![],
        application: Some("app02".into()),
        url: None,
    };
    assert_eq!(ids(&b.search(&user("joe.user"), &app).await.unwrap()), app02);
    // No account on that host: an empty, valid result.
    assert!(b.search(&user("joe.user"), &ssh("10.0.0.77")).await.unwrap().is_empty());
    assert!(
        b.search(&user("joe.user"), &ssh("app01.acme-inc.com")).await.unwrap().is_empty(),
        "no short-name match unless asked"
    );
    let short = broker(&served.api_url(), &s.key, Some(&pki.ca), "[matching]\nshort_names = true\n");
    assert_eq!(ids(&short.search(&user("joe.user"), &ssh("app01.acme-inc.com")).await.unwrap()), want);
    // A domain rule that maps ACME users to another vault user: nothing for them here.
    let prefixed = broker(
        &served.api_url(),
        &s.key,
        Some(&pki.ca),
        "[[mapping.domains]]\nnames = [\"ACME\"]\nprefix = \"acme-\"\n",
    );
    let e = prefixed.search(&user(r"ACME\joe.user"), &ssh("App01")).await.unwrap_err();
    assert!(matches!(&e, BrokerError::NotARequester { vault_user } if vault_user == "acme-joe.user"), "{e}");
    assert_eq!(
        ids(&prefixed.search(&user("joe.user"), &ssh("App01")).await.unwrap()),
        want,
        "no domain, no prefix"
    );
    let _ = (s.hidden, s.late);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrieve_releases_the_right_password_once_and_check_in_closes_it() {
    let (_tmp, pki, served, s) = setup().await;
    let b = broker(&served.api_url(), &s.key, Some(&pki.ca), "release_minutes = 45\n");
    let found = b.search(&user(r"ACME\joe.user"), &ssh("App01")).await.unwrap();
    let release = b.retrieve(&user(r"ACME\joe.user"), &found[0].id, &session("sess-17")).await.unwrap();
    assert_eq!(release.secret.expose(), PLANTED);
    assert_eq!(
        (release.username.as_str(), release.display_name.as_str()),
        ("helpdesk-01", "App01\\helpdesk-01")
    );
    assert!(!format!("{release:?}").contains(PLANTED), "Debug of a release is redacted");
    let v = &served.vault;
    let requests = v.list_requests(None, Queue::All, None).await.unwrap();
    assert_eq!(requests.len(), 1, "one release request per retrieval");
    let r = &requests[0];
    assert_eq!(
        (r.id, r.account_id, r.user_name.as_str()),
        (release.handle.request_id, s.helpdesk_01, "joe.user")
    );
    assert_eq!(r.status, RequestStatus::Approved);
    assert_eq!(r.duration_minutes, 45);
    assert!(r.reason.contains("sess-17") && r.reason.contains(r"ACME\joe.user"), "{}", r.reason);
    b.check_in(&release.handle, &session("sess-17")).await.unwrap();
    assert_eq!(v.request(release.handle.request_id).await.unwrap().status, RequestStatus::CheckedIn);
    // A second retrieval is a second request.
    let again = b.retrieve(&user("joe.user"), &found[0].id, &session("sess-18")).await.unwrap();
    assert_ne!(again.handle.request_id, release.handle.request_id);
    b.check_in(&again.handle, &session("sess-18")).await.unwrap();
    // Another user's ID is refused before the vault is asked.
    let e = b.retrieve(&user("outsider"), &found[0].id, &session("s")).await.unwrap_err();
    assert_eq!((e.code(), e.class()), ("PCB060", Class::NoMatch), "{e}");
    assert_eq!(v.list_requests(None, Queue::All, None).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_policy_that_needs_approval_takes_the_global_approver() {
    let (_tmp, pki, served, s) = setup().await;
    let id = format!("joe.user\\{}\\App03\\gated", s.gated);
    let without = broker(&served.api_url(), &s.key, Some(&pki.ca), "");
    let e = without.retrieve(&user("joe.user"), &id, &session("s1")).await.unwrap_err();
    assert_eq!((e.code(), e.class()), ("PCB053", Class::Permission), "{e}");
    assert!(e.to_string().contains("global_approver"), "{e}");
    let first = served.vault.list_requests(None, Queue::All, None).await.unwrap();
    assert_eq!(first[0].status, RequestStatus::CheckedIn, "the unapproved request is not left open");
    let with = broker(&served.api_url(), &s.key, Some(&pki.ca), "global_approver = \"approver\"\n");
    let r = with.retrieve(&user("joe.user"), &id, &session("s2")).await.unwrap();
    assert_eq!(r.secret.expose(), "pw-gated");
    with.check_in(&r.handle, &session("s2")).await.unwrap();
}

fn class_of(e: &BrokerError) -> (&'static str, Class) {
    (e.code(), e.class())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_class_comes_from_its_real_cause() {
    let (tmp, pki, mut served, s) = setup().await;
    let url = served.api_url();
    let joe = user("joe.user");
    // Authentication: a wrong key.
    let wrong = "0".repeat(128);
    let e = broker(&url, &wrong, Some(&pki.ca), "").search(&joe, &ssh("App01")).await.unwrap_err();
    assert_eq!(class_of(&e), ("PCB020", Class::Authentication), "{e}");
    // Permission: a vault user in no group that uses the registration.
    let b = broker(&url, &s.key, Some(&pki.ca), "");
    let e = b.search(&user("outsider"), &ssh("App01")).await.unwrap_err();
    assert_eq!(class_of(&e), ("PCB050", Class::Permission), "{e}");
    let e = b.search(&user("nobody-at-all"), &ssh("App01")).await.unwrap_err();
    assert_eq!(class_of(&e), ("PCB050", Class::Permission), "an unknown vault user: {e}");
    // Permission: an account that is not API-enabled, and one the user has no role on.
    for account in [s.hidden, s.late] {
        let forged = format!("joe.user\\{account}\\App01\\x");
        let e = b.retrieve(&joe, &forged, &session("s")).await.unwrap_err();
        assert_eq!(class_of(&e), ("PCB052", Class::Permission), "{e}");
        assert!(e.to_string().contains("API-enabled"), "{e}");
    }
    // Permission: the registration's IP rules leave the broker out.
    let rule =
        vault::ip::IpRule { kind: "IPCIDR".into(), value: "10.9.0.0/16".into(), description: String::new() };
    served
        .vault
        .set_registration(vault::admin::SRA_REGISTRATION, None, Some(vec![rule]), None, None)
        .await
        .unwrap();
    let e = b.search(&joe, &ssh("App01")).await.unwrap_err();
    assert_eq!(class_of(&e), ("PCB051", Class::Permission), "{e}");
    served
        .vault
        .set_registration(vault::admin::SRA_REGISTRATION, None, Some(vec![]), None, None)
        .await
        .unwrap();
    // User mapping: a name that cannot be mapped.
    let e = b.search(&user(r"ACME\ops\joe"), &ssh("App01")).await.unwrap_err();
    assert_eq!(class_of(&e), ("PCB010", Class::UserMapping), "{e}");
    // No match: an ID that is not a credential ID.
    let e = b.retrieve(&joe, "App01\\helpdesk-01", &session("s")).await.unwrap_err();
    assert_eq!(class_of(&e), ("PCB060", Class::NoMatch), "{e}");
    // TLS trust: the system's CAs only, and another CA; the message says how to trust it.
    for ca in [None, Some(pki.other_ca.as_path())] {
        let e = broker(&url, &s.key, ca, "").search(&joe, &ssh("App01")).await.unwrap_err();
        assert_eq!(class_of(&e), ("PCB040", Class::TlsTrust), "{e}");
        assert!(e.to_string().contains("ca_file"), "{e}");
    }
    // Connectivity: the vault stopped.
    served.stop().await;
    let e = b.search(&joe, &ssh("App01")).await.unwrap_err();
    assert_eq!(class_of(&e), ("PCB030", Class::Connectivity), "{e}");
    drop(tmp);
}
