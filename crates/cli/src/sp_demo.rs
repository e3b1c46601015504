//! `portcullis sp-demo`: the reference application of the SP toolkit. One SP
//! application in its own data directory, one SAML provider from the IdP's
//! metadata, policies and group mappings from the command line, and the `sp`
//! crate's router (SP-initiated login, ACS, metadata, a landing page showing the
//! signed-in user, their groups and effective permissions).

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use sp::db::{AttributeNames, Policy, SpApp, SpDb, SsoBinding, WantSigned, GENERAL_MEMBERS};
use sp::providers::{create_provider, idp_facts, refresh_provider, MetadataSource, ProviderSettings};
use sp::web::{ensure_keys, router_with_assets, Site};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use store::Store;
use time::OffsetDateTime;
use uuid::Uuid;

/// Which signature the ACS requires.
#[derive(Clone, Copy, ValueEnum)]
enum WantArg {
    /// The samlp:Response must be signed.
    SignedResponse,
    /// The saml:Assertion itself must be signed.
    SignedAssertion,
    /// Either (SAML profiles 4.1.3.5); claims are read only from signed elements either way.
    Either,
}

/// The binding of the AuthnRequest.
#[derive(Clone, Copy, ValueEnum)]
enum BindingArg {
    Redirect,
    Post,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Address to listen on (port 0: the system picks one; the real address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// The URL browsers reach the app at (no trailing slash); the SP entity ID is
    /// {URL}/saml/metadata and the ACS URL {URL}/saml/acs. Default: http://ADDR.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// An IdP's metadata: a file, or an https:// or http:// URL (kept for refresh); repeat for several
    /// providers. Imported at every start: a provider for that IdP is created, or refreshed (a
    /// certificate change is printed).
    /// Providers imported before are kept (the data directory remembers them).
    #[arg(long, value_name = "FILE_OR_URL")]
    idp_metadata: Vec<String>,
    /// The application's name (the data directory can hold several).
    #[arg(long, value_name = "NAME", default_value = "SP demo")]
    name: String,
    /// The providers' names, shown as "Log in with NAME", in the order of --idp-metadata
    /// (default: "Portcullis", then "Portcullis 2", …).
    #[arg(long = "provider-name", value_name = "NAME")]
    provider_names: Vec<String>,
    /// How the AuthnRequest travels to the IdP.
    #[arg(long, value_enum, default_value = "redirect")]
    sso_binding: BindingArg,
    /// Sign AuthnRequests with the application's key (generated at first start).
    #[arg(long)]
    sign_requests: bool,
    /// Which signature the ACS requires of this provider's Responses.
    #[arg(long, value_enum, default_value = "either")]
    want: WantArg,
    /// Accept RSA-SHA1 signatures and SHA-1 digests (legacy IdPs only).
    #[arg(long)]
    allow_sha1: bool,
    /// Clock skew allowed on every time window, in seconds.
    #[arg(long, value_name = "N", default_value_t = saml::DEFAULT_SKEW.whole_seconds())]
    skew_seconds: i64,
    /// Put users created at their first login in the waiting room until an access request
    /// (filed by a user with `users:request`, decided by one with `users:approve`) admits them.
    /// Users whose IdP groups are mapped to a policy (--map-group) are let in: that is how the
    /// first approver is set up.
    #[arg(long)]
    waiting_room: bool,
    /// Accept IdP-initiated (unsolicited) Responses from this provider.
    #[arg(long)]
    allow_idp_initiated: bool,
    /// An e-mail domain a provider serves, for discovery (/login): DOMAIN for the first
    /// provider or PROVIDER_NAME=DOMAIN (repeatable).
    #[arg(long = "email-domain", value_name = "[PROVIDER=]DOMAIN")]
    email_domains: Vec<String>,
    /// Offered on the sign-on page when no provider serves the e-mail's domain.
    #[arg(long, value_name = "URL")]
    local_sign_in_url: Option<String>,
    /// Which assertion attribute fills a user field: FIELD=ATTRIBUTE with FIELD one of
    /// username, first-name, last-name, email, groups (repeatable). Defaults: Username,
    /// FirstName, LastName, Email, Groups, which also recognise the common claim names (the
    /// AD FS/Entra ID claim URIs such as
    /// http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress and
    /// http://schemas.microsoft.com/ws/2008/06/identity/claims/groups, and the LDAP OIDs).
    #[arg(long = "attribute", value_name = "FIELD=NAME")]
    attributes: Vec<String>,
    /// A group policy: NAME=PERMISSION[,PERMISSION…] (repeatable); created when missing, and
    /// its permissions replaced by these when it exists with others.
    #[arg(long = "policy", value_name = "NAME=PERMS")]
    policies: Vec<String>,
    /// Map an IdP group object ID to a policy: OBJECT_ID=POLICY (repeatable).
    #[arg(long = "map-group", value_name = "OBJECT_ID=POLICY")]
    map_groups: Vec<String>,
    /// The policy every SAML user of this provider gets ("none" for no default policy).
    #[arg(long, value_name = "POLICY", default_value = GENERAL_MEMBERS)]
    default_policy: String,
    /// An origin return URLs may point at besides this app's own (repeatable).
    #[arg(long = "allow-return-origin", value_name = "URL")]
    allow_return_origins: Vec<String>,
}

fn split_pair<'a>(what: &str, s: &'a str) -> Result<(&'a str, &'a str)> {
    match s.split_once('=') {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => Ok((a.trim(), b.trim())),
        _ => bail!("{what} {s:?} must be KEY=VALUE with both parts non-empty"),
    }
}

fn attribute_names(args: &[String]) -> Result<AttributeNames> {
    let mut names = AttributeNames::default();
    for a in args {
        let (field, name) = split_pair("--attribute", a)?;
        let slot = match field {
            "username" => &mut names.username,
            "first-name" => &mut names.first_name,
            "last-name" => &mut names.last_name,
            "email" => &mut names.email,
            "groups" => &mut names.groups,
            other => bail!(
                "--attribute {other:?}: the field must be username, first-name, last-name, email or groups"
            ),
        };
        *slot = name.to_string();
    }
    Ok(names)
}

/// Runs the demo on `data` (the global `--data`, PORTCULLIS_DATA or the configuration file's).
pub fn run(data: &Path, args: DemoArgs) -> Result<ExitCode> {
    std::fs::create_dir_all(data)
        .with_context(|| format!("creating the data directory {}", data.display()))?;
    let attributes = attribute_names(&args.attributes)?;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(serve(data, args, attributes))
}

async fn serve(data: &Path, args: DemoArgs, attributes: AttributeNames) -> Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}: pass another --listen ADDR:PORT", args.listen))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    let base = args.base_url.clone().unwrap_or_else(|| format!("http://{bound}"));
    let base = base.trim_end_matches('/').to_string();

    let store = Store::open_data_dir(data).await?;
    let master = store::seal::MasterKey::for_data_dir(data)?;
    let sealer = store::seal::Sealer::for_store(&store, &master).await?;
    let db = SpDb::open(store).await?;
    let now = OffsetDateTime::now_utc();

    let mut app = match db.app_by_name(&args.name).await? {
        Some(mut app) => {
            if app.base_url != base {
                app.base_url = base.clone();
                db.update_app(&app).await?;
            }
            app
        }
        None => {
            let app = SpApp {
                id: Uuid::new_v4(),
                name: args.name.clone(),
                base_url: base.clone(),
                entity_id: None,
                acs_url: None,
                signing_key_sealed: None,
                signing_cert: None,
                encryption_key_sealed: None,
                encryption_cert: None,
                created_at: now.unix_timestamp(),
            };
            db.create_app(&app).await?;
            app
        }
    };
    ensure_keys(&db, &mut app, &sealer, now).await.map_err(site_err)?;

    for p in &args.policies {
        let (name, perms) = split_pair("--policy", p)?;
        let permissions: Vec<String> =
            perms.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        match db.policy_by_name(app.id, name).await? {
            None => {
                let policy = Policy { id: Uuid::new_v4(), app_id: app.id, name: name.into(), permissions };
                db.create_policy(&policy).await?;
            }
            // The command line says what the policy grants: a changed list replaces the stored one.
            Some(mut policy) if policy.permissions != permissions => {
                println!(
                    "Policy {}: permissions changed from {:?} to {:?}",
                    policy.name, policy.permissions, permissions
                );
                policy.permissions = permissions;
                db.update_policy(&policy).await?;
            }
            Some(_) => {}
        }
    }
    for m in &args.map_groups {
        let (object_id, policy) = split_pair("--map-group", m)?;
        let Some(policy) = db.policy_by_name(app.id, policy).await? else {
            bail!("--map-group {m:?}: no policy named {policy:?} (create it with --policy)");
        };
        db.put_group(app.id, object_id, object_id).await?;
        db.map_group(app.id, object_id, policy.id).await?;
    }
    let default_policy_id = match args.default_policy.as_str() {
        "none" => None,
        name => match db.policy_by_name(app.id, name).await? {
            Some(p) => Some(p.id),
            None => bail!("--default-policy {name:?}: no such policy (create it with --policy)"),
        },
    };

    let binding = match args.sso_binding {
        BindingArg::Redirect => SsoBinding::Redirect,
        BindingArg::Post => SsoBinding::Post,
    };
    if args.skew_seconds < 0 {
        bail!("--skew-seconds must not be negative");
    }
    let names: Vec<String> = (0..args.idp_metadata.len())
        .map(|i| match (args.provider_names.get(i), i) {
            (Some(n), _) => n.clone(),
            (None, 0) => "Portcullis".to_string(),
            (None, i) => format!("Portcullis {}", i + 1),
        })
        .collect();
    let mut domains: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    for d in &args.email_domains {
        let (index, domain) = match d.split_once('=') {
            Some((name, domain)) => match names.iter().position(|n| n == name.trim()) {
                Some(i) => (i, domain),
                None => bail!("--email-domain {d:?}: no provider is named {:?}", name.trim()),
            },
            None => (0, d.as_str()),
        };
        domains[index].push(domain.trim().to_lowercase());
    }
    let mut providers = Vec::new();
    for (i, metadata) in args.idp_metadata.iter().enumerate() {
        let source = MetadataSource::file_or_url(metadata);
        let (xml, _) = source.load().await.map_err(site_err)?;
        let facts = idp_facts(&xml, None, binding).map_err(site_err)?;
        let mut provider = match db.provider_by_entity_id(app.id, &facts.entity_id).await? {
            Some(existing) => {
                let report = refresh_provider(&db, existing.id, Some(&source)).await.map_err(site_err)?;
                if report.certificates_changed {
                    println!(
                        "The signing certificates of {} changed: added {:?}, removed {:?} (SHA-256)",
                        facts.entity_id, report.added, report.removed
                    );
                }
                db.provider(existing.id).await?
            }
            None => {
                let mut settings = ProviderSettings::new(names[i].clone());
                settings.sso_binding = binding;
                create_provider(&db, app.id, &MetadataSource::Text(xml), settings, now.unix_timestamp())
                    .await
                    .map_err(site_err)?
            }
        };
        provider.name = names[i].clone();
        provider.sign_requests = args.sign_requests;
        provider.allow_idp_initiated = args.allow_idp_initiated;
        provider.waiting_room = args.waiting_room;
        provider.want_signed = match args.want {
            WantArg::SignedResponse => WantSigned::Response,
            WantArg::SignedAssertion => WantSigned::Assertion,
            WantArg::Either => WantSigned::Either,
        };
        provider.allow_sha1 = args.allow_sha1;
        provider.skew_seconds = args.skew_seconds;
        provider.email_domains = domains[i].clone();
        provider.attributes = attributes.clone();
        provider.default_policy_id = default_policy_id;
        if let MetadataSource::Url(u) = &source {
            provider.metadata_url = Some(u.clone());
        }
        db.update_provider(&provider).await?;
        providers.push(provider);
    }

    let site = Site::load(
        db.clone(),
        app.id,
        Some(&sealer),
        Arc::new(saml::SystemClock),
        args.allow_return_origins.clone(),
    )
    .await
    .map_err(site_err)?
    .with_local_sign_in(args.local_sign_in_url.clone());
    if providers.is_empty() {
        providers = db.providers(app.id).await?;
    }
    // First setup: with no provider nobody can sign in, so the operator gets a one-time token
    // for the admin pages (only its hash is kept; it stops working once a provider exists).
    let setup_token =
        if providers.is_empty() { Some(sp::web::admin::new_setup_token().map_err(site_err)?) } else { None };
    let site = match &setup_token {
        Some(token) => site.with_setup_token(token),
        None => site,
    };
    println!("SP demo is running at {base}/");
    println!("  application:      {} ({})", app.name, app.id);
    for provider in &providers {
        println!("  provider:         {} ({})", provider.name, provider.idp_entity_id);
    }
    if providers.is_empty() {
        println!(
            "  provider:         none yet: add one at {base}/admin/setup, or restart with --idp-metadata FILE_OR_URL"
        );
    }
    if let Some(token) = &setup_token {
        println!("  setup token:      {} (one-time, until the first provider exists)", token.as_str());
    }
    println!("  SP entity ID:     {}", site.entity_id());
    println!("  ACS URL:          {}", site.acs_url());
    println!("  SP metadata:      {base}/saml/metadata");
    println!("Press Ctrl-C to stop.");
    tracing::info!(listen = %bound, base_url = %base, "SP demo started");
    axum::serve(listener, router_with_assets(Arc::new(site))).await.context("HTTP server failed")?;
    Ok(ExitCode::SUCCESS)
}

fn site_err(e: sp::web::SiteError) -> anyhow::Error {
    anyhow::anyhow!("{e} ({})", e.code())
}
