//! `portcullis idp …`: the directory and enterprise apps from the command line.
//! Works on the data directory whether or not the server runs (SQLite in WAL
//! mode; the server reads the store on every request).

use crate::args::idp::*;
use anyhow::{bail, Context, Result};
use idp::apps::{CertFormat, SamlChanges};
use idp::directory::{NewUser, UserChanges};
use idp::model::{GroupsClaim, NameIdFormat, SigningOption, SourceAttribute};
use idp::service::Idp;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use store::model::PrincipalKind;
use zeroize::Zeroizing;

fn read_password() -> Result<Zeroizing<String>> {
    let mut s = Zeroizing::new(String::new());
    std::io::stdin().read_to_string(&mut s).context("reading the password from standard input")?;
    let p = Zeroizing::new(s.trim_end_matches(['\r', '\n']).to_string());
    if p.is_empty() {
        bail!("the password on standard input is empty");
    }
    Ok(p)
}

/// The base URL `up` recorded (so entity IDs match the running server).
pub async fn open(data: &Path, database_url: Option<&str>) -> Result<Idp> {
    let base = crate::up::recorded_base_url(data);
    Ok(Idp::open(data, database_url, &base).await?)
}

pub fn run(data: &Path, database_url: Option<&str>, cmd: IdpCommand) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async move {
        let idp = open(data, database_url).await?;
        let tenant = idp.ensure_default_tenant().await?.id;
        match cmd {
            IdpCommand::User(c) => user(&idp, tenant, c).await,
            IdpCommand::Group(c) => group(&idp, tenant, c).await,
            IdpCommand::App(c) => app(&idp, tenant, c).await,
            IdpCommand::Signins(a) => signins(&idp, tenant, a).await,
            IdpCommand::Notify(a) => notify(&idp, a).await,
            IdpCommand::Outbox(a) => outbox(&idp, a).await,
            IdpCommand::Role(c) => role(&idp, tenant, c).await,
            IdpCommand::Token(c) => token(&idp, tenant, c).await,
        }?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn user(idp: &Idp, tenant: uuid::Uuid, c: UserCommand) -> Result<()> {
    match c {
        UserCommand::Create {
            upn,
            given_name,
            surname,
            mail,
            display_name,
            department,
            job_title,
            employee_id,
            password_stdin,
        } => {
            let password = if password_stdin { Some(read_password()?) } else { None };
            let new = NewUser {
                upn,
                given_name: Some(given_name),
                surname: Some(surname),
                mail,
                display_name,
                department,
                job_title,
                employee_id,
            };
            let u = idp.create_user(tenant, new, password).await?;
            println!("{}", u.id);
        }
        UserCommand::Set {
            user,
            upn,
            mail,
            given_name,
            surname,
            display_name,
            department,
            job_title,
            employee_id,
            enabled,
            password_stdin,
        } => {
            let changes = UserChanges {
                upn,
                given_name,
                surname,
                mail,
                display_name,
                department,
                job_title,
                employee_id,
                enabled,
            };
            let u = idp.set_user(tenant, &user, changes).await?;
            if password_stdin {
                idp.set_password(tenant, &u.id.to_string(), Some(read_password()?)).await?;
            }
            println!("{}", u.id);
        }
        UserCommand::TotpEnroll { user } => println!("{}", idp.enroll_totp(tenant, &user).await?.as_str()),
        UserCommand::TotpRemove { user } => idp.remove_totp(tenant, &user).await?,
        UserCommand::Delete { user } => {
            let u = idp.delete_user(tenant, &user).await?;
            println!("user {} ({}) deleted", u.upn, u.id);
        }
        UserCommand::List { json } => {
            let users = idp.store.list_users(tenant).await?;
            if json {
                let v: Vec<_> = users
                    .iter()
                    .map(|u| json!({"id": u.id, "upn": u.upn, "display_name": u.display_name, "given_name": u.given_name,
                        "surname": u.surname, "mail": u.mail, "enabled": u.enabled}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for u in users {
                    println!(
                        "{}  {}  {}{}",
                        u.id,
                        u.upn,
                        u.display_name,
                        if u.enabled { "" } else { "  (disabled)" }
                    );
                }
            }
        }
    }
    Ok(())
}

async fn group(idp: &Idp, tenant: uuid::Uuid, c: GroupCommand) -> Result<()> {
    match c {
        GroupCommand::Create { name, description } => {
            println!("{}", idp.create_group(tenant, &name, description).await?.id)
        }
        GroupCommand::AddMember { group, user, member_group } => match (user, member_group) {
            (Some(u), _) => idp.add_group_member(tenant, &group, &u, PrincipalKind::User).await?,
            (None, Some(g)) => idp.add_group_member(tenant, &group, &g, PrincipalKind::Group).await?,
            (None, None) => bail!("give --user or --member-group"),
        },
        GroupCommand::RemoveMember { group, user, member_group } => match (user, member_group) {
            (Some(u), _) => idp.remove_group_member(tenant, &group, &u, PrincipalKind::User).await?,
            (None, Some(g)) => idp.remove_group_member(tenant, &group, &g, PrincipalKind::Group).await?,
            (None, None) => bail!("give --user or --member-group"),
        },
        GroupCommand::Delete { group } => {
            let g = idp.delete_group(tenant, &group).await?;
            println!("group {} ({}) deleted", g.name, g.id);
        }
        GroupCommand::List { json } => {
            let groups = idp.store.list_groups(tenant).await?;
            if json {
                let v: Vec<_> = groups
                    .iter()
                    .map(|g| json!({"id": g.id, "name": g.name, "description": g.description}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for g in groups {
                    println!("{}  {}", g.id, g.name);
                }
            }
        }
    }
    Ok(())
}

fn parse_params(params: &[String]) -> Result<BTreeMap<String, String>> {
    params
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .with_context(|| format!("--param {p:?} must be KEY=VALUE, e.g. --param HOSTNAME=acme"))
        })
        .collect()
}

async fn app(idp: &Idp, tenant: uuid::Uuid, c: AppCommand) -> Result<()> {
    match c {
        AppCommand::Create { template, name, params } => {
            let app = idp.create_app(tenant, &template, name.as_deref(), &parse_params(&params)?).await?;
            println!("{}", app.id);
            // The ID alone on standard output (scripts read it); the guidance for people on
            // standard error.
            let (app, config) = idp.app(tenant, &app.id.to_string()).await?;
            let guide = idp::guide::for_app(&idp.endpoints(tenant), &app, &config);
            eprintln!("Created app {:?} ({}) from template {}.", app.name, app.id, app.template);
            eprint!("{}", crate::idp_text::guide(&app, &guide));
        }
        AppCommand::Templates { details: Some(name), json } => {
            let t = idp::gallery::find(&name).map_err(idp::error::IdpError::from)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&t)?);
            } else {
                print!("{}", crate::idp_text::template(&t));
            }
        }
        AppCommand::Templates { details: None, json } => {
            let all = idp::gallery::all();
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                for t in all {
                    println!("{:<28} {}", t.name, t.display_name);
                }
                println!(
                    "Details of one (parameters, values, notes): portcullis idp app templates --details NAME"
                );
            }
        }
        AppCommand::List { json } => {
            let apps = idp.store.list_apps(tenant).await?;
            if json {
                let v: Vec<_> = apps
                    .iter()
                    .map(|a| json!({"id": a.id, "name": a.name, "template": a.template}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for a in apps {
                    println!("{}  {}  ({})", a.id, a.name, a.template);
                }
            }
        }
        AppCommand::Show { app } => {
            let (a, config) = idp.app(tenant, &app).await?;
            let guide = idp::guide::for_app(&idp.endpoints(tenant), &a, &config);
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"id": a.id, "name": a.name, "template": a.template,
                    "config": config, "test_url": guide.test_url, "still_needed": guide.still_needed,
                    "notes": guide.notes}))?
            );
        }
        AppCommand::Set {
            app,
            name,
            enabled,
            assignment_required,
            visible,
            require_signed_requests,
            allow_sha1_requests,
        } => {
            let c = idp::apps::PropertyChanges {
                name,
                enabled,
                assignment_required,
                visible,
                require_signed_requests,
                allow_sha1_requests,
            };
            idp.set_properties(tenant, &app, c).await?;
        }
        AppCommand::SetSaml(a) => {
            let changes = SamlChanges {
                identifier: a.identifier,
                reply_urls: a.reply_urls,
                sign_on_url: a.sign_on_url,
                relay_state: a.relay_state,
                logout_url: a.logout_url,
                name_id_format: a.nameid_format.map(|f| match f {
                    NameIdFormatArg::Persistent => NameIdFormat::Persistent,
                    NameIdFormatArg::Email => NameIdFormat::Email,
                    NameIdFormatArg::Unspecified => NameIdFormat::Unspecified,
                    NameIdFormatArg::Transient => NameIdFormat::Transient,
                }),
                name_id_source: a
                    .nameid_source
                    .as_deref()
                    .map(str::parse::<SourceAttribute>)
                    .transpose()
                    .map_err(anyhow::Error::msg)?,
                signing: a.signing.map(|s| match s {
                    SigningArg::Assertion => SigningOption::Assertion,
                    SigningArg::Response => SigningOption::Response,
                    SigningArg::Both => SigningOption::Both,
                }),
                signing_algorithm: a
                    .signing_algorithm
                    .as_deref()
                    .map(str::parse::<idp::model::SigningAlgorithm>)
                    .transpose()
                    .map_err(anyhow::Error::msg)?,
                notification_email: a.notification_email,
            };
            idp.set_saml(tenant, &a.app, changes).await?;
        }
        AppCommand::ImportSpMetadata { app, file } => {
            let xml =
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let (_, before) = idp.app(tenant, &app).await?;
            let a = idp.import_sp_metadata(tenant, &app, &xml).await?;
            let (a, after) = idp.app(tenant, &a.id.to_string()).await?;
            if before.sign_on_url != after.sign_on_url {
                eprintln!(
                    "{}",
                    crate::idp_text::sign_on_url_change(
                        &a,
                        before.sign_on_url.as_deref(),
                        after.sign_on_url.as_deref()
                    )
                );
            }
            let guide = idp::guide::for_app(&idp.endpoints(tenant), &a, &after);
            eprint!("{}", crate::idp_text::still_needed(&a, &guide));
        }
        AppCommand::Claim(ClaimCommand::Set {
            app,
            name,
            source,
            constant,
            namespace,
            transform,
            join_separator,
            join_with,
        }) => {
            let source = match (source, constant) {
                (_, Some(c)) => idp::model::ClaimSource::Constant(c),
                (Some(s), None) => idp::model::ClaimSource::Attribute(
                    s.parse::<SourceAttribute>().map_err(anyhow::Error::msg)?,
                ),
                (None, None) => bail!("give --source user.ATTR or --constant VALUE"),
            };
            let transform = match transform {
                None => None,
                Some(TransformArg::ToLowercase) => Some(idp::model::Transform::ToLowercase),
                Some(TransformArg::ToUppercase) => Some(idp::model::Transform::ToUppercase),
                Some(TransformArg::ExtractMailPrefix) => Some(idp::model::Transform::ExtractMailPrefix),
                Some(TransformArg::Join) => Some(idp::model::Transform::Join {
                    separator: join_separator,
                    other: join_with
                        .as_deref()
                        .unwrap_or_default()
                        .parse::<SourceAttribute>()
                        .map_err(anyhow::Error::msg)?,
                }),
            };
            idp.set_claim(tenant, &app, &name, source, namespace, transform).await?;
        }
        AppCommand::Claim(ClaimCommand::Remove { app, name }) => {
            idp.remove_claim(tenant, &app, &name).await?;
        }
        AppCommand::GroupsClaim { app, setting } => {
            let s = match setting {
                GroupsClaimArg::None => GroupsClaim::None,
                GroupsClaimArg::SecurityGroups => GroupsClaim::SecurityGroups,
                GroupsClaimArg::AllGroups => GroupsClaim::AllGroups,
                GroupsClaimArg::AssignedGroups => GroupsClaim::AssignedGroups,
            };
            let a = idp.set_groups_claim(tenant, &app, s).await?;
            println!("groups claim of {}: {s}", a.name);
        }
        AppCommand::Assign { app, user, group, role } => match (user, group) {
            (Some(u), _) => drop(idp.assign(tenant, &app, &u, PrincipalKind::User, role.as_deref()).await?),
            (None, Some(g)) => {
                drop(idp.assign(tenant, &app, &g, PrincipalKind::Group, role.as_deref()).await?)
            }
            (None, None) => bail!("give --user or --group"),
        },
        AppCommand::Unassign { app, user, group } => match (user, group) {
            (Some(u), _) => idp.unassign(tenant, &app, &u, PrincipalKind::User).await?,
            (None, Some(g)) => idp.unassign(tenant, &app, &g, PrincipalKind::Group).await?,
            (None, None) => bail!("give --user or --group"),
        },
        AppCommand::Delete { app } => {
            let a = idp.delete_app(tenant, &app).await?;
            println!("app {} ({}) deleted", a.name, a.id);
        }
        AppCommand::Metadata { app } => print!("{}", idp.app_metadata(tenant, &app).await?),
        AppCommand::Cert(c) => cert(idp, tenant, c).await?,
    }
    Ok(())
}

async fn cert(idp: &Idp, tenant: uuid::Uuid, c: CertCommand) -> Result<()> {
    match c {
        CertCommand::List { app, json } => {
            let certs = idp.list_certs(tenant, &app).await?;
            let fmt = time::format_description::well_known::Rfc3339;
            if json {
                let v: Vec<_> = certs
                    .iter()
                    .map(|c| json!({"id": c.id, "active": c.active, "thumbprint": c.thumbprint, "sha256_thumbprint": c.sha256_thumbprint,
                        "subject": c.subject, "not_before": c.not_before.format(&fmt).ok(), "not_after": c.not_after.format(&fmt).ok(), "warning": c.warning}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for c in certs {
                    println!(
                        "{}  {}  {}  expires {}{}",
                        c.id,
                        if c.active { "active  " } else { "inactive" },
                        c.thumbprint,
                        c.not_after.format(&fmt)?,
                        c.warning.map(|w| format!("  WARNING: {w}")).unwrap_or_default()
                    );
                }
            }
        }
        CertCommand::New { app } => println!("{}", idp.create_cert(tenant, &app).await?),
        CertCommand::Activate { app, cert } => idp.activate_cert(tenant, &app, &cert).await?,
        CertCommand::Download { app, cert, format, out } => {
            let f = match format {
                CertFormatArg::Pem => CertFormat::Pem,
                CertFormatArg::Base64 => CertFormat::Base64,
                CertFormatArg::Der => CertFormat::Der,
            };
            let bytes = idp.download_cert(tenant, &app, cert.as_deref(), f).await?;
            match out {
                Some(p) => std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))?,
                None => std::io::stdout().write_all(&bytes)?,
            }
        }
    }
    Ok(())
}

async fn notify(idp: &Idp, a: NotifyArgs) -> Result<()> {
    let now = match &a.now {
        Some(t) => saml::clock::parse_time("--now", t).map_err(|e| {
            anyhow::anyhow!("--now {t:?}: {e} (use RFC 3339 in UTC, e.g. 2029-01-01T00:00:00Z)")
        })?,
        None => time::OffsetDateTime::now_utc(),
    };
    let queued = idp.queue_certificate_notices(now).await?;
    if a.json {
        let v: Vec<_> = queued
            .iter()
            .map(|q| json!({"app_id": q.app_id, "cert_id": q.cert_id, "recipient": q.recipient, "days_left": q.days_left}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if queued.is_empty() {
        println!("no notice due");
    } else {
        for q in &queued {
            println!(
                "queued for {}: app {} certificate {} ({} days left)",
                q.recipient, q.app_id, q.cert_id, q.days_left
            );
        }
    }
    Ok(())
}

async fn outbox(idp: &Idp, a: OutboxArgs) -> Result<()> {
    let rows = idp.store.list_mail(a.limit).await?;
    let at = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t).map(saml::clock::format_time).unwrap_or_default()
    };
    if a.json {
        let v: Vec<_> = rows
            .iter()
            .map(|m| {
                json!({"id": m.id, "created_at": at(m.created_at), "recipient": m.recipient, "subject": m.subject,
                    "body": m.body, "status": if m.sent_at.is_some() { "sent" } else { "queued" },
                    "sent_at": m.sent_at.map(at), "attempts": m.attempts, "last_error": m.last_error})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    for m in rows {
        let status = match (m.sent_at, &m.last_error) {
            (Some(t), _) => format!("sent {}", at(t)),
            (None, Some(e)) => format!("queued, {} failed attempts, last: {e}", m.attempts),
            (None, None) => "queued".into(),
        };
        println!("{}  to {}  {}  [{status}]", at(m.created_at), m.recipient, m.subject);
        if a.full {
            println!("{}\n", m.body);
        }
    }
    Ok(())
}

async fn signins(idp: &Idp, tenant: uuid::Uuid, a: SigninsArgs) -> Result<()> {
    let mut filter = store::SignInFilter::tenant(tenant);
    if let Some(app) = &a.app {
        filter.app_id = Some(idp.app(tenant, app).await?.0.id);
    }
    filter.upn = a.user.clone();
    filter.limit = Some(a.limit);
    idp.flush_sign_ins().await;
    let rows = idp.store.list_sign_ins(&filter).await?;
    // Apps by name; a deleted app's sign-ins keep its ID.
    let names: BTreeMap<uuid::Uuid, String> =
        idp.store.list_apps(tenant).await?.into_iter().map(|a| (a.id, a.name)).collect();
    let app_name =
        |id: Option<uuid::Uuid>| id.map(|id| names.get(&id).cloned().unwrap_or_else(|| id.to_string()));
    let fmt = time::format_description::well_known::Rfc3339;
    let at = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .and_then(|d| d.format(&fmt).ok())
            .unwrap_or_default()
    };
    if a.json {
        let v: Vec<_> = rows
            .iter()
            .map(|s| {
                json!({"id": s.id, "at": at(s.at), "user_id": s.user_id, "upn": s.upn, "app_id": s.app_id,
                "app": app_name(s.app_id), "ip": s.ip,
                "result": s.result_code, "correlation_id": s.correlation_id, "detail": s.detail})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for s in rows {
            println!(
                "{}  {:<10} {:<32} app={} ip={} correlation={}{}",
                at(s.at),
                s.result_code,
                s.upn.as_deref().unwrap_or("-"),
                app_name(s.app_id).map(|n| format!("{n:?}")).unwrap_or_else(|| "-".into()),
                s.ip.as_deref().unwrap_or("-"),
                s.correlation_id,
                s.detail.map(|d| format!("  {d}")).unwrap_or_default()
            );
        }
    }
    Ok(())
}

fn unix_rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

async fn role(idp: &Idp, tenant: uuid::Uuid, c: RoleCommand) -> Result<()> {
    match c {
        RoleCommand::Grant { user, role } => {
            let role = idp::roles::DirectoryRole::from(role);
            let u = idp.grant_role(tenant, &user, role).await?;
            println!("{} is now a {}", u.upn, role.display_name());
        }
        RoleCommand::Revoke { user, role } => {
            let role = idp::roles::DirectoryRole::from(role);
            let u = idp.revoke_role(tenant, &user, role).await?;
            println!("{} is no longer a {}", u.upn, role.display_name());
        }
        RoleCommand::List { json } => {
            let all = idp.role_assignments(tenant).await?;
            if json {
                let v: Vec<_> =
                    all.iter().map(|(u, r)| json!({"user_id": u.id, "upn": u.upn, "role": r})).collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for (u, r) in all {
                    println!("{:<28} {}  {}", r.display_name(), u.id, u.upn);
                }
            }
        }
    }
    Ok(())
}

async fn token(idp: &Idp, tenant: uuid::Uuid, c: TokenCommand) -> Result<()> {
    match c {
        TokenCommand::Create { user, name, days } => {
            let t = idp.create_api_token(tenant, &user, name.as_deref(), days).await?;
            println!("token ID:  {}", t.record.id);
            println!(
                "expires:   {}",
                t.record.expires_at.map(unix_rfc3339).unwrap_or_else(|| "never".into())
            );
            println!("Use it as `Authorization: Bearer <token>`. It is shown only now; keep it secret:");
            println!("{}", t.secret.as_str());
        }
        TokenCommand::List { json } => {
            let tokens = idp.list_api_tokens(tenant).await?;
            let mut owners = BTreeMap::new();
            for u in idp.store.list_users(tenant).await? {
                owners.insert(u.id, u.upn);
            }
            let owner = |id: &uuid::Uuid| owners.get(id).cloned().unwrap_or_default();
            if json {
                let v: Vec<_> = tokens
                    .iter()
                    .map(|t| json!({"id": t.id, "name": t.name, "user_id": t.user_id, "upn": owner(&t.user_id),
                        "created_at": unix_rfc3339(t.created_at), "expires_at": t.expires_at.map(unix_rfc3339),
                        "last_used_at": t.last_used_at.map(unix_rfc3339), "revoked": t.revoked_at.is_some(),
                        "revoked_at": t.revoked_at.map(unix_rfc3339)}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for t in tokens {
                    println!(
                        "{}  {:<20} {}  expires {}{}",
                        t.id,
                        t.name,
                        owner(&t.user_id),
                        t.expires_at.map(unix_rfc3339).unwrap_or_else(|| "never".into()),
                        if t.revoked_at.is_some() { "  (revoked)" } else { "" }
                    );
                }
            }
        }
        TokenCommand::Revoke { id } => {
            idp.revoke_api_token(tenant, &id).await?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}
