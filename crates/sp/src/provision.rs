//! Just-in-time provisioning. The stable key of a SAML user is (provider,
//! NameID): the first successful login creates the user (or links a
//! pre-provisioned local user whose e-mail matches, instead of duplicating it),
//! later logins update the attributes that changed. A SAML user exists only after
//! a first successful login, since nothing else creates one. With a waiting-room
//! provider, a user created here waits (no permissions, no session) until an
//! access request for them is approved.

use crate::db::SpDb;
use crate::db::{AttributeNames, LocalUser, Provider, SamlUser};
use crate::policy::permissions_for;
use crate::web::error::{SiteError, SiteResult};
use crate::Login;
use uuid::Uuid;

/// The user fields read from an assertion with the provider's attribute names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub groups: Vec<String>,
}

/// The claim names a profile field is also recognised by while the provider keeps the default
/// attribute name for it ([`AttributeNames::default`]): the claim URIs of AD FS and Entra ID,
/// the LDAP/eduPerson OIDs and their short names. The configured (or default) name is looked
/// at first; an administrator who names another attribute gets exactly that one.
pub const COMMON_CLAIMS: CommonClaims = CommonClaims {
    username: &[
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
        "urn:oid:0.9.2342.19200300.100.1.1",
        "uid",
    ],
    first_name: &[
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
        "urn:oid:2.5.4.42",
        "givenName",
    ],
    last_name: &["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "urn:oid:2.5.4.4", "sn"],
    email: &[
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "mail",
        "email",
    ],
    groups: &[
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
        "http://schemas.xmlsoap.org/claims/Group",
        "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
        "groups",
        "memberOf",
    ],
};

/// The other names of each profile field (see [`COMMON_CLAIMS`]).
#[derive(Debug, Clone, Copy)]
pub struct CommonClaims {
    pub username: &'static [&'static str],
    pub first_name: &'static [&'static str],
    pub last_name: &'static [&'static str],
    pub email: &'static [&'static str],
    pub groups: &'static [&'static str],
}

/// The names to look for one field under, in order: the configured one, then — only when it is
/// the default — the common claim names.
fn names<'a>(configured: &'a str, default: &str, common: &'static [&'static str]) -> Vec<&'a str> {
    let mut names = vec![configured];
    if configured == default {
        names.extend(common.iter().copied());
    }
    names
}

/// Reads the profile; the username falls back to the NameID, the others to empty.
pub fn profile(provider: &Provider, login: &Login) -> SiteResult<Profile> {
    let configured = &provider.attributes;
    let default = AttributeNames::default();
    // The values of the first of `names` the assertion carries.
    let values = |names: Vec<&str>| -> &[String] {
        names.into_iter().map(|n| login.attribute(n)).find(|v| !v.is_empty()).unwrap_or(&[])
    };
    let first = |names: Vec<&str>| {
        values(names).iter().map(|v| v.trim()).find(|v| !v.is_empty()).unwrap_or_default().to_string()
    };
    let c = COMMON_CLAIMS;
    let username = match first(names(&configured.username, &default.username, c.username)) {
        u if u.is_empty() => login.name_id.clone(),
        u => u,
    };
    if username.is_empty() {
        return Err(SiteError::AttributeMissing(configured.username.clone()));
    }
    let mut groups: Vec<String> = values(names(&configured.groups, &default.groups, c.groups))
        .iter()
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty() && !g.contains(['\n', '\r']))
        .collect();
    groups.sort();
    groups.dedup();
    let clean = |s: String| s.replace(['\n', '\r'], " ");
    Ok(Profile {
        username: clean(username),
        first_name: clean(first(names(&configured.first_name, &default.first_name, c.first_name))),
        last_name: clean(first(names(&configured.last_name, &default.last_name, c.last_name))),
        email: clean(first(names(&configured.email, &default.email, c.email))),
        groups,
    })
}

/// The result of a login's provisioning.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub saml_user: SamlUser,
    pub local_user: LocalUser,
    /// This login created the SAML user.
    pub first_login: bool,
    /// … and linked it to a pre-provisioned local user (rather than creating one).
    pub linked_existing: bool,
}

/// Creates, links or updates the user of this login and records the login with
/// its groups and the permissions recomputed from them. Two concurrent first
/// logins of one user cannot create two: the first login is one transaction, and
/// the one that loses the race takes the update path.
pub async fn provision(db: &SpDb, provider: &Provider, login: &Login, now: i64) -> SiteResult<Provisioned> {
    let profile = profile(provider, login)?;
    for _ in 0..2 {
        if let Some(saml_user) = db.saml_user(provider.id, &login.name_id).await? {
            return later_login(db, provider, saml_user, profile, now).await;
        }
        match first_login(db, provider, login, &profile, now).await {
            Err(SiteError::Store(store::StoreError::Conflict { .. })) => continue,
            other => return other,
        }
    }
    Err(SiteError::Invalid(format!(
        "the first login of {:?} kept conflicting: retry the login",
        login.name_id
    )))
}

async fn later_login(
    db: &SpDb,
    provider: &Provider,
    mut saml_user: SamlUser,
    profile: Profile,
    now: i64,
) -> SiteResult<Provisioned> {
    if saml_user.waiting && groups_are_mapped(db, provider, &profile.groups).await? {
        db.leave_waiting_room(saml_user.id).await?;
        saml_user.waiting = false;
        tracing::info!(provider = %provider.name, user = %saml_user.id,
            "SAML user let out of the waiting room: an IdP group of theirs is mapped to a policy");
    }
    let permissions = if saml_user.waiting {
        Vec::new()
    } else {
        permissions_for(db, provider, &profile.groups, saml_user.granted_policy_id).await?
    };
    let mut local = db.local_user(saml_user.local_user_id).await?;
    if apply(&mut local, &profile) {
        db.update_local_user(&local).await?;
    }
    db.record_saml_login(saml_user.id, &profile.groups, &permissions, now).await?;
    saml_user.groups = profile.groups;
    saml_user.permissions = permissions;
    saml_user.last_login_at = now;
    Ok(Provisioned { saml_user, local_user: local, first_login: false, linked_existing: false })
}

async fn first_login(
    db: &SpDb,
    provider: &Provider,
    login: &Login,
    profile: &Profile,
    now: i64,
) -> SiteResult<Provisioned> {
    let candidate = if profile.email.is_empty() {
        None
    } else {
        db.unlinked_local_users_by_email(provider.app_id, &profile.email).await?.into_iter().next()
    };
    let linked_existing = candidate.is_some();
    let local = match candidate {
        Some(mut local) => {
            if apply(&mut local, profile) {
                db.update_local_user(&local).await?;
            }
            local
        }
        None => LocalUser {
            id: Uuid::new_v4(),
            app_id: provider.app_id,
            username: profile.username.clone(),
            first_name: profile.first_name.clone(),
            last_name: profile.last_name.clone(),
            email: profile.email.clone(),
            created_at: now,
        },
    };
    // The waiting room holds users this login creates; a pre-provisioned user someone already
    // let into the application is linked and let in, and so is a user whose IdP groups the
    // administrator mapped to a policy (how the first approver gets in).
    let waiting = provider.waiting_room
        && !linked_existing
        && !groups_are_mapped(db, provider, &profile.groups).await?;
    let permissions =
        if waiting { Vec::new() } else { permissions_for(db, provider, &profile.groups, None).await? };
    let saml_user = SamlUser {
        id: Uuid::new_v4(),
        provider_id: provider.id,
        name_id: login.name_id.clone(),
        local_user_id: local.id,
        groups: profile.groups.clone(),
        permissions,
        waiting,
        granted_policy_id: None,
        granted_sites: Vec::new(),
        created_at: now,
        last_login_at: now,
    };
    let new_local = if linked_existing { None } else { Some(&local) };
    db.create_first_login(new_local, &saml_user).await?;
    tracing::info!(provider = %provider.name, user = %local.username, linked_existing,
        "SAML user created at first login");
    Ok(Provisioned { saml_user, local_user: local, first_login: true, linked_existing })
}

/// Whether one of `groups` is mapped to a policy of the provider's application: the
/// administrator has decided what its members get, so they do not wait for a request.
async fn groups_are_mapped(db: &SpDb, provider: &Provider, groups: &[String]) -> SiteResult<bool> {
    Ok(db.group_policies(provider.app_id).await?.iter().any(|(g, _)| groups.contains(g)))
}

/// Copies the profile into `local`; true when anything changed. An attribute the
/// IdP did not send (empty) does not erase a stored value.
fn apply(local: &mut LocalUser, p: &Profile) -> bool {
    let before = local.clone();
    local.username = p.username.clone();
    for (field, value) in [
        (&mut local.first_name, &p.first_name),
        (&mut local.last_name, &p.last_name),
        (&mut local.email, &p.email),
    ] {
        if !value.is_empty() {
            *field = value.clone();
        }
    }
    *local != before
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{AttributeNames, SpApp, SsoBinding, WantSigned};

    async fn fixture(db: &SpDb) -> Provider {
        let app = SpApp {
            id: Uuid::new_v4(),
            name: "app".into(),
            base_url: "https://app.test".into(),
            entity_id: None,
            acs_url: None,
            signing_key_sealed: None,
            signing_cert: None,
            encryption_key_sealed: None,
            encryption_cert: None,
            created_at: 0,
        };
        db.create_app(&app).await.expect("app");
        let p = Provider {
            id: Uuid::new_v4(),
            app_id: app.id,
            name: "IdP".into(),
            idp_entity_id: "https://idp.test".into(),
            sso_url: "https://idp.test/sso".into(),
            sso_binding: SsoBinding::Redirect,
            slo_url: None,
            signing_certs: vec![],
            metadata_url: None,
            want_signed: WantSigned::Either,
            allow_sha1: false,
            skew_seconds: 180,
            allow_idp_initiated: false,
            sign_requests: false,
            waiting_room: false,
            email_domains: vec![],
            attributes: AttributeNames::default(),
            default_policy_id: None,
            created_at: 0,
        };
        db.create_provider(&p).await.expect("provider");
        p
    }

    fn login() -> Login {
        Login {
            name_id: "nid-1".into(),
            name_id_format: None,
            attributes: vec![
                ("Username".into(), vec!["alice".into()]),
                ("Email".into(), vec!["alice@contoso.test".into()]),
            ],
            session_not_on_or_after: None,
            session_index: None,
            assertion_id: "_a".into(),
            issuer: "https://idp.test".into(),
            remember_until: time::OffsetDateTime::UNIX_EPOCH,
            response_signed: true,
            assertion_signed: false,
            encrypted: false,
        }
    }

    fn with_attributes(attributes: &[(&str, &[&str])]) -> Login {
        Login {
            attributes: attributes
                .iter()
                .map(|(n, vs)| (n.to_string(), vs.iter().map(|v| v.to_string()).collect()))
                .collect(),
            ..login()
        }
    }

    fn provider_with(attributes: AttributeNames) -> Provider {
        Provider {
            id: Uuid::new_v4(),
            app_id: Uuid::new_v4(),
            name: "IdP".into(),
            idp_entity_id: "https://idp.test".into(),
            sso_url: "https://idp.test/sso".into(),
            sso_binding: SsoBinding::Redirect,
            slo_url: None,
            signing_certs: vec![],
            metadata_url: None,
            want_signed: WantSigned::Either,
            allow_sha1: false,
            skew_seconds: 180,
            allow_idp_initiated: false,
            sign_requests: false,
            waiting_room: true,
            email_domains: vec![],
            attributes,
            default_policy_id: None,
            created_at: 0,
        }
    }

    /// Issue 14 item 7: an IdP sending the standard claim URIs (AD FS, Entra ID) fills the
    /// profile with the default attribute names; the vendor names still work and win.
    #[test]
    fn the_default_names_recognise_the_common_claim_uris() {
        let claims = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";
        let groups = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups";
        let l = with_attributes(&[
            (&format!("{claims}/name"), &["alice@contoso.test"]),
            (&format!("{claims}/givenname"), &["Alice"]),
            (&format!("{claims}/surname"), &["Smith"]),
            (&format!("{claims}/emailaddress"), &["alice@mail.contoso.test"]),
            (groups, &["g2", "g1"]),
        ]);
        let p = profile(&provider_with(AttributeNames::default()), &l).expect("profile");
        assert_eq!(
            p,
            Profile {
                username: "alice@contoso.test".into(),
                first_name: "Alice".into(),
                last_name: "Smith".into(),
                email: "alice@mail.contoso.test".into(),
                groups: vec!["g1".into(), "g2".into()],
            }
        );
        // The vendor names are looked at first.
        let both = with_attributes(&[
            ("Email", &["vendor@contoso.test"]),
            (&format!("{claims}/emailaddress"), &["x@y"]),
        ]);
        assert_eq!(
            profile(&provider_with(AttributeNames::default()), &both).expect("profile").email,
            "vendor@contoso.test"
        );
        // A name the administrator chose is the only one read.
        let chosen = AttributeNames {
            email: "mailPrimary".into(),
            groups: "roles".into(),
            ..AttributeNames::default()
        };
        let p = profile(&provider_with(chosen), &l).expect("profile");
        assert_eq!((p.email.as_str(), p.groups.len()), ("", 0));
        assert_eq!(p.first_name, "Alice", "the fields left at their default still recognise the claim URIs");
    }

    /// A first login that loses the race writes nothing (no orphan local user).
    #[tokio::test]
    async fn a_losing_first_login_writes_nothing() {
        let db = SpDb::open(store::Store::open("sqlite::memory:").await.expect("store")).await.expect("db");
        let p = fixture(&db).await;
        let l = login();
        let won = provision(&db, &p, &l, 1).await.expect("first login");
        assert!(won.first_login);
        let profile = profile(&p, &l).expect("profile");
        let lost = first_login(&db, &p, &l, &profile, 2).await.expect_err("a second first login conflicts");
        assert_eq!(lost.code(), "STORE_CONFLICT");
        let orphans = db.unlinked_local_users_by_email(p.app_id, "alice@contoso.test").await.expect("read");
        assert!(orphans.is_empty(), "the losing transaction left a local user: {orphans:?}");
        let again = provision(&db, &p, &l, 3).await.expect("later login");
        assert!(!again.first_login);
        assert_eq!(again.saml_user.id, won.saml_user.id);
    }

    /// Concurrent first logins of one user (a file database, several connections)
    /// (interleaved at every await) end with one SAML user, both logins succeeding.
    #[tokio::test]
    async fn concurrent_first_logins_make_one_user() {
        let dir = tempfile::tempdir().expect("dir");
        let db = SpDb::open(store::Store::open_data_dir(dir.path()).await.expect("store")).await.expect("db");
        let p = fixture(&db).await;
        let l = login();
        let (a, b) = tokio::join!(provision(&db, &p, &l, 1), provision(&db, &p, &l, 1));
        let (a, b) = (a.expect("login a"), b.expect("login b"));
        assert_eq!(a.saml_user.id, b.saml_user.id);
        assert_eq!(db.saml_users(p.app_id).await.expect("list").len(), 1);
    }
}
