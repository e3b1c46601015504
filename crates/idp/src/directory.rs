//! Users and security groups: the rules the directory enforces on top of the
//! store (valid UPNs, hashed passwords, lookups by UPN or object ID).

use crate::error::{IdpError, Result};
use crate::service::Idp;
use store::model::{Group, PrincipalKind, User};
use uuid::Uuid;
use zeroize::Zeroizing;

/// What `user create` takes.
#[derive(Debug, Default, Clone)]
pub struct NewUser {
    pub upn: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub display_name: Option<String>,
    pub department: Option<String>,
    pub job_title: Option<String>,
    pub employee_id: Option<String>,
}

/// What `user set` changes (`None` = keep).
#[derive(Debug, Default, Clone)]
pub struct UserChanges {
    pub upn: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub display_name: Option<String>,
    pub department: Option<String>,
    pub job_title: Option<String>,
    pub employee_id: Option<String>,
    pub enabled: Option<bool>,
}

/// The associated data a user's TOTP secret is sealed with.
pub(crate) fn totp_aad(user: Uuid) -> String {
    format!("user/{user}/totp")
}

/// The `otpauth://` URI of a TOTP secret for an authenticator app (its QR code or link).
pub(crate) fn otpauth_uri(upn: &str, secret: &[u8]) -> Zeroizing<String> {
    let b32 = Zeroizing::new(data_encoding::BASE32_NOPAD.encode(secret));
    let issuer = "Portcullis";
    Zeroizing::new(format!(
        "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits=6&period=30",
        upn.replace(':', "%3A"),
        b32.as_str()
    ))
}

/// A UPN is `name@domain`, without spaces or control characters.
pub fn validate_upn(upn: &str) -> Result<()> {
    let bad = |why: &str| IdpError::Invalid(format!("user principal name {upn:?} {why}; use name@domain"));
    let (name, domain) = upn.split_once('@').ok_or_else(|| bad("has no @"))?;
    if name.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || !domain.contains('.') && domain != "localhost"
    {
        return Err(bad("is not of the form name@domain"));
    }
    if upn.chars().any(|c| c.is_whitespace() || c.is_control()) || upn.len() > 256 {
        return Err(bad("contains spaces or control characters, or is too long"));
    }
    Ok(())
}

fn validate_mail(mail: &str) -> Result<()> {
    validate_upn(mail).map_err(|_| IdpError::Invalid(format!("mail {mail:?} is not an e-mail address")))
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl Idp {
    /// Creates a user; `password` (if any) is hashed with argon2id.
    pub async fn create_user(
        &self,
        tenant: Uuid,
        new: NewUser,
        password: Option<Zeroizing<String>>,
    ) -> Result<User> {
        let upn = new.upn.trim().to_string();
        validate_upn(&upn)?;
        let mail = non_empty(new.mail);
        if let Some(m) = &mail {
            validate_mail(m)?;
        }
        let given_name = non_empty(new.given_name);
        let surname = non_empty(new.surname);
        let display_name = non_empty(new.display_name).unwrap_or_else(|| match (&given_name, &surname) {
            (Some(g), Some(s)) => format!("{g} {s}"),
            (Some(g), None) => g.clone(),
            (None, Some(s)) => s.clone(),
            (None, None) => upn.clone(),
        });
        let password_hash = match password {
            Some(p) if !p.is_empty() => Some(web::password::hash(&p)?),
            _ => None,
        };
        let t = self.unix_now();
        let user = User {
            id: Uuid::new_v4(),
            tenant_id: tenant,
            upn,
            display_name,
            given_name,
            surname,
            mail,
            department: non_empty(new.department),
            job_title: non_empty(new.job_title),
            employee_id: non_empty(new.employee_id),
            enabled: true,
            password_hash,
            totp_secret_sealed: None,
            created_at: t,
            updated_at: t,
        };
        self.store.create_user(&user).await?;
        Ok(user)
    }

    /// Finds a user by object ID or by UPN.
    pub async fn find_user(&self, tenant: Uuid, upn_or_id: &str) -> Result<User> {
        let found = match Uuid::parse_str(upn_or_id.trim()) {
            Ok(id) => self.store.get_user(tenant, id).await?,
            Err(_) => self.store.find_user_by_upn(tenant, upn_or_id.trim()).await?,
        };
        found.ok_or_else(|| IdpError::NotFound { what: format!("user {upn_or_id:?}") })
    }

    /// Changes a user's attributes. The object ID never changes, so neither do
    /// persistent NameIDs.
    pub async fn set_user(&self, tenant: Uuid, upn_or_id: &str, c: UserChanges) -> Result<User> {
        let mut u = self.find_user(tenant, upn_or_id).await?;
        if c.enabled == Some(false) {
            self.refuse_last_global_admin(tenant, &u, "disabled").await?;
        }
        if let Some(upn) = c.upn {
            let upn = upn.trim().to_string();
            validate_upn(&upn)?;
            u.upn = upn;
        }
        if let Some(mail) = c.mail {
            let mail = non_empty(Some(mail));
            if let Some(m) = &mail {
                validate_mail(m)?;
            }
            u.mail = mail;
        }
        let set = |field: &mut Option<String>, v: Option<String>| {
            if let Some(v) = v {
                *field = non_empty(Some(v));
            }
        };
        set(&mut u.given_name, c.given_name);
        set(&mut u.surname, c.surname);
        set(&mut u.department, c.department);
        set(&mut u.job_title, c.job_title);
        set(&mut u.employee_id, c.employee_id);
        if let Some(d) = non_empty(c.display_name) {
            u.display_name = d;
        }
        if let Some(e) = c.enabled {
            u.enabled = e;
        }
        u.updated_at = self.unix_now();
        self.store.update_user(&u).await?;
        if !u.enabled {
            // A disabled account loses its sessions at once.
            self.store.delete_sessions_of_user(tenant, u.id).await?;
        }
        Ok(u)
    }

    /// Sets (or clears) a user's password.
    pub async fn set_password(
        &self,
        tenant: Uuid,
        upn_or_id: &str,
        password: Option<Zeroizing<String>>,
    ) -> Result<()> {
        let mut u = self.find_user(tenant, upn_or_id).await?;
        u.password_hash = match password {
            Some(p) if !p.is_empty() => Some(web::password::hash(&p)?),
            _ => None,
        };
        u.updated_at = self.unix_now();
        self.store.update_user(&u).await?;
        Ok(())
    }

    /// Turns on TOTP for a user with a new random secret (sealed at rest);
    /// returns the `otpauth://` URI to put in an authenticator app.
    pub async fn enroll_totp(&self, tenant: Uuid, upn_or_id: &str) -> Result<Zeroizing<String>> {
        let mut u = self.find_user(tenant, upn_or_id).await?;
        let secret = web::token::random_bytes::<20>()?;
        u.totp_secret_sealed = Some(self.sealer.seal(totp_aad(u.id).as_bytes(), &secret[..])?);
        u.updated_at = self.unix_now();
        self.store.update_user(&u).await?;
        Ok(otpauth_uri(&u.upn, &secret[..]))
    }

    /// Turns TOTP off for a user.
    pub async fn remove_totp(&self, tenant: Uuid, upn_or_id: &str) -> Result<()> {
        let mut u = self.find_user(tenant, upn_or_id).await?;
        u.totp_secret_sealed = None;
        u.updated_at = self.unix_now();
        self.store.update_user(&u).await?;
        Ok(())
    }

    /// The user's TOTP secret, unsealed, if TOTP is on.
    pub(crate) fn totp_secret(&self, user: &User) -> Result<Option<Zeroizing<Vec<u8>>>> {
        match &user.totp_secret_sealed {
            Some(sealed) => Ok(Some(self.sealer.open(totp_aad(user.id).as_bytes(), sealed)?)),
            None => Ok(None),
        }
    }

    /// Creates a security group.
    pub async fn create_group(&self, tenant: Uuid, name: &str, description: Option<String>) -> Result<Group> {
        let name = name.trim();
        if name.is_empty() || name.len() > 256 {
            return Err(IdpError::Invalid("a group name must have 1 to 256 characters".into()));
        }
        let g = Group {
            id: Uuid::new_v4(),
            tenant_id: tenant,
            name: name.to_string(),
            description: non_empty(description),
            security_enabled: true,
            created_at: self.unix_now(),
        };
        self.store.create_group(&g).await?;
        Ok(g)
    }

    /// Finds a group by object ID or name.
    pub async fn find_group(&self, tenant: Uuid, name_or_id: &str) -> Result<Group> {
        let found = match Uuid::parse_str(name_or_id.trim()) {
            Ok(id) => self.store.get_group(tenant, id).await?,
            Err(_) => self.store.find_group_by_name(tenant, name_or_id.trim()).await?,
        };
        found.ok_or_else(|| IdpError::NotFound { what: format!("group {name_or_id:?}") })
    }

    /// Adds a user (by UPN or ID) or a group (by ID or name) to a group.
    pub async fn add_group_member(
        &self,
        tenant: Uuid,
        group: &str,
        member: &str,
        kind: PrincipalKind,
    ) -> Result<()> {
        let g = self.find_group(tenant, group).await?;
        let member_id = match kind {
            PrincipalKind::User => self.find_user(tenant, member).await?.id,
            PrincipalKind::Group => self.find_group(tenant, member).await?.id,
        };
        self.store.add_member(g.id, member_id, kind).await?;
        Ok(())
    }

    /// Deletes a user (UPN or object ID) with their memberships, assignments, roles, API tokens
    /// and sessions (the sessions are ended first, explicitly, so no sign-in outlives the
    /// account). Sign-in records stay. Refuses to delete the last enabled Global Administrator,
    /// as [`Idp::revoke_role`] refuses to take the role from them.
    pub async fn delete_user(&self, tenant: Uuid, upn_or_id: &str) -> Result<User> {
        let u = self.find_user(tenant, upn_or_id).await?;
        self.refuse_last_global_admin(tenant, &u, "deleted").await?;
        self.store.delete_sessions_of_user(tenant, u.id).await?;
        self.store.delete_user(tenant, u.id).await?;
        Ok(u)
    }

    /// Conflict when `u` is the tenant's last enabled Global Administrator: the directory always
    /// keeps one (disabling or deleting them would lock every administrator out).
    async fn refuse_last_global_admin(&self, tenant: Uuid, u: &User, doing: &str) -> Result<()> {
        let global = crate::roles::DirectoryRole::GlobalAdministrator;
        if !u.enabled || !self.roles_of(tenant, u.id).await?.contains(&global) {
            return Ok(());
        }
        for g in self.store.list_role_grants(tenant).await? {
            if g.role == global.as_str() && g.user_id != u.id {
                if let Some(other) = self.store.get_user(tenant, g.user_id).await? {
                    if other.enabled {
                        return Ok(());
                    }
                }
            }
        }
        Err(IdpError::Conflict(format!(
            "{} is the last enabled Global Administrator and cannot be {doing}; grant the role to \
             someone else first",
            u.upn
        )))
    }

    /// Deletes a group (object ID or name) with its memberships (as container and as member) and
    /// its app assignments; its members lose what they had only through it.
    pub async fn delete_group(&self, tenant: Uuid, name_or_id: &str) -> Result<Group> {
        let g = self.find_group(tenant, name_or_id).await?;
        self.store.delete_group(tenant, g.id).await?;
        Ok(g)
    }

    /// Removes a user (UPN or ID) or a nested group (ID or name) from a group; NotFound when it
    /// was not a direct member.
    pub async fn remove_group_member(
        &self,
        tenant: Uuid,
        group: &str,
        member: &str,
        kind: PrincipalKind,
    ) -> Result<()> {
        let g = self.find_group(tenant, group).await?;
        let (member_id, label) = match kind {
            PrincipalKind::User => {
                let u = self.find_user(tenant, member).await?;
                (u.id, format!("user {}", u.upn))
            }
            PrincipalKind::Group => {
                let m = self.find_group(tenant, member).await?;
                (m.id, format!("group {}", m.name))
            }
        };
        if !self.store.remove_member(g.id, member_id, kind).await? {
            return Err(IdpError::NotFound {
                what: format!("{label} as a direct member of group {}", g.name),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upn_rules() {
        for ok in ["alice@contoso.com", "a.b+c@sub.example.org", "admin@localhost"] {
            validate_upn(ok).unwrap();
        }
        for bad in ["alice", "@contoso.com", "alice@", "al ice@contoso.com", "a@b@c.com", "alice@contoso"] {
            assert_eq!(validate_upn(bad).unwrap_err().code(), "PCS90001", "{bad}");
        }
    }
}
