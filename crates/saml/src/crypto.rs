//! Keys, certificates and the signature/digest algorithms XML-DSig names.
//!
//! RSA and digests come from `aws-lc-rs` (the crypto rustls uses), certificates
//! are generated with `rcgen` and parsed with `x509-parser`. Private key bytes live
//! in `Zeroizing` buffers and the key's `Debug` output is redacted.

use crate::error::{Error, Result};
use crate::xml::*;
use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self as sig, KeyPair as _, RsaKeyPair, UnparsedPublicKey};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// A digest algorithm as named by XML-DSig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgorithm {
    pub fn from_uri(uri: &str) -> Result<Self> {
        Ok(match uri {
            ALG_SHA1 => Self::Sha1,
            ALG_SHA256 => Self::Sha256,
            ALG_SHA384 => Self::Sha384,
            ALG_SHA512 => Self::Sha512,
            other => return Err(Error::SignatureAlgorithm(other.to_string())),
        })
    }

    pub fn uri(self) -> &'static str {
        match self {
            Self::Sha1 => ALG_SHA1,
            Self::Sha256 => ALG_SHA256,
            Self::Sha384 => ALG_SHA384,
            Self::Sha512 => ALG_SHA512,
        }
    }

    pub fn is_sha1(self) -> bool {
        self == Self::Sha1
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let alg = match self {
            Self::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        };
        digest::digest(alg, data).as_ref().to_vec()
    }
}

/// A signature algorithm as named by XML-DSig and the SAML bindings' `SigAlg`.
/// Only RSA PKCS#1 v1.5 is supported: it is what every SAML peer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    RsaSha1,
    RsaSha256,
    RsaSha384,
    RsaSha512,
}

impl SignatureAlgorithm {
    pub fn from_uri(uri: &str) -> Result<Self> {
        Ok(match uri {
            ALG_RSA_SHA1 => Self::RsaSha1,
            ALG_RSA_SHA256 => Self::RsaSha256,
            ALG_RSA_SHA384 => Self::RsaSha384,
            ALG_RSA_SHA512 => Self::RsaSha512,
            other => return Err(Error::SignatureAlgorithm(other.to_string())),
        })
    }

    pub fn uri(self) -> &'static str {
        match self {
            Self::RsaSha1 => ALG_RSA_SHA1,
            Self::RsaSha256 => ALG_RSA_SHA256,
            Self::RsaSha384 => ALG_RSA_SHA384,
            Self::RsaSha512 => ALG_RSA_SHA512,
        }
    }

    pub fn is_sha1(self) -> bool {
        self == Self::RsaSha1
    }

    /// The digest algorithm that goes with this signature algorithm.
    pub fn digest(self) -> DigestAlgorithm {
        match self {
            Self::RsaSha1 => DigestAlgorithm::Sha1,
            Self::RsaSha256 => DigestAlgorithm::Sha256,
            Self::RsaSha384 => DigestAlgorithm::Sha384,
            Self::RsaSha512 => DigestAlgorithm::Sha512,
        }
    }

    /// The padding scheme used to sign with aws-lc-rs. It offers no SHA-1 signing:
    /// [`SigningKey::sign`] takes RSA-SHA1 through [`crate::legacy_sha1`] instead.
    fn signing(self) -> Result<&'static dyn sig::RsaEncoding> {
        match self {
            Self::RsaSha1 => Err(Error::Sha1NotAllowed("signing".into())),
            Self::RsaSha256 => Ok(&sig::RSA_PKCS1_SHA256),
            Self::RsaSha384 => Ok(&sig::RSA_PKCS1_SHA384),
            Self::RsaSha512 => Ok(&sig::RSA_PKCS1_SHA512),
        }
    }

    // Verification accepts RSA keys from 1024 bits: the key is one an administrator
    // configured as trusted, and long-lived IdPs still publish 1024-bit keys.
    fn verification(self) -> &'static sig::RsaParameters {
        match self {
            Self::RsaSha1 => &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
            Self::RsaSha256 => &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            Self::RsaSha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            Self::RsaSha512 => &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        }
    }
}

/// An RSA private key used to sign messages and metadata.
pub struct SigningKey {
    pair: RsaKeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(RSA-{}, redacted)", self.bits())
    }
}

impl SigningKey {
    /// Generates a new RSA key of 2048, 3072 or 4096 bits.
    pub fn generate(bits: usize) -> Result<Self> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            other => {
                return Err(Error::Key(format!(
                    "RSA key size {other} is not offered; use 2048, 3072 or 4096"
                )))
            }
        };
        let pair =
            RsaKeyPair::generate(size).map_err(|_| Error::Crypto("RSA key generation failed".into()))?;
        let pkcs8 = pair.as_der().map_err(|_| Error::Crypto("PKCS#8 encoding failed".into()))?;
        let pkcs8 = Zeroizing::new(pkcs8.as_ref().to_vec());
        Ok(SigningKey { pair, pkcs8 })
    }

    /// Loads a PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) key, as PEM or DER.
    pub fn load(bytes: &[u8]) -> Result<Self> {
        if let Some(block) = first_pem_block(bytes, &["PRIVATE KEY", "RSA PRIVATE KEY"])? {
            let der = Zeroizing::new(block.into_contents());
            return Self::from_der(&der);
        }
        Self::from_der(bytes)
    }

    /// Loads a DER key: PKCS#8 first, then PKCS#1.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let pair = RsaKeyPair::from_pkcs8(der)
            .or_else(|_| RsaKeyPair::from_der(der))
            .map_err(|e| Error::Key(format!("not an RSA private key in PKCS#8 or PKCS#1 form ({e})")))?;
        if pair.public_modulus_len() * 8 < 2048 {
            return Err(Error::Key(format!(
                "RSA key is {} bits; signing keys must have at least 2048",
                pair.public_modulus_len() * 8
            )));
        }
        let pkcs8 = pair.as_der().map_err(|_| Error::Crypto("PKCS#8 encoding failed".into()))?;
        Ok(SigningKey { pkcs8: Zeroizing::new(pkcs8.as_ref().to_vec()), pair })
    }

    /// The key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(pem::encode(&pem::Pem::new("PRIVATE KEY", self.pkcs8.to_vec())))
    }

    /// The key as PKCS#8 DER.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.pair.public_modulus_len() * 8
    }

    /// The public key as a PKCS#1 `RSAPublicKey` DER.
    pub fn public_key_der(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// Signs `message` (the digest is computed inside). RSA-SHA1 is for legacy peers
    /// only: callers choose it explicitly (the IdP only when an administrator sets it
    /// for an app).
    pub fn sign(&self, alg: SignatureAlgorithm, message: &[u8]) -> Result<Vec<u8>> {
        if alg == SignatureAlgorithm::RsaSha1 {
            return crate::legacy_sha1::sign(&self.pkcs8, message);
        }
        let mut out = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(alg.signing()?, &SystemRandom::new(), message, &mut out)
            .map_err(|_| Error::Crypto("RSA signing failed".into()))?;
        Ok(out)
    }
}

/// An X.509 certificate, kept as DER with the fields we show and use.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    /// PKCS#1 RSAPublicKey (the subjectPublicKey BIT STRING contents).
    public_key: Vec<u8>,
    subject: String,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject)
            .field("sha1", &self.sha1_thumbprint())
            .finish()
    }
}

impl Certificate {
    /// Loads one certificate from PEM (the first `CERTIFICATE` block) or DER.
    pub fn load(bytes: &[u8]) -> Result<Self> {
        if let Some(block) = first_pem_block(bytes, &["CERTIFICATE"])? {
            return Self::from_der(block.contents());
        }
        // Metadata and many admins paste the bare base64 body.
        if let Ok(text) = std::str::from_utf8(bytes) {
            if text.trim_start().chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
                return Self::from_base64(text);
            }
        }
        Self::from_der(bytes)
    }

    /// Loads every certificate of a PEM bundle (or the one certificate of a DER or
    /// bare-base64 input), for trust lists that hold an old and a new certificate.
    pub fn load_all(bytes: &[u8]) -> Result<Vec<Self>> {
        if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
            let blocks = pem::parse_many(bytes).map_err(|e| Error::Certificate(format!("PEM: {e}")))?;
            let certs: Vec<Self> = blocks
                .iter()
                .filter(|b| b.tag() == "CERTIFICATE")
                .map(|b| Self::from_der(b.contents()))
                .collect::<Result<_>>()?;
            if certs.is_empty() {
                return Err(Error::Certificate("the PEM input holds no CERTIFICATE block".into()));
            }
            return Ok(certs);
        }
        Ok(vec![Self::load(bytes)?])
    }

    /// Loads the base64 body of a certificate, as in `<ds:X509Certificate>`;
    /// whitespace anywhere is ignored.
    pub fn from_base64(text: &str) -> Result<Self> {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = B64.decode(compact.as_bytes()).map_err(|e| Error::Certificate(format!("base64: {e}")))?;
        Self::from_der(&der)
    }

    /// Loads a DER certificate. Only RSA keys are accepted.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let (rest, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| Error::Certificate(format!("not a DER X.509 certificate ({e})")))?;
        if !rest.is_empty() {
            return Err(Error::Certificate("trailing bytes after the certificate".into()));
        }
        let spki = &cert.tbs_certificate.subject_pki;
        const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
        if spki.algorithm.algorithm.to_id_string() != RSA_ENCRYPTION {
            return Err(Error::Certificate(format!(
                "public key algorithm {} is not RSA; SAML signing keys here must be RSA",
                spki.algorithm.algorithm.to_id_string()
            )));
        }
        let validity = &cert.tbs_certificate.validity;
        Ok(Certificate {
            der: der.to_vec(),
            public_key: spki.subject_public_key.data.to_vec(),
            subject: cert.tbs_certificate.subject.to_string(),
            not_before: validity.not_before.to_datetime(),
            not_after: validity.not_after.to_datetime(),
        })
    }

    /// Creates a self-signed certificate for `key` with subject `CN=<cn>`, valid
    /// from `now` for `days` days (3 years is the directory default).
    pub fn self_signed(key: &SigningKey, cn: &str, now: OffsetDateTime, days: u32) -> Result<Self> {
        if cn.trim().is_empty() {
            return Err(Error::Certificate("the subject common name must not be empty".into()));
        }
        let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(key.pkcs8_der());
        let kp = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)
            .map_err(|e| Error::Key(e.to_string()))?;
        let mut params = rcgen::CertificateParams::default();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, cn);
        params.distinguished_name = dn;
        params.not_before = now - Duration::minutes(5);
        params.not_after = now + Duration::days(i64::from(days));
        let mut serial = [0u8; 16];
        aws_lc_rs::rand::fill(&mut serial).map_err(|_| Error::Crypto("random serial".into()))?;
        serial[0] &= 0x7f;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        let cert = params.self_signed(&kp).map_err(|e| Error::Certificate(e.to_string()))?;
        Self::from_der(cert.der())
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate as PEM.
    pub fn to_pem(&self) -> String {
        pem::encode(&pem::Pem::new("CERTIFICATE", self.der.clone()))
    }

    /// The certificate as one line of base64 (what `<ds:X509Certificate>` holds).
    pub fn to_base64(&self) -> String {
        B64.encode(&self.der)
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// SHA-1 thumbprint as the directory shows it: 40 upper-case hex digits.
    pub fn sha1_thumbprint(&self) -> String {
        hex_upper(&DigestAlgorithm::Sha1.digest(&self.der))
    }

    /// SHA-256 thumbprint: 64 upper-case hex digits.
    pub fn sha256_thumbprint(&self) -> String {
        hex_upper(&DigestAlgorithm::Sha256.digest(&self.der))
    }

    /// The PKCS#1 RSAPublicKey DER of the certificate's key.
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_key
    }

    /// Checks an RSA PKCS#1 v1.5 signature over `message` with this certificate's
    /// key. Certificate dates are not checked: trust comes from configuration.
    pub fn verify(&self, alg: SignatureAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(alg.verification(), &self.public_key).verify(message, signature).is_ok()
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The first PEM block with one of `tags`, or `None` when the input is not PEM.
fn first_pem_block(bytes: &[u8], tags: &[&str]) -> Result<Option<pem::Pem>> {
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Ok(None);
    }
    let blocks = pem::parse_many(bytes).map_err(|e| Error::Key(format!("PEM: {e}")))?;
    let found = blocks.into_iter().find(|b| tags.contains(&b.tag()));
    match found {
        Some(b) => Ok(Some(b)),
        None => Err(Error::InvalidValue {
            what: "PEM input".into(),
            value: String::new(),
            reason: format!("no {} block found", tags.join(" or ")),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// One generated key shared by the tests (RSA generation is slow in debug builds).
    pub(crate) fn test_key() -> &'static SigningKey {
        static KEY: OnceLock<SigningKey> = OnceLock::new();
        KEY.get_or_init(|| SigningKey::generate(2048).unwrap())
    }

    #[test]
    fn generated_key_and_certificate_round_trip_through_pem() {
        let key = test_key();
        assert_eq!(key.bits(), 2048);
        let now = OffsetDateTime::now_utc();
        let cert = Certificate::self_signed(key, "Portcullis Test", now, 3 * 365).unwrap();
        assert_eq!(cert.subject(), "CN=Portcullis Test");
        assert!(cert.not_after() - cert.not_before() > Duration::days(3 * 365 - 1));
        let again = Certificate::load(cert.to_pem().as_bytes()).unwrap();
        assert_eq!(again, cert);
        assert_eq!(Certificate::load(cert.der()).unwrap(), cert);
        assert_eq!(Certificate::load(cert.to_base64().as_bytes()).unwrap(), cert);
        let other = Certificate::self_signed(key, "Next", now, 30).unwrap();
        let bundle = format!("{}{}", cert.to_pem(), other.to_pem());
        assert_eq!(Certificate::load_all(bundle.as_bytes()).unwrap(), vec![cert.clone(), other]);
        assert_eq!(Certificate::load_all(cert.der()).unwrap(), vec![cert.clone()]);
        let key2 = SigningKey::load(key.to_pkcs8_pem().as_bytes()).unwrap();
        assert_eq!(key2.public_key_der(), key.public_key_der());
        assert_eq!(cert.public_key_der(), key.public_key_der());
    }

    #[test]
    fn thumbprints_are_upper_hex_of_the_der() {
        let cert = Certificate::self_signed(test_key(), "t", OffsetDateTime::now_utc(), 1).unwrap();
        let t1 = cert.sha1_thumbprint();
        assert_eq!(t1.len(), 40);
        assert!(t1.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        assert_eq!(cert.sha256_thumbprint().len(), 64);
    }

    #[test]
    fn sign_and_verify() {
        let key = test_key();
        let cert = Certificate::self_signed(key, "t", OffsetDateTime::now_utc(), 1).unwrap();
        for alg in [
            SignatureAlgorithm::RsaSha1,
            SignatureAlgorithm::RsaSha256,
            SignatureAlgorithm::RsaSha384,
            SignatureAlgorithm::RsaSha512,
        ] {
            let s = key.sign(alg, b"hello").unwrap();
            assert!(cert.verify(alg, b"hello", &s));
            assert!(!cert.verify(alg, b"hellO", &s));
        }
    }

    #[test]
    fn refuses_bad_sizes_and_garbage() {
        assert_eq!(SigningKey::generate(1024).unwrap_err().code(), "KEY_INVALID");
        assert_eq!(SigningKey::load(b"not a key").unwrap_err().code(), "KEY_INVALID");
        assert_eq!(Certificate::load(b"\x30\x03\x02\x01\x01").unwrap_err().code(), "CERT_INVALID");
        assert!(format!("{:?}", test_key()).contains("redacted"));
    }
}
