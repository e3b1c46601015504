//! Federation metadata XML for one app: what an administrator downloads from
//! "SAML Certificates" and uploads to the application.

use crate::endpoints::TenantEndpoints;
use saml::crypto::{Certificate, SigningKey};
use saml::dsig::{sign_element, SignOptions};
use saml::model::{new_id, Endpoint, EntityDescriptor, IdpSsoDescriptor, KeyDescriptor, KeyUse};
use saml::xml::{
    BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, NAMEID_EMAIL, NAMEID_PERSISTENT, NAMEID_TRANSIENT,
    NAMEID_UNSPECIFIED,
};

/// The IdP's metadata for an app, listing `certs` as signing keys in the order
/// given (the active certificate first, so that during a rollover both are
/// published and SPs that take the first one take the right one), signed with
/// the active key.
/// `preferred` is the app's configured NameID format: listed first, because SP
/// libraries that merge IdP metadata into their settings ask for the first one,
/// and a NameIDPolicy format wins over the app's configuration.
pub fn federation_metadata(
    endpoints: &TenantEndpoints,
    certs: &[Certificate],
    signer: Option<(&SigningKey, &Certificate)>,
    preferred: &str,
) -> saml::Result<String> {
    let sso = endpoints.sso_url();
    let endpoint =
        |binding: &str| Endpoint { binding: binding.into(), location: sso.clone(), response_location: None };
    let id = new_id()?;
    let entity = EntityDescriptor {
        entity_id: endpoints.entity_id(),
        id: Some(id.clone()),
        valid_until: None,
        cache_duration: None,
        idp: Some(IdpSsoDescriptor {
            want_authn_requests_signed: false,
            keys: certs
                .iter()
                .map(|c| KeyDescriptor { usage: KeyUse::Signing, certificate: c.clone() })
                .collect(),
            name_id_formats: std::iter::once(preferred)
                .chain(
                    [NAMEID_PERSISTENT, NAMEID_EMAIL, NAMEID_UNSPECIFIED, NAMEID_TRANSIENT]
                        .into_iter()
                        .filter(|f| *f != preferred),
                )
                .map(str::to_string)
                .collect(),
            single_sign_on_services: vec![endpoint(BINDING_HTTP_REDIRECT), endpoint(BINDING_HTTP_POST)],
            single_logout_services: vec![endpoint(BINDING_HTTP_REDIRECT), endpoint(BINDING_HTTP_POST)],
            error_url: None,
        }),
        sp: None,
        organization: None,
        contacts: Vec::new(),
    };
    let xml = entity.to_xml();
    match signer {
        Some((key, cert)) => sign_element(&xml, &id, key, Some(cert), &SignOptions::default()),
        None => Ok(xml),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use saml::model::parse_metadata;
    use time::OffsetDateTime;
    use uuid::Uuid;

    #[test]
    fn lists_active_certificate_first_and_is_signed_by_it() {
        let now = OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
        let k1 = SigningKey::generate(2048).unwrap();
        let c1 = Certificate::self_signed(&k1, "active", now, 10).unwrap();
        let k2 = SigningKey::generate(2048).unwrap();
        let c2 = Certificate::self_signed(&k2, "next", now, 10).unwrap();
        let ep = TenantEndpoints::new("https://login.example.com/", Uuid::nil());
        let xml =
            federation_metadata(&ep, &[c1.clone(), c2.clone()], Some((&k1, &c1)), NAMEID_EMAIL).unwrap();
        let doc = saml::xml::parse(&xml, &saml::xml::Limits::METADATA).unwrap();
        let v = saml::dsig::verify(
            &doc,
            &saml::dsig::VerifyOptions { certs: std::slice::from_ref(&c1), allow_sha1: false },
        )
        .unwrap();
        assert_eq!(v.len(), 1);
        let e = &parse_metadata(&xml).unwrap()[0];
        assert_eq!(e.entity_id, "https://login.example.com/00000000-0000-0000-0000-000000000000/");
        let certs: Vec<_> = e.idp.as_ref().unwrap().signing_certificates().cloned().collect();
        assert_eq!(certs, vec![c1, c2]);
        let formats = &e.idp.as_ref().unwrap().name_id_formats;
        assert_eq!(formats[0], NAMEID_EMAIL);
        assert_eq!(formats.len(), 4);
        assert_eq!(
            e.idp.as_ref().unwrap().sso_service(BINDING_HTTP_REDIRECT).unwrap().location,
            "https://login.example.com/00000000-0000-0000-0000-000000000000/saml2"
        );
    }
}
