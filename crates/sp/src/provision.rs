//! Just-in-time provisioning. The stable key of a SAML user is (provider,
//! NameID): the first successful login creates the user (or links a
//! pre-provisioned local user whose e-mail matches, instead of duplicating it),
//! later logins update the attributes that changed. A SAML user exists only after
//! a first successful login, since nothing else creates one. With a waiting-room
//! provider, a user created here waits (no permissions, no session) until an
//! access request for them is approved.

use crate::policy::permissions_for;
use crate::web::error::{SiteError, SiteResult};
use crate::Login;
use store::sp::{LocalUser, Provider, SamlUser};
use store::Store;
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

/// Reads the profile; the username falls back to the NameID, the others to empty.
pub fn profile(provider: &Provider, login: &Login) -> SiteResult<Profile> {
    let names = &provider.attributes;
    let first = |name: &str| login.attribute(name).first().map(|v| v.trim().to_string()).unwrap_or_default();
    let username = match first(&names.username) {
        u if u.is_empty() => login.name_id.clone(),
        u => u,
    };
    if username.is_empty() {
        return Err(SiteError::AttributeMissing(names.username.clone()));
    }
    let mut groups: Vec<String> = login
        .attribute(&names.groups)
        .iter()
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty() && !g.contains(['\n', '\r']))
        .collect();
    groups.sort();
    groups.dedup();
    let clean = |s: String| s.replace(['\n', '\r'], " ");
    Ok(Profile {
        username: clean(username),
        first_name: clean(first(&names.first_name)),
        last_name: clean(first(&names.last_name)),
        email: clean(first(&names.email)),
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
/// its groups and the permissions recomputed from them.
pub async fn provision(
    store: &Store,
    provider: &Provider,
    login: &Login,
    now: i64,
) -> SiteResult<Provisioned> {
    let profile = profile(provider, login)?;
    if let Some(mut saml_user) = store.sp_saml_user(provider.id, &login.name_id).await? {
        let permissions = if saml_user.waiting {
            Vec::new()
        } else {
            permissions_for(store, provider, &profile.groups, saml_user.granted_policy_id).await?
        };
        let mut local = store.sp_local_user(saml_user.local_user_id).await?;
        if apply(&mut local, &profile) {
            store.sp_update_local_user(&local).await?;
        }
        store.sp_record_saml_login(saml_user.id, &profile.groups, &permissions, now).await?;
        saml_user.groups = profile.groups;
        saml_user.permissions = permissions;
        saml_user.last_login_at = now;
        return Ok(Provisioned { saml_user, local_user: local, first_login: false, linked_existing: false });
    }
    let candidate = if profile.email.is_empty() {
        None
    } else {
        store.sp_unlinked_local_users_by_email(provider.app_id, &profile.email).await?.into_iter().next()
    };
    let (local, linked_existing) = match candidate {
        Some(mut local) => {
            if apply(&mut local, &profile) {
                store.sp_update_local_user(&local).await?;
            }
            (local, true)
        }
        None => {
            let local = LocalUser {
                id: Uuid::new_v4(),
                app_id: provider.app_id,
                username: profile.username.clone(),
                first_name: profile.first_name.clone(),
                last_name: profile.last_name.clone(),
                email: profile.email.clone(),
                created_at: now,
            };
            store.sp_create_local_user(&local).await?;
            (local, false)
        }
    };
    // The waiting room holds users this login creates; a pre-provisioned user someone already
    // let into the application is linked and let in.
    let waiting = provider.waiting_room && !linked_existing;
    let permissions =
        if waiting { Vec::new() } else { permissions_for(store, provider, &profile.groups, None).await? };
    let saml_user = SamlUser {
        id: Uuid::new_v4(),
        provider_id: provider.id,
        name_id: login.name_id.clone(),
        local_user_id: local.id,
        groups: profile.groups,
        permissions,
        waiting,
        granted_policy_id: None,
        granted_sites: Vec::new(),
        created_at: now,
        last_login_at: now,
    };
    store.sp_create_saml_user(&saml_user).await?;
    tracing::info!(provider = %provider.name, user = %local.username, linked_existing, "SAML user created at first login");
    Ok(Provisioned { saml_user, local_user: local, first_login: true, linked_existing })
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
