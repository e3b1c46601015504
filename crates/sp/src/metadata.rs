//! The SP's own metadata (what an IdP administrator imports): entity ID, ACS
//! (HTTP-POST), SLO, and the signing and encryption certificates when the
//! application has those keys. Written with the `saml` crate's model types.

use saml::crypto::Certificate;
use saml::model::metadata::{
    Endpoint, EntityDescriptor, IndexedEndpoint, KeyDescriptor, KeyUse, SpSsoDescriptor,
};

const BINDING_HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const BINDING_HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// What the SP metadata describes.
#[derive(Debug, Clone)]
pub struct SpDescription {
    pub entity_id: String,
    pub acs_url: String,
    pub slo_url: Option<String>,
    /// Whether AuthnRequests are signed (with `signing_cert`).
    pub authn_requests_signed: bool,
    /// The key that signs AuthnRequests (when they are) and logout messages.
    pub signing_cert: Option<Certificate>,
    /// Present when encrypted assertions are accepted.
    pub encryption_cert: Option<Certificate>,
    /// Whether the assertions must be signed (always true for this toolkit's ACS
    /// unless the Response is signed; advertised as the safe default).
    pub want_assertions_signed: bool,
}

/// The `md:EntityDescriptor` XML.
pub fn sp_metadata_xml(d: &SpDescription) -> String {
    let mut keys = Vec::new();
    if let Some(c) = &d.signing_cert {
        keys.push(KeyDescriptor { usage: KeyUse::Signing, certificate: c.clone() });
    }
    if let Some(c) = &d.encryption_cert {
        keys.push(KeyDescriptor { usage: KeyUse::Encryption, certificate: c.clone() });
    }
    let sp = SpSsoDescriptor {
        authn_requests_signed: d.authn_requests_signed && d.signing_cert.is_some(),
        want_assertions_signed: d.want_assertions_signed,
        keys,
        name_id_formats: vec!["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into()],
        assertion_consumer_services: vec![IndexedEndpoint {
            binding: BINDING_HTTP_POST.into(),
            location: d.acs_url.clone(),
            index: 0,
            is_default: Some(true),
        }],
        single_logout_services: d
            .slo_url
            .iter()
            .map(|u| Endpoint {
                binding: BINDING_HTTP_REDIRECT.into(),
                location: u.clone(),
                response_location: None,
            })
            .collect(),
        error_url: None,
    };
    EntityDescriptor {
        entity_id: d.entity_id.clone(),
        id: None,
        valid_until: None,
        cache_duration: None,
        idp: None,
        sp: Some(sp),
        organization: None,
        contacts: Vec::new(),
    }
    .to_xml()
}

#[cfg(test)]
mod tests {
    use super::*;
    use saml::crypto::SigningKey;

    #[test]
    fn metadata_round_trips_through_the_saml_reader() {
        let key = SigningKey::generate(2048).expect("key");
        let cert = Certificate::self_signed(&key, "sp", time::OffsetDateTime::now_utc(), 30).expect("cert");
        let xml = sp_metadata_xml(&SpDescription {
            entity_id: "https://app.test/saml/metadata".into(),
            acs_url: "https://app.test/saml/acs".into(),
            slo_url: Some("https://app.test/saml/slo".into()),
            authn_requests_signed: true,
            signing_cert: Some(cert.clone()),
            encryption_cert: None,
            want_assertions_signed: true,
        });
        let e = EntityDescriptor::parse(&xml).expect("parse our own metadata");
        assert_eq!(e.entity_id, "https://app.test/saml/metadata");
        let sp = e.sp.expect("SPSSODescriptor");
        assert!(sp.authn_requests_signed);
        assert_eq!(sp.default_acs().map(|a| a.location.as_str()), Some("https://app.test/saml/acs"));
        assert_eq!(sp.signing_certificates().next(), Some(&cert));
        assert_eq!(sp.encryption_certificates().count(), 0);
    }
}
