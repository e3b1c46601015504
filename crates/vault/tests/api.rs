//! The HTTP API in-process (the router served without a socket): the endpoints the Python peers
//! do not reach — approvals, RotateOnCheckin, Credentials/Change and PUT Credentials, access
//! policies and their test, API registrations with key rotation, text secrets and the 3.2 list
//! envelope — plus case-insensitive paths and keys, error bodies, and session expiry.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use store::seal::MasterKey;
use store::Store;
use support::FakeTarget;
use tower::ServiceExt;
use vault::admin::{NewAccount, NewPolicy, NewSystem, SraKey, SraSettings};
use vault::model::{Role, Scope};
use vault::{ManualClock, Vault};
use zeroize::Zeroizing;

const B: &str = "/BeyondTrust/api/public/v3";

struct Api {
    vault: Vault,
    clock: Arc<ManualClock>,
    target: FakeTarget,
    _dir: tempfile::TempDir,
}

impl Api {
    /// The whole response of an unauthenticated `method path`.
    async fn raw(&self, method: Method, path: &str, cookie: Option<&str>) -> axum::response::Response {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, format!("ASP.NET_SessionId={c}"));
        }
        let mut req = req.body(Body::empty()).unwrap();
        req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 5555))));
        vault::web::router(self.vault.clone()).oneshot(req).await.unwrap()
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, Option<String>) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, format!("ASP.NET_SessionId={c}"));
        }
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        let mut req = match body {
            Some(b) => {
                req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())).unwrap()
            }
            None => req.body(Body::empty()).unwrap(),
        };
        req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 5555))));
        let resp = vault::web::router(self.vault.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let set_cookie = resp
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .and_then(|v| v.strip_prefix("ASP.NET_SessionId="))
            .map(str::to_string);
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        (status, v, set_cookie)
    }

    async fn sign_in(&self, key: &str, user: &str) -> String {
        let (s, v, c) = self
            .call(
                Method::POST,
                &format!("{B}/Auth/SignAppIn"),
                None,
                Some(&format!("PS-Auth key={key};runas={user};")),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["UserName"], user);
        assert!(v["UserId"].is_i64());
        c.expect("a session cookie")
    }
}

async fn setup() -> (Api, String, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let target = FakeTarget::default();
    let vault = Vault::open_with(store, &MasterKey::from_bytes([3; 32]), clock.clone(), target.registry())
        .await
        .unwrap();
    vault
        .create_system(NewSystem {
            name: "srv".into(),
            host: "10.0.0.9".into(),
            platform: FakeTarget::PLATFORM.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let a = vault
        .create_account(NewAccount {
            system: "srv".into(),
            name: "root".into(),
            password: Some(Zeroizing::new("Initial-Pw-1".into())),
            api_enabled: true,
            change_after_release: true,
            max_release_minutes: Some(60),
            ..Default::default()
        })
        .await
        .unwrap();
    for u in ["req", "appr", "admin"] {
        vault.create_user(u, None, Some(&format!("{u}@example.com"))).await.unwrap();
    }
    let SraKey::Created(key) = vault
        .connect_sra(SraSettings {
            host: "c".into(),
            port: 1,
            client_id: "id".into(),
            client_secret: Some(Zeroizing::new("s".into())),
            release_minutes: 60,
            rotate_key: false,
        })
        .await
        .unwrap()
    else {
        panic!("a first connection creates the key")
    };
    // A two-step approval policy for the "approvals" group (requester + approver), and admins.
    vault
        .create_policy(NewPolicy {
            name: "two".into(),
            auto_approve: false,
            approvals_required: 1,
            all_day: true,
            window_start: 0,
            window_end: 1440,
            max_minutes: 30,
        })
        .await
        .unwrap();
    vault.create_group("approvals").await.unwrap();
    vault
        .set_group("approvals", Some(Some("two".into())), Some(Some(vault::admin::SRA_REGISTRATION.into())))
        .await
        .unwrap();
    vault.grant_role("approvals", Scope::Account(a.id), Role::Requestor).await.unwrap();
    vault.add_member("approvals", "req").await.unwrap();
    vault.create_group("approvers").await.unwrap();
    vault.set_group("approvers", None, Some(Some(vault::admin::SRA_REGISTRATION.into()))).await.unwrap();
    vault.grant_role("approvers", Scope::System(a.system_id), Role::Approver).await.unwrap();
    vault.add_member("approvers", "appr").await.unwrap();
    vault.create_group("admins").await.unwrap();
    vault.set_group("admins", None, Some(Some(vault::admin::SRA_REGISTRATION.into()))).await.unwrap();
    vault.grant_role("admins", Scope::All, Role::Administrator).await.unwrap();
    vault.add_member("admins", "admin").await.unwrap();
    (Api { vault, clock, target, _dir: dir }, key.to_string(), a.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_flow_rotate_on_checkin_and_case_insensitivity() {
    let (api, key, account) = setup().await;
    let req = api.sign_in(&key, "req").await;
    let appr = api.sign_in(&key, "appr").await;
    // Lower-case prefix and path, mixed-case keys, an unknown query parameter.
    let (s, id, _) = api
        .call(
            Method::POST,
            "/beyondtrust/api/public/v3/REQUESTS?version=3.1&foo=1",
            Some(&req),
            None,
            Some(json!({"accountid": account, "DURATIONMINUTES": 20, "reason": "fix"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{id}");
    let id = id.as_i64().unwrap();
    // Pending: no credential yet; the approver's queue shows it; the requester cannot approve.
    let (s, body, _) = api.call(Method::GET, &format!("{B}/Credentials/{id}"), Some(&req), None, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(body.is_string(), "errors are JSON strings: {body}");
    let (_, pending, _) = api
        .call(Method::GET, &format!("{B}/Requests?status=pending&queue=app"), Some(&appr), None, None)
        .await;
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["RequestID"], id);
    let (s, _, _) =
        api.call(Method::PUT, &format!("{B}/Requests/{id}/Approve"), Some(&req), None, Some(json!({}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = api
        .call(
            Method::PUT,
            &format!("{B}/requests/{id}/approve"),
            Some(&appr),
            None,
            Some(json!({"Reason": "ok"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, pw, _) =
        api.call(Method::GET, &format!("{B}/Credentials/{id}?type=password"), Some(&req), None, None).await;
    assert_eq!((s, pw.as_str()), (StatusCode::OK, Some("Initial-Pw-1")));
    let (_, mine, _) =
        api.call(Method::GET, &format!("{B}/Requests?status=active"), Some(&req), None, None).await;
    assert_eq!(mine[0]["Status"], "Approved");
    // The policy's 30-minute maximum beats the account's 60.
    let (s, msg, _) = api
        .call(
            Method::POST,
            &format!("{B}/Requests"),
            Some(&req),
            None,
            Some(json!({"AccountId": account, "DurationMinutes": 31, "ConflictOption": "reuse"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{msg}");
    // RotateOnCheckin then Checkin: the password changes.
    let (s, _, _) =
        api.call(Method::PUT, &format!("{B}/Requests/{id}/RotateOnCheckin"), Some(&req), None, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, _) =
        api.call(Method::PUT, &format!("{B}/Requests/{id}/Checkin"), Some(&req), None, Some(json!({}))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(api.vault.account(account).await.unwrap().password_changed_at.is_some());
    assert_eq!(api.target.calls(), 1, "the check-in rotated the password on the target");
    let (s, _, _) = api
        .call(
            Method::POST,
            &format!("{B}/Requests"),
            Some(&req),
            None,
            Some(json!({"AccountId": account, "DurationMinutes": 5})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // Deny a pending request.
    let (_, list, _) = api
        .call(Method::GET, &format!("{B}/Requests?queue=app&status=pending"), Some(&appr), None, None)
        .await;
    let rid = list[0]["RequestID"].as_i64().unwrap();
    let (s, _, _) =
        api.call(Method::PUT, &format!("{B}/Requests/{rid}/Deny"), Some(&appr), None, Some(json!({}))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, _) = api.call(Method::GET, &format!("{B}/Credentials/{rid}"), Some(&req), None, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Sessions end after 20 idle minutes.
    api.clock.advance(20 * 60);
    let (s, _, _) = api.call(Method::GET, &format!("{B}/ManagedAccounts"), Some(&req), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v, _) = api.call(Method::GET, &format!("{B}/Configuration/Version"), None, None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["Version"].is_string());
    // Paths are case-insensitive, the prefix included; other paths stay unknown.
    let (s, v, _) =
        api.call(Method::GET, "/BEYONDTRUST/Api/PUBLIC/v3/configuration/VERSION", None, None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["Version"].is_string());
    let (s, _, _) =
        api.call(Method::GET, "/BeyondTrustX/api/public/v3/Configuration/Version", None, None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administration_endpoints() {
    let (api, key, account) = setup().await;
    let admin = api.sign_in(&key, "admin").await;
    let req = api.sign_in(&key, "req").await;

    // Credentials/Change and PUT Credentials are for administrators.
    let (s, _, _) = api
        .call(
            Method::POST,
            &format!("{B}/ManagedAccounts/{account}/Credentials/Change"),
            Some(&req),
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let before = api.vault.account(account).await.unwrap().password_changed_at;
    api.clock.advance(5);
    let (s, _, _) = api
        .call(
            Method::POST,
            &format!("{B}/ManagedAccounts/{account}/Credentials/Change"),
            Some(&admin),
            None,
            Some(json!({"Queue": false})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_ne!(api.vault.account(account).await.unwrap().password_changed_at, before);
    assert_eq!(api.target.calls(), 1, "Credentials/Change rotated on the target");
    assert!(api.target.password("root").is_some_and(|p| p.len() == 32), "a generated password");
    let (s, _, _) = api
        .call(
            Method::PUT,
            &format!("{B}/ManagedAccounts/{account}/Credentials"),
            Some(&admin),
            None,
            Some(json!({"password": "Set-By-Api-7", "UpdateSystem": false})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, id, _) = api
        .call(
            Method::POST,
            &format!("{B}/Requests"),
            Some(&req),
            None,
            Some(json!({"AccountId": account, "DurationMinutes": 5})),
        )
        .await;
    api.call(Method::PUT, &format!("{B}/Requests/{id}/Approve"), Some(&admin), None, None).await;
    let (_, pw, _) = api.call(Method::GET, &format!("{B}/Credentials/{id}"), Some(&req), None, None).await;
    assert_eq!(pw, "Set-By-Api-7");

    // Access policies and their test.
    let (_, pols, _) = api.call(Method::GET, &format!("{B}/AccessPolicies"), Some(&req), None, None).await;
    assert!(pols
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["Name"] == vault::admin::SRA_POLICY && p["Schedules"][0]["AutoApprove"] == true));
    let (s, _, _) = api
        .call(
            Method::POST,
            &format!("{B}/AccessPolicies/Test"),
            Some(&req),
            None,
            Some(json!({"SystemId": 1, "AccountId": account, "DurationMinutes": 5})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = api
        .call(
            Method::POST,
            &format!("{B}/AccessPolicies/Test"),
            Some(&admin),
            None,
            Some(json!({"AccountId": account})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "administrators hold no requestor role here");

    // API registrations: create (key shown once), IP rules, key rotation; not for requesters.
    let (s, _, _) = api.call(Method::GET, &format!("{B}/ApiRegistrations"), Some(&req), None, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, reg, _) = api
        .call(Method::POST, &format!("{B}/ApiRegistrations"), Some(&admin), None, Some(json!({"Name": "ci", "AccessTokenDuration": 30, "IPAuthenticationRules": [{"type": "IPCIDR", "value": "10.0.0.0/8"}]})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{reg}");
    assert_eq!(reg["Key"].as_str().unwrap().len(), 128);
    assert_eq!(reg["IPAuthenticationRules"][0]["Value"], "10.0.0.0/8");
    let rid = reg["Id"].as_i64().unwrap();
    let (s, _, _) =
        api.call(Method::GET, &format!("{B}/ApiRegistrations/{rid}/Key"), Some(&admin), None, None).await;
    assert_eq!(s, StatusCode::CONFLICT, "only a keyed hash is kept");
    let (s, newkey, _) =
        api.call(Method::POST, &format!("{B}/ApiRegistrations/{rid}/Rotate"), Some(&admin), None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(newkey.as_str().unwrap().len(), 128);
    // The old SRA key still works, the rotated one does too (for a member of a group using it).
    api.vault.set_group("admins", None, Some(Some("ci".into()))).await.unwrap();
    let (s, body, _) = api
        .call(
            Method::POST,
            &format!("{B}/Auth/SignAppIn"),
            None,
            Some(&format!("PS-Auth key={};runas=admin", newkey.as_str().unwrap())),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "127.0.0.1 is outside 10.0.0.0/8: {body}");

    // Secrets Safe: text secrets and the 3.2 envelope.
    let (s, folder, _) = api
        .call(
            Method::POST,
            &format!("{B}/Secrets-Safe/Folders"),
            Some(&req),
            None,
            Some(json!({"Name": "Ops"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let fid = folder["Id"].as_str().unwrap();
    let (s, _, _) = api
        .call(
            Method::POST,
            &format!("{B}/secrets-safe/folders/{fid}/secrets/text"),
            Some(&req),
            None,
            Some(json!({"Title": "note", "Text": "hello text"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, plain, _) = api
        .call(Method::GET, &format!("{B}/Secrets-Safe/Secrets?path=Ops&title=note"), Some(&req), None, None)
        .await;
    assert_eq!(plain[0]["Password"], "hello text");
    assert_eq!(plain[0]["SecretType"], "Text");
    let (_, env, _) = api
        .call(Method::GET, &format!("{B}/Secrets-Safe/Secrets?path=Ops&version=3.2"), Some(&req), None, None)
        .await;
    assert_eq!(env["TotalCount"], 1);
    assert_eq!(env["Data"][0]["FolderPath"], "Ops");
    let (_, none, _) =
        api.call(Method::GET, &format!("{B}/Secrets-Safe/Secrets?path=Ops"), Some(&admin), None, None).await;
    assert_eq!(none.as_array().unwrap().len(), 1, "administrators see every folder");

    // Sign-out ends the session.
    let (s, _, _) = api.call(Method::POST, &format!("{B}/Auth/Signout"), Some(&req), None, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = api.call(Method::GET, &format!("{B}/ManagedAccounts"), Some(&req), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.vault.verify_audit().await.unwrap(),
        vault::audit::Verdict::Intact { rows: api.vault.audit_rows(10_000).await.unwrap().len() as i64 }
    );
}

/// The router keeps what the hand-written dispatch did: paths case-insensitive (the prefix too)
/// with empty segments ignored, anything else 404 with no body, a session needed before "not an
/// endpoint" is said (wrong methods included), the session cookie's attributes, the security
/// headers on every answer, and audit rows that name the path as the client spelled it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_cookies_and_headers() {
    let (api, key, _) = setup().await;
    let signed = api
        .call(
            Method::POST,
            &format!("{B}/Auth/SignAppIn"),
            None,
            Some(&format!("PS-Auth key={key};runas=req;")),
            None,
        )
        .await;
    assert_eq!(signed.0, StatusCode::OK);
    let resp = api.raw(Method::GET, &format!("{B}/ManagedAccounts"), None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let sign_in = {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("{B}/auth/signappin"))
            .header(header::AUTHORIZATION, format!("PS-Auth key={key}; runas=req"))
            .body(Body::empty())
            .unwrap();
        req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 5555))));
        vault::web::router(api.vault.clone()).oneshot(req).await.unwrap()
    };
    let cookie = sign_in.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
    for part in ["ASP.NET_SessionId=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let session = signed.2.unwrap();

    // Any spelling of the prefix and the path, empty segments and a trailing slash.
    for path in [
        format!("{B}//Configuration//Version/"),
        "/bEyOnDtRuSt/API/public/V3/configuration/version".to_string(),
    ] {
        let resp = api.raw(Method::GET, &path, None).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff", "security headers on {path}");
    }
    // Outside the prefix: 404 with no body, headers still set.
    for path in ["/BeyondTrust/api/public/v3", "/BeyondTrust/api/public/v30/x", "/elsewhere"] {
        let resp = api.raw(Method::GET, path, Some(&session)).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(resp.headers()["x-frame-options"], "DENY");
        assert!(axum::body::to_bytes(resp.into_body(), 1024).await.unwrap().is_empty(), "{path}");
    }
    // Unknown endpoints and methods: sign in first, then "not an endpoint".
    for (method, path) in [
        (Method::GET, format!("{B}/NoSuchThing")),
        (Method::GET, format!("{B}/Auth/SignAppIn")),
        (Method::DELETE, format!("{B}/Requests")),
        (Method::GET, format!("{B}/")),
    ] {
        let (s, _, _) = api.call(method.clone(), &path, None, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {path}");
        let (s, body, _) = api.call(method.clone(), &path, Some(&session), None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}");
        assert!(body.as_str().unwrap().starts_with("PCV001: "), "{body}");
    }
    api.call(Method::GET, "/beyondtrust/api/public/v3/MANAGEDaccounts", Some(&session), None, None).await;
    let rows = api.vault.audit_rows(100).await.unwrap();
    assert!(rows.iter().any(|r| r.action == "GET MANAGEDaccounts" && r.actor == "req" && r.result == "ok"));
    assert!(rows.iter().any(|r| r.action == "GET NoSuchThing" && r.result == "404 PCV001"));
    assert!(rows.iter().any(|r| r.action == "DELETE Requests" && r.result == "401 PCV005"));
}

/// Issue 14, item 10 through the API: a caller who could request an account that is not
/// API-enabled is told so (403 PCV010), by ID and by name; a caller without such a role still
/// gets 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_not_api_enabled_is_named_as_such_to_who_could_request_it() {
    let (api, key, _) = setup().await;
    let off = api
        .vault
        .create_account(NewAccount {
            system: "srv".into(),
            name: "off".into(),
            password: Some(Zeroizing::new("Off-Pw-1".into())),
            ..Default::default()
        })
        .await
        .unwrap();
    api.vault.grant_role("approvals", Scope::Account(off.id), Role::Requestor).await.unwrap();
    let req = api.sign_in(&key, "req").await;
    let appr = api.sign_in(&key, "appr").await;
    let (s, body, _) = api
        .call(
            Method::POST,
            &format!("{B}/Requests"),
            Some(&req),
            None,
            Some(json!({"AccountId": off.id, "DurationMinutes": 5})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.as_str().unwrap().starts_with("PCV010: ") && body.as_str().unwrap().contains("not API-enabled")
    );
    let by_name = format!("{B}/ManagedAccounts?systemName=SRV&accountName=off");
    let (s, body, _) = api.call(Method::GET, &by_name, Some(&req), None, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(body.as_str().unwrap().starts_with("PCV010: "), "{body}");
    // The approver holds no requesting role on it: nothing tells it exists.
    let (s, _, _) = api.call(Method::GET, &by_name, Some(&appr), None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = api
        .call(
            Method::POST,
            &format!("{B}/Requests"),
            Some(&appr),
            None,
            Some(json!({"AccountId": off.id, "DurationMinutes": 5})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = api
        .call(
            Method::GET,
            &format!("{B}/ManagedAccounts?systemName=srv&accountName=nobody"),
            Some(&req),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
