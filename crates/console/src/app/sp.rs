//! The console as a SAML service provider of its own (the SP toolkit's application
//! [`SP_APP_NAME`], base URL `{base}/console`): representatives sign in through the IdP, whose
//! group object IDs the SP maps to group policies; the console's `policy set` table turns those
//! policy names into jump groups. The SP's endpoints are `{base}/console/saml/…`.

use store::seal::Sealer;
use time::OffsetDateTime;
use uuid::Uuid;

use sp::db::{Provider, SpApp, SpDb};
use sp::providers::{create_provider, idp_facts, refresh_provider, MetadataSource, ProviderSettings};
use sp::web::SiteError;

use crate::ConsoleError;

/// The SP toolkit application that is the console's sign-in.
pub const SP_APP_NAME: &str = "Portcullis Console";

/// An SP failure as a console error (its own code and sentence kept in the text).
pub(crate) fn sp_failed(e: SiteError) -> ConsoleError {
    match e {
        SiteError::Store(e) => e.into(),
        other => ConsoleError::InvalidInput { reason: format!("{} ({})", other, other.code()) },
    }
}

/// The console's public URL: `{base}/console` for the service's base URL `base`.
pub fn console_url(base_url: &str) -> String {
    format!("{}/console", base_url.trim_end_matches('/'))
}

/// The console's SP application, created on first use with sealed signing and encryption keys;
/// its base URL follows `base_url` (the service's, without `/console`).
pub async fn console_sp_app(db: &SpDb, sealer: &Sealer, base_url: &str) -> Result<SpApp, ConsoleError> {
    let base = console_url(base_url);
    let now = OffsetDateTime::now_utc();
    let mut app = match db.app_by_name(SP_APP_NAME).await? {
        Some(mut app) => {
            if app.base_url != base {
                app.base_url = base;
                db.update_app(&app).await?;
            }
            app
        }
        None => {
            let app = SpApp {
                id: Uuid::new_v4(),
                name: SP_APP_NAME.into(),
                base_url: base,
                entity_id: None,
                acs_url: None,
                signing_key_sealed: None,
                signing_cert: None,
                encryption_key_sealed: None,
                encryption_cert: None,
                created_at: now.unix_timestamp(),
            };
            db.create_app(&app).await?;
            tracing::info!(app = %app.id, base_url = %app.base_url, "the console's SAML service provider created");
            app
        }
    };
    sp::web::ensure_keys(db, &mut app, sealer, now).await.map_err(sp_failed)?;
    Ok(app)
}

/// What `import_idp_metadata` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    Created(Provider),
    /// The IdP was known (same entity ID): its URLs and certificates were refreshed.
    Refreshed {
        provider: Provider,
        certificates_changed: bool,
    },
}

/// Trusts the IdP described by `xml` for the console's sign-in: a new provider named `name`
/// (SP-initiated over HTTP-Redirect, signed responses or assertions), or the known one refreshed.
/// `default_policy`, when given, is an SP group policy every representative of this IdP gets.
pub async fn import_idp_metadata(
    db: &SpDb,
    app: &SpApp,
    xml: &str,
    name: &str,
    default_policy: Option<&str>,
) -> Result<Imported, ConsoleError> {
    let facts = idp_facts(xml, None, sp::db::SsoBinding::Redirect).map_err(sp_failed)?;
    let default_policy_id = match default_policy {
        None => None,
        Some(p) => Some(ensure_policy(db, app.id, p).await?),
    };
    let source = MetadataSource::Text(xml.to_owned());
    let imported = match db.provider_by_entity_id(app.id, &facts.entity_id).await? {
        Some(existing) => {
            let report = refresh_provider(db, existing.id, Some(&source)).await.map_err(sp_failed)?;
            let mut provider = db.provider(existing.id).await?;
            if default_policy_id.is_some() {
                provider.default_policy_id = default_policy_id;
                db.update_provider(&provider).await?;
            }
            Imported::Refreshed { provider, certificates_changed: report.certificates_changed }
        }
        None => {
            let mut settings = ProviderSettings::new(name);
            settings.default_policy_id = default_policy_id;
            let now = OffsetDateTime::now_utc().unix_timestamp();
            Imported::Created(create_provider(db, app.id, &source, settings, now).await.map_err(sp_failed)?)
        }
    };
    Ok(imported)
}

/// The SP group policy `name` of `app` (created without permissions when missing: the console
/// reads only its name).
pub async fn ensure_policy(db: &SpDb, app: Uuid, name: &str) -> Result<Uuid, ConsoleError> {
    let name = crate::db::check_name("policy", name)?;
    if let Some(p) = db.policy_by_name(app, name).await? {
        return Ok(p.id);
    }
    let policy =
        sp::db::Policy { id: Uuid::new_v4(), app_id: app, name: name.into(), permissions: Vec::new() };
    db.create_policy(&policy).await?;
    Ok(policy.id)
}

/// Maps IdP group `object_id` to SP group policy `policy` (created when missing).
pub async fn map_group(db: &SpDb, app: Uuid, object_id: &str, policy: &str) -> Result<(), ConsoleError> {
    let object_id = crate::db::check_name("group object ID", object_id)?;
    let policy = ensure_policy(db, app, policy).await?;
    db.put_group(app, object_id, object_id).await?;
    db.map_group(app, object_id, policy).await?;
    Ok(())
}
