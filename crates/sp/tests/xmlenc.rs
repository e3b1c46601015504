//! Our own EncryptedAssertion layouts and algorithms round-trip, a key for several
//! recipients is found, and structural games are refused with their codes.

use saml::crypto::Certificate;
use saml::xml::{self, Limits, NS_SAML};
use sp::xmlenc::{decrypt_assertion, encrypt_assertion, ContentAlgorithm, EncryptionKey, KeyTransport};
use sp::DecryptionKey;
use std::path::{Path, PathBuf};

const ASSERTION: &str = r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"><saml:Issuer>https://idp.example.com/</saml:Issuer><saml:Subject><saml:NameID>dave</saml:NameID></saml:Subject></saml:Assertion>"#;

fn keys() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/keys")
}

fn encryption_key(name: &str) -> EncryptionKey {
    let cert = Certificate::load(&std::fs::read(keys().join(format!("{name}.crt"))).unwrap()).unwrap();
    EncryptionKey::from_certificate(&cert).unwrap()
}

fn decryption_key(name: &str) -> DecryptionKey {
    DecryptionKey::load(&std::fs::read(keys().join(format!("{name}.key"))).unwrap()).unwrap()
}

fn decrypt(encrypted: &str, key: &DecryptionKey) -> sp::Result<String> {
    let doc = xml::parse(encrypted, &Limits::MESSAGE).unwrap();
    let enc = doc.descendants().find(|n| xml::is_element(*n, NS_SAML, "EncryptedAssertion")).unwrap();
    decrypt_assertion(enc, key).map(|d| d.plaintext.to_string())
}

#[test]
fn every_content_algorithm_transport_and_layout_round_trips() {
    let (to, key) = (encryption_key("sp"), decryption_key("sp"));
    for content in [
        ContentAlgorithm::Aes128Cbc,
        ContentAlgorithm::Aes192Cbc,
        ContentAlgorithm::Aes256Cbc,
        ContentAlgorithm::Aes128Gcm,
        ContentAlgorithm::Aes192Gcm,
        ContentAlgorithm::Aes256Gcm,
    ] {
        for transport in [KeyTransport::RsaOaepMgf1p, KeyTransport::RsaOaepSha256] {
            for inside in [true, false] {
                let e = encrypt_assertion(ASSERTION, &to, transport, content, inside).unwrap();
                assert_eq!(
                    decrypt(&e, &key).unwrap(),
                    ASSERTION,
                    "{content:?} {transport:?} inside={inside}"
                );
            }
        }
    }
}

#[test]
fn the_key_for_this_sp_is_found_among_several_recipients() {
    let ours = encrypt_assertion(
        ASSERTION,
        &encryption_key("sp"),
        KeyTransport::RsaOaepMgf1p,
        ContentAlgorithm::Aes256Gcm,
        true,
    )
    .unwrap();
    // Another recipient's EncryptedKey (valid OAEP for another key) first in KeyInfo.
    let theirs = encrypt_assertion(
        ASSERTION,
        &encryption_key("other-sp"),
        KeyTransport::RsaOaepMgf1p,
        ContentAlgorithm::Aes256Gcm,
        true,
    )
    .unwrap();
    let key_of = |s: &str| {
        let a = s.find("<xenc:EncryptedKey").unwrap();
        let b = s.find("</xenc:EncryptedKey>").unwrap() + "</xenc:EncryptedKey>".len();
        s[a..b].to_string()
    };
    let two = ours.replacen("<ds:KeyInfo>", &format!("<ds:KeyInfo>{}", key_of(&theirs)), 1);
    assert_eq!(decrypt(&two, &decryption_key("sp")).unwrap(), ASSERTION);
}

#[test]
fn structural_games_are_refused_with_their_codes() {
    let e = encrypt_assertion(
        ASSERTION,
        &encryption_key("sp"),
        KeyTransport::RsaOaepMgf1p,
        ContentAlgorithm::Aes128Cbc,
        false,
    )
    .unwrap();
    let key = decryption_key("sp");
    let code = |s: &str| decrypt(s, &key).unwrap_err().code();
    // RetrievalMethod naming an element that is not a sibling EncryptedKey.
    let dangling = e.replacen(r##"URI="#"##, r##"URI="#nowhere"##, 1);
    assert_eq!(code(&dangling), "SP_ENCRYPTED_DATA_MALFORMED");
    // A RetrievalMethod that is not a same-document reference.
    let external = e.replacen(r##"URI="#"##, r##"URI="https://evil.example.com/key#"##, 1);
    assert_eq!(code(&external), "SP_ENCRYPTED_DATA_MALFORMED");
    // CipherReference instead of CipherValue.
    let reference = e.replacen(
        "<xenc:CipherValue>",
        r#"<xenc:CipherReference URI="https://evil.example.com/"/><xenc:CipherValue>"#,
        1,
    );
    assert_eq!(code(&reference), "SP_ENCRYPTED_DATA_MALFORMED");
    // Not base64.
    let garbage = e.replacen("<xenc:CipherValue>", "<xenc:CipherValue>$$", 1);
    assert_eq!(code(&garbage), "SP_ENCRYPTED_DATA_MALFORMED");
    // rsa-1_5 is refused before the key is used, even with a valid OAEP ciphertext.
    let rsa15 = e.replace(sp::xmlenc::ALG_RSA_OAEP_MGF1P, sp::xmlenc::ALG_RSA_1_5);
    assert_eq!(code(&rsa15), "SP_KEY_TRANSPORT_REFUSED");
    // OAEP digest SHA-256 with MGF1-SHA-1 (legal, but aws-lc-rs has no such pair).
    let mixed = e.replace(saml::xml::ALG_SHA1, saml::xml::ALG_SHA256);
    assert_eq!(code(&mixed), "SP_ENCRYPTION_ALGORITHM_UNSUPPORTED");
    // The wrapped key changed (the sibling EncryptedKey's CipherValue is the last one): OAEP fails.
    let tampered = {
        let a = e.rfind("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len();
        let mut t = e.clone();
        let c = if &e[a..a + 1] == "A" { "B" } else { "A" };
        t.replace_range(a..a + 1, c);
        t
    };
    assert_eq!(code(&tampered), "SP_DECRYPTION_FAILED");
}
