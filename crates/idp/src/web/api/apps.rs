//! Enterprise apps: creation from the gallery, Properties, Basic SAML Configuration, claims,
//! assignments, signing certificates and federation metadata.

use super::{
    body, bytes, created, no_content, ok, parse, query, Admin, ApiError, ApiResult, KindQuery, ManageApps,
    PrincipalRef,
};
use crate::apps::{CertFormat, PropertyChanges, SamlChanges};
use crate::error::IdpError;
use crate::model::{AppConfig, GroupsClaim, NameIdFormat, SigningAlgorithm, SigningOption, SourceAttribute};
use crate::service::Idp;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use store::model::{App, Assignment};
use uuid::Uuid;

/// The app resource: its configuration, its "Test this application" URL, the Basic SAML values
/// it still needs (and where they come from) and its template's notes ([`crate::guide`]).
pub(super) fn app_json(idp: &Idp, a: &App, config: &AppConfig) -> Value {
    let guide = crate::guide::for_app(&idp.endpoints(a.tenant_id), a, config);
    json!({"id": a.id, "name": a.name, "template": a.template, "created_at": a.created_at,
        "updated_at": a.updated_at, "config": config, "test_url": guide.test_url,
        "still_needed": guide.still_needed, "notes": guide.notes})
}

pub(super) fn assignment_json(a: &Assignment) -> Value {
    json!({"app_id": a.app_id, "principal_id": a.principal_id, "principal_type": a.principal_kind,
        "role": a.role, "created_at": a.created_at})
}

pub(super) async fn list_apps(State(idp): State<Idp>, who: Admin<ManageApps>) -> ApiResult {
    let v: Vec<Value> = idp
        .store
        .list_apps(who.tenant)
        .await?
        .iter()
        .map(|a| {
            json!({"id": a.id, "name": a.name, "template": a.template, "created_at": a.created_at,
            "updated_at": a.updated_at})
        })
        .collect();
    ok(Value::Array(v))
}

/// Every gallery template as its file describes it: parameters (what each is and who has it),
/// the Basic SAML patterns, claims, roles and the notes for the administrator.
pub(super) async fn templates(_who: Admin<ManageApps>) -> ApiResult {
    let v = serde_json::to_value(crate::gallery::all())
        .map_err(|e| ApiError(IdpError::Internal(e.to_string())))?;
    ok(v)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateApp {
    template: String,
    name: Option<String>,
    #[serde(default)]
    params: BTreeMap<String, String>,
}

pub(super) async fn create_app(State(idp): State<Idp>, who: Admin<ManageApps>, raw: Bytes) -> ApiResult {
    let b: CreateApp = body(&raw)?;
    let app = idp.create_app(who.tenant, &b.template, b.name.as_deref(), &b.params).await?;
    let (app, config) = idp.app(who.tenant, &app.id.to_string()).await?;
    created(format!("/api/v1/apps/{}", app.id), app_json(&idp, &app, &config))
}

pub(super) async fn get_app(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path(id): Path<String>,
) -> ApiResult {
    let (app, config) = idp.app(who.tenant, &id).await?;
    ok(app_json(&idp, &app, &config))
}

/// The app as saved, re-read (the answer to every change).
pub(super) async fn app_answer(idp: &Idp, tenant: Uuid, app: &App) -> ApiResult {
    let (app, config) = idp.app(tenant, &app.id.to_string()).await?;
    ok(app_json(idp, &app, &config))
}

pub(super) async fn patch_app(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let c: PropertyChanges = body(&raw)?;
    let app = idp.set_properties(who.tenant, &id, c).await?;
    app_answer(&idp, who.tenant, &app).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutSaml {
    identifier: Option<String>,
    #[serde(default)]
    reply_urls: Vec<String>,
    sign_on_url: Option<String>,
    relay_state: Option<String>,
    logout_url: Option<String>,
    nameid_format: Option<String>,
    nameid_source: Option<String>,
    signing: Option<String>,
    signing_algorithm: Option<String>,
    notification_email: Option<String>,
}

pub(super) async fn put_saml(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let b: PutSaml = body(&raw)?;
    let changes = SamlChanges {
        identifier: b.identifier,
        reply_urls: b.reply_urls,
        sign_on_url: b.sign_on_url,
        relay_state: b.relay_state,
        logout_url: b.logout_url,
        name_id_format: parse::<NameIdFormat>(b.nameid_format)?,
        name_id_source: parse::<SourceAttribute>(b.nameid_source)?,
        signing: parse::<SigningOption>(b.signing)?,
        signing_algorithm: parse::<SigningAlgorithm>(b.signing_algorithm)?,
        notification_email: b.notification_email,
    };
    let app = idp.set_saml(who.tenant, &id, changes).await?;
    app_answer(&idp, who.tenant, &app).await
}

pub(super) async fn import_sp_metadata(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let xml = std::str::from_utf8(&raw)
        .map_err(|_| ApiError(IdpError::Invalid("the SP metadata must be UTF-8 XML".into())))?;
    let app = idp.import_sp_metadata(who.tenant, &id, xml).await?;
    app_answer(&idp, who.tenant, &app).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetClaim {
    /// A user attribute (`user.mail`), or…
    source: Option<String>,
    /// …a constant value.
    constant: Option<String>,
    namespace: Option<String>,
    transform: Option<crate::model::Transform>,
}

pub(super) async fn set_claim(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path((id, name)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult {
    let b: SetClaim = body(&raw)?;
    let source = match (b.source, b.constant) {
        (Some(_), Some(_)) => {
            return Err(ApiError(IdpError::Invalid("give either source or constant, not both".into())))
        }
        (None, Some(c)) => crate::model::ClaimSource::Constant(c),
        (s, None) => crate::model::ClaimSource::Attribute(
            parse::<SourceAttribute>(s)?
                .ok_or_else(|| ApiError(IdpError::Invalid("a claim needs a source or a constant".into())))?,
        ),
    };
    let app = idp.set_claim(who.tenant, &id, &name, source, b.namespace, b.transform).await?;
    app_answer(&idp, who.tenant, &app).await
}

pub(super) async fn remove_claim(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult {
    idp.remove_claim(who.tenant, &id, &name).await?;
    no_content()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetGroupsClaim {
    setting: String,
}

pub(super) async fn groups_claim(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let b: SetGroupsClaim = body(&raw)?;
    let setting = b.setting.parse::<GroupsClaim>().map_err(|e| ApiError(IdpError::Invalid(e)))?;
    let app = idp.set_groups_claim(who.tenant, &id, setting).await?;
    app_answer(&idp, who.tenant, &app).await
}

pub(super) async fn list_assignments(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path(id): Path<String>,
) -> ApiResult {
    let (app, _) = idp.app(who.tenant, &id).await?;
    ok(Value::Array(idp.store.assignments(app.id).await?.iter().map(assignment_json).collect()))
}

pub(super) async fn assign(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path(id): Path<String>,
    raw: Bytes,
) -> ApiResult {
    let b: PrincipalRef = body(&raw)?;
    let (target, kind) = b.target()?;
    let a = idp.assign(who.tenant, &id, target, kind, b.role.as_deref()).await?;
    created(format!("/api/v1/apps/{}/assignments", a.app_id), assignment_json(&a))
}

pub(super) async fn app_metadata(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path(id): Path<String>,
) -> ApiResult {
    bytes("application/samlmetadata+xml", idp.app_metadata(who.tenant, &id).await?.into_bytes())
}

pub(super) async fn list_certs(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path(id): Path<String>,
) -> ApiResult {
    let v: Vec<Value> = idp
        .list_certs(who.tenant, &id)
        .await?
        .iter()
        .map(|c| {
            json!({"id": c.id, "active": c.active, "thumbprint": c.thumbprint,
                "sha256_thumbprint": c.sha256_thumbprint, "subject": c.subject,
                "not_before": c.not_before.unix_timestamp(), "not_after": c.not_after.unix_timestamp(),
                "warning": c.warning})
        })
        .collect();
    ok(Value::Array(v))
}

pub(super) async fn new_cert(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path(id): Path<String>,
) -> ApiResult {
    let (app, _) = idp.app(who.tenant, &id).await?;
    let cert = idp.create_cert(who.tenant, &id).await?;
    created(format!("/api/v1/apps/{}/certs/{cert}", app.id), json!({"id": cert, "active": false}))
}

#[derive(Deserialize)]
struct CertQuery {
    format: Option<String>,
}

pub(super) async fn download_cert(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path((id, cert)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let q: CertQuery = query(&uri)?;
    let (format, content_type) = match q.format.as_deref().unwrap_or("pem") {
        "pem" => (CertFormat::Pem, "application/x-pem-file"),
        "base64" => (CertFormat::Base64, "text/plain; charset=utf-8"),
        "der" => (CertFormat::Der, "application/pkix-cert"),
        other => {
            return Err(ApiError(IdpError::Invalid(format!(
                "unknown certificate format {other:?}; use pem, base64 or der"
            ))))
        }
    };
    let cert_ref = (cert != "active").then_some(cert.as_str());
    bytes(content_type, idp.download_cert(who.tenant, &id, cert_ref, format).await?)
}

pub(super) async fn activate_cert(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path((id, cert)): Path<(String, String)>,
) -> ApiResult {
    idp.activate_cert(who.tenant, &id, &cert).await?;
    no_content()
}

pub(super) async fn delete_app(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path(id): Path<String>,
) -> ApiResult {
    idp.delete_app(who.tenant, &id).await?;
    no_content()
}

pub(super) async fn unassign(
    State(idp): State<Idp>,
    who: Admin<ManageApps>,
    Path((id, target)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult {
    let kind = query::<KindQuery>(&uri)?.kind()?;
    idp.unassign(who.tenant, &id, &target, kind).await?;
    no_content()
}
