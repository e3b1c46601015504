//! The SP toolkit's records (`sp::db`), on SQLite and on PostgreSQL with the same body.

use sp::db::SpDb;
use sp::db::{
    AccessRequest, AttributeNames, LocalUser, PendingRequest, Policy, Provider, RequestStatus, SamlUser,
    SpApp, SpSession, SsoBinding, WantSigned, GENERAL_MEMBERS, GENERAL_MEMBERS_PERMISSIONS,
};
use store::Store;
use uuid::Uuid;

store::on_both_backends!(
    a_new_app_ships_the_general_members_policy,
    providers_round_trip_and_names_and_idps_are_unique_per_app,
    requests_are_taken_once_and_not_after_expiry,
    assertion_ids_are_remembered_until_they_expire,
    saml_users_link_local_users_and_record_logins,
    groups_map_to_policies_and_unmap,
    sessions_expire,
    access_requests_admit_waiting_users_once,
    policies_groups_and_providers_are_edited_and_deleted,
);

fn app(name: &str) -> SpApp {
    SpApp {
        id: Uuid::new_v4(),
        name: name.into(),
        base_url: format!("https://{name}.test"),
        entity_id: None,
        acs_url: Some(format!("https://{name}.test/custom/acs")),
        signing_key_sealed: Some(vec![1, 2, 3]),
        signing_cert: Some("PEM".into()),
        encryption_key_sealed: None,
        encryption_cert: None,
        created_at: 100,
    }
}

fn provider(app: Uuid, name: &str, entity: &str) -> Provider {
    Provider {
        id: Uuid::new_v4(),
        app_id: app,
        name: name.into(),
        idp_entity_id: entity.into(),
        sso_url: format!("{entity}/sso"),
        sso_binding: SsoBinding::Redirect,
        slo_url: Some(format!("{entity}/slo")),
        signing_certs: vec!["AAAA".into(), "BBBB".into()],
        metadata_url: None,
        want_signed: WantSigned::Either,
        allow_sha1: false,
        skew_seconds: 180,
        allow_idp_initiated: true,
        sign_requests: false,
        waiting_room: true,
        email_domains: vec!["contoso.test".into()],
        attributes: AttributeNames::default(),
        default_policy_id: None,
        created_at: 200,
    }
}

async fn new_app(db: &SpDb, name: &str) -> SpApp {
    let a = app(name);
    db.create_app(&a).await.expect("create app");
    a
}

async fn a_new_app_ships_the_general_members_policy(store: Store) {
    let db = SpDb::open(store).await.expect("the SP migrations");
    let a = new_app(&db, "crm").await;
    assert_eq!(db.app(a.id).await.expect("read app"), a);
    assert_eq!(db.app_by_name("crm").await.expect("by name"), Some(a.clone()));
    let policies = db.policies(a.id).await.expect("policies");
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].name, GENERAL_MEMBERS);
    assert_eq!(policies[0].permissions, GENERAL_MEMBERS_PERMISSIONS);
    let dup = db.create_app(&SpApp { id: Uuid::new_v4(), ..a.clone() }).await;
    assert_eq!(dup.map_err(|e| e.code()), Err("STORE_CONFLICT"));
    // The failed creation seeded nothing.
    assert_eq!(db.policies(a.id).await.expect("policies").len(), 1);
    let changed = SpApp {
        base_url: "https://crm2.test".into(),
        entity_id: Some("urn:crm".into()),
        acs_url: None,
        encryption_key_sealed: Some(vec![4, 5]),
        encryption_cert: Some("PEM2".into()),
        ..a.clone()
    };
    db.update_app(&changed).await.expect("update");
    assert_eq!(db.app(a.id).await.expect("read app"), changed);
    let missing = db.update_app(&SpApp { id: Uuid::new_v4(), ..changed }).await;
    assert_eq!(missing.map_err(|e| e.code()), Err("STORE_NOT_FOUND"));
}

async fn providers_round_trip_and_names_and_idps_are_unique_per_app(store: Store) {
    let db = SpDb::open(store).await.expect("the SP migrations");
    let a = new_app(&db, "crm").await;
    let p = provider(a.id, "Contoso", "https://idp.contoso.test");
    db.create_provider(&p).await.expect("create provider");
    assert_eq!(db.provider(p.id).await.expect("read"), p);
    assert_eq!(db.provider_by_name(a.id, "contoso").await.expect("by name"), Some(p.clone()));
    assert_eq!(
        db.provider_by_entity_id(a.id, "https://idp.contoso.test").await.expect("by entity"),
        Some(p.clone())
    );
    let same_name = provider(a.id, "CONTOSO", "https://other.test");
    assert_eq!(db.create_provider(&same_name).await.map_err(|e| e.code()), Err("STORE_CONFLICT"));
    let same_idp = provider(a.id, "Other", "https://idp.contoso.test");
    assert_eq!(db.create_provider(&same_idp).await.map_err(|e| e.code()), Err("STORE_CONFLICT"));
    let bad_list = Provider { signing_certs: vec!["A\nB".into()], ..provider(a.id, "X", "https://x.test") };
    assert_eq!(db.create_provider(&bad_list).await.map_err(|e| e.code()), Err("STORE_CONFLICT"));

    let general = db.policy_by_name(a.id, GENERAL_MEMBERS).await.expect("policy").expect("seeded");
    let mut changed = p.clone();
    changed.signing_certs = vec!["CCCC".into()];
    changed.sso_binding = SsoBinding::Post;
    changed.default_policy_id = Some(general.id);
    changed.attributes.email = "mail".into();
    changed.want_signed = WantSigned::Assertion;
    changed.allow_sha1 = true;
    changed.skew_seconds = 0;
    db.update_provider(&changed).await.expect("update");
    assert_eq!(db.provider(p.id).await.expect("read"), changed);
    assert_eq!(db.providers(a.id).await.expect("list"), vec![changed]);
}

async fn requests_are_taken_once_and_not_after_expiry(store: Store) {
    let db = SpDb::open(store).await.expect("the SP migrations");
    let a = new_app(&db, "crm").await;
    let p = provider(a.id, "Contoso", "https://idp.contoso.test");
    db.create_provider(&p).await.expect("provider");
    let r = PendingRequest {
        relay: "r1".into(),
        request_id: "_id1".into(),
        provider_id: p.id,
        browser: "hash".into(),
        return_url: "/".into(),
        expires_at: 1000,
    };
    db.put_request(&r).await.expect("put");
    assert_eq!(db.take_request("r1", 999).await.expect("take"), Some(r.clone()));
    assert_eq!(db.take_request("r1", 999).await.expect("take again"), None, "answered once");
    db.put_request(&PendingRequest { relay: "r2".into(), ..r.clone() }).await.expect("put");
    assert_eq!(db.take_request("r2", 1000).await.expect("take"), None, "expired");
    assert_eq!(db.take_request("r2", 1).await.expect("take"), None, "an expired take removes it");
    for (relay, expires_at) in [("r3", 10), ("r4", 20), ("r5", 30)] {
        db.put_request(&PendingRequest { relay: relay.into(), expires_at, ..r.clone() }).await.expect("put");
    }
    assert_eq!(db.purge_requests(20).await.expect("purge"), 2, "expired at or before now");
    assert_eq!(db.take_request("r5", 29).await.expect("take").map(|r| r.relay), Some("r5".into()));
}

async fn assertion_ids_are_remembered_until_they_expire(store: Store) {
    let db = SpDb::open(store).await.expect("the SP migrations");
    assert!(db.remember_assertion("_a", 100, 10).await.expect("first"));
    assert!(!db.remember_assertion("_a", 100, 50).await.expect("replay"));
    assert!(!db.remember_assertion("_a", 200, 99).await.expect("replay just before expiry"));
    assert!(db.remember_assertion("_a", 300, 100).await.expect("after expiry"));
    assert!(!db.remember_assertion("_a", 300, 150).await.expect("remembered again"));
    assert_eq!(db.purge_replay(300).await.expect("purge"), 1);
    assert!(db.remember_assertion("_a", 400, 150).await.expect("purged"));
}

async fn saml_users_link_local_users_and_record_logins(store: Store) {
    let db = SpDb::open(store).await.expect("the SP migrations");
    let a = new_app(&db, "crm").await;
    let p = provider(a.id, "Contoso", "https://idp.contoso.test");
    db.create_provider(&p).await.expect("provider");
    let local = LocalUser {
        id: Uuid::new_v4(),
        app_id: a.id,
        username: "alice".into(),
        first_name: "Alice".into(),
        last_name: "Smith".into(),
        email: "Alice@Contoso.test".into(),
        created_at: 1,
    };
    db.create_local_user(&local).await.expect("local user");
    assert_eq!(
        db.unlinked_local_users_by_email(a.id, "alice@contoso.TEST").await.expect("by mail"),
        vec![local.clone()]
    );
    assert!(db.saml_users(a.id).await.expect("list").is_empty(), "pre-provisioned is not a SAML user");
    let s = SamlUser {
        id: Uuid::new_v4(),
        provider_id: p.id,
        name_id: "nid-1".into(),
        local_user_id: local.id,
        groups: vec!["g1".into()],
        permissions: vec!["x".into()],
        waiting: true,
        granted_policy_id: None,
        granted_sites: vec![],
        created_at: 5,
        last_login_at: 5,
    };
    db.create_saml_user(&s).await.expect("saml user");
    assert_eq!(db.saml_user(p.id, "nid-1").await.expect("read"), Some(s.clone()));
    assert!(
        db.unlinked_local_users_by_email(a.id, "alice@contoso.test").await.expect("by mail").is_empty(),
        "a linked user is no longer a candidate"
    );
    let dup = SamlUser { id: Uuid::new_v4(), ..s.clone() };
    assert_eq!(db.create_saml_user(&dup).await.map_err(|e| e.code()), Err("STORE_CONFLICT"));
    db.record_saml_login(s.id, &[], &["y".into()], 9).await.expect("login");
    let after = db.saml_user_by_id(s.id).await.expect("read");
    assert_eq!((after.groups, after.permissions, after.last_login_at), (vec![], vec!["y".to_string()], 9));
    let mut renamed = local.clone();
    renamed.first_name = "Alicia".into();
    db.update_local_user(&renamed).await.expect("update");
    let listed = db.saml_users(a.id).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].1, renamed);
    // Out of the waiting room once (the provider's waiting room held the user).
    assert!(db.saml_user_by_id(s.id).await.expect("read").waiting);
    assert!(db.leave_waiting_room(s.id).await.expect("let in"));
    assert!(!db.saml_user_by_id(s.id).await.expect("read").waiting);
    assert!(!db.leave_waiting_room(s.id).await.expect("again"), "not waiting any more");
}

async fn groups_map_to_policies_and_unmap(store: Store) {
    let db = SpDb::open(store).await.expect("the SP migrations");
    let a = new_app(&db, "crm").await;
    let admins =
        Policy { id: Uuid::new_v4(), app_id: a.id, name: "Admins".into(), permissions: vec!["admin".into()] };
    db.create_policy(&admins).await.expect("policy");
    let dup = Policy { id: Uuid::new_v4(), name: "ADMINS".into(), ..admins.clone() };
    assert_eq!(db.create_policy(&dup).await.map_err(|e| e.code()), Err("STORE_CONFLICT"));
    assert_eq!(
        db.map_group(a.id, "g-unknown", admins.id).await.map_err(|e| e.code()),
        Err("STORE_NOT_FOUND"),
        "only available groups can be mapped"
    );
    db.put_group(a.id, "g1", "Group One").await.expect("group");
    assert!(db.map_group(a.id, "g1", admins.id).await.expect("map"));
    assert!(!db.map_group(a.id, "g1", admins.id).await.expect("map twice"));
    assert_eq!(db.groups(a.id).await.expect("groups"), vec![("g1".to_string(), "Group One".to_string())]);
    assert_eq!(db.group_policies(a.id).await.expect("mappings"), vec![("g1".to_string(), admins.clone())]);
    assert!(db.unmap_group(a.id, "g1", admins.id).await.expect("unmap"));
    assert!(db.group_policies(a.id).await.expect("mappings").is_empty());
}

async fn sessions_expire(store: Store) {
    let db = SpDb::open(store).await.expect("the SP migrations");
    let a = new_app(&db, "crm").await;
    let p = provider(a.id, "Contoso", "https://idp.contoso.test");
    db.create_provider(&p).await.expect("provider");
    let local = LocalUser {
        id: Uuid::new_v4(),
        app_id: a.id,
        username: "bob".into(),
        first_name: "Bob".into(),
        last_name: "B".into(),
        email: "bob@contoso.test".into(),
        created_at: 1,
    };
    db.create_local_user(&local).await.expect("local");
    let s = SamlUser {
        id: Uuid::new_v4(),
        provider_id: p.id,
        name_id: "nid".into(),
        local_user_id: local.id,
        groups: vec![],
        permissions: vec![],
        waiting: false,
        granted_policy_id: None,
        granted_sites: vec![],
        created_at: 1,
        last_login_at: 1,
    };
    db.create_saml_user(&s).await.expect("saml");
    let session =
        SpSession { token_hash: "h".into(), saml_user_id: s.id, session_index: None, expires_at: 50 };
    db.create_session(&session).await.expect("session");
    assert_eq!(db.session("h", 49).await.expect("read"), Some(session));
    assert_eq!(db.session("h", 50).await.expect("read"), None);
    assert!(db.delete_session("h").await.expect("delete"));
    assert!(!db.delete_session("h").await.expect("delete again"));
    // An IdP's LogoutRequest: one session by its index, or all of the user's.
    for (hash, index) in [("a", Some("idx-1")), ("b", Some("idx-2")), ("c", None)] {
        let s = SpSession {
            token_hash: hash.into(),
            saml_user_id: s.id,
            session_index: index.map(str::to_string),
            expires_at: 50,
        };
        db.create_session(&s).await.expect("session");
    }
    assert_eq!(db.delete_sessions_of(s.id, Some("idx-1")).await.expect("by index"), 1);
    assert_eq!(db.session("a", 1).await.expect("read"), None);
    assert_eq!(db.delete_sessions_of(s.id, None).await.expect("all"), 2);
    assert_eq!(db.session("b", 1).await.expect("read"), None);
}

async fn access_requests_admit_waiting_users_once(store: Store) {
    let db = SpDb::open(store).await.expect("the SP migrations");
    let a = new_app(&db, "crm").await;
    let p = provider(a.id, "Contoso", "https://idp.contoso.test");
    db.create_provider(&p).await.expect("provider");
    let mut users = Vec::new();
    for (name, waiting) in [("admin", false), ("carol", true)] {
        let local = LocalUser {
            id: Uuid::new_v4(),
            app_id: a.id,
            username: name.into(),
            first_name: name.into(),
            last_name: "X".into(),
            email: format!("{name}@contoso.test"),
            created_at: 1,
        };
        db.create_local_user(&local).await.expect("local");
        let s = SamlUser {
            id: Uuid::new_v4(),
            provider_id: p.id,
            name_id: name.into(),
            local_user_id: local.id,
            groups: vec![],
            permissions: vec![],
            waiting,
            granted_policy_id: None,
            granted_sites: vec![],
            created_at: 1,
            last_login_at: 1,
        };
        db.create_saml_user(&s).await.expect("saml");
        users.push(s);
    }
    let (admin, carol) = (&users[0], &users[1]);
    let support =
        Policy { id: Uuid::new_v4(), app_id: a.id, name: "Support".into(), permissions: vec!["s".into()] };
    db.create_policy(&support).await.expect("policy");
    let request = |subject: Uuid| AccessRequest {
        id: Uuid::new_v4(),
        app_id: a.id,
        saml_user_id: subject,
        requested_by: admin.id,
        policy_id: support.id,
        sites: vec!["site-a".into(), "site-b".into()],
        status: RequestStatus::Pending,
        created_at: 10,
        decided_by: None,
        decided_at: None,
    };
    let not_waiting = db.create_access_request(&request(admin.id)).await;
    assert_eq!(not_waiting.map_err(|e| e.code()), Err("STORE_CONFLICT"), "only waiting users");
    let r = request(carol.id);
    db.create_access_request(&r).await.expect("request");
    let second = db.create_access_request(&request(carol.id)).await;
    assert_eq!(second.map_err(|e| e.code()), Err("STORE_CONFLICT"), "one pending request per user");
    assert_eq!(db.access_requests(a.id, Some(RequestStatus::Pending)).await.expect("list"), vec![r.clone()]);
    let decided = db.decide_access_request(r.id, true, admin.id, 20).await.expect("approve");
    assert_eq!(
        (decided.status, decided.decided_by, decided.decided_at),
        (RequestStatus::Approved, Some(admin.id), Some(20))
    );
    let again = db.decide_access_request(r.id, false, admin.id, 21).await;
    assert_eq!(again.map_err(|e| e.code()), Err("STORE_CONFLICT"), "decided once");
    let carol = db.saml_user_by_id(carol.id).await.expect("carol");
    assert!(!carol.waiting);
    assert_eq!(carol.granted_policy_id, Some(support.id));
    assert_eq!(carol.granted_sites, ["site-a", "site-b"]);
    assert!(db.access_requests(a.id, Some(RequestStatus::Pending)).await.expect("list").is_empty());
    assert_eq!(db.access_requests(a.id, None).await.expect("list").len(), 1);
}

async fn policies_groups_and_providers_are_edited_and_deleted(store: Store) {
    let db = SpDb::open(store).await.expect("the SP migrations");
    let a = new_app(&db, "crm").await;
    let mut ops =
        Policy { id: Uuid::new_v4(), app_id: a.id, name: "Ops".into(), permissions: vec!["a".into()] };
    db.create_policy(&ops).await.expect("policy");
    ops.name = "Operators".into();
    ops.permissions = vec!["a".into(), "settings:write".into()];
    db.update_policy(&ops).await.expect("update policy");
    assert_eq!(db.policy_by_name(a.id, "operators").await.expect("read"), Some(ops.clone()));
    let clash = Policy { name: GENERAL_MEMBERS.into(), ..ops.clone() };
    assert_eq!(db.update_policy(&clash).await.map_err(|e| e.code()), Err("STORE_CONFLICT"));
    let ghost = Policy { id: Uuid::new_v4(), name: "Ghost".into(), ..ops.clone() };
    assert_eq!(db.update_policy(&ghost).await.map_err(|e| e.code()), Err("STORE_NOT_FOUND"));

    db.put_group(a.id, "g1", "g1").await.expect("group");
    db.map_group(a.id, "g1", ops.id).await.expect("map");
    let mut p = provider(a.id, "Contoso", "https://idp.contoso.test");
    p.default_policy_id = Some(ops.id);
    db.create_provider(&p).await.expect("provider");

    assert!(db.delete_policy(ops.id).await.expect("delete policy"));
    assert!(!db.delete_policy(ops.id).await.expect("delete again"));
    assert!(db.group_policies(a.id).await.expect("mappings").is_empty(), "mappings go with the policy");
    assert_eq!(db.provider(p.id).await.expect("provider").default_policy_id, None);

    assert!(db.delete_group(a.id, "g1").await.expect("delete group"));
    assert!(db.groups(a.id).await.expect("groups").is_empty());
    assert!(!db.delete_group(a.id, "g1").await.expect("delete group again"));

    assert!(db.delete_provider(p.id).await.expect("delete provider"));
    assert!(db.providers(a.id).await.expect("providers").is_empty());
    assert!(!db.delete_provider(p.id).await.expect("delete provider again"));
}
