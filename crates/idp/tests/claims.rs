//! The claims engine and the NameID: what the assertion says about a user, for
//! every source attribute, transformation and groups-claim option, and the
//! properties of each NameID format.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use idp::claims::{
    build_attributes, ClaimsError, UserClaimsInput, GROUPS_CLAIM, GROUPS_LIMIT, GROUPS_LINK_CLAIM, ROLE_CLAIM,
};
use idp::gallery;
use idp::model::{
    AppConfig, AppRole, ClaimRule, ClaimSource, GroupsClaim, NameIdFormat, NameIdSetting, SourceAttribute,
    Transform,
};
use idp::nameid::{name_id_value, persistent_id, transient_id};
use saml::model::Attribute;
use std::collections::BTreeMap;
use store::model::{Group, User};
use uuid::Uuid;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const BASE: &str = "https://idp.example.com/";

fn user() -> User {
    User {
        id: Uuid::parse_str("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap(),
        tenant_id: Uuid::nil(),
        upn: "B.Simon@contoso.com".into(),
        display_name: "Britta Simon".into(),
        given_name: Some("Britta".into()),
        surname: Some("Simon".into()),
        mail: Some("britta.simon@contoso.com".into()),
        department: Some("Support".into()),
        job_title: Some("Representative".into()),
        employee_id: Some("E-1001".into()),
        enabled: true,
        password_hash: None,
        totp_secret_sealed: None,
        created_at: 0,
        updated_at: 0,
    }
}

fn group(n: u128, security: bool) -> Group {
    Group {
        id: Uuid::from_u128(n),
        tenant_id: Uuid::nil(),
        name: format!("group-{n}"),
        description: None,
        security_enabled: security,
        created_at: 0,
    }
}

fn id(n: u128) -> String {
    Uuid::from_u128(n).hyphenated().to_string()
}

/// A generic app whose claims are exactly `claims`.
fn config(claims: Vec<ClaimRule>, groups_claim: GroupsClaim) -> AppConfig {
    let mut c = gallery::get("generic-saml").unwrap().instantiate(&BTreeMap::new()).unwrap();
    c.claims = claims;
    c.groups_claim = groups_claim;
    c
}

fn rule(name: &str, source: SourceAttribute) -> ClaimRule {
    ClaimRule { name: name.into(), namespace: None, source: ClaimSource::Attribute(source), transform: None }
}

fn with(mut r: ClaimRule, t: Transform) -> ClaimRule {
    r.transform = Some(t);
    r
}

fn input<'a>(
    user: &'a User,
    groups: &'a [Group],
    assigned: &'a [Uuid],
    role: Option<&'a str>,
) -> UserClaimsInput<'a> {
    UserClaimsInput { user, groups, assigned_group_ids: assigned, role, base_url: BASE }
}

fn build(config: &AppConfig, user: &User, groups: &[Group]) -> Vec<Attribute> {
    build_attributes(config, &input(user, groups, &[], None)).unwrap()
}

fn values<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a [String]> {
    attrs.iter().find(|a| a.name == name).map(|a| a.values.as_slice())
}

fn names(attrs: &[Attribute]) -> Vec<&str> {
    attrs.iter().map(|a| a.name.as_str()).collect()
}

#[test]
fn every_source_attribute_gives_the_users_value() {
    let u = user();
    let groups = [group(2, true), group(1, false)];
    let claims = SourceAttribute::ALL.iter().map(|a| rule(a.as_str(), *a)).collect();
    let attrs = build(&config(claims, GroupsClaim::None), &u, &groups);
    let expect: [(&str, &[&str]); 10] = [
        ("user.userprincipalname", &["B.Simon@contoso.com"]),
        ("user.mail", &["britta.simon@contoso.com"]),
        ("user.givenname", &["Britta"]),
        ("user.surname", &["Simon"]),
        ("user.displayname", &["Britta Simon"]),
        ("user.objectid", &["0f8fad5b-d9cb-469f-a165-70867728950e"]),
        // Setting None: a user.groups rule carries every group, sorted.
        ("user.groups", &[&id(1), &id(2)]),
        ("user.department", &["Support"]),
        ("user.jobtitle", &["Representative"]),
        ("user.employeeid", &["E-1001"]),
    ];
    assert_eq!(attrs.len(), expect.len());
    for (a, (name, vals)) in attrs.iter().zip(expect) {
        assert_eq!(a.name, name);
        assert_eq!(a.values, vals, "{name}");
        assert_eq!(a.name_format, None, "no NameFormat, as the directory emits");
        assert_eq!(a.friendly_name, None);
        assert!(a.complex_values.is_empty());
    }
}

#[test]
fn namespaced_and_constant_claims() {
    let u = user();
    let mut ns = rule("emailaddress", SourceAttribute::Mail);
    ns.namespace = Some("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/".into());
    let constant = ClaimRule {
        name: "tier".into(),
        namespace: None,
        source: ClaimSource::Constant("gold".into()),
        transform: None,
    };
    let empty = ClaimRule {
        name: "blank".into(),
        namespace: None,
        source: ClaimSource::Constant(" ".into()),
        transform: None,
    };
    let attrs = build(&config(vec![ns, constant, empty], GroupsClaim::None), &u, &[]);
    assert_eq!(names(&attrs), ["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "tier"]);
    assert_eq!(attrs[1].values, ["gold"]);
}

#[test]
fn every_transformation() {
    let u = user();
    let join = |other| Transform::Join { separator: "\\".into(), other };
    let claims = vec![
        with(rule("lower", SourceAttribute::UserPrincipalName), Transform::ToLowercase),
        with(rule("upper", SourceAttribute::UserPrincipalName), Transform::ToUppercase),
        with(rule("prefix", SourceAttribute::Mail), Transform::ExtractMailPrefix),
        with(rule("prefix-no-at", SourceAttribute::DisplayName), Transform::ExtractMailPrefix),
        with(rule("joined", SourceAttribute::Department), join(SourceAttribute::EmployeeId)),
        ClaimRule {
            name: "const-joined".into(),
            namespace: None,
            source: ClaimSource::Constant("CONTOSO".into()),
            transform: Some(join(SourceAttribute::GivenName)),
        },
        with(rule("group-lower", SourceAttribute::Groups), Transform::ToUppercase),
    ];
    let attrs = build(&config(claims, GroupsClaim::AllGroups), &u, &[group(0xab, true)]);
    let got: Vec<(&str, &[String])> = attrs.iter().map(|a| (a.name.as_str(), a.values.as_slice())).collect();
    assert_eq!(
        got,
        [
            ("lower", &["b.simon@contoso.com".to_string()][..]),
            ("upper", &["B.SIMON@CONTOSO.COM".to_string()][..]),
            ("prefix", &["britta.simon".to_string()][..]),
            ("prefix-no-at", &["Britta Simon".to_string()][..]),
            ("joined", &["Support\\E-1001".to_string()][..]),
            ("const-joined", &["CONTOSO\\Britta".to_string()][..]),
            ("group-lower", &[id(0xab).to_uppercase()][..]),
        ]
    );

    // Join with a missing other value: the value alone; with a missing own value: nothing.
    let mut sparse = user();
    sparse.employee_id = None;
    sparse.department = Some("Support".into());
    let claims = vec![
        with(rule("a", SourceAttribute::Department), join(SourceAttribute::EmployeeId)),
        with(rule("b", SourceAttribute::EmployeeId), join(SourceAttribute::Department)),
    ];
    let attrs = build(&config(claims, GroupsClaim::None), &sparse, &[]);
    assert_eq!(names(&attrs), ["a"]);
    assert_eq!(attrs[0].values, ["Support"]);

    // Groups cannot be joined, on either side.
    for r in [
        with(rule("g", SourceAttribute::Groups), join(SourceAttribute::Mail)),
        with(rule("m", SourceAttribute::Mail), join(SourceAttribute::Groups)),
    ] {
        let e =
            build_attributes(&config(vec![r], GroupsClaim::None), &input(&u, &[], &[], None)).unwrap_err();
        assert_eq!(e.code(), "PCS75014");
        assert!(matches!(e, ClaimsError::InvalidClaimRule { .. }));
    }
}

#[test]
fn empty_or_missing_values_leave_the_attribute_out() {
    let mut u = user();
    u.mail = None;
    u.given_name = Some(String::new());
    u.surname = Some("   ".into());
    u.department = None;
    u.display_name = String::new();
    let claims = vec![
        rule("mail", SourceAttribute::Mail),
        rule("given", SourceAttribute::GivenName),
        rule("sn", SourceAttribute::Surname),
        rule("dept", SourceAttribute::Department),
        rule("dn", SourceAttribute::DisplayName),
        with(rule("lower-mail", SourceAttribute::Mail), Transform::ToLowercase),
        rule("upn", SourceAttribute::UserPrincipalName),
        rule("groups", SourceAttribute::Groups),
    ];
    let attrs = build(&config(claims, GroupsClaim::SecurityGroups), &u, &[group(1, false)]);
    assert_eq!(names(&attrs), ["upn"], "no empty values, and no groups claim without groups");
}

#[test]
fn groups_claim_for_each_option_with_nested_groups() {
    let u = user();
    // The user is directly in 3 and 4; 3 sits in 1 (security) and 4 in 2 (not security):
    // the input carries the transitive memberships, nested ones included.
    let groups = [group(4, false), group(3, true), group(2, false), group(1, true)];
    let assigned = [Uuid::from_u128(1), Uuid::from_u128(4), Uuid::from_u128(99)];
    let cases: [(GroupsClaim, Option<Vec<String>>); 4] = [
        (GroupsClaim::None, None),
        (GroupsClaim::SecurityGroups, Some(vec![id(1), id(3)])),
        (GroupsClaim::AllGroups, Some(vec![id(1), id(2), id(3), id(4)])),
        (GroupsClaim::AssignedGroups, Some(vec![id(1), id(4)])),
    ];
    for (setting, want) in cases {
        let c = config(Vec::new(), setting);
        let attrs = build_attributes(&c, &input(&u, &groups, &assigned, None)).unwrap();
        assert_eq!(values(&attrs, GROUPS_CLAIM).map(<[String]>::to_vec), want, "{setting:?}");
        assert!(attrs.iter().all(|a| a.name_format.is_none()));

        // A user.groups rule carries the same set under its own name, instead of the claim type.
        let c = config(vec![rule("Groups", SourceAttribute::Groups)], setting);
        let attrs = build_attributes(&c, &input(&u, &groups, &assigned, None)).unwrap();
        let want = want.clone().unwrap_or_else(|| vec![id(1), id(2), id(3), id(4)]);
        assert_eq!(values(&attrs, "Groups").unwrap(), want, "{setting:?} rule");
        assert!(values(&attrs, GROUPS_CLAIM).is_none(), "{setting:?}: sent once");
    }
}

#[test]
fn more_than_150_groups_send_the_overage_claim_instead() {
    let u = user();
    let at_limit: Vec<Group> = (1..=GROUPS_LIMIT as u128).map(|n| group(n, true)).collect();
    let c = config(Vec::new(), GroupsClaim::SecurityGroups);
    let attrs = build(&c, &u, &at_limit);
    assert_eq!(values(&attrs, GROUPS_CLAIM).unwrap().len(), 150);
    assert!(values(&attrs, GROUPS_LINK_CLAIM).is_none());

    let over: Vec<Group> = (1..=151).map(|n| group(n, true)).collect();
    let link = vec![format!("https://idp.example.com/api/v1/users/{}/groups", u.id)];
    let attrs = build(&c, &u, &over);
    assert!(values(&attrs, GROUPS_CLAIM).is_none());
    assert_eq!(values(&attrs, GROUPS_LINK_CLAIM).unwrap(), link);

    // Only the groups the setting selects count: 151 groups of which 150 are security groups.
    let mut mixed = at_limit.clone();
    mixed.push(group(1000, false));
    assert_eq!(values(&build(&c, &u, &mixed), GROUPS_CLAIM).unwrap().len(), 150);

    // The rule form overflows the same way, and the link is sent once.
    let c = config(
        vec![rule("Groups", SourceAttribute::Groups), rule("G2", SourceAttribute::Groups)],
        GroupsClaim::AllGroups,
    );
    let attrs = build(&c, &u, &over);
    assert_eq!(names(&attrs), [GROUPS_LINK_CLAIM]);
    assert_eq!(attrs[0].values, link);
}

#[test]
fn role_claim_only_for_a_role_other_than_the_default() {
    let u = user();
    let mut c = config(Vec::new(), GroupsClaim::None);
    c.roles.push(AppRole { name: "Administrator".into(), value: "admin".into() });
    for (role, want) in [
        (None, None),
        (Some("Default Access"), None),
        (Some("DefaultAccess"), None),
        (Some("Administrator"), Some("admin")),
        (Some("admin"), Some("admin")),
        (Some("Auditor"), Some("Auditor")),
    ] {
        let attrs = build_attributes(&c, &input(&u, &[], &[], role)).unwrap();
        let got = values(&attrs, ROLE_CLAIM).map(|v| v.to_vec());
        assert_eq!(got, want.map(|w| vec![w.to_string()]), "{role:?}");
    }
}

#[test]
fn output_is_deterministic_and_ordered() {
    let u = user();
    let c = gallery::get("beyondtrust-remote-support")
        .unwrap()
        .instantiate(&[("HOSTNAME".to_string(), "acme".to_string())].into())
        .unwrap();
    let mut groups = vec![group(9, true), group(3, true), group(5, false), group(7, true)];
    let a = build_attributes(&c, &input(&u, &groups, &[], Some("Representatives"))).unwrap();
    groups.reverse();
    let b = build_attributes(&c, &input(&u, &groups, &[], Some("Representatives"))).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        names(&a),
        [
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
            "Username",
            "FirstName",
            "LastName",
            "Email",
            "Groups",
            ROLE_CLAIM,
        ]
    );
    assert_eq!(values(&a, "Groups").unwrap(), [id(3), id(7), id(9)], "security groups, as object IDs");
    assert_eq!(values(&a, "Username").unwrap(), ["B.Simon@contoso.com"]);
}

// ---------------------------------------------------------------------------------------------
// NameID

fn setting(format: NameIdFormat, source: SourceAttribute) -> NameIdSetting {
    NameIdSetting { format, source }
}

#[test]
fn persistent_is_stable_across_a_upn_change_and_different_per_app() {
    let app = Uuid::from_u128(0xa99);
    let other_app = Uuid::from_u128(0xb99);
    let s = setting(NameIdFormat::Persistent, SourceAttribute::UserPrincipalName);
    let mut u = user();
    let (f, first) = name_id_value(&s, None, &u, app, SECRET).unwrap();
    assert_eq!(f, NameIdFormat::Persistent);
    u.upn = "britta.simon@fabrikam.com".into();
    u.mail = Some("bs@fabrikam.com".into());
    let (_, after_rename) = name_id_value(&s, None, &u, app, SECRET).unwrap();
    assert_eq!(first, after_rename, "a UPN change keeps the persistent NameID");
    let (_, again) = name_id_value(&s, None, &u, app, SECRET).unwrap();
    assert_eq!(first, again);
    let (_, elsewhere) = name_id_value(&s, None, &u, other_app, SECRET).unwrap();
    assert_ne!(first, elsewhere, "another app gets an unlinkable value");
    let (_, other_tenant) = name_id_value(&s, None, &u, app, b"another tenant's secret!").unwrap();
    assert_ne!(first, other_tenant);
    assert!(!first.contains(&u.id.to_string()) && !first.contains("Simon"), "opaque");

    // Exactly the documented derivation.
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
    let msg = format!("persistent-nameid|{app}|{}", u.id);
    let want = URL_SAFE_NO_PAD.encode(hmac::sign(&key, msg.as_bytes()).as_ref());
    assert_eq!(first, want);
    assert_eq!(first.len(), 43);
    assert_eq!(persistent_id(SECRET, app, u.id).unwrap(), first);

    let e = persistent_id(b"short", app, u.id).unwrap_err();
    assert_eq!(e.code(), "PCS75018");
}

#[test]
fn email_format_needs_an_email_address() {
    let app = Uuid::from_u128(1);
    let u = user();
    let (f, v) =
        name_id_value(&setting(NameIdFormat::Email, SourceAttribute::Mail), None, &u, app, SECRET).unwrap();
    assert_eq!((f, v.as_str()), (NameIdFormat::Email, "britta.simon@contoso.com"));

    let e = name_id_value(&setting(NameIdFormat::Email, SourceAttribute::DisplayName), None, &u, app, SECRET)
        .unwrap_err();
    assert_eq!(e.code(), "PCS75013");
    let msg = e.to_string();
    assert!(msg.contains("B.Simon@contoso.com") && msg.contains("user.displayname"), "{msg}");

    let mut no_mail = user();
    no_mail.mail = None;
    let e = name_id_value(&setting(NameIdFormat::Email, SourceAttribute::Mail), None, &no_mail, app, SECRET)
        .unwrap_err();
    assert_eq!(e.code(), "PCS75012");
    assert!(e.to_string().contains("user.mail"), "{e}");

    for bad in ["alice", "@contoso.com", "alice@", "a@b@c", "al ice@contoso.com", "alice@.com"] {
        assert!(!idp::nameid::looks_like_email(bad), "{bad}");
    }
}

#[test]
fn unspecified_is_the_source_value() {
    let u = user();
    let s = setting(NameIdFormat::Unspecified, SourceAttribute::EmployeeId);
    assert_eq!(
        name_id_value(&s, None, &u, Uuid::nil(), SECRET).unwrap(),
        (NameIdFormat::Unspecified, "E-1001".to_string())
    );
    let s = setting(NameIdFormat::Unspecified, SourceAttribute::Groups);
    assert_eq!(name_id_value(&s, None, &u, Uuid::nil(), SECRET).unwrap_err().code(), "PCS75012");
}

#[test]
fn transient_changes_at_every_call() {
    let u = user();
    let s = setting(NameIdFormat::Transient, SourceAttribute::UserPrincipalName);
    let (f, a) = name_id_value(&s, None, &u, Uuid::nil(), SECRET).unwrap();
    let (_, b) = name_id_value(&s, None, &u, Uuid::nil(), SECRET).unwrap();
    assert_eq!(f, NameIdFormat::Transient);
    assert_ne!(a, b);
    assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
    assert_ne!(transient_id().unwrap(), transient_id().unwrap());
}

#[test]
fn the_requested_format_wins_over_the_configured_one() {
    let u = user();
    let app = Uuid::from_u128(7);
    let email = setting(NameIdFormat::Email, SourceAttribute::UserPrincipalName);
    let persistent = setting(NameIdFormat::Persistent, SourceAttribute::UserPrincipalName);

    let (f, v) = name_id_value(&email, Some(NameIdFormat::Persistent), &u, app, SECRET).unwrap();
    assert_eq!((f, v), (NameIdFormat::Persistent, persistent_id(SECRET, app, u.id).unwrap()));
    let (f, v) = name_id_value(&persistent, Some(NameIdFormat::Email), &u, app, SECRET).unwrap();
    assert_eq!((f, v.as_str()), (NameIdFormat::Email, "B.Simon@contoso.com"));
    let (f, _) = name_id_value(&persistent, Some(NameIdFormat::Transient), &u, app, SECRET).unwrap();
    assert_eq!(f, NameIdFormat::Transient);
    // "unspecified" in a NameIDPolicy means no preference: the configured format stays.
    let (f, _) = name_id_value(&persistent, Some(NameIdFormat::Unspecified), &u, app, SECRET).unwrap();
    assert_eq!(f, NameIdFormat::Persistent);
}
