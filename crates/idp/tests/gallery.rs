//! The gallery: every template file loads, carries exactly its vendor document's
//! values, and instantiates into a complete app configuration only when every
//! placeholder is filled with a value that makes valid URLs.

use idp::gallery::{self, GalleryError, SsoSupport, Template};
use idp::model::{
    default_claims, ClaimSource, GroupsClaim, NameIdFormat, SigningAlgorithm, SigningOption, SourceAttribute,
};
use idp::urls::{self, UrlKind};
use std::collections::BTreeMap;

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn template(name: &str) -> Template {
    gallery::get(name).unwrap_or_else(|| panic!("template {name} is in the gallery"))
}

/// (claim name, source attribute) of the template's extra claims, in order.
fn extra_claims(t: &Template) -> Vec<(String, SourceAttribute)> {
    t.claims.extra.iter().map(|c| (c.name.clone(), c.source.expect("claim has a source attribute"))).collect()
}

fn attr_claims(config: &idp::model::AppConfig) -> Vec<(String, SourceAttribute)> {
    config
        .claims
        .iter()
        .map(|c| match &c.source {
            ClaimSource::Attribute(a) => (c.attribute_name(), *a),
            ClaimSource::Constant(v) => panic!("unexpected constant claim {v}"),
        })
        .collect()
}

#[test]
fn every_gallery_file_loads_and_is_valid() {
    if let Err(errors) = gallery::check() {
        panic!("gallery files fail to load: {errors:#?}");
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("gallery");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    on_disk.sort();
    let compiled: Vec<String> = gallery::file_names().into_iter().map(str::to_string).collect();
    assert_eq!(compiled, on_disk, "build.rs compiles in every gallery/*.toml");
    let loaded: Vec<String> = gallery::all().into_iter().map(|t| t.name).collect();
    assert_eq!(loaded, on_disk, "every file loads, sorted by name");
    for name in
        ["beyondtrust-remote-support", "it-conductor", "ipass-smartconnect", "servusconnect", "generic-saml"]
    {
        assert!(loaded.iter().any(|l| l == name), "{name} ships");
    }
}

#[test]
fn every_template_instantiates_with_its_placeholders_filled() {
    for t in gallery::all() {
        let mut p = BTreeMap::new();
        for param in &t.parameters {
            let value = match param.name.as_str() {
                "HOSTNAME" => "acme".to_string(),
                "RELAY_STATE" => "start".to_string(),
                "IDENTIFIER" => "https://sp.example.com/entity".to_string(),
                _ => format!("https://sp.example.com/{}", param.name.to_lowercase()),
            };
            p.insert(param.name.clone(), value);
        }
        let config = t.instantiate(&p).unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert!(config.enabled && config.assignment_required && config.visible, "{}", t.name);
        assert_eq!(config.signing, SigningOption::Assertion);
        assert_eq!(config.signing_algorithm, SigningAlgorithm::Sha256);
        assert!(config.roles.iter().any(|r| r.name == "Default Access"), "{}", t.name);
        assert_eq!(config.sso_modes, t.sso());
        assert!(!config.identifiers.is_empty(), "{}: identifiers", t.name);
        assert!(!config.reply_urls.is_empty(), "{}: reply URLs", t.name);
        assert_eq!(config.identifiers.iter().filter(|i| i.is_default).count(), 1);
        assert_eq!(config.reply_urls.iter().filter(|r| r.is_default).count(), 1);
        assert!(config.reply_urls[0].is_default && config.reply_urls[0].index == 0);
        for id in &config.identifiers {
            urls::validate_identifier(&id.value).unwrap();
            assert!(!id.value.contains('<'), "{}: {}", t.name, id.value);
        }
        if t.claims.keep_default {
            assert_eq!(config.claims[..4], default_claims()[..], "{}: default claim set first", t.name);
        }
        // A template's notes are worth showing: non-empty sentences.
        assert!(t.notes.iter().all(|n| !n.trim().is_empty()));
    }
}

#[test]
fn beyondtrust_remote_support_carries_its_documents_values() {
    let t = template("beyondtrust-remote-support");
    assert_eq!(t.display_name, "BeyondTrust Remote Support");
    assert_eq!(t.publisher, "BeyondTrust");
    assert!(!t.pre_integrated);
    // The document's patterns, verbatim.
    assert_eq!(t.saml.identifiers, ["https://<HOSTNAME>.bomgar.com"]);
    assert_eq!(t.saml.reply_urls, ["https://<HOSTNAME>.bomgar.com/saml/sso"]);
    assert_eq!(t.saml.sign_on_url.as_deref(), Some("https://<HOSTNAME>.bomgar.com/saml"));
    assert_eq!(t.saml.relay_state, None);
    assert_eq!(t.saml.logout_url, None);
    assert_eq!(t.sso_modes, SsoSupport::SpInitiated);
    assert!(!t.is_fixed_identifier());
    assert_eq!(t.placeholders(), ["HOSTNAME"]);
    let nid = t.name_id.as_ref().unwrap();
    assert_eq!(nid.format, NameIdFormat::Persistent);
    assert_eq!(t.claims.groups_claim, GroupsClaim::SecurityGroups);
    assert!(t.claims.keep_default);
    let expected = vec![
        ("Username".to_string(), SourceAttribute::UserPrincipalName),
        ("FirstName".to_string(), SourceAttribute::GivenName),
        ("LastName".to_string(), SourceAttribute::Surname),
        ("Email".to_string(), SourceAttribute::Mail),
        ("Groups".to_string(), SourceAttribute::Groups),
    ];
    assert_eq!(extra_claims(&t), expected);

    let config = t.instantiate(&params(&[("HOSTNAME", "acme")])).unwrap();
    assert_eq!(config.identifiers[0].value, "https://acme.bomgar.com");
    assert_eq!(config.reply_urls[0].url, "https://acme.bomgar.com/saml/sso");
    assert_eq!(config.sign_on_url.as_deref(), Some("https://acme.bomgar.com/saml"));
    assert_eq!(config.name_id.format, NameIdFormat::Persistent);
    assert_eq!(config.groups_claim, GroupsClaim::SecurityGroups);
    assert!(config.sso_modes.sp_initiated && !config.sso_modes.idp_initiated);
    let claims = attr_claims(&config);
    assert_eq!(claims.len(), 9, "the default four and the vendor's five");
    assert_eq!(claims[4..], expected[..]);
}

#[test]
fn it_conductor_is_idp_initiated_and_pre_integrated() {
    let t = template("it-conductor");
    assert_eq!(t.display_name, "IT-Conductor");
    assert!(t.pre_integrated, "the document publishes no Basic SAML values");
    assert_eq!(t.sso_modes, SsoSupport::IdpInitiated);
    assert!(!t.is_fixed_identifier());
    assert_eq!(t.saml.sign_on_url, None);
    assert!(t.notes.iter().any(|n| n.contains("support@itconductor.com")), "says whom to ask");
    assert_eq!(
        extra_claims(&t),
        [
            ("PERSON_Email".to_string(), SourceAttribute::Mail),
            ("OBJECT_Name".to_string(), SourceAttribute::UserPrincipalName),
            ("PERSON_FirstName".to_string(), SourceAttribute::GivenName),
            ("PERSON_LastName".to_string(), SourceAttribute::Surname),
        ]
    );
    assert_eq!(t.claims.groups_claim, GroupsClaim::None);
    assert_eq!(t.name_id, None, "default emailAddress NameID");

    // Issue 14, item 4: the tutorial says no Basic SAML step is needed, so the app is created
    // without parameters and without the values nobody published; each parameter says who has it.
    let bare = t.instantiate(&BTreeMap::new()).unwrap();
    assert!(bare.identifiers.is_empty() && bare.reply_urls.is_empty() && bare.sign_on_url.is_none());
    assert!(t.parameters.iter().all(|p| !p.required && p.description.contains("support@itconductor.com")));

    let config = t
        .instantiate(&params(&[
            ("IDENTIFIER", "https://app.itconductor.com/saml/acme"),
            ("REPLY_URL", "https://app.itconductor.com/saml/acme/acs"),
        ]))
        .unwrap();
    assert!(config.sso_modes.idp_initiated && !config.sso_modes.sp_initiated);
    assert_eq!(config.name_id.format, NameIdFormat::Email);
    assert_eq!(config.name_id.source, SourceAttribute::UserPrincipalName);
    assert_eq!(config.reply_urls[0].url, "https://app.itconductor.com/saml/acme/acs");
}

#[test]
fn ipass_smartconnect_has_a_fixed_identifier_and_both_modes() {
    let t = template("ipass-smartconnect");
    assert_eq!(t.display_name, "iPass SmartConnect");
    assert!(t.is_fixed_identifier(), "only one instance per tenant");
    assert!(t.pre_integrated);
    assert_eq!(t.sso_modes, SsoSupport::Both);
    assert_eq!(
        t.saml.sign_on_url.as_deref(),
        Some("https://om-activation.ipass.com/ClientActivation/ssolanding.go")
    );
    assert_eq!(
        extra_claims(&t),
        [
            ("firstName".to_string(), SourceAttribute::GivenName),
            ("lastName".to_string(), SourceAttribute::Surname),
            ("email".to_string(), SourceAttribute::UserPrincipalName),
            ("username".to_string(), SourceAttribute::UserPrincipalName),
        ]
    );
    assert!(t.notes.iter().any(|n| n.contains("help@ipass.com")));
    let config = t
        .instantiate(&params(&[
            ("identifier", "https://sso.ipass.com/entity"),
            ("<reply_url>", "https://sso.ipass.com/acs"),
        ]))
        .unwrap();
    assert!(config.sso_modes.idp_initiated && config.sso_modes.sp_initiated);
    assert_eq!(config.roles.len(), 1, "Default Access, once");
    assert_eq!(config.roles[0].name, "Default Access");
}

#[test]
fn servusconnect_is_fully_fixed() {
    let t = template("servusconnect");
    assert_eq!(t.display_name, "ServusConnect");
    assert!(t.is_fixed_identifier());
    assert!(t.placeholders().is_empty());
    assert_eq!(t.sso_modes, SsoSupport::SpInitiated);
    assert!(t.claims.extra.is_empty());
    let config = t.instantiate(&BTreeMap::new()).unwrap();
    assert_eq!(config.identifiers[0].value, "urn:amazon:cognito:sp:us-east-1_rlgU6e3y5");
    assert_eq!(config.reply_urls[0].url, "https://login.servusconnect.com/saml2/idpresponse");
    assert_eq!(config.sign_on_url.as_deref(), Some("https://app.servusconnect.com"));
    assert_eq!(config.claims, default_claims());
    assert_eq!(config.name_id.format, NameIdFormat::Email);
    // A template without placeholders refuses any parameter.
    let e = t.instantiate(&params(&[("HOSTNAME", "x")])).unwrap_err();
    assert_eq!(e.code(), "PCS91003");
}

#[test]
fn generic_saml_takes_everything_optionally() {
    let t = template(gallery::GENERIC_SAML);
    assert!(!t.is_fixed_identifier());
    let empty = t.instantiate(&BTreeMap::new()).unwrap();
    assert!(empty.identifiers.is_empty() && empty.reply_urls.is_empty());
    assert_eq!((empty.sign_on_url, empty.relay_state, empty.logout_url), (None, None, None));
    assert!(empty.sso_modes.sp_initiated && empty.sso_modes.idp_initiated);
    let full = t
        .instantiate(&params(&[
            ("IDENTIFIER", "http://localhost:8000/saml2/metadata/"),
            ("REPLY_URL", "http://localhost:8000/saml2/acs/"),
            ("SIGN_ON_URL", "http://127.0.0.1:8000/login"),
            ("RELAY_STATE", "/home"),
            ("LOGOUT_URL", "https://sp.example.com/slo"),
        ]))
        .unwrap();
    assert_eq!(full.identifiers[0].value, "http://localhost:8000/saml2/metadata/");
    assert_eq!(full.reply_urls[0].url, "http://localhost:8000/saml2/acs/");
    assert_eq!(full.relay_state.as_deref(), Some("/home"));
    assert_eq!(full.logout_url.as_deref(), Some("https://sp.example.com/slo"));
}

#[test]
fn parameter_names_take_any_case_with_or_without_brackets() {
    let t = template("beyondtrust-remote-support");
    for key in ["HOSTNAME", "hostname", "<HOSTNAME>", "<hostname>", " HostName "] {
        let c = t.instantiate(&params(&[(key, "acme")])).unwrap();
        assert_eq!(c.identifiers[0].value, "https://acme.bomgar.com", "{key}");
    }
    let e = t.instantiate(&params(&[("HOSTNAME", "acme"), ("<hostname>", "other")])).unwrap_err();
    assert_eq!(e.code(), "PCS91004", "two different values for one placeholder");
}

#[test]
fn an_unfilled_placeholder_is_named_with_every_field_it_appears_in() {
    let t = template("beyondtrust-remote-support");
    for p in [params(&[]), params(&[("HOSTNAME", "  ")])] {
        let e = t.instantiate(&p).unwrap_err();
        let GalleryError::UnfilledPlaceholders { template, missing } = &e else { panic!("{e:?}") };
        assert_eq!(template, "beyondtrust-remote-support");
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].placeholder, "HOSTNAME");
        assert_eq!(missing[0].fields, ["Identifier", "Reply URL", "Sign-on URL"]);
        // Issue 14, item 4: and where the value comes from.
        let description = &t.parameters[0].description;
        assert_eq!(missing[0].description.as_ref(), Some(description));
        assert_eq!(
            e.to_string(),
            format!(
                "template \"beyondtrust-remote-support\" needs a value for <HOSTNAME> (in the Identifier, \
                 Reply URL, Sign-on URL); pass --param HOSTNAME=VALUE. HOSTNAME: {description}"
            )
        );
    }
}

#[test]
fn an_unknown_parameter_is_refused_with_the_known_ones() {
    let e = template("beyondtrust-remote-support").instantiate(&params(&[("HOST", "acme")])).unwrap_err();
    assert_eq!(e.code(), "PCS91003");
    assert!(e.to_string().contains("<HOSTNAME>"), "{e}");
}

#[test]
fn values_that_make_invalid_urls_are_refused() {
    let bt = template("beyondtrust-remote-support");
    for bad in ["acme.evil.com/x", "ac me", "acme:443", "acme@evil", "-acme", "acme#x"] {
        let e = bt.instantiate(&params(&[("HOSTNAME", bad)])).unwrap_err();
        assert_eq!(e.code(), "PCS91004", "{bad}: {e}");
    }
    let generic = template(gallery::GENERIC_SAML);
    for (key, bad, field) in [
        ("REPLY_URL", "http://sp.example.com/acs", "Reply URL"),
        ("REPLY_URL", "/acs", "Reply URL"),
        ("REPLY_URL", "https://sp.example.com/acs#frag", "Reply URL"),
        ("REPLY_URL", "https://sp.example.com/a cs", "Reply URL"),
        ("IDENTIFIER", "not a uri", "Identifier"),
        ("IDENTIFIER", "urn:", "Identifier"),
        ("SIGN_ON_URL", "ftp://sp.example.com", "Sign-on URL"),
        ("LOGOUT_URL", "http://sp.example.com/slo", "Logout URL"),
    ] {
        let e = generic.instantiate(&params(&[(key, bad)])).unwrap_err();
        assert_eq!(e.code(), "PCS91005", "{key}={bad}: {e}");
        let GalleryError::InvalidUrl { field: f, .. } = &e else { panic!("{e:?}") };
        assert_eq!(f, field);
    }
}

#[test]
fn url_validation_helpers() {
    use urls::{validate_identifier as id, validate_reply_url as reply, validate_url as url};
    for ok in [
        "https://acme.bomgar.com",
        "http://sp.example.com/metadata",
        "urn:amazon:cognito:sp:us-east-1_rlgU6e3y5",
        "URN:example:x",
        "https://sp.example.com:8443/saml?x=1",
    ] {
        id(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        "",
        "acme",
        "urn:x",
        "urn::x",
        "urn:x:",
        "mailto:a@b.c",
        "https://<HOSTNAME>.bomgar.com",
        " https://a.b",
    ] {
        let e = id(bad).unwrap_err();
        assert_eq!((e.kind, e.code()), (UrlKind::Identifier, "PCS91005"), "{bad}");
    }
    assert!(id("https://<HOSTNAME>.bomgar.com").unwrap_err().reason.contains("placeholder <HOSTNAME>"));
    for ok in [
        "https://sp.example.com/acs",
        "http://localhost:8080/acs",
        "http://127.0.0.1/acs",
        "http://[::1]:9000/acs",
    ] {
        reply(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        url(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    let long = format!("https://sp.example.com/{}", "a".repeat(urls::MAX_REPLY_URL_LEN));
    for bad in [
        "http://sp.example.com/acs",
        "https://*.example.com/acs",
        "https://sp.example.com/acs#x",
        "https://user:pw@sp.example.com/acs",
        "https://",
        "urn:x:y",
        long.as_str(),
    ] {
        assert!(reply(bad).is_err(), "{bad}");
    }
    assert!(url("http://localhost.evil.com/").is_err());
    assert!(url(&long).is_ok(), "only Reply URLs are held to 256 characters");
}

#[test]
fn lookup_is_case_insensitive_and_unknown_names_list_the_gallery() {
    assert_eq!(gallery::get("ServusConnect").unwrap().name, "servusconnect");
    assert!(gallery::get("nope").is_none());
    let e = gallery::find("nope").unwrap_err();
    assert_eq!(e.code(), "PCS91001");
    assert!(e.to_string().contains("beyondtrust-remote-support"), "{e}");
}

#[test]
fn fixed_identifier_detection() {
    let fixed: Vec<String> =
        gallery::all().into_iter().filter(|t| t.is_fixed_identifier()).map(|t| t.name).collect();
    assert_eq!(fixed, ["ipass-smartconnect", "servusconnect"]);
}

const MINIMAL: &str = r#"
name = "acme"
display_name = "Acme"
description = "d"
publisher = "Acme"
reference = "r"
sso_modes = "both"
[saml]
identifiers = ["https://<TENANT>.acme.com"]
reply_urls = ["https://<TENANT>.acme.com/acs"]
[[parameters]]
name = "TENANT"
description = "your tenant"
"#;

#[test]
fn template_files_are_checked_when_loaded() {
    let t = gallery::parse("acme", MINIMAL).unwrap();
    assert_eq!(t.name_id, None);
    let c = t.instantiate(&params(&[("TENANT", "x")])).unwrap();
    assert_eq!(c.name_id, gallery::default_name_id());
    assert_eq!(c.claims, default_claims());

    let cases = [
        (MINIMAL.replace("publisher", "publisherr"), "unknown field"),
        (MINIMAL.to_string(), "must equal the file name"),
        (
            MINIMAL.replace("[[parameters]]\nname = \"TENANT\"\ndescription = \"your tenant\"\n", ""),
            "no [[parameters]]",
        ),
        (MINIMAL.replace("<TENANT>.acme.com\"]\nreply", "fixed.acme.com\"]\nreply"), "fixed_identifier"),
        (MINIMAL.replace("<TENANT>.acme.com/acs", "<tenant.acme.com/acs"), "not a placeholder"),
        (MINIMAL.replace("\"both\"", "\"sometimes\""), "unknown variant"),
        (format!("{MINIMAL}\n[name_id]\nformat = \"pairwise\"\nsource = \"user.mail\"\n"), "unknown variant"),
        (
            format!(
                "{MINIMAL}\n[[claims.extra]]\nname = \"g\"\nsource = \"user.groups\"\n\
                 transform = {{ kind = \"join\", separator = \",\", other = \"user.mail\" }}\n"
            ),
            "cannot be joined",
        ),
        (format!("{MINIMAL}\n[[claims.extra]]\nname = \"c\"\n"), "exactly one of source and constant"),
        (
            format!("{MINIMAL}\n[[claims.extra]]\nname = \"emailaddress\"\nnamespace = \"{}\"\nsource = \"user.mail\"\n", idp::model::CLAIMS_NS),
            "defined twice",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let file = if i == 1 { "other" } else { "acme" };
        let e = gallery::parse(file, text).unwrap_err();
        assert_eq!(e.code(), "PCS91006");
        assert!(e.to_string().contains(want), "case {i}: {e}");
    }
}

#[test]
fn a_pattern_is_matched_back_to_its_placeholder_values() {
    let p = "https://<HOSTNAME>.bomgar.com/saml/sso";
    assert_eq!(
        gallery::match_pattern(p, "https://acme.bomgar.com/saml/sso"),
        Some(params(&[("HOSTNAME", "acme")]))
    );
    assert_eq!(gallery::match_pattern(p, "https://acme.bomgar.com/saml/sso/x"), None, "trailing text");
    assert_eq!(gallery::match_pattern(p, "https://.bomgar.com/saml/sso"), None, "empty value");
    assert_eq!(gallery::match_pattern(p, "https://acme.example.com/saml/sso"), None);
    assert_eq!(gallery::match_pattern("<IDENTIFIER>", "urn:x"), Some(params(&[("IDENTIFIER", "urn:x")])));
    assert_eq!(gallery::match_pattern("https://a/<A><B>", "https://a/xy"), None, "adjacent placeholders");
    assert_eq!(gallery::match_pattern("https://x.test", "https://x.test"), Some(BTreeMap::new()));
}

/// Issue 14, item 5: after an SP metadata import, the Sign-on URL the template derived from a
/// placeholder follows the imported values, or is cleared; a typed one stays.
#[test]
fn the_templates_sign_on_url_follows_imported_metadata_or_is_cleared() {
    let t = template("beyondtrust-remote-support");
    let guess = "https://example.bomgar.com/saml";
    let real = (&["https://real.bomgar.com"][..], &["https://real.bomgar.com/saml/sso"][..]);
    assert_eq!(
        t.sign_on_url_after_import(guess, real.0, real.1),
        Some(Some("https://real.bomgar.com/saml".into()))
    );
    // Metadata of another shape gives no HOSTNAME: the guess is cleared, never kept.
    let other = (&["https://support.acme.test"][..], &["https://support.acme.test/saml/sso"][..]);
    assert_eq!(t.sign_on_url_after_import(guess, other.0, other.1), Some(None));
    // A Sign-on URL the administrator typed (not the template's pattern) stays.
    assert_eq!(t.sign_on_url_after_import("https://support.acme.test/login", other.0, other.1), None);
    // A whole-field placeholder is the administrator's value; a fixed Sign-on URL is the vendor's.
    let generic = template("generic-saml");
    assert_eq!(generic.sign_on_url_after_import("https://sp.test/login", other.0, other.1), None);
    let fixed = template("servusconnect");
    assert_eq!(fixed.sign_on_url_after_import("https://app.servusconnect.com", other.0, other.1), None);
}
