//! The SSO flow as a domain, without HTTP or a binary: SP-initiated (both bindings),
//! IdP-initiated, ForceAuthn, IsPassive, the sign-in steps and every refusal, each at a fixed
//! instant of an injected clock, on a fresh SQLite store from the store's test kit.

use base64::Engine as _;
use idp::apps::{CertFormat, PropertyChanges, SamlChanges};
use idp::directory::{NewUser, UserChanges};
use idp::flow::{Client, NewSession, OtpStep, Pending, Portal, SignIn, SsoStep};
use idp::roles::DirectoryRole;
use idp::service::Idp;
use saml::bindings::{redirect, MessageParam};
use saml::clock::Clock;
use saml::crypto::Certificate;
use saml::model::{AuthnRequest, LogoutRequest, NameId, NameIdPolicy, Status};
use saml::signed::{read_signed_response, SignedResponse, Want};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use store::model::PrincipalKind;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use zeroize::Zeroizing;

const BASE: &str = "https://idp.contoso.test";
const ENTITY: &str = "https://portal.sp.test/saml";
const ACS: &str = "https://portal.sp.test/saml/acs";
const ALICE: &str = "alice@contoso.test";
const PASSWORD: &str = "correct horse battery";

/// A clock that stands still until a test moves it.
struct TestClock(Mutex<OffsetDateTime>);

impl TestClock {
    fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap();
        *t += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// The instant every test starts at.
fn start() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap()
}

/// An IdP on a fresh store with Alice (password, enabled) assigned to app "Portal" (generic
/// SAML, SP- and IdP-initiated, assignment required).
struct Kit {
    idp: Idp,
    clock: Arc<TestClock>,
    tenant: Uuid,
    app: Uuid,
    client: Client,
    _db: store::testkit::TestDb,
}

impl Kit {
    async fn new() -> Kit {
        let db = store::testkit::sqlite().await;
        let clock = Arc::new(TestClock(Mutex::new(start())));
        let master = store::seal::MasterKey::from_bytes([7; 32]);
        let idp = Idp::new(db.store.clone(), &master, BASE).await.unwrap().with_clock(clock.clone());
        let tenant = idp.ensure_default_tenant().await.unwrap().id;
        let kit = Kit {
            idp,
            clock,
            tenant,
            app: Uuid::nil(),
            client: Client { ip: Some("192.0.2.7".into()) },
            _db: db,
        };
        kit.user(ALICE).await;
        let app = kit.app("Portal", "generic-saml", &[("IDENTIFIER", ENTITY), ("REPLY_URL", ACS)]).await;
        kit.idp.assign(kit.tenant, &app.to_string(), ALICE, PrincipalKind::User, None).await.unwrap();
        let relay = SamlChanges { relay_state: Some("/dashboard".into()), ..SamlChanges::default() };
        kit.idp.set_saml(kit.tenant, &app.to_string(), relay).await.unwrap();
        Kit { app, ..kit }
    }

    async fn user(&self, upn: &str) {
        let new = NewUser { upn: upn.into(), given_name: Some("Given".into()), ..NewUser::default() };
        self.idp.create_user(self.tenant, new, Some(Zeroizing::new(PASSWORD.into()))).await.unwrap();
    }

    async fn app(&self, name: &str, template: &str, params: &[(&str, &str)]) -> Uuid {
        let params: BTreeMap<String, String> =
            params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.idp.create_app(self.tenant, template, Some(name), &params).await.unwrap().id
    }

    fn sso_url(&self) -> String {
        self.idp.endpoints(self.tenant).sso_url()
    }

    /// A plain AuthnRequest from the Portal app, issued now.
    fn request(&self, id: &str) -> AuthnRequest {
        AuthnRequest {
            id: id.into(),
            issue_instant: self.clock.now(),
            destination: Some(self.sso_url()),
            consent: None,
            issuer: Some(ENTITY.into()),
            subject: None,
            name_id_policy: None,
            conditions: None,
            requested_authn_context: None,
            force_authn: None,
            is_passive: None,
            protocol_binding: Some(saml::xml::BINDING_HTTP_POST.into()),
            assertion_consumer_service_index: None,
            assertion_consumer_service_url: Some(ACS.into()),
            attribute_consuming_service_index: None,
            provider_name: None,
        }
    }

    /// `request` over HTTP-Redirect with RelayState `state-1`, for the browser with `cookie`.
    async fn redirect(&self, request: &AuthnRequest, cookie: Option<&str>) -> SsoStep {
        let query = redirect::redirect_query(MessageParam::Request, &request.to_xml(), Some("state-1"), None)
            .unwrap();
        self.idp.saml_redirect(self.tenant, query, cookie, &self.client).await
    }

    async fn sign_in(&self, upn: &str) -> Box<NewSession> {
        match self.idp.authenticate(self.tenant, upn, PASSWORD, &self.client).await {
            SignIn::Done(s) => s,
            other => panic!("{upn} could not sign in: {other:?}"),
        }
    }

    async fn cert(&self, app: Uuid) -> Certificate {
        let pem = self.idp.download_cert(self.tenant, &app.to_string(), None, CertFormat::Pem).await.unwrap();
        Certificate::load(&pem).unwrap()
    }

    /// The posted Response, verified with the app's certificate.
    async fn posted(&self, step: SsoStep, want: Want) -> (SignedResponse, Option<String>) {
        let SsoStep::Post { acs, response_xml, relay_state } = step else {
            panic!("expected a posted Response, got {step:?}")
        };
        assert_eq!(acs, ACS);
        let cert = self.cert(self.app).await;
        let r = read_signed_response(&response_xml, std::slice::from_ref(&cert), want, false).unwrap();
        assert_eq!(r.response.destination.as_deref(), Some(ACS));
        assert_eq!(r.response.issue_instant, self.clock.now(), "issued at the clock's instant");
        (r, relay_state)
    }

    /// The sign-in log, every record written.
    async fn log(&self) -> Vec<store::model::SignIn> {
        self.idp.flush_sign_ins().await;
        self.idp.store.list_sign_ins(&store::SignInFilter::tenant(self.tenant)).await.unwrap()
    }
}

/// The code of a refused step, and that the log has it under the same correlation ID.
async fn refused(kit: &Kit, step: SsoStep) -> String {
    let SsoStep::Fail(f) = step else { panic!("expected a refusal, got {step:?}") };
    let log = kit.log().await;
    let row = log.iter().find(|r| r.correlation_id == f.correlation_id).expect("the refusal is logged");
    assert_eq!(row.result_code, f.error.code());
    assert_eq!(row.at, kit.clock.now().unix_timestamp());
    f.error.code().to_string()
}

#[tokio::test]
async fn sp_initiated_sign_in_then_a_response_and_later_requests_use_the_session() {
    let kit = Kit::new().await;
    let request = kit.request("_req1");
    let step = kit.redirect(&request, None).await;
    let SsoStep::NeedSignIn { pending, app } = step else { panic!("{step:?}") };
    assert_eq!(app.as_deref(), Some("Portal"));
    assert!(matches!(pending, Pending::Redirect { .. }), "{pending:?}");

    // The user takes ten minutes to sign in: the request's age was checked when it arrived, not
    // again now (it would be refused: 5 minutes and 3 of skew).
    kit.clock.advance(Duration::minutes(10));
    let session = kit.sign_in(ALICE).await;
    let step = kit.idp.continue_after_sign_in(kit.tenant, pending, &session, &kit.client).await;
    let (r, relay) = kit.posted(step, Want::SignedAssertion).await;
    assert_eq!(relay.as_deref(), Some("state-1"));
    assert_eq!(r.response.in_response_to.as_deref(), Some("_req1"));
    let a = r.assertion.unwrap();
    assert!(a.conditions.as_ref().unwrap().audience_allowed(ENTITY));
    assert_eq!(a.authn_statements[0].authn_instant, kit.clock.now());
    let log = kit.log().await;
    assert_eq!(log.len(), 1, "one sign-in, one record: {log:?}");
    assert_eq!((log[0].result_code.as_str(), log[0].app_id), ("OK", Some(kit.app)));
    assert_eq!(log[0].ip.as_deref(), Some("192.0.2.7"));

    // The next request of this browser is answered at once, from its session.
    let step = kit.redirect(&kit.request("_req2"), Some(session.secret())).await;
    let (r, _) = kit.posted(step, Want::SignedAssertion).await;
    assert_eq!(r.response.in_response_to.as_deref(), Some("_req2"));

    // Over HTTP-POST too.
    let saml_request = base64::engine::general_purpose::STANDARD.encode(kit.request("_req3").to_xml());
    let step = kit
        .idp
        .saml_post(kit.tenant, Some(saml_request), Some("rs".into()), Some(session.secret()), &kit.client)
        .await;
    let (r, relay) = kit.posted(step, Want::SignedAssertion).await;
    assert_eq!((r.response.in_response_to.as_deref(), relay.as_deref()), (Some("_req3"), Some("rs")));

    // Eight hours later the session has ended.
    kit.clock.advance(Duration::hours(8));
    assert!(matches!(
        kit.redirect(&kit.request("_req4"), Some(session.secret())).await,
        SsoStep::NeedSignIn { .. }
    ));
}

#[tokio::test]
async fn force_authn_asks_again_and_the_new_sign_in_satisfies_it() {
    let kit = Kit::new().await;
    let first = kit.sign_in(ALICE).await;
    kit.clock.advance(Duration::minutes(30));
    let mut request = kit.request("_force");
    request.force_authn = Some(true);
    let step = kit.redirect(&request, Some(first.secret())).await;
    let SsoStep::NeedSignIn { pending, .. } = step else { panic!("ForceAuthn with a session: {step:?}") };
    let again = kit.sign_in(ALICE).await;
    let step = kit.idp.continue_after_sign_in(kit.tenant, pending, &again, &kit.client).await;
    let (r, _) = kit.posted(step, Want::SignedAssertion).await;
    let authn = r.assertion.unwrap().authn_statements[0].authn_instant;
    assert_eq!(authn, kit.clock.now(), "the assertion names the new sign-in, not the first");
}

#[tokio::test]
async fn is_passive_without_a_session_gets_no_passive_and_with_one_an_assertion() {
    let kit = Kit::new().await;
    let mut request = kit.request("_passive");
    request.is_passive = Some(true);
    let (r, relay) = kit.posted(kit.redirect(&request, None).await, Want::SignedResponse).await;
    assert!(r.assertion.is_none());
    assert_eq!(r.response.status.code, Status::RESPONDER);
    assert_eq!(r.response.status.sub_code.as_deref(), Some(Status::NO_PASSIVE));
    assert_eq!((r.response.in_response_to.as_deref(), relay.as_deref()), (Some("_passive"), Some("state-1")));
    let log = kit.log().await;
    assert_eq!(log[0].result_code, "PCS50058");

    let session = kit.sign_in(ALICE).await;
    let (r, _) =
        kit.posted(kit.redirect(&request, Some(session.secret())).await, Want::SignedAssertion).await;
    assert!(r.assertion.is_some());
}

#[tokio::test]
async fn idp_initiated_from_a_tile_and_the_sign_on_url_of_sp_initiated_apps() {
    let kit = Kit::new().await;
    let step = kit.idp.launch(kit.tenant, kit.app, None, &kit.client).await;
    assert!(
        matches!(step, SsoStep::NeedSignIn { pending: Pending::Launch { app }, .. } if app == kit.app),
        "{step:?}"
    );
    let session = kit.sign_in(ALICE).await;
    let step = kit
        .idp
        .continue_after_sign_in(kit.tenant, Pending::Launch { app: kit.app }, &session, &kit.client)
        .await;
    let SsoStep::Redirect(to) = step else { panic!("{step:?}") };
    assert_eq!(to, format!("/{}/myapps/launch/{}", kit.tenant, kit.app));

    let step = kit.idp.launch(kit.tenant, kit.app, Some(session.secret()), &kit.client).await;
    let (r, relay) = kit.posted(step, Want::SignedAssertion).await;
    assert_eq!(r.response.in_response_to, None, "an unsolicited Response answers no request");
    assert_eq!(relay.as_deref(), Some("/dashboard"));

    // Issue 14, item 6: an app that supports SP-initiated sign-on and has a Sign-on URL is
    // started there from its tile, as the large directories do, even when it supports both.
    let sign_on = SamlChanges { sign_on_url: Some("https://sp.test/login".into()), ..SamlChanges::default() };
    kit.idp.set_saml(kit.tenant, &kit.app.to_string(), sign_on).await.unwrap();
    let step = kit.idp.launch(kit.tenant, kit.app, Some(session.secret()), &kit.client).await;
    assert!(matches!(&step, SsoStep::Redirect(url) if url == "https://sp.test/login"), "{step:?}");
    let clear = SamlChanges { sign_on_url: Some(String::new()), ..SamlChanges::default() };
    kit.idp.set_saml(kit.tenant, &kit.app.to_string(), clear).await.unwrap();

    let bomgar = kit.app("Support", "beyondtrust-remote-support", &[("HOSTNAME", "acme")]).await;
    kit.idp.assign(kit.tenant, &bomgar.to_string(), ALICE, PrincipalKind::User, None).await.unwrap();
    let step = kit.idp.launch(kit.tenant, bomgar, Some(session.secret()), &kit.client).await;
    assert!(matches!(&step, SsoStep::Redirect(url) if url == "https://acme.bomgar.com/saml"), "{step:?}");
    let clear = SamlChanges { sign_on_url: Some(String::new()), ..SamlChanges::default() };
    kit.idp.set_saml(kit.tenant, &bomgar.to_string(), clear).await.unwrap();
    let step = kit.idp.launch(kit.tenant, bomgar, Some(session.secret()), &kit.client).await;
    assert_eq!(refused(&kit, step).await, "PCS750054");

    let Portal::Apps { tiles, .. } = kit.idp.my_apps(kit.tenant, Some(session.secret()), &kit.client).await
    else {
        panic!("My Apps without its session")
    };
    let names: Vec<&str> = tiles.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Portal", "Support"]);
    assert!(matches!(kit.idp.my_apps(kit.tenant, None, &kit.client).await, Portal::NeedSignIn));
}

/// A change to a request that makes it refused.
type Change = Box<dyn Fn(&mut AuthnRequest)>;

#[tokio::test]
async fn every_refusal_of_a_request_has_its_code_and_is_logged() {
    let kit = Kit::new().await;
    let session = kit.sign_in(ALICE).await;
    let cookie = Some(session.secret());
    let cases: Vec<(&str, Change)> = vec![
        ("PCS700016", Box::new(|r| r.issuer = Some("https://stranger.sp.test".into()))),
        ("PCS75005", Box::new(|r| r.issuer = None)),
        ("PCS75006", Box::new(|r| r.destination = Some(format!("{BASE}/{}/saml2", Uuid::nil())))),
        ("PCS75008", Box::new(|r| r.issue_instant -= Duration::minutes(9))),
        ("PCS75008", Box::new(|r| r.issue_instant += Duration::minutes(4))),
        ("PCS75007", Box::new(|r| r.protocol_binding = Some(saml::xml::BINDING_HTTP_REDIRECT.into()))),
        (
            "PCS50011",
            Box::new(|r| r.assertion_consumer_service_url = Some("https://attacker.test/collect".into())),
        ),
        (
            "PCS50012",
            Box::new(|r| {
                r.assertion_consumer_service_url = None;
                r.protocol_binding = None;
                r.assertion_consumer_service_index = Some(9);
            }),
        ),
        (
            "PCS75011",
            Box::new(|r| {
                r.name_id_policy = Some(NameIdPolicy {
                    format: Some("urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos".into()),
                    ..NameIdPolicy::default()
                })
            }),
        ),
    ];
    for (code, change) in cases {
        let mut request = kit.request("_bad");
        change(&mut request);
        let step = kit.redirect(&request, cookie).await;
        assert_eq!(refused(&kit, step).await, code, "{request:?}");
    }
    // Not a SAML message at all, and a POST without one.
    let step = kit.idp.saml_redirect(kit.tenant, "SAMLRequest=%%%".into(), cookie, &kit.client).await;
    assert_eq!(refused(&kit, step).await, "PCS75005");
    let step = kit.idp.saml_post(kit.tenant, None, None, cookie, &kit.client).await;
    assert_eq!(refused(&kit, step).await, "PCS75005");

    // A disabled app.
    let off = PropertyChanges { enabled: Some(false), ..PropertyChanges::default() };
    kit.idp.set_properties(kit.tenant, &kit.app.to_string(), off).await.unwrap();
    assert_eq!(refused(&kit, kit.redirect(&kit.request("_off"), cookie).await).await, "PCS7000112");
}

#[tokio::test]
async fn users_must_be_assigned_enabled_and_know_their_password() {
    let kit = Kit::new().await;
    kit.user("bob@contoso.test").await;
    let bob = kit.sign_in("bob@contoso.test").await;
    let step = kit.redirect(&kit.request("_bob"), Some(bob.secret())).await;
    assert_eq!(refused(&kit, step).await, "PCS50105");
    let step = kit.idp.launch(kit.tenant, kit.app, Some(bob.secret()), &kit.client).await;
    assert_eq!(refused(&kit, step).await, "PCS50105");

    let wrong = kit.idp.authenticate(kit.tenant, ALICE, "wrong", &kit.client).await;
    assert!(matches!(wrong, SignIn::Retry(ref e) if e.code() == "PCS50126"), "{wrong:?}");
    let nobody = kit.idp.authenticate(kit.tenant, "nobody@contoso.test", PASSWORD, &kit.client).await;
    assert!(matches!(nobody, SignIn::Retry(ref e) if e.code() == "PCS50126"), "{nobody:?}");
    let log = kit.log().await;
    assert!(log
        .iter()
        .any(|r| r.result_code == "PCS50126" && r.upn.as_deref() == Some("nobody@contoso.test")));

    // Disabling a user ends their sessions and refuses their password.
    let alice = kit.sign_in(ALICE).await;
    let off = UserChanges { enabled: Some(false), ..UserChanges::default() };
    kit.idp.set_user(kit.tenant, ALICE, off).await.unwrap();
    assert!(matches!(
        kit.redirect(&kit.request("_a"), Some(alice.secret())).await,
        SsoStep::NeedSignIn { .. }
    ));
    let SignIn::Refused(f) = kit.idp.authenticate(kit.tenant, ALICE, PASSWORD, &kit.client).await else {
        panic!("a disabled user signed in")
    };
    assert_eq!(f.error.code(), "PCS50057");
}

#[tokio::test]
async fn repeated_failures_lock_the_account_until_the_lock_runs_out() {
    let kit = Kit::new().await;
    for _ in 0..5 {
        kit.idp.authenticate(kit.tenant, ALICE, "guess", &kit.client).await;
    }
    let locked = kit.idp.authenticate(kit.tenant, "ALICE@contoso.test", PASSWORD, &kit.client).await;
    let SignIn::Retry(e) = locked else { panic!("not locked: {locked:?}") };
    assert_eq!(e.code(), "PCS50053");
    assert!(e.to_string().contains("30 seconds"), "{e}");
    kit.clock.advance(Duration::seconds(29));
    assert!(matches!(kit.idp.authenticate(kit.tenant, ALICE, PASSWORD, &kit.client).await, SignIn::Retry(_)));
    kit.clock.advance(Duration::seconds(2));
    kit.sign_in(ALICE).await;
}

/// The otpauth URI's base32 secret.
fn totp_secret(uri: &str) -> Vec<u8> {
    let b32 = uri.split("secret=").nth(1).and_then(|s| s.split('&').next()).unwrap();
    data_encoding::BASE32_NOPAD.decode(b32.as_bytes()).unwrap()
}

#[tokio::test]
async fn totp_is_a_second_step_each_code_signs_in_once_and_the_step_expires() {
    let kit = Kit::new().await;
    let uri = kit.idp.enroll_totp(kit.tenant, ALICE).await.unwrap();
    let secret = totp_secret(&uri);
    let code = |kit: &Kit| idp::totp::code(&secret, kit.clock.now().unix_timestamp(), 6);

    let SignIn::NeedOtp(token) = kit.idp.authenticate(kit.tenant, ALICE, PASSWORD, &kit.client).await else {
        panic!("no second step")
    };
    let wrong = kit.idp.verify_otp(kit.tenant, token.as_str(), "000000", &kit.client).await;
    assert!(matches!(wrong, OtpStep::Retry(ref e) if e.code() == "PCS50076"), "{wrong:?}");
    let right = code(&kit);
    let OtpStep::Done(session) = kit.idp.verify_otp(kit.tenant, token.as_str(), &right, &kit.client).await
    else {
        panic!("the right code was refused")
    };
    assert!(session.session.mfa);

    // The same code a second time (another browser, same time step): refused.
    let SignIn::NeedOtp(other) = kit.idp.authenticate(kit.tenant, ALICE, PASSWORD, &kit.client).await else {
        panic!("no second step")
    };
    let replay = kit.idp.verify_otp(kit.tenant, other.as_str(), &right, &kit.client).await;
    assert!(matches!(replay, OtpStep::Retry(ref e) if e.code() == "PCS50076"), "{replay:?}");

    // A tampered token, and one that outlived its five minutes.
    let forged = other.as_str().replace('|', "|0");
    assert!(matches!(
        kit.idp.verify_otp(kit.tenant, &forged, &code(&kit), &kit.client).await,
        OtpStep::Restart { expired: true }
    ));
    kit.clock.advance(Duration::seconds(301));
    assert!(matches!(
        kit.idp.verify_otp(kit.tenant, other.as_str(), &code(&kit), &kit.client).await,
        OtpStep::Restart { expired: true }
    ));
}

#[tokio::test]
async fn administrators_test_apps_they_are_not_assigned_to_and_others_may_not() {
    let kit = Kit::new().await;
    kit.user("admin@contoso.test").await;
    kit.idp
        .grant_role(kit.tenant, "admin@contoso.test", DirectoryRole::ApplicationAdministrator)
        .await
        .unwrap();
    let admin = kit.sign_in("admin@contoso.test").await;
    let step = kit.idp.test_app(kit.tenant, kit.app, Some(admin.secret()), &kit.client).await;
    let (r, _) = kit.posted(step, Want::SignedAssertion).await;
    assert_eq!(r.assertion.unwrap().name_id().unwrap().format.as_deref(), Some(saml::xml::NAMEID_EMAIL));
    let alice = kit.sign_in(ALICE).await;
    let step = kit.idp.test_app(kit.tenant, kit.app, Some(alice.secret()), &kit.client).await;
    assert_eq!(refused(&kit, step).await, "PCS90403");
    let step = kit.idp.test_app(kit.tenant, kit.app, None, &kit.client).await;
    assert!(matches!(step, SsoStep::NeedSignIn { pending: Pending::Test { .. }, .. }), "{step:?}");
}

#[tokio::test]
async fn single_logout_ends_the_session_and_answers_the_app() {
    let kit = Kit::new().await;
    let logout =
        SamlChanges { logout_url: Some("https://portal.sp.test/saml/slo".into()), ..SamlChanges::default() };
    kit.idp.set_saml(kit.tenant, &kit.app.to_string(), logout).await.unwrap();
    let session = kit.sign_in(ALICE).await;
    let request = LogoutRequest {
        id: "_lo1".into(),
        issue_instant: kit.clock.now(),
        destination: Some(kit.sso_url()),
        consent: None,
        issuer: Some(ENTITY.into()),
        name_id: NameId::new(ALICE, saml::xml::NAMEID_EMAIL),
        session_indexes: Vec::new(),
        not_on_or_after: None,
        reason: None,
    };
    let query =
        redirect::redirect_query(MessageParam::Request, &request.to_xml(), Some("/bye"), None).unwrap();
    let step = kit.idp.saml_redirect(kit.tenant, query, Some(session.secret()), &kit.client).await;
    let SsoStep::SignedOut { location } = step else { panic!("{step:?}") };
    assert!(location.starts_with("https://portal.sp.test/saml/slo?SAMLResponse="), "{location}");
    assert!(location.contains("RelayState=%2Fbye") && location.contains("&Signature="), "{location}");
    let found = kit.idp.signed_in_user(kit.tenant, Some(session.secret())).await.unwrap();
    assert!(found.is_none(), "the session outlived single logout");
    assert!(matches!(
        kit.idp.continue_after_sign_in(kit.tenant, Pending::MyApps, &session, &kit.client).await,
        SsoStep::Redirect(ref to) if *to == format!("/{}/myapps", kit.tenant)
    ));
}
