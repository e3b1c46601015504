//! The admin REST API against the real `portcullis up` over HTTP, with tokens made by the CLI:
//! CRUD round trips, role-based access (Global / Application Administrator / plain user), every
//! 401 path, the OpenAPI document covering every route, "Test this application" for an
//! unassigned administrator, and a planted password that no response ever shows.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use support::{Http, Server, PORTCULLIS};

const PLANTED: &str = "Planted-Pa55word-Never-Shown!";

fn start() -> Server {
    Server::start(PORTCULLIS)
}

fn cli(data: &Path, args: &[&str]) -> String {
    let args: Vec<&str> = ["idp"].iter().chain(args).copied().collect();
    let out = support::run_cli(PORTCULLIS, data, &args, None);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn new_token(data: &Path, upn: &str) -> (String, String) {
    let out = cli(data, &["token", "create", "--user", upn, "--name", "test", "--days", "1"]);
    let token = out.lines().last().unwrap().trim().to_string();
    assert!(token.starts_with("pat_") && token.len() == 47, "{out}");
    let id = out.lines().next().unwrap().trim_start_matches("token ID:").trim().to_string();
    (id, token)
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

struct Client<'a> {
    server: &'a Server,
    http: Http,
    /// Every response body, to prove the planted password is in none.
    seen: std::cell::RefCell<Vec<String>>,
}

impl Client<'_> {
    fn new(server: &Server) -> Client<'_> {
        Client { server, http: Http::new(), seen: Default::default() }
    }

    /// `METHOD path` with `headers` and `body`; `head` is the status line and the headers.
    fn raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let page = self.http.request(method, &format!("{}{path}", self.server.base), headers, body);
        let mut head = format!("HTTP/1.1 {}", page.status);
        for (name, value) in &page.headers {
            head.push_str(&format!("\r\n{name}: {value}"));
        }
        self.seen.borrow_mut().push(format!("{head}\n{}", page.body));
        Reply { status: page.status, head, body: page.body }
    }

    fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Reply {
        let auth = format!("Bearer {token}");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.raw(method, path, &[("Authorization", &auth), ("Content-Type", "application/json")], &body)
    }

    fn ok(&self, method: &str, path: &str, token: &str, body: Option<Value>, status: u16) -> Value {
        let r = self.call(method, path, token, body);
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        if r.body.is_empty() {
            Value::Null
        } else {
            r.json()
        }
    }

    fn err(&self, method: &str, path: &str, token: &str, body: Option<Value>, status: u16, code: &str) {
        let r = self.call(method, path, token, body);
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert_eq!(r.json()["code"], code, "{method} {path}: {}", r.body);
        assert!(!r.json()["message"].as_str().unwrap().is_empty());
        if status == 401 {
            assert!(r.head.to_ascii_lowercase().contains("www-authenticate: bearer"), "{}", r.head);
        }
    }
}

const SP_METADATA: &str = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example.com/meta">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.com/acs" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#;

#[test]
fn admin_api_over_http() {
    let server = start();
    let data = server.data();
    let c = Client::new(&server);

    // `up` made the first admin a Global Administrator.
    let roles: Value = serde_json::from_str(&cli(&data, &["role", "list", "--json"])).unwrap();
    assert_eq!(
        roles,
        json!([{"user_id": roles[0]["user_id"], "upn": "admin@portcullis.local", "role": "global_administrator"}])
    );
    let (_, ga) = new_token(&data, "admin@portcullis.local");
    let me = c.ok("GET", "/api/v1/me", &ga, None, 200);
    assert_eq!(me["roles"], json!(["global_administrator"]));
    assert_eq!(me["tenant_id"], server.tenant.as_str());

    // ---- users: create (with a planted password), get, list, patch, groups.
    let alice = c.ok(
        "POST",
        "/api/v1/users",
        &ga,
        Some(json!({"upn": "alice@contoso.com", "given_name": "Alice", "surname": "Smith",
            "mail": "alice@contoso.com", "password": PLANTED})),
        201,
    );
    let alice_id = alice["id"].as_str().unwrap().to_string();
    assert_eq!(alice["display_name"], "Alice Smith");
    assert_eq!(alice["has_password"], true);
    assert!(alice.get("password").is_none() && alice.get("password_hash").is_none());
    let got = c.ok("GET", &format!("/api/v1/users/{alice_id}"), &ga, None, 200);
    assert_eq!(got["upn"], "alice@contoso.com");
    assert_eq!(got["roles"], json!([]));
    assert_eq!(c.ok("GET", "/api/v1/users/alice@contoso.com", &ga, None, 200)["id"], alice_id.as_str());
    let list = c.ok("GET", "/api/v1/users", &ga, None, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let patched = c.ok(
        "PATCH",
        &format!("/api/v1/users/{alice_id}"),
        &ga,
        Some(json!({"enabled": false, "department": "Sales", "password": PLANTED})),
        200,
    );
    assert_eq!((patched["enabled"].clone(), patched["department"].clone()), (json!(false), json!("Sales")));
    let patched =
        c.ok("PATCH", &format!("/api/v1/users/{alice_id}"), &ga, Some(json!({"enabled": true})), 200);
    assert_eq!(patched["enabled"], true);
    // Validation is the directory's: a bad UPN, a duplicate, an unknown field, bad JSON.
    c.err("POST", "/api/v1/users", &ga, Some(json!({"upn": "not-a-upn"})), 400, "PCS90001");
    c.err("POST", "/api/v1/users", &ga, Some(json!({"upn": "ALICE@contoso.com"})), 409, "PCS90003");
    c.err(
        "POST",
        "/api/v1/users",
        &ga,
        Some(json!({"upn": "b@contoso.com", "admin": true})),
        400,
        "PCS90001",
    );
    let r = c.raw("POST", "/api/v1/users", &[("Authorization", &format!("Bearer {ga}"))], "{not json");
    assert_eq!((r.status, r.json()["code"].clone()), (400, json!("PCS90001")));
    c.err("GET", &format!("/api/v1/users/{}", uuid::Uuid::new_v4()), &ga, None, 404, "PCS90002");
    c.err("GET", "/api/v1/nothing-here", &ga, None, 404, "PCS90002");

    // ---- groups.
    let sales = c.ok("POST", "/api/v1/groups", &ga, Some(json!({"name": "Sales"})), 201);
    let sales_id = sales["id"].as_str().unwrap().to_string();
    assert_eq!(c.ok("GET", &format!("/api/v1/users/{alice_id}/groups"), &ga, None, 200), json!([]));
    c.ok(
        "POST",
        &format!("/api/v1/groups/{sales_id}/members"),
        &ga,
        Some(json!({"user": "alice@contoso.com"})),
        204,
    );
    let groups = c.ok("GET", &format!("/api/v1/users/{alice_id}/groups"), &ga, None, 200);
    assert_eq!(groups[0]["id"], sales_id.as_str());
    assert_eq!(c.ok("GET", "/api/v1/groups", &ga, None, 200).as_array().unwrap().len(), 1);
    c.err("POST", "/api/v1/groups", &ga, Some(json!({"name": "sales"})), 409, "PCS90003");

    // ---- apps.
    let templates = c.ok("GET", "/api/v1/apps/templates", &ga, None, 200);
    assert!(templates.as_array().unwrap().iter().any(|t| t["name"] == "generic-saml"));
    // Issue 14, item 4: the administrator notes (where the values come from, whom to contact).
    let conductor = templates.as_array().unwrap().iter().find(|t| t["name"] == "it-conductor").unwrap();
    assert!(conductor["notes"].to_string().contains("support@itconductor.com"), "{conductor}");
    assert!(
        conductor["parameters"].as_array().unwrap().iter().all(|p| p["required"] == false),
        "{conductor}"
    );
    let created = c.ok("POST", "/api/v1/apps", &ga, Some(json!({"template": "it-conductor"})), 201);
    let needed: Vec<&str> =
        created["still_needed"].as_array().unwrap().iter().map(|n| n["field"].as_str().unwrap()).collect();
    assert_eq!(needed, ["Identifier", "Reply URL"], "{created}");
    assert!(created["still_needed"][0]["source"].as_str().unwrap().contains("support@itconductor.com"));
    assert_eq!(created["still_needed"][0]["api_key"], "identifier");
    assert!(created["notes"].to_string().contains("support@itconductor.com"), "{created}");
    c.ok("DELETE", &format!("/api/v1/apps/{}", created["id"].as_str().unwrap()), &ga, None, 204);
    let app = c.ok(
        "POST",
        "/api/v1/apps",
        &ga,
        Some(json!({"template": "generic-saml", "name": "Test SP",
            "params": {"IDENTIFIER": "https://sp.test/entity", "REPLY_URL": "https://sp.test/acs"}})),
        201,
    );
    let app_id = app["id"].as_str().unwrap().to_string();
    assert_eq!(app["config"]["identifiers"][0]["value"], "https://sp.test/entity");
    c.err("POST", "/api/v1/apps", &ga, Some(json!({"template": "no-such-template"})), 400, "PCS91001");
    let a = |rest: &str| format!("/api/v1/apps/{app_id}{rest}");
    assert_eq!(c.ok("GET", "/api/v1/apps", &ga, None, 200)[0]["id"], app_id.as_str());
    let got = c.ok("GET", &a(""), &ga, None, 200);
    assert_eq!(got["config"]["reply_urls"][0]["url"], "https://sp.test/acs");
    // Issue 14, item 5: "Test this application" is part of the app resource.
    assert_eq!(got["test_url"], format!("{}/{}/myapps/test/{app_id}", server.base, server.tenant));
    assert_eq!(got["still_needed"], json!([]));
    let got =
        c.ok("PATCH", &a(""), &ga, Some(json!({"name": "Test SP 2", "assignment_required": true})), 200);
    assert_eq!(
        (got["name"].clone(), got["config"]["assignment_required"].clone()),
        (json!("Test SP 2"), json!(true))
    );
    let got = c.ok(
        "PUT",
        &a("/saml"),
        &ga,
        Some(json!({"reply_urls": ["https://sp.test/acs2", "https://sp.test/acs"], "nameid_format": "email",
            "signing": "both", "relay_state": "/home"})),
        200,
    );
    assert_eq!(got["config"]["reply_urls"][0]["url"], "https://sp.test/acs2");
    assert_eq!(got["config"]["name_id"]["format"], "email");
    assert_eq!(got["config"]["signing"], "both");
    c.err("PUT", &a("/saml"), &ga, Some(json!({"reply_urls": ["http://evil.example/acs"]})), 400, "PCS90001");
    c.err("PUT", &a("/saml"), &ga, Some(json!({"nameid_format": "bogus"})), 400, "PCS90001");
    let r = c.raw(
        "POST",
        &a("/sp-metadata"),
        &[("Authorization", &format!("Bearer {ga}")), ("Content-Type", "application/samlmetadata+xml")],
        SP_METADATA,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["config"]["identifiers"][0]["value"], "https://sp.example.com/meta");
    assert_eq!(r.json()["config"]["reply_urls"][0]["url"], "https://sp.example.com/acs");
    let got = c.ok("PUT", &a("/claims/department"), &ga, Some(json!({"source": "user.department"})), 200);
    assert!(got["config"]["claims"].as_array().unwrap().iter().any(|r| r["name"] == "department"));
    c.err("PUT", &a("/claims/x"), &ga, Some(json!({"source": "user.password"})), 400, "PCS90001");
    c.ok("DELETE", &a("/claims/department"), &ga, None, 204);
    c.err("DELETE", &a("/claims/department"), &ga, None, 404, "PCS90002");
    let got = c.ok("PUT", &a("/groups-claim"), &ga, Some(json!({"setting": "security"})), 200);
    assert_eq!(got["config"]["groups_claim"], "security_groups");
    // Issue 14, item 10: the spelling it is read back with is accepted too.
    let got = c.ok("PUT", &a("/groups-claim"), &ga, Some(json!({"setting": "all_groups"})), 200);
    assert_eq!(got["config"]["groups_claim"], "all_groups");
    let got = c.ok("PUT", &a("/groups-claim"), &ga, Some(json!({"setting": "security_groups"})), 200);
    assert_eq!(got["config"]["groups_claim"], "security_groups");
    c.err("PUT", &a("/groups-claim"), &ga, Some(json!({"setting": "securitygroups"})), 400, "PCS90001");
    assert_eq!(c.ok("GET", &a("/assignments"), &ga, None, 200), json!([]));
    let asg = c.ok("POST", &a("/assignments"), &ga, Some(json!({"group": sales_id})), 201);
    assert_eq!(
        (asg["principal_type"].clone(), asg["role"].clone()),
        (json!("group"), json!("Default Access"))
    );
    assert_eq!(c.ok("GET", &a("/assignments"), &ga, None, 200).as_array().unwrap().len(), 1);
    c.err("POST", &a("/assignments"), &ga, Some(json!({"user": "a@b.c", "group": "x"})), 400, "PCS90001");
    let md = c.call("GET", &a("/metadata"), &ga, None);
    assert_eq!(md.status, 200);
    assert!(md.head.contains("application/samlmetadata+xml") && md.body.contains("EntityDescriptor"));
    let certs = c.ok("GET", &a("/certs"), &ga, None, 200);
    assert_eq!(certs.as_array().unwrap().len(), 1);
    assert_eq!(certs[0]["active"], true);
    let new_cert = c.ok("POST", &a("/certs"), &ga, None, 201);
    let cert_id = new_cert["id"].as_str().unwrap().to_string();
    c.ok("POST", &a(&format!("/certs/{cert_id}/activate")), &ga, None, 204);
    let certs = c.ok("GET", &a("/certs"), &ga, None, 200);
    let active: Vec<_> = certs.as_array().unwrap().iter().filter(|c| c["active"] == true).collect();
    assert_eq!((active.len(), active[0]["id"].clone()), (1, json!(cert_id)));
    let pem = c.call("GET", &a("/certs/active"), &ga, None);
    assert!(pem.status == 200 && pem.body.starts_with("-----BEGIN CERTIFICATE-----"), "{}", pem.body);
    let b64 = c.call("GET", &a(&format!("/certs/{cert_id}?format=base64")), &ga, None);
    assert!(b64.status == 200 && !b64.body.contains("BEGIN"));
    c.err("GET", &a("/certs/active?format=pfx"), &ga, None, 400, "PCS90001");

    // ---- Application Administrator: apps and sign-ins yes; users, groups, roles no.
    cli(
        &data,
        &["user", "create", "--upn", "appadmin@contoso.com", "--given-name", "App", "--surname", "Admin"],
    );
    cli(&data, &["role", "grant", "--user", "appadmin@contoso.com", "--role", "application-administrator"]);
    let (_, aa) = new_token(&data, "appadmin@contoso.com");
    c.err("GET", "/api/v1/users", &aa, None, 403, "PCS90403");
    c.err("POST", "/api/v1/users", &aa, Some(json!({"upn": "x@contoso.com"})), 403, "PCS90403");
    c.err("GET", &format!("/api/v1/users/{alice_id}/groups"), &aa, None, 403, "PCS90403");
    c.err("POST", "/api/v1/groups", &aa, Some(json!({"name": "G"})), 403, "PCS90403");
    c.err(
        "POST",
        "/api/v1/roles",
        &aa,
        Some(json!({"user": "appadmin@contoso.com", "role": "global_administrator"})),
        403,
        "PCS90403",
    );
    assert_eq!(c.ok("GET", "/api/v1/apps", &aa, None, 200).as_array().unwrap().len(), 1);
    c.ok("PATCH", &a(""), &aa, Some(json!({"visible": false})), 200);
    c.ok("POST", &a("/assignments"), &aa, Some(json!({"user": "alice@contoso.com"})), 201);
    c.ok("GET", "/api/v1/signins", &aa, None, 200);

    // ---- a plain user's token: nothing but /me.
    cli(&data, &["user", "create", "--upn", "plain@contoso.com", "--given-name", "P", "--surname", "U"]);
    let (_, plain) = new_token(&data, "plain@contoso.com");
    assert_eq!(c.ok("GET", "/api/v1/me", &plain, None, 200)["roles"], json!([]));
    for (m, p) in [
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/apps"),
        ("GET", "/api/v1/signins"),
        ("GET", "/api/v1/roles"),
    ] {
        c.err(m, p, &plain, None, 403, "PCS90403");
    }

    // ---- roles over the API (Global Administrator only); losing a role loses access at once.
    let grant = json!({"user": "plain@contoso.com", "role": "application-administrator"});
    c.ok("POST", "/api/v1/roles", &ga, Some(grant), 200);
    c.ok("GET", "/api/v1/apps", &plain, None, 200);
    c.ok("DELETE", "/api/v1/roles/application_administrator/users/plain@contoso.com", &ga, None, 204);
    c.err("GET", "/api/v1/apps", &plain, None, 403, "PCS90403");
    c.err(
        "DELETE",
        "/api/v1/roles/global_administrator/users/admin@portcullis.local",
        &ga,
        None,
        409,
        "PCS90003",
    );
    assert_eq!(c.ok("GET", "/api/v1/roles", &ga, None, 200).as_array().unwrap().len(), 2);

    // ---- 401: no token, wrong scheme, malformed, unknown, revoked, disabled owner.
    let r = c.raw("GET", "/api/v1/apps", &[], "");
    assert_eq!((r.status, r.json()["code"].clone()), (401, json!("PCS90401")));
    assert!(r.head.to_ascii_lowercase().contains("www-authenticate: bearer"), "{}", r.head);
    let r = c.raw("GET", "/api/v1/apps", &[("Authorization", &format!("Basic {ga}"))], "");
    assert_eq!(r.status, 401);
    c.err("GET", "/api/v1/apps", "pat_short", None, 401, "PCS90401");
    let forged = format!("pat_{}", "A".repeat(43));
    c.err("GET", "/api/v1/apps", &forged, None, 401, "PCS90401");
    let (revoked_id, revoked) = new_token(&data, "admin@portcullis.local");
    c.ok("GET", "/api/v1/me", &revoked, None, 200);
    cli(&data, &["token", "revoke", "--id", &revoked_id]);
    c.err("GET", "/api/v1/me", &revoked, None, 401, "PCS90401");
    c.ok("PATCH", "/api/v1/users/appadmin@contoso.com", &ga, Some(json!({"enabled": false})), 200);
    c.err("GET", "/api/v1/apps", &aa, None, 401, "PCS90401");
    c.ok("PATCH", "/api/v1/users/appadmin@contoso.com", &ga, Some(json!({"enabled": true})), 200);
    c.ok("GET", "/api/v1/apps", &aa, None, 200);

    // Token list shows no secret and no hash; revoked tokens are marked.
    let tokens: Value = serde_json::from_str(&cli(&data, &["token", "list", "--json"])).unwrap();
    let text = tokens.to_string();
    assert!(!text.contains("pat_") && !text.contains("hash"), "{text}");
    assert!(tokens
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == revoked_id.as_str() && t["revoked"] == true));
    assert!(tokens.as_array().unwrap().iter().any(|t| t["last_used_at"].is_string()));

    // ---- "Test this application": a Global Administrator who is not assigned (and the app
    // requires assignment) still gets a signed Response; a plain user is refused with 403.
    let tenant = server.tenant.clone();
    let header = |r: &Reply, name: &str| -> Option<String> {
        let prefix = format!("{name}: ");
        r.head.lines().find_map(|l| {
            (l.len() > prefix.len() && l[..prefix.len()].eq_ignore_ascii_case(&prefix))
                .then(|| l[prefix.len()..].to_string())
        })
    };
    let cookie = |r: &Reply, name: &str| -> Option<String> {
        r.head.lines().filter(|l| l.to_ascii_lowercase().starts_with("set-cookie: ")).find_map(|l| {
            l[12..].strip_prefix(&format!("{name}=")).and_then(|v| v.split(';').next()).map(str::to_string)
        })
    };
    let sign_in = |upn: &str, password: &str| -> String {
        let page = c.raw("GET", &format!("/{tenant}/login"), &[], "");
        let csrf = cookie(&page, "pcs_csrf").expect("csrf cookie");
        let form = format!("username={}&password={password}&csrf={csrf}", upn.replace('@', "%40"));
        let r = c.raw(
            "POST",
            &format!("/{tenant}/login"),
            &[("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", &format!("pcs_csrf={csrf}"))],
            &form,
        );
        cookie(&r, "pcs_session").unwrap_or_else(|| panic!("no session for {upn}: {} {}", r.head, r.body))
    };
    c.ok("PATCH", "/api/v1/users/admin@portcullis.local", &ga, Some(json!({"password": "admin-pw-1"})), 200);
    c.ok("PATCH", "/api/v1/users/plain@contoso.com", &ga, Some(json!({"password": "plain-pw-1"})), 200);
    let test_url = format!("/{tenant}/myapps/test/{app_id}");
    let admin_session = sign_in("admin@portcullis.local", "admin-pw-1");
    let r = c.raw("GET", &test_url, &[("Cookie", &format!("pcs_session={admin_session}"))], "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("SAMLResponse") && r.body.contains("https://sp.example.com/acs"), "{}", r.body);
    assert_eq!(header(&r, "cache-control").as_deref(), Some("no-store"));
    let plain_session = sign_in("plain@contoso.com", "plain-pw-1");
    let r = c.raw("GET", &test_url, &[("Cookie", &format!("pcs_session={plain_session}"))], "");
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("PCS90403") && !r.body.contains("SAMLResponse"));
    let r = c.raw("GET", &test_url, &[], "");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("password"), "not signed in: the sign-in page");

    // ---- sign-ins: newest first, filtered by app, user and result.
    let logs = c.ok("GET", &format!("/api/v1/signins?app={app_id}"), &ga, None, 200);
    let logs = logs.as_array().unwrap();
    assert_eq!(logs[0]["result"], "PCS90403", "the plain user's refusal is the newest");
    assert_eq!(logs[1]["result"], "OK");
    assert!(logs.windows(2).all(|w| w[0]["at"].as_i64() >= w[1]["at"].as_i64()));
    let ok_only = c.ok("GET", "/api/v1/signins?result=OK&user=admin@portcullis.local", &ga, None, 200);
    assert!(!ok_only.as_array().unwrap().is_empty());
    assert!(ok_only
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["result"] == "OK" && s["upn"] == "admin@portcullis.local"));
    assert_eq!(c.ok("GET", "/api/v1/signins?limit=1", &ga, None, 200).as_array().unwrap().len(), 1);

    // ---- the OpenAPI document: served without a token, and every operation it lists is routed
    // (answers 401 without a token, not 404/405). The reverse direction is a unit test of the
    // router's source in crates/idp/src/web/api.rs.
    let doc = c.raw("GET", "/api/v1/openapi.json", &[], "");
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{id}", &app_id)
            .replace("{cert}", &cert_id)
            .replace("{name}", "x")
            .replace("{role}", "global_administrator")
            .replace("{user}", "alice@contoso.com");
        for method in item.as_object().unwrap().keys() {
            operations += 1;
            let r = c.raw(&method.to_uppercase(), &concrete, &[], "");
            if path == "/api/v1/openapi.json" {
                assert_eq!(r.status, 200);
            } else {
                assert_eq!(r.status, 401, "{method} {path} is documented but not routed: {}", r.body);
            }
        }
    }
    assert!(operations >= 30, "only {operations} operations documented");

    // No response, of any kind, showed the planted password or a password hash.
    for body in c.seen.borrow().iter() {
        assert!(!body.contains(PLANTED), "the planted password leaked: {body}");
        assert!(!body.contains("$argon2"), "a password hash leaked: {body}");
    }
}

// ============================================================================ deletions and the
// endpoints added after the first API: TOTP, tokens, outbox, certificate-expiry check.

/// Proves, over real HTTP: every deletion/removal endpoint succeeds for a Global Administrator
/// (and changes what the API shows next), answers 404 for an unknown ID and 401 without a
/// token; an Application Administrator may delete apps and assignments but not users, groups,
/// memberships, TOTP, tokens, the outbox or the expiry check (403); the last enabled Global
/// Administrator can be neither deleted nor disabled (409); TOTP enrol answers the otpauth URI
/// once and flips `mfa_enabled`; a token made over the API works until it is revoked over the
/// API; the expiry check queues a notice once and the outbox shows it.
#[test]
fn deletions_tokens_totp_outbox_and_notify_over_http() {
    let server = start();
    let data = server.data();
    let c = Client::new(&server);
    let (_, ga) = new_token(&data, "admin@portcullis.local");
    cli(
        &data,
        &["user", "create", "--upn", "appadmin@contoso.com", "--given-name", "App", "--surname", "Admin"],
    );
    cli(&data, &["role", "grant", "--user", "appadmin@contoso.com", "--role", "application-administrator"]);
    let (_, aa) = new_token(&data, "appadmin@contoso.com");
    let unknown = uuid::Uuid::new_v4().to_string();
    let no_token = |method: &str, path: &str| {
        let r = c.raw(method, path, &[], "");
        assert_eq!((r.status, r.json()["code"].clone()), (401, json!("PCS90401")), "{method} {path}");
    };

    // ---- fixtures: two users, a group with both, an app assigned to the group and to bob.
    let user = |upn: &str| {
        c.ok("POST", "/api/v1/users", &ga, Some(json!({"upn": upn, "given_name": "T"})), 201)["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let bob = user("bob@contoso.com");
    let carol = user("carol@contoso.com");
    let group = c.ok("POST", "/api/v1/groups", &ga, Some(json!({"name": "Staff"})), 201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let inner = c.ok("POST", "/api/v1/groups", &ga, Some(json!({"name": "Inner"})), 201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (m, kind) in [(&bob, "user"), (&carol, "user"), (&inner, "group")] {
        let body = if kind == "user" { json!({"user": m}) } else { json!({"group": m}) };
        c.ok("POST", &format!("/api/v1/groups/{group}/members"), &ga, Some(body), 204);
    }
    let app = c.ok(
        "POST",
        "/api/v1/apps",
        &ga,
        Some(json!({"template": "generic-saml", "name": "Doomed",
            "params": {"IDENTIFIER": "https://doomed.test/e", "REPLY_URL": "https://doomed.test/acs"}})),
        201,
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    c.ok("POST", &format!("/api/v1/apps/{app}/assignments"), &ga, Some(json!({"group": group})), 201);
    c.ok("POST", &format!("/api/v1/apps/{app}/assignments"), &ga, Some(json!({"user": bob})), 201);

    // ---- remove a member (user by UPN, nested group with type=group).
    let members = format!("/api/v1/groups/{group}/members");
    c.err("DELETE", &format!("{members}/bob@contoso.com"), &aa, None, 403, "PCS90403");
    no_token("DELETE", &format!("{members}/bob@contoso.com"));
    c.ok("DELETE", &format!("{members}/bob@contoso.com"), &ga, None, 204);
    assert_eq!(c.ok("GET", &format!("/api/v1/users/{bob}/groups"), &ga, None, 200), json!([]));
    c.err("DELETE", &format!("{members}/bob@contoso.com"), &ga, None, 404, "PCS90002");
    c.err("DELETE", &format!("{members}/{unknown}"), &ga, None, 404, "PCS90002");
    c.err("DELETE", &format!("/api/v1/groups/{unknown}/members/{carol}"), &ga, None, 404, "PCS90002");
    c.ok("DELETE", &format!("{members}/{inner}?type=group"), &ga, None, 204);
    c.err("DELETE", &format!("{members}/{inner}?type=group"), &ga, None, 404, "PCS90002");
    c.err("DELETE", &format!("{members}/{carol}?type=robot"), &ga, None, 400, "PCS90001");

    // ---- unassign (Application Administrators may).
    let assignments = format!("/api/v1/apps/{app}/assignments");
    no_token("DELETE", &format!("{assignments}/{bob}"));
    c.ok("DELETE", &format!("{assignments}/{bob}"), &aa, None, 204);
    c.err("DELETE", &format!("{assignments}/{bob}"), &ga, None, 404, "PCS90002");
    c.err("DELETE", &format!("{assignments}/{unknown}"), &ga, None, 404, "PCS90002");
    let left = c.ok("GET", &assignments, &ga, None, 200);
    assert_eq!(left.as_array().unwrap().len(), 1, "{left}");
    assert_eq!(left[0]["principal_id"], group.as_str());
    c.ok("DELETE", &format!("{assignments}/Staff?type=group"), &ga, None, 204);
    assert_eq!(c.ok("GET", &assignments, &ga, None, 200), json!([]));

    // ---- delete a group: gone from the list and from its members' groups.
    c.err("DELETE", &format!("/api/v1/groups/{group}"), &aa, None, 403, "PCS90403");
    no_token("DELETE", &format!("/api/v1/groups/{group}"));
    c.ok("DELETE", &format!("/api/v1/groups/{group}"), &ga, None, 204);
    c.err("DELETE", &format!("/api/v1/groups/{group}"), &ga, None, 404, "PCS90002");
    let names: Vec<Value> = c
        .ok("GET", "/api/v1/groups", &ga, None, 200)
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Inner")]);
    assert_eq!(c.ok("GET", &format!("/api/v1/users/{carol}/groups"), &ga, None, 200), json!([]));

    // ---- delete a user.
    c.err("DELETE", &format!("/api/v1/users/{carol}"), &aa, None, 403, "PCS90403");
    no_token("DELETE", &format!("/api/v1/users/{carol}"));
    c.ok("DELETE", "/api/v1/users/carol@contoso.com", &ga, None, 204);
    c.err("GET", &format!("/api/v1/users/{carol}"), &ga, None, 404, "PCS90002");
    c.err("DELETE", &format!("/api/v1/users/{carol}"), &ga, None, 404, "PCS90002");
    // The last enabled Global Administrator: neither deleted nor disabled, by the API or the CLI.
    c.err("DELETE", "/api/v1/users/admin@portcullis.local", &ga, None, 409, "PCS90003");
    c.err(
        "PATCH",
        "/api/v1/users/admin@portcullis.local",
        &ga,
        Some(json!({"enabled": false})),
        409,
        "PCS90003",
    );
    assert_eq!(c.ok("GET", "/api/v1/users/admin@portcullis.local", &ga, None, 200)["enabled"], true);
    // With a second one, the first may go; the deleted owner's token stops at once.
    let (_, doomed) = {
        user("second@contoso.com");
        cli(&data, &["role", "grant", "--user", "second@contoso.com", "--role", "global-administrator"]);
        new_token(&data, "second@contoso.com")
    };
    c.ok("GET", "/api/v1/me", &doomed, None, 200);
    c.ok("DELETE", "/api/v1/users/second@contoso.com", &ga, None, 204);
    c.err("GET", "/api/v1/me", &doomed, None, 401, "PCS90401");

    // ---- delete an app (Application Administrators may).
    no_token("DELETE", &format!("/api/v1/apps/{app}"));
    c.ok("DELETE", &format!("/api/v1/apps/{app}"), &aa, None, 204);
    c.err("GET", &format!("/api/v1/apps/{app}"), &ga, None, 404, "PCS90002");
    c.err("DELETE", &format!("/api/v1/apps/{app}"), &ga, None, 404, "PCS90002");
    assert_eq!(c.ok("GET", "/api/v1/apps", &ga, None, 200), json!([]));

    // ---- TOTP enrol / remove.
    let totp = format!("/api/v1/users/{bob}/totp");
    c.err("POST", &totp, &aa, None, 403, "PCS90403");
    no_token("POST", &totp);
    let r = c.call("POST", &totp, &ga, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.head.to_ascii_lowercase().contains("cache-control: no-store"), "{}", r.head);
    let uri = r.json()["otpauth_uri"].as_str().unwrap().to_string();
    assert!(uri.starts_with("otpauth://totp/Portcullis:bob@contoso.com?secret="), "{uri}");
    let secret = uri.split("secret=").nth(1).unwrap().split('&').next().unwrap().to_string();
    assert_eq!(c.ok("GET", &format!("/api/v1/users/{bob}"), &ga, None, 200)["mfa_enabled"], true);
    let everything = c.ok("GET", "/api/v1/users", &ga, None, 200).to_string();
    assert!(!everything.contains(&secret), "the TOTP secret can be read back: {everything}");
    c.err("DELETE", &totp, &aa, None, 403, "PCS90403");
    no_token("DELETE", &totp);
    c.ok("DELETE", &totp, &ga, None, 204);
    assert_eq!(c.ok("GET", &format!("/api/v1/users/{bob}"), &ga, None, 200)["mfa_enabled"], false);
    c.err("POST", &format!("/api/v1/users/{unknown}/totp"), &ga, None, 404, "PCS90002");
    c.err("DELETE", &format!("/api/v1/users/{unknown}/totp"), &ga, None, 404, "PCS90002");

    // ---- tokens: create (shown once), list (no secrets), use, revoke.
    c.err("GET", "/api/v1/tokens", &aa, None, 403, "PCS90403");
    c.err("POST", "/api/v1/tokens", &aa, Some(json!({})), 403, "PCS90403");
    no_token("GET", "/api/v1/tokens");
    no_token("POST", "/api/v1/tokens");
    let made = c.ok(
        "POST",
        "/api/v1/tokens",
        &ga,
        Some(json!({"user": "bob@contoso.com", "name": "ci", "days": 2})),
        201,
    );
    let (tid, secret) =
        (made["id"].as_str().unwrap().to_string(), made["token"].as_str().unwrap().to_string());
    assert!(secret.starts_with("pat_") && secret.len() == 47, "{made}");
    assert_eq!((made["upn"].clone(), made["revoked"].clone()), (json!("bob@contoso.com"), json!(false)));
    assert_eq!(made["expires_at"].as_i64().unwrap() - made["created_at"].as_i64().unwrap(), 2 * 86_400);
    assert_eq!(c.ok("GET", "/api/v1/me", &secret, None, 200)["user"]["upn"], "bob@contoso.com");
    let own = c.ok("POST", "/api/v1/tokens", &ga, None, 201);
    assert_eq!(own["upn"], "admin@portcullis.local", "no body: a token for the caller");
    c.err("POST", "/api/v1/tokens", &ga, Some(json!({"days": 0})), 400, "PCS90001");
    c.err("POST", "/api/v1/tokens", &ga, Some(json!({"user": unknown})), 404, "PCS90002");
    let list = c.ok("GET", "/api/v1/tokens", &ga, None, 200);
    assert!(!list.to_string().contains("pat_") && !list.to_string().contains("hash"), "{list}");
    assert!(list.as_array().unwrap().iter().any(|t| t["id"] == tid.as_str() && t["revoked"] == false));
    c.err("DELETE", &format!("/api/v1/tokens/{tid}"), &aa, None, 403, "PCS90403");
    no_token("DELETE", &format!("/api/v1/tokens/{tid}"));
    c.ok("DELETE", &format!("/api/v1/tokens/{tid}"), &ga, None, 204);
    c.err("GET", "/api/v1/me", &secret, None, 401, "PCS90401");
    c.err("DELETE", &format!("/api/v1/tokens/{unknown}"), &ga, None, 404, "PCS90002");
    c.err("DELETE", "/api/v1/tokens/not-a-token", &ga, None, 404, "PCS90002");
    let list = c.ok("GET", "/api/v1/tokens", &ga, None, 200);
    assert!(list.as_array().unwrap().iter().any(|t| t["id"] == tid.as_str() && t["revoked"] == true));

    // ---- certificate-expiry check and outbox (Global Administrator only).
    no_token("POST", "/api/v1/notify");
    no_token("GET", "/api/v1/outbox");
    c.err("POST", "/api/v1/notify", &aa, None, 403, "PCS90403");
    c.err("GET", "/api/v1/outbox", &aa, None, 403, "PCS90403");
    let app = c.ok(
        "POST",
        "/api/v1/apps",
        &ga,
        Some(json!({"template": "generic-saml", "name": "Expiring",
            "params": {"IDENTIFIER": "https://exp.test/e", "REPLY_URL": "https://exp.test/acs"}})),
        201,
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    c.ok(
        "PUT",
        &format!("/api/v1/apps/{app}/saml"),
        &ga,
        Some(json!({"notification_email": "ops@contoso.com"})),
        200,
    );
    assert_eq!(c.ok("POST", "/api/v1/notify", &ga, None, 200), json!([]), "a new certificate is not due");
    assert_eq!(c.ok("GET", "/api/v1/outbox", &ga, None, 200), json!([]));
    // Three years minus a few days on: the 7-day notice is due, once.
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(3 * 365 - 5);
    let later = later.format(&time::format_description::well_known::Rfc3339).unwrap();
    let queued = c.ok("POST", "/api/v1/notify", &ga, Some(json!({"now": later})), 200);
    assert_eq!(queued.as_array().unwrap().len(), 1, "{queued}");
    assert_eq!(
        (queued[0]["app_id"].clone(), queued[0]["recipient"].clone()),
        (json!(app), json!("ops@contoso.com"))
    );
    assert!((3..=7).contains(&queued[0]["days_left"].as_i64().unwrap()), "{queued}");
    assert_eq!(c.ok("POST", "/api/v1/notify", &ga, Some(json!({"now": later})), 200), json!([]));
    c.err("POST", "/api/v1/notify", &ga, Some(json!({"now": "next tuesday"})), 400, "PCS90001");
    let outbox = c.ok("GET", "/api/v1/outbox?limit=10", &ga, None, 200);
    assert_eq!(outbox.as_array().unwrap().len(), 1, "{outbox}");
    assert_eq!(
        (outbox[0]["recipient"].clone(), outbox[0]["status"].clone()),
        (json!("ops@contoso.com"), json!("queued"))
    );
    assert!(outbox[0]["subject"].as_str().unwrap().contains("Expiring"), "{outbox}");
    c.err("GET", "/api/v1/outbox?limit=lots", &ga, None, 400, "PCS90001");
}

/// A JSON request with a bearer token: (status, the JSON answer or null), for the effect tests.
fn api(base: &str, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = format!("Bearer {token}");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let r = Http::new().request(method, &format!("{base}{path}"), &headers, &body);
    (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null))
}

/// Proves the effects of the API's deletions on single sign-on, with python3-saml as the SP and
/// browsers that already hold sessions: after `DELETE /users/{id}` the user's session no longer
/// signs in to the app (the sign-in form comes back, and their password no longer works); after
/// `DELETE /groups/{id}/members/{member}` a user who had the app only through that group gets
/// PCS50105; after `DELETE /apps/{id}/assignments/{principal}` so does a directly assigned user;
/// after `DELETE /apps/{id}` the app's identifier is unknown (PCS700016).
/// Each is first shown to sign in, so the refusal is the deletion's doing.
#[test]
fn api_deletions_take_effect_on_single_sign_on() {
    use support::{Browser, Peer, PostForm, Sp, PASSWORD};
    let server = start();
    let out = server.cli(&["idp", "token", "create", "--user", "admin@portcullis.local"]);
    let ga = out.lines().last().unwrap().trim().to_string();
    let (entity, acs) = ("https://crm.sp.test/saml", "https://crm.sp.test/saml/acs");
    let app = server.create_app(
        "generic-saml",
        "CRM",
        &[&format!("IDENTIFIER={entity}"), &format!("REPLY_URL={acs}")],
    );
    let sp = Sp::new(Peer::Python3Saml, entity, acs, &server.metadata(&app));
    let call = |m: &str, p: &str, b: Option<Value>, status: u16| {
        let (got, v) = api(&server.base, m, p, &ga, b);
        assert_eq!(got, status, "{m} {p}: {v}");
        v
    };
    for upn in ["alice@contoso.test", "bob@contoso.test", "dave@contoso.test"] {
        server.create_user(upn, "T", "User", &[]);
    }
    let group = call("POST", "/api/v1/groups", Some(json!({"name": "CRM users"})), 201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    call("POST", &format!("/api/v1/groups/{group}/members"), Some(json!({"user": "bob@contoso.test"})), 204);
    call("POST", &format!("/api/v1/apps/{app}/assignments"), Some(json!({"group": group})), 201);
    for upn in ["alice@contoso.test", "dave@contoso.test"] {
        call("POST", &format!("/api/v1/apps/{app}/assignments"), Some(json!({"user": upn})), 201);
    }
    // Each signs in once through the SP: the app works for all three.
    let mut browsers: Vec<Browser> = Vec::new();
    for upn in ["alice@contoso.test", "bob@contoso.test", "dave@contoso.test"] {
        let mut b = Browser::new();
        let page = b.get(&sp.login(None, None).url);
        let page = b.sign_in(&page, upn, PASSWORD, &server.base);
        let form = PostForm::from_page(&page);
        assert_eq!(form.action, acs, "{upn}");
        browsers.push(b);
    }
    let [alice, bob, dave] = &mut browsers[..] else { unreachable!() };

    // Deleted user: the session is gone (the sign-in form, no Response) and so is the account.
    call("DELETE", "/api/v1/users/alice@contoso.test", None, 204);
    let from = alice.history.len();
    let page = alice.get(&sp.login(None, None).url);
    assert!(page.is_sign_in(), "a deleted user's session still works: {} {}", page.status, page.body);
    let page = alice.sign_in(&page, "alice@contoso.test", PASSWORD, &server.base);
    assert!(page.error_code().is_some() || page.is_sign_in(), "{} {}", page.status, page.body);
    assert!(alice.history[from..].iter().all(|p| !p.body.contains("SAMLResponse")));

    // Removed member: bob had the app only through the group.
    call("DELETE", &format!("/api/v1/groups/{group}/members/bob@contoso.test"), None, 204);
    let page = bob.get(&sp.login(None, None).url);
    assert_eq!(page.error_code().as_deref(), Some("PCS50105"), "{} {}", page.status, page.body);
    assert!(!page.body.contains("SAMLResponse"));

    // Unassigned user.
    call("DELETE", &format!("/api/v1/apps/{app}/assignments/dave@contoso.test"), None, 204);
    let page = dave.get(&sp.login(None, None).url);
    assert_eq!(page.error_code().as_deref(), Some("PCS50105"), "{} {}", page.status, page.body);
    assert!(!page.body.contains("SAMLResponse"));

    // Deleted app: its identifier is unknown from the next request on, even for a signed-in user
    // who had it through the group.
    call("POST", &format!("/api/v1/apps/{app}/assignments"), Some(json!({"user": "dave@contoso.test"})), 201);
    let page = dave.get(&sp.login(None, None).url);
    assert!(page.body.contains("SAMLResponse"), "reassigned, dave signs in again: {}", page.body);
    call("DELETE", &format!("/api/v1/apps/{app}"), None, 204);
    let page = dave.get(&sp.login(None, None).url);
    assert_eq!(page.error_code().as_deref(), Some("PCS700016"), "{} {}", page.status, page.body);
    assert!(!page.body.contains("SAMLResponse"));
}

/// Proves (a schemathesis finding): an Identifier whose fourth byte falls inside a multi-byte
/// character is refused with a 400 and the app is unchanged, where the URN check used to panic
/// and drop the connection.
#[test]
fn an_identifier_with_a_multibyte_character_is_a_clear_400() {
    let server = start();
    let c = Client::new(&server);
    let (_, ga) = new_token(&server.data(), "admin@portcullis.local");
    let app = c.ok(
        "POST",
        "/api/v1/apps",
        &ga,
        Some(json!({"template": "generic-saml",
            "params": {"IDENTIFIER": "https://mb.test/e", "REPLY_URL": "https://mb.test/acs"}})),
        201,
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    for bad in ["\u{a1}\u{800}", "ur\u{e9}:x", "abc\u{2248}def"] {
        let body = json!({"identifier": bad});
        c.err("PUT", &format!("/api/v1/apps/{app}/saml"), &ga, Some(body), 400, "PCS90001");
    }
    let got = c.ok("GET", &format!("/api/v1/apps/{app}"), &ga, None, 200);
    assert_eq!(got["config"]["identifiers"], json!([{"value": "https://mb.test/e", "is_default": true}]));
}

/// Proves (schemathesis findings): a body of whitespace alone is not JSON (400, nothing
/// changed), while a missing body is `{}`; a `limit` outside 1 to 1000 is refused, not clamped.
#[test]
fn whitespace_bodies_and_out_of_range_limits_are_refused() {
    let server = start();
    let c = Client::new(&server);
    let (_, ga) = new_token(&server.data(), "admin@portcullis.local");
    let auth = format!("Bearer {ga}");
    let r = c.raw("PATCH", "/api/v1/users/admin@portcullis.local", &[("Authorization", &auth)], "\t");
    assert_eq!((r.status, r.json()["code"].clone()), (400, json!("PCS90001")), "{}", r.body);
    let r = c.raw("PATCH", "/api/v1/users/admin@portcullis.local", &[("Authorization", &auth)], "");
    assert_eq!(r.status, 200, "a missing body is {{}}: {}", r.body);
    for path in ["/api/v1/signins", "/api/v1/outbox"] {
        for bad in ["0", "1001", "-1", "x"] {
            c.err("GET", &format!("{path}?limit={bad}"), &ga, None, 400, "PCS90001");
        }
        c.ok("GET", &format!("{path}?limit=1000"), &ga, None, 200);
    }
}
