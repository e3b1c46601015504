//! Record builders for the store's tests (the databases come from [`store::testkit`], through
//! `store::on_both_backends!`).
#![allow(dead_code)]

use store::model::{App, Group, SignIn, Tenant, User};
use store::Store;
use uuid::Uuid;

// ---------------------------------------------------------------------- record builders

pub fn tenant(name: &str) -> Tenant {
    Tenant { id: Uuid::new_v4(), name: name.into(), created_at: 1_700_000_000 }
}

pub async fn new_tenant(s: &Store) -> Tenant {
    let t = tenant("Contoso");
    s.create_tenant(&t).await.expect("create tenant");
    t
}

pub fn user(tenant: &Tenant, upn: &str) -> User {
    User {
        id: Uuid::new_v4(),
        tenant_id: tenant.id,
        upn: upn.into(),
        display_name: format!("User {upn}"),
        given_name: None,
        surname: None,
        mail: None,
        department: None,
        job_title: None,
        employee_id: None,
        enabled: true,
        password_hash: None,
        totp_secret_sealed: None,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
    }
}

pub async fn new_user(s: &Store, tenant: &Tenant, upn: &str) -> User {
    let u = user(tenant, upn);
    s.create_user(&u).await.expect("create user");
    u
}

pub fn group(tenant: &Tenant, name: &str) -> Group {
    Group {
        id: Uuid::new_v4(),
        tenant_id: tenant.id,
        name: name.into(),
        description: None,
        security_enabled: true,
        created_at: 1_700_000_000,
    }
}

pub async fn new_group(s: &Store, tenant: &Tenant, name: &str) -> Group {
    let g = group(tenant, name);
    s.create_group(&g).await.expect("create group");
    g
}

pub fn app(tenant: &Tenant, name: &str) -> App {
    App {
        id: Uuid::new_v4(),
        tenant_id: tenant.id,
        name: name.into(),
        template: "generic-saml".into(),
        config_json: r#"{"reply_urls":["https://sp.example/acs"]}"#.into(),
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
    }
}

pub async fn new_app(s: &Store, tenant: &Tenant, name: &str, identifiers: &[&str]) -> App {
    let a = app(tenant, name);
    let ids: Vec<String> = identifiers.iter().map(|s| s.to_string()).collect();
    s.create_app(&a, &ids).await.expect("create app");
    a
}

pub fn sign_in(tenant: &Tenant, at: i64, result: &str) -> SignIn {
    SignIn {
        id: Uuid::new_v4(),
        tenant_id: tenant.id,
        at,
        user_id: None,
        upn: None,
        app_id: None,
        ip: Some("127.0.0.1".into()),
        result_code: result.into(),
        correlation_id: Uuid::new_v4(),
        detail: None,
    }
}

/// Number of rows in `table` (tests look under the API to prove cascades).
pub async fn count(s: &Store, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(s.raw_pool())
        .await
        .expect("count rows")
}
