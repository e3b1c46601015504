//! `portcullis idp app …`: gallery templates, apps, their SAML configuration, claims,
//! assignments and signing certificates.

use crate::args::idp::*;
use anyhow::{bail, Context, Result};
use idp::apps::{CertFormat, SamlChanges};
use idp::model::{GroupsClaim, NameIdFormat, SigningOption, SourceAttribute};
use idp::service::Idp;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use store::model::PrincipalKind;

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

pub(super) async fn app(idp: &Idp, tenant: uuid::Uuid, c: AppCommand) -> Result<()> {
    match c {
        AppCommand::Create { template, name, params } => {
            let app = idp.create_app(tenant, &template, name.as_deref(), &parse_params(&params)?).await?;
            println!("{}", app.id);
            // The ID alone on standard output (scripts read it); the guidance for people on
            // standard error.
            let (app, config) = idp.app(tenant, &app.id.to_string()).await?;
            let guide = idp::guide::for_app(&idp.endpoints(tenant), &app, &config);
            eprintln!("Created app {:?} ({}) from template {}.", app.name, app.id, app.template);
            eprint!("{}", super::text::guide(&app, &guide));
        }
        AppCommand::Templates { details: Some(name), json } => {
            let t = idp::gallery::find(&name).map_err(idp::error::IdpError::from)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&t)?);
            } else {
                print!("{}", super::text::template(&t));
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
                    super::text::sign_on_url_change(
                        &a,
                        before.sign_on_url.as_deref(),
                        after.sign_on_url.as_deref()
                    )
                );
            }
            let guide = idp::guide::for_app(&idp.endpoints(tenant), &a, &after);
            eprint!("{}", super::text::still_needed(&a, &guide));
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
