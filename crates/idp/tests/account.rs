//! Self-service on the account page, as a domain (issue 14, item 9): the password change (the
//! current password, the policy, every session ended and a new one for this browser) and TOTP
//! enrolment (in effect only once a code is confirmed; removal needs a code), at fixed instants.

use idp::directory::NewUser;
use idp::error::IdpError;
use idp::flow::account::{ENROLMENT_SECONDS, PASSWORD_POLICY};
use idp::flow::{Client, NewSession, OtpStep, SignIn};
use idp::service::Idp;
use saml::clock::Clock;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use zeroize::Zeroizing;

const ALICE: &str = "alice@contoso.test";
const PASSWORD: &str = "correct horse battery";
const NEW: &str = "a much longer new passphrase";

struct TestClock(Mutex<OffsetDateTime>);

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

struct Kit {
    idp: Idp,
    clock: Arc<TestClock>,
    tenant: Uuid,
    client: Client,
    _db: store::testkit::TestDb,
}

impl Kit {
    async fn new() -> Kit {
        let db = store::testkit::sqlite().await;
        let clock =
            Arc::new(TestClock(Mutex::new(OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap())));
        let master = store::seal::MasterKey::from_bytes([7; 32]);
        let idp =
            Idp::new(db.store.clone(), &master, "https://idp.test").await.unwrap().with_clock(clock.clone());
        let tenant = idp.ensure_default_tenant().await.unwrap().id;
        for upn in [ALICE, "bob@contoso.test"] {
            let new = NewUser { upn: upn.into(), ..Default::default() };
            idp.create_user(tenant, new, Some(Zeroizing::new(PASSWORD.into()))).await.unwrap();
        }
        Kit { idp, clock, tenant, client: Client { ip: None }, _db: db }
    }

    fn advance(&self, seconds: i64) {
        *self.clock.0.lock().unwrap() += Duration::seconds(seconds);
    }

    async fn sign_in(&self, upn: &str, password: &str) -> SignIn {
        self.idp.authenticate(self.tenant, upn, password, &self.client).await
    }

    async fn session(&self, upn: &str) -> Box<NewSession> {
        match self.sign_in(upn, PASSWORD).await {
            SignIn::Done(s) => s,
            other => panic!("{other:?}"),
        }
    }

    async fn user(&self, secret: &str) -> (store::model::Session, store::model::User) {
        self.idp.signed_in_user(self.tenant, Some(secret)).await.unwrap().expect("signed in")
    }

    fn code(&self, base32: &str) -> String {
        let secret = data_encoding::BASE32_NOPAD.decode(base32.as_bytes()).unwrap();
        idp::totp::code(&secret, self.clock.now().unix_timestamp(), 6)
    }
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_meets_the_policy_and_ends_every_other_session() {
    let kit = Kit::new().await;
    let here = kit.session(ALICE).await;
    let elsewhere = kit.session(ALICE).await;
    let bob = kit.session("bob@contoso.test").await;
    let (session, user) = kit.user(here.secret()).await;

    let refused = |r: Result<NewSession, IdpError>| match r {
        Err(e) => e,
        Ok(_) => panic!("the change was accepted"),
    };
    let e = refused(kit.idp.change_own_password(&session, &user, "wrong", NEW, NEW).await);
    assert_eq!(e.code(), "PCS50126");
    let e = refused(kit.idp.change_own_password(&session, &user, PASSWORD, NEW, "typo").await);
    assert!(e.to_string().contains("confirmation"), "{e}");
    for (bad, why) in [
        ("short", "at least 12"),
        (PASSWORD, "differ from the current"),
        ("ALICE@contoso.test", "user name"),
        ("            ", "blank"),
    ] {
        let e = refused(kit.idp.change_own_password(&session, &user, PASSWORD, bad, bad).await);
        assert!(e.code() == "PCS90001" && e.to_string().contains(why), "{bad:?}: {e}");
    }
    assert_eq!(PASSWORD_POLICY.min_chars, 12);

    let fresh = kit.idp.change_own_password(&session, &user, PASSWORD, NEW, NEW).await.unwrap();
    assert_ne!(fresh.secret(), here.secret(), "this browser gets a new session");
    for old in [here.secret(), elsewhere.secret()] {
        assert!(kit.idp.signed_in_user(kit.tenant, Some(old)).await.unwrap().is_none(), "a session survived");
    }
    assert!(kit.idp.signed_in_user(kit.tenant, Some(fresh.secret())).await.unwrap().is_some());
    assert!(
        kit.idp.signed_in_user(kit.tenant, Some(bob.secret())).await.unwrap().is_some(),
        "other users keep theirs"
    );
    assert!(matches!(kit.sign_in(ALICE, PASSWORD).await, SignIn::Retry(_)), "the old password is gone");
    assert!(matches!(kit.sign_in(ALICE, NEW).await, SignIn::Done(_)));
}

#[tokio::test]
async fn wrong_current_passwords_lock_the_account_like_failed_sign_ins() {
    let kit = Kit::new().await;
    let here = kit.session(ALICE).await;
    let (session, user) = kit.user(here.secret()).await;
    for _ in 0..5 {
        assert!(kit.idp.change_own_password(&session, &user, "guess", NEW, NEW).await.is_err());
    }
    let locked = kit.idp.change_own_password(&session, &user, PASSWORD, NEW, NEW).await;
    assert!(matches!(locked, Err(IdpError::LockedOut(_))), "{:?}", locked.err());
}

#[tokio::test]
async fn totp_takes_effect_only_once_a_code_is_confirmed_and_needs_one_to_go() {
    let kit = Kit::new().await;
    let here = kit.session(ALICE).await;
    let (_, user) = kit.user(here.secret()).await;
    let enrolment = kit.idp.begin_totp_enrolment(&user).unwrap();
    assert!(
        enrolment.uri.starts_with("otpauth://totp/Portcullis:alice@contoso.test?secret="),
        "{}",
        enrolment.uri.as_str()
    );
    assert!(enrolment.uri.contains(enrolment.secret_base32.as_str()));
    // Not in effect yet: the password alone still signs in.
    assert!(matches!(kit.sign_in(ALICE, PASSWORD).await, SignIn::Done(_)));

    let e = kit.idp.confirm_totp_enrolment(&user, &enrolment.pending, "000000").await.unwrap_err();
    assert_eq!(e.code(), "PCS50076");
    // Bob cannot use Alice's pending secret, and a tampered one is refused.
    let (_, bob) = kit.user(kit.session("bob@contoso.test").await.secret()).await;
    let code = kit.code(&enrolment.secret_base32);
    assert_eq!(
        kit.idp.confirm_totp_enrolment(&bob, &enrolment.pending, &code).await.unwrap_err().code(),
        "PCS90001"
    );
    let again = kit.idp.resume_totp_enrolment(&user, &enrolment.pending).unwrap();
    assert_eq!(again.secret_base32.as_str(), enrolment.secret_base32.as_str(), "a wrong code keeps the key");

    kit.idp.confirm_totp_enrolment(&user, &enrolment.pending, &code).await.unwrap();
    let SignIn::NeedOtp(token) = kit.sign_in(ALICE, PASSWORD).await else { panic!("no second step") };
    // The confirming code was used: it does not sign in a second time.
    let reuse = kit.idp.verify_otp(kit.tenant, token.as_str(), &code, &kit.client).await;
    assert!(matches!(reuse, OtpStep::Retry(_)), "{reuse:?}");
    kit.advance(30);
    let next = kit.code(&enrolment.secret_base32);
    assert!(matches!(
        kit.idp.verify_otp(kit.tenant, token.as_str(), &next, &kit.client).await,
        OtpStep::Done(_)
    ));

    // Removal needs a current code.
    let (_, user) = kit.user(here.secret()).await;
    assert_eq!(kit.idp.remove_own_totp(&user, "123456").await.unwrap_err().code(), "PCS50076");
    kit.advance(30);
    kit.idp.remove_own_totp(&user, &kit.code(&enrolment.secret_base32)).await.unwrap();
    assert!(matches!(kit.sign_in(ALICE, PASSWORD).await, SignIn::Done(_)));
}

#[tokio::test]
async fn a_pending_enrolment_expires() {
    let kit = Kit::new().await;
    let (_, user) = kit.user(kit.session(ALICE).await.secret()).await;
    let enrolment = kit.idp.begin_totp_enrolment(&user).unwrap();
    kit.advance(ENROLMENT_SECONDS + 1);
    let code = kit.code(&enrolment.secret_base32);
    let e = kit.idp.confirm_totp_enrolment(&user, &enrolment.pending, &code).await.unwrap_err();
    assert!(e.code() == "PCS90001" && e.to_string().contains("expired"), "{e}");
    assert!(kit.idp.resume_totp_enrolment(&user, &enrolment.pending).is_err());
    assert!(matches!(kit.sign_in(ALICE, PASSWORD).await, SignIn::Done(_)), "TOTP stays off");
}
