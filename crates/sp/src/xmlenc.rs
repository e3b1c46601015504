//! XML Encryption for `saml:EncryptedAssertion` (SAML core 2.5, XML Encryption
//! 1.1), the narrow profile IdPs use: an `xenc:EncryptedData` of type Element
//! whose AES key is wrapped for the SP with RSA-OAEP in an `xenc:EncryptedKey`,
//! either inside the EncryptedData's `ds:KeyInfo` or as a sibling that a
//! `ds:RetrievalMethod` (or the key's `xenc:DataReference`) ties to it.
//!
//! Accepted: key transport `xmlenc#rsa-oaep-mgf1p` and `xmlenc11#rsa-oaep` with the
//! same digest for OAEP and MGF1 (SHA-1, SHA-256, SHA-384, SHA-512; aws-lc-rs has no
//! mixed pairs), content `aes128/192/256-cbc` (ISO 10126 padding) and
//! `aes128/192/256-gcm`. Refused: `rsa-1_5` (Bleichenbacher), key agreement,
//! symmetric key wrap, 3DES. All primitives are aws-lc-rs; nothing here is
//! hand-written cryptography. Any failure to unwrap the key or to decrypt reports
//! the one code `SP_DECRYPTION_FAILED`, so that errors do not become an oracle.

use crate::error::{Error, Result};
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_192_GCM, AES_256_GCM};
use aws_lc_rs::cipher::{
    DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey,
    UnboundCipherKey, AES_128, AES_192, AES_256,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{
    OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384,
    OAEP_SHA512_MGF1SHA512,
};
use base64::Engine as _;
use roxmltree::Node;
use saml::xml::{self, NS_DS, NS_XENC};
use zeroize::Zeroizing;

/// XML Encryption 1.1 namespace (GCM, rsa-oaep, MGF).
pub const NS_XENC11: &str = "http://www.w3.org/2009/xmlenc11#";
pub const ALG_RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
pub const ALG_RSA_OAEP: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
pub const ALG_RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
pub const ALG_AES128_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
pub const ALG_AES192_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes192-cbc";
pub const ALG_AES256_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
pub const ALG_AES128_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
pub const ALG_AES192_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes192-gcm";
pub const ALG_AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
const MGF1_PREFIX: &str = "http://www.w3.org/2009/xmlenc11#mgf1";
const TYPE_ENCRYPTED_KEY: &str = "http://www.w3.org/2001/04/xmlenc#EncryptedKey";
/// At most this many EncryptedKeys are tried (one per recipient is normal).
const MAX_KEYS: usize = 4;

/// The SP's RSA private key for EncryptedAssertion (2048 to 8192 bits).
pub struct DecryptionKey {
    key: OaepPrivateDecryptingKey,
    bits: usize,
}

impl std::fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DecryptionKey(RSA-{}, redacted)", self.bits)
    }
}

impl DecryptionKey {
    /// Loads a PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) RSA key, PEM or
    /// DER. Keys under 2048 bits are refused (aws-lc-rs will not use them).
    pub fn load(bytes: &[u8]) -> Result<Self> {
        let signing = saml::crypto::SigningKey::load(bytes).map_err(|e| {
            Error::DecryptionKeyInvalid(format!(
                "{e}; use an RSA key of 2048 to 8192 bits (PKCS#8 or PKCS#1)"
            ))
        })?;
        let pkey = PrivateDecryptingKey::from_pkcs8(signing.pkcs8_der())
            .map_err(|e| Error::DecryptionKeyInvalid(format!("not usable for RSA-OAEP ({e})")))?;
        let bits = pkey.key_size_bits();
        let key = OaepPrivateDecryptingKey::new(pkey)
            .map_err(|_| Error::DecryptionKeyInvalid("not usable for RSA-OAEP".into()))?;
        Ok(DecryptionKey { key, bits })
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }
}

/// The content-encryption algorithms (the key transport is always RSA-OAEP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentAlgorithm {
    Aes128Cbc,
    Aes192Cbc,
    Aes256Cbc,
    Aes128Gcm,
    Aes192Gcm,
    Aes256Gcm,
}

impl ContentAlgorithm {
    fn from_uri(uri: &str) -> Result<Self> {
        Ok(match uri {
            ALG_AES128_CBC => Self::Aes128Cbc,
            ALG_AES192_CBC => Self::Aes192Cbc,
            ALG_AES256_CBC => Self::Aes256Cbc,
            ALG_AES128_GCM => Self::Aes128Gcm,
            ALG_AES192_GCM => Self::Aes192Gcm,
            ALG_AES256_GCM => Self::Aes256Gcm,
            other => return Err(Error::EncryptionAlgorithmUnsupported(other.to_string())),
        })
    }

    /// The algorithm's URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::Aes128Cbc => ALG_AES128_CBC,
            Self::Aes192Cbc => ALG_AES192_CBC,
            Self::Aes256Cbc => ALG_AES256_CBC,
            Self::Aes128Gcm => ALG_AES128_GCM,
            Self::Aes192Gcm => ALG_AES192_GCM,
            Self::Aes256Gcm => ALG_AES256_GCM,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::Aes128Cbc | Self::Aes128Gcm => 16,
            Self::Aes192Cbc | Self::Aes192Gcm => 24,
            Self::Aes256Cbc | Self::Aes256Gcm => 32,
        }
    }

    /// CBC is not authenticated: its ciphertext can be changed without the key.
    pub fn is_authenticated(self) -> bool {
        !matches!(self, Self::Aes128Cbc | Self::Aes192Cbc | Self::Aes256Cbc)
    }
}

/// The key-transport algorithms offered for encrypting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTransport {
    /// `xmlenc#rsa-oaep-mgf1p` (SHA-1 for OAEP and MGF1): what most IdPs send.
    RsaOaepMgf1p,
    /// `xmlenc11#rsa-oaep` with SHA-256 for OAEP and MGF1.
    RsaOaepSha256,
}

/// What an EncryptedAssertion held: the plaintext (an `saml:Assertion` as XML
/// text) and whether its ciphertext was authenticated by the cipher itself.
pub struct Decrypted {
    pub plaintext: Zeroizing<String>,
    pub content: ContentAlgorithm,
}

fn b64(what: &str, node: Node<'_, '_>) -> Result<Vec<u8>> {
    let text: String = xml::text_content(node)?.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| Error::EncryptedDataMalformed(format!("{what} is not base64 ({e})")))
}

fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, local: &str, what: &str) -> Result<Node<'a, 'i>> {
    xml::child(node, ns, local).ok_or_else(|| Error::EncryptedDataMalformed(format!("{what} is missing")))
}

fn algorithm<'a>(node: Node<'a, '_>, what: &str) -> Result<&'a str> {
    let m = child(node, NS_XENC, "EncryptionMethod", &format!("the {what}'s xenc:EncryptionMethod"))?;
    m.attribute("Algorithm").ok_or_else(|| {
        Error::EncryptedDataMalformed(format!("the {what}'s EncryptionMethod has no Algorithm"))
    })
}

fn cipher_value(node: Node<'_, '_>, what: &str) -> Result<Vec<u8>> {
    let data = child(node, NS_XENC, "CipherData", &format!("the {what}'s xenc:CipherData"))?;
    if xml::child(data, NS_XENC, "CipherReference").is_some() {
        return Err(Error::EncryptedDataMalformed(format!(
            "the {what} uses a CipherReference; only an inline CipherValue is accepted"
        )));
    }
    b64(what, child(data, NS_XENC, "CipherValue", &format!("the {what}'s xenc:CipherValue"))?)
}

/// The OAEP parameters an EncryptedKey's EncryptionMethod names, checked
/// before anything is decrypted (so rsa-1_5 is refused without touching the key).
fn oaep_algorithm(key: Node<'_, '_>) -> Result<(&'static OaepAlgorithm, Option<Vec<u8>>)> {
    let alg = algorithm(key, "EncryptedKey")?;
    let method = child(key, NS_XENC, "EncryptionMethod", "xenc:EncryptionMethod")?;
    let digest = xml::child(method, NS_DS, "DigestMethod")
        .map(|d| d.attribute("Algorithm").unwrap_or_default())
        .unwrap_or(saml::xml::ALG_SHA1);
    let mgf = xml::child(method, NS_XENC11, "MGF").map(|m| m.attribute("Algorithm").unwrap_or_default());
    let label = xml::child(method, NS_XENC, "OAEPparams").map(|p| b64("OAEPparams", p)).transpose()?;
    let digest_name = match digest {
        saml::xml::ALG_SHA1 => "sha1",
        saml::xml::ALG_SHA256 => "sha256",
        saml::xml::ALG_SHA384 => "sha384",
        saml::xml::ALG_SHA512 => "sha512",
        other => return Err(Error::EncryptionAlgorithmUnsupported(other.to_string())),
    };
    let mgf_name = match (alg, mgf) {
        (ALG_RSA_1_5, _) => return Err(Error::KeyTransportRefused(alg.to_string())),
        // rsa-oaep-mgf1p fixes MGF1 with SHA-1.
        (ALG_RSA_OAEP_MGF1P, None) => "sha1",
        (ALG_RSA_OAEP_MGF1P, Some(m)) => {
            return Err(Error::EncryptedDataMalformed(format!("rsa-oaep-mgf1p takes no MGF element ({m:?})")))
        }
        (ALG_RSA_OAEP, None) => "sha1",
        (ALG_RSA_OAEP, Some(m)) => {
            m.strip_prefix(MGF1_PREFIX).ok_or_else(|| Error::EncryptionAlgorithmUnsupported(m.to_string()))?
        }
        (other, _) => return Err(Error::EncryptionAlgorithmUnsupported(other.to_string())),
    };
    if digest_name != mgf_name {
        return Err(Error::EncryptionAlgorithmUnsupported(format!(
            "{alg} with OAEP digest {digest_name} and MGF1 {mgf_name} (only equal digests are supported)"
        )));
    }
    let oaep = match digest_name {
        "sha1" => &OAEP_SHA1_MGF1SHA1,
        "sha256" => &OAEP_SHA256_MGF1SHA256,
        "sha384" => &OAEP_SHA384_MGF1SHA384,
        _ => &OAEP_SHA512_MGF1SHA512,
    };
    Ok((oaep, label))
}

/// The EncryptedKeys that may hold the content key of `data`: those inside its
/// KeyInfo, and siblings (children of the EncryptedAssertion) that a
/// RetrievalMethod names or whose ReferenceList names `data`, or the only sibling.
fn candidate_keys<'a, 'i>(
    encrypted_assertion: Node<'a, 'i>,
    data: Node<'a, 'i>,
) -> Result<Vec<Node<'a, 'i>>> {
    let mut keys = Vec::new();
    let siblings: Vec<_> = xml::element_children(encrypted_assertion)
        .filter(|n| xml::is_element(*n, NS_XENC, "EncryptedKey"))
        .collect();
    if let Some(info) = xml::child(data, NS_DS, "KeyInfo") {
        for k in xml::element_children(info) {
            if xml::is_element(k, NS_XENC, "EncryptedKey") {
                keys.push(k);
            } else if xml::is_element(k, NS_DS, "RetrievalMethod") {
                if let Some(t) = k.attribute("Type") {
                    if t != TYPE_ENCRYPTED_KEY {
                        continue;
                    }
                }
                let uri = k.attribute("URI").unwrap_or_default();
                let id = uri.strip_prefix('#').ok_or_else(|| {
                    Error::EncryptedDataMalformed(format!(
                        "RetrievalMethod URI {uri:?} must point at an EncryptedKey in the same EncryptedAssertion"
                    ))
                })?;
                let target = siblings.iter().find(|s| s.attribute("Id") == Some(id)).ok_or_else(|| {
                    Error::EncryptedDataMalformed(format!(
                        "RetrievalMethod names #{id}, which is not a sibling EncryptedKey"
                    ))
                })?;
                keys.push(*target);
            }
        }
    }
    if keys.is_empty() {
        let data_id = data.attribute("Id");
        let referenced: Vec<_> = siblings
            .iter()
            .filter(|k| {
                xml::child(**k, NS_XENC, "ReferenceList").is_some_and(|list| {
                    xml::children(list, NS_XENC, "DataReference").any(|r| {
                        r.attribute("URI")
                            .and_then(|u| u.strip_prefix('#'))
                            .is_some_and(|u| Some(u) == data_id)
                    })
                })
            })
            .copied()
            .collect();
        if !referenced.is_empty() {
            keys = referenced;
        } else if siblings.len() == 1 {
            keys = siblings;
        }
    }
    if keys.is_empty() {
        return Err(Error::EncryptedDataMalformed("no xenc:EncryptedKey for the EncryptedData".into()));
    }
    keys.truncate(MAX_KEYS);
    Ok(keys)
}

/// Decrypts one `saml:EncryptedAssertion` element with the SP's key.
pub fn decrypt_assertion(encrypted_assertion: Node<'_, '_>, key: &DecryptionKey) -> Result<Decrypted> {
    let data = xml::element_children(encrypted_assertion)
        .next()
        .filter(|n| xml::is_element(*n, NS_XENC, "EncryptedData"))
        .ok_or_else(|| Error::EncryptedDataMalformed("the first child must be xenc:EncryptedData".into()))?;
    if let Some(t) = data.attribute("Type") {
        if t != "http://www.w3.org/2001/04/xmlenc#Element" {
            return Err(Error::EncryptedDataMalformed(format!("EncryptedData Type {t:?} is not Element")));
        }
    }
    let content = ContentAlgorithm::from_uri(algorithm(data, "EncryptedData")?)?;
    let keys = candidate_keys(encrypted_assertion, data)?;
    // Check every key's algorithms first: a refused algorithm is reported as such.
    let params = keys.iter().map(|k| oaep_algorithm(*k)).collect::<Result<Vec<_>>>()?;
    let ciphertext = cipher_value(data, "EncryptedData")?;
    let mut content_key = None;
    for (k, (oaep, label)) in keys.iter().zip(params) {
        let wrapped = cipher_value(*k, "EncryptedKey")?;
        let mut out = Zeroizing::new(vec![0u8; key.key.min_output_size()]);
        if let Ok(plain) = key.key.decrypt(oaep, &wrapped, &mut out, label.as_deref()) {
            if plain.len() == content.key_len() {
                content_key = Some(Zeroizing::new(plain.to_vec()));
                break;
            }
        }
    }
    let content_key = content_key.ok_or(Error::DecryptionFailed)?;
    let plain = decrypt_content(content, &content_key, ciphertext)?;
    let text = String::from_utf8(plain.to_vec()).map_err(|_| Error::DecryptionFailed)?;
    Ok(Decrypted { plaintext: Zeroizing::new(text), content })
}

fn decrypt_content(alg: ContentAlgorithm, key: &[u8], mut data: Vec<u8>) -> Result<Zeroizing<Vec<u8>>> {
    let failed = |_| Error::DecryptionFailed;
    let out = match alg {
        ContentAlgorithm::Aes128Cbc | ContentAlgorithm::Aes192Cbc | ContentAlgorithm::Aes256Cbc => {
            if data.len() < 32 || data.len() & 15 != 0 {
                return Err(Error::DecryptionFailed);
            }
            let cipher = match alg {
                ContentAlgorithm::Aes128Cbc => &AES_128,
                ContentAlgorithm::Aes192Cbc => &AES_192,
                _ => &AES_256,
            };
            let iv: [u8; 16] = data[..16].try_into().map_err(|_| Error::DecryptionFailed)?;
            let mut body = Zeroizing::new(data.split_off(16));
            let k =
                PaddedBlockDecryptingKey::cbc_iso10126(UnboundCipherKey::new(cipher, key).map_err(failed)?)
                    .map_err(failed)?;
            let plain =
                k.decrypt(&mut body, DecryptionContext::Iv128(FixedLength::from(iv))).map_err(failed)?;
            Zeroizing::new(plain.to_vec())
        }
        _ => {
            if data.len() < 12 + 16 {
                return Err(Error::DecryptionFailed);
            }
            let cipher = match alg {
                ContentAlgorithm::Aes128Gcm => &AES_128_GCM,
                ContentAlgorithm::Aes192Gcm => &AES_192_GCM,
                _ => &AES_256_GCM,
            };
            let nonce = Nonce::try_assume_unique_for_key(&data[..12]).map_err(failed)?;
            let mut body = Zeroizing::new(data.split_off(12));
            let k = LessSafeKey::new(UnboundKey::new(cipher, key).map_err(failed)?);
            let plain = k.open_in_place(nonce, Aad::empty(), &mut body).map_err(failed)?;
            Zeroizing::new(plain.to_vec())
        }
    };
    Ok(out)
}

/// The SP's public key, from its certificate, for encrypting assertions to it
/// (used by IdPs and by the tests' generators).
pub struct EncryptionKey(OaepPublicEncryptingKey);

impl EncryptionKey {
    /// The RSA key of an X.509 certificate (the SP's encryption certificate).
    pub fn from_certificate(cert: &saml::crypto::Certificate) -> Result<Self> {
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.der())
            .map_err(|e| Error::DecryptionKeyInvalid(format!("certificate: {e}")))?;
        let spki = parsed.tbs_certificate.subject_pki.raw;
        let public = PublicEncryptingKey::from_der(spki)
            .map_err(|e| Error::DecryptionKeyInvalid(format!("certificate key: {e}")))?;
        let key = OaepPublicEncryptingKey::new(public)
            .map_err(|_| Error::DecryptionKeyInvalid("certificate key is not usable for RSA-OAEP".into()))?;
        Ok(EncryptionKey(key))
    }
}

/// Encrypts `assertion_xml` (a standalone `saml:Assertion`, namespaces declared on
/// it) into a `saml:EncryptedAssertion` for the holder of `to`. `key_inside`
/// puts the EncryptedKey in the EncryptedData's KeyInfo; otherwise it follows as a
/// sibling named by a RetrievalMethod (both layouts are common).
pub fn encrypt_assertion(
    assertion_xml: &str,
    to: &EncryptionKey,
    transport: KeyTransport,
    content: ContentAlgorithm,
    key_inside: bool,
) -> Result<String> {
    let crypto = |_| Error::Saml(saml::Error::Crypto("encryption failed".into()));
    let rng = SystemRandom::new();
    let mut cek = Zeroizing::new(vec![0u8; content.key_len()]);
    rng.fill(&mut cek).map_err(crypto)?;
    let mut body = assertion_xml.as_bytes().to_vec();
    let ciphertext = if content.is_authenticated() {
        let alg = match content {
            ContentAlgorithm::Aes128Gcm => &AES_128_GCM,
            ContentAlgorithm::Aes192Gcm => &AES_192_GCM,
            _ => &AES_256_GCM,
        };
        let mut iv = [0u8; 12];
        rng.fill(&mut iv).map_err(crypto)?;
        let k = LessSafeKey::new(UnboundKey::new(alg, &cek).map_err(crypto)?);
        k.seal_in_place_append_tag(Nonce::assume_unique_for_key(iv), Aad::empty(), &mut body)
            .map_err(crypto)?;
        [iv.as_slice(), &body].concat()
    } else {
        let alg = match content {
            ContentAlgorithm::Aes128Cbc => &AES_128,
            ContentAlgorithm::Aes192Cbc => &AES_192,
            _ => &AES_256,
        };
        let mut iv = [0u8; 16];
        rng.fill(&mut iv).map_err(crypto)?;
        // PKCS#7 padding is one of the paddings ISO 10126 allows (last byte = length).
        let k = PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(alg, &cek).map_err(crypto)?)
            .map_err(crypto)?;
        k.less_safe_encrypt(&mut body, EncryptionContext::Iv128(FixedLength::from(iv))).map_err(crypto)?;
        [iv.as_slice(), &body].concat()
    };
    let (oaep, method) = match transport {
        KeyTransport::RsaOaepMgf1p => (
            &OAEP_SHA1_MGF1SHA1,
            format!(
                r#"<xenc:EncryptionMethod Algorithm="{ALG_RSA_OAEP_MGF1P}"><ds:DigestMethod Algorithm="{}"/></xenc:EncryptionMethod>"#,
                saml::xml::ALG_SHA1
            ),
        ),
        KeyTransport::RsaOaepSha256 => (
            &OAEP_SHA256_MGF1SHA256,
            format!(
                r#"<xenc:EncryptionMethod Algorithm="{ALG_RSA_OAEP}"><ds:DigestMethod Algorithm="{}"/><xenc11:MGF xmlns:xenc11="{NS_XENC11}" Algorithm="{MGF1_PREFIX}sha256"/></xenc:EncryptionMethod>"#,
                saml::xml::ALG_SHA256
            ),
        ),
    };
    let mut wrapped = vec![0u8; to.0.ciphertext_size()];
    let wrapped = to.0.encrypt(oaep, &cek, &mut wrapped, None).map_err(crypto)?;
    let b = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let id = saml::model::new_id()?;
    let encrypted_key = format!(
        r#"<xenc:EncryptedKey xmlns:xenc="{NS_XENC}" xmlns:ds="{NS_DS}" Id="{id}k">{method}<xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey>"#,
        b(wrapped)
    );
    let key_info = if key_inside {
        format!("<ds:KeyInfo>{encrypted_key}</ds:KeyInfo>")
    } else {
        format!(
            r##"<ds:KeyInfo><ds:RetrievalMethod Type="{TYPE_ENCRYPTED_KEY}" URI="#{id}k"/></ds:KeyInfo>"##
        )
    };
    Ok(format!(
        r#"<saml:EncryptedAssertion xmlns:saml="{}"><xenc:EncryptedData xmlns:xenc="{NS_XENC}" xmlns:ds="{NS_DS}" Id="{id}d" Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="{}"/>{key_info}<xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>{}</saml:EncryptedAssertion>"#,
        saml::xml::NS_SAML,
        content.uri(),
        b(&ciphertext),
        if key_inside { String::new() } else { encrypted_key },
    ))
}
