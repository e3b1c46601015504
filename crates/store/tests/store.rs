//! Every store method, run on SQLite and on PostgreSQL with the same body
//! (`sqlite::NAME` and `postgres::NAME`).

mod common;

use common::*;
use store::model::{Assignment, Mail, PrincipalKind, Session, SigningCert};
use store::{SignInFilter, Store, StoreError};
use uuid::Uuid;

store::on_both_backends!(
    portable_placeholders_bind_by_number_and_repeat,
    migrate_is_idempotent,
    another_crates_migration_set_applies_beside_the_store_and_is_idempotent,
    a_version_of_a_newer_build_is_refused_and_a_retired_one_is_not,
    a_set_with_a_version_outside_its_range_is_refused,
    tenants_keep_creation_order_and_the_first_is_the_default,
    users_round_trip_every_field,
    upn_is_unique_per_tenant_ignoring_case,
    user_lookups_are_scoped_by_tenant,
    missing_records_are_not_found,
    group_names_are_unique_per_tenant_ignoring_case,
    memberships_add_list_remove,
    a_group_cannot_contain_itself_or_close_a_cycle,
    members_must_belong_to_the_groups_tenant,
    transitive_groups_resolve_nesting_once_each,
    deleting_a_user_cascades_but_keeps_sign_ins,
    deleting_a_group_cascades_memberships_and_assignments,
    apps_round_trip_and_are_found_by_identifier,
    an_identifier_used_by_another_app_is_a_conflict_and_nothing_is_written,
    deleting_an_app_cascades_identifiers_certs_and_assignments,
    signing_certs_keep_exactly_one_active,
    assignments_upsert_and_resolve_through_nested_groups,
    sign_ins_filter_and_list_newest_first,
    sessions_lifecycle,
    settings_round_trip,
    concurrent_opposite_nestings_cannot_both_succeed,
    concurrent_activations_leave_exactly_one_active_cert,
    every_directory_write_moves_the_generation_and_sessions_do_not,
    outbox_queues_once_per_key_and_records_delivery,
    lockouts_start_after_the_free_attempts_double_and_clear,
    a_totp_step_is_claimed_once_per_user,
);

fn assert_code<T: std::fmt::Debug>(r: Result<T, StoreError>, code: &str) -> StoreError {
    match r {
        Ok(v) => panic!("expected {code}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.code(), code, "unexpected error: {e}");
            e
        }
    }
}

/// `$N` placeholders work on both backends: out of order and repeated (SQLite reads `$N` as
/// parameter N, as PostgreSQL does). Booleans, 64-bit integers and arbitrary bytes survive a
/// round trip through the Any driver.
async fn portable_placeholders_bind_by_number_and_repeat(s: Store) {
    let row: (String, String, String) =
        sqlx::query_as("SELECT CAST($2 AS TEXT) AS a, CAST($1 AS TEXT) AS b, CAST($1 AS TEXT) AS c")
            .bind("one")
            .bind("two")
            .fetch_one(s.raw_pool())
            .await
            .unwrap();
    assert_eq!(row, ("two".into(), "one".into(), "one".into()));

    let t = new_tenant(&s).await;
    let mut u = user(&t, "bytes@example.com");
    u.enabled = false;
    u.created_at = i64::MIN;
    u.updated_at = i64::MAX;
    u.totp_secret_sealed = Some((0..=255u8).collect());
    s.create_user(&u).await.unwrap();
    let back = s.get_user(t.id, u.id).await.unwrap().unwrap();
    assert_eq!(back, u);
}

/// Running the migrations again changes nothing and does not fail.
async fn migrate_is_idempotent(s: Store) {
    let t = new_tenant(&s).await;
    s.migrate().await.unwrap();
    s.migrate().await.unwrap();
    assert_eq!(s.get_tenant(t.id).await.unwrap(), Some(t));
}

/// A set owned by another crate (like the SP toolkit's), for the tests below.
static WIDGETS: store::MigrationSet = store::MigrationSet {
    name: "widgets",
    versions: 90_000..=90_999,
    retired: &[],
    sqlite: &[(90_001, "widgets", "CREATE TABLE widgets (id TEXT PRIMARY KEY, size BIGINT NOT NULL);")],
    postgres: &[(90_001, "widgets", "CREATE TABLE widgets (id TEXT PRIMARY KEY, size BIGINT NOT NULL);")],
};

/// A crate's own migrations live in the same database as the store's without disturbing them:
/// both apply, twice without effect, and the store still migrates after them.
async fn another_crates_migration_set_applies_beside_the_store_and_is_idempotent(s: Store) {
    s.migrate_set(&WIDGETS).await.unwrap();
    s.migrate_set(&WIDGETS).await.unwrap();
    s.migrate().await.unwrap();
    sqlx::query("INSERT INTO widgets (id, size) VALUES ($1, $2)")
        .bind("w1")
        .bind(3_i64)
        .execute(s.raw_pool())
        .await
        .unwrap();
    let t = new_tenant(&s).await;
    assert_eq!(s.get_tenant(t.id).await.unwrap(), Some(t));
}

/// A row in a set's range that the set does not know means a newer build migrated the
/// database: refused with a sentence that says so. A retired version is left alone.
async fn a_version_of_a_newer_build_is_refused_and_a_retired_one_is_not(s: Store) {
    s.migrate_set(&WIDGETS).await.unwrap();
    static NEWER: store::MigrationSet = store::MigrationSet {
        name: "widgets",
        versions: 90_000..=90_999,
        retired: &[],
        sqlite: &[
            (90_001, "widgets", "CREATE TABLE widgets (id TEXT PRIMARY KEY, size BIGINT NOT NULL);"),
            (90_002, "colour", "ALTER TABLE widgets ADD COLUMN colour TEXT;"),
        ],
        postgres: &[
            (90_001, "widgets", "CREATE TABLE widgets (id TEXT PRIMARY KEY, size BIGINT NOT NULL);"),
            (90_002, "colour", "ALTER TABLE widgets ADD COLUMN colour TEXT;"),
        ],
    };
    s.migrate_set(&NEWER).await.unwrap();
    let err = s.migrate_set(&WIDGETS).await.unwrap_err().to_string();
    assert!(err.contains("90002") && err.contains("newer version"), "{err}");
    static RETIRED: store::MigrationSet = store::MigrationSet {
        name: "widgets",
        versions: 90_000..=90_999,
        retired: &[90_002],
        sqlite: &[(90_001, "widgets", "CREATE TABLE widgets (id TEXT PRIMARY KEY, size BIGINT NOT NULL);")],
        postgres: &[(90_001, "widgets", "CREATE TABLE widgets (id TEXT PRIMARY KEY, size BIGINT NOT NULL);")],
    };
    s.migrate_set(&RETIRED).await.unwrap();
}

async fn a_set_with_a_version_outside_its_range_is_refused(s: Store) {
    static STRAY: store::MigrationSet = store::MigrationSet {
        name: "stray",
        versions: 91_000..=91_999,
        retired: &[],
        sqlite: &[(5, "stray", "CREATE TABLE stray (id TEXT);")],
        postgres: &[(5, "stray", "CREATE TABLE stray (id TEXT);")],
    };
    let err = s.migrate_set(&STRAY).await.unwrap_err().to_string();
    assert!(err.contains("outside its reserved versions"), "{err}");
    assert!(sqlx::query("SELECT 1 FROM stray").fetch_all(s.raw_pool()).await.is_err(), "nothing applied");
}

async fn tenants_keep_creation_order_and_the_first_is_the_default(s: Store) {
    assert_eq!(s.default_tenant().await.unwrap(), None, "no tenant yet");
    assert!(s.list_tenants().await.unwrap().is_empty());
    // Same created_at: the order still follows creation, not the clock or the ID.
    let names = ["zeta", "alpha", "mid"];
    let mut made = Vec::new();
    for n in names {
        let t = tenant(n);
        s.create_tenant(&t).await.unwrap();
        made.push(t);
    }
    assert_eq!(s.default_tenant().await.unwrap().as_ref(), Some(&made[0]));
    assert_eq!(s.list_tenants().await.unwrap(), made);
    assert_eq!(s.get_tenant(made[1].id).await.unwrap().as_ref(), Some(&made[1]));
    assert_eq!(s.get_tenant(Uuid::new_v4()).await.unwrap(), None);
    assert_code(s.create_tenant(&made[2]).await, "STORE_CONFLICT");
}

async fn users_round_trip_every_field(s: Store) {
    let t = new_tenant(&s).await;
    let mut u = user(&t, "Alice.Smith@Contoso.com");
    u.given_name = Some("Alice".into());
    u.surname = Some("Smith".into());
    u.mail = Some("alice@contoso.com".into());
    u.department = Some("Finance".into());
    u.job_title = Some("Controller".into());
    u.employee_id = Some("E-1".into());
    u.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
    u.totp_secret_sealed = Some(vec![1, 0, 2, 0xff]);
    s.create_user(&u).await.unwrap();
    assert_eq!(s.get_user(t.id, u.id).await.unwrap().as_ref(), Some(&u), "every field comes back as written");

    // update_user replaces fields (Some -> None too) and keeps created_at; it bumps nothing itself.
    let mut changed = u.clone();
    changed.upn = "alice@contoso.com".into();
    changed.mail = None;
    changed.enabled = false;
    changed.totp_secret_sealed = None;
    changed.updated_at = u.updated_at + 60;
    s.update_user(&changed).await.unwrap();
    assert_eq!(s.get_user(t.id, u.id).await.unwrap().as_ref(), Some(&changed));

    let b = new_user(&s, &t, "bob@contoso.com").await;
    let a2 = new_user(&s, &t, "Aaron@contoso.com").await;
    let list: Vec<String> = s.list_users(t.id).await.unwrap().into_iter().map(|u| u.upn).collect();
    assert_eq!(
        list,
        vec![a2.upn.clone(), changed.upn.clone(), b.upn.clone()],
        "ordered by UPN, ignoring case"
    );

    s.delete_user(t.id, b.id).await.unwrap();
    assert_eq!(s.get_user(t.id, b.id).await.unwrap(), None);
    assert_code(s.delete_user(t.id, b.id).await, "STORE_NOT_FOUND");
}

/// Duplicate UPNs are refused by a unique index on both backends, whatever the letter case
/// (including non-ASCII letters, which SQL `lower()` would fold differently on SQLite).
async fn upn_is_unique_per_tenant_ignoring_case(s: Store) {
    let t = new_tenant(&s).await;
    let other = new_tenant(&s).await;
    let alice = new_user(&s, &t, "alice@contoso.com").await;
    let e = assert_code(s.create_user(&user(&t, "ALICE@Contoso.COM")).await, "STORE_CONFLICT");
    assert!(e.to_string().contains("ALICE@Contoso.COM"), "the message names the UPN: {e}");
    // Same UPN in another tenant is fine.
    new_user(&s, &other, "alice@contoso.com").await;

    let elodie = new_user(&s, &t, "Élodie@contoso.com").await;
    assert_code(s.create_user(&user(&t, "élodie@CONTOSO.com")).await, "STORE_CONFLICT");
    assert_eq!(s.find_user_by_upn(t.id, "ÉLODIE@contoso.com").await.unwrap().map(|u| u.id), Some(elodie.id));
    assert_eq!(s.find_user_by_upn(t.id, "Alice@CONTOSO.com").await.unwrap().map(|u| u.id), Some(alice.id));
    assert_eq!(s.find_user_by_upn(t.id, "nobody@contoso.com").await.unwrap(), None);

    // Renaming onto a taken UPN is a conflict too, and changes nothing.
    let mut renamed = elodie.clone();
    renamed.upn = "Alice@contoso.com".into();
    assert_code(s.update_user(&renamed).await, "STORE_CONFLICT");
    assert_eq!(s.get_user(t.id, elodie.id).await.unwrap().unwrap().upn, "Élodie@contoso.com");
}

async fn user_lookups_are_scoped_by_tenant(s: Store) {
    let t = new_tenant(&s).await;
    let other = new_tenant(&s).await;
    let u = new_user(&s, &t, "carol@contoso.com").await;
    assert_eq!(s.get_user(other.id, u.id).await.unwrap(), None);
    assert_eq!(s.find_user_by_upn(other.id, &u.upn).await.unwrap(), None);
    assert!(s.list_users(other.id).await.unwrap().is_empty());
    assert_code(s.delete_user(other.id, u.id).await, "STORE_NOT_FOUND");
    let mut moved = u.clone();
    moved.tenant_id = other.id;
    assert_code(s.update_user(&moved).await, "STORE_NOT_FOUND");
    assert!(s.get_user(t.id, u.id).await.unwrap().is_some(), "the other tenant could not delete it");
}

async fn missing_records_are_not_found(s: Store) {
    let ghost = tenant("ghost");
    let e = assert_code(s.create_user(&user(&ghost, "x@y")).await, "STORE_NOT_FOUND");
    assert!(e.to_string().contains(&ghost.id.to_string()), "{e}");
    assert_code(s.create_group(&group(&ghost, "g")).await, "STORE_NOT_FOUND");
    assert_code(s.create_app(&app(&ghost, "a"), &[]).await, "STORE_NOT_FOUND");
    let t = new_tenant(&s).await;
    assert_code(s.update_app(&app(&t, "a"), &[]).await, "STORE_NOT_FOUND");
    assert_code(s.delete_app(t.id, Uuid::new_v4()).await, "STORE_NOT_FOUND");
    assert_code(s.delete_group(t.id, Uuid::new_v4()).await, "STORE_NOT_FOUND");
    assert_code(s.add_member(Uuid::new_v4(), Uuid::new_v4(), PrincipalKind::User).await, "STORE_NOT_FOUND");
}

async fn group_names_are_unique_per_tenant_ignoring_case(s: Store) {
    let t = new_tenant(&s).await;
    let other = new_tenant(&s).await;
    let mut g = group(&t, "Sales");
    g.description = Some("Sales team".into());
    g.security_enabled = false;
    s.create_group(&g).await.unwrap();
    assert_eq!(s.get_group(t.id, g.id).await.unwrap().as_ref(), Some(&g));
    assert_eq!(s.find_group_by_name(t.id, "SALES").await.unwrap().as_ref(), Some(&g));
    assert_code(s.create_group(&group(&t, "sales")).await, "STORE_CONFLICT");
    new_group(&s, &other, "sales").await;
    let a = new_group(&s, &t, "accounting").await;
    let names: Vec<String> = s.list_groups(t.id).await.unwrap().into_iter().map(|g| g.name).collect();
    assert_eq!(names, vec![a.name, g.name.clone()]);
    assert_eq!(s.get_group(other.id, g.id).await.unwrap(), None, "scoped by tenant");
    assert_code(s.delete_group(other.id, g.id).await, "STORE_NOT_FOUND");
    s.delete_group(t.id, g.id).await.unwrap();
    assert_eq!(s.find_group_by_name(t.id, "sales").await.unwrap(), None);
}

async fn memberships_add_list_remove(s: Store) {
    let t = new_tenant(&s).await;
    let g = new_group(&s, &t, "g").await;
    let sub = new_group(&s, &t, "sub").await;
    let u = new_user(&s, &t, "u@x").await;
    assert!(s.add_member(g.id, u.id, PrincipalKind::User).await.unwrap(), "first add adds");
    assert!(!s.add_member(g.id, u.id, PrincipalKind::User).await.unwrap(), "second add is a no-op");
    assert!(s.add_member(g.id, sub.id, PrincipalKind::Group).await.unwrap());
    assert_eq!(
        s.members(g.id).await.unwrap(),
        vec![(u.id, PrincipalKind::User), (sub.id, PrincipalKind::Group)]
    );
    assert!(s.remove_member(g.id, u.id, PrincipalKind::User).await.unwrap());
    assert!(!s.remove_member(g.id, u.id, PrincipalKind::User).await.unwrap(), "already removed");
    assert_eq!(s.members(g.id).await.unwrap(), vec![(sub.id, PrincipalKind::Group)]);
    // A user ID passed as a group (or the reverse) is not found.
    assert_code(s.add_member(g.id, u.id, PrincipalKind::Group).await, "STORE_NOT_FOUND");
}

async fn a_group_cannot_contain_itself_or_close_a_cycle(s: Store) {
    let t = new_tenant(&s).await;
    let a = new_group(&s, &t, "a").await;
    let b = new_group(&s, &t, "b").await;
    let c = new_group(&s, &t, "c").await;
    assert_code(s.add_member(a.id, a.id, PrincipalKind::Group).await, "STORE_CONFLICT");
    s.add_member(a.id, b.id, PrincipalKind::Group).await.unwrap(); // a ⊃ b
    s.add_member(b.id, c.id, PrincipalKind::Group).await.unwrap(); // b ⊃ c
    let e = assert_code(s.add_member(b.id, a.id, PrincipalKind::Group).await, "STORE_CONFLICT");
    assert!(e.to_string().contains("cycle"), "{e}");
    assert_code(s.add_member(c.id, a.id, PrincipalKind::Group).await, "STORE_CONFLICT");
    // Not a cycle: a second path to the same group (a ⊃ c directly as well).
    assert!(s.add_member(a.id, c.id, PrincipalKind::Group).await.unwrap());
    assert_eq!(count(&s, "group_group_members").await, 3, "refused additions wrote nothing");
}

async fn members_must_belong_to_the_groups_tenant(s: Store) {
    let t = new_tenant(&s).await;
    let other = new_tenant(&s).await;
    let g = new_group(&s, &t, "g").await;
    let foreign_user = new_user(&s, &other, "f@x").await;
    let foreign_group = new_group(&s, &other, "f").await;
    assert_code(s.add_member(g.id, foreign_user.id, PrincipalKind::User).await, "STORE_NOT_FOUND");
    assert_code(s.add_member(g.id, foreign_group.id, PrincipalKind::Group).await, "STORE_NOT_FOUND");
    assert!(s.members(g.id).await.unwrap().is_empty());
}

async fn transitive_groups_resolve_nesting_once_each(s: Store) {
    let t = new_tenant(&s).await;
    // top ⊃ mid ⊃ leaf ∋ user; top ⊃ leaf too (diamond); other ∌ user.
    let top = new_group(&s, &t, "top").await;
    let mid = new_group(&s, &t, "mid").await;
    let leaf = new_group(&s, &t, "leaf").await;
    let direct = new_group(&s, &t, "direct").await;
    new_group(&s, &t, "other").await;
    let u = new_user(&s, &t, "u@x").await;
    s.add_member(top.id, mid.id, PrincipalKind::Group).await.unwrap();
    s.add_member(mid.id, leaf.id, PrincipalKind::Group).await.unwrap();
    s.add_member(top.id, leaf.id, PrincipalKind::Group).await.unwrap();
    s.add_member(leaf.id, u.id, PrincipalKind::User).await.unwrap();
    s.add_member(direct.id, u.id, PrincipalKind::User).await.unwrap();

    let names = |gs: Vec<store::model::Group>| gs.into_iter().map(|g| g.name).collect::<Vec<_>>();
    assert_eq!(names(s.groups_of_user(t.id, u.id, false).await.unwrap()), vec!["direct", "leaf"]);
    assert_eq!(
        names(s.groups_of_user(t.id, u.id, true).await.unwrap()),
        vec!["direct", "leaf", "mid", "top"],
        "nested groups included, each once despite two paths to `top`"
    );
    let other = new_tenant(&s).await;
    assert!(s.groups_of_user(other.id, u.id, true).await.unwrap().is_empty(), "scoped by tenant");
}

async fn deleting_a_user_cascades_but_keeps_sign_ins(s: Store) {
    let t = new_tenant(&s).await;
    let u = new_user(&s, &t, "gone@x").await;
    let g = new_group(&s, &t, "g").await;
    let a = new_app(&s, &t, "app", &["urn:app"]).await;
    s.add_member(g.id, u.id, PrincipalKind::User).await.unwrap();
    s.assign(&Assignment {
        app_id: a.id,
        principal_id: u.id,
        principal_kind: PrincipalKind::User,
        role: "Default Access".into(),
        created_at: 1,
    })
    .await
    .unwrap();
    let session = Session {
        id_hash: "h1".into(),
        tenant_id: t.id,
        user_id: u.id,
        authn_instant: 1,
        expires_at: 100,
        mfa: false,
    };
    s.create_session(&session).await.unwrap();
    let mut si = sign_in(&t, 5, "OK");
    si.user_id = Some(u.id);
    si.upn = Some(u.upn.clone());
    s.record_sign_in(&si).await.unwrap();

    s.delete_user(t.id, u.id).await.unwrap();
    assert!(s.members(g.id).await.unwrap().is_empty(), "membership removed");
    assert!(s.assignments(a.id).await.unwrap().is_empty(), "assignment removed");
    assert_eq!(s.get_session("h1").await.unwrap(), None, "session removed");
    assert_eq!(
        s.list_sign_ins(&SignInFilter::tenant(t.id)).await.unwrap(),
        vec![si],
        "the log keeps the attempt"
    );
}

async fn deleting_a_group_cascades_memberships_and_assignments(s: Store) {
    let t = new_tenant(&s).await;
    let parent = new_group(&s, &t, "parent").await;
    let g = new_group(&s, &t, "g").await;
    let u = new_user(&s, &t, "u@x").await;
    let a = new_app(&s, &t, "app", &[]).await;
    s.add_member(parent.id, g.id, PrincipalKind::Group).await.unwrap();
    s.add_member(g.id, u.id, PrincipalKind::User).await.unwrap();
    s.assign(&Assignment {
        app_id: a.id,
        principal_id: g.id,
        principal_kind: PrincipalKind::Group,
        role: "r".into(),
        created_at: 1,
    })
    .await
    .unwrap();
    assert_eq!(s.apps_assigned_to(t.id, u.id).await.unwrap().len(), 1);
    s.delete_group(t.id, g.id).await.unwrap();
    assert!(s.members(parent.id).await.unwrap().is_empty(), "removed from its parent");
    assert_eq!(count(&s, "group_user_members").await, 0, "its own memberships are gone");
    assert!(s.assignments(a.id).await.unwrap().is_empty());
    assert!(s.apps_assigned_to(t.id, u.id).await.unwrap().is_empty());
    assert!(s.get_user(t.id, u.id).await.unwrap().is_some(), "members themselves stay");
}

async fn apps_round_trip_and_are_found_by_identifier(s: Store) {
    let t = new_tenant(&s).await;
    let other = new_tenant(&s).await;
    let a = new_app(&s, &t, "Zeta CRM", &["https://zeta.example/saml", "urn:zeta", "urn:zeta"]).await;
    let b = new_app(&s, &t, "Alpha HR", &["urn:alpha"]).await;
    assert_eq!(s.get_app(t.id, a.id).await.unwrap().as_ref(), Some(&a));
    assert_eq!(s.get_app(other.id, a.id).await.unwrap(), None, "scoped by tenant");
    assert_eq!(s.list_apps(t.id).await.unwrap(), vec![b.clone(), a.clone()], "ordered by name");
    assert_eq!(s.find_app_by_identifier(t.id, "urn:zeta").await.unwrap().as_ref(), Some(&a));
    assert_eq!(s.find_app_by_identifier(t.id, "URN:ZETA").await.unwrap(), None, "entity IDs match exactly");
    assert_eq!(s.find_app_by_identifier(other.id, "urn:zeta").await.unwrap(), None);
    assert_eq!(
        s.list_app_identifiers(a.id).await.unwrap(),
        vec!["https://zeta.example/saml".to_string(), "urn:zeta".into()],
        "a repeated identifier is stored once"
    );

    // The same identifier in another tenant is allowed.
    new_app(&s, &other, "Zeta CRM", &["urn:zeta"]).await;

    let mut changed = a.clone();
    changed.name = "Zeta CRM (prod)".into();
    changed.config_json = r#"{"changed":true}"#.into();
    changed.updated_at += 10;
    s.update_app(&changed, &["urn:zeta:prod".to_string()]).await.unwrap();
    assert_eq!(s.get_app(t.id, a.id).await.unwrap().as_ref(), Some(&changed));
    assert_eq!(s.find_app_by_identifier(t.id, "urn:zeta").await.unwrap(), None, "old identifiers are gone");
    assert_eq!(s.find_app_by_identifier(t.id, "urn:zeta:prod").await.unwrap().map(|x| x.id), Some(a.id));
    // Re-saving an app with its own identifiers is not a conflict with itself.
    s.update_app(&changed, &["urn:zeta:prod".to_string()]).await.unwrap();
}

/// Identifier uniqueness is enforced inside the create/update transaction: the refused app
/// row and its other identifiers are rolled back.
async fn an_identifier_used_by_another_app_is_a_conflict_and_nothing_is_written(s: Store) {
    let t = new_tenant(&s).await;
    let first = new_app(&s, &t, "first", &["urn:shared"]).await;
    let second = app(&t, "second");
    let e = assert_code(
        s.create_app(&second, &["urn:fresh".to_string(), "urn:shared".to_string()]).await,
        "STORE_CONFLICT",
    );
    assert!(e.to_string().contains("urn:shared"), "the message names the identifier: {e}");
    assert_eq!(s.get_app(t.id, second.id).await.unwrap(), None, "the app row was rolled back");
    assert_eq!(s.find_app_by_identifier(t.id, "urn:fresh").await.unwrap(), None, "identifiers rolled back");

    let third = new_app(&s, &t, "third", &["urn:third"]).await;
    let mut renamed = third.clone();
    renamed.name = "renamed".into();
    assert_code(s.update_app(&renamed, &["urn:shared".to_string()]).await, "STORE_CONFLICT");
    assert_eq!(s.get_app(t.id, third.id).await.unwrap().unwrap().name, "third", "update rolled back");
    assert_eq!(s.list_app_identifiers(third.id).await.unwrap(), vec!["urn:third".to_string()]);
    assert_eq!(s.find_app_by_identifier(t.id, "urn:shared").await.unwrap().map(|a| a.id), Some(first.id));
}

fn cert(app: Uuid, active: bool, created_at: i64) -> SigningCert {
    SigningCert {
        id: Uuid::new_v4(),
        app_id: app,
        active,
        cert_der: vec![0x30, 0x82, 0x00, 0x01, 0xff],
        key_sealed: vec![1, 0, 0, 7],
        thumbprint: "A1B2C3".into(),
        not_before: created_at,
        not_after: created_at + 3 * 365 * 86_400,
        created_at,
    }
}

async fn deleting_an_app_cascades_identifiers_certs_and_assignments(s: Store) {
    let t = new_tenant(&s).await;
    let a = new_app(&s, &t, "app", &["urn:a", "urn:b"]).await;
    let keep = new_app(&s, &t, "keep", &["urn:keep"]).await;
    let u = new_user(&s, &t, "u@x").await;
    let g = new_group(&s, &t, "g").await;
    for app in [&a, &keep] {
        s.add_signing_cert(&cert(app.id, true, 1)).await.unwrap();
        s.add_signing_cert(&cert(app.id, false, 2)).await.unwrap();
        for (p, kind) in [(u.id, PrincipalKind::User), (g.id, PrincipalKind::Group)] {
            let asg = Assignment {
                app_id: app.id,
                principal_id: p,
                principal_kind: kind,
                role: "r".into(),
                created_at: 1,
            };
            s.assign(&asg).await.unwrap();
        }
    }
    s.delete_app(t.id, a.id).await.unwrap();
    assert_eq!(s.get_app(t.id, a.id).await.unwrap(), None);
    assert_eq!(count(&s, "app_identifiers").await, 1, "only `keep`'s identifier is left");
    assert_eq!(count(&s, "signing_certs").await, 2, "only `keep`'s certificates are left");
    assert_eq!(count(&s, "app_user_assignments").await + count(&s, "app_group_assignments").await, 2);
    assert!(s.list_signing_certs(a.id).await.unwrap().is_empty());
    assert!(s.assignments(a.id).await.unwrap().is_empty());
    assert_eq!(s.find_app_by_identifier(t.id, "urn:a").await.unwrap(), None);
    assert_eq!(s.apps_assigned_to(t.id, u.id).await.unwrap(), vec![keep]);
}

async fn signing_certs_keep_exactly_one_active(s: Store) {
    let t = new_tenant(&s).await;
    let a = new_app(&s, &t, "app", &[]).await;
    let first = cert(a.id, true, 100);
    s.add_signing_cert(&first).await.unwrap();
    let e = assert_code(s.add_signing_cert(&cert(a.id, true, 150)).await, "STORE_CONFLICT");
    assert!(e.to_string().contains("inactive"), "the message says to add it inactive: {e}");
    let older = cert(a.id, false, 200);
    let newer = cert(a.id, false, 200); // same second: creation order decides
    s.add_signing_cert(&older).await.unwrap();
    s.add_signing_cert(&newer).await.unwrap();
    let ids = |cs: Vec<SigningCert>| cs.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(s.list_signing_certs(a.id).await.unwrap()), vec![first.id, newer.id, older.id]);
    assert_eq!(s.active_signing_cert(a.id).await.unwrap().as_ref(), Some(&first), "bytes round-trip");

    // Rollover: activating another deactivates the first, in one transaction.
    s.activate_signing_cert(a.id, older.id).await.unwrap();
    let certs = s.list_signing_certs(a.id).await.unwrap();
    assert_eq!(certs.iter().filter(|c| c.active).count(), 1, "exactly one active");
    assert_eq!(ids(certs), vec![older.id, newer.id, first.id]);
    s.activate_signing_cert(a.id, older.id).await.unwrap(); // activating the active one is fine

    let e = assert_code(s.delete_signing_cert(a.id, older.id).await, "STORE_CONFLICT");
    assert!(e.to_string().contains("activate another"), "{e}");
    s.delete_signing_cert(a.id, first.id).await.unwrap();
    assert_code(s.delete_signing_cert(a.id, first.id).await, "STORE_NOT_FOUND");
    assert_code(s.activate_signing_cert(a.id, Uuid::new_v4()).await, "STORE_NOT_FOUND");
    let other = new_app(&s, &t, "other", &[]).await;
    assert_code(s.activate_signing_cert(other.id, newer.id).await, "STORE_NOT_FOUND");
    assert_code(s.add_signing_cert(&cert(Uuid::new_v4(), false, 1)).await, "STORE_NOT_FOUND");
    assert_eq!(s.active_signing_cert(other.id).await.unwrap(), None);
}

async fn assignments_upsert_and_resolve_through_nested_groups(s: Store) {
    let t = new_tenant(&s).await;
    let other = new_tenant(&s).await;
    let u = new_user(&s, &t, "u@x").await;
    let outsider = new_user(&s, &t, "o@x").await;
    let foreign = new_user(&s, &other, "f@x").await;
    let outer = new_group(&s, &t, "outer").await;
    let inner = new_group(&s, &t, "inner").await;
    s.add_member(outer.id, inner.id, PrincipalKind::Group).await.unwrap();
    s.add_member(inner.id, u.id, PrincipalKind::User).await.unwrap();
    let direct = new_app(&s, &t, "Direct", &[]).await;
    let nested = new_app(&s, &t, "Nested", &[]).await;
    let both = new_app(&s, &t, "Both", &[]).await;
    let none = new_app(&s, &t, "None", &[]).await;

    let asg = |app: Uuid, p: Uuid, kind, role: &str, at| Assignment {
        app_id: app,
        principal_id: p,
        principal_kind: kind,
        role: role.into(),
        created_at: at,
    };
    s.assign(&asg(direct.id, u.id, PrincipalKind::User, "Reader", 1)).await.unwrap();
    s.assign(&asg(direct.id, u.id, PrincipalKind::User, "Admin", 2)).await.unwrap();
    assert_eq!(
        s.assignments(direct.id).await.unwrap(),
        vec![asg(direct.id, u.id, PrincipalKind::User, "Admin", 1)],
        "assigning again replaces the role and keeps the first time"
    );
    s.assign(&asg(nested.id, outer.id, PrincipalKind::Group, "Default Access", 3)).await.unwrap();
    s.assign(&asg(both.id, inner.id, PrincipalKind::Group, "Default Access", 4)).await.unwrap();
    s.assign(&asg(both.id, u.id, PrincipalKind::User, "Default Access", 5)).await.unwrap();
    assert_eq!(s.assignments(both.id).await.unwrap().len(), 2);

    let names = |apps: Vec<store::model::App>| apps.into_iter().map(|a| a.name).collect::<Vec<_>>();
    assert_eq!(
        names(s.apps_assigned_to(t.id, u.id).await.unwrap()),
        vec!["Both", "Direct", "Nested"],
        "direct, through a group, and through a group nested in an assigned group; each app once"
    );
    assert!(s.apps_assigned_to(t.id, outsider.id).await.unwrap().is_empty());
    assert!(!names(s.apps_assigned_to(t.id, u.id).await.unwrap()).contains(&none.name));

    // A principal of another tenant cannot be assigned.
    assert_code(s.assign(&asg(direct.id, foreign.id, PrincipalKind::User, "r", 1)).await, "STORE_NOT_FOUND");
    assert_code(s.assign(&asg(Uuid::new_v4(), u.id, PrincipalKind::User, "r", 1)).await, "STORE_NOT_FOUND");

    assert!(s.unassign(both.id, inner.id).await.unwrap());
    assert!(!s.unassign(both.id, inner.id).await.unwrap());
    assert!(s.unassign(direct.id, u.id).await.unwrap());
    assert_eq!(names(s.apps_assigned_to(t.id, u.id).await.unwrap()), vec!["Both", "Nested"]);
}

async fn sign_ins_filter_and_list_newest_first(s: Store) {
    let t = new_tenant(&s).await;
    let other = new_tenant(&s).await;
    let user_id = Uuid::new_v4();
    let app_id = Uuid::new_v4();
    let mut all = Vec::new();
    for (i, code) in ["OK", "IDP_USER_NOT_ASSIGNED", "OK", "IDP_BAD_PASSWORD", "OK"].iter().enumerate() {
        let mut si = sign_in(&t, 1000 + (i as i64 / 2) * 10, code); // times 1000, 1000, 1010, 1010, 1020
        si.user_id = (i % 2 == 0).then_some(user_id);
        si.upn = Some(if i % 2 == 0 { "Dana@Contoso.com".into() } else { "eve@contoso.com".into() });
        si.app_id = (i < 3).then_some(app_id);
        si.detail = Some(format!("attempt {i}"));
        s.record_sign_in(&si).await.unwrap();
        all.push(si);
    }
    s.record_sign_in(&sign_in(&other, 5000, "OK")).await.unwrap();

    let ids = |v: Vec<store::model::SignIn>| v.into_iter().map(|s| s.detail.unwrap()).collect::<Vec<_>>();
    let f = SignInFilter::tenant(t.id);
    assert_eq!(
        ids(s.list_sign_ins(&f).await.unwrap()),
        vec!["attempt 4", "attempt 3", "attempt 2", "attempt 1", "attempt 0"],
        "newest first; equal times in reverse order of recording; other tenants excluded"
    );
    assert_eq!(s.list_sign_ins(&f).await.unwrap()[4], all[0], "every field round-trips");
    let s = &s;
    let q = |f: SignInFilter| async move { ids(s.list_sign_ins(&f).await.unwrap()) };
    assert_eq!(
        q(SignInFilter { app_id: Some(app_id), ..f.clone() }).await,
        vec!["attempt 2", "attempt 1", "attempt 0"]
    );
    assert_eq!(
        q(SignInFilter { user_id: Some(user_id), ..f.clone() }).await,
        vec!["attempt 4", "attempt 2", "attempt 0"]
    );
    assert_eq!(
        q(SignInFilter { upn: Some("EVE@contoso.COM".into()), ..f.clone() }).await,
        vec!["attempt 3", "attempt 1"]
    );
    assert_eq!(
        q(SignInFilter { since: Some(1010), ..f.clone() }).await,
        vec!["attempt 4", "attempt 3", "attempt 2"]
    );
    assert_eq!(
        q(SignInFilter { result_code: Some("OK".into()), ..f.clone() }).await,
        vec!["attempt 4", "attempt 2", "attempt 0"]
    );
    assert_eq!(q(SignInFilter { limit: Some(2), ..f.clone() }).await, vec!["attempt 4", "attempt 3"]);
    assert_eq!(
        q(SignInFilter {
            app_id: Some(app_id),
            user_id: Some(user_id),
            upn: Some("dana@contoso.com".into()),
            since: Some(1001),
            result_code: Some("OK".into()),
            limit: Some(10),
            ..f.clone()
        })
        .await,
        vec!["attempt 2"],
        "filters combine"
    );
    assert_code(s.record_sign_in(&all[0]).await, "STORE_CONFLICT");
}

async fn sessions_lifecycle(s: Store) {
    let t = new_tenant(&s).await;
    let u = new_user(&s, &t, "u@x").await;
    let v = new_user(&s, &t, "v@x").await;
    let mk = |id: &str, user: Uuid, expires_at, mfa| Session {
        id_hash: id.into(),
        tenant_id: t.id,
        user_id: user,
        authn_instant: 10,
        expires_at,
        mfa,
    };
    let s1 = mk("aa01", u.id, 100, true);
    s.create_session(&s1).await.unwrap();
    s.create_session(&mk("aa02", u.id, 200, false)).await.unwrap();
    s.create_session(&mk("bb01", v.id, 300, false)).await.unwrap();
    assert_eq!(s.get_session("aa01").await.unwrap().as_ref(), Some(&s1));
    assert_eq!(s.get_session("zz").await.unwrap(), None);
    assert_code(s.create_session(&mk("aa01", v.id, 1, false)).await, "STORE_CONFLICT");
    assert_code(s.create_session(&mk("cc01", Uuid::new_v4(), 1, false)).await, "STORE_NOT_FOUND");
    let other = new_tenant(&s).await;
    let mut wrong_tenant = mk("cc02", u.id, 1, false);
    wrong_tenant.tenant_id = other.id;
    assert_code(s.create_session(&wrong_tenant).await, "STORE_NOT_FOUND");

    assert_eq!(s.purge_expired_sessions(100).await.unwrap(), 1, "expired at or before now");
    assert_eq!(s.get_session("aa01").await.unwrap(), None);
    assert_eq!(s.delete_sessions_of_user(t.id, u.id).await.unwrap(), 1);
    assert_eq!(s.get_session("aa02").await.unwrap(), None);
    assert!(s.get_session("bb01").await.unwrap().is_some(), "other users' sessions stay");
    assert!(s.delete_session("bb01").await.unwrap());
    assert!(!s.delete_session("bb01").await.unwrap());
}

async fn settings_round_trip(s: Store) {
    assert_eq!(s.get_setting("k").await.unwrap(), None);
    s.put_setting("k", &[0, 1, 2, 255]).await.unwrap();
    assert_eq!(s.get_setting("k").await.unwrap(), Some(vec![0, 1, 2, 255]));
    s.put_setting("k", b"v2").await.unwrap();
    assert_eq!(s.get_setting("k").await.unwrap(), Some(b"v2".to_vec()), "put replaces");
    assert!(!s.put_setting_if_absent("k", b"v3").await.unwrap());
    assert_eq!(s.get_setting("k").await.unwrap(), Some(b"v2".to_vec()), "if_absent keeps the old value");
    assert!(s.put_setting_if_absent("new", b"").await.unwrap());
    assert_eq!(s.get_setting("new").await.unwrap(), Some(Vec::new()), "an empty value is a value");
}

/// Two requests nesting A in B and B in A at the same moment: the tenant's membership lock
/// makes one of them see the other, so exactly one succeeds and no cycle is stored.
async fn concurrent_opposite_nestings_cannot_both_succeed(s: Store) {
    let t = new_tenant(&s).await;
    for round in 0..15 {
        let a = new_group(&s, &t, &format!("a{round}")).await;
        let b = new_group(&s, &t, &format!("b{round}")).await;
        let (s1, s2) = (s.clone(), s.clone());
        let one = tokio::spawn(async move { s1.add_member(a.id, b.id, PrincipalKind::Group).await });
        let two = tokio::spawn(async move { s2.add_member(b.id, a.id, PrincipalKind::Group).await });
        let results = [one.await.unwrap(), two.await.unwrap()];
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "round {round}: exactly one nesting may win: {results:?}");
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(r.code(), "STORE_CONFLICT", "the loser is told about the cycle: {r}");
        }
    }
}

/// Concurrent rollovers on one app: whatever the interleaving, every activation succeeds and
/// exactly one certificate is active afterwards.
async fn concurrent_activations_leave_exactly_one_active_cert(s: Store) {
    let t = new_tenant(&s).await;
    let a = new_app(&s, &t, "app", &[]).await;
    s.add_signing_cert(&cert(a.id, true, 1)).await.unwrap();
    let c1 = cert(a.id, false, 2);
    let c2 = cert(a.id, false, 3);
    s.add_signing_cert(&c1).await.unwrap();
    s.add_signing_cert(&c2).await.unwrap();
    for round in 0..15 {
        let (s1, s2) = (s.clone(), s.clone());
        let one = tokio::spawn(async move { s1.activate_signing_cert(a.id, c1.id).await });
        let two = tokio::spawn(async move { s2.activate_signing_cert(a.id, c2.id).await });
        one.await.unwrap().unwrap();
        two.await.unwrap().unwrap();
        let active = s.list_signing_certs(a.id).await.unwrap().into_iter().filter(|c| c.active).count();
        assert_eq!(active, 1, "round {round}");
    }
}

/// The change counter moves on every committed write to what the IdP caches (so a cache keyed
/// on it never serves a disabled user, a removed assignment or a replaced certificate), and not
/// on the writes every sign-in makes (sessions, sign-in log), which would empty the cache.
async fn every_directory_write_moves_the_generation_and_sessions_do_not(s: Store) {
    let g0 = s.generation().await.unwrap();
    let t = new_tenant(&s).await;
    let g1 = s.generation().await.unwrap();
    assert!(g1 > g0, "creating a tenant moves it");
    let mut u = new_user(&s, &t, "u@x").await;
    let g2 = s.generation().await.unwrap();
    assert!(g2 > g1, "creating a user moves it");
    u.enabled = false;
    s.update_user(&u).await.unwrap();
    let g3 = s.generation().await.unwrap();
    assert!(g3 > g2, "disabling a user moves it");
    s.put_setting("k", b"v").await.unwrap();
    let g4 = s.generation().await.unwrap();
    assert!(g4 > g3, "a setting moves it");

    let session = Session {
        id_hash: "gen01".into(),
        tenant_id: t.id,
        user_id: u.id,
        authn_instant: 1,
        expires_at: 2,
        mfa: false,
    };
    s.create_session(&session).await.unwrap();
    assert_eq!(s.generation_and_session("gen01").await.unwrap(), (g4, Some(session.clone())));
    assert_eq!(s.generation_and_session("nope").await.unwrap(), (g4, None));
    s.delete_session("gen01").await.unwrap();
    assert_eq!(s.generation().await.unwrap(), g4, "sessions do not move it");

    // A write that fails changes nothing, the counter included.
    let dup = u.clone();
    assert!(s.create_user(&dup).await.is_err());
    assert_eq!(s.generation().await.unwrap(), g4, "a failed write does not move it");
}

/// The outbox queues a message once per dedup key (however many times, or nodes, notice the
/// event), lists unsent ones oldest first, and records failed and successful deliveries.
async fn outbox_queues_once_per_key_and_records_delivery(s: Store) {
    let mail = |at: i64, key: Option<&str>| Mail {
        id: Uuid::new_v4(),
        created_at: at,
        recipient: "ops@contoso.test".into(),
        subject: format!("notice {at}"),
        body: "body".into(),
        dedup_key: key.map(str::to_string),
        sent_at: None,
        attempts: 0,
        last_error: None,
    };
    let first = mail(10, Some("cert/1/60"));
    assert!(s.enqueue_mail(&first).await.unwrap());
    assert!(!s.enqueue_mail(&mail(11, Some("cert/1/60"))).await.unwrap(), "same key: queued once");
    let keyless = mail(12, None);
    assert!(s.enqueue_mail(&keyless).await.unwrap());
    assert!(s.enqueue_mail(&mail(13, None)).await.unwrap(), "no key: no deduplication");
    let unsent = s.unsent_mail(10).await.unwrap();
    assert_eq!(unsent.iter().map(|m| m.created_at).collect::<Vec<_>>(), vec![10, 12, 13]);
    assert_eq!(unsent[0], first);

    s.mark_mail_failed(first.id, "connection refused").await.unwrap();
    let again = s.unsent_mail(1).await.unwrap();
    assert_eq!((again[0].attempts, again[0].last_error.as_deref()), (1, Some("connection refused")));
    assert!(s.mark_mail_sent(first.id, 99).await.unwrap());
    assert!(!s.mark_mail_sent(first.id, 100).await.unwrap(), "sent once");
    assert_eq!(s.unsent_mail(10).await.unwrap().len(), 2);
    let all = s.list_mail(10).await.unwrap();
    assert_eq!(all.len(), 3);
    let sent = all.iter().find(|m| m.id == first.id).unwrap();
    assert_eq!((sent.sent_at, sent.attempts, sent.last_error.as_deref()), (Some(99), 2, None));
}

/// Failures lock a key only after the free attempts, each further failure doubles the lock up
/// to the maximum, a success clears it, and old entries are purged.
async fn lockouts_start_after_the_free_attempts_double_and_clear(s: Store) {
    let policy =
        store::throttle::LockoutPolicy { free_attempts: 3, first_lock_seconds: 30, max_lock_seconds: 100 };
    let now = 1_000;
    assert_eq!(s.record_failed_sign_in("t/u", now, &policy).await.unwrap(), None);
    assert_eq!(s.record_failed_sign_in("t/u", now, &policy).await.unwrap(), None);
    assert_eq!(s.locked_until("t/u", now).await.unwrap(), None);
    assert_eq!(s.record_failed_sign_in("t/u", now, &policy).await.unwrap(), Some(now + 30));
    assert_eq!(s.locked_until("t/u", now).await.unwrap(), Some(now + 30));
    assert_eq!(s.locked_until("t/u", now + 30).await.unwrap(), None, "the lock ends");
    assert_eq!(s.record_failed_sign_in("t/u", now, &policy).await.unwrap(), Some(now + 60));
    assert_eq!(s.record_failed_sign_in("t/u", now, &policy).await.unwrap(), Some(now + 100), "capped");
    assert_eq!(s.locked_until("t/other", now).await.unwrap(), None, "keys are separate");
    s.clear_failed_sign_ins("t/u").await.unwrap();
    assert_eq!(s.locked_until("t/u", now).await.unwrap(), None);
    assert_eq!(s.record_failed_sign_in("t/u", now, &policy).await.unwrap(), None, "counting starts again");
    assert_eq!(s.purge_lockouts(now + 1).await.unwrap(), 1);
}

/// A TOTP step is claimed once per user; an earlier step after a later one is refused.
async fn a_totp_step_is_claimed_once_per_user(s: Store) {
    let t = new_tenant(&s).await;
    let u = new_user(&s, &t, "u@x").await;
    let v = new_user(&s, &t, "v@x").await;
    assert!(s.claim_totp_step(u.id, 100).await.unwrap());
    assert!(!s.claim_totp_step(u.id, 100).await.unwrap(), "same step again");
    assert!(!s.claim_totp_step(u.id, 99).await.unwrap(), "an earlier step");
    assert!(s.claim_totp_step(v.id, 100).await.unwrap(), "per user");
    assert!(s.claim_totp_step(u.id, 101).await.unwrap());
}
