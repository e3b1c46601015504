//! The unique user identifier (NameID) of an assertion.
//!
//! - persistent: opaque and stable per (user, app): it never changes when the UPN or
//!   any other attribute changes, and values for two apps cannot be linked. It is
//!   `base64url-nopad(HMAC-SHA256(tenant_secret, "persistent-nameid|" + app_id + "|" + user_id))`
//!   with both IDs in lower-case hyphenated form: the whole 32-byte MAC, so 43
//!   characters. Rotating the tenant secret changes every persistent NameID.
//! - emailAddress: the source attribute's value, which must look like an e-mail address.
//! - unspecified: the source attribute's value.
//! - transient: 32 random bytes, base64url without padding, new at every call.
//!
//! A NameIDPolicy format we support wins over the configured one, as the large
//! directories do; `unspecified` in the request means "no preference" and keeps the
//! configured format (the same rule as [`crate::sso::name_id_format`]).

use crate::claims::{source_value, ClaimsError};
use crate::model::{NameIdFormat, NameIdSetting, SourceAttribute};
use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use store::model::User;
use uuid::Uuid;

/// The shortest tenant secret accepted for persistent NameIDs.
pub const MIN_TENANT_SECRET_LEN: usize = 16;

/// The NameID format and value for this user and app.
pub fn name_id_value(
    setting: &NameIdSetting,
    requested: Option<NameIdFormat>,
    user: &User,
    app_id: Uuid,
    tenant_secret: &[u8],
) -> Result<(NameIdFormat, String), ClaimsError> {
    let format = match requested {
        Some(NameIdFormat::Unspecified) | None => setting.format,
        Some(f) => f,
    };
    let value = match format {
        NameIdFormat::Persistent => persistent_id(tenant_secret, app_id, user.id)?,
        NameIdFormat::Transient => transient_id()?,
        NameIdFormat::Email => {
            let value = attribute_value(setting.source, user)?;
            if !looks_like_email(&value) {
                return Err(ClaimsError::NameIdNotEmail {
                    user: user.upn.clone(),
                    attribute: setting.source.to_string(),
                    value,
                });
            }
            value
        }
        NameIdFormat::Unspecified => attribute_value(setting.source, user)?,
    };
    Ok((format, value))
}

fn attribute_value(source: SourceAttribute, user: &User) -> Result<String, ClaimsError> {
    if source == SourceAttribute::Groups {
        return Err(ClaimsError::NameIdUnavailable {
            user: user.upn.clone(),
            attribute: source.to_string(),
            reason: "user.groups is multi-valued and cannot be a name identifier".into(),
        });
    }
    source_value(source, user).ok_or_else(|| ClaimsError::NameIdUnavailable {
        user: user.upn.clone(),
        attribute: source.to_string(),
        reason: "the attribute is empty".into(),
    })
}

/// The persistent NameID of a user for an app (see the module docs).
pub fn persistent_id(tenant_secret: &[u8], app_id: Uuid, user_id: Uuid) -> Result<String, ClaimsError> {
    if tenant_secret.len() < MIN_TENANT_SECRET_LEN {
        return Err(ClaimsError::Crypto(format!(
            "the tenant secret is {} bytes; at least {MIN_TENANT_SECRET_LEN} are needed",
            tenant_secret.len()
        )));
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, tenant_secret);
    let message = format!("persistent-nameid|{}|{}", app_id.hyphenated(), user_id.hyphenated());
    let tag = hmac::sign(&key, message.as_bytes());
    Ok(URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// A fresh transient NameID: 32 random bytes, base64url without padding.
pub fn transient_id() -> Result<String, ClaimsError> {
    web::token::random_token().map_err(|_| ClaimsError::Crypto("the system random generator failed".into()))
}

/// `local@domain`: one `@`, both sides non-empty, no blanks, a domain that neither
/// starts nor ends with a dot.
pub fn looks_like_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}
