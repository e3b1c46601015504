//! Directory roles and admin API tokens, run on SQLite and on PostgreSQL with the same body
//! (`sqlite::NAME` and `postgres::NAME`).

mod common;

use common::*;
use store::admin::ApiToken;
use store::{Store, StoreError};
use uuid::Uuid;

store::on_both_backends!(
    roles_grant_list_revoke_and_are_idempotent,
    roles_are_scoped_by_tenant_and_need_a_user_of_the_tenant,
    deleting_a_user_removes_their_roles_and_tokens,
    tokens_round_trip_are_found_by_hash_and_revoke_once,
    tokens_need_an_owner_in_their_tenant_and_a_unique_hash,
);

fn token(tenant: Uuid, user: Uuid, hash: &str) -> ApiToken {
    ApiToken {
        id: Uuid::new_v4(),
        tenant_id: tenant,
        user_id: user,
        name: "ci".into(),
        token_hash: hash.into(),
        created_at: 1_700_000_000,
        expires_at: Some(1_800_000_000),
        last_used_at: None,
        revoked_at: None,
    }
}

async fn roles_grant_list_revoke_and_are_idempotent(s: Store) {
    let t = new_tenant(&s).await;
    let u = new_user(&s, &t, "alice@contoso.com").await;
    assert!(s.roles_of(t.id, u.id).await.unwrap().is_empty(), "a new user is a plain user");
    assert!(s.grant_role(t.id, u.id, "global_administrator", 1).await.unwrap());
    assert!(!s.grant_role(t.id, u.id, "global_administrator", 2).await.unwrap(), "second grant is a no-op");
    assert!(s.grant_role(t.id, u.id, "application_administrator", 3).await.unwrap());
    assert_eq!(
        s.roles_of(t.id, u.id).await.unwrap(),
        vec!["application_administrator".to_string(), "global_administrator".to_string()]
    );
    let grants = s.list_role_grants(t.id).await.unwrap();
    assert_eq!(grants.len(), 2);
    assert_eq!(grants[1].role, "global_administrator");
    assert_eq!(grants[1].created_at, 1, "the first grant's time is kept");
    assert!(s.revoke_role(t.id, u.id, "global_administrator").await.unwrap());
    assert!(!s.revoke_role(t.id, u.id, "global_administrator").await.unwrap());
    assert_eq!(s.roles_of(t.id, u.id).await.unwrap(), vec!["application_administrator".to_string()]);
}

async fn roles_are_scoped_by_tenant_and_need_a_user_of_the_tenant(s: Store) {
    let t1 = new_tenant(&s).await;
    let t2 = new_tenant(&s).await;
    let u = new_user(&s, &t1, "alice@contoso.com").await;
    let e = s.grant_role(t2.id, u.id, "global_administrator", 1).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
    let e = s.grant_role(t1.id, Uuid::new_v4(), "global_administrator", 1).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
    assert_eq!(count(&s, "directory_roles").await, 0);
    s.grant_role(t1.id, u.id, "global_administrator", 1).await.unwrap();
    assert!(s.roles_of(t2.id, u.id).await.unwrap().is_empty(), "another tenant sees no role");
    assert!(s.list_role_grants(t2.id).await.unwrap().is_empty());
    assert!(!s.revoke_role(t2.id, u.id, "global_administrator").await.unwrap());
}

async fn deleting_a_user_removes_their_roles_and_tokens(s: Store) {
    let t = new_tenant(&s).await;
    let u = new_user(&s, &t, "alice@contoso.com").await;
    s.grant_role(t.id, u.id, "global_administrator", 1).await.unwrap();
    s.create_api_token(&token(t.id, u.id, &"a".repeat(64))).await.unwrap();
    s.delete_user(t.id, u.id).await.unwrap();
    assert_eq!(count(&s, "directory_roles").await, 0);
    assert_eq!(count(&s, "api_tokens").await, 0);
    assert!(s.find_api_token_by_hash(&"a".repeat(64)).await.unwrap().is_none());
}

async fn tokens_round_trip_are_found_by_hash_and_revoke_once(s: Store) {
    let t = new_tenant(&s).await;
    let u = new_user(&s, &t, "alice@contoso.com").await;
    let first = token(t.id, u.id, &"1".repeat(64));
    let mut second = token(t.id, u.id, &"2".repeat(64));
    second.expires_at = None;
    s.create_api_token(&first).await.unwrap();
    s.create_api_token(&second).await.unwrap();
    assert_eq!(s.find_api_token_by_hash(&"1".repeat(64)).await.unwrap(), Some(first.clone()));
    assert_eq!(s.find_api_token_by_hash(&"2".repeat(64)).await.unwrap(), Some(second.clone()));
    assert_eq!(s.find_api_token_by_hash(&"3".repeat(64)).await.unwrap(), None);
    assert_eq!(s.list_api_tokens(t.id).await.unwrap(), vec![first.clone(), second.clone()]);

    s.touch_api_token(first.id, 1_700_000_100).await.unwrap();
    let found = s.find_api_token_by_hash(&first.token_hash).await.unwrap().unwrap();
    assert_eq!(found.last_used_at, Some(1_700_000_100));

    assert!(s.revoke_api_token(t.id, first.id, 1_700_000_200).await.unwrap());
    assert!(!s.revoke_api_token(t.id, first.id, 1_700_000_300).await.unwrap(), "revoked once");
    let found = s.find_api_token_by_hash(&first.token_hash).await.unwrap().unwrap();
    assert_eq!(found.revoked_at, Some(1_700_000_200), "the first revocation time is kept");
    let e = s.revoke_api_token(t.id, Uuid::new_v4(), 1).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
    let other = new_tenant(&s).await;
    let e = s.revoke_api_token(other.id, second.id, 1).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "another tenant cannot revoke: {e:?}");
    assert!(s.list_api_tokens(other.id).await.unwrap().is_empty());
}

async fn tokens_need_an_owner_in_their_tenant_and_a_unique_hash(s: Store) {
    let t1 = new_tenant(&s).await;
    let t2 = new_tenant(&s).await;
    let u = new_user(&s, &t1, "alice@contoso.com").await;
    let e = s.create_api_token(&token(t2.id, u.id, &"a".repeat(64))).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
    s.create_api_token(&token(t1.id, u.id, &"a".repeat(64))).await.unwrap();
    let e = s.create_api_token(&token(t1.id, u.id, &"a".repeat(64))).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { .. }), "{e:?}");
    assert_eq!(count(&s, "api_tokens").await, 1);
}
