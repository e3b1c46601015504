//! The IdP's router, in process: what the web layer adds around the flow — the security headers
//! of the shared layer on every answer, the POST form's own policy, the cookies' attributes, the
//! CSRF check, the tenant check, the shared assets, and the admin API's 401.

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use idp::directory::NewUser;
use idp::service::Idp;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use store::model::PrincipalKind;
use tower::ServiceExt as _;
use uuid::Uuid;
use zeroize::Zeroizing;

const PASSWORD: &str = "correct horse battery";

struct Site {
    router: Router,
    tenant: Uuid,
    app: Uuid,
    _db: store::testkit::TestDb,
}

async fn site() -> Site {
    let db = store::testkit::sqlite().await;
    let master = store::seal::MasterKey::from_bytes([9; 32]);
    let idp = Idp::new(db.store.clone(), &master, "http://127.0.0.1:8080").await.unwrap();
    let tenant = idp.ensure_default_tenant().await.unwrap().id;
    let alice = NewUser { upn: "alice@contoso.test".into(), ..NewUser::default() };
    idp.create_user(tenant, alice, Some(Zeroizing::new(PASSWORD.into()))).await.unwrap();
    let params: BTreeMap<String, String> =
        [("IDENTIFIER", "https://sp.test"), ("REPLY_URL", "https://sp.test/acs")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let app = idp.create_app(tenant, "generic-saml", Some("Portal"), &params).await.unwrap().id;
    idp.assign(tenant, &app.to_string(), "alice@contoso.test", PrincipalKind::User, None).await.unwrap();
    let addr: SocketAddr = "192.0.2.1:4000".parse().unwrap();
    let router = idp::web::router(idp).layer(MockConnectInfo(addr));
    Site { router, tenant, app, _db: db }
}

async fn call(site: &Site, request: Request<Body>) -> (Response<Body>, String) {
    let r = site.router.clone().oneshot(request).await.unwrap();
    let (parts, body) = r.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 22).await.unwrap();
    (Response::from_parts(parts, Body::empty()), String::from_utf8(bytes.to_vec()).unwrap())
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut r = Request::get(path);
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    r.body(Body::empty()).unwrap()
}

fn set_cookie<'r>(r: &'r Response<Body>, name: &str) -> Option<&'r str> {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

fn value(cookie: &str) -> &str {
    cookie.split(';').next().and_then(|kv| kv.split_once('=')).map(|(_, v)| v).unwrap()
}

#[tokio::test]
async fn pages_carry_the_shared_headers_and_the_sign_in_leads_to_a_posted_response() {
    let site = site().await;
    let (page, body) = call(&site, get(&format!("/{}/login", site.tenant), None)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let h = page.headers();
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h[header::CONTENT_SECURITY_POLICY], web::headers::DEFAULT_CSP);
    assert_eq!(h[header::CACHE_CONTROL], "no-store");
    assert!(body.contains(web::page::STYLESHEET_PATH) && body.contains("name=\"ctx\""), "{body}");
    let csrf = set_cookie(&page, "pcs_csrf").expect("a CSRF cookie");
    assert!(csrf.contains("HttpOnly") && csrf.contains("SameSite=Lax") && !csrf.contains("Secure"), "{csrf}");
    let csrf = value(csrf).to_string();

    // A form whose token is not the cookie's is refused, and logged, with PCS90023.
    let post = |token: &str, password: &str| {
        Request::post(format!("/{}/login", site.tenant))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("pcs_csrf={csrf}"))
            .body(Body::from(format!("username=alice%40contoso.test&password={password}&csrf={token}")))
            .unwrap()
    };
    let (forged, body) = call(&site, post("other", "x")).await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(body.contains(r#"class="code">PCS90023<"#), "{body}");
    let (wrong, body) = call(&site, post(&csrf, "wrong")).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(body.contains("the user name or password is incorrect"), "{body}");

    let (signed_in, _) = call(&site, post(&csrf, "correct+horse+battery")).await;
    assert_eq!(signed_in.status(), StatusCode::FOUND);
    assert_eq!(signed_in.headers()[header::LOCATION], format!("/{}/myapps", site.tenant));
    let session = set_cookie(&signed_in, "pcs_session").expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Max-Age=28800")
    );
    let cookie = format!("pcs_session={}", value(session));

    let (apps, body) = call(&site, get(&format!("/{}/myapps", site.tenant), Some(&cookie))).await;
    assert_eq!(apps.status(), StatusCode::OK);
    let launch = format!("/{}/myapps/launch/{}", site.tenant, site.app);
    assert!(body.contains(&format!(r#"<a href="{launch}" data-initial="P">Portal</a>"#)), "{body}");
    assert!(body.contains(&format!("/{}/logout", site.tenant)), "{body}");

    let (form, body) = call(&site, get(&launch, Some(&cookie))).await;
    assert_eq!(form.status(), StatusCode::OK);
    assert!(
        body.contains("name=\"SAMLResponse\"") && body.contains("action=\"https://sp.test/acs\""),
        "{body}"
    );
    let csp = form.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains(saml::bindings::post::POST_FORM_SCRIPT_HASH) && csp.contains("form-action *"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(form.headers()["x-frame-options"], "DENY");
    assert_eq!(form.headers()[header::CACHE_CONTROL], "no-store");

    let (out, _) = call(&site, get(&format!("/{}/logout", site.tenant), Some(&cookie))).await;
    assert!(set_cookie(&out, "pcs_session").is_some_and(|c| c.contains("Max-Age=0")));
    let (again, body) = call(&site, get(&launch, Some(&cookie))).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert!(body.contains("name=\"password\"") && body.contains("to continue to"), "signed out: {body}");
}

#[tokio::test]
async fn unknown_tenants_and_apps_are_404_and_the_api_wants_a_token() {
    let site = site().await;
    for path in [
        format!("/{}/login", Uuid::nil()),
        "/not-a-tenant/myapps".to_string(),
        format!("/{}/myapps/launch/not-an-app", site.tenant),
        format!("/{}/myapps/test/not-an-app", site.tenant),
    ] {
        let (r, _) = call(&site, get(&path, None)).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.headers()["x-frame-options"], "DENY", "{path}");
    }
    let (css, _) = call(&site, get(web::page::STYLESHEET_PATH, None)).await;
    assert_eq!(css.status(), StatusCode::OK);
    let (me, body) = call(&site, get("/api/v1/me", None)).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me.headers()[header::WWW_AUTHENTICATE], "Bearer realm=\"portcullis-admin-api\"");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["code"], "PCS90401");
    let (users, _) = call(&site, get("/api/v1/users", None)).await;
    assert_eq!(users.status(), StatusCode::UNAUTHORIZED);
}
