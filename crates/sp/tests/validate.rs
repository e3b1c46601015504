//! Library-level behaviour beyond verdicts: what an accepted login carries, the
//! IdP's status surfaced, one-time use through the replay cache, and metadata
//! handling (several signing certificates, refusals).

use saml::FixedClock;
use sp::{accept_response, validate_response, IdpTrust, InMemoryReplayCache, ReplayCache, SpConfig};
use std::path::{Path, PathBuf};
use time::macros::datetime;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn case(name: &str) -> String {
    std::fs::read_to_string(corpus().join("cases").join(name)).unwrap()
}

fn config() -> SpConfig {
    let md = std::fs::read_to_string(corpus().join("keys/idp-metadata.xml")).unwrap();
    SpConfig::new(
        "https://sp.example.com",
        "https://sp.example.com/acs",
        IdpTrust::from_metadata(&md, None).unwrap(),
    )
}

const NOW: FixedClock = FixedClock(datetime!(2030-01-01 00:01:00 UTC));

#[test]
fn an_accepted_login_carries_nameid_format_multivalued_attributes_and_session_end() {
    let login =
        validate_response(&case("valid-signed-response.xml"), &config(), Some("_req1"), &NOW).unwrap();
    assert_eq!(login.name_id, "alice@example.com");
    assert_eq!(
        login.name_id_format.as_deref(),
        Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
    );
    assert_eq!(login.attribute("Email"), ["alice@example.com"]);
    assert_eq!(
        login.attribute("Groups"),
        ["0b1c6e2a-7d3f-4a8e-9f00-1a2b3c4d5e6f", "5f4e3d2c-1b0a-4f9e-8d7c-6b5a49382716"]
    );
    assert_eq!(login.session_not_on_or_after, Some(datetime!(2030-01-01 08:00:00 UTC)));
    assert_eq!(login.session_index.as_deref(), Some("_s1"));
    assert!(login.response_signed && !login.assertion_signed && !login.encrypted);
    // Remembered until the later of the two NotOnOrAfter values, plus the skew.
    assert_eq!(login.remember_until, datetime!(2030-01-01 00:08:00 UTC));
}

#[test]
fn a_non_success_status_surfaces_both_status_codes_and_the_idp_message() {
    let err =
        validate_response(&case("status-authn-failed.xml"), &config(), Some("_req1"), &NOW).unwrap_err();
    assert_eq!(err.code(), "SP_STATUS_NOT_SUCCESS");
    match &err {
        sp::Error::StatusNotSuccess { code, sub_code, message } => {
            assert_eq!(code, "urn:oasis:names:tc:SAML:2.0:status:Responder");
            assert_eq!(sub_code.as_deref(), Some("urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"));
            assert_eq!(message.as_deref(), Some("Account locked out"));
        }
        other => panic!("unexpected {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("AuthnFailed") && text.contains("Account locked out"), "{text}");
}

#[tokio::test]
async fn a_replayed_assertion_is_refused_by_the_replay_cache() {
    let cache = InMemoryReplayCache::new();
    let cfg = config();
    let xml = case("valid-signed-assertion.xml");
    let first = accept_response(&xml, &cfg, Some("_req1"), &NOW, &cache).await.unwrap();
    assert_eq!(first.assertion_id, "_a1");
    let later = FixedClock(datetime!(2030-01-01 00:02:00 UTC));
    let again = accept_response(&xml, &cfg, Some("_req1"), &later, &cache).await.unwrap_err();
    assert_eq!(again.code(), "SP_REPLAY", "{again}");
    // The same assertion ID delivered in another Response (here encrypted) is the same replay.
    let other = accept_response(
        &case("valid-encrypted-signed-assertion-gcm.xml"),
        &cfg_with_key(),
        Some("_req1"),
        &later,
        &cache,
    )
    .await
    .unwrap_err();
    assert_eq!(other.code(), "SP_REPLAY", "{other}");
    // Without the replay step the same response still validates (the CLI's path).
    validate_response(&xml, &cfg, Some("_req1"), &later).unwrap();
}

fn cfg_with_key() -> SpConfig {
    let mut cfg = config();
    cfg.decryption_key =
        Some(sp::DecryptionKey::load(&std::fs::read(corpus().join("keys/sp.key")).unwrap()).unwrap());
    cfg
}

#[tokio::test]
async fn the_cache_forgets_an_id_only_after_it_expires() {
    let cache = InMemoryReplayCache::new();
    let t0 = datetime!(2030-01-01 00:00:00 UTC);
    let until = datetime!(2030-01-01 00:10:00 UTC);
    cache.check_and_remember("_x", until, t0).await.unwrap();
    let e = cache.check_and_remember("_x", until, datetime!(2030-01-01 00:09:59 UTC)).await.unwrap_err();
    assert_eq!(e.code(), "SP_REPLAY");
    cache.check_and_remember("_y", until, datetime!(2030-01-01 00:09:59 UTC)).await.unwrap();
    assert_eq!(cache.len(), 2);
    // At the expiry instant the entries are dropped and the ID is usable again.
    cache.check_and_remember("_x", datetime!(2030-01-01 00:20:00 UTC), until).await.unwrap();
    assert_eq!(cache.len(), 1);
}

#[test]
fn metadata_with_several_signing_certificates_trusts_each_and_refusals_have_codes() {
    let md = std::fs::read_to_string(corpus().join("keys/idp-metadata.xml")).unwrap();
    let idp = IdpTrust::from_metadata(&md, None).unwrap();
    assert_eq!(idp.entity_id, "https://idp.example.com/");
    assert_eq!(idp.signing_certs.len(), 2);
    // The rollover case verifies only with the second certificate.
    let mut only_first = config();
    only_first.idp.signing_certs.truncate(1);
    let e = validate_response(&case("valid-rollover-second-cert.xml"), &only_first, Some("_req1"), &NOW)
        .unwrap_err();
    assert_eq!(e.code(), "SIG_INVALID");
    validate_response(&case("valid-rollover-second-cert.xml"), &config(), Some("_req1"), &NOW).unwrap();

    let sp_only = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example.com"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.com/acs" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>"#;
    assert_eq!(IdpTrust::from_metadata(sp_only, None).unwrap_err().code(), "SP_METADATA_NO_IDP");
    let no_keys = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#;
    assert_eq!(
        IdpTrust::from_metadata(no_keys, None).unwrap_err().code(),
        "SP_METADATA_NO_SIGNING_CERTIFICATE"
    );
    let two = format!(
        r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{}{}</md:EntitiesDescriptor>"#,
        md.trim(),
        md.trim().replace("https://idp.example.com/", "https://idp2.example.com/")
    );
    assert_eq!(IdpTrust::from_metadata(&two, None).unwrap_err().code(), "SP_METADATA_AMBIGUOUS");
    assert_eq!(
        IdpTrust::from_metadata(&two, Some("https://idp2.example.com/")).unwrap().entity_id,
        "https://idp2.example.com/"
    );
}

#[test]
fn the_decryption_key_debug_output_is_redacted() {
    let key = sp::DecryptionKey::load(&std::fs::read(corpus().join("keys/sp.key")).unwrap()).unwrap();
    assert_eq!(format!("{key:?}"), "DecryptionKey(RSA-2048, redacted)");
}

/// An Assertion that relies on the Response's `xmlns:saml` declaration (as IdPs that
/// sign in place write it) is encrypted as it stands; after decryption it must parse
/// and its signature verify in the namespace context of the EncryptedAssertion.
#[test]
fn a_decrypted_assertion_is_read_and_verified_in_the_context_of_the_encrypted_assertion() {
    use saml::crypto::{Certificate, SigningKey};
    use sp::xmlenc::{encrypt_assertion, ContentAlgorithm, EncryptionKey, KeyTransport};
    let k = |n: &str| std::fs::read(corpus().join("keys").join(n)).unwrap();
    let key = SigningKey::load(&k("idp.key")).unwrap();
    let cert = Certificate::load(&k("idp.crt")).unwrap();
    // The corpus's signed-response case, with the Assertion's own xmlns:saml removed.
    let response = case("valid-signed-response.xml");
    let without_sig = {
        let a = response.find("<ds:Signature").unwrap();
        let b = response.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        format!("{}{}", &response[..a], &response[b..])
    }
    .replacen(
        r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" "#,
        "<saml:Assertion ",
        1,
    );
    let signed_in_place =
        saml::dsig::sign_element(&without_sig, "_a1", &key, Some(&cert), &saml::dsig::SignOptions::default())
            .unwrap();
    let a = signed_in_place.find("<saml:Assertion ").unwrap();
    let b = signed_in_place.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let assertion_text = &signed_in_place[a..b];
    assert!(!assertion_text.contains("xmlns:saml="), "the assertion inherits its prefix");
    let to = EncryptionKey::from_certificate(&Certificate::load(&k("sp.crt")).unwrap()).unwrap();
    let encrypted = encrypt_assertion(
        assertion_text,
        &to,
        KeyTransport::RsaOaepSha256,
        ContentAlgorithm::Aes256Gcm,
        true,
    )
    .unwrap()
    .replacen(
        r#"<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">"#,
        "<saml:EncryptedAssertion>",
        1,
    );
    let xml = format!("{}{}{}", &signed_in_place[..a], encrypted, &signed_in_place[b..]);
    let login = validate_response(&xml, &cfg_with_key(), Some("_req1"), &NOW).unwrap();
    assert_eq!(login.name_id, "alice@example.com");
    assert!(login.encrypted && login.assertion_signed);
    // Standalone (no inherited prefix) the same plaintext would not even parse.
    assert!(saml::xml::parse(assertion_text, &saml::xml::Limits::MESSAGE).is_err());
}
