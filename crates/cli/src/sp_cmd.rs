//! `portcullis sp …`: service-provider tools. `check-response` runs exactly the
//! ACS validation of the `sp` crate on a posted SAMLResponse (without the replay
//! store) and prints the verdict as JSON.

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Map, Value};
use sp::{DecryptionKey, IdpTrust, SpConfig, Want};
use std::path::PathBuf;
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Subcommand)]
pub enum SpCommand {
    /// Validate a SAMLResponse exactly as the SP's ACS does (without the replay store).
    ///
    /// Prints JSON on standard output: {"valid":true,"name_id":…,"name_id_format":…,
    /// "attributes":{name:[values]},"session_not_on_or_after":…} and exits 0, or
    /// {"valid":false,"code":…,"message":…[,"hint":…]} and exits 1 (the hint says which
    /// option would check the Response as what it claims to be, e.g. `--request-id ID`). Usage errors (a missing file,
    /// unusable metadata or key) exit 2 with the reason on standard error. The codes are
    /// listed in crates/sp/ERRORS.md and crates/saml/ERRORS.md.
    CheckResponse(CheckArgs),
}

/// Which signature the response must carry.
#[derive(Clone, Copy, ValueEnum)]
enum WantArg {
    /// The samlp:Response must be signed.
    SignedResponse,
    /// The saml:Assertion itself must be signed.
    SignedAssertion,
    /// Either (SAML profiles 4.1.3.5: the POST binding needs one or the other).
    Either,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The IdP's metadata (XML); every signing certificate in it is trusted (rollover).
    #[arg(long, value_name = "FILE")]
    idp_metadata: PathBuf,
    /// Pick the IdP by entity ID when the metadata file lists several.
    #[arg(long, value_name = "ID")]
    idp_entity_id: Option<String>,
    /// This SP's entity ID: an AudienceRestriction must name it.
    #[arg(long, value_name = "ID")]
    sp_entity_id: String,
    /// This SP's ACS URL: Destination and the bearer Recipient must equal it.
    #[arg(long, value_name = "URL")]
    acs_url: String,
    /// The ID of the AuthnRequest this browser has outstanding (omit for IdP-initiated).
    #[arg(long, value_name = "ID")]
    request_id: Option<String>,
    /// Check at this instant (RFC 3339, e.g. 2030-01-01T00:01:00Z) instead of now.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Clock skew allowed on every time window, in seconds.
    #[arg(long, value_name = "N", default_value_t = saml::DEFAULT_SKEW.whole_seconds())]
    skew_seconds: i64,
    /// Accept an unsolicited (IdP-initiated) response when no --request-id is given.
    #[arg(long)]
    allow_unsolicited: bool,
    /// Accept RSA-SHA1 signatures and SHA-1 digests (legacy IdPs only).
    #[arg(long)]
    allow_sha1: bool,
    /// Which signature is required. Default `either`: SAML profiles 4.1.3.5 lets the IdP
    /// sign the Response or the Assertion, and IdPs differ (ADFS and Entra sign the
    /// Assertion, Okta and Shibboleth often the Response); claims are read only from what a
    /// signature covers either way, so `either` is safe and is what most SPs accept.
    #[arg(long, value_enum, default_value = "either")]
    want: WantArg,
    /// The SP's RSA private key (PEM or DER, PKCS#8 or PKCS#1) for EncryptedAssertion.
    #[arg(long, value_name = "FILE")]
    sp_key: Option<PathBuf>,
    /// The SAMLResponse as posted (base64, line breaks allowed, or a URL-encoded form
    /// body/value) or the raw XML.
    #[arg(value_name = "RESPONSE_FILE")]
    response_file: PathBuf,
}

pub fn run(cmd: SpCommand) -> Result<ExitCode> {
    match cmd {
        SpCommand::CheckResponse(args) => check_response(args),
    }
}

fn check_response(args: CheckArgs) -> Result<ExitCode> {
    let metadata = std::fs::read(&args.idp_metadata)
        .with_context(|| format!("reading --idp-metadata {}", args.idp_metadata.display()))?;
    let metadata = String::from_utf8(metadata).context("--idp-metadata is not UTF-8")?;
    let idp = IdpTrust::from_metadata(&metadata, args.idp_entity_id.as_deref()).map_err(|e| {
        anyhow::anyhow!("--idp-metadata {}: {} ({})", args.idp_metadata.display(), e, e.code())
    })?;
    let response = std::fs::read(&args.response_file)
        .with_context(|| format!("reading RESPONSE_FILE {}", args.response_file.display()))?;
    let now = match &args.now {
        Some(t) => OffsetDateTime::parse(t, &Rfc3339)
            .with_context(|| format!("--now {t:?} is not an RFC 3339 time (e.g. 2030-01-01T00:01:00Z)"))?,
        None => OffsetDateTime::now_utc(),
    };
    anyhow::ensure!(args.skew_seconds >= 0, "--skew-seconds must not be negative");
    let mut cfg = SpConfig::new(args.sp_entity_id, args.acs_url, idp);
    cfg.want = match args.want {
        WantArg::SignedResponse => Want::SignedResponse,
        WantArg::SignedAssertion => Want::SignedAssertion,
        WantArg::Either => Want::Either,
    };
    cfg.skew = time::Duration::seconds(args.skew_seconds);
    cfg.allow_unsolicited = args.allow_unsolicited;
    cfg.allow_sha1 = args.allow_sha1;
    if let Some(path) = &args.sp_key {
        let bytes = zeroize::Zeroizing::new(
            std::fs::read(path).with_context(|| format!("reading --sp-key {}", path.display()))?,
        );
        let key = DecryptionKey::load(&bytes)
            .map_err(|e| anyhow::anyhow!("--sp-key {}: {} ({})", path.display(), e, e.code()))?;
        cfg.decryption_key = Some(key);
    }

    let clock = saml::FixedClock(now);
    let verdict = sp::decode_response_input(&response)
        .and_then(|xml| sp::validate_response(&xml, &cfg, args.request_id.as_deref(), &clock));
    let (out, code) = match verdict {
        Ok(login) => {
            let attributes: Map<String, Value> =
                login.attributes.iter().map(|(name, values)| (name.clone(), json!(values))).collect();
            let out = json!({
                "valid": true,
                "name_id": login.name_id,
                "name_id_format": login.name_id_format,
                "attributes": attributes,
                "session_not_on_or_after": login.session_not_on_or_after.map(sp::validate::time_text),
            });
            (out, ExitCode::SUCCESS)
        }
        Err(e) => {
            let mut out = json!({"valid": false, "code": e.code(), "message": e.to_string()});
            if let Some(hint) = hint(&e) {
                out["hint"] = json!(hint);
            }
            (out, ExitCode::from(1))
        }
    };
    println!("{out}");
    Ok(code)
}

/// What to pass to check the Response as what it claims to be. Only for the refusal that
/// comes from running the check without the AuthnRequest the Response answers.
fn hint(e: &sp::Error) -> Option<String> {
    match e {
        sp::Error::InResponseToUnknown { found } => Some(format!(
            "the Response answers the AuthnRequest {found:?}: if that request is yours, check it as \
             its answer with --request-id {found}"
        )),
        _ => None,
    }
}
