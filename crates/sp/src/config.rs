//! What an SP knows before a Response arrives: the IdP it trusts (from the IdP's
//! metadata) and its own settings.

use crate::error::{Error, Result};
use crate::xmlenc::DecryptionKey;
use saml::crypto::Certificate;
use saml::model::metadata::parse_metadata;
use saml::signed::Want;
use time::Duration;

/// The identity provider a Response must come from.
#[derive(Debug, Clone)]
pub struct IdpTrust {
    /// The IdP's entity ID: both Issuers must equal it.
    pub entity_id: String,
    /// Every signing certificate the metadata lists (several during rollover);
    /// a signature that verifies with any one of them is accepted.
    pub signing_certs: Vec<Certificate>,
}

impl IdpTrust {
    /// Reads IdP metadata (an EntityDescriptor, or an EntitiesDescriptor with
    /// exactly one IdP unless `entity_id` picks one).
    pub fn from_metadata(xml: &str, entity_id: Option<&str>) -> Result<Self> {
        let entities = parse_metadata(xml)?;
        let idps: Vec<_> = entities
            .iter()
            .filter(|e| e.idp.is_some())
            .filter(|e| entity_id.is_none_or(|id| e.entity_id == id))
            .collect();
        let entity = match idps.as_slice() {
            [] => return Err(Error::MetadataNoIdp),
            [one] => *one,
            many => return Err(Error::MetadataAmbiguous(many.len())),
        };
        let signing_certs: Vec<Certificate> =
            entity.idp.iter().flat_map(|d| d.signing_certificates()).cloned().collect();
        if signing_certs.is_empty() {
            return Err(Error::MetadataNoSigningCertificate);
        }
        Ok(IdpTrust { entity_id: entity.entity_id.clone(), signing_certs })
    }
}

/// The SP's side of the validation.
#[derive(Debug)]
pub struct SpConfig {
    /// The SP's entity ID: an AudienceRestriction must name it.
    pub entity_id: String,
    /// The ACS URL: Destination and SubjectConfirmationData Recipient must equal it.
    pub acs_url: String,
    pub idp: IdpTrust,
    /// Which signatures are required. SAML profiles 4.1.3.5 accepts a signature
    /// on the Response or on the Assertion for the POST binding: `Either`.
    pub want: Want,
    /// Accept RSA-SHA1 signatures and SHA-1 digests (legacy IdPs only).
    pub allow_sha1: bool,
    /// Clock skew allowed on every time window.
    pub skew: Duration,
    /// Accept IdP-initiated (unsolicited) responses when no request is outstanding.
    pub allow_unsolicited: bool,
    /// The SP's private key for EncryptedAssertion.
    pub decryption_key: Option<DecryptionKey>,
}

impl SpConfig {
    /// A configuration with the strict defaults: either signature, no SHA-1,
    /// 180 s skew, unsolicited responses refused, no decryption key.
    pub fn new(entity_id: impl Into<String>, acs_url: impl Into<String>, idp: IdpTrust) -> Self {
        SpConfig {
            entity_id: entity_id.into(),
            acs_url: acs_url.into(),
            idp,
            want: Want::Either,
            allow_sha1: false,
            skew: saml::DEFAULT_SKEW,
            allow_unsolicited: false,
            decryption_key: None,
        }
    }
}
